/* resource.c - list and retrieve for resources described by data (see
 * resource.h).  SQL text is assembled only from the descriptions
 * (identifiers we wrote); every value from the request travels as a
 * parameter. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "openbook/config.h"
#include "openbook/db.h"
#include "openbook/log.h"
#include "openbook/resource.h"

#define MAX_PARAMS 64
#define MAX_SEARCH_TERMS 16
#define MAX_SORT_KEYS 8

typedef struct {
    const char *v[MAX_PARAMS];
    int n;
} params;

static int add_param(params *p, const char *v)
{
    if (p->n >= MAX_PARAMS)
        return -1;
    p->v[p->n] = v;
    return ++p->n;
}

void ob_db_failure(ob_request *r)
{
    /* Class 22 is "data exception": a value the database refused.  That is
     * the client's input, never a reason for a 5xx. */
    if (strncmp(ob_db_last_sqlstate(r->db), "22", 2) == 0) {
        ob_fail(r, 400, "Invalid value in request.");
        return;
    }
    ob_warn("database error on %s %s: %s", r->method_name, r->path, ob_db_last_error(r->db));
    ob_fail(r, 503, "Service temporarily unavailable.");
}

static const ob_field *field_by_name(const ob_resource *res, const char *name, size_t n)
{
    for (size_t i = 0; i < res->nfields; i++)
        if (strlen(res->fields[i].name) == n && strncmp(res->fields[i].name, name, n) == 0)
            return &res->fields[i];
    return NULL;
}

/* The visibility predicate of permissions.md §7, as far as the guard
 * needs.  Global guard: the view or change permission granted to
 * everybody.  (Users and model permissions join here with accounts.) */
static void visible_sql(ob_buf *sql, params *p, const ob_resource *res, ob_request *r)
{
    switch (res->guard) {
    case OB_GUARD_GLOBAL: {
        int a = add_param(p, res->app_label);
        int v = add_param(p, ob_arena_printf(r->arena, "view_%s", res->model));
        int c = add_param(p, ob_arena_printf(r->arena, "change_%s", res->model));
        ob_buf_printf(sql,
                      "EXISTS (SELECT 1 FROM anonymous_permissions ap"
                      " JOIN permissions p ON p.id = ap.permission_id"
                      " JOIN content_types ct ON ct.id = p.content_type_id"
                      " WHERE ct.app_label = $%d AND p.codename IN ($%d, $%d))",
                      a, v, c);
        break;
    }
    }
}

/* Escapes LIKE metacharacters so a search term matches literally. */
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

/* _search: terms split at white space and commas; "quoted terms" keep
 * their spaces.  Every term must match at least one search field. */
static void search_sql(ob_buf *sql, params *p, const ob_resource *res, ob_request *r)
{
    const char *q = ob_request_query(r, "_search");
    if (!q)
        return;
    size_t nterms = 0;
    const char *s = q;
    while (*s && nterms < MAX_SEARCH_TERMS) {
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
        int idx = add_param(p, like_pattern(r->arena, start, (size_t)(end - start)));
        if (idx < 0)
            return;
        nterms++;
        ob_buf_puts(sql, " AND (");
        bool first = true;
        for (size_t i = 0; i < res->nfields; i++) {
            const ob_field *f = &res->fields[i];
            if (!(f->flags & OB_FF_SEARCH))
                continue;
            ob_buf_printf(sql, "%s%s::text ILIKE $%d", first ? "" : " OR ", f->sql, idx);
            first = false;
        }
        if (first)
            ob_buf_puts(sql, "false");
        ob_buf_putc(sql, ')');
    }
}

static bool valid_int(const char *v)
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

/* Filters: field=v, field__lte, field__gte, field__icontains.  Returns -1
 * after setting a 400 response for an invalid value. */
static int filter_sql(ob_buf *sql, params *p, const ob_resource *res, ob_request *r)
{
    for (size_t i = 0; i < r->nparams; i++) {
        const char *key = r->params[i].key;
        const char *val = r->params[i].value;
        if (key[0] == '_')
            continue;
        const char *sep = strstr(key, "__");
        size_t flen = sep ? (size_t)(sep - key) : strlen(key);
        const ob_field *f = field_by_name(res, key, flen);
        if (!f)
            continue; /* unknown parameters are ignored */
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
        int idx;
        if (substr) {
            idx = add_param(p, like_pattern(r->arena, val, strlen(val)));
            if (idx > 0)
                ob_buf_printf(sql, " AND %s::text ILIKE $%d", f->sql, idx);
            continue;
        }
        if (f->type == OB_FT_INT && !valid_int(val)) {
            ob_json *j = ob_json_response(r, 400);
            ob_json_object_begin(j);
            ob_json_key(j, key);
            ob_json_array_begin(j);
            ob_json_string(j, "Enter a whole number.");
            ob_json_array_end(j);
            ob_json_object_end(j);
            return -1;
        }
        if (f->type == OB_FT_BOOL) {
            if (strcasecmp(val, "true") == 0 || strcmp(val, "1") == 0)
                val = "true";
            else if (strcasecmp(val, "false") == 0 || strcmp(val, "0") == 0)
                val = "false";
            else
                continue; /* other values are ignored (api-conventions.md §7.3) */
        }
        idx = add_param(p, val);
        if (idx > 0)
            ob_buf_printf(sql, " AND %s %s $%d", f->sql, op, idx);
    }
    return 0;
}

static void order_sql(ob_buf *sql, const ob_resource *res, ob_request *r)
{
    const char *s = ob_request_query(r, "_sort");
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
        const ob_field *f = n ? field_by_name(res, name, n) : NULL;
        if (f && (f->flags & OB_FF_SORT)) {
            ob_buf_printf(sql, "%s%s%s", used ? ", " : "", f->sql, desc ? " DESC" : "");
            used++;
        }
        s = comma ? comma + 1 : NULL;
    }
    if (!used)
        ob_buf_puts(sql, res->default_order);
    ob_buf_printf(sql, ", %s", res->pk->sql);
}

/* Which fields to output: _fields then _omit (top level; dotted paths
 * name nested levels, which these resources do not have). */
static void field_mask(ob_request *r, const ob_resource *res, bool *show)
{
    const char *only = ob_request_query(r, "_fields");
    const char *omit = ob_request_query(r, "_omit");
    for (size_t i = 0; i < res->nfields; i++)
        show[i] = !only || !*only;
    const char *lists[2] = {only && *only ? only : NULL, omit};
    for (int l = 0; l < 2; l++) {
        const char *s = lists[l];
        while (s && *s) {
            const char *comma = strchr(s, ',');
            size_t n = comma ? (size_t)(comma - s) : strlen(s);
            for (size_t i = 0; i < res->nfields; i++)
                if (strlen(res->fields[i].name) == n && strncmp(res->fields[i].name, s, n) == 0)
                    show[i] = l == 0;
            s = comma ? comma + 1 : NULL;
        }
    }
}

static void write_value(ob_json *j, const ob_field *f, const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col)) {
        ob_json_null(j);
        return;
    }
    const char *v = PQgetvalue(res, row, col);
    int len = PQgetlength(res, row, col);
    switch (f->type) {
    case OB_FT_INT:
        ob_json_int(j, strtoll(v, NULL, 10));
        break;
    case OB_FT_NUMBER:
        ob_json_double(j, strtod(v, NULL));
        break;
    case OB_FT_BOOL:
        ob_json_bool(j, v[0] == 't');
        break;
    case OB_FT_JSON:
        ob_json_raw(j, v, (size_t)len);
        break;
    case OB_FT_DATETIME:
    case OB_FT_TEXT:
        ob_json_string_n(j, v, (size_t)len);
        break;
    }
}

static void write_row(ob_json *j, const ob_resource *res, const bool *show, const PGresult *pg,
                      int row)
{
    ob_json_object_begin(j);
    for (size_t i = 0; i < res->nfields; i++) {
        if (!show[i])
            continue;
        ob_json_key(j, res->fields[i].name);
        write_value(j, &res->fields[i], pg, row, (int)i);
    }
    ob_json_object_end(j);
}

static void select_sql(ob_buf *sql, const ob_resource *res)
{
    ob_buf_puts(sql, "SELECT ");
    for (size_t i = 0; i < res->nfields; i++) {
        const ob_field *f = &res->fields[i];
        if (f->type == OB_FT_DATETIME)
            ob_buf_printf(sql, "%sto_char(%s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
                          i ? ", " : "", f->sql);
        else
            ob_buf_printf(sql, "%s%s", i ? ", " : "", f->sql);
    }
}

/* Appends `key=value` pairs, sorted by key and form-encoded the way the
 * original's paginator writes them (Python's urlencode). */
static void encode_component(ob_buf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || c == '_' || c == '.' || c == '-' || c == '~')
            ob_buf_putc(out, (char)c);
        else if (c == ' ')
            ob_buf_putc(out, '+');
        else {
            ob_buf_putc(out, '%');
            ob_buf_putc(out, hex[c >> 4]);
            ob_buf_putc(out, hex[c & 15]);
        }
    }
}

static int kv_cmp(const void *a, const void *b)
{
    return strcmp(((const ob_kv *)a)->key, ((const ob_kv *)b)->key);
}

static const char *page_url(ob_request *r, long page)
{
    ob_buf url;
    ob_buf_init(&url, r->arena);
    ob_buf_puts(&url, ob_request_base_url(r));
    /* The canonical form ends with '/'. */
    ob_buf_append(&url, r->path, r->path_len);
    if (r->path_len == 0 || r->path[r->path_len - 1] != '/')
        ob_buf_putc(&url, '/');
    ob_kv *kv = ob_arena_calloc(r->arena, r->nparams + 1, sizeof *kv);
    size_t n = 0;
    for (size_t i = 0; i < r->nparams; i++)
        if (strcmp(r->params[i].key, "_page") != 0)
            kv[n++] = r->params[i];
    if (page > 1) {
        kv[n].key = "_page";
        kv[n].value = ob_arena_printf(r->arena, "%ld", page);
        n++;
    }
    /* Stable by key: values of a repeated key keep their order. */
    for (size_t i = 1; i < n; i++) {
        ob_kv x = kv[i];
        size_t k = i;
        while (k > 0 && kv_cmp(&kv[k - 1], &x) > 0) {
            kv[k] = kv[k - 1];
            k--;
        }
        kv[k] = x;
    }
    for (size_t i = 0; i < n; i++) {
        ob_buf_putc(&url, i ? '&' : '?');
        encode_component(&url, kv[i].key);
        ob_buf_putc(&url, '=');
        encode_component(&url, kv[i].value);
    }
    return ob_buf_cstr(&url);
}

static long page_size(ob_request *r)
{
    const char *v = ob_request_query(r, "_page_size");
    long def = r->cfg->page_size_default, max = r->cfg->page_size_max;
    if (!v || !valid_int(v))
        return def;
    long n = strtol(v, NULL, 10);
    if (n < 1)
        return def;
    return n > max ? max : n;
}

void ob_resource_list(ob_request *r, const ob_resource *res)
{
    params p = {.n = 0};
    ob_buf where;
    ob_buf_init(&where, r->arena);
    ob_buf_puts(&where, " FROM ");
    ob_buf_puts(&where, res->from);
    ob_buf_puts(&where, " WHERE ");
    visible_sql(&where, &p, res, r);
    if (filter_sql(&where, &p, res, r))
        return;
    search_sql(&where, &p, res, r);

    long size = page_size(r);
    const char *pv = ob_request_query(r, "_page");
    long page = 1;
    long count = -1;
    if (pv && strcmp(pv, "last") == 0) {
        ob_buf csql;
        ob_buf_init(&csql, r->arena);
        ob_buf_puts(&csql, "SELECT count(*)");
        ob_buf_append(&csql, where.data, where.len);
        PGresult *cres = ob_db_query(r->db, r->arena, ob_buf_cstr(&csql), p.n, p.v);
        if (!cres) {
            ob_db_failure(r);
            return;
        }
        count = strtol(PQgetvalue(cres, 0, 0), NULL, 10);
        page = count > 0 ? (count + size - 1) / size : 1;
    } else if (pv) {
        if (!valid_int(pv) || (page = strtol(pv, NULL, 10)) < 1 || page > 1000000000L) {
            ob_fail(r, 404, "Invalid page.");
            return;
        }
    }

    /* One query: the page and, through a window, the total. */
    ob_buf sql;
    ob_buf_init(&sql, r->arena);
    select_sql(&sql, res);
    ob_buf_puts(&sql, ", count(*) OVER ()");
    ob_buf_append(&sql, where.data, where.len);
    order_sql(&sql, res, r);
    int li = add_param(&p, ob_arena_printf(r->arena, "%ld", size));
    int oi = add_param(&p, ob_arena_printf(r->arena, "%ld", (page - 1) * size));
    ob_buf_printf(&sql, " LIMIT $%d OFFSET $%d", li, oi);
    PGresult *pg = ob_db_query(r->db, r->arena, ob_buf_cstr(&sql), p.n, p.v);
    if (!pg) {
        ob_db_failure(r);
        return;
    }
    int rows = PQntuples(pg);
    if (rows > 0)
        count = strtol(PQgetvalue(pg, 0, (int)res->nfields), NULL, 10);
    else if (count < 0)
        count = 0;
    if (rows == 0 && page > 1) {
        /* Past the last page (page 1 of an empty list is valid). */
        ob_fail(r, 404, "Invalid page.");
        return;
    }
    bool *show = ob_arena_alloc(r->arena, res->nfields * sizeof *show);
    field_mask(r, res, show);

    ob_json *j = ob_json_response(r, 200);
    ob_json_object_begin(j);
    ob_json_kv_int(j, "count", count);
    ob_json_key(j, "next");
    if ((page * size) < count)
        ob_json_string(j, page_url(r, page + 1));
    else
        ob_json_null(j);
    ob_json_key(j, "previous");
    if (page > 1)
        ob_json_string(j, page_url(r, page - 1));
    else
        ob_json_null(j);
    ob_json_key(j, "results");
    ob_json_array_begin(j);
    for (int i = 0; i < rows; i++)
        write_row(j, res, show, pg, i);
    ob_json_array_end(j);
    ob_json_object_end(j);
}

void ob_resource_retrieve(ob_request *r, const ob_resource *res)
{
    const char *key = r->npath_params ? r->path_params[0] : "";
    bool ok = res->pk_is_int ? valid_int(key) && key[0] != '-' && key[0] != '+' &&
                                   strtoll(key, NULL, 10) <= 2147483647LL
                             : strlen(key) <= res->pk_max_len;
    if (!ok) {
        ob_failf(r, 404, "No %s matches the given query.", res->class_name);
        return;
    }
    params p = {.n = 0};
    ob_buf sql;
    ob_buf_init(&sql, r->arena);
    select_sql(&sql, res);
    ob_buf_puts(&sql, " FROM ");
    ob_buf_puts(&sql, res->from);
    ob_buf_puts(&sql, " WHERE ");
    visible_sql(&sql, &p, res, r);
    int k = add_param(&p, key);
    ob_buf_printf(&sql, " AND %s = $%d", res->pk->sql, k);
    PGresult *pg = ob_db_query(r->db, r->arena, ob_buf_cstr(&sql), p.n, p.v);
    if (!pg) {
        ob_db_failure(r);
        return;
    }
    if (PQntuples(pg) == 0) {
        ob_failf(r, 404, "No %s matches the given query.", res->class_name);
        return;
    }
    bool *show = ob_arena_alloc(r->arena, res->nfields * sizeof *show);
    field_mask(r, res, show);
    ob_json *j = ob_json_response(r, 200);
    write_row(j, res, show, pg, 0);
}
