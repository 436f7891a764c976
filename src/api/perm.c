/* perm.c - the permission engine (perm.h; permissions.md §6, §7, §9).
 *
 * Everything a decision needs about the requester is loaded in one query
 * per request (global grants, effective assignments, owned scopes); the
 * catalogue is cached per process.  Item checks then run in C, and list
 * visibility is one SQL predicate whose parameters are arrays built from
 * the same data, so the number of queries per request does not depend on
 * the number of rows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "openbook/core/alloc.h"
#include "openbook/auth/auth.h"
#include "openbook/db/db.h"
#include "openbook/core/log.h"
#include "openbook/api/perm.h"
#include "openbook/api/resource.h"
#include "openbook/api/resources.h"

/* ---- scope types (permissions.md §4) ---- */

/* The content colleague points .resource at the course and library group
 * resources once they exist; the scope objects come from the SQL view
 * scope_objects. */
const ob_scope_type ob_scope_types[] = {
    {"openbook_content", "course", "Course", &ob_res_courses},
    {"openbook_content", "librarygroup", "Library Group", &ob_res_library_groups},
};
const size_t ob_nscope_types = sizeof ob_scope_types / sizeof ob_scope_types[0];

const ob_scope_type *ob_scope_type_by_name(const char *app_label, const char *model)
{
    for (size_t i = 0; i < ob_nscope_types; i++)
        if (strcmp(ob_scope_types[i].app_label, app_label) == 0 &&
            strcmp(ob_scope_types[i].model, model) == 0)
            return &ob_scope_types[i];
    return NULL;
}

/* ---- catalogue, cached per process ---- */

typedef struct {
    int id;
    char *app_label, *name; /* name: model (content types) or codename (permissions) */
    char *label;            /* content types: the verbose name */
} cat_entry;

static struct {
    bool loaded;
    cat_entry *ct, *perm;
    size_t nct, nperm;
} cat;

static void cat_free(void)
{
    for (size_t i = 0; i < cat.nct; i++) {
        ob_free(cat.ct[i].app_label);
        ob_free(cat.ct[i].name);
        ob_free(cat.ct[i].label);
    }
    for (size_t i = 0; i < cat.nperm; i++) {
        ob_free(cat.perm[i].app_label);
        ob_free(cat.perm[i].name);
    }
    ob_free(cat.ct);
    ob_free(cat.perm);
    memset(&cat, 0, sizeof cat);
}

typedef struct {
    int32_t *anon, *model;  /* permission ids */
    size_t nanon, nmodel;
    struct asg {
        int st;
        const char *uuid;
        int priority;
        int32_t *perms;
        size_t nperms;
    } *asg;
    size_t nasg;
    struct owned {
        int st;
        const char *uuid;
    } *owned;
    size_t nowned;
    struct pubcache {
        int st;
        const char *uuid;
        int32_t *perms;
        size_t n;
    } pub[8];
    size_t npub;
    bool loaded;
    bool catalogue_reloaded;
} perm_ctx;

static perm_ctx *ctx_of(ob_request *r)
{
    if (!r->perm)
        r->perm = ob_arena_calloc(r->arena, 1, sizeof(perm_ctx));
    return r->perm;
}

/* Loads (or reloads) the catalogue.  0 or -1 (503 answered). */
static int cat_load(ob_request *r)
{
    PGresult *pg = ob_db_query(
        r->db, r->arena,
        "SELECT 'c', ct.id, ct.app_label, ct.model, ct.verbose_name FROM content_types ct"
        " UNION ALL SELECT 'p', p.id, ct.app_label, p.codename, '' FROM permissions p"
        " JOIN content_types ct ON ct.id = p.content_type_id",
        0, NULL);
    if (!pg) {
        ob_db_failure(r);
        return -1;
    }
    cat_free();
    int n = PQntuples(pg);
    cat.ct = ob_calloc((size_t)n + 1, sizeof *cat.ct);
    cat.perm = ob_calloc((size_t)n + 1, sizeof *cat.perm);
    for (int i = 0; i < n; i++) {
        cat_entry e = {(int)strtol(PQgetvalue(pg, i, 1), NULL, 10), ob_strdup(PQgetvalue(pg, i, 2)),
                       ob_strdup(PQgetvalue(pg, i, 3)), NULL};
        if (PQgetvalue(pg, i, 0)[0] == 'c') {
            const char *label = PQgetvalue(pg, i, 4);
            e.label = ob_strdup(*label ? label : e.name);
            cat.ct[cat.nct++] = e;
        } else {
            cat.perm[cat.nperm++] = e;
        }
    }
    cat.loaded = true;
    return 0;
}

static int cat_find(const cat_entry *tab, size_t n, const char *app, size_t applen,
                    const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(tab[i].app_label) == applen && strncmp(tab[i].app_label, app, applen) == 0 &&
            strcmp(tab[i].name, name) == 0)
            return tab[i].id;
    return 0;
}

/* Looks up; on a miss reloads the catalogue once per request (rows may
 * have been added since) and looks again. */
static int cat_lookup(ob_request *r, bool perm, const char *app, size_t applen, const char *name)
{
    if (!cat.loaded && cat_load(r) != 0)
        return -1;
    int id = perm ? cat_find(cat.perm, cat.nperm, app, applen, name)
                  : cat_find(cat.ct, cat.nct, app, applen, name);
    perm_ctx *c = ctx_of(r);
    if (id || c->catalogue_reloaded)
        return id;
    c->catalogue_reloaded = true;
    if (cat_load(r) != 0)
        return -1;
    return perm ? cat_find(cat.perm, cat.nperm, app, applen, name)
                : cat_find(cat.ct, cat.nct, app, applen, name);
}

int ob_perm_content_type(ob_request *r, const char *app_label, const char *model)
{
    int id = cat_lookup(r, false, app_label, strlen(app_label), model);
    return id < 0 ? 0 : id;
}

const char *ob_perm_content_type_label(ob_request *r, int id)
{
    if (!cat.loaded && cat_load(r) != 0)
        return "";
    for (size_t i = 0; i < cat.nct; i++)
        if (cat.ct[i].id == id)
            return ob_arena_strdup(r->arena, cat.ct[i].label);
    return "";
}

int ob_perm_id2(ob_request *r, const char *app_label, const char *codename)
{
    return cat_lookup(r, true, app_label, strlen(app_label), codename);
}

int ob_perm_id(ob_request *r, const char *perm_string)
{
    const char *dot = strchr(perm_string, '.');
    if (!dot || !dot[1] || dot == perm_string)
        return 0;
    return cat_lookup(r, true, perm_string, (size_t)(dot - perm_string), dot + 1);
}

/* ---- the requester ---- */

bool ob_perm_is_superuser(const ob_request *r)
{
    return r->user && r->user->is_superuser;
}

static const char *uid_text(ob_request *r)
{
    return ob_arena_printf(r->arena, "%lld", (long long)r->user->id);
}

static int32_t *parse_ids(ob_arena *a, const char *s, size_t *n)
{
    size_t count = *s ? 1 : 0;
    for (const char *q = s; *q; q++)
        count += *q == ',';
    int32_t *out = ob_arena_calloc(a, count + 1, sizeof *out);
    *n = 0;
    while (*s) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s)
            break;
        out[(*n)++] = (int32_t)v;
        s = *end == ',' ? end + 1 : end;
    }
    return out;
}

static void ctx_alloc(ob_request *r, perm_ctx *c, size_t n)
{
    c->anon = ob_arena_calloc(r->arena, n + 1, sizeof *c->anon);
    c->model = ob_arena_calloc(r->arena, n + 1, sizeof *c->model);
    c->asg = ob_arena_calloc(r->arena, n + 1, sizeof *c->asg);
    c->owned = ob_arena_calloc(r->arena, n + 1, sizeof *c->owned);
}

/* One row of OB_PERM_ROWS_SQL (the strings stay in use: arena or PGresult,
 * both live as long as the request). */
static void ctx_add(ob_request *r, perm_ctx *c, char kind, const char *v1, const char *uuid,
                    const char *prio, const char *perms)
{
    int v = (int)strtol(v1, NULL, 10);
    if (kind == 'a') {
        c->anon[c->nanon++] = v;
    } else if (kind == 'm') {
        c->model[c->nmodel++] = v;
    } else if (kind == 'r') {
        struct asg *a = &c->asg[c->nasg++];
        a->st = v;
        a->uuid = uuid;
        a->priority = (int)strtol(prio, NULL, 10);
        a->perms = parse_ids(r->arena, perms, &a->nperms);
    } else if (kind == 'o') {
        c->owned[c->nowned].st = v;
        c->owned[c->nowned++].uuid = uuid;
    }
}

int ob_perm_load(ob_request *r)
{
    perm_ctx *c = ctx_of(r);
    if (c->loaded || ob_perm_is_superuser(r))
        return 0;
    PGresult *pg;
    if (!r->user) {
        pg = ob_db_query(r->db, r->arena,
                         "SELECT 'a', permission_id::text, NULL, NULL, NULL"
                         " FROM anonymous_permissions",
                         0, NULL);
    } else {
        /* Effective assignments (permissions.md §6.1): active assignment of
         * an active role, inside its window.  The requester is active, or
         * r->user would be NULL. */
        const char *p[] = {uid_text(r)};
        pg = ob_db_query(r->db, r->arena, OB_PERM_ROWS_SQL("$1::bigint"), 1, p);
    }
    if (!pg) {
        ob_db_failure(r);
        return -1;
    }
    int n = PQntuples(pg);
    ctx_alloc(r, c, (size_t)n);
    for (int i = 0; i < n; i++)
        ctx_add(r, c, PQgetvalue(pg, i, 0)[0], PQgetvalue(pg, i, 1), PQgetvalue(pg, i, 2),
                PQgetvalue(pg, i, 3), PQgetvalue(pg, i, 4));
    c->loaded = true;
    return 0;
}

void ob_perm_preload(ob_request *r, const char *text)
{
    if (!text || !r->user || ob_perm_is_superuser(r))
        return;
    perm_ctx *c = ctx_of(r);
    if (c->loaded)
        return;
    /* Check the whole text first: anything unexpected and the lazy load
     * runs as before. */
    size_t rows = *text ? 1 : 0;
    for (const char *q = text; *q; q++) {
        if (*q == ';')
            rows++;
        else if (!(*q == '|' || *q == ',' || *q == '-' || (*q >= '0' && *q <= '9') ||
                   (*q >= 'a' && *q <= 'z')))
            return;
    }
    char *copy = ob_arena_strdup(r->arena, text);
    ctx_alloc(r, c, rows);
    for (char *row = copy; row && *row;) {
        char *next = strchr(row, ';');
        if (next)
            *next++ = '\0';
        char *fields[5];
        size_t k = 0;
        for (char *s = row; k < 5; k++) {
            fields[k] = s;
            char *bar = s ? strchr(s, '|') : NULL;
            if (bar)
                *bar = '\0';
            s = bar ? bar + 1 : NULL;
        }
        if (!fields[4] || strlen(fields[0]) != 1) {
            memset(c, 0, sizeof *c); /* malformed: back to the lazy load */
            return;
        }
        ctx_add(r, c, fields[0][0], fields[1], fields[2], fields[3], fields[4]);
        row = next;
    }
    c->loaded = true;
}

static bool has_id(const int32_t *ids, size_t n, int id)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

int ob_perm_global_id(ob_request *r, int perm_id)
{
    if (ob_perm_is_superuser(r))
        return 1;
    if (perm_id <= 0)
        return 0;
    if (ob_perm_load(r) != 0)
        return -1;
    perm_ctx *c = ctx_of(r);
    return has_id(c->anon, c->nanon, perm_id) || (r->user && has_id(c->model, c->nmodel, perm_id));
}

int ob_perm_model(ob_request *r, int perm_id)
{
    if (!r->user || perm_id <= 0)
        return 0;
    if (ob_perm_load(r) != 0)
        return -1;
    perm_ctx *c = ctx_of(r);
    return has_id(c->model, c->nmodel, perm_id);
}

int ob_perm_admin_gate(ob_request *r, const char *perm)
{
    if (!r->user) {
        ob_fail(r, 403, "Authentication credentials were not provided.");
        return -1;
    }
    if (ob_perm_is_superuser(r))
        return 0;
    if (perm && r->user->is_staff) {
        int id = ob_perm_id(r, perm);
        if (id < 0)
            return -1;
        int ok = ob_perm_model(r, id);
        if (ok < 0)
            return -1;
        if (ok)
            return 0;
    }
    ob_fail(r, 403, "You do not have permission to perform this action.");
    return -1;
}

/* ---- item checks (permissions.md §6) ---- */

static bool same_scope(int st, const char *uuid, int st2, const char *uuid2)
{
    return st == st2 && uuid && uuid2 && strcmp(uuid, uuid2) == 0;
}

static bool owns(perm_ctx *c, int st, const char *uuid)
{
    for (size_t i = 0; i < c->nowned; i++)
        if (same_scope(c->owned[i].st, c->owned[i].uuid, st, uuid))
            return true;
    return false;
}

/* The public permissions of one scope; cached for the request. */
static struct pubcache *public_perms(ob_request *r, int st, const char *uuid)
{
    perm_ctx *c = ctx_of(r);
    for (size_t i = 0; i < c->npub; i++)
        if (same_scope(c->pub[i].st, c->pub[i].uuid, st, uuid))
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
    e->perms = parse_ids(r->arena, PQgetvalue(pg, 0, 0), &e->n);
    return e;
}

static bool assigned_with(perm_ctx *c, int st, const char *uuid, int pid)
{
    for (size_t i = 0; i < c->nasg; i++)
        if (same_scope(c->asg[i].st, c->asg[i].uuid, st, uuid) &&
            has_id(c->asg[i].perms, c->asg[i].nperms, pid))
            return true;
    return false;
}

int ob_perm_max_priority(ob_request *r, int st, const char *uuid)
{
    if (ob_perm_load(r) != 0)
        return -1;
    perm_ctx *c = ctx_of(r);
    int best = -1;
    for (size_t i = 0; i < c->nasg; i++)
        if (same_scope(c->asg[i].st, c->asg[i].uuid, st, uuid) && c->asg[i].priority > best)
            best = c->asg[i].priority;
    return best;
}

/* Rule R for scope (st, uuid): 1, 0 or -1. */
static int rule_r(ob_request *r, int st, const char *uuid, int pid)
{
    if (!st || !uuid)
        return 0; /* no scope yet (a new scope item) */
    perm_ctx *c = ctx_of(r);
    if (r->user && owns(c, st, uuid))
        return 1;
    struct pubcache *pub = public_perms(r, st, uuid);
    if (!pub)
        return -1;
    if (has_id(pub->perms, pub->n, pid))
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
    perm_ctx *c = ctx_of(r);
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
    perm_ctx *c = ctx_of(r);
    if (pid && has_id(c->anon, c->nanon, pid))
        return 1;
    if (it && pid) {
        int ok = item_rules(r, perm, pid, it);
        if (ok != 0)
            return ok;
    }
    if (pid && r->user && has_id(c->model, c->nmodel, pid))
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
        if (want[k] > 0 && has_id(ids, n, want[k]))
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
            if (same_scope(c->asg[k].st, c->asg[k].uuid, a->st, a->uuid) &&
                (!nperm || any_of(c->asg[k].perms, c->asg[k].nperms, perms, nperm)))
                dup = true;
        if (!dup) {
            int best = a->priority;
            for (size_t k = 0; k < c->nasg; k++)
                if (same_scope(c->asg[k].st, c->asg[k].uuid, a->st, a->uuid) &&
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
    perm_ctx *c = ctx_of(r);
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

int ob_perm_visible_sql(ob_buf *sql, ob_sql_params *p, const ob_resource *res, ob_request *r)
{
    if (ob_perm_is_superuser(r)) {
        ob_buf_puts(sql, "true");
        return 0;
    }
    perm_ctx *c = ctx_of(r);
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
        if (both[i] > 0 && (has_id(c->anon, c->nanon, both[i]) ||
                            (r->user && has_id(c->model, c->nmodel, both[i]))))
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
        const char *uid = r->user ? uid_text(r) : NULL;
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
                          strcmp(res->scope_uuid_sql, res->pk->sql) == 0;
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
                fixed = dot ? cat_lookup(r, false, name, (size_t)(dot - name), dot + 1) : 0;
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
