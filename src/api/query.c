/* query.c - the list query compiler (query.h): filters, _search and
 * _sort of a list request against a description.  SQL text comes only
 * from the description; every value from the query string is a
 * parameter. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "openbook/api/query.h"

#define MAX_SORT_KEYS 8

/* A reference filter's value that names no possible item (the message of
 * the original's ModelChoiceFilter, api-conventions.md §7.3). */
#define INVALID_CHOICE "Select a valid choice. That choice is not one of the available choices."

static const char *query_get(const ob_query_in *in, const char *key)
{
    const ob_kv *kv = ob_kv_find(in->params, in->nparams, key);
    return kv ? kv->value : NULL;
}

const ob_field *ob_query_field(const ob_resource *res, const char *name, size_t n,
                               bool superuser)
{
    for (size_t i = 0; i < res->nfields; i++) {
        const ob_field *f = &res->fields[i];
        if (strlen(f->name) == n && strncmp(f->name, name, n) == 0)
            return !(f->flags & OB_FF_ADMIN) || superuser ? f : NULL;
    }
    return NULL;
}

const ob_field_ref *ob_query_ref(const ob_resource *res, const ob_field *f)
{
    for (size_t i = 0; i < res->nrefs; i++)
        if (strcmp(res->refs[i].field, f->name) == 0)
            return &res->refs[i];
    return NULL;
}

bool ob_query_valid_int(const char *v)
{
    if (*v == '-' || *v == '+')
        v++;
    if (!*v || strlen(v) > 18)
        return false;
    for (; *v; v++)
        if (!isdigit((unsigned char)*v))
            return false;
    return true;
}

/* Escapes LIKE metacharacters so a term matches literally. */
static char *like_pattern(ob_arena *a, const char *term, size_t n)
{
    char *out = ob_arena_alloc(a, n * 2 + 3);
    size_t j = 0;
    out[j++] = '%';
    for (size_t i = 0; i < n; i++) {
        if (term[i] == '%' || term[i] == '_' || term[i] == '\\')
            out[j++] = '\\';
        out[j++] = term[i];
    }
    out[j++] = '%';
    out[j] = '\0';
    return out;
}

static int refuse(ob_query_error *err, const char *key, const char *msg)
{
    err->key = key;
    err->msg = msg;
    return -1;
}

/* Filters and search terms that do not fit in one statement: the list is
 * refused as a whole, never run with one left out (key NULL). */
static int too_many(ob_query_error *err)
{
    return refuse(err, NULL, "Too many filters.");
}

static bool valid_int32(const char *v)
{
    if (!ob_query_valid_int(v))
        return false;
    long long n = strtoll(v, NULL, 10);
    return n <= 2147483647LL && n >= -2147483647LL;
}

/* _search: terms split at white space and commas; "quoted terms" keep
 * their spaces.  Every term must match at least one search field; each is
 * a parameter, so past the bound the list is refused, never a search that
 * quietly leaves terms out. */
static int search_sql(const ob_query_in *in, const ob_resource *res, ob_sql_params *p,
                      ob_buf *sql, ob_query_error *err)
{
    const char *q = query_get(in, "_search");
    if (!q)
        return 0;
    const char *s = q;
    while (*s) {
        while (*s == ' ' || *s == ',' || *s == '\t' || *s == '\n' || *s == '\r')
            s++;
        if (!*s)
            break;
        const char *start, *end;
        if (*s == '"') {
            start = ++s;
            while (*s && *s != '"')
                s++;
            end = s;
            if (*s)
                s++;
        } else {
            start = s;
            while (*s && *s != ' ' && *s != ',' && *s != '\t' && *s != '\n' && *s != '\r')
                s++;
            end = s;
        }
        if (end == start)
            continue;
        int idx = ob_sql_param(p, like_pattern(in->arena, start, (size_t)(end - start)));
        if (idx < 0)
            return too_many(err);
        ob_buf_puts(sql, " AND (");
        bool first = true;
        for (size_t i = 0; i < res->nfields; i++) {
            const ob_field *f = &res->fields[i];
            if (!(f->flags & OB_FF_SEARCH))
                continue;
            ob_buf_printf(sql, "%s%s::text ILIKE $%d", first ? "" : " OR ", f->sql, idx);
            first = false;
        }
        for (size_t i = 0; res->search_sql && res->search_sql[i]; i++) {
            ob_buf_printf(sql, "%s%s::text ILIKE $%d", first ? "" : " OR ", res->search_sql[i],
                          idx);
            first = false;
        }
        if (first)
            ob_buf_puts(sql, "false");
        ob_buf_putc(sql, ')');
    }
    return 0;
}

/* The resource's own filters (res->filters).  1: applied, 0: not one of
 * them, -1: refused (*err). */
static int custom_filter(const ob_query_in *in, const ob_resource *res, ob_sql_params *p,
                         ob_buf *sql, const char *key, const char *val, ob_query_error *err)
{
    for (size_t i = 0; i < res->nfilters; i++) {
        const ob_filter *f = &res->filters[i];
        if (strcmp(f->name, key) != 0)
            continue;
        const char *v = val;
        switch (f->kind) {
        case OB_FILT_SUBSTR:
            v = like_pattern(in->arena, val, strlen(val));
            break;
        case OB_FILT_UUID: {
            char *u = ob_arena_alloc(in->arena, 37);
            if (strlen(val) > 36 || !ob_parse_uuid(val, u))
                return refuse(err, key, "Enter a valid UUID.");
            v = u;
            break;
        }
        case OB_FILT_INT:
            if (!valid_int32(val))
                return refuse(err, key, "Enter a whole number.");
            break;
        case OB_FILT_REF: {
            char *u = ob_arena_alloc(in->arena, 37);
            if (strlen(val) > 36 || !ob_parse_uuid(val, u))
                return refuse(err, key, INVALID_CHOICE);
            v = u;
            break;
        }
        case OB_FILT_INT_REF:
            if (!valid_int32(val))
                return refuse(err, key, INVALID_CHOICE);
            break;
        case OB_FILT_ISNULL:
            if (strcasecmp(val, "true") == 0 || strcmp(val, "1") == 0)
                ob_buf_printf(sql, " AND %s", f->sql);
            else if (strcasecmp(val, "false") == 0 || strcmp(val, "0") == 0)
                ob_buf_printf(sql, " AND %s", f->sql_false);
            return 1; /* other values are ignored, as boolean filters */
        case OB_FILT_TEXT:
            break;
        }
        /* $1 in the filter's SQL is the value. */
        int idx = ob_sql_param(p, v);
        if (idx < 0)
            return too_many(err);
        ob_buf_puts(sql, " AND (");
        for (const char *q = f->sql; *q; q++) {
            if (q[0] == '$' && q[1] == '1') {
                ob_buf_printf(sql, "$%d", idx);
                q++;
            } else {
                ob_buf_putc(sql, *q);
            }
        }
        ob_buf_putc(sql, ')');
        return 1;
    }
    return 0;
}

/* Filters: field=v, field__lte, field__gte, field__icontains, and the
 * resource's own.  Unknown parameters are ignored. */
static int filter_sql(const ob_query_in *in, const ob_resource *res, ob_sql_params *p,
                      ob_buf *sql, ob_query_error *err)
{
    for (size_t i = 0; i < in->nparams; i++) {
        const char *key = in->params[i].key;
        const char *val = in->params[i].value;
        if (key[0] == '_')
            continue;
        int cf = custom_filter(in, res, p, sql, key, val, err);
        if (cf < 0)
            return -1;
        if (cf > 0)
            continue;
        const char *sep = strstr(key, "__");
        size_t flen = sep ? (size_t)(sep - key) : strlen(key);
        const ob_field *f = ob_query_field(res, key, flen, in->superuser);
        if (!f)
            continue;
        const char *lookup = sep ? sep + 2 : "";
        const char *op = NULL;
        bool substr = false;
        if (!*lookup && (f->flags & OB_FF_SUBSTR))
            substr = true;
        else if (!*lookup && (f->flags & OB_FF_EQ))
            op = "=";
        else if (strcmp(lookup, "icontains") == 0 && (f->flags & (OB_FF_ICONTAINS | OB_FF_SUBSTR)))
            substr = true;
        else if (strcmp(lookup, "lte") == 0 && (f->flags & OB_FF_RANGE))
            op = "<=";
        else if (strcmp(lookup, "gte") == 0 && (f->flags & OB_FF_RANGE))
            op = ">=";
        else
            continue;
        const char *cast = "";
        if (substr) {
            val = like_pattern(in->arena, val, strlen(val));
        } else if (f->type == OB_FT_INT && !ob_query_valid_int(val)) {
            return refuse(err, key, "Enter a whole number.");
        } else if (f->type == OB_FT_DATETIME) {
            char *norm = ob_arena_alloc(in->arena, 40);
            if (!ob_parse_datetime(val, true, norm))
                return refuse(err, key, "Enter a valid date/time.");
            val = norm;
            cast = "::timestamptz";
        } else if (f->type == OB_FT_BOOL) {
            if (strcasecmp(val, "true") == 0 || strcmp(val, "1") == 0)
                val = "true";
            else if (strcasecmp(val, "false") == 0 || strcmp(val, "0") == 0)
                val = "false";
            else
                continue; /* other values are ignored (api-conventions.md §7.3) */
        }
        int idx = ob_sql_param(p, val);
        if (idx < 0)
            return too_many(err);
        if (substr)
            ob_buf_printf(sql, " AND %s::text ILIKE $%d", f->sql, idx);
        else
            ob_buf_printf(sql, " AND %s %s $%d%s", f->sql, op, idx, cast);
    }
    return 0;
}

static const char *sort_expr(const ob_resource *res, const ob_field *f)
{
    const ob_field_ref *ref = ob_query_ref(res, f);
    return ref && ref->sort_sql ? ref->sort_sql : f->sql;
}

/* _sort: up to 8 comma-separated field names, "-" for descending; names
 * that are not sortable are left out.  The key breaks ties. */
static void order_sql(const ob_query_in *in, const ob_resource *res, ob_buf *sql)
{
    const char *s = query_get(in, "_sort");
    size_t used = 0;
    ob_buf_puts(sql, " ORDER BY ");
    while (s && *s && used < MAX_SORT_KEYS) {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        const char *name = s;
        while (n > 0 && *name == ' ') {
            name++;
            n--;
        }
        bool desc = n > 0 && *name == '-';
        if (desc) {
            name++;
            n--;
        }
        const ob_field *f = n ? ob_query_field(res, name, n, in->superuser) : NULL;
        if (f && (f->flags & OB_FF_SORT)) {
            ob_buf_printf(sql, "%s%s%s", used ? ", " : "", sort_expr(res, f), desc ? " DESC" : "");
            used++;
        }
        s = comma ? comma + 1 : NULL;
    }
    if (!used)
        ob_buf_puts(sql, res->default_order);
    ob_buf_puts(sql, ", ");
    ob_buf_puts(sql, res->pk->sql);
}

int ob_query_compile(const ob_query_in *in, const ob_resource *res, ob_sql_params *p,
                     ob_buf *where, ob_buf *order, ob_query_error *err)
{
    if (filter_sql(in, res, p, where, err) != 0 || search_sql(in, res, p, where, err) != 0)
        return -1;
    order_sql(in, res, order);
    return 0;
}
