/* test_resource.c - the input parsers of the resource machinery: UUID keys
 * and ISO 8601 date-times (api-conventions.md §3); the LEFT JOIN pruning
 * of the list's key query; the parameter list's bound. */
#include <string.h>
#include "openbook/db/db.h"
#include "openbook/api/resource.h"
#include "tests.h"

START_TEST(test_uuid)
{
    char out[37];
    ck_assert(ob_parse_uuid("0E8E4C8B-1F2A-4B3C-9D4E-5F6A7B8C9D0E", out));
    ck_assert_str_eq(out, "0e8e4c8b-1f2a-4b3c-9d4e-5f6a7b8c9d0e");
    ck_assert(ob_parse_uuid("0e8e4c8b1f2a4b3c9d4e5f6a7b8c9d0e", out));
    ck_assert_str_eq(out, "0e8e4c8b-1f2a-4b3c-9d4e-5f6a7b8c9d0e");
    ck_assert(!ob_parse_uuid("", out));
    ck_assert(!ob_parse_uuid("not-a-uuid", out));
    ck_assert(!ob_parse_uuid("0e8e4c8b1f2a4b3c9d4e5f6a7b8c9d0", out));   /* 31 digits */
    ck_assert(!ob_parse_uuid("0e8e4c8b1f2a4b3c9d4e5f6a7b8c9d0e0", out)); /* 33 digits */
    ck_assert(!ob_parse_uuid("0e8e4c8b-1f2a4b3c-9d4e-5f6a7b8c9d0e", out)); /* hyphen misplaced */
    ck_assert(!ob_parse_uuid("0e8e4c8g-1f2a-4b3c-9d4e-5f6a7b8c9d0e", out));
}
END_TEST

START_TEST(test_prune_left_joins)
{
    ob_arena a;
    ob_arena_init(&a, 1024);
    const char *from = "textbooks t LEFT JOIN users tcb ON tcb.id = t.created_by"
                       " LEFT JOIN users tmb ON tmb.id = t.modified_by";
    /* Nothing uses them: both go. */
    ck_assert_str_eq(ob_sql_prune_left_joins(&a, from, " WHERE true ORDER BY t.group_id, t.id"),
                     "textbooks t");
    /* A filter on created_by keeps its join only. */
    ck_assert_str_eq(ob_sql_prune_left_joins(&a, from, " WHERE tcb.username = $1 ORDER BY t.id"),
                     "textbooks t LEFT JOIN users tcb ON tcb.id = t.created_by");
    /* An alias that only starts like another one ("tc" in "tcb.") is not it. */
    const char *two = "x t LEFT JOIN courses tc ON tc.id = t.course_id"
                      " LEFT JOIN users tcb ON tcb.id = t.created_by";
    ck_assert_str_eq(ob_sql_prune_left_joins(&a, two, " WHERE tcb.username = $1"),
                     "x t LEFT JOIN users tcb ON tcb.id = t.created_by");
    ck_assert_str_eq(ob_sql_prune_left_joins(&a, two, " WHERE upper(tc.name) = $1"),
                     "x t LEFT JOIN courses tc ON tc.id = t.course_id");
    /* Inner joins always stay; a LEFT JOIN another join refers to stays. */
    const char *chain = "r t JOIN roles tr ON tr.id = t.role_id LEFT JOIN users tu ON tu.id ="
                        " t.user_id LEFT JOIN groups tg ON tg.id = tu.group_id";
    ck_assert_str_eq(ob_sql_prune_left_joins(&a, chain, " WHERE tg.slug = $1"), chain);
    ck_assert_str_eq(ob_sql_prune_left_joins(&a, chain, " WHERE true"),
                     "r t JOIN roles tr ON tr.id = t.role_id");
    /* No LEFT JOIN: the same text. */
    ck_assert_str_eq(ob_sql_prune_left_joins(&a, "languages t", " WHERE true"), "languages t");
    ob_arena_destroy(&a);
}
END_TEST

START_TEST(test_datetime)
{
    char out[40];
    ck_assert(ob_parse_datetime("2025-06-01T12:40:13.046314Z", false, out));
    ck_assert_str_eq(out, "2025-06-01T12:40:13.046314+00:00");
    ck_assert(ob_parse_datetime("2025-06-01T12:40", false, out));
    ck_assert_str_eq(out, "2025-06-01T12:40:00.000000+00:00");
    ck_assert(ob_parse_datetime("2025-06-01 12:40:13.5+02:00", false, out));
    ck_assert_str_eq(out, "2025-06-01T12:40:13.500000+02:00");
    ck_assert(ob_parse_datetime("2025-06-01T12:40:13-0530", false, out));
    ck_assert_str_eq(out, "2025-06-01T12:40:13.000000-05:30");
    ck_assert(ob_parse_datetime("2024-02-29T00:00:00+01", false, out));
    ck_assert_str_eq(out, "2024-02-29T00:00:00.000000+01:00");
    ck_assert(!ob_parse_datetime("2025-06-01", false, out));
    ck_assert(ob_parse_datetime("2025-06-01", true, out));
    ck_assert_str_eq(out, "2025-06-01T00:00:00.000000+00:00");
    const char *bad[] = {"", "tomorrow", "2025-13-01T00:00", "2025-02-29T00:00", "2025-06-31T00:00",
                         "2025-06-01T24:00", "2025-06-01T12:60", "2025-06-01T12:40:61",
                         "2025-06-01T12:40:13.", "2025-06-01T12:40Zjunk", "0000-01-01T00:00",
                         "2025-6-1T00:00", "2025-06-01T12:40+25:00", "99999-01-01T00:00"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_msg(!ob_parse_datetime(bad[i], true, out), "accepted %s", bad[i]);
}
END_TEST

START_TEST(test_sql_params_bound)
{
    /* A parameter past the bound is refused and remembered, so that no
     * statement with a "$-1" placeholder is ever run (the list answers
     * 400 "Too many filters." instead). */
    ob_sql_params p = {.n = 0};
    for (int i = 1; i <= OB_SQL_MAX_PARAMS; i++)
        ck_assert_int_eq(ob_sql_param(&p, "v"), i);
    ck_assert(!p.full);
    ck_assert_int_eq(ob_sql_param(&p, "v"), -1);
    ck_assert(p.full);
    ck_assert_int_eq(p.n, OB_SQL_MAX_PARAMS);
}
END_TEST

/* One meaning of a SQLSTATE for every API: the request's data (classes
 * 22 and 23) is a 400, everything else (and no SQLSTATE at all) a 503. */
START_TEST(test_db_classify)
{
    ck_assert_int_eq(ob_db_classify("22P02"), OB_DB_BAD_VALUE); /* invalid text representation */
    ck_assert_int_eq(ob_db_classify("22001"), OB_DB_BAD_VALUE); /* string too long */
    ck_assert_int_eq(ob_db_classify("23505"), OB_DB_UNIQUE);
    ck_assert_int_eq(ob_db_classify("23503"), OB_DB_REFERENCE);
    ck_assert_int_eq(ob_db_classify("23514"), OB_DB_INTEGRITY); /* check */
    ck_assert_int_eq(ob_db_classify("23502"), OB_DB_INTEGRITY); /* not null */
    ck_assert_int_eq(ob_db_classify("08006"), OB_DB_UNAVAILABLE);
    ck_assert_int_eq(ob_db_classify("57014"), OB_DB_UNAVAILABLE); /* statement timeout */
    ck_assert_int_eq(ob_db_classify("40001"), OB_DB_UNAVAILABLE);
    ck_assert_int_eq(ob_db_classify(""), OB_DB_UNAVAILABLE);
    ck_assert_int_eq(ob_db_classify(NULL), OB_DB_UNAVAILABLE);
    ck_assert_int_eq(ob_db_classify("2"), OB_DB_UNAVAILABLE);
    ck_assert_int_eq(ob_db_class_status(OB_DB_BAD_VALUE), 400);
    ck_assert_int_eq(ob_db_class_status(OB_DB_UNIQUE), 400);
    ck_assert_int_eq(ob_db_class_status(OB_DB_REFERENCE), 400);
    ck_assert_int_eq(ob_db_class_status(OB_DB_INTEGRITY), 400);
    ck_assert_int_eq(ob_db_class_status(OB_DB_UNAVAILABLE), 503);
}
END_TEST

Suite *resource_suite(void)
{
    Suite *s = suite_create("resource");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_uuid);
    tcase_add_test(tc, test_db_classify);
    tcase_add_test(tc, test_datetime);
    tcase_add_test(tc, test_prune_left_joins);
    tcase_add_test(tc, test_sql_params_bound);
    suite_add_tcase(s, tc);
    return s;
}
