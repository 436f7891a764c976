/* test_archive.c - library archives (libraries.md §2, §4): the demo
 * library of test/libraries/ob-demo checked and extracted, and every
 * hostile archive of test/integration/zip_factory.py refused with its
 * message, before anything is written or (for size lies) while
 * extracting, leaving nothing behind.
 *
 * The archives are built once per run by the factory (python3), with small
 * limits so that the bombs stay small. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "openbook/files/archive.h"
#include "openbook/core/config.h"
#include "openbook/files/staging.h"
#include "tests.h"

#define FACTORY "../integration/zip_factory.py"
#define DEMO_SRC "../libraries/ob-demo"

static const ob_archive_limits LIMITS = {
    .max_entries = 50,
    .max_uncompressed_bytes = 1 << 20,
    .max_manifest_bytes = 4096,
};

static char work[64];   /* the factory's output */
static char media[128]; /* a media root for extraction */
static ob_arena A;

static void suite_setup(void)
{
    strcpy(work, "/tmp/openbook-unit-zip-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(work));
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "python3 " FACTORY " hostile %s/hostile --max-entries %llu --max-uncompressed %llu"
             " --max-manifest %llu && python3 " FACTORY " library " DEMO_SRC " %s/demo.zip",
             work, (unsigned long long)LIMITS.max_entries,
             (unsigned long long)LIMITS.max_uncompressed_bytes,
             (unsigned long long)LIMITS.max_manifest_bytes, work);
    ck_assert_msg(system(cmd) == 0, "zip_factory.py failed: %s", cmd);
}

static void suite_teardown(void)
{
    ob_remove_tree(work);
}

static void setup(void)
{
    ob_arena_init(&A, 4096);
    snprintf(media, sizeof media, "%s/media", work);
    ob_remove_tree(media);
    ck_assert_int_eq(ob_mkdirs(media, 0755), 0);
}

static void teardown(void)
{
    ob_arena_destroy(&A);
}

static ob_archive_status open_file(const char *path, ob_archive **ar, const char **msg)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ck_assert_msg(fd >= 0, "%s", path);
    ob_archive_status st = ob_archive_open_fd(&A, fd, &LIMITS, ar, msg);
    close(fd); /* the archive keeps its own descriptor */
    return st;
}

START_TEST(test_demo_library)
{
    ob_archive *ar;
    const char *msg;
    char *path = ob_arena_printf(&A, "%s/demo.zip", work);
    ck_assert_int_eq(open_file(path, &ar, &msg), OB_ARCHIVE_OK);
    const ob_library_manifest *m = ob_archive_manifest(ar);
    ck_assert_str_eq(m->organization, "openbook");
    ck_assert_str_eq(m->name, "demo");
    ck_assert_str_eq(m->version, "1.0.0");
    ck_assert_str_eq(m->license, "MIT");
    ck_assert_uint_eq(m->ndescription, 2);
    size_t n;
    const ob_component_def *c = ob_archive_components(ar, &n);
    ck_assert_uint_eq(n, 4);
    /* The tags the demo textbook's pages use (src/cli/load_demo_data.c). */
    const char *tags[] = {"ob-code-editor", "ob-info-box", "ob-quiz-question", "ob-quiz"};
    for (size_t i = 0; i < 4; i++) {
        ck_assert_str_eq(c[i].tag_name, tags[i]);
        ck_assert(strncmp(c[i].definition, "{\"tag-name\":\"", 13) == 0);
    }
    ck_assert_ptr_nonnull(strstr(c[1].definition, "\"variant\":{\"name\":\"variant\""));
    ck_assert_ptr_nonnull(strstr(c[1].definition, "\"enum\":[\"info\",\"tip\",\"warning\"]"));
    ck_assert_ptr_nonnull(strstr(c[2].definition, "\"allowed-children\":[]"));
    ck_assert_ptr_nonnull(strstr(c[3].definition, "\"allowed-children\":[\"ob-quiz-question\"]"));

    ob_staged_dir *d = ob_staged_dir_create(&A, media);
    ck_assert_ptr_nonnull(d);
    ck_assert_int_eq(ob_archive_extract(ar, d->path, true, &msg), OB_ARCHIVE_OK);
    char *dest = ob_arena_printf(&A, "%s/lib/openbook/demo/1.0.0", media);
    ck_assert_int_eq(ob_staged_dir_commit(d, dest), 0);
    size_t len, src_len;
    char *js = test_slurp(&A, ob_arena_printf(&A, "%s/library.js", dest), &len);
    char *src = test_slurp(&A, DEMO_SRC "/library.js", &src_len);
    ck_assert_uint_eq(len, src_len);
    ck_assert_mem_eq(js, src, len);
    ck_assert_int_eq(test_mode(ob_arena_printf(&A, "%s/library.js", dest)), 0644);
    ck_assert_int_eq(test_mode(ob_arena_printf(&A, "%s/components", dest)), 0755);
    ck_assert_int_eq(test_mode(ob_arena_printf(&A, "%s/components/ob-quiz.yml", dest)), 0644);
    ck_assert_int_eq(test_mode(dest), 0755);
    ck_assert_int_eq(test_count_entries(dest), 4); /* library.{yml,js,css}, components/ */
    ck_assert_int_eq(test_count_entries(ob_arena_printf(&A, "%s/" OB_STAGING_DIR, media)), 0);

    /* The same archive from memory reads the same. */
    char *zip = test_slurp(&A, path, &len);
    ob_archive *ar2;
    ck_assert_int_eq(ob_archive_open_buffer(&A, zip, len, &LIMITS, &ar2, &msg), OB_ARCHIVE_OK);
    ck_assert_str_eq(ob_archive_manifest(ar2)->version, "1.0.0");
    ob_archive_close(ar2);
    ob_archive_close(ar2);
}
END_TEST

/* Every case of the factory, with the message it lists for it. */
START_TEST(test_hostile_archives)
{
    ck_assert_int_eq(ob_staging_prepare(media), 0);
    char *index = ob_arena_printf(&A, "%s/hostile/cases.txt", work);
    FILE *f = fopen(index, "r");
    ck_assert_ptr_nonnull(f);
    char line[1024];
    int cases = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *stage = strchr(line, '\t');
        ck_assert_ptr_nonnull(stage);
        *stage++ = '\0';
        char *want = strchr(stage, '\t');
        ck_assert_ptr_nonnull(want);
        *want++ = '\0';
        /* Component reasons come from the parser: match the fixed start. */
        bool prefix = want[strlen(want) - 1] == ' ';
        ob_archive *ar;
        const char *msg;
        char *path = ob_arena_printf(&A, "%s/hostile/%s.zip", work, line);
        ob_archive_status st = open_file(path, &ar, &msg);
        if (strcmp(stage, "extract") == 0) {
            ck_assert_msg(st == OB_ARCHIVE_OK, "%s: the checks should pass, got %s", line, msg);
            ob_staged_dir *d = ob_staged_dir_create(&A, media);
            st = ob_archive_extract(ar, d->path, false, &msg);
            ob_staged_dir_discard(d);
        }
        ck_assert_msg(st != OB_ARCHIVE_OK && st != OB_ARCHIVE_IO, "%s: status %d", line, st);
        ck_assert_ptr_nonnull(msg);
        ck_assert_msg(prefix ? strncmp(msg, want, strlen(want)) == 0 : strcmp(msg, want) == 0,
                      "%s: got \"%s\", want \"%s\"", line, msg, want);
        /* Nothing was written anywhere. */
        ck_assert_int_eq(test_count_entries(media), 1); /* only .staging */
        ck_assert_int_eq(test_count_entries(ob_arena_printf(&A, "%s/" OB_STAGING_DIR, media)), 0);
        cases++;
    }
    fclose(f);
    ck_assert_int_ge(cases, 30);
}
END_TEST

/* The messages themselves, written down here too, so that the factory
 * and the server cannot drift away from the spec together. */
START_TEST(test_spec_messages)
{
    struct {
        const char *file, *msg;
        ob_archive_status st;
    } cases[] = {
        {"zip_slip", "The archive contains an unsafe path: openbook-library/../evil.js",
         OB_ARCHIVE_UNSAFE_PATH},
        {"nul_in_name", "The archive contains an unsafe path: openbook-library/a?b.js",
         OB_ARCHIVE_UNSAFE_PATH},
        {"drive_letter", "The archive contains an unsafe path: C:/evil.js", OB_ARCHIVE_UNSAFE_PATH},
        {"symlink", "The archive contains a link or special file: openbook-library/link.js",
         OB_ARCHIVE_LINK},
        {"duplicate", "The archive contains duplicate paths: openbook-library/library.js",
         OB_ARCHIVE_DUPLICATE},
        {"too_many_entries", "The archive contains too many files (limit 50).",
         OB_ARCHIVE_TOO_MANY_FILES},
        {"zip_bomb", "The archive is too large when unpacked (limit 1048576 bytes).",
         OB_ARCHIVE_TOO_LARGE},
        {"manifest_too_large", "A manifest file is too large.", OB_ARCHIVE_MANIFEST_TOO_LARGE},
        {"bzip2", "The archive uses an unsupported compression method or encryption.",
         OB_ARCHIVE_UNSUPPORTED},
        {"encrypted", "The archive uses an unsupported compression method or encryption.",
         OB_ARCHIVE_UNSUPPORTED},
        {"not_a_zip", "The archive file is no valid HTML library archive.", OB_ARCHIVE_INVALID},
        {"no_manifest", "The archive file is no valid HTML library archive.", OB_ARCHIVE_INVALID},
        {"bad_dependency", "Invalid version expression for @test/other.",
         OB_ARCHIVE_BAD_DEPENDENCY},
        {"self_dependency", "A library cannot depend on itself.", OB_ARCHIVE_SELF_DEPENDENCY},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ob_archive *ar = ob_arena_alloc(&A, 1); /* must come back NULL */
        const char *msg;
        char *path = ob_arena_printf(&A, "%s/hostile/%s.zip", work, cases[i].file);
        ck_assert_int_eq(open_file(path, &ar, &msg), cases[i].st);
        ck_assert_ptr_null(ar);
        ck_assert_str_eq(msg, cases[i].msg);
    }
    ob_archive *ar;
    const char *msg;
    char *path = ob_arena_printf(&A, "%s/hostile/bad_tag_name.zip", work);
    ck_assert_int_eq(open_file(path, &ar, &msg), OB_ARCHIVE_BAD_COMPONENT);
    ck_assert_str_eq(msg, "Invalid component definition in openbook-library/components/bad.yml: "
                          "\"NoHyphen\" is no valid custom element name (lower case, with a "
                          "hyphen, at most 100 characters)");
}
END_TEST

START_TEST(test_not_a_file_and_limits_from_config)
{
    ob_archive *ar;
    const char *msg;
    int fd = open(work, O_RDONLY | O_DIRECTORY);
    ck_assert_int_eq(ob_archive_open_fd(&A, fd, &LIMITS, &ar, &msg), OB_ARCHIVE_INVALID);
    close(fd);
    ck_assert_int_eq(ob_archive_open_buffer(&A, "", 0, &LIMITS, &ar, &msg), OB_ARCHIVE_INVALID);

    ob_config cfg;
    ob_config_defaults(&cfg);
    ob_archive_limits l = ob_archive_limits_for(&cfg);
    ck_assert_uint_eq(l.max_entries, 2000);
    ck_assert_uint_eq(l.max_uncompressed_bytes, 50u << 20);
    ck_assert_uint_eq(l.max_manifest_bytes, 1u << 20);
    ob_config_free(&cfg);
}
END_TEST

Suite *archive_suite(void)
{
    Suite *s = suite_create("archive");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_unchecked_fixture(tc, suite_setup, suite_teardown);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_demo_library);
    tcase_add_test(tc, test_hostile_archives);
    tcase_add_test(tc, test_spec_messages);
    tcase_add_test(tc, test_not_a_file_and_limits_from_config);
    suite_add_tcase(s, tc);
    return s;
}
