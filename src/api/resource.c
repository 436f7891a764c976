/* resource.c - list and retrieve for resources described by data (see
 * resource.h).  SQL text is assembled only from the descriptions
 * (identifiers we wrote); every value from the request travels as a
 * parameter. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "openbook/auth/auth.h"
#include "openbook/core/config.h"
#include "openbook/db/db.h"
#include "openbook/core/log.h"
#include "openbook/api/perm.h"
#include "openbook/api/read_cache.h"
#include "openbook/api/resource.h"

#define MAX_SORT_KEYS 8

typedef ob_sql_params params;

int ob_sql_param(ob_sql_params *p, const char *v)
{
    if (p->n >= OB_SQL_MAX_PARAMS) {
        p->full = true;
        return -1;
    }
    p->v[p->n] = v;
    return ++p->n;
}

/* A list whose filters and search terms do not fit in one statement is
 * refused as a whole: never run with a filter left out, never a 5xx. */
static void too_many_filters(ob_request *r)
{
    ob_fail(r, 400, "Too many filters.");
}

#define add_param ob_sql_param

static bool is_superuser(const ob_request *r)
{
    return r->user && r->user->is_superuser;
}

/* A field exists for this requester (admin fields: superusers only). */
static bool field_exists(const ob_request *r, const ob_field *f)
{
    return !(f->flags & OB_FF_ADMIN) || is_superuser(r);
}

static const ob_field *field_by_name(const ob_resource *res, const char *name, size_t n)
{
    for (size_t i = 0; i < res->nfields; i++)
        if (strlen(res->fields[i].name) == n && strncmp(res->fields[i].name, name, n) == 0)
            return &res->fields[i];
    return NULL;
}

/* As field_by_name, among the fields this requester has. */
static const ob_field *field_for(ob_request *r, const ob_resource *res, const char *name,
                                 size_t n)
{
    const ob_field *f = field_by_name(res, name, n);
    return f && field_exists(r, f) ? f : NULL;
}

/* The visibility predicate of permissions.md §7, written by the engine
 * (perm.c) from what the requester holds.  -1: answered (503). */
static int visible_sql(ob_buf *sql, params *p, const ob_resource *res, ob_request *r)
{
    return ob_perm_visible_sql(sql, p, res, r);
}

void ob_resource_visible_sql(ob_buf *sql, ob_sql_params *p, const ob_resource *res,
                             ob_request *r)
{
    if (visible_sql(sql, p, res, r) != 0)
        ob_buf_puts(sql, "false"); /* the 503 is answered; keep the SQL valid */
}

int ob_perm_global(ob_request *r, const char *app_label, const char *codename)
{
    if (ob_perm_is_superuser(r))
        return 1;
    int id = ob_perm_id2(r, app_label, codename);
    return id < 0 ? -1 : ob_perm_global_id(r, id);
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
 * their spaces.  Every term must match at least one search field; each is
 * a parameter, so past the bound the list is a 400, never a search that
 * quietly leaves terms out.  Returns -1 after answering it. */
static int search_sql(ob_buf *sql, params *p, const ob_resource *res, ob_request *r)
{
    const char *q = ob_request_query(r, "_search");
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
        int idx = add_param(p, like_pattern(r->arena, start, (size_t)(end - start)));
        if (idx < 0) {
            too_many_filters(r);
            return -1;
        }
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

static bool valid_int32(const char *v)
{
    if (!valid_int(v))
        return false;
    long long n = strtoll(v, NULL, 10);
    return n <= 2147483647LL && n >= -2147483647LL;
}

/* A reference filter's value that names no possible item (the message of
 * the original's ModelChoiceFilter, api-conventions.md §7.3). */
#define INVALID_CHOICE "Select a valid choice. That choice is not one of the available choices."

static void filter_error(ob_request *r, const char *key, const char *msg)
{
    ob_json *j = ob_json_response(r, 400);
    ob_json_object_begin(j);
    ob_json_key(j, key);
    ob_json_array_begin(j);
    ob_json_string(j, msg);
    ob_json_array_end(j);
    ob_json_object_end(j);
}

/* The resource's own filters (res->filters).  1: applied, 0: not one of
 * them, -1: 400 answered. */
static int custom_filter(ob_buf *sql, params *p, const ob_resource *res, ob_request *r,
                         const char *key, const char *val)
{
    for (size_t i = 0; i < res->nfilters; i++) {
        const ob_filter *f = &res->filters[i];
        if (strcmp(f->name, key) != 0)
            continue;
        const char *v = val;
        switch (f->kind) {
        case OB_FILT_SUBSTR:
            v = like_pattern(r->arena, val, strlen(val));
            break;
        case OB_FILT_UUID: {
            char *u = ob_arena_alloc(r->arena, 37);
            if (strlen(val) > 36 || !ob_parse_uuid(val, u)) {
                filter_error(r, key, "Enter a valid UUID.");
                return -1;
            }
            v = u;
            break;
        }
        case OB_FILT_INT:
            if (!valid_int32(val)) {
                filter_error(r, key, "Enter a whole number.");
                return -1;
            }
            break;
        case OB_FILT_REF: {
            char *u = ob_arena_alloc(r->arena, 37);
            if (strlen(val) > 36 || !ob_parse_uuid(val, u)) {
                filter_error(r, key, INVALID_CHOICE);
                return -1;
            }
            v = u;
            break;
        }
        case OB_FILT_INT_REF:
            if (!valid_int32(val)) {
                filter_error(r, key, INVALID_CHOICE);
                return -1;
            }
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
        int idx = add_param(p, v);
        if (idx < 0) {
            too_many_filters(r);
            return -1;
        }
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

/* Filters: field=v, field__lte, field__gte, field__icontains.  Returns -1
 * after setting a 400 response for an invalid value. */
static int filter_sql(ob_buf *sql, params *p, const ob_resource *res, ob_request *r)
{
    for (size_t i = 0; i < r->nparams; i++) {
        const char *key = r->params[i].key;
        const char *val = r->params[i].value;
        if (key[0] == '_')
            continue;
        int cf = custom_filter(sql, p, res, r, key, val);
        if (cf < 0)
            return -1;
        if (cf > 0)
            continue;
        const char *sep = strstr(key, "__");
        size_t flen = sep ? (size_t)(sep - key) : strlen(key);
        const ob_field *f = field_for(r, res, key, flen);
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
        const char *cast = "";
        if (substr) {
            val = like_pattern(r->arena, val, strlen(val));
        } else if (f->type == OB_FT_INT && !valid_int(val)) {
            filter_error(r, key, "Enter a whole number.");
            return -1;
        } else if (f->type == OB_FT_DATETIME) {
            char *norm = ob_arena_alloc(r->arena, 40);
            if (!ob_parse_datetime(val, true, norm)) {
                filter_error(r, key, "Enter a valid date/time.");
                return -1;
            }
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
        int idx = add_param(p, val);
        if (idx < 0) {
            too_many_filters(r);
            return -1;
        }
        if (substr)
            ob_buf_printf(sql, " AND %s::text ILIKE $%d", f->sql, idx);
        else
            ob_buf_printf(sql, " AND %s %s $%d%s", f->sql, op, idx, cast);
    }
    return 0;
}

static const ob_field_ref *ref_of(const ob_resource *res, const ob_field *f)
{
    for (size_t i = 0; i < res->nrefs; i++)
        if (strcmp(res->refs[i].field, f->name) == 0)
            return &res->refs[i];
    return NULL;
}

static const char *sort_expr(const ob_resource *res, const ob_field *f)
{
    const ob_field_ref *ref = ref_of(res, f);
    return ref && ref->sort_sql ? ref->sort_sql : f->sql;
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
        const ob_field *f = n ? field_for(r, res, name, n) : NULL;
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

/* ---- output: field masks, expansions, values ---- */

/* Does the comma-separated entry s[0..n) address this level?  `prefix` is
 * "" for the top level or e.g. "user." inside an expanded user.  On a hit,
 * name and nlen give the field name at this level, and deeper tells
 * whether the entry goes on below it. */
static bool entry_at(const char *s, size_t n, const char *prefix, const char **name,
                     size_t *nlen, bool *deeper)
{
    size_t pl = strlen(prefix);
    if (n <= pl || strncmp(s, prefix, pl) != 0)
        return false;
    *name = s + pl;
    const char *dot = memchr(*name, '.', n - pl);
    *nlen = dot ? (size_t)(dot - *name) : n - pl;
    *deeper = dot != NULL;
    return *nlen > 0;
}

/* Which fields to output at one level: _fields, then _omit.  Dotted paths
 * reach nested levels (api-conventions.md §8): "user.username" keeps `user`
 * at the top and only `username` inside it.  A nested level that _fields
 * does not name shows all its fields. */
static bool listed(const char *list, const char *prefix, const char *name);
static void field_mask_lists(ob_request *r, const ob_resource *res, const char *prefix,
                             bool *show);

static void field_mask(ob_request *r, const ob_resource *res, const char *prefix, bool *show)
{
    field_mask_lists(r, res, prefix, show);
    /* Fields that exist only when expanded (api-conventions.md §8). */
    const char *expand = ob_request_query(r, "_expand");
    for (size_t i = 0; i < res->nfields; i++)
        if ((res->fields[i].flags & OB_FF_EXPAND_ONLY) &&
            !(expand && listed(expand, prefix, res->fields[i].name)))
            show[i] = false;
}

static void field_mask_lists(ob_request *r, const ob_resource *res, const char *prefix,
                             bool *show)
{
    const char *only = ob_request_query(r, "_fields");
    const char *omit = ob_request_query(r, "_omit");
    if (only && !*only)
        only = NULL;
    const char *name;
    size_t nlen;
    bool deeper;
    bool restrict_ = only && !*prefix;
    for (const char *s = only; s && *s && !restrict_;) {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        restrict_ = entry_at(s, n, prefix, &name, &nlen, &deeper);
        s = comma ? comma + 1 : NULL;
    }
    for (size_t i = 0; i < res->nfields; i++)
        show[i] = !restrict_ && field_exists(r, &res->fields[i]);
    const char *lists[2] = {restrict_ ? only : NULL, omit};
    for (int l = 0; l < 2; l++) {
        const char *s = lists[l];
        while (s && *s) {
            const char *comma = strchr(s, ',');
            size_t n = comma ? (size_t)(comma - s) : strlen(s);
            /* _omit removes only what it names exactly: "user.email" does
             * not remove `user`. */
            if (entry_at(s, n, prefix, &name, &nlen, &deeper) && (l == 0 || !deeper)) {
                for (size_t i = 0; i < res->nfields; i++)
                    if (strlen(res->fields[i].name) == nlen &&
                        strncmp(res->fields[i].name, name, nlen) == 0)
                        show[i] = l == 0 && field_exists(r, &res->fields[i]);
            }
            s = comma ? comma + 1 : NULL;
        }
    }
}

typedef struct expansions expansions;
typedef struct {
    size_t field;        /* index in res->fields */
    int col;             /* column of the stored key in the outer result */
    const char *key_sql; /* the stored key (a JSON array of keys for lists) */
    const ob_field_ref *ref;
    const ob_resource *target;
    PGresult *pg;        /* the visible referenced rows; key in the last column */
    bool *show;
    const char *prefix;
    bool list;           /* a list of references (JSON-typed field) */
    bool expand;         /* asked for in _expand; else only filters a plain id list */
    expansions *sub;     /* nested expansions of the target (dotted _expand) */
} expansion;

/* At most one per field of the resource: every expansion the resource
 * offers can be asked for at once (api-conventions.md §8 limits only the
 * depth), and every plain id list that needs filtering gets its entry. */
struct expansions {
    expansion *e;
    size_t n;
};

/* Whether the comma-separated list names `prefix``name` (alone or with a
 * deeper part). */
static bool listed(const char *list, const char *prefix, const char *name)
{
    size_t pl = strlen(prefix), nl = strlen(name);
    for (const char *s = list; s && *s;) {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        if (n > pl && strncmp(s, prefix, pl) == 0) {
            const char *rest = s + pl;
            size_t rn = n - pl;
            const char *dot = memchr(rest, '.', rn);
            size_t top = dot ? (size_t)(dot - rest) : rn;
            if (top == nl && strncmp(rest, name, nl) == 0)
                return true;
        }
        s = comma ? comma + 1 : NULL;
    }
    return false;
}

/* The fields named in _expand that this resource can expand, at the
 * level `prefix` ("" at the top, "role." below it), down to
 * http.max_expand_depth (3); and the plain id lists of object-guarded
 * items, which show only visible ids (api-conventions.md §8). */
static expansions *plan_level(ob_request *r, const ob_resource *res, const char *prefix,
                              int depth)
{
    expansions *ex = ob_arena_calloc(r->arena, 1, sizeof *ex);
    ex->e = ob_arena_calloc(r->arena, res->nfields + 1, sizeof *ex->e);
    const char *list = ob_request_query(r, "_expand");
    for (size_t i = 0; i < res->nfields; i++) {
        const ob_field *f = &res->fields[i];
        const ob_field_ref *ref = ref_of(res, f);
        if (!ref || !ref->expand || !ref->key_sql || !field_exists(r, f))
            continue;
        bool is_list = f->type == OB_FT_JSON;
        bool want = list && *list && depth < r->cfg->max_expand_depth &&
                    listed(list, prefix, f->name);
        bool filter = is_list && !ref->link_sql && ref->expand->guard != OB_GUARD_GLOBAL &&
                      !is_superuser(r);
        if (!want && !filter)
            continue;
        expansion *e = &ex->e[ex->n];
        e->field = i;
        e->col = (int)(res->nfields + ex->n);
        e->key_sql = ref->key_sql;
        e->ref = ref;
        e->target = ref->expand;
        e->pg = NULL;
        e->list = is_list;
        e->expand = want;
        e->prefix = ob_arena_printf(r->arena, "%s%s.", prefix, f->name);
        e->show = ob_arena_alloc(r->arena, ref->expand->nfields * sizeof *e->show);
        field_mask(r, ref->expand, e->prefix, e->show);
        e->sub = want ? plan_level(r, ref->expand, e->prefix, depth + 1) : NULL;
        ex->n++;
    }
    return ex;
}

static void plan_expansions(ob_request *r, const ob_resource *res, expansions *ex)
{
    *ex = *plan_level(r, res, "", 0);
}

/* Field SQL may name the request language as $lang and the default
 * language as $deflang (translated names, api-conventions.md §12); they
 * become parameters. */
static const char *lang_sql(ob_request *r, params *p, const char *expr, int *li, int *di)
{
    if (!strchr(expr, '$'))
        return expr;
    ob_buf out;
    ob_buf_init(&out, r->arena);
    for (const char *s = expr; *s;) {
        /* Copy up to the next '$' in one go (this runs per field per
         * request; char by char showed up in profiles). */
        const char *dollar = strchr(s, '$');
        size_t plain = dollar ? (size_t)(dollar - s) : strlen(s);
        if (plain) {
            ob_buf_append(&out, s, plain);
            s += plain;
            continue;
        }
        if (strncmp(s, "$lang", 5) == 0) {
            if (!*li)
                *li = add_param(p, r->language ? r->language : r->cfg->default_language);
            ob_buf_printf(&out, "$%d::text", *li);
            s += 5;
        } else if (strncmp(s, "$deflang", 8) == 0) {
            if (!*di)
                *di = add_param(p, r->cfg->default_language);
            ob_buf_printf(&out, "$%d::text", *di);
            s += 8;
        } else {
            ob_buf_putc(&out, *s++);
        }
    }
    return ob_buf_cstr(&out);
}

static const char *ref_expr(const ob_resource *res);

/* The ids of the related items this row links to that the requester may
 * view, as a JSON array, in the row's own query: the outer key goes into
 * a one-row subquery so that the related resource's `from` (alias t too)
 * can be used unchanged inside the LATERAL part. */
static const char *linked_ids_sql(ob_request *r, params *p, const ob_resource *res,
                                  const ob_field_ref *ref)
{
    const ob_resource *target = ref->expand;
    ob_buf b;
    ob_buf_init(&b, r->arena);
    ob_buf_printf(&b,
                  "(SELECT coalesce(json_agg(lx.k ORDER BY lx.k), '[]') FROM (SELECT %s AS ok) lo,"
                  " LATERAL (SELECT %s AS k FROM %s WHERE %s = lo.ok AND (",
                  ref_expr(res), ref_expr(target), target->from, ref->link_sql);
    if (visible_sql(&b, p, target, r) != 0)
        return NULL;
    ob_buf_puts(&b, ")) lx)");
    return ob_buf_cstr(&b);
}

static const ob_field_ref *ref_of(const ob_resource *res, const ob_field *f);

static int select_sql(ob_request *r, params *p, ob_buf *sql, const ob_resource *res,
                      const expansions *ex)
{
    int li = 0, di = 0;
    ob_buf_puts(sql, "SELECT ");
    for (size_t i = 0; i < res->nfields; i++) {
        const ob_field *f = &res->fields[i];
        const ob_field_ref *ref = ref_of(res, f);
        const char *e;
        if (ref && ref->link_sql && ref->expand) {
            if (!(e = linked_ids_sql(r, p, res, ref)))
                return -1;
        } else {
            e = lang_sql(r, p, f->sql, &li, &di);
        }
        if (i)
            ob_buf_puts(sql, ", ");
        if (f->type == OB_FT_DATETIME) {
            ob_buf_puts(sql, "to_char(");
            ob_buf_puts(sql, e);
            ob_buf_puts(sql, " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')");
        } else {
            ob_buf_puts(sql, e); /* puts, not printf: once per field per request */
        }
    }
    for (size_t k = 0; ex && k < ex->n; k++) {
        const expansion *x = &ex->e[k];
        if (x->ref && x->ref->link_sql) {
            const char *e = linked_ids_sql(r, p, res, x->ref);
            if (!e)
                return -1;
            ob_buf_printf(sql, ", %s", e);
        } else {
            ob_buf_printf(sql, ", %s", x->key_sql);
        }
    }
    return 0;
}

static const char *ref_expr(const ob_resource *res)
{
    return res->ref_sql ? res->ref_sql : res->pk->sql;
}

static void array_add(ob_buf *arr, size_t *nkeys, const char *v)
{
    ob_buf_puts(arr, (*nkeys)++ ? ",\"" : "\"");
    for (; *v; v++) {
        if (*v == '"' || *v == '\\')
            ob_buf_putc(arr, '\\');
        ob_buf_putc(arr, *v);
    }
    ob_buf_putc(arr, '"');
}

/* The text of one key of a JSON key array (strings unquoted). */
static const char *json_key_text(ob_arena *a, const cJSON *it)
{
    if (cJSON_IsString(it))
        return it->valuestring;
    if (cJSON_IsNumber(it))
        return ob_arena_printf(a, "%.0f", it->valuedouble);
    return NULL;
}

static const cJSON *parse_keys(ob_request *r, const char *text)
{
    cJSON *arr = cJSON_Parse(text);
    if (arr)
        ob_arena_defer(r->arena, (void (*)(void *))cJSON_Delete, arr);
    return cJSON_IsArray(arr) ? arr : NULL;
}

/* One query per expanded field for the whole page (never one per row):
 * the referenced rows the requester may view, so an expansion never
 * reveals an item its own resource would hide (api-conventions.md §8).
 * Nested levels cost one query each, whatever the number of rows. */
static int fetch_expansions(ob_request *r, expansions *ex, const PGresult *outer)
{
    int rows = PQntuples(outer);
    for (size_t k = 0; ex && k < ex->n; k++) {
        expansion *e = &ex->e[k];
        ob_buf arr;
        ob_buf_init(&arr, r->arena);
        ob_buf_putc(&arr, '{');
        size_t nkeys = 0;
        for (int i = 0; i < rows; i++) {
            if (PQgetisnull(outer, i, e->col))
                continue;
            const char *v = PQgetvalue(outer, i, e->col);
            if (!e->list) {
                array_add(&arr, &nkeys, v);
                continue;
            }
            const cJSON *keys = parse_keys(r, v), *it;
            cJSON_ArrayForEach(it, keys)
            {
                const char *t = json_key_text(r->arena, it);
                if (t)
                    array_add(&arr, &nkeys, t);
            }
        }
        ob_buf_putc(&arr, '}');
        if (nkeys == 0)
            continue;
        params p = {.n = 0};
        ob_buf sql;
        ob_buf_init(&sql, r->arena);
        if (select_sql(r, &p, &sql, e->target, e->sub) != 0)
            return -1;
        ob_buf_printf(&sql, ", %s FROM %s WHERE ", ref_expr(e->target), e->target->from);
        if (visible_sql(&sql, &p, e->target, r) != 0)
            return -1;
        int a = add_param(&p, ob_buf_cstr(&arr));
        ob_buf_printf(&sql, " AND %s = ANY($%d::%s[])", ref_expr(e->target), a,
                      e->target->ref_type ? e->target->ref_type : "text");
        e->pg = ob_db_query(r->db, r->arena, ob_buf_cstr(&sql), p.n, p.v);
        if (!e->pg) {
            ob_db_failure(r);
            return -1;
        }
        if (e->sub && fetch_expansions(r, e->sub, e->pg))
            return -1;
    }
    return 0;
}

static void write_url_path(ob_buf *out, const char *s)
{
    /* As the original's file URLs: everything but unreserved characters
     * and / ~ ! * ( ) ' is percent-encoded. */
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || strchr("-._~/!*()'", c)) {
            ob_buf_putc(out, (char)c);
        } else {
            ob_buf_putc(out, '%');
            ob_buf_putc(out, hex[c >> 4]);
            ob_buf_putc(out, hex[c & 15]);
        }
    }
}

static void write_value(ob_request *r, ob_json *j, const ob_field *f, const PGresult *res,
                        int row, int col)
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
        /* Microseconds only when they are not zero (api-conventions.md §3). */
        if (len > 8 && strcmp(v + len - 8, ".000000Z") == 0) {
            ob_json_string(j, ob_arena_printf(r->arena, "%.*sZ", len - 8, v));
            break;
        }
        ob_json_string_n(j, v, (size_t)len);
        break;
    case OB_FT_FILE: {
        if (len == 0) {
            ob_json_null(j);
            break;
        }
        ob_buf url;
        ob_buf_init(&url, r->arena);
        const char *m = r->cfg->media_url;
        if (strncmp(m, "http://", 7) != 0 && strncmp(m, "https://", 8) != 0)
            ob_buf_puts(&url, ob_request_base_url(r));
        ob_buf_puts(&url, m);
        if (url.len == 0 || url.data[url.len - 1] != '/')
            ob_buf_putc(&url, '/');
        write_url_path(&url, v[0] == '/' ? v + 1 : v);
        ob_json_string(j, ob_buf_cstr(&url));
        break;
    }
    case OB_FT_TEXT:
        ob_json_string_n(j, v, (size_t)len);
        break;
    }
}

static int find_hit(const expansion *e, const char *key)
{
    int keycol = (int)(e->target->nfields + (e->sub ? e->sub->n : 0));
    for (int t = 0; e->pg && t < PQntuples(e->pg); t++)
        if (strcmp(PQgetvalue(e->pg, t, keycol), key) == 0)
            return t;
    return -1;
}

static void write_row(ob_request *r, ob_json *j, const ob_resource *res, const bool *show,
                      const PGresult *pg, int row, const expansions *ex,
                      const ob_item_opts *o)
{
    ob_json_object_begin(j);
    for (size_t i = 0; i < res->nfields; i++) {
        if (!show[i])
            continue;
        const ob_field *f = &res->fields[i];
        ob_json_key(j, f->name);
        if (o && o->set_field && strcmp(o->set_field, f->name) == 0) {
            ob_json_string(j, o->set_value);
            continue;
        }
        const expansion *e = NULL;
        for (size_t k = 0; ex && k < ex->n; k++)
            if (ex->e[k].field == i)
                e = &ex->e[k];
        if (e && e->list) {
            /* Only the visible items: expanded, or as their plain keys. */
            ob_json_array_begin(j);
            const cJSON *keys = PQgetisnull(pg, row, e->col)
                                    ? NULL
                                    : parse_keys(r, PQgetvalue(pg, row, e->col));
            const cJSON *it;
            cJSON_ArrayForEach(it, keys)
            {
                const char *t = json_key_text(r->arena, it);
                int hit = t ? find_hit(e, t) : -1;
                if (hit < 0)
                    continue;
                if (e->expand) {
                    write_row(r, j, e->target, e->show, e->pg, hit, e->sub, NULL);
                } else {
                    char *raw = cJSON_PrintUnformatted(it); /* not NULL (alloc.h) */
                    ob_json_raw(j, raw, strlen(raw));
                    cJSON_free(raw);
                }
            }
            ob_json_array_end(j);
            continue;
        }
        int hit = -1;
        if (e && e->pg && !PQgetisnull(pg, row, e->col))
            hit = find_hit(e, PQgetvalue(pg, row, e->col));
        if (hit >= 0)
            write_row(r, j, e->target, e->show, e->pg, hit, e->sub, NULL);
        else /* not expanded, or not visible: the plain key */
            write_value(r, j, f, pg, row, (int)i);
    }
    ob_json_object_end(j);
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

/* Whether `text` names the table alias `alias` ("tcb." in "tcb.username"). */
static bool names_alias(const char *text, const char *alias, size_t n)
{
    for (const char *s = text; (s = strstr(s, alias)) != NULL; s++) {
        bool start = s == text || !(isalnum((unsigned char)s[-1]) || s[-1] == '_');
        if (start && strncmp(s, alias, n) == 0 && s[n] == '.')
            return true;
    }
    return false;
}

/* res->from without the LEFT JOINs that nothing in `used` (the WHERE and
 * ORDER BY of the key query) and no other join refers to.  The
 * descriptions' LEFT JOINs all reach at most one row (audit users, a
 * parent), so dropping one never changes which keys come out; PostgreSQL
 * would remove them too, but only after it has decided that their
 * columns (t.created_by...) are needed, which rules out an index-only
 * scan of the page's keys. */
const char *ob_sql_prune_left_joins(ob_arena *a, const char *from, const char *used)
{
    static const char LJ[] = " LEFT JOIN ";
    if (!strstr(from, LJ))
        return from;
    ob_buf out;
    ob_buf_init(&out, a);
    const char *s = from;
    while (*s) {
        /* Look for the next join after this segment's own keyword. */
        const char *body = strncmp(s, LJ, sizeof LJ - 1) == 0 ? s + sizeof LJ - 1 : s + 1;
        const char *next = strstr(body, " JOIN ");
        const char *lnext = strstr(body, LJ);
        if (lnext && (!next || lnext < next))
            next = lnext; /* a segment ends where the next join starts */
        size_t seg = next ? (size_t)(next - s) : strlen(s);
        bool drop = false;
        if (strncmp(s, LJ, sizeof LJ - 1) == 0) {
            /* " LEFT JOIN users tcb ON ...": the alias is the second word. */
            const char *t = s + sizeof LJ - 1;
            t += strcspn(t, " ");
            t += strspn(t, " ");
            size_t n = strcspn(t, " ");
            char *alias = ob_arena_strndup(a, t, n);
            char *rest_before = ob_arena_strndup(a, from, (size_t)(s - from));
            const char *after = s + seg;
            drop = n > 0 && !names_alias(used, alias, n) &&
                   !names_alias(rest_before, alias, n) && !names_alias(after, alias, n);
        }
        if (!drop)
            ob_buf_append(&out, s, seg);
        s += seg;
    }
    /* A join that only a dropped join named can go too: again until
     * nothing changes (once per join at most). */
    const char *pruned = ob_buf_cstr(&out);
    return strcmp(pruned, from) == 0 ? from : ob_sql_prune_left_joins(a, pruned, used);
}

static void list_page(ob_request *r, const ob_resource *res)
{
    params p = {.n = 0};
    ob_buf where;
    ob_buf_init(&where, r->arena);
    ob_buf_puts(&where, " FROM ");
    ob_buf_puts(&where, res->from);
    ob_buf_puts(&where, " WHERE ");
    if (res->read_gate && ob_perm_admin_gate(r, res->read_gate == OB_ADMIN_STAFF_PERM
                                                    ? ob_resource_perm(r, res, "view")
                                                    : NULL) != 0)
        return;
    if (visible_sql(&where, &p, res, r) != 0)
        return;
    if (filter_sql(&where, &p, res, r) != 0 || search_sql(&where, &p, res, r) != 0)
        return;

    long size = page_size(r);
    const char *pv = ob_request_query(r, "_page");
    if (pv && !*pv)
        pv = NULL; /* `_page=` is page 1, as the original's `get("_page") or 1` */
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

    expansions ex;
    plan_expansions(r, res, &ex);
    /* One query, keys first: the innermost SELECT finds the keys of the
     * page (visibility, filters, order, LIMIT), which PostgreSQL can
     * often answer from an index alone (textbooks by group and name, say)
     * without reading the rows it skips; the outer SELECT then builds the
     * output, with its subqueries and joins, for those rows only.  The
     * total is an uncorrelated scalar subquery over the bare predicate
     * (run once; unused LEFT JOINs removed).  Not count(*) OVER (): a
     * window makes every visible row go through every join first. */
    ob_buf sql;
    ob_buf_init(&sql, r->arena);
    if (select_sql(r, &p, &sql, res, &ex) != 0)
        return;
    ob_buf_puts(&sql, ", (SELECT count(*)");
    ob_buf_append(&sql, where.data, where.len);
    ob_buf order; /* " ORDER BY ...": the key query's and the page's */
    ob_buf_init(&order, r->arena);
    order_sql(&order, res, r);
    ob_buf keys; /* WHERE ... ORDER BY ... of the key query */
    ob_buf_init(&keys, r->arena);
    /* where is " FROM <from> WHERE ...": keep what follows the from. */
    ob_buf_puts(&keys, ob_buf_cstr(&where) + strlen(" FROM ") + strlen(res->from));
    ob_buf_append(&keys, order.data, order.len);
    ob_buf_printf(&sql, ") FROM %s WHERE %s IN (SELECT %s FROM %s%s", res->from, res->pk->sql,
                  res->pk->sql, ob_sql_prune_left_joins(r->arena, res->from, ob_buf_cstr(&keys)),
                  ob_buf_cstr(&keys));
    /* LIMIT is written into the text, and OFFSET too on the first page:
     * a generic plan (db.c) that sees them as parameters assumes the page
     * is a tenth of the table and picks hash joins over everything where
     * 20 index lookups do.  Both are integers this function computed (the
     * clamped page size), not request text; the few page sizes in use
     * make few statements.  Deeper pages keep OFFSET a parameter, so that
     * paging through a list does not fill the statement cache. */
    ob_buf_printf(&sql, " LIMIT %ld", size);
    if (page > 1)
        ob_buf_printf(&sql, " OFFSET $%d",
                      add_param(&p, ob_arena_printf(r->arena, "%ld", (page - 1) * size)));
    ob_buf_putc(&sql, ')');
    ob_buf_append(&sql, order.data, order.len);
    if (p.full) {
        /* The filters took the room of the page's own parameters. */
        too_many_filters(r);
        return;
    }
    PGresult *pg = ob_db_query(r->db, r->arena, ob_buf_cstr(&sql), p.n, p.v);
    if (!pg) {
        ob_db_failure(r);
        return;
    }
    int rows = PQntuples(pg);
    if (rows > 0)
        count = strtol(PQgetvalue(pg, 0, (int)(res->nfields + ex.n)), NULL, 10);
    else if (count < 0)
        count = 0;
    if (rows == 0 && page > 1) {
        /* Past the last page (page 1 of an empty list is valid). */
        ob_fail(r, 404, "Invalid page.");
        return;
    }
    if (fetch_expansions(r, &ex, pg))
        return;
    bool *show = ob_arena_alloc(r->arena, res->nfields * sizeof *show);
    field_mask(r, res, "", show);

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
        write_row(r, j, res, show, pg, i, &ex, NULL);
    ob_json_array_end(j);
    ob_json_object_end(j);
}

const char *ob_resource_key(ob_request *r, const ob_resource *res, const char *key)
{
    if (res->pk_is_uuid) {
        char *out = ob_arena_alloc(r->arena, 37);
        return strlen(key) <= 36 && ob_parse_uuid(key, out) ? out : NULL;
    }
    /* Integer keys are `integer` columns unless ref_type says bigint. */
    bool big = res->ref_type && strcmp(res->ref_type, "bigint") == 0;
    bool ok = res->pk_is_int ? valid_int(key) && key[0] != '-' && key[0] != '+' &&
                                   (big || strtoll(key, NULL, 10) <= 2147483647LL)
                             : strlen(key) <= res->pk_max_len;
    return ok ? key : NULL;
}

void ob_resource_item(ob_request *r, const ob_resource *res, const char *key,
                      const ob_item_opts *o)
{
    const char *k = ob_resource_key(r, res, key ? key : "");
    if (!k) {
        ob_failf(r, 404, "No %s matches the given query.", res->class_name);
        return;
    }
    expansions ex;
    plan_expansions(r, res, &ex);
    params p = {.n = 0};
    ob_buf sql;
    ob_buf_init(&sql, r->arena);
    if (select_sql(r, &p, &sql, res, &ex) != 0)
        return;
    ob_buf_puts(&sql, " FROM ");
    ob_buf_puts(&sql, res->from);
    ob_buf_puts(&sql, " WHERE ");
    if (!(o && o->skip_visibility) && res->read_gate &&
        ob_perm_admin_gate(r, res->read_gate == OB_ADMIN_STAFF_PERM
                                  ? ob_resource_perm(r, res, "view")
                                  : NULL) != 0)
        return;
    if (o && o->skip_visibility)
        ob_buf_puts(&sql, "true");
    else if (visible_sql(&sql, &p, res, r) != 0)
        return;
    int ki = add_param(&p, k);
    ob_buf_printf(&sql, " AND %s = $%d", res->pk->sql, ki);
    PGresult *pg = ob_db_query(r->db, r->arena, ob_buf_cstr(&sql), p.n, p.v);
    if (!pg) {
        ob_db_failure(r);
        return;
    }
    if (PQntuples(pg) == 0) {
        ob_failf(r, 404, "No %s matches the given query.", res->class_name);
        return;
    }
    if (fetch_expansions(r, &ex, pg))
        return;
    bool *show = ob_arena_alloc(r->arena, res->nfields * sizeof *show);
    field_mask(r, res, "", show);
    ob_json *j = ob_json_response(r, o && o->status ? o->status : 200);
    write_row(r, j, res, show, pg, 0, &ex, o);
}

/* The reads answered through the response cache (read_cache.h).  The
 * answers to writes (ob_resource_item from resource_write.c) are not. */
void ob_resource_list(ob_request *r, const ob_resource *res)
{
    if (ob_read_cache_answer(r))
        return;
    list_page(r, res);
    ob_read_cache_keep(r);
}

void ob_resource_retrieve(ob_request *r, const ob_resource *res)
{
    if (ob_read_cache_answer(r))
        return;
    ob_resource_item(r, res, r->npath_params ? r->path_params[0] : "", NULL);
    ob_read_cache_keep(r);
}
