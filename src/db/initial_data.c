/* initial_data.c - the permission catalogue and the initial rows of
 * api-resources.md §5.  Idempotent: existing rows are left as they are. */
#include <stdio.h>
#include <string.h>
#include "openbook/db/db.h"
#include "openbook/core/log.h"
#include "openbook/db/migrations.h"

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

/* permissions.md §1: the display names of the apps. */
static const char *const app_names[][2] = {
    {"openbook_core", "OpenBook Server"},
    {"openbook_auth", "User Management"},
    {"auth", "Authentication and Authorization"},
    {"openbook_content", "Learning Content"},
};

/* api-resources.md §5: the initial groups and their model permissions. */
static const struct {
    const char *name, *slug;
    const char *perms[4][2];
} groups[] = {
    {"Student", "student", {{"openbook_auth", "view_user"}}},
    {"Teacher",
     "teacher",
     {{"openbook_auth", "view_group"}, {"openbook_auth", "view_user"},
      {"openbook_content", "add_course"}}},
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

/* Groups Student and Teacher with their permissions, the site's auth
 * configuration with its texts, and the local sign-up assignment that
 * puts new users into Student (api-resources.md §5).  A group or
 * assignment that exists is left as it is, permissions included: an
 * administrator may have changed it. */
static int load_groups_and_config(ob_db *db, long site_id)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < sizeof groups / sizeof *groups; i++) {
        const char *p[] = {groups[i].name, groups[i].slug};
        PGresult *res = ob_db_query(db, NULL,
                                    "INSERT INTO groups (name, slug) VALUES ($1, $2)"
                                    " ON CONFLICT DO NOTHING RETURNING id::text",
                                    2, p);
        if (!res) {
            ob_error("load-initial-data: %s", ob_db_last_error(db));
            return -1;
        }
        char gid[24] = "";
        if (PQntuples(res) == 1)
            snprintf(gid, sizeof gid, "%s", PQgetvalue(res, 0, 0));
        PQclear(res);
        for (size_t k = 0; rc == 0 && *gid && k < 4 && groups[i].perms[k][0]; k++) {
            const char *q[] = {gid, groups[i].perms[k][0], groups[i].perms[k][1]};
            rc = run(db,
                     "INSERT INTO group_permissions (group_id, permission_id)"
                     " SELECT $1::int, p.id FROM permissions p"
                     " JOIN content_types ct ON ct.id = p.content_type_id"
                     " WHERE ct.app_label = $2 AND p.codename = $3 ON CONFLICT DO NOTHING",
                     3, q);
        }
    }
    char id[24];
    snprintf(id, sizeof id, "%ld", site_id);
    const char *sp[] = {id};
    if (rc == 0) {
        PGresult *res = ob_db_query(db, NULL,
                                    "INSERT INTO auth_configs (site_id) SELECT id FROM sites"
                                    " WHERE id = $1::int ON CONFLICT DO NOTHING RETURNING site_id",
                                    1, sp);
        if (!res) {
            ob_error("load-initial-data: %s", ob_db_last_error(db));
            return -1;
        }
        bool created = PQntuples(res) == 1;
        PQclear(res);
        if (created)
            rc = run(db,
                     "INSERT INTO auth_config_texts (site_id, language, logout_next_text)"
                     " SELECT $1::int, l.language, t.text FROM (VALUES ('de', 'Startseite'),"
                     " ('en', 'Start Page')) t(language, text)"
                     " JOIN languages l ON l.language = t.language ON CONFLICT DO NOTHING",
                     1, sp);
    }
    if (rc == 0)
        rc = run(db,
                 "WITH a AS (INSERT INTO signup_group_assignments (name, description)"
                 " SELECT 'Students', 'New users become students.' WHERE NOT EXISTS"
                 " (SELECT 1 FROM signup_group_assignments WHERE social_app IS NULL)"
                 " RETURNING id)"
                 " INSERT INTO signup_group_assignment_groups (assignment_id, group_id)"
                 " SELECT a.id, g.id FROM a, groups g WHERE g.slug = 'student'",
                 0, NULL);
    return rc;
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
        if (rc == 0) {
            const char *q[] = {m->app_label, m->model, m->verbose};
            rc = run(db,
                     "UPDATE content_types SET verbose_name = $3"
                     " WHERE app_label = $1 AND model = $2 AND verbose_name = ''",
                     3, q);
        }
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
    for (size_t i = 0; rc == 0 && i < sizeof app_names / sizeof *app_names; i++) {
        const char *p[] = {app_names[i][0], app_names[i][1]};
        rc = run(db,
                 "UPDATE content_types SET app_display_name = $2"
                 " WHERE app_label = $1 AND app_display_name = ''",
                 2, p);
    }
    if (rc == 0)
        rc = load_groups_and_config(db, site_id);
    if (rc == 0 && ob_db_commit(db) == 0) {
        ob_info("load-initial-data: done");
        return 0;
    }
    ob_db_rollback(db);
    return -1;
}
