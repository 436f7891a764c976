/* write_facts.c - the stored row of an update or delete, looked up among
 * the rows the requester may view and locked, and the permission facts
 * (ob_perm_item) of the item as stored and as the write would leave it. */
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

static ob_rule rule_of(const ob_resource *res)
{
    switch (res->guard) {
    case OB_GUARD_SELF:
        return res->self_perm ? OB_RULE_TOKEN : OB_RULE_USER;
    case OB_GUARD_SCOPE:
        return OB_RULE_SCOPE;
    case OB_GUARD_SCOPED:
        return OB_RULE_SCOPED;
    case OB_GUARD_ACCESS_REQUEST:
        return OB_RULE_ACCESS_REQUEST;
    default:
        return OB_RULE_NONE;
    }
}

int ob_write_fixed_scope_type(ob_request *r, const ob_resource *res)
{
    const char *name = res->scope_type_name;
    const char *dot = name ? strchr(name, '.') : NULL;
    if (!dot)
        return 0;
    return ob_perm_content_type(r, ob_arena_strndup(r->arena, name, (size_t)(dot - name)),
                                dot + 1);
}

void ob_write_stored_item(const ob_write *w, ob_perm_item *it)
{
    memset(it, 0, sizeof *it);
    const ob_resource *res = w->res;
    const PGresult *pg = w->stored;
    it->rule = rule_of(res);
    it->self_perm = res->self_perm ? ob_arena_printf(w->r->arena, "%s.%s", res->app_label,
                                                     res->self_perm)
                                   : NULL;
    if (!pg)
        return;
#define NUM(c) (PQgetisnull(pg, 0, (c)) ? 0 : strtoll(PQgetvalue(pg, 0, (c)), NULL, 10))
    it->scope_type_id = (int)NUM(COL_ST);
    it->scope_uuid = PQgetisnull(pg, 0, COL_SU) ? NULL : PQgetvalue(pg, 0, COL_SU);
    it->owner_id = NUM(COL_OWNER);
    it->priority = (int)NUM(COL_PRIO);
    it->user_id = NUM(COL_USER);
    it->pending = !PQgetisnull(pg, 0, COL_PENDING) && PQgetvalue(pg, 0, COL_PENDING)[0] == 't';
#undef NUM
}

int ob_write_new_item(ob_write *w, ob_perm_item *it)
{
    const ob_resource *res = w->res;
    ob_request *r = w->r;
    ob_write_stored_item(w, it);
    if (w->create) {
        it->owner_id = 0;
        if (res->guard == OB_GUARD_SELF && !res->user_field && r->user)
            it->user_id = r->user->id;
    }
    if (w->scope_type_id && w->scope_uuid) {
        it->scope_type_id = w->scope_type_id;
        it->scope_uuid = w->scope_uuid;
    }
    if (res->scope_field) {
        ob_wvalue *v = ob_write_value(w, res->scope_field);
        if (v->state == OB_WV_GIVEN) {
            const char *uuid = v->text;
            if (uuid && res->scope_lookup_sql) {
                PGresult *pg;
                int ok = ob_write_exists(w, res->scope_lookup_sql, 1, uuid, NULL, NULL, &pg);
                if (ok < 0)
                    return -1;
                uuid = ok && !PQgetisnull(pg, 0, 0) ? ob_arena_strdup(r->arena, PQgetvalue(pg, 0, 0))
                          : NULL;
            }
            if (res->scope_type_name)
                it->scope_type_id = ob_write_fixed_scope_type(r, res);
            it->scope_uuid = uuid;
        }
    }
    if (res->priority_field) {
        ob_wvalue *v = ob_write_value(w, res->priority_field);
        if (v->state == OB_WV_GIVEN)
            it->priority = (int)v->num;
    }
    if (res->user_field) {
        ob_wvalue *v = ob_write_value(w, res->user_field);
        if (v->state == OB_WV_GIVEN)
            it->user_id = v->num;
        else if (w->create && r->user)
            it->user_id = r->user->id;
    }
    ob_wvalue *d = ob_write_value(w, "decision");
    if (res->pending_sql && d->state == OB_WV_GIVEN)
        it->pending = d->text && strcmp(d->text, "pending") == 0;
    else if (res->pending_sql && w->create)
        it->pending = true;
    return 0;
}

/* ---- the locked row ---- */
int ob_write_lock(ob_write *w, const char *key)
{
    ob_request *r = w->r;
    const ob_resource *res = w->res;
    const char *k = ob_resource_key(r, res, key ? key : "");
    if (!k) {
        ob_db_rollback(r->db);
        ob_failf(r, 404, "No %s matches the given query.", res->class_name);
        return 0;
    }
    ob_sql_params p = {.n = 0};
    ob_buf sql;
    ob_buf_init(&sql, r->arena);
    const char *pkcol = res->pk_column ? res->pk_column : "id";
    ob_buf_printf(&sql, "SELECT t.%s::text", pkcol);
    const char *st = res->scope_type_sql;
    int fixed = 0;
    if (!st && res->scope_type_name) {
        fixed = ob_write_fixed_scope_type(r, res);
        st = ob_arena_printf(r->arena, "%d", fixed);
    }
    ob_buf_printf(&sql, ", %s, %s::text, %s, %s, %s, %s", st ? st : "NULL::int",
                  res->scope_uuid_sql ? res->scope_uuid_sql : "NULL",
                  res->owner_sql ? res->owner_sql : "NULL::bigint",
                  res->priority_sql ? res->priority_sql : "NULL::int",
                  res->user_sql ? res->user_sql : res->self_sql ? res->self_sql : "NULL::bigint",
                  res->pending_sql ? res->pending_sql : "NULL::boolean");
    for (size_t i = 0; i < res->nwfields; i++) {
        const ob_wfield *f = &res->wfields[i];
        if (!f->column)
            continue;
        if (f->kind == OB_W_DATETIME)
            ob_buf_printf(&sql, ", (extract(epoch FROM t.%s) * 1000000)::bigint", f->column);
        else
            ob_buf_printf(&sql, ", t.%s::text", f->column);
    }
    ob_buf_printf(&sql, " FROM %s WHERE ", res->from);
    if (gated(res, write_op(w)))
        ob_buf_puts(&sql, "true"); /* gated: existence only (permissions.md §9) */
    else if (ob_resource_visible(&sql, &p, res, r) != 0) {
        ob_db_rollback(r->db);
        return -1;
    }
    ob_buf_printf(&sql, " AND %s = $%d FOR UPDATE OF t", res->pk->sql, ob_sql_param(&p, k));
    PGresult *pg = ob_db_query(r->db, r->arena, ob_buf_cstr(&sql), p.n, p.v);
    if (!pg) {
        ob_write_fail(w);
        return -1;
    }
    if (PQntuples(pg) == 0) {
        ob_db_rollback(r->db);
        ob_failf(r, 404, "No %s matches the given query.", res->class_name);
        return 0;
    }
    w->stored = pg;
    w->key = PQgetvalue(pg, 0, COL_PK);
    if (!PQgetisnull(pg, 0, COL_ST))
        w->scope_type_id = (int)strtol(PQgetvalue(pg, 0, COL_ST), NULL, 10);
    if (!PQgetisnull(pg, 0, COL_SU))
        w->scope_uuid = PQgetvalue(pg, 0, COL_SU);
    (void)fixed;
    return 1;
}

/* ---- the change ---- */
