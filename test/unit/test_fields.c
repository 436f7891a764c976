/* test_fields.c - field validators and duration arithmetic (fields.h):
 * slugs, URLs, colours, enrolment durations with calendar months
 * (permissions.md §8), and the datetime-to-microseconds helper of the
 * write machinery. */
#include <string.h>
#include "openbook/http/fields.h"
#include "openbook/api/resource.h"
#include "tests.h"

#define S(x) (x), strlen(x)

START_TEST(test_slug)
{
    ck_assert(ob_valid_slug(S("web-dev_2")));
    ck_assert(ob_valid_slug(S("A")));
    ck_assert(!ob_valid_slug(S("")));
    ck_assert(!ob_valid_slug(S("a b")));
    ck_assert(!ob_valid_slug(S("a.b")));
    ck_assert(!ob_valid_slug(S("\xc3\xa4")));
    ck_assert(!ob_valid_slug("ab\0c", 4));
}
END_TEST

START_TEST(test_color)
{
    ck_assert(ob_valid_color(S("#e2001a")));
    ck_assert(ob_valid_color(S("#ABC")));
    ck_assert(!ob_valid_color(S("e2001a")));
    ck_assert(!ob_valid_color(S("#e2001")));
    ck_assert(!ob_valid_color(S("#ggg")));
    ck_assert(!ob_valid_color(S("")));
}
END_TEST

START_TEST(test_url)
{
    const char *good[] = {"https://openbook.studio", "http://example.org/a/b?c=d#e",
                          "https://localhost:8080/", "http://127.0.0.1", "ftp://files.example.com",
                          "https://user:pw@host.example.de:443/x", "http://[::1]:80/",
                          "https://xn--bcher-kva.example", "HTTPS://EXAMPLE.ORG"};
    const char *bad[] = {"", "openbook.studio", "https://", "https://exa mple.org",
                         "javascript:alert(1)", "https://example", "https://-x.org",
                         "http://256.1.1.1", "http://1.2.3", "https://example.org:99999",
                         "https://example.org:", "mailto:a@b.org", "https://ex\xc3\xa4.org",
                         "http://example.1"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        ck_assert_msg(ob_valid_url(S(good[i])), "refused %s", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_msg(!ob_valid_url(S(bad[i])), "accepted %s", bad[i]);
}
END_TEST

START_TEST(test_period)
{
    ck_assert_int_eq(ob_period_parse(S("")), OB_PERIOD_NONE);
    ck_assert_int_eq(ob_period_parse(S("weeks")), OB_PERIOD_WEEKS);
    ck_assert_int_eq(ob_period_parse(S("years")), OB_PERIOD_YEARS);
    ck_assert_int_eq(ob_period_parse(S("Weeks")), OB_PERIOD_INVALID);
    ck_assert_int_eq(ob_period_parse(S("fortnights")), OB_PERIOD_INVALID);
}
END_TEST

#define DAY 86400000000LL

static int64_t at(int64_t y, unsigned m, unsigned d, int64_t hour)
{
    return ob_days_from_civil(y, m, d) * DAY + hour * 3600000000LL;
}

START_TEST(test_civil)
{
    ck_assert_int_eq(ob_days_from_civil(1970, 1, 1), 0);
    ck_assert_int_eq(ob_days_from_civil(2000, 3, 1), 11017);
    int64_t y;
    unsigned m, d;
    for (int64_t z = -800000; z < 3000000; z += 997) {
        ob_civil_from_days(z, &y, &m, &d);
        ck_assert_int_eq(ob_days_from_civil(y, m, d), z);
    }
}
END_TEST

START_TEST(test_duration)
{
    int64_t now = at(2025, 1, 31, 10), end;
    ck_assert(!ob_duration_end(now, OB_PERIOD_NONE, 5, &end));
    ck_assert(!ob_duration_end(now, OB_PERIOD_DAYS, 0, &end));
    ck_assert(!ob_duration_end(now, OB_PERIOD_DAYS, -1, &end));
    ck_assert(ob_duration_end(now, OB_PERIOD_MINUTES, 1.5, &end));
    ck_assert_int_eq(end - now, 90000000LL);
    ck_assert(ob_duration_end(now, OB_PERIOD_HOURS, 2, &end));
    ck_assert_int_eq(end - now, 7200000000LL);
    ck_assert(ob_duration_end(now, OB_PERIOD_DAYS, 0.5, &end));
    ck_assert_int_eq(end - now, DAY / 2);
    ck_assert(ob_duration_end(now, OB_PERIOD_WEEKS, 2, &end));
    ck_assert_int_eq(end - now, 14 * DAY);
    /* Months: the day is clamped to the end of the month. */
    ck_assert(ob_duration_end(now, OB_PERIOD_MONTHS, 1, &end));
    ck_assert_int_eq(end, at(2025, 2, 28, 10));
    ck_assert(ob_duration_end(at(2024, 1, 31, 0), OB_PERIOD_MONTHS, 1, &end));
    ck_assert_int_eq(end, at(2024, 2, 29, 0));
    /* The integer part only. */
    ck_assert(ob_duration_end(now, OB_PERIOD_MONTHS, 2.9, &end));
    ck_assert_int_eq(end, at(2025, 3, 31, 10));
    ck_assert(!ob_duration_end(now, OB_PERIOD_MONTHS, 0.5, &end));
    ck_assert(ob_duration_end(now, OB_PERIOD_MONTHS, 12, &end));
    ck_assert_int_eq(end, at(2026, 1, 31, 10));
    /* Years: Feb 29 + 1 year = Feb 28. */
    ck_assert(ob_duration_end(at(2024, 2, 29, 5), OB_PERIOD_YEARS, 1, &end));
    ck_assert_int_eq(end, at(2025, 2, 28, 5));
    ck_assert(ob_duration_end(at(2024, 2, 29, 5), OB_PERIOD_YEARS, 4, &end));
    ck_assert_int_eq(end, at(2028, 2, 29, 5));
    /* Out of range: no end rather than overflow. */
    ck_assert(!ob_duration_end(now, OB_PERIOD_YEARS, 9000, &end));
    ck_assert(!ob_duration_end(now, OB_PERIOD_DAYS, 1e9, &end));
    ck_assert(!ob_duration_end(now, OB_PERIOD_WEEKS, __builtin_nan(""), &end));
    /* Before 1970. */
    ck_assert(ob_duration_end(at(1960, 12, 31, 23), OB_PERIOD_MONTHS, 2, &end));
    ck_assert_int_eq(end, at(1961, 2, 28, 23));
}
END_TEST

START_TEST(test_datetime_us)
{
    char norm[40];
    ck_assert(ob_parse_datetime("1970-01-01T00:00:01Z", false, norm));
    ck_assert_int_eq(ob_datetime_us(norm), 1000000LL);
    ck_assert(ob_parse_datetime("2025-06-01T12:40:13.046314+02:00", false, norm));
    ck_assert_int_eq(ob_datetime_us(norm), at(2025, 6, 1, 10) + (40 * 60 + 13) * 1000000LL + 46314);
    ck_assert_int_eq(ob_datetime_us("garbage"), 0);
}
END_TEST

Suite *fields_suite(void)
{
    Suite *s = suite_create("fields");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_slug);
    tcase_add_test(tc, test_color);
    tcase_add_test(tc, test_url);
    tcase_add_test(tc, test_period);
    tcase_add_test(tc, test_civil);
    tcase_add_test(tc, test_duration);
    tcase_add_test(tc, test_datetime_us);
    suite_add_tcase(s, tc);
    return s;
}
