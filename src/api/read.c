/* read.c - list and retrieve for resources described by data
 * (resource.h): visibility, the compiled query (query.c), paging and the
 * page's one query, the item query; shaped by mask.c, expand.c and
 * render.c.  SQL text is assembled only from the descriptions; every
 * value from the request travels as a parameter. */
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

/* A list whose filters and search terms do not fit in one statement is
 * refused as a whole: never run with a filter left out, never a 5xx. */
static void too_many_filters(ob_request *r)
{
    ob_fail(r, 400, "Too many filters.");
}

/* ---- output: field masks, expansions, values ---- */
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
    if (!v || !ob_query_valid_int(v))
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
    ob_sql_params p = {.n = 0};
    ob_buf where;
    ob_buf_init(&where, r->arena);
    ob_buf_puts(&where, " FROM ");
    ob_buf_puts(&where, res->from);
    ob_buf_puts(&where, " WHERE ");
    if (res->read_gate && ob_perm_admin_gate(r, res->read_gate == OB_ADMIN_STAFF_PERM
                                                    ? ob_resource_perm(r, res, "view")
                                                    : NULL) != 0)
        return;
    if (ob_resource_visible(&where, &p, res, r) != 0)
        return;
    ob_buf order; /* " ORDER BY ...": the key query's and the page's */
    ob_buf_init(&order, r->arena);
    ob_query_in in = {r->arena, r->params, r->nparams, ob_perm_is_superuser(r)};
    ob_query_error err;
    if (ob_query_compile(&in, res, &p, &where, &order, &err) != 0) {
        if (!err.key) {
            too_many_filters(r);
            return;
        }
        ob_json *j = ob_json_response(r, 400);
        ob_json_object_begin(j);
        ob_json_key(j, err.key);
        ob_json_array_begin(j);
        ob_json_string(j, err.msg);
        ob_json_array_end(j);
        ob_json_object_end(j);
        return;
    }

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
        if (!ob_query_valid_int(pv) || (page = strtol(pv, NULL, 10)) < 1 || page > 1000000000L) {
            ob_fail(r, 404, "Invalid page.");
            return;
        }
    }

    expansions ex;
    ob_expand_plan(r, res, &ex);
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
    if (ob_expand_select(r, &p, &sql, res, &ex) != 0)
        return;
    ob_buf_puts(&sql, ", (SELECT count(*)");
    ob_buf_append(&sql, where.data, where.len);
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
                      ob_sql_param(&p, ob_arena_printf(r->arena, "%ld", (page - 1) * size)));
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
    if (ob_expand_fetch(r, &ex, pg))
        return;
    bool *show = ob_arena_alloc(r->arena, res->nfields * sizeof *show);
    ob_mask_fields(r, res, "", show);

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
        ob_render_row(r, j, res, show, pg, i, &ex, NULL);
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
    bool ok = res->pk_is_int ? ob_query_valid_int(key) && key[0] != '-' && key[0] != '+' &&
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
    ob_expand_plan(r, res, &ex);
    ob_sql_params p = {.n = 0};
    ob_buf sql;
    ob_buf_init(&sql, r->arena);
    if (ob_expand_select(r, &p, &sql, res, &ex) != 0)
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
    else if (ob_resource_visible(&sql, &p, res, r) != 0)
        return;
    int ki = ob_sql_param(&p, k);
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
    if (ob_expand_fetch(r, &ex, pg))
        return;
    bool *show = ob_arena_alloc(r->arena, res->nfields * sizeof *show);
    ob_mask_fields(r, res, "", show);
    ob_json *j = ob_json_response(r, o && o->status ? o->status : 200);
    ob_render_row(r, j, res, show, pg, 0, &ex, o);
}

/* The reads answered through the response cache (read_cache.h).  The
 * answers to writes (ob_resource_item from write.c) are not. */
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
