/* test_auth_input.c - account input checks (validate.c), the rate limiter's
 * in-process fallback (ratelimit.c) and the session/CSRF cookies
 * (session.c) where no database is needed. */
#include <stdio.h>
#include <string.h>
#include "openbook/core/alloc.h"
#include "openbook/auth/auth.h"
#include "openbook/core/config.h"
#include "openbook/auth/ratelimit.h"
#include "openbook/auth/session.h"
#include "openbook/http/validate.h"
#include "tests.h"

static bool email(const char *s)
{
    return ob_valid_email(s, strlen(s));
}

START_TEST(test_email)
{
    ck_assert(email("alice@example.org"));
    ck_assert(email("a.b+tag@sub.example.co"));
    ck_assert(email("x_y-z!#$%&'*+/=?^`{|}~@host-1.example.com"));
    ck_assert(!email(""));
    ck_assert(!email("alice"));
    ck_assert(!email("alice@"));
    ck_assert(!email("@example.org"));
    ck_assert(!email("alice@localhost"));
    ck_assert(!email("alice@example.o"));
    ck_assert(!email("alice@example.org-"));
    ck_assert(!email("alice@-example.org"));
    ck_assert(!email("alice@exa_mple.org"));
    ck_assert(!email(".alice@example.org"));
    ck_assert(!email("al..ice@example.org"));
    ck_assert(!email("alice.@example.org"));
    ck_assert(!email("al ice@example.org"));
    ck_assert(!email("alice@exam ple.org"));
    ck_assert(!email("a@b@example.org"));
    ck_assert(!email("älice@example.org"));
    ck_assert(!ob_valid_email("a@example.org\0x", 15));
    char big[300];
    memset(big, 'a', sizeof big);
    memcpy(big + 240, "@example.org", 13);
    ck_assert(!email(big)); /* over 254 */
}
END_TEST

START_TEST(test_username)
{
    ck_assert(ob_valid_username_chars("alice.b+c-d_e@f", 15));
    ck_assert(!ob_valid_username_chars("alice b", 7));
    ck_assert(!ob_valid_username_chars("alïce", strlen("alïce")));
    ck_assert(!ob_valid_username_chars("a/b", 3));
    ck_assert_uint_eq(ob_utf8_count("alïce", strlen("alïce")), 5);
}
END_TEST

START_TEST(test_code_normalize)
{
    char out[OB_LOGIN_CODE_LEN + 1];
    ck_assert_uint_eq(ob_login_code_normalize("bcdf-ghjk", 9, out), 8);
    ck_assert_str_eq(out, "BCDFGHJK");
    ck_assert_uint_eq(ob_login_code_normalize(" B C D F . G H J K ", 19, out), 8);
    ck_assert_str_eq(out, "BCDFGHJK");
    ck_assert_uint_eq(ob_login_code_normalize("BCD", 3, out), 3);
    ck_assert_uint_eq(ob_login_code_normalize("BCDFGHJKL", 9, out), OB_LOGIN_CODE_LEN + 1);
    ck_assert_uint_eq(ob_login_code_normalize("", 0, out), 0);
}
END_TEST

static const char *bad(ob_arena *a, const char *json)
{
    return ob_json_bad_string_member(a, json, strlen(json));
}

START_TEST(test_bad_string_member)
{
    ob_arena a;
    ob_arena_init(&a, 1024);
    ck_assert_ptr_null(bad(&a, "{\"username\": \"alice\", \"password\": \"x\"}"));
    ck_assert_str_eq(bad(&a, "{\"username\": \"a\\u0000b\"}"), "username");
    ck_assert_str_eq(bad(&a, "{\"a\": 1, \"b\": [1, {\"c\": \"x\"}], \"pw\": \"\\u0000\"}"), "pw");
    ck_assert_str_eq(bad(&a, "{\"email\": \"\xff\"}"), "email");
    ck_assert_str_eq(bad(&a, "{\"email\": \"a\tb\"}"), "email");
    ck_assert_ptr_null(bad(&a, "{\"a\": \"\\\\u0000\"}")); /* an escaped backslash */
    ck_assert_ptr_null(bad(&a, "[\"\\u0000\"]"));
    ck_assert_ptr_null(bad(&a, "{\"a\": \"unterminated"));
    ck_assert_ptr_null(bad(&a, ""));
    ob_arena_destroy(&a);
}
END_TEST

/* ---- rate limits without Redis: the conservative in-process count ---- */

static ob_config CFG;
static ob_arena A;
static ob_request R;

static void setup(void)
{
    ob_config_defaults(&CFG);
    ob_arena_init(&A, 4096);
    memset(&R, 0, sizeof R);
    R.arena = &A;
    R.cfg = &CFG;
    ob_response_init(&R.res, &A);
    ob_ratelimit_reset_local();
}

static void teardown(void)
{
    ob_arena_destroy(&A);
    ob_config_free(&CFG);
}

START_TEST(test_ratelimit_fallback)
{
    CFG.workers = 2; /* each worker gets half of the limit */
    static const ob_rate rate = {"test", 6, 60, false};
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(ob_ratelimit_hit(&R, &rate, "k"), 0);
    long wait = ob_ratelimit_hit(&R, &rate, "k");
    ck_assert_int_gt(wait, 0);
    ck_assert_int_le(wait, 60);
    ck_assert_int_eq(ob_ratelimit_hit(&R, &rate, "other"), 0);
    /* An undo gives one event back: "k" stays over its limit of 3 after
     * one of its 4, and is within it after two. */
    ob_ratelimit_undo(&R, &rate, "k");
    ck_assert_int_gt(ob_ratelimit_hit(&R, &rate, "k"), 0);
    ob_ratelimit_undo(&R, &rate, "k");
    ob_ratelimit_undo(&R, &rate, "k");
    ck_assert_int_eq(ob_ratelimit_hit(&R, &rate, "k"), 0);
    /* Never below 0, never a counter of its own. */
    ob_ratelimit_undo(&R, &rate, "fresh");
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(ob_ratelimit_hit(&R, &rate, "fresh"), 0);
    ck_assert_int_gt(ob_ratelimit_hit(&R, &rate, "fresh"), 0);
    static const ob_rate one = {"one", 1, 60, false};
    CFG.workers = 8; /* never below 1 */
    ck_assert_int_eq(ob_ratelimit_hit(&R, &one, "k"), 0);
    ck_assert_int_gt(ob_ratelimit_hit(&R, &one, "k"), 0);
}
END_TEST

START_TEST(test_ratelimit_many_keys)
{
    /* More keys than slots: eviction keeps it working, never crashing. */
    static const ob_rate rate = {"many", 1000, 60, false};
    char key[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "key%d", i);
        ck_assert_int_eq(ob_ratelimit_hit(&R, &rate, key), 0);
    }
}
END_TEST

/* ---- cookies ---- */

static const char *headers(void)
{
    return R.res.headers.data ? R.res.headers.data : "";
}

START_TEST(test_csrf_cookie)
{
    CFG.cookie_secure = true;
    ob_csrf_cookie(&R, false);
    const char *h = headers();
    ck_assert_ptr_nonnull(strstr(h, "Set-Cookie: csrftoken="));
    ck_assert_ptr_nonnull(strstr(h, "Max-Age=31449600; Path=/; SameSite=Lax"));
    ck_assert_ptr_nonnull(strstr(h, "; Secure"));
    ck_assert_ptr_null(strstr(h, "HttpOnly"));
    const char *v = strstr(h, "csrftoken=") + 10;
    ck_assert_uint_eq(strcspn(v, ";"), 32);
    /* Only once per response. */
    size_t len = R.res.headers.len;
    ob_csrf_cookie(&R, true);
    ck_assert_uint_eq(R.res.headers.len, len);
}
END_TEST

START_TEST(test_csrf_cookie_present)
{
    static ob_kv kv[] = {{"csrftoken", "abcdefghijABCDEFGHIJ0123456789xy", 9, 32}};
    R.cookies = kv;
    R.ncookies = 1;
    ob_csrf_cookie(&R, false);
    ck_assert_uint_eq(R.res.headers.len, 0);
    ob_csrf_cookie(&R, true); /* login: a new secret */
    ck_assert_ptr_nonnull(strstr(headers(), "Set-Cookie: csrftoken="));
}
END_TEST

START_TEST(test_logout_cookie)
{
    CFG.cookie_secure = false;
    ob_free(CFG.cookie_domain);
    CFG.cookie_domain = ob_strdup("example.org");
    ck_assert_int_eq(ob_session_end(&R, false), 0); /* no session: no query */
    const char *h = headers();
    ck_assert_ptr_nonnull(strstr(h, "Set-Cookie: sessionid=\"\"; expires=Thu, 01 Jan 1970 00:00:00 GMT; "
                                    "Max-Age=0; Path=/; SameSite=Lax; HttpOnly; Domain=example.org"));
    ck_assert_ptr_null(strstr(h, "Secure"));
    ob_buf_reset(&R.res.headers);
    R.https = true; /* over HTTPS, Secure even in development */
    ob_session_end(&R, false);
    ck_assert_ptr_nonnull(strstr(headers(), "; Secure"));
    ob_buf_reset(&R.res.headers);
    ob_session_end(&R, true); /* app clients have no cookie */
    ck_assert_uint_eq(R.res.headers.len, 0);
}
END_TEST

Suite *auth_input_suite(void)
{
    Suite *s = suite_create("auth_input");
    TCase *tc = tcase_create("validate");
    tcase_add_test(tc, test_email);
    tcase_add_test(tc, test_username);
    tcase_add_test(tc, test_code_normalize);
    tcase_add_test(tc, test_bad_string_member);
    suite_add_tcase(s, tc);
    TCase *rl = tcase_create("ratelimit_cookies");
    tcase_add_checked_fixture(rl, setup, teardown);
    tcase_add_test(rl, test_ratelimit_fallback);
    tcase_add_test(rl, test_ratelimit_many_keys);
    tcase_add_test(rl, test_csrf_cookie);
    tcase_add_test(rl, test_csrf_cookie_present);
    tcase_add_test(rl, test_logout_cookie);
    suite_add_tcase(s, rl);
    return s;
}
