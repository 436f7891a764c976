/* test_wfield.c - the field validator (src/api/validate.c): one JSON value
 * of a writable field, per kind, with the messages of api-conventions.md
 * §4; no lookups. */
#include <string.h>
#include <cjson/cJSON.h>
#include "openbook/api/resource.h"
#include "tests.h"

static ob_arena A;
static ob_wvalue V;
static const char *E[2];
static int NE;

static void setup(void)
{
    ob_arena_init(&A, 4096);
}

static void teardown(void)
{
    ob_arena_destroy(&A);
}

/* Parses the JSON text `json` as the value of f. */
static int parse(const ob_wfield *f, const char *json)
{
    cJSON *in = cJSON_Parse(json);
    ck_assert_msg(in != NULL, "bad test JSON %s", json);
    memset(&V, 0, sizeof V);
    E[0] = E[1] = NULL;
    NE = ob_wfield_parse(&A, f, in, &V, E);
    /* Keep what the value points into for the assertions. */
    ob_arena_defer(&A, (void (*)(void *))cJSON_Delete, in);
    ck_assert_int_eq(NE > 0, V.state == OB_WV_INVALID);
    return NE;
}

START_TEST(test_text)
{
    const ob_wfield f = {.name = "name", .kind = OB_W_TEXT, .max_len = 5};
    ck_assert_int_eq(parse(&f, "\"  abc  \""), 0);
    ck_assert_str_eq(V.text, "abc");
    ck_assert_int_eq(parse(&f, "12"), 0); /* str() of a number */
    ck_assert_str_eq(V.text, "12");
    ck_assert_int_eq(parse(&f, "\"   \""), 1);
    ck_assert_str_eq(E[0], "This field may not be blank.");
    ck_assert_int_eq(parse(&f, "\"ééééééé\""), 1);
    ck_assert_str_eq(E[0], "Ensure this field has no more than 5 characters.");
    ck_assert_int_eq(parse(&f, "\"ééééé\""), 0); /* characters, not bytes */
    ck_assert_int_eq(parse(&f, "null"), 1);
    ck_assert_str_eq(E[0], "This field may not be null.");
    ck_assert_int_eq(parse(&f, "[1]"), 1);
    ck_assert_str_eq(E[0], "Not a valid string.");
    const ob_wfield pw = {.name = "password", .kind = OB_W_TEXT, .flags = OB_WF_NO_TRIM};
    ck_assert_int_eq(parse(&pw, "\" secret \""), 0);
    ck_assert_str_eq(V.text, " secret ");
}
END_TEST

START_TEST(test_text_length_and_format_together)
{
    const ob_wfield u = {.name = "username", .kind = OB_W_TEXT, .max_len = 150, .min_len = 5,
                         .format = OB_FMT_USERNAME};
    ck_assert_int_eq(parse(&u, "\"a b\""), 2);
    ck_assert_str_eq(E[0], "Ensure this field has at least 5 characters.");
    ck_assert_str_eq(E[1], "Enter a valid username. This value may contain only letters, "
                           "numbers, and @/./+/-/_ characters.");
    ck_assert_int_eq(parse(&u, "\"alice@example\""), 0);
    const ob_wfield slug = {.name = "slug", .kind = OB_W_TEXT, .format = OB_FMT_SLUG};
    ck_assert_int_eq(parse(&slug, "\"not a slug\""), 1);
    const ob_wfield color = {.name = "c", .kind = OB_W_TEXT, .flags = OB_WF_BLANK,
                             .format = OB_FMT_COLOR};
    ck_assert_int_eq(parse(&color, "\"\""), 0); /* blank: no format to check */
    ck_assert_int_eq(parse(&color, "\"#12345g\""), 1);
}
END_TEST

START_TEST(test_choices)
{
    static const char *const formats[] = {"TEXT", "HTML", "MD", NULL};
    const ob_wfield f = {.name = "text_format", .kind = OB_W_TEXT, .choices = formats};
    ck_assert_int_eq(parse(&f, "\" MD \""), 0);
    ck_assert_ptr_eq(V.text, formats[2]);
    ck_assert_int_eq(parse(&f, "\"RTF\""), 1);
    ck_assert_str_eq(E[0], "\"RTF\" is not a valid choice.");
    ck_assert_int_eq(parse(&f, "true"), 1);
    ck_assert_str_eq(E[0], "\"True\" is not a valid choice.");
    ck_assert_int_eq(parse(&f, "[]"), 1);
    ck_assert_str_eq(E[0], "\"list\" is not a valid choice.");
}
END_TEST

START_TEST(test_bool_int_number)
{
    const ob_wfield b = {.name = "b", .kind = OB_W_BOOL};
    const char *yes[] = {"true", "1", "\"True\"", "\" 1 \""};
    for (size_t i = 0; i < 4; i++) {
        ck_assert_int_eq(parse(&b, yes[i]), 0);
        ck_assert_str_eq(V.text, "true");
    }
    ck_assert_int_eq(parse(&b, "\"no\""), 1);
    ck_assert_str_eq(E[0], "Must be a valid boolean.");
    ck_assert_int_eq(parse(&b, "2"), 1);
    const ob_wfield n = {.name = "priority", .kind = OB_W_INT, .has_min = true, .min = 0,
                         .has_max = true, .max = 32767};
    ck_assert_int_eq(parse(&n, "\" 42 \""), 0);
    ck_assert_int_eq(V.num, 42);
    ck_assert_str_eq(V.text, "42");
    ck_assert_int_eq(parse(&n, "4.5"), 1);
    ck_assert_str_eq(E[0], "A valid integer is required.");
    ck_assert_int_eq(parse(&n, "-1"), 1);
    ck_assert_str_eq(E[0], "Ensure this value is greater than or equal to 0.");
    ck_assert_int_eq(parse(&n, "32768"), 1);
    ck_assert_str_eq(E[0], "Ensure this value is less than or equal to 32767.");
    ck_assert_int_eq(parse(&n, "\"1234567890123456789\""), 1); /* 19 digits */
    const ob_wfield d = {.name = "value", .kind = OB_W_NUMBER, .has_min = true, .min = 0};
    ck_assert_int_eq(parse(&d, "\"2.5\""), 0);
    ck_assert_str_eq(V.text, "2.5");
    ck_assert_int_eq(parse(&d, "1e16"), 1);
    ck_assert_str_eq(E[0], "A valid number is required.");
    ck_assert_int_eq(parse(&d, "\"nan\""), 1);
}
END_TEST

START_TEST(test_null_and_empty)
{
    /* "" is null for nullable dates and references, not for text. */
    const ob_wfield dt = {.name = "end_date", .kind = OB_W_DATETIME, .flags = OB_WF_NULL};
    ck_assert_int_eq(parse(&dt, "\"\""), 0);
    ck_assert_ptr_null(V.text);
    ck_assert_int_eq(V.state, OB_WV_GIVEN);
    ck_assert_int_eq(parse(&dt, "\"2025-06-01T12:40Z\""), 0);
    ck_assert_str_eq(V.text, "2025-06-01T12:40:00.000000+00:00");
    ck_assert_int_eq(parse(&dt, "\"June\""), 1);
    const ob_wfield js = {.name = "content", .kind = OB_W_JSON, .flags = OB_WF_NULL};
    ck_assert_int_eq(parse(&js, "null"), 0);
    ck_assert_str_eq(V.text, "null");
    const ob_wfield file = {.name = "picture", .kind = OB_W_FILE, .flags = OB_WF_BLANK};
    ck_assert_int_eq(parse(&file, "\" \""), 0);
    ck_assert_str_eq(V.text, "");
    ck_assert_int_eq(parse(&file, "\"x.png\""), 1);
    ck_assert_str_eq(E[0], "The submitted data was not a file. Check the encoding type on the "
                           "form.");
    ck_assert_int_eq(parse(&file, "null"), 1);
}
END_TEST

START_TEST(test_json_limits)
{
    const ob_wfield f = {.name = "content", .kind = OB_W_JSON, .json_max_bytes = 10,
                         .json_max_depth = 2};
    ck_assert_int_eq(parse(&f, "{\"a\": [1]}"), 0);
    ck_assert_str_eq(V.text, "{\"a\":[1]}");
    ck_assert_int_eq(parse(&f, "[[[1]]]"), 1);
    ck_assert_str_eq(E[0], "Ensure this value is nested no more than 2 levels deep.");
    ck_assert_int_eq(parse(&f, "\"0123456789\""), 1);
    ck_assert_str_eq(E[0], "Ensure this value has no more than 10 bytes as JSON.");
}
END_TEST

/* References: the key in the syntax the lookup wants, or the message. */
START_TEST(test_reference_keys)
{
    const ob_wfield u = {.name = "textbook", .kind = OB_W_UUID_REF};
    ck_assert_int_eq(parse(&u, "\" 0B6E9C5543F14F3A9F533C1C0D8F1A21 \""), 0);
    ck_assert_str_eq(V.text, "0b6e9c55-43f1-4f3a-9f53-3c1c0d8f1a21");
    ck_assert_int_eq(parse(&u, "42"), 1);
    ck_assert_str_eq(E[0], "Must be a valid UUID.");
    const ob_wfield i = {.name = "site", .kind = OB_W_INT_REF};
    ck_assert_int_eq(parse(&i, "\"17\""), 0);
    ck_assert_int_eq(V.num, 17);
    ck_assert_int_eq(parse(&i, "-1"), 1);
    ck_assert_str_eq(E[0], "Incorrect type. Expected pk value, received int.");
    const ob_wfield usr = {.name = "user", .kind = OB_W_USER};
    ck_assert_int_eq(parse(&usr, "\" alice \""), 0);
    ck_assert_str_eq(V.text, "alice");
    ck_assert_int_eq(parse(&usr, "{}"), 1);
    ck_assert_str_eq(E[0], "Invalid value.");
    const ob_wfield l = {.name = "permissions", .kind = OB_W_PERM_LIST};
    ck_assert_int_eq(parse(&l, "[\" a.b \", 3]"), 0);
    ck_assert_int_eq(V.n, 2);
    ck_assert_str_eq(V.list[0], "a.b");
    ck_assert_ptr_null(V.list[1]);
    ck_assert_int_eq(parse(&l, "\"a.b\""), 1);
    ck_assert_str_eq(E[0], "Expected a list of items but got type \"str\".");
}
END_TEST

Suite *wfield_suite(void)
{
    Suite *s = suite_create("wfield");
    TCase *tc = tcase_create("wfield");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_text);
    tcase_add_test(tc, test_text_length_and_format_together);
    tcase_add_test(tc, test_choices);
    tcase_add_test(tc, test_bool_int_number);
    tcase_add_test(tc, test_null_and_empty);
    tcase_add_test(tc, test_json_limits);
    tcase_add_test(tc, test_reference_keys);
    suite_add_tcase(s, tc);
    return s;
}
