/* test_multipart.c - the streaming multipart/form-data parser: boundaries
 * from Content-Type, parts and their data however the body is split into
 * chunks, every limit with its own result, and malformed bodies. */
#include <string.h>
#include "openbook/core/buf.h"
#include "openbook/core/config.h"
#include "openbook/http/multipart.h"
#include "tests.h"

static ob_arena A;

static void setup(void)
{
    ob_arena_init(&A, 4096);
}

static void teardown(void)
{
    ob_arena_destroy(&A);
}

/* ---- boundaries ------------------------------------------------------------ */

static ob_multipart_result boundary(const char *ct, char *out)
{
    size_t n;
    return ob_multipart_boundary(ct, strlen(ct), out, &n);
}

START_TEST(test_boundary)
{
    char b[OB_MULTIPART_BOUNDARY_MAX + 1];
    ck_assert_int_eq(boundary("multipart/form-data; boundary=----WebKitFormBoundaryx7", b),
                     OB_MP_OK);
    ck_assert_str_eq(b, "----WebKitFormBoundaryx7");
    ck_assert_int_eq(boundary("Multipart/Form-Data;charset=utf-8;BOUNDARY=\"a b:c\"", b),
                     OB_MP_OK);
    ck_assert_str_eq(b, "a b:c");
    ck_assert_int_eq(boundary("  multipart/form-data ; x=\"q;r\"; boundary=z", b), OB_MP_OK);
    ck_assert_str_eq(b, "z");
    char seventy[128] = "multipart/form-data; boundary=";
    size_t at = strlen(seventy);
    memset(seventy + at, 'x', 70);
    seventy[at + 70] = '\0';
    ck_assert_int_eq(boundary(seventy, b), OB_MP_OK);
    ck_assert_uint_eq(strlen(b), 70);
    strcat(seventy, "x");
    ck_assert_int_eq(boundary(seventy, b), OB_MP_BAD_BOUNDARY);

    ck_assert_int_eq(boundary("multipart/form-data", b), OB_MP_BAD_BOUNDARY);
    ck_assert_int_eq(boundary("multipart/form-data; boundary=", b), OB_MP_BAD_BOUNDARY);
    ck_assert_int_eq(boundary("multipart/form-data; boundary=\"\"", b), OB_MP_BAD_BOUNDARY);
    ck_assert_int_eq(boundary("multipart/form-data; boundary=\"ends \"", b), OB_MP_BAD_BOUNDARY);
    ck_assert_int_eq(boundary("multipart/form-data; boundary=a*b", b), OB_MP_BAD_BOUNDARY);
    ck_assert_int_eq(boundary("multipart/form-data; boundary=\"open", b), OB_MP_BAD_BOUNDARY);
    ck_assert_int_eq(boundary("application/json", b), OB_MP_NOT_MULTIPART);
    ck_assert_int_eq(boundary("multipart/mixed; boundary=x", b), OB_MP_NOT_MULTIPART);
    ck_assert_int_eq(boundary("", b), OB_MP_NOT_MULTIPART);
    ck_assert_int_eq(ob_multipart_boundary("multipart/form-data; boundary=ab\0c", 34, b,
                                           &(size_t){0}),
                     OB_MP_BAD_BOUNDARY);
}
END_TEST

/* ---- a recording handler ----------------------------------------------------- */

typedef struct recorder {
    ob_buf log;          /* B(name|filename|type) D(data) E */
    int abort_on_begin;  /* part number (1-based) whose begin fails */
    int begins;
    bool in_data;        /* the log ends with a D(...) */
} recorder;

static int rec_begin(void *ctx, const ob_multipart_part *p)
{
    recorder *r = ctx;
    r->begins++;
    r->in_data = false;
    ob_buf_printf(&r->log, "B(%s|%s|%s)", p->name, p->filename ? p->filename : "-",
                  p->content_type);
    ck_assert_uint_eq(strlen(p->name), p->name_len);
    if (p->filename)
        ck_assert_uint_eq(strlen(p->filename), p->filename_len);
    return r->begins == r->abort_on_begin;
}

static int rec_data(void *ctx, const char *d, size_t n)
{
    recorder *r = ctx;
    ck_assert_uint_gt(n, 0);
    /* Runs of data are logged joined, so chunking does not show. */
    if (r->in_data)
        r->log.len--; /* reopen the last D( */
    else
        ob_buf_puts(&r->log, "D(");
    r->in_data = true;
    ob_buf_append(&r->log, d, n);
    ob_buf_putc(&r->log, ')');
    return 0;
}

static int rec_end(void *ctx)
{
    recorder *r = ctx;
    r->in_data = false;
    ob_buf_puts(&r->log, "E");
    return 0;
}

static ob_multipart_limits big_limits(void)
{
    return (ob_multipart_limits){.max_body_bytes = 1 << 20,
                                 .max_file_bytes = 1 << 20,
                                 .max_field_bytes = 1 << 20,
                                 .max_parts = 100,
                                 .max_header_bytes = OB_MULTIPART_HEADER_MAX};
}

/* Parses body in chunks of `chunk` bytes (0: all at once); returns the
 * result of finish (or of the first failing feed) and fills the log. */
static ob_multipart_result run(const char *body, size_t len, size_t chunk,
                               const ob_multipart_limits *lim, recorder *r, const char *b)
{
    ob_buf_init(&r->log, &A);
    r->begins = 0;
    r->in_data = false;
    ob_multipart p;
    ob_multipart_handler h = {rec_begin, rec_data, rec_end, r};
    ob_multipart_init(&p, &A, b, strlen(b), lim, &h);
    if (chunk == 0)
        chunk = len ? len : 1;
    for (size_t i = 0; i < len; i += chunk) {
        size_t n = len - i < chunk ? len - i : chunk;
        ob_multipart_result res = ob_multipart_feed(&p, body + i, n);
        if (res != OB_MP_OK) {
            /* Sticky: more input changes nothing and calls nothing. */
            size_t logged = r->log.len;
            ck_assert_int_eq(ob_multipart_feed(&p, "\r\n--", 4), res);
            ck_assert_int_eq(ob_multipart_finish(&p), res);
            ck_assert_uint_eq(r->log.len, logged);
            return res;
        }
    }
    return ob_multipart_finish(&p);
}

#define BODY(s) (s), sizeof(s) - 1

static const char browser_body[] =
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"content_type\"\r\n"
    "\r\n"
    "openbook_content.textbook\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"file_data\"; filename=\"r\\\"e\\\\port.pdf\"\r\n"
    "Content-Type: application/pdf\r\n"
    "\r\n"
    "%PDF-1.4\r\n\r\n--X\r\r\n--XyY\rbinary\x00" "data\r\n"
    "--XyZ\r\n"
    "content-disposition: FORM-DATA; name=empty\r\n"
    "\r\n"
    "\r\n"
    "--XyZ--\r\n"
    "epilogue --XyZ-- ignored\r\n";

static const char browser_log[] =
    "B(content_type|-|)D(openbook_content.textbook)E"
    "B(file_data|r\"e\\port.pdf|application/pdf)"
    "D(%PDF-1.4\r\n\r\n--X\r\r\n--XyY\rbinary\0data)E"
    "B(empty|-|)E";

START_TEST(test_browser_body)
{
    ob_multipart_limits lim = big_limits();
    recorder r = {0};
    ck_assert_int_eq(run(BODY(browser_body), 0, &lim, &r, "XyZ"), OB_MP_OK);
    ck_assert_uint_eq(r.log.len, sizeof browser_log - 1);
    ck_assert_mem_eq(r.log.data, browser_log, sizeof browser_log - 1);
}
END_TEST

/* The same events whatever the chunk size: delimiters and header blocks
 * straddle every possible chunk boundary. */
START_TEST(test_any_chunking)
{
    ob_multipart_limits lim = big_limits();
    for (size_t chunk = 1; chunk <= sizeof browser_body; chunk++) {
        recorder r = {0};
        ck_assert_int_eq(run(BODY(browser_body), chunk, &lim, &r, "XyZ"), OB_MP_OK);
        ck_assert_msg(r.log.len == sizeof browser_log - 1 &&
                          memcmp(r.log.data, browser_log, r.log.len) == 0,
                      "chunk size %zu", chunk);
    }
}
END_TEST

START_TEST(test_framing_variants)
{
    ob_multipart_limits lim = big_limits();
    recorder r = {0};
    /* A preamble, transport padding after delimiters, an empty body part. */
    const char b1[] = "preamble, near misses: --b-\r\n-\r\n--\r\r\n--b \t\r\n"
                      "Content-Disposition: form-data; name=a\r\n\r\n"
                      "\r\n--b--";
    ck_assert_int_eq(run(BODY(b1), 0, &lim, &r, "b"), OB_MP_OK);
    ck_assert_str_eq(ob_buf_cstr(&r.log), "B(a|-|)E");
    /* A part without a name (or not form-data) is skipped, silently. */
    const char b2[] = "--b\r\nContent-Type: text/plain\r\n\r\nignored\r\n"
                      "--b\r\nContent-Disposition: attachment; name=x\r\n\r\nignored\r\n"
                      "--b\r\n\r\nno headers\r\n"
                      "--b\r\nContent-Disposition: form-data; name=k; filename=\"\"\r\n\r\nv\r\n"
                      "--b--\r\n";
    ck_assert_int_eq(run(BODY(b2), 0, &lim, &r, "b"), OB_MP_OK);
    ck_assert_str_eq(ob_buf_cstr(&r.log), "B(k||)D(v)E");
    /* filename* (RFC 8187) wins over filename. */
    const char b3[] = "--b\r\nContent-Disposition: form-data; name=f; filename=\"x.txt\"; "
                      "filename*=UTF-8''gr%C3%BC%C3%9Fe%20%E2%82%AC.txt\r\n\r\n\r\n--b--";
    ck_assert_int_eq(run(BODY(b3), 0, &lim, &r, "b"), OB_MP_OK);
    ck_assert_str_eq(ob_buf_cstr(&r.log), "B(f|gr\xc3\xbc\xc3\x9f" "e \xe2\x82\xac.txt|)E");
    /* Old browsers send Windows paths unescaped: backslashes stay. */
    const char b4[] = "--b\r\nContent-Disposition: form-data; name=f; "
                      "filename=\"C:\\dir\\a.png\"\r\n\r\n\r\n--b--";
    ck_assert_int_eq(run(BODY(b4), 0, &lim, &r, "b"), OB_MP_OK);
    ck_assert_str_eq(ob_buf_cstr(&r.log), "B(f|C:\\dir\\a.png|)E");
}
END_TEST

START_TEST(test_malformed)
{
    ob_multipart_limits lim = big_limits();
    recorder r = {0};
    struct {
        const char *body;
        ob_multipart_result want;
    } cases[] = {
        {"", OB_MP_TRUNCATED},
        {"no delimiter at all", OB_MP_TRUNCATED},
        {"--b\r\nContent-Disposition: form-data; name=a\r\n\r\ndata", OB_MP_TRUNCATED},
        {"--b\r\nContent-Disposition: form-data; name=a\r\n", OB_MP_TRUNCATED},
        {"--bX\r\n", OB_MP_MALFORMED},
        {"--b\n", OB_MP_MALFORMED},
        {"--b-x", OB_MP_MALFORMED},
        {"--b \tx", OB_MP_MALFORMED},
        {"--b\r\nno colon here\r\n\r\n--b--", OB_MP_MALFORMED},
        {"--b\r\n: empty name\r\n\r\n--b--", OB_MP_MALFORMED},
        {"--b\r\nX: bare\nLF\r\n\r\n--b--", OB_MP_MALFORMED},
        {"--b\r\nContent-Disposition: form-data; name=\"open\r\n\r\n--b--", OB_MP_MALFORMED},
        {"--b\r\nContent-Disposition: form-data; name=\"\xff\"\r\n\r\n--b--", OB_MP_BAD_ENCODING},
        {"--b\r\nContent-Disposition: form-data; name=a; filename*=UTF-8''%00\r\n\r\n--b--",
         OB_MP_BAD_ENCODING},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        ck_assert_msg(run(cases[i].body, strlen(cases[i].body), 0, &lim, &r, "b") == cases[i].want,
                      "case %zu", i);
    ob_multipart p;
    ob_multipart_init(&p, &A, "", 0, &lim, NULL);
    ck_assert_int_eq(ob_multipart_feed(&p, "x", 1), OB_MP_BAD_BOUNDARY);
}
END_TEST

static const char two_parts[] = "--b\r\nContent-Disposition: form-data; name=a\r\n\r\n12345\r\n"
                                "--b\r\nContent-Disposition: form-data; name=f; filename=x\r\n"
                                "\r\n1234567890\r\n--b--\r\n";

START_TEST(test_limits)
{
    recorder r = {0};
    ob_multipart_limits lim = big_limits();
    ck_assert_int_eq(run(BODY(two_parts), 0, &lim, &r, "b"), OB_MP_OK);

    lim.max_parts = 1;
    ck_assert_int_eq(run(BODY(two_parts), 0, &lim, &r, "b"), OB_MP_TOO_MANY_FIELDS);
    ck_assert_str_eq(ob_buf_cstr(&r.log), "B(a|-|)D(12345)E"); /* the first part went through */
    lim = big_limits();
    lim.max_parts = 2;
    ck_assert_int_eq(run(BODY(two_parts), 0, &lim, &r, "b"), OB_MP_OK);

    lim = big_limits();
    lim.max_field_bytes = 4;
    ck_assert_int_eq(run(BODY(two_parts), 0, &lim, &r, "b"), OB_MP_TOO_LARGE);
    lim.max_field_bytes = 5;
    ck_assert_int_eq(run(BODY(two_parts), 0, &lim, &r, "b"), OB_MP_OK);
    lim.max_file_bytes = 9;
    ck_assert_int_eq(run(BODY(two_parts), 0, &lim, &r, "b"), OB_MP_TOO_LARGE);
    lim.max_file_bytes = 10;
    ck_assert_int_eq(run(BODY(two_parts), 0, &lim, &r, "b"), OB_MP_OK);

    lim = big_limits();
    lim.max_body_bytes = sizeof two_parts - 2;
    ck_assert_int_eq(run(BODY(two_parts), 0, &lim, &r, "b"), OB_MP_TOO_LARGE);
    ck_assert_uint_eq(r.log.len, 0); /* refused before any byte was looked at */
    lim.max_body_bytes = sizeof two_parts - 1;
    ck_assert_int_eq(run(BODY(two_parts), 7, &lim, &r, "b"), OB_MP_OK);

    lim = big_limits();
    lim.max_header_bytes = strlen("Content-Disposition: form-data; name=a\r\n\r\n") - 1;
    ck_assert_int_eq(run(BODY(two_parts), 3, &lim, &r, "b"), OB_MP_HEADER_TOO_LONG);
    lim.max_header_bytes = strlen("Content-Disposition: form-data; name=f; filename=x\r\n\r\n");
    ck_assert_int_eq(run(BODY(two_parts), 3, &lim, &r, "b"), OB_MP_OK);
}
END_TEST

START_TEST(test_abort)
{
    ob_multipart_limits lim = big_limits();
    recorder r = {.abort_on_begin = 2};
    ck_assert_int_eq(run(BODY(two_parts), 0, &lim, &r, "b"), OB_MP_ABORTED);
    ck_assert_str_eq(ob_buf_cstr(&r.log), "B(a|-|)D(12345)EB(f|x|)");
}
END_TEST

START_TEST(test_status_and_limits_from_config)
{
    ck_assert_int_eq(ob_multipart_status(OB_MP_TOO_LARGE), 413);
    ck_assert_str_eq(ob_multipart_message(OB_MP_TOO_LARGE), "Request body too large.");
    ck_assert_int_eq(ob_multipart_status(OB_MP_TOO_MANY_FIELDS), 400);
    ck_assert_str_eq(ob_multipart_message(OB_MP_TOO_MANY_FIELDS), "Too many fields.");
    ck_assert_int_eq(ob_multipart_status(OB_MP_NOT_MULTIPART), 415);
    ck_assert_ptr_null(ob_multipart_message(OB_MP_NOT_MULTIPART));
    ck_assert_int_eq(ob_multipart_status(OB_MP_MALFORMED), 400);
    ck_assert_ptr_nonnull(strstr(ob_multipart_message(OB_MP_MALFORMED), "Multipart form parse error"));

    ob_config cfg;
    ob_config_defaults(&cfg);
    ob_multipart_limits up = ob_multipart_limits_for(&cfg, false);
    ck_assert_uint_eq(up.max_body_bytes, 20971520);
    ck_assert_uint_eq(up.max_file_bytes, 20971520);
    ck_assert_uint_eq(up.max_parts, 1000);
    ob_multipart_limits ar = ob_multipart_limits_for(&cfg, true);
    ck_assert_uint_eq(ar.max_file_bytes, 52428800);
    ck_assert_uint_eq(ar.max_body_bytes, 52428800 + OB_MULTIPART_OVERHEAD);
    ck_assert_uint_eq(ar.max_field_bytes, 2621440);
    ob_config_free(&cfg);
}
END_TEST

Suite *multipart_suite(void)
{
    Suite *s = suite_create("multipart");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_boundary);
    tcase_add_test(tc, test_browser_body);
    tcase_add_test(tc, test_any_chunking);
    tcase_add_test(tc, test_framing_variants);
    tcase_add_test(tc, test_malformed);
    tcase_add_test(tc, test_limits);
    tcase_add_test(tc, test_abort);
    tcase_add_test(tc, test_status_and_limits_from_config);
    suite_add_tcase(s, tc);
    return s;
}
