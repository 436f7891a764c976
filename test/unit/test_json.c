/* test_json.c - the streaming JSON writer and ob_json_escape. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "openbook/core/json.h"
#include "openbook/http/parse.h"
#include "tests.h"

static ob_arena A;
static ob_buf B;
static ob_json J;

static void setup(void)
{
    ob_arena_init(&A, 1024);
    ob_buf_init(&B, &A);
    ob_json_init(&J, &B);
}

static void teardown(void)
{
    ob_arena_destroy(&A);
}

static const char *escaped(const char *s, size_t n)
{
    ob_buf out;
    ob_buf_init(&out, &A);
    ob_json_escape(&out, s, n);
    return ob_buf_cstr(&out);
}

/* The output parses as JSON (cJSON) and is valid UTF-8. */
static void assert_valid_json(const char *text)
{
    ck_assert_msg(ob_utf8_valid(text, strlen(text)), "not UTF-8: %s", text);
    cJSON *v = cJSON_Parse(text);
    ck_assert_msg(v != NULL, "not JSON: %s", text);
    cJSON_Delete(v);
}

START_TEST(test_object_with_members)
{
    ob_json_object_begin(&J);
    ob_json_kv_string(&J, "a", "x");
    ob_json_kv_int(&J, "b", 2);
    ob_json_key(&J, "c");
    ob_json_bool(&J, true);
    ob_json_key(&J, "d");
    ob_json_null(&J);
    ob_json_key(&J, "e");
    ob_json_bool(&J, false);
    ob_json_object_end(&J);
    ck_assert_str_eq(ob_buf_cstr(&B), "{\"a\":\"x\",\"b\":2,\"c\":true,\"d\":null,\"e\":false}");
    ck_assert_int_eq(J.depth, 0);
}
END_TEST

START_TEST(test_nested_arrays_and_objects)
{
    ob_json_array_begin(&J);
    ob_json_int(&J, 1);
    ob_json_array_begin(&J);
    ob_json_array_end(&J);
    ob_json_object_begin(&J);
    ob_json_object_end(&J);
    ob_json_object_begin(&J);
    ob_json_key(&J, "k");
    ob_json_array_begin(&J);
    ob_json_string(&J, "v");
    ob_json_string(&J, NULL);
    ob_json_array_end(&J);
    ob_json_kv_string(&J, "n", NULL);
    ob_json_object_end(&J);
    ob_json_int(&J, 2);
    ob_json_array_end(&J);
    ck_assert_str_eq(ob_buf_cstr(&B), "[1,[],{},{\"k\":[\"v\",null],\"n\":null},2]");
    assert_valid_json(B.data);
}
END_TEST

START_TEST(test_deep_nesting_to_limit)
{
    for (int i = 0; i < OB_JSON_MAX_DEPTH; i++)
        ob_json_array_begin(&J);
    ob_json_int(&J, 0);
    for (int i = 0; i < OB_JSON_MAX_DEPTH; i++)
        ob_json_array_end(&J);
    ck_assert_int_eq(J.depth, 0);
    ck_assert_uint_eq(B.len, 2 * OB_JSON_MAX_DEPTH + 1);
    assert_valid_json(B.data);
}
END_TEST

START_TEST(test_ints)
{
    ob_json_array_begin(&J);
    ob_json_int(&J, 0);
    ob_json_int(&J, -1);
    ob_json_int(&J, INT64_MAX);
    ob_json_int(&J, INT64_MIN);
    ob_json_array_end(&J);
    ck_assert_str_eq(ob_buf_cstr(&B),
                     "[0,-1,9223372036854775807,-9223372036854775808]");
}
END_TEST

/* Writes one double and returns the text. */
static const char *dbl(double v)
{
    ob_buf out;
    ob_json j;
    ob_buf_init(&out, &A);
    ob_json_init(&j, &out);
    ob_json_double(&j, v);
    return ob_buf_cstr(&out);
}

START_TEST(test_doubles)
{
    ck_assert_str_eq(dbl(0.0), "0.0");
    ck_assert_str_eq(dbl(1.5), "1.5");
    ck_assert_str_eq(dbl(0.1), "0.1");
    ck_assert_str_eq(dbl(-2.25), "-2.25");
    ck_assert_str_eq(dbl(NAN), "null");
    ck_assert_str_eq(dbl(INFINITY), "null");
    ck_assert_str_eq(dbl(-INFINITY), "null");
    /* Whatever the form, every finite value round-trips exactly and is a
     * JSON number that reads back as a float. */
    static const double vals[] = {1.0, 100.0, 1e21, 1e-7, 123456789.125, 0.30000000000000004,
                                  -0.0, 5e-324, 1.7976931348623157e308, 3.0, 12.5};
    for (size_t i = 0; i < sizeof vals / sizeof *vals; i++) {
        const char *t = dbl(vals[i]);
        cJSON *v = cJSON_Parse(t);
        ck_assert_msg(v && cJSON_IsNumber(v), "%s is not a JSON number", t);
        ck_assert_msg(v->valuedouble == vals[i], "%s does not round-trip %.17g", t, vals[i]);
        cJSON_Delete(v);
        ck_assert_msg(strpbrk(t, ".eE") != NULL, "%s reads back as an integer", t);
    }
}
END_TEST

START_TEST(test_raw_inserted_verbatim)
{
    ob_json_object_begin(&J);
    ob_json_key(&J, "content");
    ob_json_raw(&J, "{\"x\":[1,2]}", 11);
    ob_json_key(&J, "after");
    ob_json_int(&J, 1);
    ob_json_object_end(&J);
    ck_assert_str_eq(ob_buf_cstr(&B), "{\"content\":{\"x\":[1,2]},\"after\":1}");
}
END_TEST

START_TEST(test_escape_specials)
{
    ck_assert_str_eq(escaped("", 0), "\"\"");
    ck_assert_str_eq(escaped("plain", 5), "\"plain\"");
    ck_assert_str_eq(escaped("a\"b\\c", 5), "\"a\\\"b\\\\c\"");
    ck_assert_str_eq(escaped("\n\r\t\b\f", 5), "\"\\n\\r\\t\\b\\f\"");
    ck_assert_str_eq(escaped("\x01\x1f", 2), "\"\\u0001\\u001f\"");
    ck_assert_str_eq(escaped("a\0b", 3), "\"a\\u0000b\"");
    /* '/' and DEL need no escaping. */
    ck_assert_str_eq(escaped("</x>\x7f", 5), "\"</x>\x7f\"");
}
END_TEST

START_TEST(test_escape_keeps_valid_utf8)
{
    const char *s = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xef\xbf\xbf";
    char want[64];
    snprintf(want, sizeof want, "\"%s\"", s);
    ck_assert_str_eq(escaped(s, strlen(s)), want);
}
END_TEST

START_TEST(test_escape_replaces_invalid_utf8)
{
    /* Each bad byte becomes U+FFFD; good neighbours are kept. */
    ck_assert_str_eq(escaped("a\xff" "b", 3), "\"a\xef\xbf\xbd" "b\"");
    ck_assert_str_eq(escaped("\x80", 1), "\"\xef\xbf\xbd\"");
    /* Overlong "/" (C0 AF) and overlong 3-byte (E0 80 80). */
    const char *o = escaped("\xc0\xaf", 2);
    ck_assert_str_eq(o, "\"\xef\xbf\xbd\xef\xbf\xbd\"");
    ck_assert_ptr_null(strstr(escaped("\xe0\x80\x80", 3), "\xe0"));
    /* Surrogate (ED A0 80) and above U+10FFFF (F4 90 80 80). */
    ck_assert_ptr_null(strstr(escaped("\xed\xa0\x80", 3), "\xed"));
    ck_assert_ptr_null(strstr(escaped("\xf4\x90\x80\x80", 4), "\xf4"));
    /* Truncated sequence at the end. */
    ck_assert_str_eq(escaped("ok\xe2\x82", 4), "\"ok\xef\xbf\xbd\xef\xbf\xbd\"");
    /* Length is honoured: bytes past n are not read. */
    ck_assert_str_eq(escaped("abcdef", 3), "\"abc\"");
}
END_TEST

START_TEST(test_escape_output_always_valid)
{
    /* Every single byte and every pair of bytes gives valid JSON text. */
    char in[2];
    for (int a = 0; a < 256; a++) {
        in[0] = (char)a;
        const char *o = escaped(in, 1);
        ck_assert_msg(ob_utf8_valid(o, strlen(o)), "byte %02x", a);
        cJSON *v = cJSON_Parse(o);
        ck_assert_msg(v && cJSON_IsString(v), "byte %02x -> %s", a, o);
        cJSON_Delete(v);
    }
    for (int a = 0x80; a < 256; a += 3) {
        for (int b = 0; b < 256; b += 5) {
            in[0] = (char)a;
            in[1] = (char)b;
            const char *o = escaped(in, 2);
            ck_assert_msg(ob_utf8_valid(o, strlen(o)), "bytes %02x %02x", a, b);
        }
        ob_arena_reset(&A);
    }
}
END_TEST

START_TEST(test_keys_are_escaped)
{
    ob_json_object_begin(&J);
    ob_json_kv_string(&J, "k\"ey\n", "v\\al");
    ob_json_object_end(&J);
    ck_assert_str_eq(ob_buf_cstr(&B), "{\"k\\\"ey\\n\":\"v\\\\al\"}");
    cJSON *v = cJSON_Parse(B.data);
    ck_assert_ptr_nonnull(v);
    cJSON *m = cJSON_GetObjectItemCaseSensitive(v, "k\"ey\n");
    ck_assert_ptr_nonnull(m);
    ck_assert_str_eq(m->valuestring, "v\\al");
    cJSON_Delete(v);
}
END_TEST

START_TEST(test_string_n_respects_length)
{
    ob_json_array_begin(&J);
    ob_json_string_n(&J, "abcdef", 2);
    ob_json_string_n(&J, "", 0);
    ob_json_array_end(&J);
    ck_assert_str_eq(ob_buf_cstr(&B), "[\"ab\",\"\"]");
}
END_TEST

Suite *json_suite(void)
{
    Suite *s = suite_create("json");
    TCase *tc = tcase_create("json");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_object_with_members);
    tcase_add_test(tc, test_nested_arrays_and_objects);
    tcase_add_test(tc, test_deep_nesting_to_limit);
    tcase_add_test(tc, test_ints);
    tcase_add_test(tc, test_doubles);
    tcase_add_test(tc, test_raw_inserted_verbatim);
    tcase_add_test(tc, test_escape_specials);
    tcase_add_test(tc, test_escape_keeps_valid_utf8);
    tcase_add_test(tc, test_escape_replaces_invalid_utf8);
    tcase_add_test(tc, test_escape_output_always_valid);
    tcase_add_test(tc, test_keys_are_escaped);
    tcase_add_test(tc, test_string_n_respects_length);
    suite_add_tcase(s, tc);
    return s;
}
