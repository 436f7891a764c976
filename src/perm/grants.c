/* grants.c - what the requester holds (permissions.md §6.1), loaded once
 * per request in one query (or taken from the authentication query:
 * ob_perm_preload), and the checks that need nothing else: global grants,
 * model permissions, the admin gate of §9. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "openbook/core/alloc.h"
#include "openbook/auth/auth.h"
#include "openbook/db/db.h"
#include "openbook/core/log.h"
#include "openbook/perm/perm.h"
#include "internal.h"

/* ---- the requester ---- */

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
        a->perms = ob_perm_parse_ids(r->arena, perms, &a->nperms);
    } else if (kind == 'o') {
        c->owned[c->nowned].st = v;
        c->owned[c->nowned++].uuid = uuid;
    }
}

int ob_perm_load(ob_request *r)
{
    perm_ctx *c = ob_perm_ctx(r);
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
        const char *p[] = {ob_perm_uid_text(r)};
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
    perm_ctx *c = ob_perm_ctx(r);
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

int ob_perm_global_id(ob_request *r, int perm_id)
{
    if (ob_perm_is_superuser(r))
        return 1;
    if (perm_id <= 0)
        return 0;
    if (ob_perm_load(r) != 0)
        return -1;
    perm_ctx *c = ob_perm_ctx(r);
    return ob_perm_has_id(c->anon, c->nanon, perm_id) || (r->user && ob_perm_has_id(c->model, c->nmodel, perm_id));
}

int ob_perm_global(ob_request *r, const char *app_label, const char *codename)
{
    if (ob_perm_is_superuser(r))
        return 1;
    int id = ob_perm_id2(r, app_label, codename);
    return id < 0 ? -1 : ob_perm_global_id(r, id);
}

int ob_perm_model(ob_request *r, int perm_id)
{
    if (!r->user || perm_id <= 0)
        return 0;
    if (ob_perm_load(r) != 0)
        return -1;
    perm_ctx *c = ob_perm_ctx(r);
    return ob_perm_has_id(c->model, c->nmodel, perm_id);
}

int ob_perm_admin_holds(ob_request *r, const char *perm)
{
    if (!r->user)
        return 0;
    if (ob_perm_is_superuser(r))
        return 1;
    if (!perm || !r->user->is_staff)
        return 0;
    int id = ob_perm_id(r, perm);
    return id < 0 ? -1 : ob_perm_model(r, id);
}

int ob_perm_admin_gate(ob_request *r, const char *perm)
{
    if (!r->user) {
        ob_fail(r, 403, "Authentication credentials were not provided.");
        return -1;
    }
    int ok = ob_perm_admin_holds(r, perm);
    if (ok < 0)
        return -1;
    if (ok)
        return 0;
    ob_fail(r, 403, "You do not have permission to perform this action.");
    return -1;
}
