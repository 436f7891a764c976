/* test_upload.c - multipart requests read as they arrive (upload.h,
 * ob_request_read_multipart): fields in memory, files staged on disk with
 * sanitized names and MIME types, the body never held whole, and the
 * answers for the wrong type, an oversized body, a client that goes away
 * mid-body and bad fields - with nothing left in the staging folder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "openbook/core/alloc.h"
#include "openbook/core/config.h"
#include "openbook/http/http.h"
#include "openbook/files/staging.h"
#include "openbook/files/upload.h"
#include "tests.h"

static ob_arena A;
static ob_config CFG;
static ob_request R;
static char root[64];

typedef struct {
    const char *data;
    size_t len, pos, chunk;
    size_t max_read; /* the largest n asked for */
} fake_io;
static fake_io IO;

static long fake_read(void *io, char *dst, size_t n)
{
    fake_io *f = io;
    if (n > f->max_read)
        f->max_read = n;
    size_t left = f->len - f->pos;
    if (n > left)
        n = left;
    if (f->chunk && n > f->chunk)
        n = f->chunk;
    memcpy(dst, f->data + f->pos, n);
    f->pos += n;
    return (long)n;
}

static void setup(void)
{
    ob_arena_init(&A, 64 * 1024);
    ob_config_defaults(&CFG);
    CFG.allowed_hosts.items = ob_malloc(sizeof(char *));
    CFG.allowed_hosts.items[0] = ob_strdup("example.org");
    CFG.allowed_hosts.count = 1;
    strcpy(root, "/tmp/openbook-unit-upload-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(root));
}

static void teardown(void)
{
    ob_arena_destroy(&A);
    ob_config_free(&CFG);
    ob_remove_tree(root);
}

static const char *const FILES[] = {"file_data", NULL};
#define B "----obtest"

/* A POST of body (len bytes; content_length < 0: len) read into u. */
static int post(ob_upload *u, const char *ctype, const char *body, size_t len, long content_length,
                size_t chunk, const ob_multipart_limits *lim)
{
    char cl[64], ct[256];
    snprintf(cl, sizeof cl, "CONTENT_LENGTH=%ld", content_length < 0 ? (long)len : content_length);
    snprintf(ct, sizeof ct, "CONTENT_TYPE=%s", ctype);
    const char *v[] = {"REQUEST_METHOD=POST", "REQUEST_URI=/api/core/media_files/",
                       "HTTP_HOST=example.org", cl, ct, NULL};
    memset(&R, 0, sizeof R);
    ck_assert_int_eq(ob_request_init(&R, &A, &CFG, test_env(&A, v)), 0);
    IO = (fake_io){body, len, 0, chunk, 0};
    R.io = &IO;
    R.read_body = fake_read;
    ob_upload_init(u, &A, root, FILES);
    ob_multipart_limits l = lim ? *lim : ob_multipart_limits_for(&CFG, false);
    return ob_upload_read(&R, u, &l);
}

static const char *staging(void)
{
    return ob_arena_printf(&A, "%s/%s", root, OB_STAGING_DIR);
}

static char *form(const char *file_name, const char *file_data, size_t file_len)
{
    ob_buf b;
    ob_buf_init(&b, &A);
    ob_buf_puts(&b, "--" B "\r\nContent-Disposition: form-data; name=\"object_id\"\r\n\r\n"
                    "1b4e28ba-2fa1-11d2-883f-0016d3cca427\r\n"
                    "--" B "\r\nContent-Disposition: form-data; name=\"content_type\"\r\n\r\n"
                    "openbook_content.textbook\r\n");
    ob_buf_printf(&b,
                  "--" B "\r\nContent-Disposition: form-data; name=\"file_data\"; "
                  "filename=\"%s\"\r\nContent-Type: image/png\r\n\r\n",
                  file_name);
    ob_buf_append(&b, file_data, file_len);
    ob_buf_puts(&b, "\r\n--" B "--\r\n");
    return (char *)ob_buf_cstr(&b);
}

START_TEST(test_fields_and_file)
{
    ob_upload u;
    char *body = form("../../etc/p\x01hoto.PNG", "\x89PNG data", 9);
    ck_assert_int_eq(post(&u, "multipart/form-data; boundary=" B, body, strlen(body), -1, 7, NULL),
                     0);
    ck_assert_str_eq(ob_upload_field(&u, "object_id"), "1b4e28ba-2fa1-11d2-883f-0016d3cca427");
    ck_assert_str_eq(ob_upload_field(&u, "content_type"), "openbook_content.textbook");
    ck_assert_ptr_null(ob_upload_field(&u, "file_data"));
    const ob_upload_file *f = ob_upload_file_get(&u, "file_data");
    ck_assert_ptr_nonnull(f);
    ck_assert_str_eq(f->name, "photo.PNG");
    ck_assert_str_eq(f->mime_type, "image/png");
    ck_assert_uint_eq(f->file->size, 9);
    size_t len;
    char *data = test_slurp(&A, f->file->path, &len);
    ck_assert_uint_eq(len, 9);
    ck_assert_mem_eq(data, "\x89PNG data", 9);
    /* Not committed: the request's end removes it. */
    ck_assert_int_eq(test_count_entries(staging()), 1);
    ob_arena_reset(&A);
    ck_assert_int_eq(test_count_entries(staging()), 0);
}
END_TEST

START_TEST(test_big_file_streams)
{
    /* 8 MiB through the reader: the arena does not grow with it. */
    size_t n = 8u << 20;
    char *payload = malloc(n);
    ck_assert_ptr_nonnull(payload);
    for (size_t i = 0; i < n; i++)
        payload[i] = (char)(i * 7 + (i >> 13));
    ob_buf b;
    ob_buf_init(&b, NULL);
    ob_buf_puts(&b, "--" B "\r\nContent-Disposition: form-data; name=\"file_data\"; "
                    "filename=\"big.bin\"\r\n\r\n");
    ob_buf_append(&b, payload, n);
    ob_buf_puts(&b, "\r\n--" B "--\r\n");
    ob_multipart_limits lim = ob_multipart_limits_for(&CFG, false);
    ob_upload u;
    ck_assert_int_eq(post(&u, "multipart/form-data; boundary=" B, b.data, b.len, -1, 0, &lim), 0);
    const ob_upload_file *f = ob_upload_file_get(&u, "file_data");
    ck_assert_uint_eq(f->file->size, n);
    ck_assert_str_eq(f->mime_type, "application/octet-stream");
    /* The reader asked for 64 KiB at a time and the arena stayed small. */
    ck_assert_uint_le(IO.max_read, 64 * 1024);
    ck_assert_uint_lt(A.total, 256 * 1024);
    FILE *fp = fopen(f->file->path, "rb");
    ck_assert_ptr_nonnull(fp);
    char *back = malloc(n);
    ck_assert_uint_eq(fread(back, 1, n, fp), n);
    fclose(fp);
    ck_assert(memcmp(back, payload, n) == 0);
    free(back);
    free(payload);
    ob_buf_free(&b);
}
END_TEST

START_TEST(test_client_goes_away)
{
    ob_upload u;
    char *body = form("a.txt", "0123456789", 10);
    size_t len = strlen(body);
    /* Announces more than it sends. */
    ck_assert_int_eq(post(&u, "multipart/form-data; boundary=" B, body, len - 20, (long)len, 0,
                          NULL),
                     -1);
    ck_assert_int_eq(R.res.status, 400);
    ck_assert_ptr_nonnull(strstr(ob_buf_cstr(&R.res.body), "Incomplete request body."));
    ob_arena_reset(&A);
    ck_assert_int_eq(test_count_entries(staging()), 0);
}
END_TEST

START_TEST(test_errors)
{
    ob_upload u;
    char *body = form("a.txt", "x", 1);
    size_t len = strlen(body);
    /* JSON where multipart is read. */
    ck_assert_int_eq(post(&u, "application/json", "{}", 2, -1, 0, NULL), -1);
    ck_assert_int_eq(R.res.status, 415);
    ck_assert_str_eq(ob_buf_cstr(&R.res.body),
                     "{\"detail\":\"Unsupported media type \\\"application/json\\\" in request.\"}");
    /* Content-Length over the limit: refused before reading. */
    ob_multipart_limits lim = ob_multipart_limits_for(&CFG, false);
    lim.max_body_bytes = 100;
    lim.max_file_bytes = 100;
    ck_assert_int_eq(post(&u, "multipart/form-data; boundary=" B, body, len, 5000, 0, &lim), -1);
    ck_assert_int_eq(R.res.status, 413);
    ck_assert_uint_eq(IO.pos, 0);
    /* A file over its limit while streaming (no Content-Length to go by). */
    char *big = form("a.txt", "0123456789012345678901234567890123456789", 40);
    lim.max_body_bytes = 10000;
    lim.max_file_bytes = 20;
    ck_assert_int_eq(post(&u, "multipart/form-data; boundary=" B, big, strlen(big), -1, 0, &lim),
                     -1);
    ck_assert_int_eq(R.res.status, 413);
    /* No boundary. */
    ck_assert_int_eq(post(&u, "multipart/form-data", body, len, -1, 0, NULL), -1);
    ck_assert_int_eq(R.res.status, 400);
    /* A field that is not UTF-8. */
    const char *bad = "--" B "\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n\xff\xfe\r\n"
                      "--" B "--\r\n";
    ck_assert_int_eq(post(&u, "multipart/form-data; boundary=" B, bad, strlen(bad), -1, 0, NULL),
                     -1);
    ck_assert_int_eq(R.res.status, 400);
    ob_arena_reset(&A);
    ck_assert_int_eq(test_count_entries(staging()), 0);
}
END_TEST

START_TEST(test_file_fields_only)
{
    /* A file in a field that takes none is dropped; an empty filename is
     * "no file chosen"; the last of two files in one field counts. */
    const char *body =
        "--" B "\r\nContent-Disposition: form-data; name=\"other\"; filename=\"x.txt\"\r\n\r\n"
        "dropped\r\n"
        "--" B "\r\nContent-Disposition: form-data; name=\"file_data\"; filename=\"\"\r\n\r\n"
        "\r\n"
        "--" B "--\r\n";
    ob_upload u;
    ck_assert_int_eq(post(&u, "multipart/form-data; boundary=" B, body, strlen(body), -1, 0, NULL),
                     0);
    ck_assert_uint_eq(u.nfiles, 0);
    ck_assert_uint_eq(u.nfields, 0);
    ck_assert_ptr_null(ob_upload_file_get(&u, "file_data"));
    const char *two =
        "--" B "\r\nContent-Disposition: form-data; name=\"file_data\"; filename=\"a.txt\"\r\n\r\n"
        "first\r\n"
        "--" B "\r\nContent-Disposition: form-data; name=\"file_data\"; filename=\"b.css\"\r\n\r\n"
        "second\r\n"
        "--" B "--\r\n";
    ck_assert_int_eq(post(&u, "multipart/form-data; boundary=" B, two, strlen(two), -1, 0, NULL),
                     0);
    const ob_upload_file *f = ob_upload_file_get(&u, "file_data");
    ck_assert_str_eq(f->name, "b.css");
    ck_assert_str_eq(f->mime_type, "text/css");
    ck_assert_uint_eq(f->file->size, 6);
}
END_TEST

Suite *upload_suite(void)
{
    Suite *s = suite_create("upload");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_fields_and_file);
    tcase_add_test(tc, test_big_file_streams);
    tcase_add_test(tc, test_client_goes_away);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_file_fields_only);
    suite_add_tcase(s, tc);
    return s;
}
