/* test_promtext.c - the Prometheus text writer: escaping of label values
 * and HELP text, number formatting, histograms. */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "openbook/core/promtext.h"
#include "tests.h"

static ob_buf B;

static void setup(void)
{
    ob_buf_init(&B, NULL);
}

static void teardown(void)
{
    ob_buf_free(&B);
}

static const char *text(void)
{
    return B.data ? B.data : "";
}

START_TEST(test_label_value_escaping)
{
    /* The format's three escapes (backslash, double quote, line feed);
     * everything else, UTF-8 and tabs included, goes through as it is. */
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"plain", "plain"},
        {"a\\b", "a\\\\b"},
        {"say \"hi\"", "say \\\"hi\\\""},
        {"two\nlines", "two\\nlines"},
        {"\\\"\n", "\\\\\\\"\\n"},
        {"/api/core/sites/{id}/", "/api/core/sites/{id}/"},
        {"Gr\xc3\xbc\xc3\x9f" "e\ttab", "Gr\xc3\xbc\xc3\x9f" "e\ttab"},
        {"", ""},
        {"trailing\\", "trailing\\\\"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ob_buf_reset(&B);
        ob_prom_escape_label(&B, cases[i].in);
        ck_assert_str_eq(text(), cases[i].out);
    }
    ob_buf_reset(&B);
    ob_prom_escape_label(&B, NULL);
    ck_assert_str_eq(text(), "");
}
END_TEST

START_TEST(test_sample_lines)
{
    ob_prom_sample(&B, "openbook_up", NULL, 0, 1);
    ob_prom_label l[] = {{"route", "/x/{id}/"}, {"method", "GET"}, {"odd", "a\"b\\c\nd"}};
    ob_prom_sample(&B, "openbook_requests_total", l, 3, UINT64_MAX);
    ob_prom_sample_double(&B, "openbook_ratio", l, 1, 0.25);
    ck_assert_str_eq(text(), "openbook_up 1\n"
                             "openbook_requests_total{route=\"/x/{id}/\",method=\"GET\","
                             "odd=\"a\\\"b\\\\c\\nd\"} 18446744073709551615\n"
                             "openbook_ratio{route=\"/x/{id}/\"} 0.25\n");
}
END_TEST

START_TEST(test_family_help_escaping)
{
    ob_prom_family(&B, "openbook_x_total", "counter", "Back\\slash, \"quotes\" stay,\nnewline");
    ck_assert_str_eq(text(), "# HELP openbook_x_total Back\\\\slash, \"quotes\" stay,\\nnewline\n"
                             "# TYPE openbook_x_total counter\n");
}
END_TEST

START_TEST(test_numbers)
{
    static const struct {
        double v;
        const char *out;
    } cases[] = {
        {0, "0"},         {1, "1"},           {0.005, "0.005"},   {2.5, "2.5"},
        {10, "10"},       {0.0005, "0.0005"}, {4.8e-05, "4.8e-05"}, {-3, "-3"},
        {0.1 + 0.2, "0.30000000000000004"},   {1e21, "1e+21"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ob_buf_reset(&B);
        ob_prom_double(&B, cases[i].v);
        ck_assert_str_eq(text(), cases[i].out);
    }
    ob_buf_reset(&B);
    ob_prom_double(&B, INFINITY);
    ob_prom_double(&B, -INFINITY);
    ob_prom_double(&B, NAN);
    ck_assert_str_eq(text(), "+Inf-InfNaN");
}
END_TEST

START_TEST(test_histogram)
{
    static const double bounds[] = {0.001, 0.01, 1};
    static const uint64_t counts[] = {2, 0, 3, 1}; /* the last: above every bound */
    ob_prom_label l = {"route", "/a\"b/"};
    ob_prom_histogram(&B, "h_seconds", &l, 1, bounds, 3, counts, 4.5);
    ck_assert_str_eq(text(), "h_seconds_bucket{route=\"/a\\\"b/\",le=\"0.001\"} 2\n"
                             "h_seconds_bucket{route=\"/a\\\"b/\",le=\"0.01\"} 2\n"
                             "h_seconds_bucket{route=\"/a\\\"b/\",le=\"1\"} 5\n"
                             "h_seconds_bucket{route=\"/a\\\"b/\",le=\"+Inf\"} 6\n"
                             "h_seconds_sum{route=\"/a\\\"b/\"} 4.5\n"
                             "h_seconds_count{route=\"/a\\\"b/\"} 6\n");
    ob_buf_reset(&B);
    static const uint64_t none[] = {0, 0, 0, 0};
    ob_prom_histogram(&B, "n", NULL, 0, bounds, 3, none, 0);
    ck_assert_str_eq(text(), "n_bucket{le=\"0.001\"} 0\nn_bucket{le=\"0.01\"} 0\n"
                             "n_bucket{le=\"1\"} 0\nn_bucket{le=\"+Inf\"} 0\nn_sum 0\nn_count 0\n");
}
END_TEST

Suite *promtext_suite(void)
{
    Suite *s = suite_create("promtext");
    TCase *tc = tcase_create("writer");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_label_value_escaping);
    tcase_add_test(tc, test_sample_lines);
    tcase_add_test(tc, test_family_help_escaping);
    tcase_add_test(tc, test_numbers);
    tcase_add_test(tc, test_histogram);
    suite_add_tcase(s, tc);
    return s;
}
