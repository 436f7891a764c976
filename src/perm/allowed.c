/* allowed.c - allowed(user, perm, item) of permissions.md §6 for one item,
 * from its permission facts (ob_perm_item) and the loaded grants: rules U,
 * T, R and S with the priority guard, in C. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "openbook/core/alloc.h"
#include "openbook/auth/auth.h"
#include "openbook/db/db.h"
#include "openbook/core/log.h"
#include "openbook/perm/perm.h"
#include "internal.h"

/* ---- item checks (permissions.md §6) ---- */

static bool owns(perm_ctx *c, int st, const char *uuid)
{
    for (size_t i = 0; i < c->nowned; i++)
        if (ob_perm_same_scope(c->owned[i].st, c->owned[i].uuid, st, uuid))
            return true;
    return false;
}

/* The public permissions of one scope; cached for the request. */
static struct pubcache *public_perms(ob_request *r, int st, const char *uuid)
{
    perm_ctx *c = ob_perm_ctx(r);
    for (size_t i = 0; i < c->npub; i++)
        if (ob_perm_same_scope(c->pub[i].st, c->pub[i].uuid, st, uuid))
            return &c->pub[i];
    const char *p[] = {ob_arena_printf(r->arena, "%d", st), uuid};
    PGresult *pg = ob_db_query(r->db, r->arena,
                               "SELECT coalesce(string_agg(permission_id::text, ','), '')"
                               " FROM scope_public_permissions"
                               " WHERE scope_type_id = $1::int AND scope_uuid = $2::uuid",
                               2, p);
    if (!pg) {
        ob_db_failure(r);
        return NULL;
    }
    struct pubcache *e = &c->pub[c->npub < 8 ? c->npub++ : 7];
    e->st = st;
    e->uuid = ob_arena_strdup(r->arena, uuid);
    e->perms = ob_perm_parse_ids(r->arena, PQgetvalue(pg, 0, 0), &e->n);
    return e;
}

static bool assigned_with(perm_ctx *c, int st, const char *uuid, int pid)
{
    for (size_t i = 0; i < c->nasg; i++)
        if (ob_perm_same_scope(c->asg[i].st, c->asg[i].uuid, st, uuid) &&
            ob_perm_has_id(c->asg[i].perms, c->asg[i].nperms, pid))
            return true;
    return false;
}

int ob_perm_max_priority(ob_request *r, int st, const char *uuid)
{
    if (ob_perm_load(r) != 0)
        return -1;
    perm_ctx *c = ob_perm_ctx(r);
    int best = -1;
    for (size_t i = 0; i < c->nasg; i++)
        if (ob_perm_same_scope(c->asg[i].st, c->asg[i].uuid, st, uuid) && c->asg[i].priority > best)
            best = c->asg[i].priority;
    return best;
}

/* Rule R for scope (st, uuid): 1, 0 or -1. */
static int rule_r(ob_request *r, int st, const char *uuid, int pid)
{
    if (!st || !uuid)
        return 0; /* no scope yet (a new scope item) */
    perm_ctx *c = ob_perm_ctx(r);
    if (r->user && owns(c, st, uuid))
        return 1;
    struct pubcache *pub = public_perms(r, st, uuid);
    if (!pub)
        return -1;
    if (ob_perm_has_id(pub->perms, pub->n, pid))
        return 1;
    return r->user && assigned_with(c, st, uuid, pid);
}

static bool is_action(const char *perm, const char *action)
{
    const char *dot = strchr(perm, '.');
    const char *code = dot ? dot + 1 : perm;
    size_t n = strlen(action);
    return strncmp(code, action, n) == 0 && code[n] == '_';
}

/* Rule S: 1, 0 or -1. */
static int rule_s(ob_request *r, const char *perm, int pid, const ob_perm_item *it)
{
    perm_ctx *c = ob_perm_ctx(r);
    if (!it->scope_type_id || !it->scope_uuid)
        return 0;
    if (r->user && owns(c, it->scope_type_id, it->scope_uuid))
        return 1;
    int ok = rule_r(r, it->scope_type_id, it->scope_uuid, pid);
    if (ok <= 0)
        return ok;
    if (strcmp(perm, "openbook_auth.self_enroll") == 0 || is_action(perm, "view"))
        return 1;
    /* The priority guard. */
    int best = ob_perm_max_priority(r, it->scope_type_id, it->scope_uuid);
    return best >= 0 && best >= it->priority;
}

static int item_rules(ob_request *r, const char *perm, int pid, const ob_perm_item *it)
{
    bool me = r->user && it->user_id && it->user_id == r->user->id;
    if (it->rule == OB_RULE_USER && me)
        return 1;
    if (it->owner_id && r->user && it->owner_id == r->user->id)
        return 1;
    switch (it->rule) {
    case OB_RULE_TOKEN: {
        if (!me || !it->self_perm)
            return 0;
        int sid = ob_perm_id(r, it->self_perm);
        return sid < 0 ? -1 : ob_perm_global_id(r, sid);
    }
    case OB_RULE_SCOPE:
        return rule_r(r, it->scope_type_id, it->scope_uuid, pid);
    case OB_RULE_ACCESS_REQUEST:
        if (me && (is_action(perm, "view") || is_action(perm, "delete")))
            return 1;
        if (me && is_action(perm, "add") && it->pending)
            return 1;
        return rule_s(r, perm, pid, it);
    case OB_RULE_SCOPED:
        return rule_s(r, perm, pid, it);
    default:
        return 0;
    }
}

int ob_perm_allowed(ob_request *r, const char *perm, const ob_perm_item *it)
{
    if (ob_perm_is_superuser(r))
        return 1;
    if (ob_perm_load(r) != 0)
        return -1;
    int pid = ob_perm_id(r, perm);
    if (pid < 0)
        return -1;
    perm_ctx *c = ob_perm_ctx(r);
    if (pid && ob_perm_has_id(c->anon, c->nanon, pid))
        return 1;
    if (it && pid) {
        int ok = item_rules(r, perm, pid, it);
        if (ok != 0)
            return ok;
    }
    if (pid && r->user && ob_perm_has_id(c->model, c->nmodel, pid))
        return 1;
    /* Whoever may change an item may also see it. */
    const char *dot = strchr(perm, '.');
    if (dot && strncmp(dot + 1, "view_", 5) == 0) {
        const char *change = ob_arena_printf(r->arena, "%.*s.change_%s", (int)(dot - perm), perm,
                                             dot + 6);
        return ob_perm_allowed(r, change, it);
    }
    return 0;
}
