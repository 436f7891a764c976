/* load_demo_data.c - `openbook load-demo-data`: optional demo content for
 * development and `make run` (api-resources.md §5, "Demo content"):
 *
 *   library group "OpenBook Demo" (demo)            root, public view
 *     ├─ "Web Development" (web-development)         textbook "HTML Basics"
 *     │                                              with a small page tree;
 *     │                                              course "Web Development"
 *     └─ "Mathematics" (mathematics)
 *
 * The course has the roles student (10: view the course content) and
 * teacher (50: change it), a self-enrolment method without passphrase for
 * student, and one material that uses the textbook with a page range.
 *
 * Idempotent: every row is found by its natural key (slug within the parent,
 * position within the textbook, ...) and only created when missing; a row
 * that exists is left as it is, and so are the permissions of roles and
 * scopes that exist (an administrator may have changed them).  Only the
 * whitelist rows (allowed_role_permissions) the demo roles need are added
 * when missing: without them the roles could not be edited through the API.
 * Everything runs in one transaction. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "openbook/core/arena.h"
#include "openbook/cli/cli.h"
#include "openbook/db/db.h"
#include "openbook/db/migrations.h"

static const char usage[] =
    "Usage: openbook load-demo-data [-c FILE] [--owner USERNAME]\n\n"
    "Loads demo content: a library group tree (OpenBook Demo with Web Development\n"
    "and Mathematics), the textbook \"HTML Basics\" with a few pages, and the course\n"
    "\"Web Development\" with the roles student and teacher, a self-enrolment method\n"
    "and a course material with a page range.  Rows that exist are kept, so it is\n"
    "safe to run again.  Needs `openbook migrate` and `openbook load-initial-data`.\n\n"
    "  -c, --config FILE     configuration file\n"
    "      --owner USERNAME  owner (and creator) of the demo library groups and course\n"
    "  -h, --help            show this help\n";

/* Perm strings (app label, codename) of the demo roles and scopes. */
typedef struct {
    const char *app, *codename;
} perm_ref;

/* What the course roles hold.  Student: read the course and its material;
 * teacher: also change them and manage the students' enrolments (the
 * priority guard keeps teachers from touching roles above 50). */
static const perm_ref student_perms[] = {
    {"openbook_content", "view_course"},
    {"openbook_content", "view_coursematerial"},
    {"openbook_content", "view_coursematerialpagerange"},
};
static const perm_ref teacher_perms[] = {
    {"openbook_content", "view_course"},
    {"openbook_content", "change_course"},
    {"openbook_content", "view_coursematerial"},
    {"openbook_content", "add_coursematerial"},
    {"openbook_content", "change_coursematerial"},
    {"openbook_content", "delete_coursematerial"},
    {"openbook_content", "view_coursematerialpagerange"},
    {"openbook_content", "add_coursematerialpagerange"},
    {"openbook_content", "change_coursematerialpagerange"},
    {"openbook_content", "delete_coursematerialpagerange"},
    {"openbook_auth", "view_role"},
    {"openbook_auth", "view_roleassignment"},
    {"openbook_auth", "add_roleassignment"},
    {"openbook_auth", "change_roleassignment"},
    {"openbook_auth", "delete_roleassignment"},
    {"openbook_auth", "view_accessrequest"},
    {"openbook_auth", "change_accessrequest"},
};
/* Public permissions: anybody may see the course (to find it and enrol)
 * and the library groups with their textbooks (textbooks and pages are
 * guarded by their group, permissions.md §5). */
static const perm_ref course_public[] = {
    {"openbook_content", "view_course"},
};
static const perm_ref group_public[] = {
    {"openbook_content", "view_librarygroup"},
    {"openbook_content", "view_textbook"},
    {"openbook_content", "view_textbookpage"},
    {"openbook_content", "view_librarylink"},
};

#define NELEM(a) (sizeof(a) / sizeof *(a))

typedef struct {
    ob_db *db;
    ob_arena *arena;
    const char *owner;   /* user id as text, or NULL */
    long created;        /* rows inserted in this run */
} loader;

static PGresult *q(loader *l, const char *sql, int n, const char *const *p)
{
    PGresult *res = ob_db_query(l->db, l->arena, sql, n, p);
    if (!res)
        fprintf(stderr, "openbook: load-demo-data: %s\n", ob_db_last_error(l->db));
    return res;
}

/* Runs an INSERT and counts the rows it created. */
static int insert(loader *l, const char *sql, int n, const char *const *p)
{
    PGresult *res = q(l, sql, n, p);
    if (!res)
        return -1;
    l->created += strtol(PQcmdTuples(res), NULL, 10);
    return 0;
}

/* Runs `ins` (an INSERT ... RETURNING id::text that inserts nothing when
 * the row exists) with the n parameters p, else `find` (SELECT id::text by
 * the natural key, which is the first nkey parameters).  Returns the id
 * (arena), or NULL.  *created tells which. */
static const char *ensure_row(loader *l, const char *ins, const char *find, int n, int nkey,
                              const char *const *p, bool *created)
{
    PGresult *res = q(l, ins, n, p);
    if (!res)
        return NULL;
    *created = PQntuples(res) == 1;
    if (!*created) {
        res = q(l, find, nkey, p);
        if (!res)
            return NULL;
        if (PQntuples(res) != 1) {
            fprintf(stderr, "openbook: load-demo-data: expected one row for: %s\n", find);
            return NULL;
        }
    } else {
        l->created++;
    }
    return ob_arena_strdup(l->arena, PQgetvalue(res, 0, 0));
}

/* Whitelists the permissions for the scope type (model = course or
 * librarygroup); permissions.md §4: a role or scope may only hold
 * whitelisted permissions. */
static int whitelist(loader *l, const char *model, const perm_ref *perms, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *p[] = {model, perms[i].app, perms[i].codename};
        if (insert(l,
                   "INSERT INTO allowed_role_permissions (scope_type_id, permission_id)"
                   " SELECT st.id, p.id FROM content_types st, permissions p"
                   " JOIN content_types pct ON pct.id = p.content_type_id"
                   " WHERE st.app_label = 'openbook_content' AND st.model = $1"
                   " AND pct.app_label = $2 AND p.codename = $3"
                   " ON CONFLICT ON CONSTRAINT allowed_role_permissions_unique DO NOTHING",
                   3, p))
            return -1;
    }
    return 0;
}

static int public_perms(loader *l, const char *model, const char *scope, const perm_ref *perms,
                        size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *p[] = {model, scope, perms[i].app, perms[i].codename};
        if (insert(l,
                   "INSERT INTO scope_public_permissions (scope_type_id, scope_uuid, permission_id)"
                   " SELECT st.id, $2::uuid, p.id FROM content_types st, permissions p"
                   " JOIN content_types pct ON pct.id = p.content_type_id"
                   " WHERE st.app_label = 'openbook_content' AND st.model = $1"
                   " AND pct.app_label = $3 AND p.codename = $4 ON CONFLICT DO NOTHING",
                   4, p))
            return -1;
    }
    return 0;
}

/* A library group under parent (NULL: a root); public permissions only
 * when it is new. */
static const char *group(loader *l, const char *parent, const char *slug, const char *name,
                         const char *description)
{
    const char *p[] = {parent, slug, name, description, l->owner};
    bool created;
    const char *id = ensure_row(
        l,
        "INSERT INTO library_groups (parent_id, slug, name, description, owner_id, created_by,"
        " modified_by) VALUES ($1::uuid, $2, $3, $4, $5::bigint, $5::bigint, $5::bigint)"
        " ON CONFLICT ON CONSTRAINT library_groups_parent_slug_unique DO NOTHING"
        " RETURNING id::text",
        "SELECT id::text FROM library_groups WHERE parent_id IS NOT DISTINCT FROM $1::uuid"
        " AND slug = $2",
        5, 2, p, &created);
    if (id && created && public_perms(l, "librarygroup", id, group_public, NELEM(group_public)))
        return NULL;
    return id;
}

/* Page content: a DOM-like tree (api-resources.md §3 textbook_pages) of
 * elements, text nodes and components (custom elements of an HTML
 * component library, libraries.md). */
static const char page_intro[] =
    "{\"type\":\"root\",\"children\":["
    "{\"type\":\"element\",\"tag\":\"h1\",\"attributes\":{},\"children\":["
    "{\"type\":\"text\",\"text\":\"What is HTML?\"}]},"
    "{\"type\":\"element\",\"tag\":\"p\",\"attributes\":{},\"children\":["
    "{\"type\":\"text\",\"text\":\"HTML describes the structure of a web page: headings, \"},"
    "{\"type\":\"element\",\"tag\":\"em\",\"attributes\":{},\"children\":["
    "{\"type\":\"text\",\"text\":\"paragraphs\"}]},"
    "{\"type\":\"text\",\"text\":\", links and much more.\"}]},"
    "{\"type\":\"component\",\"tag\":\"ob-info-box\",\"attributes\":{\"variant\":\"tip\"},"
    "\"children\":[{\"type\":\"text\",\"text\":\"Every page in this book has a live editor.\"}]}"
    "]}";
static const char page_elements[] =
    "{\"type\":\"root\",\"children\":["
    "{\"type\":\"element\",\"tag\":\"h1\",\"attributes\":{},\"children\":["
    "{\"type\":\"text\",\"text\":\"Elements and attributes\"}]},"
    "{\"type\":\"element\",\"tag\":\"p\",\"attributes\":{},\"children\":["
    "{\"type\":\"text\",\"text\":\"An element has a start tag, content and an end tag.\"}]},"
    "{\"type\":\"component\",\"tag\":\"ob-code-editor\",\"attributes\":"
    "{\"language\":\"html\",\"height\":\"12em\"},\"children\":["
    "{\"type\":\"text\",\"text\":\"<p class=\\\"intro\\\">Hello, <b>world</b>!</p>\"}]}"
    "]}";
static const char page_links[] =
    "{\"type\":\"root\",\"children\":["
    "{\"type\":\"element\",\"tag\":\"h2\",\"attributes\":{},\"children\":["
    "{\"type\":\"text\",\"text\":\"Links\"}]},"
    "{\"type\":\"element\",\"tag\":\"p\",\"attributes\":{},\"children\":["
    "{\"type\":\"text\",\"text\":\"The \"},"
    "{\"type\":\"element\",\"tag\":\"code\",\"attributes\":{},\"children\":["
    "{\"type\":\"text\",\"text\":\"a\"}]},"
    "{\"type\":\"text\",\"text\":\" element links to other pages.\"}]}"
    "]}";
static const char page_quiz[] =
    "{\"type\":\"root\",\"children\":["
    "{\"type\":\"element\",\"tag\":\"h1\",\"attributes\":{},\"children\":["
    "{\"type\":\"text\",\"text\":\"Check your knowledge\"}]},"
    "{\"type\":\"component\",\"tag\":\"ob-quiz\",\"attributes\":{\"shuffle\":\"true\"},"
    "\"children\":["
    "{\"type\":\"component\",\"tag\":\"ob-quiz-question\",\"attributes\":"
    "{\"answer\":\"b\"},\"children\":["
    "{\"type\":\"text\",\"text\":\"Which element starts a paragraph? (a) <h1> (b) <p>\"}]}"
    "]}]}";

/* A page of textbook tb under parent (NULL: a root page) at position. */
static const char *page(loader *l, const char *tb, const char *parent, const char *position,
                        const char *name, const char *content)
{
    const char *p[] = {tb, parent, position, name, content, l->owner};
    bool created;
    return ensure_row(
        l,
        "INSERT INTO textbook_pages (textbook_id, parent_id, position, name, content,"
        " created_by, modified_by) VALUES ($1::uuid, $2::uuid, $3::int, $4, $5::json,"
        " $6::bigint, $6::bigint)"
        " ON CONFLICT ON CONSTRAINT textbook_pages_position_unique DO NOTHING RETURNING id::text",
        "SELECT id::text FROM textbook_pages WHERE textbook_id = $1::uuid"
        " AND parent_id IS NOT DISTINCT FROM $2::uuid AND position = $3::int",
        6, 3, p, &created);
}

/* A course role; its permissions only when the role is new. */
static const char *role(loader *l, const char *course, const char *slug, const char *name,
                        const char *priority, const perm_ref *perms, size_t n)
{
    const char *p[] = {course, slug, name, priority, l->owner};
    bool created;
    const char *id = ensure_row(
        l,
        "INSERT INTO roles (scope_type_id, scope_uuid, slug, name, priority, created_by,"
        " modified_by) SELECT ct.id, $1::uuid, $2, $3, $4::int, $5::bigint, $5::bigint"
        " FROM content_types ct WHERE ct.app_label = 'openbook_content' AND ct.model = 'course'"
        " ON CONFLICT ON CONSTRAINT roles_scope_slug_unique DO NOTHING RETURNING id::text",
        "SELECT r.id::text FROM roles r JOIN content_types ct ON ct.id = r.scope_type_id"
        " WHERE ct.app_label = 'openbook_content' AND ct.model = 'course'"
        " AND r.scope_uuid = $1::uuid AND r.slug = $2",
        5, 2, p, &created);
    for (size_t i = 0; id && created && i < n; i++) {
        const char *rp[] = {id, perms[i].app, perms[i].codename};
        if (insert(l,
                   "INSERT INTO role_permissions (role_id, permission_id)"
                   " SELECT $1::uuid, p.id FROM permissions p"
                   " JOIN content_types ct ON ct.id = p.content_type_id"
                   " WHERE ct.app_label = $2 AND p.codename = $3 ON CONFLICT DO NOTHING",
                   3, rp))
            return NULL;
    }
    return id;
}

static int load(loader *l, const char *owner_name)
{
    /* Two concurrent runs would both miss the rows without a unique key
     * (textbook, course, enrollment method) and create them twice. */
    if (!q(l, "SELECT pg_advisory_xact_lock(hashtext('openbook load-demo-data'))", 0, NULL))
        return -1;
    PGresult *res = q(l,
                      "SELECT count(*) FROM content_types WHERE app_label = 'openbook_content'"
                      " AND model IN ('course', 'librarygroup')",
                      0, NULL);
    if (!res)
        return -1;
    if (strcmp(PQgetvalue(res, 0, 0), "2") != 0) {
        fprintf(stderr, "openbook: load-demo-data: the permission catalogue is missing; run "
                        "`openbook load-initial-data` first\n");
        return -1;
    }
    if (owner_name) {
        const char *p[] = {owner_name};
        res = q(l, "SELECT id::text FROM users WHERE lower(username) = lower($1)", 1, p);
        if (!res)
            return -1;
        if (PQntuples(res) != 1) {
            fprintf(stderr, "openbook: load-demo-data: user '%s' does not exist\n", owner_name);
            return -1;
        }
        l->owner = ob_arena_strdup(l->arena, PQgetvalue(res, 0, 0));
    }

    if (whitelist(l, "librarygroup", group_public, NELEM(group_public)) ||
        whitelist(l, "course", teacher_perms, NELEM(teacher_perms)))
        return -1;

    const char *root = group(l, NULL, "demo", "OpenBook Demo",
                             "Demo content loaded by `openbook load-demo-data`.");
    const char *web = root ? group(l, root, "web-development", "Web Development",
                                   "Textbooks and courses about building web sites.")
                           : NULL;
    const char *math = web ? group(l, root, "mathematics", "Mathematics",
                                   "A second group, empty, to show the tree.")
                           : NULL;
    if (!math)
        return -1;

    /* The textbook: slugs are not unique per group in the schema, so the
     * lookup is the key (under the advisory lock). */
    bool created;
    const char *tp[] = {web, "html-basics", "HTML Basics",
                        "A first look at HTML: elements, attributes and links.", l->owner};
    const char *tb = ensure_row(
        l,
        "INSERT INTO textbooks (group_id, slug, name, description, created_by, modified_by)"
        " SELECT $1::uuid, $2::text, $3, $4, $5::bigint, $5::bigint WHERE NOT EXISTS"
        " (SELECT 1 FROM textbooks WHERE group_id = $1::uuid AND slug = $2) RETURNING id::text",
        "SELECT id::text FROM textbooks WHERE group_id = $1::uuid AND slug = $2"
        " ORDER BY created_at, id LIMIT 1",
        5, 2, tp, &created);
    if (!tb)
        return -1;
    const char *p1 = page(l, tb, NULL, "0", "Introduction", page_intro);
    const char *p2 = p1 ? page(l, tb, NULL, "1", "Elements and attributes", page_elements) : NULL;
    const char *p21 = p2 ? page(l, tb, p2, "0", "Links", page_links) : NULL;
    const char *p3 = p21 ? page(l, tb, NULL, "2", "Check your knowledge", page_quiz) : NULL;
    if (!p3)
        return -1;

    const char *cp[] = {web, "web-development", "Web Development",
                        "Build your first web site, from HTML to a published page.", l->owner};
    const char *course = ensure_row(
        l,
        "INSERT INTO courses (group_id, slug, name, description, owner_id, created_by,"
        " modified_by) SELECT $1::uuid, $2::text, $3, $4, $5::bigint, $5::bigint, $5::bigint"
        " WHERE NOT EXISTS (SELECT 1 FROM courses WHERE group_id = $1::uuid AND slug = $2)"
        " RETURNING id::text",
        "SELECT id::text FROM courses WHERE group_id = $1::uuid AND slug = $2"
        " ORDER BY created_at, id LIMIT 1",
        5, 2, cp, &created);
    if (!course)
        return -1;
    if (created && public_perms(l, "course", course, course_public, NELEM(course_public)))
        return -1;

    const char *student = role(l, course, "student", "Student", "10", student_perms,
                               NELEM(student_perms));
    const char *teacher = student ? role(l, course, "teacher", "Teacher", "50", teacher_perms,
                                         NELEM(teacher_perms))
                                  : NULL;
    if (!teacher)
        return -1;

    /* Self-enrolment into student, no passphrase (stored '' = none). */
    const char *ep[] = {course, student, "Self-enrolment",
                        "Anybody with an account may join this course as a student.", l->owner};
    if (insert(l,
               "INSERT INTO enrollment_methods (scope_type_id, scope_uuid, role_id, name,"
               " description, created_by, modified_by)"
               " SELECT ct.id, $1::uuid, $2::uuid, $3::text, $4, $5::bigint, $5::bigint"
               " FROM content_types ct WHERE ct.app_label = 'openbook_content'"
               " AND ct.model = 'course' AND NOT EXISTS (SELECT 1 FROM enrollment_methods e"
               " WHERE e.scope_type_id = ct.id AND e.scope_uuid = $1::uuid AND e.name = $3)",
               5, ep))
        return -1;

    const char *mp[] = {course, tb, l->owner};
    const char *material = ensure_row(
        l,
        "INSERT INTO course_materials (course_id, textbook_id, position, created_by, modified_by)"
        " VALUES ($1::uuid, $2::uuid, 0, $3::bigint, $3::bigint) ON CONFLICT DO NOTHING"
        " RETURNING id::text",
        "SELECT id::text FROM course_materials WHERE course_id = $1::uuid"
        " AND textbook_id = $2::uuid",
        3, 2, mp, &created);
    if (!material)
        return -1;
    /* The course reads the book's first two chapters (the quiz is left out). */
    const char *rp[] = {material, p1, p2, l->owner};
    if (insert(l,
               "INSERT INTO course_material_page_ranges (material_id, start_page_id, end_page_id,"
               " position, created_by, modified_by)"
               " VALUES ($1::uuid, $2::uuid, $3::uuid, 0, $4::bigint, $4::bigint)"
               " ON CONFLICT DO NOTHING",
               4, rp))
        return -1;
    return 0;
}

int ob_cmd_load_demo_data(int argc, char **argv, char **envp)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"owner", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config = NULL, *owner = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        if (c == 'c') {
            config = optarg;
        } else if (c == 'o') {
            owner = optarg;
        } else if (c == 'h') {
            fputs(usage, stdout);
            return 0;
        } else {
            fputs(usage, stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "openbook: unexpected argument '%s'\n", argv[optind]);
        fputs(usage, stderr);
        return 2;
    }

    ob_config cfg;
    if (ob_cli_load_config(&cfg, config, envp))
        return 1;
    int rc = 1;
    ob_db *db = ob_db_new(cfg.database_url, cfg.database_connect_timeout, 0);
    ob_arena arena;
    ob_arena_init(&arena, 16 * 1024);
    loader l = {.db = db, .arena = &arena};
    if (ob_db_ensure(db) != 0) {
        fprintf(stderr, "openbook: cannot connect to the database: %s\n", ob_db_last_error(db));
    } else if (ob_schema_version(db) <
               (ob_nmigrations ? ob_migrations[ob_nmigrations - 1].version : 0)) {
        fprintf(stderr, "openbook: the database schema is not up to date; run "
                        "`openbook migrate` first\n");
    } else if (ob_db_begin(db) != 0) {
        fprintf(stderr, "openbook: load-demo-data: %s\n", ob_db_last_error(db));
    } else if (load(&l, owner) != 0) {
        ob_db_rollback(db);
    } else if (ob_db_commit(db) != 0) {
        fprintf(stderr, "openbook: load-demo-data: %s\n", ob_db_last_error(db));
    } else {
        printf("load-demo-data: done, %ld row%s created%s\n", l.created,
               l.created == 1 ? "" : "s", l.created ? "" : " (everything was there)");
        rc = 0;
    }
    ob_arena_destroy(&arena);
    ob_db_free(db);
    ob_config_free(&cfg);
    return rc;
}
