/* test_backup.c - the backup manifest (src/core/backup_manifest.c): what
 * backup writes, restore reads back; what restore must refuse before it
 * writes anything (paths out of the media root, names twice, files in
 * folders it would not create, no database dump, damaged fields). */
#include <string.h>
#include "openbook/files/backup.h"
#include "tests.h"

#define H0 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static ob_arena A;

static void setup(void)
{
    ob_arena_init(&A, 4096);
}

static void teardown(void)
{
    ob_arena_destroy(&A);
}

static const char *manifest(const char *dirs, const char *files)
{
    return ob_arena_printf(&A,
                           "{\"format\":1,\"openbook_version\":\"0.1.0\",\"schema_version\":7,"
                           "\"created_at\":\"2025-01-02T03:04:05Z\",\"postgresql_version\":\"15.8\","
                           "\"dirs\":[%s],\"files\":[%s]}",
                           dirs, files);
}

static int parse(const char *text, char err[256])
{
    ob_backup_manifest m;
    return ob_backup_manifest_parse(&A, text, strlen(text), &m, err);
}

#define DUMP "{\"path\":\"database.dump\",\"size\":3,\"sha256\":\"" H0 "\"}"
#define FILE_IN(p) "{\"path\":\"" p "\",\"size\":0,\"sha256\":\"" H0 "\"}"

START_TEST(test_round_trip)
{
    ob_backup_file files[] = {
        {.path = "database.dump", .size = 123456789012LL},
        {.path = "media/lib/@demo_w_1.0.0.zip", .size = 0},
        {.path = "media/lib/a b/\xc3\xbc.js", .size = 7},
    };
    for (size_t i = 0; i < 3; i++)
        memcpy(files[i].sha256, H0, 65);
    const char *dirs[] = {"media", "media/lib", "media/lib/a b", "media/empty"};
    ob_backup_manifest m = {.format = 1, .openbook_version = "0.1.0", .schema_version = 7,
                            .created_at = "2025-01-02T03:04:05Z", .postgresql_version = "15.8",
                            .dirs = dirs, .ndirs = 4, .files = files, .nfiles = 3};
    ob_buf out;
    ob_buf_init(&out, &A);
    ob_backup_manifest_write(&out, &m);
    ob_backup_manifest back;
    char err[256];
    ck_assert_int_eq(ob_backup_manifest_parse(&A, out.data, out.len, &back, err), 0);
    ck_assert_int_eq(back.schema_version, 7);
    ck_assert_str_eq(back.openbook_version, "0.1.0");
    ck_assert_uint_eq(back.ndirs, 4);
    ck_assert_str_eq(back.dirs[3], "media/empty");
    ck_assert_uint_eq(back.nfiles, 3);
    ck_assert_str_eq(back.files[2].path, "media/lib/a b/\xc3\xbc.js");
    ck_assert(back.files[0].size == 123456789012ULL);
    ck_assert_str_eq(back.files[1].sha256, H0);
}
END_TEST

START_TEST(test_paths)
{
    static const char *const good[] = {"database.dump", "media", "media/a", "media/.staging/x",
                                       "media/a b/c..d", "media/\xc3\xbc"};
    static const char *const bad[] = {"", "/etc/passwd", "media/../x", "media/./x", "media//x",
                                      "media/", "media/x/", "mediax", "database.dump/x",
                                      "other/x", "media/a\nb", "media/\xff", "media/..", "media/."};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        ck_assert_msg(ob_backup_path_valid(good[i], strlen(good[i])), "%s", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_msg(!ob_backup_path_valid(bad[i], strlen(bad[i])), "%s", bad[i]);
    ck_assert(!ob_backup_path_valid("media/a\0b", 9));
}
END_TEST

START_TEST(test_refusals)
{
    char err[256];
    ck_assert_int_eq(parse(manifest("\"media\"", DUMP), err), 0);
    static const struct {
        const char *dirs, *files, *why;
    } cases[] = {
        {"\"media\"", FILE_IN("media/x"), "not listed"},                    /* no dump */
        {"\"media\"", DUMP "," FILE_IN("media/a/b"), "folder"},             /* media/a missing */
        {"\"media\"", DUMP "," FILE_IN("media/x") "," FILE_IN("media/x"), "twice"},
        {"\"media\",\"media/x\"", DUMP "," FILE_IN("media/x"), "twice"},
        {"\"media\"", DUMP "," FILE_IN("media/../x"), "no valid path"},
        {"\"media\",\"database.dump\"", DUMP, "valid folder"},
        {"\"media\"", DUMP ",{\"path\":\"media/x\",\"size\":-1,\"sha256\":\"" H0 "\"}", "malformed"},
        {"\"media\"", DUMP ",{\"path\":\"media/x\",\"size\":1,\"sha256\":\"ABC\"}", "malformed"},
        {"\"media\"", DUMP ",{\"path\":\"media/x\",\"size\":1.5,\"sha256\":\"" H0 "\"}", "malformed"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ck_assert_int_eq(parse(manifest(cases[i].dirs, cases[i].files), err), -1);
        ck_assert_msg(strstr(err, cases[i].why), "case %zu: %s", i, err);
    }
    ck_assert_int_eq(parse("{\"format\":2}", err), -1);
    ck_assert_ptr_nonnull(strstr(err, "format"));
    ck_assert_int_eq(parse("[1]", err), -1);
    ck_assert_int_eq(parse("{\"format\":1", err), -1);
    ck_assert_int_eq(parse("{\"format\":1,\"schema_version\":\"7\"}", err), -1);
}
END_TEST

Suite *backup_suite(void)
{
    Suite *s = suite_create("backup");
    TCase *tc = tcase_create("manifest");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_paths);
    tcase_add_test(tc, test_refusals);
    suite_add_tcase(s, tc);
    return s;
}
