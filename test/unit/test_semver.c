/* test_semver.c - versions of libraries.md §1: semver parsing, precedence,
 * the sort key SQL orders by, and dependency expressions. */
#include <stdlib.h>
#include <string.h>
#include "openbook/files/semver.h"
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

static bool valid(const char *s)
{
    ob_semver v;
    return ob_semver_parse(s, strlen(s), &v);
}

static ob_semver V(const char *s)
{
    ob_semver v;
    ck_assert_msg(ob_semver_parse(s, strlen(s), &v), "%s should parse", s);
    return v;
}

START_TEST(test_parse_valid)
{
    const char *ok[] = {"0.0.0", "1.2.3", "10.20.30", "1.0.0-alpha", "1.0.0-alpha.1",
                        "1.0.0-0.3.7", "1.0.0-x.7.z.92", "1.0.0-x-y-z.--", "1.0.0+20130313144700",
                        "1.0.0-beta+exp.sha.5114f85", "1.0.0+21AF26D3----117B344092BD",
                        "1.0.0-pre1", "1.0.0+001", "99999999999999999999.0.0"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        ck_assert_msg(valid(ok[i]), "%s", ok[i]);
    ob_semver v = V("1.22.333-rc.1+build.7");
    ck_assert_int_eq(v.major_len, 1);
    ck_assert_int_eq(v.minor_len, 2);
    ck_assert_int_eq(v.patch_len, 3);
    ck_assert(v.pre_len == 4 && memcmp(v.pre, "rc.1", 4) == 0);
    ck_assert(v.build_len == 7 && memcmp(v.build, "build.7", 7) == 0);
    v = V("1.0.0");
    ck_assert_ptr_null(v.pre);
    ck_assert_ptr_null(v.build);
}
END_TEST

START_TEST(test_parse_invalid)
{
    const char *bad[] = {"", "1", "1.2", "1.2.3.4", "01.1.1", "1.01.1", "1.1.01", "1.2.3-",
                         "1.2.3+", "1.2.3-01", "1.2.3-a..b", "1.2.3-a.", "1.2.3+a..b",
                         "1.2.3-a_b", "v1.2.3", " 1.2.3", "1.2.3 ", "1.2.3-+", "+1.2.3",
                         "1.2.-3", "a.b.c", "1.2.3-\xc3\xa4", "1..2.3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(!valid(bad[i]), "\"%s\" should be refused", bad[i]);
    ck_assert(!ob_semver_parse("1.2.3\0", 6, &(ob_semver){0}));
    /* At most 50 characters. */
    char s[64];
    memset(s, '1', sizeof s);
    memcpy(s, "1.0.0-", 6);
    ck_assert(ob_semver_parse(s, OB_SEMVER_MAX, &(ob_semver){0}));
    ck_assert(!ob_semver_parse(s, OB_SEMVER_MAX + 1, &(ob_semver){0}));
}
END_TEST

/* semver.org §11's example chain, plus numbers past 9 and build metadata. */
static const char *const ascending[] = {
    "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
    "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.0+build.1", "1.0.0+build.2", "1.2.0",
    "1.10.0", "2.0.0", "9.0.0", "10.0.0", "10.0.1-0", "10.0.1-9", "10.0.1-10", "10.0.1-A",
    "10.0.1-a", "10.0.1"};
#define NASC (sizeof ascending / sizeof ascending[0])

START_TEST(test_precedence)
{
    for (size_t i = 0; i < NASC; i++) {
        ob_semver a = V(ascending[i]);
        ck_assert_int_eq(ob_semver_order(&a, &a), 0);
        for (size_t j = i + 1; j < NASC; j++) {
            ob_semver b = V(ascending[j]);
            ck_assert_msg(ob_semver_order(&a, &b) < 0, "%s < %s", ascending[i], ascending[j]);
            ck_assert_msg(ob_semver_order(&b, &a) > 0, "%s > %s", ascending[j], ascending[i]);
        }
    }
    /* Build metadata does not count for precedence, only for the order. */
    ob_semver x = V("1.0.0+a"), y = V("1.0.0+b"), z = V("1.0.0");
    ck_assert_int_eq(ob_semver_cmp(&x, &y), 0);
    ck_assert_int_eq(ob_semver_cmp(&x, &z), 0);
    ck_assert_int_lt(ob_semver_order(&x, &y), 0);
    /* The original compared strings: 10.0.0 sorted before 9.0.0. */
    ob_semver nine = V("9.0.0"), ten = V("10.0.0");
    ck_assert_int_gt(ob_semver_cmp(&ten, &nine), 0);
}
END_TEST

static int key_cmp(const unsigned char *a, size_t an, const unsigned char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    return c ? c : (an > bn) - (an < bn);
}

START_TEST(test_sort_key_orders_like_precedence)
{
    unsigned char ka[OB_SEMVER_KEY_MAX], kb[OB_SEMVER_KEY_MAX];
    for (size_t i = 0; i < NASC; i++) {
        ob_semver a = V(ascending[i]);
        size_t an = ob_semver_sort_key(&a, ka);
        ck_assert_uint_le(an, OB_SEMVER_KEY_MAX);
        for (size_t j = 0; j < NASC; j++) {
            ob_semver b = V(ascending[j]);
            size_t bn = ob_semver_sort_key(&b, kb);
            int want = (i > j) - (i < j);
            int got = key_cmp(ka, an, kb, bn);
            ck_assert_msg((got > 0) - (got < 0) == want, "key order of %s and %s", ascending[i],
                          ascending[j]);
        }
    }
    /* The longest version still fits. */
    const char *longest = "1.0.0-a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v";
    ck_assert_uint_le(strlen(longest), OB_SEMVER_MAX);
    ob_semver l = V(longest);
    ck_assert_uint_le(ob_semver_sort_key(&l, ka), OB_SEMVER_KEY_MAX);
}
END_TEST

START_TEST(test_sort_key_text)
{
    ob_semver v = V("1.0.0");
    /* 01 '1' 01 '0' 01 '0', release 02, then the string. */
    ck_assert_str_eq(ob_semver_sort_key_text(&A, &v), "\\x01310130013002312e302e30");
    ob_semver p = V("1.0.0-rc.1");
    ck_assert_str_eq(ob_semver_sort_key_text(&A, &p),
                     "\\x0131013001300102726300010131"
                     "00312e302e302d72632e31");
}
END_TEST

static bool expr_ok(const char *e)
{
    ob_version_expr x;
    return ob_version_expr_parse(&A, e, strlen(e), &x);
}

static bool matches(const char *e, const char *v)
{
    ob_version_expr x;
    ck_assert_msg(ob_version_expr_parse(&A, e, strlen(e), &x), "%s should parse", e);
    ob_semver sv = V(v);
    return ob_version_expr_match(&x, &sv);
}

START_TEST(test_expr_syntax)
{
    const char *ok[] = {"", "   ", "*", " * ", "1.0.0", "==1.0.0", ">= 1.0.0", ">=1.2.0, <2.0.0",
                        "!=1.0.0-rc.1", "<=2.0.0", ">0.1.0,<0.2.0", " >= 1.0.0 , < 2.0.0 "};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        ck_assert_msg(expr_ok(ok[i]), "\"%s\"", ok[i]);
    const char *bad[] = {"1,2,3", "+1.2.3", "@1.0.0", "1.0", ">=1.0.0,", ",1.0.0", "=1.0.0",
                         "=> 1.0.0", ">= >= 1.0.0", "**", "^1.0.0", "~1.0.0", "1.0.0 || 2.0.0",
                         ">=1.0.0 <2.0.0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(!expr_ok(bad[i]), "\"%s\" should be refused", bad[i]);
    char big[OB_VERSION_EXPR_MAX + 2];
    memset(big, ' ', sizeof big);
    ck_assert(ob_version_expr_parse(&A, big, OB_VERSION_EXPR_MAX, &(ob_version_expr){0}));
    ck_assert(!ob_version_expr_parse(&A, big, OB_VERSION_EXPR_MAX + 1, &(ob_version_expr){0}));
}
END_TEST

START_TEST(test_expr_match)
{
    ck_assert(matches("", "0.0.1"));
    ck_assert(matches("*", "99.0.0-x"));
    ck_assert(matches("1.0.0", "1.0.0"));
    ck_assert(matches("1.0.0", "1.0.0+build"));
    ck_assert(!matches("1.0.0", "1.0.1"));
    ck_assert(matches("!=1.0.0", "1.0.1"));
    ck_assert(!matches("!=1.0.0", "1.0.0"));
    ck_assert(matches(">= 1.0.0", "10.0.0"));
    ck_assert(!matches(">= 1.0.0", "1.0.0-rc.1"));
    ck_assert(matches(">=1.2.0, <2.0.0", "1.9.9"));
    ck_assert(!matches(">=1.2.0, <2.0.0", "2.0.0"));
    ck_assert(matches(">=1.2.0, <2.0.0", "2.0.0-alpha"));
    ck_assert(!matches(">=1.2.0, <2.0.0", "1.1.9"));
    ck_assert(matches(">1.0.0", "1.0.1"));
    ck_assert(!matches(">1.0.0", "1.0.0"));
    ck_assert(matches("<=1.0.0", "1.0.0"));
}
END_TEST

Suite *semver_suite(void)
{
    Suite *s = suite_create("semver");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_parse_valid);
    tcase_add_test(tc, test_parse_invalid);
    tcase_add_test(tc, test_precedence);
    tcase_add_test(tc, test_sort_key_orders_like_precedence);
    tcase_add_test(tc, test_sort_key_text);
    tcase_add_test(tc, test_expr_syntax);
    tcase_add_test(tc, test_expr_match);
    suite_add_tcase(s, tc);
    return s;
}
