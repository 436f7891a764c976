/* expand.c - expansions (api-conventions.md §8): which references a
 * request expands and which id lists it filters, the SELECT list of a
 * resource with their key columns, and one query per expansion for the
 * whole page, with the target's visibility, whatever the number of rows. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "openbook/auth/auth.h"
#include "openbook/core/config.h"
#include "openbook/db/db.h"
#include "openbook/core/log.h"
#include "openbook/perm/perm.h"
#include "openbook/api/query.h"
#include "openbook/api/read_cache.h"
#include "openbook/api/resource.h"
#include "read_parts.h"

static const char *ref_expr(const ob_resource *res)
{
    return res->ref_sql ? res->ref_sql : res->pk->sql;
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
        const ob_field_ref *ref = ob_query_ref(res, f);
        if (!ref || !ref->expand || !ref->key_sql || !ob_mask_field_exists(r, f))
            continue;
        bool is_list = f->type == OB_FT_JSON;
        bool want = list && *list && depth < r->cfg->max_expand_depth &&
                    ob_mask_listed(list, prefix, f->name);
        bool filter = is_list && !ref->link_sql && ref->expand->guard != OB_GUARD_GLOBAL &&
                      !ob_perm_is_superuser(r);
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
        ob_mask_fields(r, ref->expand, e->prefix, e->show);
        e->sub = want ? plan_level(r, ref->expand, e->prefix, depth + 1) : NULL;
        ex->n++;
    }
    return ex;
}

void ob_expand_plan(ob_request *r, const ob_resource *res, expansions *ex)
{
    *ex = *plan_level(r, res, "", 0);
}

/* Field SQL may name the request language as $lang and the default
 * language as $deflang (translated names, api-conventions.md §12); they
 * become parameters. */
static const char *lang_sql(ob_request *r, ob_sql_params *p, const char *expr, int *li, int *di)
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
                *li = ob_sql_param(p, r->language ? r->language : r->cfg->default_language);
            ob_buf_printf(&out, "$%d::text", *li);
            s += 5;
        } else if (strncmp(s, "$deflang", 8) == 0) {
            if (!*di)
                *di = ob_sql_param(p, r->cfg->default_language);
            ob_buf_printf(&out, "$%d::text", *di);
            s += 8;
        } else {
            ob_buf_putc(&out, *s++);
        }
    }
    return ob_buf_cstr(&out);
}

/* The ids of the related items this row links to that the requester may
 * view, as a JSON array, in the row's own query: the outer key goes into
 * a one-row subquery so that the related resource's `from` (alias t too)
 * can be used unchanged inside the LATERAL part. */
static const char *linked_ids_sql(ob_request *r, ob_sql_params *p, const ob_resource *res,
                                  const ob_field_ref *ref)
{
    const ob_resource *target = ref->expand;
    ob_buf b;
    ob_buf_init(&b, r->arena);
    ob_buf_printf(&b,
                  "(SELECT coalesce(json_agg(lx.k ORDER BY lx.k), '[]') FROM (SELECT %s AS ok) lo,"
                  " LATERAL (SELECT %s AS k FROM %s WHERE %s = lo.ok AND (",
                  ref_expr(res), ref_expr(target), target->from, ref->link_sql);
    if (ob_resource_visible(&b, p, target, r) != 0)
        return NULL;
    ob_buf_puts(&b, ")) lx)");
    return ob_buf_cstr(&b);
}

int ob_expand_select(ob_request *r, ob_sql_params *p, ob_buf *sql, const ob_resource *res,
                      const expansions *ex)
{
    int li = 0, di = 0;
    ob_buf_puts(sql, "SELECT ");
    for (size_t i = 0; i < res->nfields; i++) {
        const ob_field *f = &res->fields[i];
        const ob_field_ref *ref = ob_query_ref(res, f);
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
const char *ob_expand_key_text(ob_arena *a, const cJSON *it)
{
    if (cJSON_IsString(it))
        return it->valuestring;
    if (cJSON_IsNumber(it))
        return ob_arena_printf(a, "%.0f", it->valuedouble);
    return NULL;
}

const cJSON *ob_expand_keys(ob_request *r, const char *text)
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
int ob_expand_fetch(ob_request *r, expansions *ex, const PGresult *outer)
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
            const cJSON *keys = ob_expand_keys(r, v), *it;
            cJSON_ArrayForEach(it, keys)
            {
                const char *t = ob_expand_key_text(r->arena, it);
                if (t)
                    array_add(&arr, &nkeys, t);
            }
        }
        ob_buf_putc(&arr, '}');
        if (nkeys == 0)
            continue;
        ob_sql_params p = {.n = 0};
        ob_buf sql;
        ob_buf_init(&sql, r->arena);
        if (ob_expand_select(r, &p, &sql, e->target, e->sub) != 0)
            return -1;
        ob_buf_printf(&sql, ", %s FROM %s WHERE ", ref_expr(e->target), e->target->from);
        if (ob_resource_visible(&sql, &p, e->target, r) != 0)
            return -1;
        int a = ob_sql_param(&p, ob_buf_cstr(&arr));
        ob_buf_printf(&sql, " AND %s = ANY($%d::%s[])", ref_expr(e->target), a,
                      e->target->ref_type ? e->target->ref_type : "text");
        e->pg = ob_db_query(r->db, r->arena, ob_buf_cstr(&sql), p.n, p.v);
        if (!e->pg) {
            ob_db_failure(r);
            return -1;
        }
        if (e->sub && ob_expand_fetch(r, e->sub, e->pg))
            return -1;
    }
    return 0;
}
