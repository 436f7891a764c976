/* catalogue.c - the scope types (permissions.md §4) and the catalogue of
 * content types and permissions, cached per process and reloaded once per
 * request on a miss (rows may have been added since). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "openbook/core/alloc.h"
#include "openbook/auth/auth.h"
#include "openbook/db/db.h"
#include "openbook/core/log.h"
#include "openbook/perm/perm.h"
#include "internal.h"

/* ---- scope types (permissions.md §4) ---- */

/* The scope objects themselves come from the SQL view scope_objects. */
const ob_scope_type ob_scope_types[] = {
    {"openbook_content", "course", "Course"},
    {"openbook_content", "librarygroup", "Library Group"},
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

void ob_perm_catalogue_set(const ob_perm_cat_row *rows, size_t n)
{
    cat_free();
    if (!rows)
        return; /* unloaded: the next lookup reads the database */
    cat.ct = ob_calloc(n + 1, sizeof *cat.ct);
    cat.perm = ob_calloc(n + 1, sizeof *cat.perm);
    for (size_t i = 0; i < n; i++) {
        cat_entry e = {rows[i].id, ob_strdup(rows[i].app_label), ob_strdup(rows[i].name), NULL};
        if (rows[i].kind == 'c') {
            const char *label = rows[i].label ? rows[i].label : "";
            e.label = ob_strdup(*label ? label : e.name);
            cat.ct[cat.nct++] = e;
        } else {
            cat.perm[cat.nperm++] = e;
        }
    }
    cat.loaded = true;
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
    int n = PQntuples(pg);
    ob_perm_cat_row *rows = ob_arena_calloc(r->arena, (size_t)n + 1, sizeof *rows);
    for (int i = 0; i < n; i++)
        rows[i] = (ob_perm_cat_row){PQgetvalue(pg, i, 0)[0],
                                    (int)strtol(PQgetvalue(pg, i, 1), NULL, 10),
                                    PQgetvalue(pg, i, 2), PQgetvalue(pg, i, 3),
                                    PQgetvalue(pg, i, 4)};
    ob_perm_catalogue_set(rows, (size_t)n);
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
int ob_perm_cat_lookup(ob_request *r, bool perm, const char *app, size_t applen, const char *name)
{
    if (!cat.loaded && cat_load(r) != 0)
        return -1;
    int id = perm ? cat_find(cat.perm, cat.nperm, app, applen, name)
                  : cat_find(cat.ct, cat.nct, app, applen, name);
    perm_ctx *c = ob_perm_ctx(r);
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
    int id = ob_perm_cat_lookup(r, false, app_label, strlen(app_label), model);
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
    return ob_perm_cat_lookup(r, true, app_label, strlen(app_label), codename);
}

int ob_perm_id(ob_request *r, const char *perm_string)
{
    const char *dot = strchr(perm_string, '.');
    if (!dot || !dot[1] || dot == perm_string)
        return 0;
    return ob_perm_cat_lookup(r, true, perm_string, (size_t)(dot - perm_string), dot + 1);
}
