/* initial_data.c - the permission catalogue and the initial rows of
 * api-resources.md §5.  Idempotent: existing rows are left as they are. */
#include <stdio.h>
#include <string.h>
#include "openbook/db.h"
#include "openbook/log.h"
#include "openbook/migrations.h"

typedef struct {
    const char *app_label, *model, *verbose;
} catalogue_model;

/* permissions.md §1: every model with its verbose name. */
static const catalogue_model models[] = {
    {"openbook_core", "site", "Website"},
    {"openbook_core", "language", "Language"},
    {"openbook_core", "mediafile", "Media File"},
    {"openbook_core", "htmllibrary", "HTML Library"},
    {"openbook_core", "htmllibrarytext", "HTML Library Text"},
    {"openbook_core", "htmllibraryversion", "HTML Library Version"},
    {"openbook_core", "htmlcomponent", "HTML Component"},
    {"openbook_core", "htmlcomponentdefinition", "HTML Component Definition"},
    {"openbook_auth", "user", "user"},
    {"openbook_auth", "group", "User Group"},
    {"openbook_auth", "authconfig", "Authentication Settings"},
    {"openbook_auth", "authconfigtext", "Authentication Settings: Translation"},
    {"openbook_auth", "authtoken", "Authentication Token"},
    {"openbook_auth", "anonymouspermission", "Anonymous Permission"},
    {"openbook_auth", "allowedrolepermission", "Allowed Role Permission"},
    {"openbook_auth", "permissiontext", "Permission: Translation"},
    {"openbook_auth", "role", "Role"},
    {"openbook_auth", "roleassignment", "Role Assignment"},
    {"openbook_auth", "enrollmentmethod", "Enrollment Method"},
    {"openbook_auth", "accessrequest", "Access Request"},
    {"openbook_auth", "signupgroupassignment", "Group Assignment on Signup"},
    {"openbook_auth", "securityassertion", "Identity Assertion"},
    {"auth", "permission", "permission"},
    {"openbook_content", "librarygroup", "Library Group"},
    {"openbook_content", "librarylink", "Library Link"},
    {"openbook_content", "textbook", "Textbook"},
    {"openbook_content", "textbookpage", "Textbook Page"},
    {"openbook_content", "course", "Course"},
    {"openbook_content", "coursematerial", "Course Material"},
    {"openbook_content", "coursematerialpagerange", "Course Material Page Range"},
};

static const struct {
    const char *app_label, *model, *codename, *name;
} extra_perms[] = {
    {"openbook_auth", "authtoken", "manage_own_authtoken", "Can mange own authentication tokens"},
    {"openbook_auth", "enrollmentmethod", "self_enroll", "Can self-enroll in a scope"},
};

/* permissions.md §3: the default anonymous permissions. */
static const char *const anonymous[][2] = {
    {"openbook_auth", "view_enrollmentmethod"},
    {"openbook_auth", "self_enroll"},
    {"openbook_auth", "view_authconfig"},
    {"openbook_core", "view_site"},
    {"openbook_core", "view_language"},
};

static int run(ob_db *db, const char *sql, int n, const char *const *p)
{
    PGresult *r = ob_db_query(db, NULL, sql, n, p);
    if (!r) {
        ob_error("load-initial-data: %s", ob_db_last_error(db));
        return -1;
    }
    PQclear(r);
    return 0;
}

static int add_perm(ob_db *db, const char *app, const char *model, const char *codename,
                    const char *name)
{
    const char *p[] = {app, model, codename, name};
    return run(db,
               "INSERT INTO permissions (content_type_id, codename, name) "
               "SELECT id, $3, $4 FROM content_types WHERE app_label = $1 AND model = $2 "
               "ON CONFLICT (content_type_id, codename) DO NOTHING",
               4, p);
}

int ob_load_initial_data(ob_db *db, long site_id)
{
    if (ob_db_ensure(db) || ob_db_begin(db))
        return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < sizeof models / sizeof *models; i++) {
        const catalogue_model *m = &models[i];
        const char *p[] = {m->app_label, m->model};
        rc = run(db,
                 "INSERT INTO content_types (app_label, model) VALUES ($1, $2) "
                 "ON CONFLICT (app_label, model) DO NOTHING",
                 2, p);
        static const char *const actions[] = {"view", "add", "change", "delete"};
        static const char *const verbs[] = {"view", "add", "change", "delete"};
        for (int a = 0; rc == 0 && a < 4; a++) {
            char codename[128], name[256];
            snprintf(codename, sizeof codename, "%s_%s", actions[a], m->model);
            snprintf(name, sizeof name, "Can %s %s", verbs[a], m->verbose);
            rc = add_perm(db, m->app_label, m->model, codename, name);
        }
    }
    for (size_t i = 0; rc == 0 && i < sizeof extra_perms / sizeof *extra_perms; i++)
        rc = add_perm(db, extra_perms[i].app_label, extra_perms[i].model, extra_perms[i].codename,
                      extra_perms[i].name);
    for (size_t i = 0; rc == 0 && i < sizeof anonymous / sizeof *anonymous; i++) {
        const char *p[] = {anonymous[i][0], anonymous[i][1]};
        rc = run(db,
                 "INSERT INTO anonymous_permissions (permission_id) "
                 "SELECT p.id FROM permissions p JOIN content_types ct ON ct.id = p.content_type_id "
                 "WHERE ct.app_label = $1 AND p.codename = $2 "
                 "ON CONFLICT (permission_id) DO NOTHING",
                 2, p);
    }
    if (rc == 0) {
        char id[24];
        snprintf(id, sizeof id, "%ld", site_id);
        const char *p[] = {id};
        rc = run(db,
                 "INSERT INTO sites (id, domain, name, short_name, about_url, brand_color) "
                 "VALUES ($1, 'openbook.studio', 'OpenBook', 'OpenBook', 'https://openbook.studio', "
                 "'#e2001a') ON CONFLICT (id) DO NOTHING",
                 1, p);
    }
    if (rc == 0)
        rc = run(db,
                 "INSERT INTO languages (language, name) VALUES ('de', 'Deutsch'), "
                 "('en', 'English') ON CONFLICT (language) DO NOTHING",
                 0, NULL);
    if (rc == 0 && ob_db_commit(db) == 0) {
        ob_info("load-initial-data: done");
        return 0;
    }
    ob_db_rollback(db);
    return -1;
}
