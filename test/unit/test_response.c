/* test_response.c - response helpers and serialisation to FastCGI stdout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "openbook/http/compress.h"
#include "openbook/core/config.h"
#include "openbook/http/http.h"
#include "tests.h"

static ob_arena A;
static ob_request R;
static ob_buf OUT;
static ob_config CFG;

static void setup(void)
{
    ob_arena_init(&A, 4096);
    ob_config_defaults(&CFG);
    memset(&R, 0, sizeof R);
    R.arena = &A;
    R.cfg = &CFG;
    R.language = "en";
    ob_response_init(&R.res, &A);
    ob_buf_init(&OUT, &A);
}

static void teardown(void)
{
    ob_config_free(&CFG);
    ob_arena_destroy(&A);
}

/* Splits OUT into header block and body; returns the body. */
static const char *serialize(bool head_only, const char **headers)
{
    ob_buf_reset(&OUT);
    ob_response_serialize(&R, head_only, &OUT);
    const char *all = ob_buf_cstr(&OUT);
    const char *sep = strstr(all, "\r\n\r\n");
    ck_assert_msg(sep != NULL, "no blank line after headers: %s", all);
    *headers = ob_arena_strndup(&A, all, (size_t)(sep - all) + 2);
    return sep + 4;
}

static bool has_header(const char *headers, const char *line)
{
    char want[256];
    snprintf(want, sizeof want, "\r\n%s\r\n", line);
    /* The first line has no CRLF before it. */
    return strstr(headers, want) != NULL ||
           strncmp(headers, want + 2, strlen(want) - 2) == 0;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void assert_security_headers(const char *h)
{
    ck_assert(has_header(h, "X-Content-Type-Options: nosniff"));
    ck_assert(has_header(h, "X-Frame-Options: DENY"));
    ck_assert(has_header(h, "Referrer-Policy: same-origin"));
    ck_assert(has_header(h, "Vary: Accept, Cookie, Accept-Language"));
    ck_assert(has_header(h, "Cache-Control: private, no-store"));
}

START_TEST(test_serialize_json_error)
{
    ob_fail(&R, 404, "Not found.");
    const char *h;
    const char *b = serialize(false, &h);
    ck_assert_str_eq(b, "{\"detail\":\"Not found.\"}");
    ck_assert_int_eq(strncmp(h, "Status: 404 Not Found\r\n", 23), 0);
    ck_assert(has_header(h, "Content-Type: application/json"));
    ck_assert(has_header(h, "Content-Length: 23"));
    ck_assert(has_header(h, "Content-Language: en"));
    assert_security_headers(h);
    ck_assert_uint_eq(count(h, "Content-Type:"), 1);
    /* Every header line ends in CRLF and has a name. */
    for (const char *p = h; *p;) {
        const char *eol = strstr(p, "\r\n");
        ck_assert_ptr_nonnull(eol);
        ck_assert_ptr_nonnull(memchr(p, ':', (size_t)(eol - p)));
        ck_assert_ptr_null(memchr(p, '\n', (size_t)(eol - p)));
        p = eol + 2;
    }
}
END_TEST

START_TEST(test_content_length_matches_body)
{
    ob_json *j = ob_json_response(&R, 200);
    ob_json_object_begin(j);
    ob_json_kv_string(j, "name", "caf\xc3\xa9 \xe2\x82\xac");
    ob_json_object_end(j);
    const char *h;
    const char *b = serialize(false, &h);
    char want[64];
    snprintf(want, sizeof want, "Content-Length: %zu", strlen(b));
    ck_assert(has_header(h, want));
    ck_assert_uint_eq(strlen(b), R.res.body.len);
    ck_assert_int_eq(strncmp(h, "Status: 200 OK\r\n", 16), 0);
}
END_TEST

START_TEST(test_head_has_no_body)
{
    ob_json *j = ob_json_response(&R, 200);
    ob_json_object_begin(j);
    ob_json_kv_int(j, "count", 12345);
    ob_json_object_end(j);
    size_t len = R.res.body.len;
    const char *h;
    const char *b = serialize(true, &h);
    ck_assert_str_eq(b, "");
    /* HEAD keeps the GET headers, Content-Length included. */
    char want[64];
    snprintf(want, sizeof want, "Content-Length: %zu", len);
    ck_assert(has_header(h, want));
    ck_assert(has_header(h, "Content-Type: application/json"));
    assert_security_headers(h);
}
END_TEST

START_TEST(test_204_has_no_body_or_type)
{
    R.res.status = 204;
    ob_buf_puts(&R.res.body, "should not be sent");
    ob_response_header(&R.res, "Allow", "GET, HEAD, OPTIONS");
    const char *h;
    const char *b = serialize(false, &h);
    ck_assert_str_eq(b, "");
    ck_assert_int_eq(strncmp(h, "Status: 204 No Content\r\n", 24), 0);
    ck_assert_uint_eq(count(h, "Content-Type:"), 0);
    ck_assert_uint_eq(count(h, "Content-Length:"), 0);
    ck_assert(has_header(h, "Allow: GET, HEAD, OPTIONS"));
    assert_security_headers(h);
    R.res.status = 304;
    b = serialize(false, &h);
    ck_assert_str_eq(b, "");
    ck_assert_uint_eq(count(h, "Content-Length:"), 0);
}
END_TEST

START_TEST(test_empty_200_body)
{
    const char *h;
    const char *b = serialize(false, &h);
    ck_assert_str_eq(b, "");
    ck_assert(has_header(h, "Content-Length: 0"));
}
END_TEST

START_TEST(test_custom_type_language_and_headers)
{
    R.res.content_type = "text/plain; charset=utf-8";
    R.language = "de";
    ob_buf_puts(&R.res.body, "hello");
    ob_response_header(&R.res, "Set-Cookie", "a=b; Path=/");
    ob_response_header(&R.res, "X-Injected", "ok\r\nSet-Cookie: evil=1");
    const char *h;
    const char *b = serialize(false, &h);
    ck_assert_str_eq(b, "hello");
    ck_assert(has_header(h, "Content-Type: text/plain; charset=utf-8"));
    ck_assert(has_header(h, "Content-Language: de"));
    ck_assert(has_header(h, "Set-Cookie: a=b; Path=/"));
    ck_assert(has_header(h, "X-Injected: ok"));
    ck_assert_ptr_null(strstr(h, "evil"));
    /* No language resolved yet: "en". */
    R.language = NULL;
    serialize(false, &h);
    ck_assert(has_header(h, "Content-Language: en"));
}
END_TEST

START_TEST(test_request_id_header)
{
    const char *h;
    serialize(false, &h);
    ck_assert_ptr_null(strstr(h, "X-Request-Id"));
    /* On every answer, errors and empty ones included; the body stays. */
    R.request_id = "9f86d081884c7d659a2feaa0c55ad015";
    ob_fail(&R, 404, "Not found.");
    ck_assert_str_eq(serialize(false, &h), "{\"detail\":\"Not found.\"}");
    ck_assert(has_header(h, "X-Request-Id: 9f86d081884c7d659a2feaa0c55ad015"));
    ck_assert_int_eq(count(h, "X-Request-Id"), 1);
    R.res.status = 204;
    serialize(false, &h);
    ck_assert(has_header(h, "X-Request-Id: 9f86d081884c7d659a2feaa0c55ad015"));
}
END_TEST

START_TEST(test_fail_replaces_body)
{
    ob_buf_puts(&R.res.body, "{\"partial\":");
    R.res.content_type = "text/html";
    ob_failf(&R, 400, "Bad \"%s\" #%d", "thing", 3);
    ck_assert_int_eq(R.res.status, 400);
    ck_assert_ptr_null(R.res.content_type);
    ck_assert_str_eq(ob_buf_cstr(&R.res.body), "{\"detail\":\"Bad \\\"thing\\\" #3\"}");
    const char *h;
    serialize(false, &h);
    ck_assert_int_eq(strncmp(h, "Status: 400 Bad Request\r\n", 25), 0);
    ck_assert(has_header(h, "Content-Type: application/json"));
}
END_TEST

START_TEST(test_status_texts)
{
    static const struct {
        int code;
        const char *text;
    } t[] = {{200, "OK"}, {201, "Created"}, {204, "No Content"}, {400, "Bad Request"},
             {403, "Forbidden"}, {404, "Not Found"}, {405, "Method Not Allowed"},
             {413, "Request Entity Too Large"}, {414, "Request-URI Too Long"},
             {415, "Unsupported Media Type"}, {500, "Internal Server Error"},
             {503, "Service Unavailable"}};
    for (size_t i = 0; i < sizeof t / sizeof *t; i++)
        ck_assert_str_eq(ob_status_text(t[i].code), t[i].text);
    ck_assert_ptr_nonnull(ob_status_text(299));
}
END_TEST

START_TEST(test_method_names)
{
    static const ob_method ms[] = {OB_GET, OB_HEAD, OB_POST, OB_PUT, OB_PATCH, OB_DELETE,
                                   OB_OPTIONS};
    for (size_t i = 0; i < sizeof ms / sizeof *ms; i++)
        ck_assert_int_eq(ob_method_parse(ob_method_name(ms[i])), ms[i]);
    ck_assert_str_eq(ob_method_name(OB_PATCH), "PATCH");
    ck_assert_int_eq(ob_method_parse("TRACE"), OB_OTHER);
    ck_assert_int_eq(ob_method_parse(""), OB_OTHER);
    ck_assert_str_eq(ob_method_name(OB_OTHER), "OTHER");
}
END_TEST

/* ---- gzip (compress.c) ------------------------------------------------ */

/* A JSON list like the API's: n UUID-ish links. */
static void list_body(size_t n)
{
    ob_json *j = ob_json_response(&R, 200);
    ob_json_object_begin(j);
    ob_json_key(j, "results");
    ob_json_array_begin(j);
    for (size_t i = 0; i < n; i++) {
        char id[48];
        snprintf(id, sizeof id, "%08zx-4b1d-4c2a-9e3f-%012zx", i * 2654435761u, i * 40503u);
        ob_json_string(j, id);
    }
    ob_json_array_end(j);
    ob_json_object_end(j);
}

/* The gunzipped body, checked to be exactly one gzip member. */
static char *gunzip(const char *data, size_t len, size_t *out_len)
{
    size_t cap = 1 << 20;
    char *out = ob_arena_alloc(&A, cap);
    z_stream z;
    memset(&z, 0, sizeof z);
    ck_assert_int_eq(inflateInit2(&z, 16 + MAX_WBITS), Z_OK);
    z.next_in = (unsigned char *)data;
    z.avail_in = (unsigned)len;
    z.next_out = (unsigned char *)out;
    z.avail_out = (unsigned)cap;
    ck_assert_int_eq(inflate(&z, Z_FINISH), Z_STREAM_END);
    ck_assert_uint_eq(z.avail_in, 0);
    *out_len = z.total_out;
    inflateEnd(&z);
    return out;
}

START_TEST(test_gzip_round_trip_and_headers)
{
    list_body(300);
    char *plain = ob_arena_strndup(&A, R.res.body.data, R.res.body.len);
    size_t plain_len = R.res.body.len;
    R.accepts_gzip = true;
    ob_response_compress(&R);
    ck_assert(R.res.gzip);
    ck_assert_uint_lt(R.res.body.len, plain_len * 3 / 4);
    size_t n;
    char *back = gunzip(R.res.body.data, R.res.body.len, &n);
    ck_assert_uint_eq(n, plain_len);
    ck_assert_int_eq(memcmp(back, plain, n), 0);
    /* The head tells the client, with the compressed length; HEAD too. */
    const char *h;
    serialize(true, &h);
    char want[64];
    snprintf(want, sizeof want, "Content-Length: %zu", R.res.body.len);
    ck_assert(has_header(h, want));
    ck_assert(has_header(h, "Content-Encoding: gzip"));
    ck_assert(has_header(h, "Content-Type: application/json"));
    assert_security_headers(h);
    /* A second call leaves the gzip body alone. */
    size_t zlen = R.res.body.len;
    ob_response_compress(&R);
    ck_assert_uint_eq(R.res.body.len, zlen);
    /* A handler that starts over (an error) starts from identity. */
    ob_fail(&R, 400, "Bad.");
    ck_assert(!R.res.gzip);
    serialize(false, &h);
    ck_assert_uint_eq(count(h, "Content-Encoding"), 0);
}
END_TEST

START_TEST(test_gzip_only_when_asked_and_worth_it)
{
    list_body(300);
    size_t plain_len = R.res.body.len;
    /* The client did not ask. */
    ob_response_compress(&R);
    ck_assert(!R.res.gzip);
    R.accepts_gzip = true;
    /* Turned off. */
    CFG.gzip_min_bytes = 0;
    ob_response_compress(&R);
    ck_assert(!R.res.gzip);
    /* Below the size. */
    CFG.gzip_min_bytes = (long)plain_len + 1;
    ob_response_compress(&R);
    ck_assert(!R.res.gzip);
    CFG.gzip_min_bytes = 1024;
    /* Not textual. */
    R.res.content_type = "image/png";
    ob_response_compress(&R);
    ck_assert(!R.res.gzip);
    /* No body by status. */
    R.res.content_type = NULL;
    R.res.status = 204;
    ob_response_compress(&R);
    ck_assert(!R.res.gzip);
    ck_assert_uint_eq(R.res.body.len, plain_len);
    /* Text and YAML are compressed like JSON, at any level. */
    R.res.status = 200;
    R.res.content_type = "application/yaml; charset=utf-8";
    CFG.gzip_level = 12;
    ob_response_compress(&R);
    ck_assert(R.res.gzip);
}
END_TEST

START_TEST(test_gzip_skips_what_would_grow)
{
    /* Bytes that do not compress stay as they are. */
    ob_buf_reset(&R.res.body);
    uint32_t x = 2463534242u;
    for (int i = 0; i < 4096; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        ob_buf_putc(&R.res.body, (char)(x & 0xff));
    }
    R.res.content_type = "text/plain";
    R.accepts_gzip = true;
    ob_response_compress(&R);
    ck_assert(!R.res.gzip);
    ck_assert_uint_eq(R.res.body.len, 4096);
}
END_TEST

Suite *response_suite(void)
{
    Suite *s = suite_create("response");
    TCase *tc = tcase_create("response");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_serialize_json_error);
    tcase_add_test(tc, test_content_length_matches_body);
    tcase_add_test(tc, test_head_has_no_body);
    tcase_add_test(tc, test_204_has_no_body_or_type);
    tcase_add_test(tc, test_empty_200_body);
    tcase_add_test(tc, test_custom_type_language_and_headers);
    tcase_add_test(tc, test_fail_replaces_body);
    tcase_add_test(tc, test_request_id_header);
    tcase_add_test(tc, test_status_texts);
    tcase_add_test(tc, test_method_names);
    tcase_add_test(tc, test_gzip_round_trip_and_headers);
    tcase_add_test(tc, test_gzip_only_when_asked_and_worth_it);
    tcase_add_test(tc, test_gzip_skips_what_would_grow);
    suite_add_tcase(s, tc);
    return s;
}
