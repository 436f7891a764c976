/* visible.c - the list visibility of permissions.md §7: one SQL predicate
 * equivalent to allowed(view_<model>) row by row, whose parameters are
 * arrays built from the loaded grants, so a list costs the same number of
 * queries whatever its number of rows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "openbook/core/alloc.h"
#include "openbook/auth/auth.h"
#include "openbook/db/db.h"
#include "openbook/core/log.h"
#include "openbook/perm/perm.h"
#include "internal.h"

/* ---- list visibility (permissions.md §7) ---- */

static const char *int_array(ob_arena *a, const int *v, size_t n)
{
    ob_buf b;
    ob_buf_init(&b, a);
    ob_buf_putc(&b, '{');
    for (size_t i = 0; i < n; i++) {
        if (i)
            ob_buf_putc(&b, ',');
        ob_buf_put_int(&b, v[i]);
    }
    ob_buf_putc(&b, '}');
    return ob_buf_cstr(&b);
}

/* The pairs (scope type, uuid) of a set of scopes as two array literals
 * (types, uuids); with fixed_st, only the uuids of that type. */
typedef struct {
    ob_buf st, uuid, prio;
    size_t n;
} scope_set;

static void set_init(scope_set *s, ob_arena *a)
{
    ob_buf_init(&s->st, a);
    ob_buf_init(&s->uuid, a);
    ob_buf_init(&s->prio, a);
    s->n = 0;
}

static void set_add(scope_set *s, int st, const char *uuid, int prio)
{
    ob_buf_printf(&s->st, "%s%d", s->n ? "," : "{", st);
    ob_buf_printf(&s->uuid, "%s%s", s->n ? "," : "{", uuid);
    ob_buf_printf(&s->prio, "%s%d", s->n ? "," : "{", prio);
    s->n++;
}

static const char *set_arr(ob_buf *b)
{
    ob_buf_putc(b, '}');
    return ob_buf_cstr(b);
}

static bool any_of(const int32_t *ids, size_t n, const int *want, int nwant)
{
    for (int k = 0; k < nwant; k++)
        if (want[k] > 0 && ob_perm_has_id(ids, n, want[k]))
            return true;
    return false;
}

/* Scopes where the requester has an effective assignment whose role holds
 * one of the perms (or any role when nperm == 0), keeping the highest
 * priority per scope. */
static void assigned_set(perm_ctx *c, scope_set *s, int fixed_st, const int *perms, int nperm)
{
    for (size_t i = 0; i < c->nasg; i++) {
        struct asg *a = &c->asg[i];
        if (fixed_st && a->st != fixed_st)
            continue;
        if (nperm && !any_of(a->perms, a->nperms, perms, nperm))
            continue;
        bool dup = false;
        for (size_t k = 0; k < i && !dup; k++)
            if (ob_perm_same_scope(c->asg[k].st, c->asg[k].uuid, a->st, a->uuid) &&
                (!nperm || any_of(c->asg[k].perms, c->asg[k].nperms, perms, nperm)))
                dup = true;
        if (!dup) {
            int best = a->priority;
            for (size_t k = 0; k < c->nasg; k++)
                if (ob_perm_same_scope(c->asg[k].st, c->asg[k].uuid, a->st, a->uuid) &&
                    c->asg[k].priority > best)
                    best = c->asg[k].priority;
            set_add(s, a->st, a->uuid, best);
        }
    }
}

/* Rule R for perms over a scope given by SQL (type_sql may be a $n), as
 * one membership test: the row's scope is among the scopes with one of
 * the perms public, the scopes the user owns, and the scopes where an
 * effective assignment's role holds one of them.  One IN over a small set
 * (rather than an OR of EXISTS per row) lets PostgreSQL drive the list
 * from an index on the scope column, e.g. textbooks(group_id, ...), so a
 * role in ten groups reads those groups' rows and no others. */
static void rule_r_sql(ob_buf *sql, ob_sql_params *p, ob_request *r, const char *type_sql,
                       int fixed_st, const char *uuid_sql, const int *perms, int nperm,
                       bool with_owner)
{
    perm_ctx *c = ob_perm_ctx(r);
    scope_set own; /* the user's scopes: owned, then assigned */
    set_init(&own, r->arena);
    if (r->user) {
        if (with_owner)
            for (size_t i = 0; i < c->nowned; i++)
                if (!fixed_st || c->owned[i].st == fixed_st)
                    set_add(&own, c->owned[i].st, c->owned[i].uuid, 0);
        assigned_set(c, &own, fixed_st, perms, nperm);
    }
    int k = ob_sql_param(p, int_array(r->arena, perms, (size_t)nperm));
    if (fixed_st) {
        /* = ANY (ARRAY(...)): the set is an uncorrelated InitPlan, built
         * once per statement even inside the per-row id lists, and an
         * array parameter is an index condition (textbooks.group_id =
         * ANY(...)) for the page and for the count alike. */
        ob_buf_printf(sql,
                      "%s = ANY (ARRAY(SELECT sp.scope_uuid FROM scope_public_permissions sp"
                      " WHERE sp.scope_type_id = %s AND sp.permission_id = ANY($%d::int[])",
                      uuid_sql, type_sql, k);
        if (own.n)
            ob_buf_printf(sql, " UNION ALL SELECT unnest($%d::uuid[])",
                          ob_sql_param(p, set_arr(&own.uuid)));
        ob_buf_putc(sql, ')');
    } else {
        ob_buf_printf(sql,
                      "(%s, %s) IN (SELECT sp.scope_type_id, sp.scope_uuid FROM"
                      " scope_public_permissions sp WHERE sp.permission_id = ANY($%d::int[])",
                      type_sql, uuid_sql, k);
        if (own.n) {
            int a = ob_sql_param(p, set_arr(&own.st));
            int b = ob_sql_param(p, set_arr(&own.uuid));
            ob_buf_printf(sql, " UNION ALL SELECT * FROM unnest($%d::int[], $%d::uuid[])", a, b);
        }
    }
    ob_buf_putc(sql, ')');
}

int ob_perm_scope_sql(ob_buf *sql, ob_sql_params *p, ob_request *r, const char *type_sql,
                      const char *uuid_sql, const int *perm_ids, int nperm)
{
    if (ob_perm_load(r) != 0)
        return -1;
    rule_r_sql(sql, p, r, type_sql, 0, uuid_sql, perm_ids, nperm, true);
    return 0;
}

int ob_perm_visible_sql(ob_buf *sql, ob_sql_params *p, const ob_perm_rows *res, ob_request *r)
{
    if (ob_perm_is_superuser(r)) {
        ob_buf_puts(sql, "true");
        return 0;
    }
    perm_ctx *c = ob_perm_ctx(r);
    /* An anonymous requester holds only the anonymous grants: rather than
     * loading them in a query of their own, the predicate asks the table
     * itself, so an anonymous list costs one round trip instead of two (and
     * reads the grants in the same snapshot as the rows).  Anything else
     * the requester may hold needs the loaded data.  Not for resources
     * with a scope term: "EXISTS (...) OR scope = ANY (...)" cannot drive
     * an index, and a scoped list (textbooks of public groups) wants one
     * far more than it minds one small query. */
    bool scoped = (res->guard == OB_GUARD_SCOPE || res->guard == OB_GUARD_SCOPED ||
                   res->guard == OB_GUARD_ACCESS_REQUEST) &&
                  res->scope_uuid_sql;
    bool anon_sql = !r->user && !c->loaded && !scoped;
    if (!anon_sql && ob_perm_load(r) != 0)
        return -1;
    int v = ob_perm_id2(r, res->app_label, ob_arena_printf(r->arena, "view_%s", res->model));
    int ch = ob_perm_id2(r, res->app_label, ob_arena_printf(r->arena, "change_%s", res->model));
    if (v < 0 || ch < 0)
        return -1;
    int both[2] = {v, ch};
    bool global = false;
    for (int i = 0; i < 2 && !anon_sql; i++)
        if (both[i] > 0 && (ob_perm_has_id(c->anon, c->nanon, both[i]) ||
                            (r->user && ob_perm_has_id(c->model, c->nmodel, both[i]))))
            global = true;
    /* The terms are OR-ed without a leading "false": PostgreSQL turns a
     * lone IN (SELECT ...) into a semi-join that can use an index on the
     * scope column, but only before it folds constants away. */
    ob_buf terms;
    ob_buf_init(&terms, r->arena);
    int nterms = 0;
#define TERM() ob_buf_puts(&terms, nterms++ ? " OR " : "")
    if (global) {
        ob_buf_puts(&terms, "true");
        nterms++;
    } else {
        int ids[2], nids = 0;
        for (int i = 0; i < 2 && anon_sql; i++)
            if (both[i] > 0)
                ids[nids++] = both[i];
        if (nids) {
            TERM();
            ob_buf_printf(&terms,
                          "EXISTS (SELECT 1 FROM anonymous_permissions"
                          " WHERE permission_id = ANY($%d::int[]))",
                          ob_sql_param(p, int_array(r->arena, ids, (size_t)nids)));
        }
        const char *uid = r->user ? ob_perm_uid_text(r) : NULL;
        if (res->guard == OB_GUARD_SELF && uid && res->self_sql) {
            bool own = true;
            if (res->self_perm) {
                int sp = ob_perm_id2(r, res->app_label, res->self_perm);
                if (sp < 0)
                    return -1;
                own = ob_perm_global_id(r, sp) == 1;
            }
            if (own) {
                TERM();
                ob_buf_printf(&terms, "%s = $%d::bigint", res->self_sql, ob_sql_param(p, uid));
            }
        }
        /* A scope item's own owner is already among the owned scopes of
         * rule R (scope_objects), so only other owners need a term. */
        bool owner_in_r = res->guard == OB_GUARD_SCOPE && res->scope_uuid_sql &&
                          res->key_sql && strcmp(res->scope_uuid_sql, res->key_sql) == 0;
        if (uid && res->owner_sql && !owner_in_r) {
            TERM();
            ob_buf_printf(&terms, "%s = $%d::bigint", res->owner_sql, ob_sql_param(p, uid));
        }
        if (res->guard == OB_GUARD_ACCESS_REQUEST && uid && res->user_sql) {
            TERM();
            ob_buf_printf(&terms, "%s = $%d::bigint", res->user_sql, ob_sql_param(p, uid));
        }
        if ((res->guard == OB_GUARD_SCOPE || res->guard == OB_GUARD_SCOPED ||
             res->guard == OB_GUARD_ACCESS_REQUEST) &&
            res->scope_uuid_sql) {
            int fixed = 0;
            const char *type_sql = res->scope_type_sql;
            if (!type_sql) {
                const char *name = res->scope_type_name ? res->scope_type_name : "";
                const char *dot = strchr(name, '.');
                fixed = dot ? ob_perm_cat_lookup(r, false, name, (size_t)(dot - name), dot + 1) : 0;
                if (fixed < 0)
                    return -1;
                type_sql = ob_arena_printf(r->arena, "$%d::int",
                                           ob_sql_param(p, ob_arena_printf(r->arena, "%d", fixed)));
            }
            TERM();
            if (res->guard == OB_GUARD_SCOPE) {
                rule_r_sql(&terms, p, r, type_sql, fixed, res->scope_uuid_sql, both, 2, true);
            } else {
                /* Rule S: owner; R for view; R for change with the guard. */
                ob_buf_putc(&terms, '(');
                rule_r_sql(&terms, p, r, type_sql, fixed, res->scope_uuid_sql, &both[0], 1, true);
                scope_set prio;
                set_init(&prio, r->arena);
                assigned_set(c, &prio, fixed, NULL, 0);
                if (prio.n && res->priority_sql) {
                    ob_buf_puts(&terms, " OR (");
                    rule_r_sql(&terms, p, r, type_sql, fixed, res->scope_uuid_sql, &both[1], 1,
                               false);
                    int a = ob_sql_param(p, set_arr(&prio.st));
                    int b = ob_sql_param(p, set_arr(&prio.uuid));
                    int m = ob_sql_param(p, set_arr(&prio.prio));
                    ob_buf_printf(&terms,
                                  " AND EXISTS (SELECT 1 FROM unnest($%d::int[], $%d::uuid[],"
                                  " $%d::int[]) pg(st, su, mp) WHERE pg.st = %s AND pg.su = %s"
                                  " AND pg.mp >= %s))",
                                  a, b, m, type_sql, res->scope_uuid_sql, res->priority_sql);
                }
                ob_buf_putc(&terms, ')');
            }
        }
    }
#undef TERM
    ob_buf_printf(sql, "(%s)", nterms ? ob_buf_cstr(&terms) : "false");
    if (res->restrict_sql)
        ob_buf_printf(sql, " AND %s", res->restrict_sql);
    return 0;
}
