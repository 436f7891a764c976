/* write.c - create, update (PUT, PATCH) and delete for resources
 * described by data (resource.h).
 *
 * Order of checks (api-conventions.md §5): admin gate (403) -> lookup
 * among the visible rows (404) -> body and field formats, natural keys
 * (400) -> cross-field rules of the resource (400) -> object permission
 * (403, or 404 for a create whose would-be item the requester could not
 * view) -> rules about other rows (unique constraints, mapped from the
 * database's answer) -> the change.  Every write runs in one
 * transaction; the answer is the item shaped as by GET. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "openbook/auth/auth.h"
#include "openbook/core/config.h"
#include "openbook/db/db.h"
#include "openbook/redis/events.h"
#include "openbook/http/fields.h"
#include "openbook/http/jsonvalue.h"
#include "openbook/core/log.h"
#include "openbook/perm/perm.h"
#include "openbook/api/resource.h"
#include "openbook/http/validate.h"
#include "write_parts.h"

int ob_resource_read_body(ob_request *r)
{
    if (ob_request_read_json(r) != 0)
        return -1;
    /* Strings a C string cannot carry (NUL, invalid UTF-8) are refused by
     * name, before anything looks at them. */
    const char *bad = r->body_len ? ob_json_bad_string_member(r->arena, r->body, r->body_len)
                                  : NULL;
    if (bad) {
        ob_json *j = ob_json_response(r, 400);
        ob_json_object_begin(j);
        ob_json_key(j, bad);
        ob_json_array_begin(j);
        ob_json_string(j, "Null characters are not allowed.");
        ob_json_array_end(j);
        ob_json_object_end(j);
        return -1;
    }
    return 0;
}

/* The body of a create or update: multipart where the resource takes
 * files (api-conventions.md §2), else JSON. */
static int read_input(ob_request *r, const ob_resource *res)
{
    if (ob_request_is_multipart(r) && ob_resource_takes_files(res))
        return ob_write_read_upload(r, res);
    return ob_resource_read_body(r);
}

/* ---- values ---- */
static const char *requester(ob_request *r)
{
    return r->user ? ob_arena_printf(r->arena, "%lld", (long long)r->user->id) : NULL;
}

static int save_m2m(ob_write *w)
{
    ob_request *r = w->r;
    const ob_resource *res = w->res;
    const char *pkcol = res->pk_column ? res->pk_column : "id";
    for (size_t i = 0; i < res->nwfields; i++) {
        const ob_wfield *f = &res->wfields[i];
        const ob_wvalue *v = &w->v[i];
        if (!f->m2m_table || v->state != OB_WV_GIVEN)
            continue;
        const char *p[] = {w->new_key, v->ids ? v->ids : "{}",
                           ob_arena_printf(r->arena, "%d", ob_write_fixed_scope_type(r, res))};
        char *del, *ins;
        int np = 2;
        if (f->m2m_type_col) {
            /* A link table keyed by (scope type, scope): the type is this
             * resource's own. */
            del = ob_arena_printf(
                r->arena,
                "DELETE FROM %s WHERE %s = $2::int AND %s = (SELECT t.%s FROM %s t WHERE t.%s = $1)",
                f->m2m_table, f->m2m_type_col, f->m2m_self, pkcol, res->table, pkcol);
            ins = ob_arena_printf(
                r->arena,
                "INSERT INTO %s (%s, %s, %s) SELECT $3::int, t.%s, x FROM %s t,"
                " unnest($2::int[]) x WHERE t.%s = $1 ON CONFLICT DO NOTHING",
                f->m2m_table, f->m2m_type_col, f->m2m_self, f->m2m_other, pkcol, res->table, pkcol);
            np = 3;
        } else {
            del = ob_arena_printf(
                r->arena, "DELETE FROM %s WHERE %s = (SELECT t.%s FROM %s t WHERE t.%s = $1)",
                f->m2m_table, f->m2m_self, pkcol, res->table, pkcol);
            ins = ob_arena_printf(
                r->arena,
                "INSERT INTO %s (%s, %s) SELECT t.%s, x FROM %s t, unnest($2::int[]) x"
                " WHERE t.%s = $1 ON CONFLICT DO NOTHING",
                f->m2m_table, f->m2m_self, f->m2m_other, pkcol, res->table, pkcol);
        }
        const char *dp[] = {p[0], p[2]};
        if (!ob_db_query(r->db, r->arena, del, np == 3 ? 2 : 1, dp) ||
            !ob_db_query(r->db, r->arena, ins, np, p)) {
            ob_write_db_error(w);
            return -1;
        }
    }
    return 0;
}

/* A column a hook set: the described field of that column steps back. */
static bool set_by_hook(const ob_write *w, const char *column)
{
    for (int i = 0; i < w->nset; i++)
        if (strcmp(w->set_col[i], column) == 0)
            return true;
    return false;
}

static int do_insert(ob_write *w)
{
    ob_request *r = w->r;
    const ob_resource *res = w->res;
    ob_sql_params p = {.n = 0};
    ob_buf cols, vals;
    ob_buf_init(&cols, r->arena);
    ob_buf_init(&vals, r->arena);
    int n = 0;
#define ADD(col, expr)                                                                     \
    do {                                                                                   \
        ob_buf_printf(&cols, "%s%s", n ? ", " : "", (col));                                \
        ob_buf_printf(&vals, "%s%s", n ? ", " : "", (expr));                               \
        n++;                                                                               \
    } while (0)
    for (size_t i = 0; i < res->nwfields; i++) {
        const ob_wfield *f = &res->wfields[i];
        const ob_wvalue *v = &w->v[i];
        if (!f->column || set_by_hook(w, f->column))
            continue;
        const char *val;
        if (v->state == OB_WV_GIVEN)
            val = v->text;
        else if (f->def)
            val = f->def;
        else if ((f->flags & OB_WF_DEFAULT_REQUESTER) && r->user)
            val = requester(r);
        else
            continue; /* the column's default */
        ADD(f->column, ob_arena_printf(r->arena, "$%d", ob_sql_param(&p, val)));
    }
    for (int i = 0; i < w->nset; i++)
        ADD(w->set_col[i], ob_arena_printf(r->arena, "$%d%s%s", ob_sql_param(&p, w->set_val[i]),
                                           w->set_cast[i] ? "::" : "",
                                           w->set_cast[i] ? w->set_cast[i] : ""));
    if (res->audit) {
        int u = ob_sql_param(&p, requester(r));
        ADD("created_by", ob_arena_printf(r->arena, "$%d::bigint", u));
        ADD("modified_by", ob_arena_printf(r->arena, "$%d::bigint", u));
    }
#undef ADD
    const char *pkcol = res->pk_column ? res->pk_column : "id";
    char *sql = n ? ob_arena_printf(r->arena, "INSERT INTO %s (%s) VALUES (%s) RETURNING %s::text",
                                    res->table, ob_buf_cstr(&cols), ob_buf_cstr(&vals), pkcol)
                  : ob_arena_printf(r->arena, "INSERT INTO %s DEFAULT VALUES RETURNING %s::text",
                                    res->table, pkcol);
    PGresult *pg = ob_db_query(r->db, r->arena, sql, p.n, p.v);
    if (!pg) {
        ob_write_db_error(w);
        return -1;
    }
    w->new_key = ob_arena_strdup(r->arena, PQgetvalue(pg, 0, 0));
    return 0;
}

static int do_update(ob_write *w)
{
    ob_request *r = w->r;
    const ob_resource *res = w->res;
    ob_sql_params p = {.n = 0};
    ob_buf sql;
    ob_buf_init(&sql, r->arena);
    const char *pkcol = res->pk_column ? res->pk_column : "id";
    ob_buf_printf(&sql, "UPDATE %s SET %s = %s", res->table, pkcol, pkcol);
    for (size_t i = 0; i < res->nwfields; i++) {
        const ob_wfield *f = &res->wfields[i];
        const ob_wvalue *v = &w->v[i];
        if (!f->column || v->state != OB_WV_GIVEN || set_by_hook(w, f->column))
            continue;
        ob_buf_printf(&sql, ", %s = $%d", f->column, ob_sql_param(&p, v->text));
    }
    for (int i = 0; i < w->nset; i++)
        ob_buf_printf(&sql, ", %s = $%d%s%s", w->set_col[i], ob_sql_param(&p, w->set_val[i]),
                      w->set_cast[i] ? "::" : "", w->set_cast[i] ? w->set_cast[i] : "");
    if (res->audit)
        ob_buf_printf(&sql, ", modified_by = $%d::bigint, modified_at = now()",
                      ob_sql_param(&p, requester(r)));
    ob_buf_printf(&sql, " WHERE %s = $%d", pkcol, ob_sql_param(&p, w->key));
    if (!ob_db_query(r->db, r->arena, ob_buf_cstr(&sql), p.n, p.v)) {
        ob_write_db_error(w);
        return -1;
    }
    w->new_key = w->key;
    return 0;
}

static void forbidden(ob_request *r)
{
    ob_db_rollback(r->db);
    ob_fail(r, 403, "You do not have permission to perform this action.");
}

/* An object permission's answer (1, 0, -1): 1 goes on; otherwise the
 * write ends here, rolled back, with 403 (or the 503 already answered). */
static int permitted(ob_request *r, int ok)
{
    if (ok > 0)
        return 1;
    if (ok == 0)
        forbidden(r);
    else
        ob_db_rollback(r->db);
    return 0;
}

static int gate(ob_request *r, const ob_resource *res, unsigned op, const char *action)
{
    if (!gated(res, op))
        return 0;
    return ob_perm_admin_gate(r, res->write_gate == OB_ADMIN_STAFF_PERM
                                     ? ob_resource_perm(r, res, action)
                                     : NULL);
}

/* The key the item route answers with after a write. */
static const char *answer_key(ob_write *w)
{
    const ob_resource *res = w->res;
    if (!res->pk_column || strcmp(res->pk->sql + 2, res->pk_column) == 0)
        return w->new_key;
    /* The URL key is another column (e.g. a username): read it back. */
    const char *p[] = {w->new_key};
    char *sql = ob_arena_printf(w->r->arena, "SELECT %s::text FROM %s WHERE t.%s = $1",
                                res->pk->sql, res->from, res->pk_column);
    PGresult *pg = ob_db_query(w->r->db, w->r->arena, sql, 1, p);
    return pg && PQntuples(pg) ? PQgetvalue(pg, 0, 0) : w->new_key;
}

/* The fields, then the resource's cross-field rules; 400 with every
 * error at once.  0, or -1 (answered, rolled back). */
static int parse_and_validate(ob_write *w)
{
    if (ob_write_parse_fields(w) != 0)
        return -1;
    if (!w->nerr && w->res->validate && w->res->validate(w) != 0)
        return -1;
    if (w->nerr) {
        ob_db_rollback(w->r->db);
        ob_write_answer_errors(w->r, w);
        return -1;
    }
    return 0;
}

/* The rest of a create or update once it is allowed: the resource's
 * hooks, the row and its m2m links, COMMIT, the queued events, and the
 * item as GET shows it (status 201 or 200). */
static void save_and_answer(ob_write *w, int status)
{
    const ob_resource *res = w->res;
    if ((res->authorize && res->authorize(w) != 0) ||
        (res->before_save && res->before_save(w) != 0) || ob_write_publish_files(w) != 0)
        return;
    if ((w->create ? do_insert(w) : do_update(w)) != 0 || save_m2m(w) != 0)
        return;
    if (res->after_save && res->after_save(w) != 0)
        return;
    if (ob_db_commit(w->r->db) != 0) {
        ob_write_fail(w);
        return;
    }
    ob_write_after_commit(w);
    ob_resource_item(w->r, res, answer_key(w),
                     &(ob_item_opts){.status = status,
                                     .skip_visibility = true,
                                     .set_field = w->show_field,
                                     .set_value = w->show_value});
}

void ob_write_create(ob_request *r, const ob_resource *res)
{
    if (gate(r, res, OB_CAN_CREATE, "add") != 0 || read_input(r, res) != 0)
        return;
    ob_write w = {.r = r, .res = res, .create = true};
    /* Scope items and extension types have a fixed scope type: the
     * whitelist of their public permissions is that type's. */
    if (res->scope_type_name && !res->scope_type_sql)
        w.scope_type_id = ob_write_fixed_scope_type(r, res);
    if (ob_db_begin(r->db) != 0) {
        ob_write_fail(&w);
        return;
    }
    if (parse_and_validate(&w) != 0)
        return;
    if (!gated(res, OB_CAN_CREATE)) {
        /* permissions.md §6.2: add_<model> on the unsaved item; §6.3: 404
         * when the requester could not even view it. */
        ob_perm_item it;
        if (ob_write_new_item(&w, &it) != 0)
            return;
        int ok = ob_perm_allowed(r, ob_resource_perm(r, res, "add"), &it);
        if (ok < 0) {
            ob_db_rollback(r->db);
            return;
        }
        if (!ok) {
            int view = ob_perm_allowed(r, ob_resource_perm(r, res, "view"), &it);
            if (view < 0) {
                ob_db_rollback(r->db);
                return;
            }
            ob_db_rollback(r->db);
            if (view)
                ob_fail(r, 403, "You do not have permission to perform this action.");
            else
                ob_failf(r, 404, "No %s matches the given query.", res->class_name);
            return;
        }
    }
    save_and_answer(&w, 201);
}

/* Whether an update changes the field that selects the scope (the group
 * of a textbook, the textbook of a page...), even within one scope. */
static bool scope_field_changed(ob_write *w)
{
    const ob_resource *res = w->res;
    if (!res->scope_field)
        return false;
    const ob_wvalue *v = ob_write_value(w, res->scope_field);
    if (v->state != OB_WV_GIVEN)
        return false;
    const char *column = NULL;
    for (size_t i = 0; i < res->nwfields; i++)
        if (strcmp(res->wfields[i].name, res->scope_field) == 0)
            column = res->wfields[i].column;
    const char *stored = ob_write_stored(w, column);
    if (!stored || !v->text)
        return stored != v->text;
    return strcmp(stored, v->text) != 0;
}

void ob_write_update(ob_request *r, const ob_resource *res, const char *key)
{
    if (gate(r, res, r->method == OB_PATCH ? OB_CAN_PATCH : OB_CAN_UPDATE, "change") != 0)
        return;
    ob_write w = {.r = r, .res = res, .partial = r->method == OB_PATCH};
    if (ob_db_begin(r->db) != 0) {
        ob_write_fail(&w);
        return;
    }
    if (ob_write_lock(&w, key) != 1)
        return;
    if (read_input(r, res) != 0) {
        ob_db_rollback(r->db);
        return;
    }
    if (parse_and_validate(&w) != 0)
        return;
    if (!gated(res, write_op(&w))) {
        ob_perm_item old, now;
        ob_write_stored_item(&w, &old);
        if (ob_write_new_item(&w, &now) != 0)
            return;
        const char *change = ob_resource_perm(r, res, "change");
        int ok = ob_perm_allowed(r, change, &old);
        /* Rule S items are checked again as they would be after the
         * update (permissions.md §6.2): nobody raises a role, or moves an
         * assignment to a role, above their own priority. */
        if (ok == 1 && (res->guard == OB_GUARD_SCOPED || res->guard == OB_GUARD_ACCESS_REQUEST))
            ok = ob_perm_allowed(r, change, &now);
        /* Moving an item to another scope needs add_ there too
         * (api-resources.md §3). */
        if (ok == 1 && scope_field_changed(&w))
            ok = ob_perm_allowed(r, ob_resource_perm(r, res, "add"), &now);
        if (!permitted(r, ok))
            return;
    }
    save_and_answer(&w, 200);
}

void ob_write_destroy(ob_request *r, const ob_resource *res, const char *key)
{
    if (gate(r, res, OB_CAN_DELETE, "delete") != 0)
        return;
    ob_write w = {.r = r, .res = res, .is_delete = true};
    if (ob_db_begin(r->db) != 0) {
        ob_write_fail(&w);
        return;
    }
    if (ob_write_lock(&w, key) != 1)
        return;
    if (!gated(res, OB_CAN_DELETE)) {
        ob_perm_item it;
        ob_write_stored_item(&w, &it);
        if (!permitted(r, ob_perm_allowed(r, ob_resource_perm(r, res, "delete"), &it)))
            return;
    }
    if (res->before_delete && res->before_delete(&w) != 0)
        return;
    const char *pkcol = res->pk_column ? res->pk_column : "id";
    const char *p[] = {w.key};
    char *sql = ob_arena_printf(r->arena, "DELETE FROM %s WHERE %s = $1", res->table, pkcol);
    if (!ob_db_query(r->db, r->arena, sql, 1, p)) {
        ob_write_db_error(&w);
        return;
    }
    if (ob_db_commit(r->db) != 0) {
        ob_write_fail(&w);
        return;
    }
    ob_write_after_commit(&w);
    r->res.status = 204;
    ob_buf_reset(&r->res.body);
}

/* ---- dispatch ---- */
