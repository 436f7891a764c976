/* test_perm.c - the permission engine's list visibility (src/perm/
 * visible.c): the SQL predicate and its parameters for what a requester
 * holds, with the catalogue and the grants set in memory (no database). */
#include <string.h>
#include "openbook/auth/auth.h"
#include "openbook/perm/perm.h"
#include "tests.h"

#define UUID "0b6e9c55-43f1-4f3a-9f53-3c1c0d8f1a21"

static const ob_perm_cat_row catalogue[] = {
    {'c', 11, "openbook_content", "librarygroup", "Library Group"},
    {'c', 12, "openbook_content", "textbook", "Textbook"},
    {'p', 100, "openbook_content", "view_textbook", NULL},
    {'p', 101, "openbook_content", "change_textbook", NULL},
    {'p', 104, "openbook_auth", "view_authtoken", NULL},
    {'p', 105, "openbook_auth", "change_authtoken", NULL},
    {'p', 106, "openbook_auth", "manage_own_authtoken", NULL},
    {'p', 107, "openbook_auth", "view_role", NULL},
    {'p', 108, "openbook_auth", "change_role", NULL},
    {'p', 110, "openbook_core", "view_site", NULL},
    {'p', 111, "openbook_core", "change_site", NULL},
};

static const ob_perm_rows sites = {.app_label = "openbook_core", .model = "site",
                                   .guard = OB_GUARD_GLOBAL, .key_sql = "t.id"};
static const ob_perm_rows tokens = {.app_label = "openbook_auth", .model = "authtoken",
                                    .guard = OB_GUARD_SELF, .key_sql = "t.id",
                                    .self_sql = "t.user_id",
                                    .self_perm = "manage_own_authtoken",
                                    .restrict_sql = "t.is_active"};
static const ob_perm_rows textbooks = {.app_label = "openbook_content", .model = "textbook",
                                       .guard = OB_GUARD_SCOPE, .key_sql = "t.id",
                                       .scope_type_name = "openbook_content.librarygroup",
                                       .scope_uuid_sql = "t.group_id"};
static const ob_perm_rows roles = {.app_label = "openbook_auth", .model = "role",
                                   .guard = OB_GUARD_SCOPED, .key_sql = "t.id",
                                   .scope_type_sql = "t.scope_type_id",
                                   .scope_uuid_sql = "t.scope_uuid",
                                   .priority_sql = "t.priority"};

static ob_arena A;
static ob_request R;
static ob_user U;
static ob_sql_params P;
static ob_buf S;

static void setup(void)
{
    ob_arena_init(&A, 4096);
    ob_perm_catalogue_set(catalogue, sizeof catalogue / sizeof catalogue[0]);
    memset(&R, 0, sizeof R);
    memset(&U, 0, sizeof U);
    R.arena = &A;
    U.id = 7;
    U.username = "reader";
    U.is_active = true;
}

static void teardown(void)
{
    ob_perm_catalogue_set(NULL, 0);
    ob_arena_destroy(&A);
}

/* The requester: anonymous (grants NULL), else user 7 holding the grants
 * (rows of OB_PERM_PRELOAD_COL). */
static void as(const char *grants, bool superuser)
{
    R.perm = NULL;
    R.user = grants || superuser ? &U : NULL;
    U.is_superuser = superuser;
    if (grants)
        ob_perm_preload(&R, grants);
}

static const char *visible(const ob_perm_rows *rows)
{
    memset(&P, 0, sizeof P);
    ob_buf_init(&S, &A);
    ck_assert_int_eq(ob_perm_visible_sql(&S, &P, rows, &R), 0);
    return ob_buf_cstr(&S);
}

START_TEST(test_superuser_sees_all)
{
    as(NULL, true);
    ck_assert_str_eq(visible(&tokens), "true");
    ck_assert_int_eq(P.n, 0);
}
END_TEST

/* An anonymous list asks the anonymous grants in the same statement. */
START_TEST(test_anonymous_global)
{
    as(NULL, false);
    ck_assert_str_eq(visible(&sites), "(EXISTS (SELECT 1 FROM anonymous_permissions"
                                      " WHERE permission_id = ANY($1::int[])))");
    ck_assert_int_eq(P.n, 1);
    ck_assert_str_eq(P.v[0], "{110,111}");
}
END_TEST

START_TEST(test_model_permission)
{
    as("m|111||||", false); /* change implies view */
    ck_assert_str_eq(visible(&sites), "(true)");
    ck_assert_int_eq(P.n, 0);
    as("", false); /* nothing at all */
    ck_assert_str_eq(visible(&sites), "(false)");
}
END_TEST

/* Rule T: own tokens only with manage_own_authtoken held globally; and
 * the restriction holds for everybody but superusers. */
START_TEST(test_own_rows)
{
    as("m|106||||", false);
    ck_assert_str_eq(visible(&tokens), "(t.user_id = $1::bigint) AND t.is_active");
    ck_assert_int_eq(P.n, 1);
    ck_assert_str_eq(P.v[0], "7");
    as("m|107||||", false);
    ck_assert_str_eq(visible(&tokens), "(false) AND t.is_active");
}
END_TEST

/* Rule R over a fixed scope type: one membership test against the public
 * scopes and the requester's own, as array parameters. */
START_TEST(test_scope_rule)
{
    as("r|11|" UUID "|5|100", false);
    ck_assert_str_eq(visible(&textbooks),
                     "(t.group_id = ANY (ARRAY(SELECT sp.scope_uuid FROM scope_public_permissions sp"
                     " WHERE sp.scope_type_id = $1::int AND sp.permission_id = ANY($2::int[])"
                     " UNION ALL SELECT unnest($3::uuid[]))))");
    ck_assert_int_eq(P.n, 3);
    ck_assert_str_eq(P.v[0], "11");
    ck_assert_str_eq(P.v[1], "{100,101}");
    ck_assert_str_eq(P.v[2], "{" UUID "}");
    /* A role without the permission adds no scope: public ones only. */
    as("r|11|" UUID "|5|107", false);
    ck_assert_str_eq(visible(&textbooks),
                     "(t.group_id = ANY (ARRAY(SELECT sp.scope_uuid FROM scope_public_permissions sp"
                     " WHERE sp.scope_type_id = $1::int AND sp.permission_id = ANY($2::int[]))))");
    ck_assert_int_eq(P.n, 2);
}
END_TEST

/* Rule S: R for view; R for change with the priority guard against the
 * requester's highest priority in the row's scope. */
START_TEST(test_scoped_rule_with_priority)
{
    as("r|11|" UUID "|5|107", false);
    ck_assert_str_eq(
        visible(&roles),
        "(((t.scope_type_id, t.scope_uuid) IN (SELECT sp.scope_type_id, sp.scope_uuid FROM"
        " scope_public_permissions sp WHERE sp.permission_id = ANY($1::int[]) UNION ALL SELECT *"
        " FROM unnest($2::int[], $3::uuid[])) OR ((t.scope_type_id, t.scope_uuid) IN (SELECT"
        " sp.scope_type_id, sp.scope_uuid FROM scope_public_permissions sp WHERE"
        " sp.permission_id = ANY($4::int[])) AND EXISTS (SELECT 1 FROM unnest($5::int[],"
        " $6::uuid[], $7::int[]) pg(st, su, mp) WHERE pg.st = t.scope_type_id AND pg.su ="
        " t.scope_uuid AND pg.mp >= t.priority))))");
    ck_assert_int_eq(P.n, 7);
    ck_assert_str_eq(P.v[0], "{107}");
    ck_assert_str_eq(P.v[1], "{11}");
    ck_assert_str_eq(P.v[2], "{" UUID "}");
    ck_assert_str_eq(P.v[3], "{108}");
    ck_assert_str_eq(P.v[6], "{5}");
}
END_TEST

Suite *perm_suite(void)
{
    Suite *s = suite_create("perm");
    TCase *tc = tcase_create("perm");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_superuser_sees_all);
    tcase_add_test(tc, test_anonymous_global);
    tcase_add_test(tc, test_model_permission);
    tcase_add_test(tc, test_own_rows);
    tcase_add_test(tc, test_scope_rule);
    tcase_add_test(tc, test_scoped_rule_with_priority);
    suite_add_tcase(s, tc);
    return s;
}
