/* test_request.c - ob_request_init from FastCGI params and
 * ob_request_read_json with a fake body reader. */
#include <stdio.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "openbook/core/alloc.h"
#include "openbook/core/config.h"
#include "openbook/http/http.h"
#include "tests.h"

static ob_arena A;
static ob_config CFG;
static ob_request R;

static void set_hosts(const char *const *hosts)
{
    for (size_t i = 0; i < CFG.allowed_hosts.count; i++)
        ob_free(CFG.allowed_hosts.items[i]);
    ob_free(CFG.allowed_hosts.items);
    CFG.allowed_hosts.items = NULL;
    CFG.allowed_hosts.count = 0;
    for (size_t n = 0; hosts[n]; n++) {
        CFG.allowed_hosts.items =
            ob_realloc(CFG.allowed_hosts.items, (n + 1) * sizeof(char *));
        CFG.allowed_hosts.items[n] = ob_strdup(hosts[n]);
        CFG.allowed_hosts.count = n + 1;
    }
}

static void setup(void)
{
    ob_arena_init(&A, 4096);
    ob_config_defaults(&CFG);
    static const char *const hosts[] = {"example.org", ".example.net", "[::1]", NULL};
    set_hosts(hosts);
    memset(&R, 0, sizeof R);
}

static void teardown(void)
{
    ob_arena_destroy(&A); /* also frees parsed JSON (deferred) */
    ob_config_free(&CFG);
}

static int init(const char *const *vars)
{
    memset(&R, 0, sizeof R);
    return ob_request_init(&R, &A, &CFG, test_env(&A, vars));
}

static const char *body(void)
{
    return R.res.body.len ? ob_buf_cstr(&R.res.body) : "";
}

/* The "detail" of an error body, or NULL. */
static const char *detail(void)
{
    cJSON *v = cJSON_ParseWithLength(R.res.body.data, R.res.body.len);
    if (!v)
        return NULL;
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(v, "detail");
    const char *s = cJSON_IsString(d) ? ob_arena_strdup(&A, d->valuestring) : NULL;
    cJSON_Delete(v);
    return s;
}

#define ASSERT_FAIL(status_, detail_)                                                             \
    do {                                                                                          \
        ck_assert_int_eq(R.res.status, (status_));                                                \
        const char *d_ = detail();                                                                \
        ck_assert_msg(d_ && strcmp(d_, (detail_)) == 0, "body %s, want detail \"%s\"", body(),    \
                      (detail_));                                                                 \
    } while (0)

/* ---- method, host ----------------------------------------------------- */

START_TEST(test_method)
{
    const char *v1[] = {"REQUEST_METHOD=POST", "REQUEST_URI=/", "HTTP_HOST=example.org", NULL};
    ck_assert_int_eq(init(v1), 0);
    ck_assert_int_eq(R.method, OB_POST);
    ck_assert_str_eq(R.method_name, "POST");
    const char *v2[] = {"REQUEST_METHOD=BREW", "REQUEST_URI=/", "HTTP_HOST=example.org", NULL};
    ck_assert_int_eq(init(v2), 0);
    ck_assert_int_eq(R.method, OB_OTHER);
    ck_assert_str_eq(R.method_name, "BREW");
    const char *v3[] = {"REQUEST_METHOD=get", "REQUEST_URI=/", "HTTP_HOST=example.org", NULL};
    ck_assert_int_eq(init(v3), 0);
    ck_assert_int_eq(R.method, OB_OTHER); /* methods are case-sensitive */
    const char *v4[] = {"REQUEST_URI=/", "HTTP_HOST=example.org", NULL};
    ck_assert_int_eq(init(v4), 0);
    ck_assert_int_eq(R.method, OB_GET);
    static const char *const names[] = {"GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"};
    static const ob_method ms[] = {OB_GET, OB_HEAD, OB_PUT, OB_PATCH, OB_DELETE, OB_OPTIONS};
    for (int i = 0; i < 6; i++) {
        char m[40];
        snprintf(m, sizeof m, "REQUEST_METHOD=%s", names[i]);
        const char *v[] = {m, "REQUEST_URI=/", "HTTP_HOST=example.org", NULL};
        ck_assert_int_eq(init(v), 0);
        ck_assert_int_eq(R.method, ms[i]);
    }
}
END_TEST

START_TEST(test_host_accepted)
{
    const char *v1[] = {"REQUEST_URI=/", "HTTP_HOST=Example.ORG:8080", NULL};
    ck_assert_int_eq(init(v1), 0);
    ck_assert_str_eq(R.host, "example.org");
    ck_assert_str_eq(R.host_header, "Example.ORG:8080");
    ck_assert_int_eq(R.res.status, 200);
    const char *v2[] = {"REQUEST_URI=/", "HTTP_HOST=www.example.net", NULL};
    ck_assert_int_eq(init(v2), 0);
    ck_assert_str_eq(R.host, "www.example.net");
    const char *v3[] = {"REQUEST_URI=/", "HTTP_HOST=[::1]:8000", NULL};
    ck_assert_int_eq(init(v3), 0);
    ck_assert_str_eq(R.host, "[::1]");
    /* SERVER_NAME stands in for a missing Host header. */
    const char *v4[] = {"REQUEST_URI=/", "SERVER_NAME=example.net", NULL};
    ck_assert_int_eq(init(v4), 0);
    ck_assert_str_eq(R.host, "example.net");
    /* HTTP_HOST wins over SERVER_NAME. */
    const char *v5[] = {"REQUEST_URI=/", "SERVER_NAME=example.net", "HTTP_HOST=example.org", NULL};
    ck_assert_int_eq(init(v5), 0);
    ck_assert_str_eq(R.host, "example.org");
}
END_TEST

START_TEST(test_host_rejected)
{
    char longhost[300 + 16];
    strcpy(longhost, "HTTP_HOST=");
    memset(longhost + 10, 'a', 280);
    strcpy(longhost + 290, ".example.net");
    static const char *const bad[] = {
        "HTTP_HOST=evil.com",          "HTTP_HOST=",
        "HTTP_HOST=example.org:80a",   "HTTP_HOST=exa mple.org",
        "HTTP_HOST=example.org/x",     "HTTP_HOST=[::1",
        "HTTP_HOST=[::1]x",            "HTTP_HOST=example.org:80:1",
        "HTTP_HOST=:80",               "HTTP_HOST=example.org.evil.com",
        "HTTP_HOST=badexample.net",    "HTTP_HOST=example.org\r\nX: y",
        "HTTP_HOST=ex\xc3\xa4mple.org", "HTTP_HOST=example.org@evil.com",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad + 2; i++) {
        const char *h = i < sizeof bad / sizeof *bad ? bad[i] : i == sizeof bad / sizeof *bad
                                                                   ? longhost
                                                                   : "NO_HOST=1";
        const char *v[] = {"REQUEST_URI=/", h, NULL};
        ck_assert_msg(init(v) == -1, "%s accepted", h);
        ck_assert_ptr_null(R.host);
        ck_assert_int_eq(R.res.status, 400);
        ck_assert_str_eq(body(), "{\"detail\":\"Invalid host header.\"}");
        ob_arena_reset(&A);
    }
}
END_TEST

START_TEST(test_request_id)
{
    /* The front server's id, when well-formed. */
    const char *v1[] = {"REQUEST_URI=/", "HTTP_HOST=example.org",
                        "HTTP_X_REQUEST_ID=lb-1.2:3", NULL};
    ck_assert_int_eq(init(v1), 0);
    ck_assert_str_eq(R.request_id, "lb-1.2:3");
    /* Else one of our own: 32 hex digits, a new one every time, also for a
     * request refused early (its 400 carries it). */
    const char *v2[] = {"REQUEST_URI=/", "HTTP_HOST=evil.com",
                        "HTTP_X_REQUEST_ID=two words", NULL};
    ck_assert_int_eq(init(v2), -1);
    const char *first = R.request_id;
    ck_assert_ptr_nonnull(first);
    ck_assert_int_eq(strlen(first), 32);
    ck_assert_int_eq(strspn(first, "0123456789abcdef"), 32);
    const char *v3[] = {"REQUEST_URI=/", "HTTP_HOST=example.org", NULL};
    ck_assert_int_eq(init(v3), 0);
    ck_assert_int_eq(strlen(R.request_id), 32);
    ck_assert_str_ne(R.request_id, first);
}
END_TEST

START_TEST(test_host_checked_before_path)
{
    const char *v[] = {"REQUEST_URI=/../x?a=%00", "HTTP_HOST=evil.com", NULL};
    ck_assert_int_eq(init(v), -1);
    ASSERT_FAIL(400, "Invalid host header.");
}
END_TEST

/* ---- URI, query ------------------------------------------------------- */

START_TEST(test_path_and_query)
{
    const char *v[] = {"REQUEST_URI=//api//core/sites?x=1&y=%C3%A9+z&flag", "HTTP_HOST=example.org",
                       NULL};
    ck_assert_int_eq(init(v), 0);
    ck_assert_str_eq(R.raw_uri, "//api//core/sites?x=1&y=%C3%A9+z&flag");
    ck_assert_str_eq(R.path, "/api/core/sites");
    ck_assert_uint_eq(R.path_len, 15);
    ck_assert_str_eq(R.query, "x=1&y=%C3%A9+z&flag");
    ck_assert_uint_eq(R.query_len, strlen(R.query));
    ck_assert_uint_eq(R.nparams, 3);
    ck_assert_str_eq(ob_request_query(&R, "x"), "1");
    ck_assert_str_eq(ob_request_query(&R, "y"), "\xc3\xa9 z");
    ck_assert_str_eq(ob_request_query(&R, "flag"), "");
    ck_assert_ptr_null(ob_request_query(&R, "z"));
    ck_assert_str_eq(R.language, "en");
}
END_TEST

START_TEST(test_no_query)
{
    const char *v[] = {"REQUEST_URI=/api/", "HTTP_HOST=example.org", NULL};
    ck_assert_int_eq(init(v), 0);
    ck_assert_str_eq(R.query, "");
    ck_assert_uint_eq(R.query_len, 0);
    ck_assert_uint_eq(R.nparams, 0);
    ck_assert_ptr_null(ob_request_query(&R, "x"));
    const char *v2[] = {"REQUEST_URI=/api/?", "HTTP_HOST=example.org", NULL};
    ck_assert_int_eq(init(v2), 0);
    ck_assert_str_eq(R.path, "/api/");
    ck_assert_uint_eq(R.query_len, 0);
}
END_TEST

START_TEST(test_uri_from_script_name_and_path_info)
{
    const char *v[] = {"SCRIPT_NAME=/api", "PATH_INFO=/core/sites/", "QUERY_STRING=a=1",
                       "HTTP_HOST=example.org", NULL};
    ck_assert_int_eq(init(v), 0);
    ck_assert_str_eq(R.path, "/api/core/sites/");
    ck_assert_str_eq(R.query, "a=1");
    ck_assert_str_eq(ob_request_query(&R, "a"), "1");
    const char *v2[] = {"SCRIPT_NAME=", "PATH_INFO=/api/", "QUERY_STRING=",
                        "HTTP_HOST=example.org", NULL};
    ck_assert_int_eq(init(v2), 0);
    ck_assert_str_eq(R.path, "/api/");
    ck_assert_str_eq(R.query, "");
}
END_TEST

START_TEST(test_query_too_long_414)
{
    CFG.max_query_string_bytes = 256;
    char uri[400] = "REQUEST_URI=/api/?q=";
    size_t pre = strlen(uri);
    memset(uri + pre, 'a', 254); /* "q=" + 254 = 256 bytes of query */
    uri[pre + 254] = '\0';
    const char *v[] = {uri, "HTTP_HOST=example.org", NULL};
    ck_assert_int_eq(init(v), 0);
    ck_assert_uint_eq(R.query_len, 256);
    uri[pre + 254] = 'a';
    uri[pre + 255] = '\0';
    ck_assert_int_eq(init(v), -1);
    ASSERT_FAIL(414, "Request-URI too long.");
}
END_TEST

START_TEST(test_path_errors_400)
{
    static const struct {
        const char *uri;
        const char *detail;
    } cases[] = {
        {"REQUEST_URI=/api/../etc/passwd", "Invalid path."},
        {"REQUEST_URI=/api/%2e%2e/x", "Invalid path."},
        {"REQUEST_URI=/./", "Invalid path."},
        {"REQUEST_URI=api/core/", "Invalid path."},
        {"REQUEST_URI=", "Invalid path."},
        {"REQUEST_URI=?a=1", "Invalid path."},
        {"REQUEST_URI=/api/%0a/", "Invalid path."},
        {"REQUEST_URI=/api/a\\b/", "Invalid path."},
        {"REQUEST_URI=/api/%00/", "Invalid characters in path."},
        {"REQUEST_URI=/api/%ff/", "Invalid characters in path."},
        {"REQUEST_URI=/api/%c0%ae%c0%ae/", "Invalid characters in path."},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *v[] = {cases[i].uri, "HTTP_HOST=example.org", NULL};
        ck_assert_msg(init(v) == -1, "%s accepted", cases[i].uri);
        ASSERT_FAIL(400, cases[i].detail);
    }
}
END_TEST

START_TEST(test_bad_query_400)
{
    const char *v1[] = {"REQUEST_URI=/api/?a=%00", "HTTP_HOST=example.org", NULL};
    ck_assert_int_eq(init(v1), -1);
    ASSERT_FAIL(400, "Invalid query string.");
    const char *v2[] = {"REQUEST_URI=/api/?a=%ff", "HTTP_HOST=example.org", NULL};
    ck_assert_int_eq(init(v2), -1);
    ASSERT_FAIL(400, "Invalid query string.");
    CFG.max_form_fields = 2;
    const char *v3[] = {"REQUEST_URI=/api/?a&b", "HTTP_HOST=example.org", NULL};
    ck_assert_int_eq(init(v3), 0);
    const char *v4[] = {"REQUEST_URI=/api/?a&b&c", "HTTP_HOST=example.org", NULL};
    ck_assert_int_eq(init(v4), -1);
    ASSERT_FAIL(400, "Invalid query string.");
}
END_TEST

/* ---- cookies, headers ------------------------------------------------- */

START_TEST(test_cookies)
{
    const char *v[] = {"REQUEST_URI=/", "HTTP_HOST=example.org",
                       "HTTP_COOKIE=sessionid=abc; csrftoken=\"tok\"; sessionid=evil; x=%41", NULL};
    ck_assert_int_eq(init(v), 0);
    ck_assert_uint_eq(R.ncookies, 4);
    ck_assert_str_eq(ob_request_cookie(&R, "sessionid"), "abc");
    ck_assert_str_eq(ob_request_cookie(&R, "csrftoken"), "tok");
    ck_assert_str_eq(ob_request_cookie(&R, "x"), "%41");
    ck_assert_ptr_null(ob_request_cookie(&R, "django_language"));
    /* Cookies beyond max_cookies are ignored, not an error. */
    CFG.max_cookies = 2;
    ck_assert_int_eq(init(v), 0);
    ck_assert_uint_eq(R.ncookies, 2);
    ck_assert_str_eq(ob_request_cookie(&R, "csrftoken"), "tok");
    ck_assert_ptr_null(ob_request_cookie(&R, "x"));
    /* No Cookie header. */
    const char *v2[] = {"REQUEST_URI=/", "HTTP_HOST=example.org", NULL};
    ck_assert_int_eq(init(v2), 0);
    ck_assert_uint_eq(R.ncookies, 0);
    ck_assert_ptr_null(ob_request_cookie(&R, "sessionid"));
}
END_TEST

START_TEST(test_content_type)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"CONTENT_TYPE=application/json", "application/json"},
        {"CONTENT_TYPE=Application/JSON; charset=UTF-8", "application/json"},
        {"CONTENT_TYPE=text/plain ;charset=x", "text/plain"},
        {"CONTENT_TYPE=multipart/form-data; boundary=xyz", "multipart/form-data"},
        {"CONTENT_TYPE=", NULL},
        {"NO_CONTENT_TYPE=1", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *v[] = {"REQUEST_URI=/", "HTTP_HOST=example.org", cases[i].in, NULL};
        ck_assert_int_eq(init(v), 0);
        if (cases[i].want)
            ck_assert_str_eq(R.content_type, cases[i].want);
        else
            ck_assert_ptr_null(R.content_type);
    }
}
END_TEST

START_TEST(test_content_length)
{
    const char *v1[] = {"REQUEST_URI=/", "HTTP_HOST=example.org", "CONTENT_LENGTH=123", NULL};
    ck_assert_int_eq(init(v1), 0);
    ck_assert_int_eq(R.content_length, 123);
    const char *v2[] = {"REQUEST_URI=/", "HTTP_HOST=example.org", "CONTENT_LENGTH=", NULL};
    ck_assert_int_eq(init(v2), 0);
    ck_assert_int_eq(R.content_length, 0);
    static const char *const bad[] = {"CONTENT_LENGTH=abc", "CONTENT_LENGTH=-1",
                                      "CONTENT_LENGTH=12x", "CONTENT_LENGTH=1 "};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        const char *v[] = {"REQUEST_URI=/", "HTTP_HOST=example.org", bad[i], NULL};
        ck_assert_msg(init(v) == -1, "%s accepted", bad[i]);
        ASSERT_FAIL(400, "Invalid Content-Length.");
    }
}
END_TEST

START_TEST(test_https_and_base_url)
{
    const char *v1[] = {"REQUEST_URI=/", "HTTP_HOST=example.org:8443", "HTTPS=on", NULL};
    ck_assert_int_eq(init(v1), 0);
    ck_assert(R.https);
    ck_assert_str_eq(ob_request_base_url(&R), "https://example.org:8443");
    const char *v2[] = {"REQUEST_URI=/", "HTTP_HOST=example.org", "HTTPS=off", NULL};
    ck_assert_int_eq(init(v2), 0);
    ck_assert(!R.https);
    ck_assert_str_eq(ob_request_base_url(&R), "http://example.org");
    /* X-Forwarded-Proto is believed from a trusted proxy only. */
    const char *v3[] = {"REQUEST_URI=/", "HTTP_HOST=example.org", "REMOTE_ADDR=127.0.0.1",
                        "HTTP_X_FORWARDED_PROTO=https", NULL};
    ck_assert_int_eq(init(v3), 0);
    ck_assert(R.https);
    ck_assert_str_eq(R.remote_addr, "127.0.0.1");
    const char *v4[] = {"REQUEST_URI=/", "HTTP_HOST=example.org", "REMOTE_ADDR=203.0.113.9",
                        "HTTP_X_FORWARDED_PROTO=https", NULL};
    ck_assert_int_eq(init(v4), 0);
    ck_assert(!R.https);
    /* public_base_url wins, without its trailing slashes. */
    ob_free(CFG.public_base_url);
    CFG.public_base_url = ob_strdup("https://books.example.org//");
    ck_assert_int_eq(init(v4), 0);
    ck_assert_str_eq(ob_request_base_url(&R), "https://books.example.org");
}
END_TEST

START_TEST(test_request_param_exact_name)
{
    const char *v[] = {"REQUEST_URI=/", "HTTP_HOSTX=evil.com", "HTTP_HOST=example.org",
                       "HTTP_ACCEPT_LANGUAGE=de", "HTTP_EMPTY=", NULL};
    ck_assert_int_eq(init(v), 0);
    ck_assert_str_eq(ob_request_param(&R, "HTTP_HOST"), "example.org");
    ck_assert_str_eq(ob_request_param(&R, "HTTP_ACCEPT_LANGUAGE"), "de");
    ck_assert_str_eq(ob_request_param(&R, "HTTP_EMPTY"), "");
    ck_assert_ptr_null(ob_request_param(&R, "HTTP_ACCEPT"));
    ck_assert_ptr_null(ob_request_param(&R, "HTTP"));
}
END_TEST

/* ---- ob_request_read_json -------------------------------------------- */

typedef struct {
    const char *data;
    size_t len, pos, chunk;
    int calls;
} fake_io;

static fake_io IO;

static long fake_read(void *io, char *dst, size_t n)
{
    fake_io *f = io;
    f->calls++;
    size_t left = f->len - f->pos;
    if (n > left)
        n = left;
    if (f->chunk && n > f->chunk)
        n = f->chunk;
    memcpy(dst, f->data + f->pos, n);
    f->pos += n;
    return (long)n;
}

/* Initialises a POST with the given body and headers, then reads it.
 * content_length < 0: use the body's length. */
static int post(const char *ctype, const char *data, size_t len, long content_length, size_t chunk)
{
    char cl[64], ct[256];
    snprintf(cl, sizeof cl, "CONTENT_LENGTH=%ld", content_length < 0 ? (long)len : content_length);
    snprintf(ct, sizeof ct, "%s%s", ctype ? "CONTENT_TYPE=" : "NO_TYPE=", ctype ? ctype : "");
    const char *v[] = {"REQUEST_METHOD=POST", "REQUEST_URI=/api/x/", "HTTP_HOST=example.org", cl,
                       ct, NULL};
    ck_assert_int_eq(init(v), 0);
    IO = (fake_io){data, len, 0, chunk, 0};
    R.io = &IO;
    R.read_body = fake_read;
    return ob_request_read_json(&R);
}

static int post_json(const char *text)
{
    return post("application/json", text, strlen(text), -1, 0);
}

START_TEST(test_read_json_ok)
{
    const char *t = "{\"a\": [1, 2], \"b\": \"x\\u00e9\"}";
    ck_assert_int_eq(post_json(t), 0);
    ck_assert_ptr_nonnull(R.json);
    ck_assert(cJSON_IsObject(R.json));
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(R.json, "a")), 2);
    ck_assert_str_eq(cJSON_GetObjectItem(R.json, "b")->valuestring, "x\xc3\xa9");
    ck_assert_uint_eq(R.body_len, strlen(t));
    ck_assert_str_eq(R.body, t);
    ck_assert_int_eq(R.res.status, 200);
}
END_TEST

START_TEST(test_read_json_chunked_and_charset)
{
    const char *t = "  {\"key\": {\"nested\": [true, false, null]}}\n";
    ck_assert_int_eq(post("application/json; charset=utf-8", t, strlen(t), -1, 3), 0);
    ck_assert(cJSON_IsObject(R.json));
    ck_assert_int_ge(IO.calls, (int)(strlen(t) / 3));
    ck_assert_uint_eq(IO.pos, strlen(t));
}
END_TEST

START_TEST(test_read_json_reads_only_content_length)
{
    const char *t = "{}trailing bytes of the next request";
    ck_assert_int_eq(post("application/json", t, strlen(t), 2, 0), 0);
    ck_assert(cJSON_IsObject(R.json));
    ck_assert_uint_eq(IO.pos, 2);
    ck_assert_uint_eq(R.body_len, 2);
}
END_TEST

START_TEST(test_read_json_empty_body)
{
    ck_assert_int_eq(post(NULL, "", 0, 0, 0), 0);
    ck_assert(cJSON_IsObject(R.json));
    ck_assert_int_eq(cJSON_GetArraySize(R.json), 0);
    ck_assert_int_eq(post("application/json", "", 0, 0, 0), 0);
    ck_assert(cJSON_IsObject(R.json));
}
END_TEST

START_TEST(test_read_json_413)
{
    CFG.max_body_bytes = 1024;
    static char big[1025];
    memset(big, ' ', sizeof big);
    big[0] = '{';
    big[1023] = '}';
    ck_assert_int_eq(post("application/json", big, 1024, -1, 0), 0);
    ck_assert_int_eq(post("application/json", big, 1025, -1, 0), -1);
    ASSERT_FAIL(413, "Request body too large.");
    ck_assert_int_eq(IO.calls, 0); /* refused before reading */
    /* The size is checked before the type. */
    ck_assert_int_eq(post("text/plain", big, 1025, -1, 0), -1);
    ck_assert_int_eq(R.res.status, 413);
}
END_TEST

START_TEST(test_read_json_415)
{
    ck_assert_int_eq(post("text/plain", "{}", 2, -1, 0), -1);
    ck_assert_int_eq(R.res.status, 415);
    ck_assert_str_eq(body(), "{\"detail\":\"Unsupported media type \\\"text/plain\\\" in request.\"}");
    ASSERT_FAIL(415, "Unsupported media type \"text/plain\" in request.");
    ck_assert_int_eq(post("Text/Plain; charset=utf-8", "{}", 2, -1, 0), -1);
    ASSERT_FAIL(415, "Unsupported media type \"text/plain\" in request.");
    ck_assert_int_eq(post("application/x-www-form-urlencoded", "a=1", 3, -1, 0), -1);
    ASSERT_FAIL(415, "Unsupported media type \"application/x-www-form-urlencoded\" in request.");
    ck_assert_int_eq(post("application/jsonx", "{}", 2, -1, 0), -1);
    ck_assert_int_eq(R.res.status, 415);
    /* A body without any Content-Type. */
    ck_assert_int_eq(post(NULL, "{}", 2, -1, 0), -1);
    ASSERT_FAIL(415, "Unsupported media type \"\" in request.");
}
END_TEST

static void assert_parse_error(const char *text, size_t len)
{
    ck_assert_int_eq(post("application/json", text, len, -1, 0), -1);
    ck_assert_int_eq(R.res.status, 400);
    const char *d = detail();
    ck_assert_msg(d && strncmp(d, "JSON parse error - ", 19) == 0 && strlen(d) > 19,
                  "input %s gave %s", text, body());
    ck_assert_ptr_null(R.json);
}

START_TEST(test_read_json_malformed)
{
    static const char *const bad[] = {
        "{", "}", "{\"a\": }", "{\"a\" 1}", "{'a': 1}", "{\"a\": 1,}", "nul", "[1, 2",
        "{\"a\": 1} x", "{} {}", "{\"a\": \"\\x\"}", "{\"a\": 01x}", "\"unterminated",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_parse_error(bad[i], strlen(bad[i]));
    /* Invalid UTF-8 and NUL bytes. */
    assert_parse_error("{\"a\": \"\xff\"}", 10);
    assert_parse_error("{\"a\": \"\xc0\xaf\"}", 11);
    assert_parse_error("{\"a\": \"\0\"}", 10);
    assert_parse_error("{}\0", 3);
}
END_TEST

START_TEST(test_read_json_incomplete)
{
    ck_assert_int_eq(post("application/json", "{\"a\"", 4, 10, 0), -1);
    ASSERT_FAIL(400, "Incomplete request body.");
    /* No reader at all. */
    const char *v[] = {"REQUEST_URI=/", "HTTP_HOST=example.org", "CONTENT_LENGTH=5",
                       "CONTENT_TYPE=application/json", NULL};
    ck_assert_int_eq(init(v), 0);
    ck_assert_int_eq(ob_request_read_json(&R), -1);
    ASSERT_FAIL(400, "Incomplete request body.");
}
END_TEST

static void assert_not_object(const char *text, const char *type)
{
    ck_assert_int_eq(post_json(text), -1);
    ck_assert_int_eq(R.res.status, 400);
    char want[128];
    snprintf(want, sizeof want,
             "{\"non_field_errors\":[\"Invalid data. Expected a dictionary, but got %s.\"]}", type);
    ck_assert_msg(strcmp(body(), want) == 0, "%s gave %s", text, body());
    ck_assert_ptr_null(R.json);
}

START_TEST(test_read_json_not_an_object)
{
    assert_not_object("[1, 2]", "list");
    assert_not_object("[]", "list");
    assert_not_object("\"text\"", "str");
    assert_not_object("42", "int");
    assert_not_object("-7", "int");
    assert_not_object("2.5", "float");
    assert_not_object("true", "bool");
    assert_not_object("false", "bool");
    assert_not_object("null", "NoneType");
}
END_TEST

START_TEST(test_read_json_huge_numbers_not_object)
{
    /* Numbers beyond the range of long long are floats; deciding so must
     * not convert them to an integer type first (undefined behaviour,
     * caught by clang's -fsanitize=float-cast-overflow). */
    assert_not_object("1e300", "float");
    assert_not_object("-1e300", "float");
    assert_not_object("1e19", "float");
    assert_not_object("1e999", "float");
}
END_TEST

START_TEST(test_read_json_too_deep)
{
    CFG.max_json_depth = 4;
    ck_assert_int_eq(post_json("{\"a\": [[[1]]]}"), 0);
    const char *five = "{\"a\": [[[[1]]]]}"; /* valid JSON, depth 5 */
    assert_parse_error(five, strlen(five));
    /* Brackets inside strings do not count. */
    ck_assert_int_eq(post_json("{\"a\": \"[[[[[[[[[[\"}"), 0);
    /* The default limit keeps a hostile body away from cJSON's recursion. */
    CFG.max_json_depth = 64;
    static char deep[20001];
    memset(deep, '[', 10000);
    memset(deep + 10000, ']', 10000);
    assert_parse_error(deep, 20000);
    memset(deep, '[', 64);
    memset(deep + 64, ']', 64);
    deep[128] = '\0';
    assert_not_object(deep, "list");
}
END_TEST

Suite *request_suite(void)
{
    Suite *s = suite_create("request");
    TCase *tc = tcase_create("init");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_method);
    tcase_add_test(tc, test_host_accepted);
    tcase_add_test(tc, test_host_rejected);
    tcase_add_test(tc, test_request_id);
    tcase_add_test(tc, test_host_checked_before_path);
    tcase_add_test(tc, test_path_and_query);
    tcase_add_test(tc, test_no_query);
    tcase_add_test(tc, test_uri_from_script_name_and_path_info);
    tcase_add_test(tc, test_query_too_long_414);
    tcase_add_test(tc, test_path_errors_400);
    tcase_add_test(tc, test_bad_query_400);
    tcase_add_test(tc, test_cookies);
    tcase_add_test(tc, test_content_type);
    tcase_add_test(tc, test_content_length);
    tcase_add_test(tc, test_https_and_base_url);
    tcase_add_test(tc, test_request_param_exact_name);
    suite_add_tcase(s, tc);

    tc = tcase_create("read_json");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_read_json_ok);
    tcase_add_test(tc, test_read_json_chunked_and_charset);
    tcase_add_test(tc, test_read_json_reads_only_content_length);
    tcase_add_test(tc, test_read_json_empty_body);
    tcase_add_test(tc, test_read_json_413);
    tcase_add_test(tc, test_read_json_415);
    tcase_add_test(tc, test_read_json_malformed);
    tcase_add_test(tc, test_read_json_incomplete);
    tcase_add_test(tc, test_read_json_not_an_object);
    tcase_add_test(tc, test_read_json_huge_numbers_not_object);
    tcase_add_test(tc, test_read_json_too_deep);
    suite_add_tcase(s, tc);
    return s;
}
