/* fuzz_query.c - the list query compiler (src/api/query.c).
 *
 * Input: a query string, parsed as a request's is, compiled against a
 * description that has every kind of field, filter lookup, custom filter,
 * search and sort key.  Invariants: it never crashes; a refusal names a
 * parameter of the query and one of the compiler's messages; and the SQL
 * it writes is made only of the description's own SQL, the compiler's
 * glue and $n placeholders numbered within the parameters, so no byte of
 * the query string ever reaches the text: it travels as a parameter. */
#include <string.h>
#include "openbook/http/parse.h"
#include "openbook/api/query.h"
#include "fuzz_common.h"

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
    {.name = "part", .kind = OB_FILT_SUBSTR, .sql = "t.c ILIKE $1"},
    {.name = "uuid", .kind = OB_FILT_UUID, .sql = "t.d = $1::uuid"},
    {.name = "int", .kind = OB_FILT_INT, .sql = "t.e = $1::int"},
    {.name = "none", .kind = OB_FILT_ISNULL, .sql = "t.f IS NULL", .sql_false = "t.f IS NOT NULL"},
    {.name = "ref", .kind = OB_FILT_REF, .sql = "t.g = $1::uuid"},
    {.name = "iref", .kind = OB_FILT_INT_REF, .sql = "t.h = $1::int"},
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

/* The pieces the text may be made of: the description's SQL (a custom
 * filter's as a template whose $1 is any placeholder) and the glue. */
static const char *const glue[] = {
    " AND (", " AND ", " OR ", "::text ILIKE ", " ORDER BY ", " DESC", ", ", " = ",
    " <= ", " >= ", "::timestamptz", "false", "(", ")",
};

/* Length of "$<digits>" at s whose number is 1..nparams, else 0. */
static size_t placeholder(const char *s, int nparams)
{
    if (s[0] != '$' || s[1] < '1' || s[1] > '9')
        return 0;
    size_t n = 1;
    long v = 0;
    while (s[n] >= '0' && s[n] <= '9' && n < 6)
        v = v * 10 + (s[n++] - '0');
    return v >= 1 && v <= nparams ? n : 0;
}

/* Length of the text at s that a template matches ($1: any placeholder). */
static size_t template_at(const char *s, const char *t, int nparams)
{
    size_t i = 0;
    while (*t) {
        if (t[0] == '$' && t[1] == '1') {
            size_t n = placeholder(s + i, nparams);
            if (!n)
                return 0;
            i += n;
            t += 2;
        } else if (s[i] == *t) {
            i++;
            t++;
        } else {
            return 0;
        }
    }
    return i;
}

static size_t longest(size_t best, size_t n)
{
    return n > best ? n : best;
}

static void check_text(const char *sql, int nparams)
{
    for (const char *s = sql; *s;) {
        size_t best = placeholder(s, nparams);
        for (size_t i = 0; i < res.nfields; i++)
            best = longest(best, template_at(s, res.fields[i].sql, 0));
        for (size_t i = 0; i < res.nrefs; i++)
            best = longest(best, template_at(s, res.refs[i].sort_sql, 0));
        for (size_t i = 0; i < res.nfilters; i++) {
            best = longest(best, template_at(s, res.filters[i].sql, nparams));
            if (res.filters[i].sql_false)
                best = longest(best, template_at(s, res.filters[i].sql_false, 0));
        }
        for (size_t i = 0; search[i]; i++)
            best = longest(best, template_at(s, search[i], 0));
        best = longest(best, template_at(s, res.default_order, 0));
        for (size_t i = 0; i < sizeof glue / sizeof glue[0]; i++)
            best = longest(best, template_at(s, glue[i], 0));
        FUZZ_CHECK(best > 0, "SQL text not from the description at \"%.40s\" in \"%s\"", s, sql);
        s += best;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ob_arena *a = fuzz_arena();
    ob_arena_reset(a);
    ob_kv *kv = NULL;
    size_t n = 0;
    ob_parse_urlencoded(a, (const char *)data, size, 100, &kv, &n);
    for (int su = 0; su < 2; su++) {
        ob_query_in in = {a, kv, n, su == 1};
        ob_sql_params p = {.n = 0};
        ob_buf where, order;
        ob_buf_init(&where, a);
        ob_buf_init(&order, a);
        ob_query_error err = {0};
        if (ob_query_compile(&in, &res, &p, &where, &order, &err) != 0) {
            FUZZ_CHECK(err.msg, "a refusal without a message");
            if (!err.key) {
                FUZZ_CHECK(strcmp(err.msg, "Too many filters.") == 0 && p.full,
                           "refused as a whole: %s", err.msg);
                continue;
            }
            FUZZ_CHECK(ob_kv_find(kv, n, err.key) != NULL, "refused %s, not a parameter",
                       err.key);
            FUZZ_CHECK(strcmp(err.msg, "Enter a whole number.") == 0 ||
                           strcmp(err.msg, "Enter a valid date/time.") == 0 ||
                           strcmp(err.msg, "Enter a valid UUID.") == 0 ||
                           strncmp(err.msg, "Select a valid choice.", 22) == 0,
                       "message %s", err.msg);
            continue;
        }
        FUZZ_CHECK(p.n <= OB_SQL_MAX_PARAMS && !p.full, "%d parameters", p.n);
        check_text(ob_buf_cstr(&where), p.n);
        check_text(ob_buf_cstr(&order), p.n);
        /* The secret field exists for superusers only. */
        if (!su)
            FUZZ_CHECK(!strstr(ob_buf_cstr(&where), "t.secret") &&
                           !strstr(ob_buf_cstr(&order), "t.secret"),
                       "an admin field for a non-superuser");
    }
    return 0;
}
