/* test_query.c - the list query compiler (src/api/query.c): filters,
 * _search and _sort of a query string against a description, as SQL text
 * and parameters; request text only ever in the parameters. */
#include <string.h>
#include "openbook/api/query.h"
#include "tests.h"

static const ob_field fields[] = {
    {"id", "t.id", OB_FT_TEXT, OB_FF_SORT},
    {"num", "t.num", OB_FT_INT, OB_FF_SORT | OB_FF_EQ | OB_FF_RANGE},
    {"name", "t.name", OB_FT_TEXT, OB_FF_SORT | OB_FF_SEARCH | OB_FF_SUBSTR},
    {"slug", "t.slug", OB_FT_TEXT, OB_FF_SEARCH | OB_FF_EQ | OB_FF_ICONTAINS},
    {"flag", "t.flag", OB_FT_BOOL, OB_FF_EQ},
    {"when", "t.created_at", OB_FT_DATETIME, OB_FF_SORT | OB_FF_EQ | OB_FF_RANGE},
    {"secret", "t.secret", OB_FT_TEXT, OB_FF_ADMIN | OB_FF_SORT | OB_FF_EQ},
    {"owner", "tu.username", OB_FT_TEXT, OB_FF_SORT | OB_FF_EQ},
};
static const ob_field_ref refs[] = {{.field = "owner", .sort_sql = "t.owner_id"}};
static const ob_filter filters[] = {
    {.name = "text", .kind = OB_FILT_TEXT, .sql = "t.a = $1 OR t.b = $1"},
    {.name = "uuid", .kind = OB_FILT_UUID, .sql = "t.d = $1::uuid"},
    {.name = "int", .kind = OB_FILT_INT, .sql = "t.e = $1::int"},
    {.name = "none", .kind = OB_FILT_ISNULL, .sql = "t.f IS NULL", .sql_false = "t.f IS NOT NULL"},
    {.name = "parent", .kind = OB_FILT_REF, .sql = "t.parent_id = $1::uuid"},
};
static const char *const search[] = {"t.extra", NULL};
static const ob_resource res = {
    .class_name = "Thing",
    .from = "things t JOIN users tu ON tu.id = t.owner_id",
    .pk = &fields[0],
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .refs = refs,
    .nrefs = sizeof refs / sizeof refs[0],
    .filters = filters,
    .nfilters = sizeof filters / sizeof filters[0],
    .search_sql = search,
    .default_order = "t.name",
};

static ob_arena A;
static ob_sql_params P;
static ob_buf W, O;
static ob_query_error E;

static void setup(void)
{
    ob_arena_init(&A, 4096);
}

static void teardown(void)
{
    ob_arena_destroy(&A);
}

/* Compiles a query string; returns ob_query_compile's result. */
static int compile(const char *qs, bool superuser)
{
    ob_kv *kv = NULL;
    size_t n = 0;
    ck_assert_int_eq(ob_parse_urlencoded(&A, qs, strlen(qs), 100, &kv, &n), OB_PARSE_OK);
    memset(&P, 0, sizeof P);
    memset(&E, 0, sizeof E);
    ob_buf_init(&W, &A);
    ob_buf_init(&O, &A);
    ob_query_in in = {&A, kv, n, superuser};
    return ob_query_compile(&in, &res, &P, &W, &O, &E);
}

static const char *where(void)
{
    return ob_buf_cstr(&W);
}

static const char *order(void)
{
    return ob_buf_cstr(&O);
}

START_TEST(test_nothing_asked)
{
    ck_assert_int_eq(compile("", false), 0);
    ck_assert_str_eq(where(), "");
    ck_assert_str_eq(order(), " ORDER BY t.name, t.id");
    ck_assert_int_eq(P.n, 0);
    /* Parameters starting with _ and unknown names are no filters. */
    ck_assert_int_eq(compile("_page=2&bogus=1&name__regex=x", false), 0);
    ck_assert_str_eq(where(), "");
}
END_TEST

START_TEST(test_field_lookups)
{
    ck_assert_int_eq(compile("num=3&num__gte=-2&slug=a_b&flag=1", false), 0);
    ck_assert_str_eq(where(), " AND t.num = $1 AND t.num >= $2 AND t.slug = $3 AND t.flag = $4");
    ck_assert_int_eq(P.n, 4);
    ck_assert_str_eq(P.v[0], "3");
    ck_assert_str_eq(P.v[1], "-2");
    ck_assert_str_eq(P.v[2], "a_b");
    ck_assert_str_eq(P.v[3], "true");
    /* Substring lookups escape LIKE's metacharacters. */
    ck_assert_int_eq(compile("name=50%25_off&slug__icontains=x\\y", false), 0);
    ck_assert_str_eq(where(), " AND t.name::text ILIKE $1 AND t.slug::text ILIKE $2");
    ck_assert_str_eq(P.v[0], "%50\\%\\_off%");
    ck_assert_str_eq(P.v[1], "%x\\\\y%");
    /* Date-times are normalised and compared as timestamptz. */
    ck_assert_int_eq(compile("when__lte=2025-06-01", false), 0);
    ck_assert_str_eq(where(), " AND t.created_at <= $1::timestamptz");
    ck_assert_str_eq(P.v[0], "2025-06-01T00:00:00.000000+00:00");
    /* A boolean filter ignores what is not a boolean. */
    ck_assert_int_eq(compile("flag=maybe", false), 0);
    ck_assert_str_eq(where(), "");
}
END_TEST

START_TEST(test_refused_values)
{
    ck_assert_int_eq(compile("name=x&num=three", false), -1);
    ck_assert_str_eq(E.key, "num");
    ck_assert_str_eq(E.msg, "Enter a whole number.");
    ck_assert_int_eq(compile("when__gte=tomorrow", false), -1);
    ck_assert_str_eq(E.key, "when__gte");
    ck_assert_str_eq(E.msg, "Enter a valid date/time.");
    ck_assert_int_eq(compile("uuid=nope", false), -1);
    ck_assert_str_eq(E.msg, "Enter a valid UUID.");
    ck_assert_int_eq(compile("int=2147483648", false), -1);
    ck_assert_str_eq(E.key, "int");
    ck_assert_str_eq(E.msg, "Enter a whole number.");
    /* A reference filter's key that names nothing possible. */
    ck_assert_int_eq(compile("parent=7", false), -1);
    ck_assert_str_eq(E.key, "parent");
    ck_assert_str_eq(E.msg, "Select a valid choice. That choice is not one of the available "
                            "choices.");
}
END_TEST

START_TEST(test_custom_filters)
{
    ck_assert_int_eq(compile("text=x&uuid=0B6E9C5543F14F3A9F533C1C0D8F1A21&int=-7", false), 0);
    ck_assert_str_eq(where(), " AND (t.a = $1 OR t.b = $1) AND (t.d = $2::uuid) AND (t.e = $3::int)");
    ck_assert_str_eq(P.v[0], "x");
    ck_assert_str_eq(P.v[1], "0b6e9c55-43f1-4f3a-9f53-3c1c0d8f1a21");
    ck_assert_str_eq(P.v[2], "-7");
    ck_assert_int_eq(compile("none=true", false), 0);
    ck_assert_str_eq(where(), " AND t.f IS NULL");
    ck_assert_int_eq(compile("none=0", false), 0);
    ck_assert_str_eq(where(), " AND t.f IS NOT NULL");
    ck_assert_int_eq(compile("none=perhaps", false), 0);
    ck_assert_str_eq(where(), "");
    ck_assert_int_eq(P.n, 0);
}
END_TEST

START_TEST(test_admin_fields)
{
    /* For everybody else an admin field does not exist: not a filter, not
     * a sort key. */
    ck_assert_int_eq(compile("secret=x&_sort=secret", false), 0);
    ck_assert_str_eq(where(), "");
    ck_assert_str_eq(order(), " ORDER BY t.name, t.id");
    ck_assert_int_eq(compile("secret=x&_sort=secret", true), 0);
    ck_assert_str_eq(where(), " AND t.secret = $1");
    ck_assert_str_eq(order(), " ORDER BY t.secret, t.id");
}
END_TEST

START_TEST(test_search)
{
    ck_assert_int_eq(compile("_search=foo,%22bar baz%22", false), 0);
    ck_assert_str_eq(where(), " AND (t.name::text ILIKE $1 OR t.slug::text ILIKE $1 OR"
                              " t.extra::text ILIKE $1) AND (t.name::text ILIKE $2 OR"
                              " t.slug::text ILIKE $2 OR t.extra::text ILIKE $2)");
    ck_assert_int_eq(P.n, 2);
    ck_assert_str_eq(P.v[0], "%foo%");
    ck_assert_str_eq(P.v[1], "%bar baz%");
    /* Every term is a parameter; more than one statement takes is a
     * refusal of the whole list, never a search that leaves some out. */
    ck_assert_int_eq(compile("_search=a b c d e f g h i j k l m n o p q r s", false), 0);
    ck_assert_int_eq(P.n, 19);
    char many[256] = "_search=";
    for (int i = 0; i < OB_SQL_MAX_PARAMS + 1; i++)
        strcat(many, i ? "+x" : "x");
    ck_assert_int_eq(compile(many, false), -1);
    ck_assert_ptr_null(E.key);
    ck_assert_str_eq(E.msg, "Too many filters.");
}
END_TEST

START_TEST(test_sort)
{
    ck_assert_int_eq(compile("_sort=-name, owner,bogus,slug,-", false), 0);
    /* References sort by the stored key; unsortable and unknown names go. */
    ck_assert_str_eq(order(), " ORDER BY t.name DESC, t.owner_id, t.id");
    ck_assert_int_eq(compile("_sort=num,num,num,num,num,num,num,num,num,-when", false), 0);
    ck_assert_str_eq(order(), " ORDER BY t.num, t.num, t.num, t.num, t.num, t.num, t.num,"
                              " t.num, t.id");
}
END_TEST

/* Whatever the request says, its text travels as a parameter. */
START_TEST(test_request_text_never_in_sql)
{
    const char *qs = "name=%27%20OR%201%3D1%20--&slug=%24%31&_search=%27)%3Bdrop&num__lte=1"
                     "&text=%27&_sort=name%3Bdrop";
    ck_assert_int_eq(compile(qs, true), 0);
    ck_assert_ptr_null(strchr(where(), '\''));
    ck_assert_ptr_null(strstr(where(), "drop"));
    ck_assert_ptr_null(strstr(order(), "drop"));
    ck_assert_str_eq(P.v[0], "%' OR 1=1 --%");
    ck_assert_str_eq(P.v[1], "$1");
}
END_TEST

Suite *query_suite(void)
{
    Suite *s = suite_create("query");
    TCase *tc = tcase_create("query");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_nothing_asked);
    tcase_add_test(tc, test_field_lookups);
    tcase_add_test(tc, test_refused_values);
    tcase_add_test(tc, test_custom_filters);
    tcase_add_test(tc, test_admin_fields);
    tcase_add_test(tc, test_search);
    tcase_add_test(tc, test_sort);
    tcase_add_test(tc, test_request_text_never_in_sql);
    suite_add_tcase(s, tc);
    return s;
}
