/* test_cache.c - the response cache (ob_cache) and the keys the API reads
 * are kept under (ob_read_cache_answer / ob_read_cache_keep). */
#include <stdio.h>
#include <string.h>
#include "openbook/core/alloc.h"
#include "openbook/auth/auth.h"
#include "openbook/core/cache.h"
#include "openbook/core/config.h"
#include "openbook/http/http.h"
#include "openbook/api/read_cache.h"
#include "tests.h"

#define MS 1000000LL

static ob_generation *G;
static ob_cache *C;

static void setup(void)
{
    G = ob_generation_new_shared();
    ck_assert_ptr_nonnull(G);
    C = ob_cache_new(64 * 1024, 1000, G);
}

static void teardown(void)
{
    ob_cache_free(C);
    C = NULL;
}

static void put(const char *key, const char *body, int64_t now)
{
    ob_cached v = {.status = 200, .body = body, .body_len = strlen(body)};
    ob_cache_put(C, key, strlen(key), ob_cache_generation(C), now, &v);
}

/* The body stored under key at time now, or NULL. */
static const char *get(const char *key, int64_t now)
{
    static char out[1024];
    ob_cached v;
    if (!ob_cache_get(C, key, strlen(key), now, &v))
        return NULL;
    snprintf(out, sizeof out, "%.*s", (int)v.body_len, v.body);
    return out;
}

START_TEST(keeps_every_part)
{
    ob_cached v = {.status = 200,
                   .content_type = "application/yaml",
                   .headers = "Link: x\r\n",
                   .headers_len = 9,
                   .body = "{\"a\":1}",
                   .body_len = 7};
    ob_cache_put(C, "k", 1, ob_cache_generation(C), 0, &v);
    ob_cached got;
    ck_assert(ob_cache_get(C, "k", 1, 10, &got));
    ck_assert_int_eq(got.status, 200);
    ck_assert_str_eq(got.content_type, "application/yaml");
    ck_assert_uint_eq(got.headers_len, 9);
    ck_assert_int_eq(memcmp(got.headers, "Link: x\r\n", 9), 0);
    ck_assert_uint_eq(got.body_len, 7);
    ck_assert_int_eq(memcmp(got.body, "{\"a\":1}", 7), 0);
    ck_assert(!ob_cache_get(C, "K", 1, 10, &got));
    ck_assert(!ob_cache_get(C, "k2", 2, 10, &got));
}
END_TEST

START_TEST(a_change_empties_it)
{
    put("a", "1", 0);
    put("b", "2", 0);
    ck_assert_str_eq(get("a", 1), "1");
    ob_generation_bump(G); /* what a worker does when PostgreSQL announces a change */
    ck_assert_ptr_null(get("a", 2));
    ck_assert_ptr_null(get("b", 2));
    ob_cache_stats s;
    ob_cache_get_stats(C, &s);
    ck_assert_uint_eq(s.entries, 0);
    ck_assert_uint_eq(s.bytes, 0);
    ck_assert_uint_eq(s.flushes, 1);
    put("a", "3", 3);
    ck_assert_str_eq(get("a", 4), "3");
}
END_TEST

START_TEST(an_answer_built_across_a_change_is_not_kept)
{
    uint64_t gen = ob_cache_generation(C); /* read when the request started */
    ob_generation_bump(G);                 /* a write committed meanwhile */
    ob_cached v = {.status = 200, .body = "old", .body_len = 3};
    ob_cache_put(C, "k", 1, gen, 0, &v);
    ck_assert_ptr_null(get("k", 1));
}
END_TEST

START_TEST(entries_age_out)
{
    put("k", "v", 0);
    ck_assert_str_eq(get("k", 999 * MS), "v");
    ck_assert_ptr_null(get("k", 1000 * MS));
    ob_cache_stats s;
    ob_cache_get_stats(C, &s);
    ck_assert_uint_eq(s.entries, 0); /* dropped, not just skipped */
}
END_TEST

START_TEST(bounded_in_bytes_oldest_first)
{
    char body[2000];
    memset(body, 'x', sizeof body - 1);
    body[sizeof body - 1] = '\0';
    char key[16];
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof key, "k%d", i);
        put(key, body, i);
    }
    ob_cache_stats s;
    ob_cache_get_stats(C, &s);
    ck_assert_uint_le(s.bytes, 64 * 1024);
    ck_assert_uint_gt(s.evictions, 0);
    ck_assert_ptr_null(get("k0", 200));      /* the oldest went first */
    ck_assert_ptr_nonnull(get("k99", 200));  /* the newest stayed */
}
END_TEST

START_TEST(too_large_is_not_kept)
{
    static char big[64 * 1024 / 8 + 1];
    memset(big, 'x', sizeof big - 1);
    put("big", big, 0);
    ck_assert_ptr_null(get("big", 1));
}
END_TEST

START_TEST(replacing_keeps_one_entry)
{
    put("k", "one", 0);
    put("k", "two", 1);
    ck_assert_str_eq(get("k", 2), "two");
    ob_cache_stats s;
    ob_cache_get_stats(C, &s);
    ck_assert_uint_eq(s.entries, 1);
}
END_TEST

START_TEST(zero_age_keeps_nothing)
{
    ob_cache *c = ob_cache_new(1024, 0, G);
    ob_cached v = {.status = 200, .body = "v", .body_len = 1};
    ob_cache_put(c, "k", 1, ob_cache_generation(c), 0, &v);
    ob_cached got;
    ck_assert(!ob_cache_get(c, "k", 1, 0, &got));
    ob_cache_free(c);
}
END_TEST

/* ---- keys of the API reads ---- */

static ob_arena A;
static ob_config CFG;

static void req_setup(void)
{
    setup();
    ob_arena_init(&A, 4096);
    ob_config_defaults(&CFG);
    CFG.development = true;
    CFG.allowed_hosts.items = ob_calloc(1, sizeof(char *));
    CFG.allowed_hosts.items[0] = ob_strdup("*");
    CFG.allowed_hosts.count = 1;
}

static void req_teardown(void)
{
    ob_arena_destroy(&A);
    ob_config_free(&CFG);
    teardown();
}

/* Runs one read of uri as user (0 = anonymous) through the cache: returns
 * true if it was answered from the cache; otherwise "builds" an answer
 * whose body names the request and keeps it. */
static bool read_once(ob_request *r, const char *method, const char *uri, const char *host,
                      int64_t user, const char *lang)
{
    char m[32], u[256], h[64];
    snprintf(m, sizeof m, "REQUEST_METHOD=%s", method);
    snprintf(u, sizeof u, "REQUEST_URI=%s", uri);
    snprintf(h, sizeof h, "HTTP_HOST=%s", host);
    const char *const vars[] = {m, u, h, "REMOTE_ADDR=127.0.0.1", NULL};
    memset(r, 0, sizeof *r);
    ck_assert_int_eq(ob_request_init(r, &A, &CFG, test_env(&A, vars)), 0);
    r->cache = C;
    r->language = lang;
    if (user) {
        ob_user *usr = ob_arena_calloc(&A, 1, sizeof *usr);
        usr->id = user;
        r->user = usr;
    }
    if (ob_read_cache_answer(r))
        return true;
    ob_json *j = ob_json_response(r, 200);
    ob_json_string(j, uri);
    ob_read_cache_keep(r);
    return false;
}

START_TEST(keys_tell_requests_apart)
{
    ob_request r;
    ck_assert(!read_once(&r, "GET", "/api/x/?a=1", "h.test", 0, "en"));
    ck_assert(read_once(&r, "GET", "/api/x/?a=1", "h.test", 0, "en"));
    ck_assert(r.cache_hit);
    ck_assert_str_eq(ob_buf_cstr(&r.res.body), "\"/api/x/?a=1\"");
    ck_assert(read_once(&r, "HEAD", "/api/x/?a=1", "h.test", 0, "en")); /* same answer */
    /* Anything that changes the answer changes the key. */
    ck_assert(!read_once(&r, "GET", "/api/x/?a=2", "h.test", 0, "en"));
    ck_assert(!read_once(&r, "GET", "/api/y/?a=1", "h.test", 0, "en"));
    ck_assert(!read_once(&r, "GET", "/api/x/?a=1", "h.test", 7, "en"));
    ck_assert(!read_once(&r, "GET", "/api/x/?a=1", "h.test", 8, "en"));
    ck_assert(!read_once(&r, "GET", "/api/x/?a=1", "h.test", 0, "de"));
    ck_assert(!read_once(&r, "GET", "/api/x/?a=1", "other.test", 0, "en")); /* links */
    ck_assert(read_once(&r, "GET", "/api/x/?a=1", "h.test", 7, "en"));
}
END_TEST

START_TEST(only_successful_reads_are_kept)
{
    ob_request r;
    ck_assert(!read_once(&r, "GET", "/api/z/", "h.test", 0, "en"));
    /* A 404 built on a miss is not kept. */
    memset(&r, 0, sizeof r);
    const char *const vars[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/api/nf/", "HTTP_HOST=h.test",
                                "REMOTE_ADDR=127.0.0.1", NULL};
    ck_assert_int_eq(ob_request_init(&r, &A, &CFG, test_env(&A, vars)), 0);
    r.cache = C;
    ck_assert(!ob_read_cache_answer(&r));
    ob_fail(&r, 404, "Not found.");
    ob_read_cache_keep(&r);
    memset(&r, 0, sizeof r);
    ck_assert_int_eq(ob_request_init(&r, &A, &CFG, test_env(&A, vars)), 0);
    r.cache = C;
    ck_assert(!ob_read_cache_answer(&r));
    /* Writes never use it. */
    ck_assert(!read_once(&r, "POST", "/api/z/", "h.test", 0, "en"));
    ck_assert(!read_once(&r, "POST", "/api/z/", "h.test", 0, "en"));
}
END_TEST

/* A read whose answer is large enough to be compressed, by a client that
 * sends Accept-Encoding ae (NULL: none). */
static bool read_big(ob_request *r, const char *ae)
{
    char e[64];
    snprintf(e, sizeof e, "HTTP_ACCEPT_ENCODING=%s", ae ? ae : "");
    const char *const vars[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/api/big/", "HTTP_HOST=h.test",
                                "REMOTE_ADDR=127.0.0.1", ae ? e : NULL, NULL};
    memset(r, 0, sizeof *r);
    ck_assert_int_eq(ob_request_init(r, &A, &CFG, test_env(&A, vars)), 0);
    r->cache = C;
    r->language = "en";
    if (ob_read_cache_answer(r))
        return true;
    ob_json *j = ob_json_response(r, 200);
    ob_json_array_begin(j);
    for (int i = 0; i < 100; i++) /* 3.7 KB: over gzip_min_bytes, under 64 KiB / 8 */
        ob_json_string(j, "a repeated link to some other item");
    ob_json_array_end(j);
    ob_read_cache_keep(r);
    return false;
}

START_TEST(gzip_and_identity_are_kept_apart)
{
    ob_request r;
    /* The gzip answer is kept compressed, and served so. */
    ck_assert(!read_big(&r, "gzip, deflate, br"));
    ck_assert(r.res.gzip);
    size_t zlen = r.res.body.len;
    ck_assert(read_big(&r, "gzip"));
    ck_assert(r.res.gzip);
    ck_assert_uint_eq(r.res.body.len, zlen);
    /* A client without gzip gets its own, plain entry. */
    ck_assert(!read_big(&r, NULL));
    ck_assert(!r.res.gzip);
    size_t plain = r.res.body.len;
    ck_assert_uint_gt(plain, zlen);
    ck_assert(read_big(&r, "identity"));
    ck_assert(!r.res.gzip);
    ck_assert_uint_eq(r.res.body.len, plain);
    ck_assert(read_big(&r, "gzip;q=0, br"));
    ck_assert(!r.res.gzip);
}
END_TEST

Suite *cache_suite(void)
{
    Suite *s = suite_create("cache");
    TCase *t = tcase_create("cache");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, keeps_every_part);
    tcase_add_test(t, a_change_empties_it);
    tcase_add_test(t, an_answer_built_across_a_change_is_not_kept);
    tcase_add_test(t, entries_age_out);
    tcase_add_test(t, bounded_in_bytes_oldest_first);
    tcase_add_test(t, too_large_is_not_kept);
    tcase_add_test(t, replacing_keeps_one_entry);
    tcase_add_test(t, zero_age_keeps_nothing);
    suite_add_tcase(s, t);
    TCase *k = tcase_create("read keys");
    tcase_add_checked_fixture(k, req_setup, req_teardown);
    tcase_add_test(k, keys_tell_requests_apart);
    tcase_add_test(k, only_successful_reads_are_kept);
    tcase_add_test(k, gzip_and_identity_are_kept_apart);
    suite_add_tcase(s, k);
    return s;
}
