/* test_staging.c - staged files and folders on a media root (publish,
 * collisions, removal on every failure path, leftover cleanup), stored
 * upload names and MIME types. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "openbook/files/filename.h"
#include "openbook/files/mime.h"
#include "openbook/http/parse.h"
#include "openbook/files/staging.h"
#include "tests.h"

static ob_arena A;
static char root[64];

static void setup(void)
{
    ob_arena_init(&A, 4096);
    strcpy(root, "/tmp/openbook-unit-media-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(root));
}

static void teardown(void)
{
    ob_arena_destroy(&A);
    ob_remove_tree(root);
}

static char *P(const char *rel)
{
    return ob_arena_printf(&A, "%s/%s", root, rel);
}

START_TEST(test_file_commit)
{
    ob_staged_file *f = ob_staged_file_create(&A, root);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(test_mode(P(OB_STAGING_DIR)), 0700);
    ck_assert_int_eq(test_mode(f->path), 0600);
    ck_assert_int_eq(ob_staged_file_write(f, "hello ", 6), 0);
    ck_assert_int_eq(ob_staged_file_write(f, "world", 5), 0);
    ck_assert_uint_eq(f->size, 11);
    char *dest = P("openbook_content/textbook/1/a.txt");
    ck_assert_int_eq(ob_staged_file_commit(f, dest, false), 0);
    ck_assert_str_eq(test_slurp(&A, dest, NULL), "hello world");
    ck_assert_int_eq(test_mode(dest), 0644);
    ck_assert_int_eq(test_mode(P("openbook_content/textbook")), 0755);
    ck_assert_int_eq(test_count_entries(P(OB_STAGING_DIR)), 0);
    /* Committed: the arena's reset leaves it alone. */
    ob_arena_reset(&A);
    dest = P("openbook_content/textbook/1/a.txt");
    ck_assert_str_eq(test_slurp(&A, dest, NULL), "hello world");

    /* replace = false refuses an existing file, and keeps it staged. */
    f = ob_staged_file_create(&A, root);
    ck_assert_int_eq(ob_staged_file_write(f, "new", 3), 0);
    ck_assert_int_eq(ob_staged_file_commit(f, dest, false), -1);
    ck_assert_int_eq(errno, EEXIST);
    ck_assert_str_eq(test_slurp(&A, dest, NULL), "hello world");
    ck_assert_int_eq(ob_staged_file_commit(f, dest, true), 0);
    ck_assert_str_eq(test_slurp(&A, dest, NULL), "new");
}
END_TEST

START_TEST(test_file_removed_on_failure)
{
    ob_staged_file *f = ob_staged_file_create(&A, root);
    ck_assert_int_eq(ob_staged_file_write(f, "partial", 7), 0);
    ck_assert_int_eq(test_count_entries(P(OB_STAGING_DIR)), 1);
    /* The request ends without a commit (bad input, client gone). */
    ob_arena_reset(&A);
    ck_assert_int_eq(test_count_entries(P(OB_STAGING_DIR)), 0);

    f = ob_staged_file_create(&A, root);
    ob_staged_file_discard(f);
    ob_staged_file_discard(f); /* idempotent */
    ck_assert_int_eq(test_count_entries(P(OB_STAGING_DIR)), 0);
    ck_assert_int_eq(ob_staged_file_write(f, "x", 1), -1);
    ck_assert_int_eq(ob_staged_file_commit(f, P("x"), true), -1);
    ck_assert_int_eq(access(P("x"), F_OK), -1);

    /* A destination below a file cannot be made: the file stays staged
     * until the arena removes it. */
    f = ob_staged_file_create(&A, root);
    FILE *blocker = fopen(P("blocker"), "w");
    fclose(blocker);
    ck_assert_int_eq(ob_staged_file_commit(f, P("blocker/x.txt"), false), -1);
    ck_assert_int_eq(test_count_entries(P(OB_STAGING_DIR)), 1);
    ob_arena_reset(&A);
    ck_assert_int_eq(test_count_entries(P(OB_STAGING_DIR)), 0);
}
END_TEST

START_TEST(test_commit_unique)
{
    char *dir = P("openbook_auth/User/ada");
    ob_staged_file *f = ob_staged_file_create(&A, root);
    ck_assert_int_eq(ob_staged_file_write(f, "1", 1), 0);
    char *n1 = ob_staged_file_commit_unique(&A, f, dir, "photo.jpg");
    ck_assert_str_eq(n1, "photo.jpg");
    f = ob_staged_file_create(&A, root);
    ck_assert_int_eq(ob_staged_file_write(f, "2", 1), 0);
    char *n2 = ob_staged_file_commit_unique(&A, f, dir, "photo.jpg");
    ck_assert_ptr_nonnull(n2);
    /* photo_XXXXXXX.jpg */
    ck_assert_uint_eq(strlen(n2), strlen("photo.jpg") + 1 + OB_FILENAME_SUFFIX_LEN);
    ck_assert(strncmp(n2, "photo_", 6) == 0 && strcmp(n2 + 13, ".jpg") == 0);
    ck_assert_str_eq(test_slurp(&A, ob_arena_printf(&A, "%s/photo.jpg", dir), NULL), "1");
    ck_assert_str_eq(test_slurp(&A, ob_arena_printf(&A, "%s/%s", dir, n2), NULL), "2");
}
END_TEST

START_TEST(test_dir_commit_and_swap)
{
    char *dest = P("lib/test/demo/1.0.0");
    ob_staged_dir *d = ob_staged_dir_create(&A, root);
    ck_assert_ptr_nonnull(d);
    ck_assert_int_eq(test_mode(d->path), 0700);
    FILE *f = fopen(ob_arena_printf(&A, "%s/library.js", d->path), "w");
    fputs("old", f);
    fclose(f);
    ck_assert_int_eq(ob_staged_dir_commit(d, dest), 0);
    ck_assert_int_eq(test_mode(dest), 0755);
    ck_assert_str_eq(test_slurp(&A, ob_arena_printf(&A, "%s/library.js", dest), NULL), "old");

    /* A new version of the folder replaces the old one whole. */
    d = ob_staged_dir_create(&A, root);
    ck_assert_int_eq(mkdir(ob_arena_printf(&A, "%s/sub", d->path), 0755), 0);
    f = fopen(ob_arena_printf(&A, "%s/sub/new.js", d->path), "w");
    fputs("new", f);
    fclose(f);
    ck_assert_int_eq(ob_staged_dir_commit(d, dest), 0);
    ck_assert_int_eq(access(ob_arena_printf(&A, "%s/library.js", dest), F_OK), -1);
    ck_assert_str_eq(test_slurp(&A, ob_arena_printf(&A, "%s/sub/new.js", dest), NULL), "new");
    ck_assert_int_eq(test_count_entries(P(OB_STAGING_DIR)), 0); /* the old folder is gone */

    /* Not committed: removed with everything in it. */
    d = ob_staged_dir_create(&A, root);
    ck_assert_int_eq(mkdir(ob_arena_printf(&A, "%s/a", d->path), 0755), 0);
    ck_assert_int_eq(symlink("/etc", ob_arena_printf(&A, "%s/a/link", d->path)), 0);
    ob_arena_reset(&A);
    ck_assert_int_eq(test_count_entries(P(OB_STAGING_DIR)), 0);
    ck_assert_int_eq(access("/etc/passwd", F_OK), 0); /* the link was not followed */
}
END_TEST

START_TEST(test_cleanup)
{
    ck_assert_int_eq(ob_staging_cleanup(root, 60, time(NULL)), 0); /* no folder yet */
    ob_staged_file *f = ob_staged_file_create(&A, root);
    ob_staged_dir *d = ob_staged_dir_create(&A, root);
    ck_assert_int_eq(mkdir(ob_arena_printf(&A, "%s/x", d->path), 0755), 0);
    time_t now = time(NULL);
    /* Young entries stay. */
    ck_assert_int_eq(ob_staging_cleanup(root, 60, now), 0);
    ck_assert_int_eq(test_count_entries(P(OB_STAGING_DIR)), 2);
    /* An hour later both are leftovers of a killed process. */
    ck_assert_int_eq(ob_staging_cleanup(root, OB_STAGING_MAX_AGE, now + OB_STAGING_MAX_AGE + 1),
                     2);
    ck_assert_int_eq(test_count_entries(P(OB_STAGING_DIR)), 0);
    ob_staged_file_discard(f); /* already gone: no error */
    ob_staged_dir_discard(d);
}
END_TEST

START_TEST(test_cleanup_pid)
{
    /* Entries are named after their creator's pid: a dead worker's go,
     * other processes' stay, whatever their age. */
    ob_staged_file *f = ob_staged_file_create(&A, root);
    ob_staged_dir *d = ob_staged_dir_create(&A, root);
    char *base = strrchr(f->path, '/') + 1;
    char prefix[32];
    snprintf(prefix, sizeof prefix, "%ld-", (long)getpid());
    ck_assert_int_eq(strncmp(base, prefix, strlen(prefix)), 0);
    FILE *other = fopen(P(OB_STAGING_DIR "/1-0123.part"), "w");
    ck_assert_ptr_nonnull(other);
    fclose(other);
    ck_assert_int_eq(ob_staging_cleanup_pid(root, getpid() + 1), 0);
    ck_assert_int_eq(test_count_entries(P(OB_STAGING_DIR)), 3);
    ck_assert_int_eq(ob_staging_cleanup_pid(root, getpid()), 2);
    ck_assert_int_eq(test_count_entries(P(OB_STAGING_DIR)), 1);
    ob_staged_file_discard(f);
    ob_staged_dir_discard(d);
}
END_TEST

START_TEST(test_mkdirs_and_remove_tree)
{
    ck_assert_int_eq(ob_mkdirs(P("a/b/c"), 0750), 0);
    ck_assert_int_eq(test_mode(P("a/b")), 0750);
    ck_assert_int_eq(ob_mkdirs(P("a/b/c/"), 0750), 0); /* exists: fine */
    FILE *f = fopen(P("a/file"), "w");
    fclose(f);
    ck_assert_int_eq(ob_mkdirs(P("a/file/d"), 0755), -1);
    ck_assert_int_eq(errno, ENOTDIR);
    ck_assert_int_eq(ob_remove_tree(P("a")), 0);
    ck_assert_int_eq(access(P("a"), F_OK), -1);
    ck_assert_int_eq(ob_remove_tree(P("a")), 0); /* missing: fine */
}
END_TEST

/* ---- names ---------------------------------------------------------------- */

static char *san(const char *s)
{
    return ob_filename_sanitize(&A, s, strlen(s));
}

START_TEST(test_sanitize)
{
    ck_assert_str_eq(san("report.pdf"), "report.pdf");
    ck_assert_str_eq(san("../../etc/passwd"), "passwd");
    ck_assert_str_eq(san("C:\\Users\\ada\\photo.jpg"), "photo.jpg");
    ck_assert_str_eq(san("a/b\\c.txt"), "c.txt");
    ck_assert_str_eq(san(".htaccess"), "htaccess");
    ck_assert_str_eq(san(" ..hidden "), "hidden");
    ck_assert_str_eq(san("tab\there\nnl\x7f.txt"), "tabherenl.txt");
    ck_assert_str_eq(san("\xc2\x85next\xe2\x80\xaegpj.exe"), "nextgpj.exe"); /* C1, RLO */
    ck_assert_str_eq(san("bad\xff\xfeutf8.txt"), "badutf8.txt");
    ck_assert_str_eq(san("gr\xc3\xbc\xc3\x9f" "e.txt"), "gr\xc3\xbc\xc3\x9f" "e.txt");
    ck_assert_str_eq(san("name with spaces.txt"), "name with spaces.txt");
    ck_assert_str_eq(san(""), "file");
    ck_assert_str_eq(san(".."), "file");
    ck_assert_str_eq(san("dir/"), "file");
    ck_assert_str_eq(ob_filename_sanitize(&A, "a\0b.txt", 7), "ab.txt");

    /* Cut to 255 bytes on a character boundary, keeping the extension. */
    char *longname = ob_arena_alloc(&A, 700);
    char *p = longname;
    for (int i = 0; i < 300; i++) {
        memcpy(p, "\xc3\xa4", 2);
        p += 2;
    }
    strcpy(p, ".jpeg");
    char *s = san(longname);
    ck_assert_uint_le(strlen(s), OB_FILENAME_MAX);
    ck_assert_uint_ge(strlen(s), OB_FILENAME_MAX - 1);
    ck_assert_str_eq(s + strlen(s) - 5, ".jpeg");
    ck_assert(ob_utf8_valid(s, strlen(s)));
}
END_TEST

START_TEST(test_suffix)
{
    char *a = ob_filename_with_suffix(&A, "photo.jpg");
    char *b = ob_filename_with_suffix(&A, "photo.jpg");
    ck_assert_str_ne(a, b);
    ck_assert_uint_eq(strlen(a), 17);
    for (int i = 6; i < 13; i++)
        ck_assert(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", a[i]));
    char *c = ob_filename_with_suffix(&A, "README");
    ck_assert_uint_eq(strlen(c), 14);
    ck_assert(strncmp(c, "README_", 7) == 0);
    char *d = ob_filename_with_suffix(&A, "archive.tar.gz");
    ck_assert(strncmp(d, "archive.tar_", 12) == 0 && strcmp(d + 19, ".gz") == 0);
    /* A name at the limit stays at the limit. */
    char full[OB_FILENAME_MAX + 1];
    memset(full, 'n', OB_FILENAME_MAX);
    memcpy(full + OB_FILENAME_MAX - 4, ".png", 5);
    char *e = ob_filename_with_suffix(&A, full);
    ck_assert_uint_eq(strlen(e), OB_FILENAME_MAX);
    ck_assert_str_eq(e + OB_FILENAME_MAX - 4, ".png");
}
END_TEST

#define MIME(s) ob_mime_type((s), strlen(s))

START_TEST(test_mime)
{
    ck_assert_str_eq(MIME("photo.jpg"), "image/jpeg");
    ck_assert_str_eq(MIME("PHOTO.JPEG"), "image/jpeg");
    ck_assert_str_eq(MIME("a.png"), "image/png");
    ck_assert_str_eq(MIME("doc.pdf"), "application/pdf");
    ck_assert_str_eq(MIME("index.html"), "text/html");
    ck_assert_str_eq(MIME("x.svg"), "image/svg+xml");
    ck_assert_str_eq(MIME("library.js"), "text/javascript");
    ck_assert_str_eq(MIME("chunk.mjs"), "text/javascript");
    ck_assert_str_eq(MIME("font.woff2"), "font/woff2");
    ck_assert_str_eq(MIME("mod.wasm"), "application/wasm");
    ck_assert_str_eq(MIME("a.tar.gz"), "application/gzip");
    ck_assert_str_eq(MIME("lib.zip"), "application/zip");
    ck_assert_str_eq(MIME("notes.txt"), "text/plain");
    ck_assert_str_eq(MIME("noext"), "application/octet-stream");
    ck_assert_str_eq(MIME(".bashrc"), "application/octet-stream");
    ck_assert_str_eq(MIME("a.unknownext"), "application/octet-stream");
    ck_assert_str_eq(MIME("dir.png/file"), "application/octet-stream");
    ck_assert_str_eq(MIME("trailing."), "application/octet-stream");
    ck_assert_str_eq(ob_mime_type("x.t\0xt", 6), "application/octet-stream");
}
END_TEST

Suite *staging_suite(void)
{
    Suite *s = suite_create("staging");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_file_commit);
    tcase_add_test(tc, test_file_removed_on_failure);
    tcase_add_test(tc, test_commit_unique);
    tcase_add_test(tc, test_dir_commit_and_swap);
    tcase_add_test(tc, test_cleanup);
    tcase_add_test(tc, test_cleanup_pid);
    tcase_add_test(tc, test_mkdirs_and_remove_tree);
    tcase_add_test(tc, test_sanitize);
    tcase_add_test(tc, test_suffix);
    tcase_add_test(tc, test_mime);
    suite_add_tcase(s, tc);
    return s;
}
