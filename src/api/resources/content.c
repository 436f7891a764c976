/* content.c - the learning content of /api/content/ (api-resources.md §3):
 * library groups and links, textbooks and their pages, courses, course
 * materials and their page ranges.
 *
 * Library groups and courses are scopes (rule R on the item itself); the
 * other types are guarded by rule R on the scope they hang off
 * (permissions.md §5 extension), named by a column of their row, and for
 * writes by the field that selects it (scope_field).  The descriptions
 * drive the generic machinery; the hooks here hold the rules that look at
 * more than one field or at other rows (trees, "exactly one target", the
 * textbook of a material), the deletes that foreign keys cannot express,
 * and the live events of websocket.md §9. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "openbook/db/db.h"
#include "openbook/perm/perm.h"
#include "openbook/api/resource.h"
#include "openbook/api/resources.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define APP "openbook_content"
#define GROUP_TYPE APP ".librarygroup"
#define COURSE_TYPE APP ".course"

/* A page's content: a DOM-like tree, stored verbatim.  Bounded so that one
 * page cannot take the whole request budget of a reader (the body limit
 * bounds the request; this bounds what every later GET sends). */
#define CONTENT_MAX_BYTES (1024 * 1024)
#define CONTENT_MAX_DEPTH 48

/* ---- small helpers for the hooks ---- */

/* The value a column has after this write: the given one, else the stored
 * one (NULL: SQL NULL, or absent on create). */
static const char *after(ob_write *w, const char *field, const char *column)
{
    const ob_wvalue *v = ob_write_value(w, field);
    if (v->state == OB_WV_GIVEN)
        return v->text;
    return w->create ? NULL : ob_write_stored(w, column);
}

static bool same(const char *a, const char *b)
{
    return a && b ? strcmp(a, b) == 0 : a == b;
}

/* Runs a query in the write's transaction.  NULL after answering 503. */
static PGresult *query3(ob_write *w, const char *sql, int n, const char *a, const char *b,
                        const char *c)
{
    const char *p[] = {a, b, c};
    PGresult *pg = ob_db_query(w->r->db, w->r->arena, sql, n, p);
    if (!pg) {
        ob_db_failure(w->r);
        ob_db_rollback(w->r->db);
    }
    return pg;
}

static PGresult *query(ob_write *w, const char *sql, int n, const char *a, const char *b)
{
    return query3(w, sql, n, a, b, NULL);
}

/* The first column of the first row, or NULL (no row or SQL NULL). */
static const char *value(const PGresult *pg)
{
    return PQntuples(pg) && !PQgetisnull(pg, 0, 0) ? PQgetvalue(pg, 0, 0) : NULL;
}

/* Serialises the tree checks (no cycles) of one table: two concurrent
 * moves could otherwise each pass the check and together make a cycle. */
static int lock_tree(ob_write *w, const char *table)
{
    return query(w, "SELECT pg_advisory_xact_lock(hashtext($1))", 1, table, NULL) ? 0 : -1;
}

/* Whether `ancestor` is `node` or above it in a parent_id tree. */
static int is_ancestor_or_self(ob_write *w, const char *table, const char *ancestor,
                               const char *node)
{
    char *sql = ob_arena_printf(w->r->arena,
                                "WITH RECURSIVE up(id, parent_id) AS (SELECT id, parent_id FROM %s"
                                " WHERE id = $1::uuid UNION SELECT x.id, x.parent_id FROM %s x"
                                " JOIN up ON x.id = up.parent_id) SELECT 1 FROM up"
                                " WHERE id = $2::uuid",
                                table, table);
    PGresult *pg = query(w, sql, 2, node, ancestor);
    return pg ? PQntuples(pg) > 0 : -1;
}

static void event(ob_write *w, const char *channel_kind, const char *channel_id,
                  const char *type, const char *payload)
{
    ob_write_event(w, ob_arena_printf(w->r->arena, "%s:%s", channel_kind, channel_id), type,
                   payload);
}

static void material_changed(ob_write *w, const char *course, const char *material,
                             const char *op);

/* course.material.changed for every (course id, material id) row that
 * `sql` ($1 = key) returns: the materials and page ranges a delete takes
 * along by foreign keys.  0, or -1 (answered). */
static int materials_changed(ob_write *w, const char *sql, const char *key, const char *op)
{
    PGresult *pg = query(w, sql, 1, key, NULL);
    if (!pg)
        return -1;
    for (int i = 0; i < PQntuples(pg); i++)
        material_changed(w, PQgetvalue(pg, i, 0), PQgetvalue(pg, i, 1), op);
    return 0;
}

static const char *op_of(const ob_write *w)
{
    return w->create ? "created" : w->is_delete ? "deleted" : "updated";
}

static const char *key_of(const ob_write *w)
{
    return w->create ? w->new_key : w->key;
}

/* ---- shared field tables ---- */

#define TEXT_FIELDS                                                                        \
    {"name", "t.name", OB_FT_TEXT, OB_FF_SORT | OB_FF_SEARCH | OB_FF_EQ},                  \
    {"description", "t.description", OB_FT_TEXT, OB_FF_SEARCH},                            \
    {"text_format", "t.text_format", OB_FT_TEXT, OB_FF_SORT}

#define SLUG_WFIELD                                                                        \
    {.name = "slug", .kind = OB_W_TEXT, .column = "slug", .flags = OB_WF_REQUIRED,         \
     .max_len = 50, .format = OB_FMT_SLUG}

/* [scoped-roles] of a scope item (its row is t, its owner joined as town). */
#define SCOPED_ROLE_FIELDS(model)                                                          \
    {"owner", "town.username", OB_FT_TEXT, OB_FF_SORT | OB_FF_EQ},                         \
    {"public_permissions", OB_PUBLIC_PERMS_SQL(APP, model), OB_FT_JSON, 0},                \
    {"role_assignments", OB_SCOPE_IDS_SQL("role_assignments", APP, model), OB_FT_JSON, 0}, \
    {"enrollment_methods", OB_SCOPE_IDS_SQL("enrollment_methods", APP, model), OB_FT_JSON, \
     0},                                                                                   \
    {"access_requests", OB_SCOPE_IDS_SQL("access_requests", APP, model), OB_FT_JSON, 0}
#define SCOPED_ROLE_REFS(model)                                                            \
    {.field = "owner", .sort_sql = "t.owner_id"},                                          \
    {.field = "public_permissions", .expand = &ob_res_permissions,                         \
     .key_sql = OB_PUBLIC_PERMS_SQL(APP, model)},                                          \
    {.field = "role_assignments", .expand = &ob_res_role_assignments,                      \
     .key_sql = OB_SCOPE_IDS_SQL("role_assignments", APP, model)},                         \
    {.field = "enrollment_methods", .expand = &ob_res_enrollment_methods,                  \
     .key_sql = OB_SCOPE_IDS_SQL("enrollment_methods", APP, model)},                       \
    {.field = "access_requests", .expand = &ob_res_access_requests,                        \
     .key_sql = OB_SCOPE_IDS_SQL("access_requests", APP, model)}
#define SCOPED_ROLE_WFIELDS                                                                \
    {.name = "owner", .kind = OB_W_USER, .column = "owner_id",                             \
     .flags = OB_WF_SUPERUSER | OB_WF_DEFAULT_REQUESTER | OB_WF_NULL},                     \
    {.name = "public_permissions", .kind = OB_W_PERM_LIST, .flags = OB_WF_WHITELIST,       \
     .m2m_table = "scope_public_permissions", .m2m_self = "scope_uuid",                    \
     .m2m_other = "permission_id", .m2m_type_col = "scope_type_id"}
#define OWNER_JOIN " LEFT JOIN users town ON town.id = t.owner_id"

#define REF_FILTER(param, column)                                                           \
    {.name = param, .kind = OB_FILT_REF, .sql = column " = $1::uuid"}

#define REF_WFIELD(fname, col, table, fl)                                                  \
    {.name = fname, .kind = OB_W_UUID_REF, .column = col, .flags = (fl),                   \
     .ref_sql = "SELECT 1 FROM " table " WHERE id = $1::uuid"}

#define POSITION_FIELD                                                                     \
    {"position", "t.position", OB_FT_INT, OB_FF_SORT | OB_FF_EQ | OB_FF_RANGE}
#define POSITION_WFIELD                                                                    \
    {.name = "position", .kind = OB_W_INT, .column = "position", .has_min = true,          \
     .min = 0, .has_max = true, .max = 2147483647, .def = "0"}

/* ---- library groups ---- */

static const ob_field group_fields[] = {
    {"id", "t.id", OB_FT_TEXT, OB_FF_SORT},
    {"slug", "t.slug", OB_FT_TEXT, OB_FF_SORT | OB_FF_SEARCH | OB_FF_EQ},
    TEXT_FIELDS,
    {"parent", "t.parent_id", OB_FT_TEXT, OB_FF_SORT},
    {"children", "NULL", OB_FT_JSON, 0},
    {"textbooks", "NULL", OB_FT_JSON, 0},
    {"courses", "NULL", OB_FT_JSON, 0},
    {"links", "NULL", OB_FT_JSON, 0},
    SCOPED_ROLE_FIELDS("librarygroup"),
    OB_AUDIT_FIELDS,
};

static const ob_field_ref group_refs[] = {
    {.field = "parent", .expand = &ob_res_library_groups, .key_sql = "t.parent_id"},
    {.field = "children", .expand = &ob_res_library_groups, .link_sql = "t.parent_id",
     .key_sql = "NULL"},
    {.field = "textbooks", .expand = &ob_res_textbooks, .link_sql = "t.group_id",
     .key_sql = "NULL"},
    {.field = "courses", .expand = &ob_res_courses, .link_sql = "t.group_id", .key_sql = "NULL"},
    {.field = "links", .expand = &ob_res_library_links, .link_sql = "t.group_id",
     .key_sql = "NULL"},
    SCOPED_ROLE_REFS("librarygroup"),
    OB_AUDIT_REFS(&ob_res_users_public),
};

static const ob_filter group_filters[] = {
    REF_FILTER("parent", "t.parent_id"),
    {.name = "parent__isnull", .kind = OB_FILT_ISNULL, .sql = "t.parent_id IS NULL",
     .sql_false = "t.parent_id IS NOT NULL"},
};

static const ob_wfield group_wfields[] = {
    SLUG_WFIELD,
    OB_TEXT_WFIELDS,
    REF_WFIELD("parent", "parent_id", "library_groups", OB_WF_NULL),
    SCOPED_ROLE_WFIELDS,
};

static const ob_unique group_uniques[] = {
    {"library_groups_parent_slug_unique", NULL,
     "Library Group with this Parent Group and Slug already exists."},
};

/* Deliberate: a group cannot become its own ancestor. */
static int group_validate(ob_write *w)
{
    const ob_wvalue *parent = ob_write_value(w, "parent");
    if (w->create || parent->state != OB_WV_GIVEN || !parent->text)
        return 0;
    if (lock_tree(w, "library_groups") != 0)
        return -1;
    int up = is_ancestor_or_self(w, "library_groups", w->key, parent->text);
    if (up < 0)
        return -1;
    if (up)
        ob_write_error(w, "parent", "A group cannot be its own ancestor.");
    return 0;
}

/* The subtree of the group being deleted: 409 while textbooks or courses
 * belong to it; else the roles (with their assignments, methods and
 * requests) and public permissions of every group in it go first, and the
 * subtree and its links follow by foreign keys. */
static int group_before_delete(ob_write *w)
{
    ob_request *r = w->r;
    PGresult *pg = query(w,
                         "WITH RECURSIVE sub(id) AS (SELECT $1::uuid UNION SELECT g.id FROM"
                         " library_groups g JOIN sub ON g.parent_id = sub.id)"
                         " SELECT (EXISTS (SELECT 1 FROM textbooks x WHERE x.group_id IN"
                         " (SELECT id FROM sub)) OR EXISTS (SELECT 1 FROM courses x WHERE"
                         " x.group_id IN (SELECT id FROM sub)))::text,"
                         " (SELECT '{' || string_agg(id::text, ',') || '}' FROM sub)",
                         1, w->key, NULL);
    if (!pg)
        return -1;
    if (PQgetvalue(pg, 0, 0)[0] == 't') {
        ob_db_rollback(r->db);
        ob_fail(r, 409,
                "Cannot delete this library group because textbooks or courses still belong to "
                "it.");
        return -1;
    }
    return ob_scope_delete_dependents(w, w->scope_type_id, PQgetvalue(pg, 0, 1));
}

const ob_resource ob_res_library_groups = {
    .app_label = APP,
    .model = "librarygroup",
    .class_name = "LibraryGroup",
    .from = "library_groups t" OWNER_JOIN OB_AUDIT_JOINS,
    .pk = &group_fields[0],
    .pk_is_uuid = true,
    .ref_type = "uuid",
    .fields = group_fields,
    .nfields = N(group_fields),
    .default_order = "t.name",
    .guard = OB_GUARD_SCOPE,
    .refs = group_refs,
    .nrefs = N(group_refs),
    .path = "/api/content/library_groups/",
    .summary = "The library: a tree of groups (a scope); slugs are unique among siblings.",
    .ops = OB_CAN_ALL,
    .access = OB_ANON_READ,
    .filters = group_filters,
    .nfilters = N(group_filters),
    .scope_type_name = GROUP_TYPE,
    .scope_uuid_sql = "t.id",
    .owner_sql = "t.owner_id",
    .table = "library_groups",
    .audit = true,
    .wfields = group_wfields,
    .nwfields = N(group_wfields),
    .uniques = group_uniques,
    .nuniques = N(group_uniques),
    .validate = group_validate,
    .before_delete = group_before_delete,
};

/* ---- library links ---- */

static const ob_field link_fields[] = {
    {"id", "t.id", OB_FT_TEXT, OB_FF_SORT},
    {"group", "t.group_id", OB_FT_TEXT, OB_FF_SORT},
    {"course", "t.course_id", OB_FT_TEXT, OB_FF_SORT},
    {"textbook", "t.textbook_id", OB_FT_TEXT, OB_FF_SORT},
    OB_AUDIT_FIELDS,
};

static const ob_field_ref link_refs[] = {
    {.field = "group", .expand = &ob_res_library_groups, .key_sql = "t.group_id"},
    {.field = "course", .expand = &ob_res_courses, .key_sql = "t.course_id"},
    {.field = "textbook", .expand = &ob_res_textbooks, .key_sql = "t.textbook_id"},
    OB_AUDIT_REFS(&ob_res_users_public),
};

static const ob_filter link_filters[] = {
    REF_FILTER("group", "t.group_id"),
    REF_FILTER("course", "t.course_id"),
    REF_FILTER("textbook", "t.textbook_id"),
};

static const char *const link_search[] = {"tg.name", "tc.name", "ttb.name", NULL};

static const ob_wfield link_wfields[] = {
    REF_WFIELD("group", "group_id", "library_groups", OB_WF_REQUIRED),
    REF_WFIELD("course", "course_id", "courses", OB_WF_NULL),
    REF_WFIELD("textbook", "textbook_id", "textbooks", OB_WF_NULL),
};

static const ob_unique link_uniques[] = {
    {"library_links_course_unique", NULL,
     "Library Link with this Library Group and Course already exists."},
    {"library_links_textbook_unique", NULL,
     "Library Link with this Library Group and Textbook already exists."},
};

/* Exactly one target, and it lives in another group. */
static int link_validate(ob_write *w)
{
    const char *group = after(w, "group", "group_id");
    const char *course = after(w, "course", "course_id");
    const char *textbook = after(w, "textbook", "textbook_id");
    if (!course == !textbook) {
        ob_write_error(w, "non_field_errors", "Exactly one of course and textbook must be set.");
        return 0;
    }
    PGresult *pg = course ? query(w, "SELECT group_id::text FROM courses WHERE id = $1::uuid", 1,
                                  course, NULL)
                          : query(w, "SELECT group_id::text FROM textbooks WHERE id = $1::uuid", 1,
                                  textbook, NULL);
    if (!pg)
        return -1;
    if (same(value(pg), group)) {
        if (course)
            ob_write_error(w, "course", "Links should only target courses from another group.");
        else
            ob_write_error(w, "textbook",
                           "Links should only target textbooks from another group.");
    }
    return 0;
}

const ob_resource ob_res_library_links = {
    .app_label = APP,
    .model = "librarylink",
    .class_name = "LibraryLink",
    .from = "library_links t JOIN library_groups tg ON tg.id = t.group_id"
            " LEFT JOIN courses tc ON tc.id = t.course_id"
            " LEFT JOIN textbooks ttb ON ttb.id = t.textbook_id" OB_AUDIT_JOINS,
    .pk = &link_fields[0],
    .pk_is_uuid = true,
    .ref_type = "uuid",
    .fields = link_fields,
    .nfields = N(link_fields),
    .default_order = "t.group_id",
    .guard = OB_GUARD_SCOPE,
    .refs = link_refs,
    .nrefs = N(link_refs),
    .path = "/api/content/library_links/",
    .summary = "A group's link to a course or textbook of another group.",
    .ops = OB_CAN_ALL,
    .access = OB_ANON_READ,
    .search_sql = link_search,
    .filters = link_filters,
    .nfilters = N(link_filters),
    .scope_type_name = GROUP_TYPE,
    .scope_uuid_sql = "t.group_id",
    .table = "library_links",
    .audit = true,
    .wfields = link_wfields,
    .nwfields = N(link_wfields),
    .uniques = link_uniques,
    .nuniques = N(link_uniques),
    .scope_field = "group",
    .validate = link_validate,
};

/* ---- textbooks ---- */

static const ob_field textbook_fields[] = {
    {"id", "t.id", OB_FT_TEXT, OB_FF_SORT},
    {"slug", "t.slug", OB_FT_TEXT, OB_FF_SORT | OB_FF_SEARCH | OB_FF_EQ},
    TEXT_FIELDS,
    {"group", "t.group_id", OB_FT_TEXT, OB_FF_SORT},
    {"pages", "NULL", OB_FT_JSON, 0},
    {"used_in_courses", "NULL", OB_FT_JSON, 0},
    {"library_links", "NULL", OB_FT_JSON, 0},
    OB_AUDIT_FIELDS,
};

static const ob_field_ref textbook_refs[] = {
    {.field = "group", .expand = &ob_res_library_groups, .key_sql = "t.group_id"},
    {.field = "pages", .expand = &ob_res_textbook_pages, .link_sql = "t.textbook_id",
     .key_sql = "NULL"},
    {.field = "used_in_courses", .expand = &ob_res_course_materials, .link_sql = "t.textbook_id",
     .key_sql = "NULL"},
    {.field = "library_links", .expand = &ob_res_library_links, .link_sql = "t.textbook_id",
     .key_sql = "NULL"},
    OB_AUDIT_REFS(&ob_res_users_public),
};

static const ob_filter textbook_filters[] = {
    REF_FILTER("group", "t.group_id"),
};

static const ob_wfield textbook_wfields[] = {
    SLUG_WFIELD,
    OB_TEXT_WFIELDS,
    REF_WFIELD("group", "group_id", "library_groups", OB_WF_REQUIRED),
};

/* textbook.updated when a textbook is changed or deleted (websocket.md §9). */
static int textbook_event(ob_write *w)
{
    if (!w->create)
        event(w, "textbook", w->key, "textbook.updated",
              ob_arena_printf(w->r->arena, "{\"textbook\":\"%s\",\"op\":\"%s\"}", w->key,
                              op_of(w)));
    return 0;
}

/* Deleting a textbook deletes the course materials that use it. */
static int textbook_before_delete(ob_write *w)
{
    textbook_event(w);
    return materials_changed(w,
                             "SELECT course_id::text, id::text FROM course_materials"
                             " WHERE textbook_id = $1::uuid",
                             w->key, "deleted");
}

const ob_resource ob_res_textbooks = {
    .app_label = APP,
    .model = "textbook",
    .class_name = "Textbook",
    .from = "textbooks t" OB_AUDIT_JOINS,
    .pk = &textbook_fields[0],
    .pk_is_uuid = true,
    .ref_type = "uuid",
    .fields = textbook_fields,
    .nfields = N(textbook_fields),
    .default_order = "t.group_id, t.name",
    .guard = OB_GUARD_SCOPE,
    .refs = textbook_refs,
    .nrefs = N(textbook_refs),
    .path = "/api/content/textbooks/",
    .summary = "Textbooks, each in a library group.",
    .ops = OB_CAN_ALL,
    .access = OB_ANON_READ,
    .filters = textbook_filters,
    .nfilters = N(textbook_filters),
    .scope_type_name = GROUP_TYPE,
    .scope_uuid_sql = "t.group_id",
    .table = "textbooks",
    .audit = true,
    .wfields = textbook_wfields,
    .nwfields = N(textbook_wfields),
    .scope_field = "group",
    .after_save = textbook_event,
    .before_delete = textbook_before_delete,
};

/* ---- textbook pages ---- */

static const ob_field page_fields[] = {
    {"id", "t.id", OB_FT_TEXT, OB_FF_SORT},
    {"textbook", "t.textbook_id", OB_FT_TEXT, OB_FF_SORT},
    {"parent", "t.parent_id", OB_FT_TEXT, OB_FF_SORT},
    {"children", "NULL", OB_FT_JSON, 0},
    POSITION_FIELD,
    TEXT_FIELDS,
    {"content", "t.content", OB_FT_JSON, 0},
    OB_AUDIT_FIELDS,
};

static const ob_field_ref page_refs[] = {
    {.field = "textbook", .expand = &ob_res_textbooks, .key_sql = "t.textbook_id"},
    {.field = "parent", .expand = &ob_res_textbook_pages, .key_sql = "t.parent_id"},
    {.field = "children", .expand = &ob_res_textbook_pages, .link_sql = "t.parent_id",
     .key_sql = "NULL"},
    OB_AUDIT_REFS(&ob_res_users_public),
};

static const ob_filter page_filters[] = {
    REF_FILTER("textbook", "t.textbook_id"),
    REF_FILTER("parent", "t.parent_id"),
    {.name = "parent__isnull", .kind = OB_FILT_ISNULL, .sql = "t.parent_id IS NULL",
     .sql_false = "t.parent_id IS NOT NULL"},
};

static const ob_wfield page_wfields[] = {
    REF_WFIELD("textbook", "textbook_id", "textbooks", OB_WF_REQUIRED),
    REF_WFIELD("parent", "parent_id", "textbook_pages", OB_WF_NULL),
    POSITION_WFIELD,
    OB_TEXT_WFIELDS,
    {.name = "content", .kind = OB_W_JSON, .column = "content", .def = "{}",
     .json_max_bytes = CONTENT_MAX_BYTES, .json_max_depth = CONTENT_MAX_DEPTH},
};

static const ob_unique page_uniques[] = {
    {"textbook_pages_position_unique", NULL,
     "Textbook Page with this Textbook, Parent Page and Position already exists."},
};

/* The parent belongs to the same textbook and is not the page or below
 * it; a page with child pages stays in its textbook. */
static int page_validate(ob_write *w)
{
    const char *textbook = after(w, "textbook", "textbook_id");
    const char *parent = after(w, "parent", "parent_id");
    if (!w->create && !same(textbook, ob_write_stored(w, "textbook_id"))) {
        PGresult *pg = query(w, "SELECT 1 FROM textbook_pages WHERE parent_id = $1::uuid LIMIT 1",
                             1, w->key, NULL);
        if (!pg)
            return -1;
        if (PQntuples(pg)) {
            ob_write_error(w, "textbook",
                           "A page with child pages cannot be moved to another textbook.");
            return 0;
        }
    }
    if (!parent)
        return 0;
    PGresult *pg = query(w, "SELECT textbook_id::text FROM textbook_pages WHERE id = $1::uuid", 1,
                         parent, NULL);
    if (!pg)
        return -1;
    if (!same(value(pg), textbook)) {
        ob_write_error(w, "parent", "Parent page must belong to the same textbook.");
        return 0;
    }
    if (w->create || ob_write_value(w, "parent")->state != OB_WV_GIVEN)
        return 0;
    if (lock_tree(w, "textbook_pages") != 0)
        return -1;
    int up = is_ancestor_or_self(w, "textbook_pages", w->key, parent);
    if (up < 0)
        return -1;
    if (up)
        ob_write_error(w, "parent", "A page cannot be its own ancestor.");
    return 0;
}

/* After a save: textbook.page.updated on the textbook's channel; a page
 * moved to another textbook leaves the old one ("deleted" there) and
 * arrives in the new one ("created" there).  Deletes: page_before_delete. */
static int page_event(ob_write *w)
{
    const char *page = key_of(w);
    const char *now = after(w, "textbook", "textbook_id");
    const char *was = w->create ? now : ob_write_stored(w, "textbook_id");
    ob_arena *a = w->r->arena;
#define PAGE_EVENT(tb, op)                                                                 \
    event(w, "textbook", (tb), "textbook.page.updated",                                    \
          ob_arena_printf(a, "{\"textbook\":\"%s\",\"page\":\"%s\",\"op\":\"%s\"}", (tb), page, \
                          (op)))
    if (same(now, was)) {
        PAGE_EVENT(was, op_of(w));
    } else {
        PAGE_EVENT(was, "deleted");
        PAGE_EVENT(now, "created");
    }
#undef PAGE_EVENT
    return 0;
}

#define PAGE_SUBTREE                                                                       \
    "WITH RECURSIVE sub(id) AS (SELECT $1::uuid UNION SELECT p.id FROM textbook_pages p"   \
    " JOIN sub ON p.parent_id = sub.id) "

/* Deleting a page deletes its subtree (an event per page) and the page
 * ranges that start or end in it (their materials change). */
static int page_before_delete(ob_write *w)
{
    const char *tb = ob_write_stored(w, "textbook_id");
    PGresult *pg = query(w, PAGE_SUBTREE "SELECT id::text FROM sub", 1, w->key, NULL);
    if (!pg || !tb)
        return pg ? 0 : -1;
    for (int i = 0; i < PQntuples(pg); i++)
        event(w, "textbook", tb, "textbook.page.updated",
              ob_arena_printf(w->r->arena,
                              "{\"textbook\":\"%s\",\"page\":\"%s\",\"op\":\"deleted\"}", tb,
                              PQgetvalue(pg, i, 0)));
    return materials_changed(w,
                             PAGE_SUBTREE "SELECT DISTINCT m.course_id::text, m.id::text FROM"
                             " course_material_page_ranges x JOIN course_materials m ON m.id ="
                             " x.material_id WHERE x.start_page_id IN (SELECT id FROM sub)"
                             " OR x.end_page_id IN (SELECT id FROM sub)",
                             w->key, "updated");
}

const ob_resource ob_res_textbook_pages = {
    .app_label = APP,
    .model = "textbookpage",
    .class_name = "TextbookPage",
    .from = "textbook_pages t JOIN textbooks ttb ON ttb.id = t.textbook_id" OB_AUDIT_JOINS,
    .pk = &page_fields[0],
    .pk_is_uuid = true,
    .ref_type = "uuid",
    .fields = page_fields,
    .nfields = N(page_fields),
    .default_order = "t.textbook_id, t.parent_id, t.position, t.name",
    .guard = OB_GUARD_SCOPE,
    .refs = page_refs,
    .nrefs = N(page_refs),
    .path = "/api/content/textbook_pages/",
    .summary = "The pages of a textbook: a tree with positions; content is a JSON tree.",
    .ops = OB_CAN_ALL,
    .access = OB_ANON_READ,
    .filters = page_filters,
    .nfilters = N(page_filters),
    .scope_type_name = GROUP_TYPE,
    .scope_uuid_sql = "ttb.group_id",
    .table = "textbook_pages",
    .audit = true,
    .wfields = page_wfields,
    .nwfields = N(page_wfields),
    .uniques = page_uniques,
    .nuniques = N(page_uniques),
    .scope_field = "textbook",
    .scope_lookup_sql = "SELECT group_id::text FROM textbooks WHERE id = $1::uuid",
    .validate = page_validate,
    .after_save = page_event,
    .before_delete = page_before_delete,
};

/* ---- courses ---- */

static const ob_field course_fields[] = {
    {"id", "t.id", OB_FT_TEXT, OB_FF_SORT},
    {"slug", "t.slug", OB_FT_TEXT, OB_FF_SORT | OB_FF_SEARCH | OB_FF_EQ},
    TEXT_FIELDS,
    {"group", "t.group_id", OB_FT_TEXT, OB_FF_SORT},
    {"is_template", "t.is_template", OB_FT_BOOL, OB_FF_SORT | OB_FF_EQ},
    {"materials", "NULL", OB_FT_JSON, 0},
    SCOPED_ROLE_FIELDS("course"),
    OB_AUDIT_FIELDS,
};

static const ob_field_ref course_refs[] = {
    {.field = "group", .expand = &ob_res_library_groups, .key_sql = "t.group_id"},
    {.field = "materials", .expand = &ob_res_course_materials, .link_sql = "t.course_id",
     .key_sql = "NULL"},
    SCOPED_ROLE_REFS("course"),
    OB_AUDIT_REFS(&ob_res_users_public),
};

static const ob_filter course_filters[] = {
    REF_FILTER("group", "t.group_id"),
};

static const ob_wfield course_wfields[] = {
    SLUG_WFIELD,
    OB_TEXT_WFIELDS,
    REF_WFIELD("group", "group_id", "library_groups", OB_WF_REQUIRED),
    {.name = "is_template", .kind = OB_W_BOOL, .column = "is_template"},
    SCOPED_ROLE_WFIELDS,
};

static int course_event(ob_write *w)
{
    if (!w->create)
        event(w, "course", w->key, "course.updated",
              ob_arena_printf(w->r->arena, "{\"course\":\"%s\",\"op\":\"%s\"}", w->key, op_of(w)));
    return 0;
}

/* Materials, page ranges and links go by foreign keys; roles (with their
 * assignments, methods, requests) and public permissions here. */
static int course_before_delete(ob_write *w)
{
    if (ob_scope_delete_dependents(w, w->scope_type_id,
                                   ob_arena_printf(w->r->arena, "{%s}", w->key)) != 0)
        return -1;
    return course_event(w);
}

const ob_resource ob_res_courses = {
    .app_label = APP,
    .model = "course",
    .class_name = "Course",
    .from = "courses t" OWNER_JOIN OB_AUDIT_JOINS,
    .pk = &course_fields[0],
    .pk_is_uuid = true,
    .ref_type = "uuid",
    .fields = course_fields,
    .nfields = N(course_fields),
    .default_order = "t.group_id, t.name",
    .guard = OB_GUARD_SCOPE,
    .refs = course_refs,
    .nrefs = N(course_refs),
    .path = "/api/content/courses/",
    .summary = "Courses (a scope), each in a library group.",
    .ops = OB_CAN_ALL,
    .access = OB_ANON_READ,
    .filters = course_filters,
    .nfilters = N(course_filters),
    .scope_type_name = COURSE_TYPE,
    .scope_uuid_sql = "t.id",
    .owner_sql = "t.owner_id",
    .table = "courses",
    .audit = true,
    .wfields = course_wfields,
    .nwfields = N(course_wfields),
    .after_save = course_event,
    .before_delete = course_before_delete,
};

/* ---- course materials ---- */

static const ob_field material_fields[] = {
    {"id", "t.id", OB_FT_TEXT, OB_FF_SORT},
    {"course", "t.course_id", OB_FT_TEXT, OB_FF_SORT},
    {"textbook", "t.textbook_id", OB_FT_TEXT, OB_FF_SORT},
    POSITION_FIELD,
    {"page_ranges", "NULL", OB_FT_JSON, 0},
    OB_AUDIT_FIELDS,
};

static const ob_field_ref material_refs[] = {
    {.field = "course", .expand = &ob_res_courses, .key_sql = "t.course_id"},
    {.field = "textbook", .expand = &ob_res_textbooks, .key_sql = "t.textbook_id"},
    {.field = "page_ranges", .expand = &ob_res_course_material_page_ranges,
     .link_sql = "t.material_id", .key_sql = "NULL"},
    OB_AUDIT_REFS(&ob_res_users_public),
};

static const ob_filter material_filters[] = {
    REF_FILTER("course", "t.course_id"),
    REF_FILTER("textbook", "t.textbook_id"),
};

static const char *const material_search[] = {"tc.name", "ttb.name", NULL};

static const ob_wfield material_wfields[] = {
    REF_WFIELD("course", "course_id", "courses", OB_WF_REQUIRED),
    /* Nullable here only so that null gets the spec's own message (the
     * validate hook); the column is NOT NULL. */
    REF_WFIELD("textbook", "textbook_id", "textbooks", OB_WF_REQUIRED | OB_WF_NULL),
    POSITION_WFIELD,
};

static const ob_unique material_uniques[] = {
    {"course_materials_position_unique", NULL,
     "Course Material with this Course and Position already exists."},
    {"course_materials_textbook_unique", NULL,
     "Course Material with this Course and Textbook already exists."},
};

static int material_validate(ob_write *w)
{
    const ob_wvalue *tb = ob_write_value(w, "textbook");
    if (tb->state == OB_WV_GIVEN && !tb->text) {
        ob_write_error(w, "textbook", "A material entry must reference a textbook.");
        return 0;
    }
    if (!w->create && tb->state == OB_WV_GIVEN &&
        !same(tb->text, ob_write_stored(w, "textbook_id"))) {
        PGresult *pg = query(w,
                             "SELECT 1 FROM course_material_page_ranges WHERE material_id ="
                             " $1::uuid LIMIT 1",
                             1, w->key, NULL);
        if (!pg)
            return -1;
        if (PQntuples(pg))
            ob_write_error(w, "textbook",
                           "The textbook cannot be changed while page ranges exist.");
    }
    return 0;
}

/* course.material.changed on the course's channel (both courses when a
 * material moves). */
static void material_changed(ob_write *w, const char *course, const char *material,
                             const char *op)
{
    event(w, "course", course, "course.material.changed",
          ob_arena_printf(w->r->arena, "{\"course\":\"%s\",\"material\":\"%s\",\"op\":\"%s\"}",
                          course, material, op));
}

static int material_event(ob_write *w)
{
    const char *now = after(w, "course", "course_id");
    const char *was = w->create ? now : ob_write_stored(w, "course_id");
    if (w->is_delete || same(now, was)) {
        material_changed(w, was, key_of(w), op_of(w));
    } else {
        material_changed(w, was, key_of(w), "deleted");
        material_changed(w, now, key_of(w), "created");
    }
    return 0;
}

/* null is refused with the spec's own message. */
static const ob_field_note material_notes[] = {
    {.name = "textbook", .flags = OB_NOTE_NOT_NULLABLE},
};

const ob_resource ob_res_course_materials = {
    .app_label = APP,
    .model = "coursematerial",
    .class_name = "CourseMaterial",
    .from = "course_materials t JOIN courses tc ON tc.id = t.course_id"
            " JOIN textbooks ttb ON ttb.id = t.textbook_id" OB_AUDIT_JOINS,
    .pk = &material_fields[0],
    .pk_is_uuid = true,
    .ref_type = "uuid",
    .fields = material_fields,
    .nfields = N(material_fields),
    .default_order = "t.course_id, t.position",
    .guard = OB_GUARD_SCOPE,
    .refs = material_refs,
    .nrefs = N(material_refs),
    .path = "/api/content/course_materials/",
    .notes = material_notes,
    .nnotes = N(material_notes),
    .summary = "The textbooks a course uses, in order.",
    .ops = OB_CAN_ALL,
    .access = OB_ANON_READ,
    .search_sql = material_search,
    .filters = material_filters,
    .nfilters = N(material_filters),
    .scope_type_name = COURSE_TYPE,
    .scope_uuid_sql = "t.course_id",
    .table = "course_materials",
    .audit = true,
    .wfields = material_wfields,
    .nwfields = N(material_wfields),
    .uniques = material_uniques,
    .nuniques = N(material_uniques),
    .scope_field = "course",
    .validate = material_validate,
    .after_save = material_event,
    .before_delete = material_event,
};

/* ---- course material page ranges ---- */

static const ob_field range_fields[] = {
    {"id", "t.id", OB_FT_TEXT, OB_FF_SORT},
    {"material", "t.material_id", OB_FT_TEXT, OB_FF_SORT},
    {"start_page", "t.start_page_id", OB_FT_TEXT, OB_FF_SORT},
    {"end_page", "t.end_page_id", OB_FT_TEXT, OB_FF_SORT},
    POSITION_FIELD,
    OB_AUDIT_FIELDS,
};

static const ob_field_ref range_refs[] = {
    {.field = "material", .expand = &ob_res_course_materials, .key_sql = "t.material_id"},
    {.field = "start_page", .expand = &ob_res_textbook_pages, .key_sql = "t.start_page_id"},
    {.field = "end_page", .expand = &ob_res_textbook_pages, .key_sql = "t.end_page_id"},
    OB_AUDIT_REFS(&ob_res_users_public),
};

static const ob_filter range_filters[] = {
    REF_FILTER("material", "t.material_id"),
    REF_FILTER("start_page", "t.start_page_id"),
    REF_FILTER("end_page", "t.end_page_id"),
};

static const char *const range_search[] = {"tc.name", "ttb.name", "tsp.name", "tep.name", NULL};

static const ob_wfield range_wfields[] = {
    REF_WFIELD("material", "material_id", "course_materials", OB_WF_REQUIRED),
    REF_WFIELD("start_page", "start_page_id", "textbook_pages", OB_WF_REQUIRED),
    REF_WFIELD("end_page", "end_page_id", "textbook_pages", OB_WF_REQUIRED),
    POSITION_WFIELD,
};

static const ob_unique range_uniques[] = {
    {"page_ranges_position_unique", NULL,
     "Course Material Page Range with this Course Material and Position already exists."},
    {"page_ranges_pages_unique", NULL,
     "Course Material Page Range with this Course Material, Start Page and End Page already "
     "exists."},
};

/* Both pages belong to the material's textbook. */
static int range_validate(ob_write *w)
{
    const char *material = after(w, "material", "material_id");
    const char *start = after(w, "start_page", "start_page_id");
    const char *end = after(w, "end_page", "end_page_id");
    PGresult *pg = query3(w,
                          "SELECT (SELECT p.textbook_id = m.textbook_id FROM textbook_pages p"
                          " WHERE p.id = $2::uuid)::text, (SELECT p.textbook_id = m.textbook_id"
                          " FROM textbook_pages p WHERE p.id = $3::uuid)::text"
                          " FROM course_materials m WHERE m.id = $1::uuid",
                          3, material, start, end);
    if (!pg)
        return -1;
    if (PQntuples(pg) != 1)
        return 0;
    if (strcmp(PQgetvalue(pg, 0, 0), "true") != 0)
        ob_write_error(w, "start_page",
                       "Start page must belong to the same textbook as the material.");
    if (strcmp(PQgetvalue(pg, 0, 1), "true") != 0)
        ob_write_error(w, "end_page", "End page must belong to the same textbook as the material.");
    return 0;
}

/* A page range changes its material: course.material.changed with op
 * "updated" on the material's course (both materials when it moves). */
static int range_event(ob_write *w)
{
    const char *now = after(w, "material", "material_id");
    const char *was = w->create ? now : ob_write_stored(w, "material_id");
    PGresult *pg = query(w,
                         "SELECT id::text, course_id::text FROM course_materials WHERE id IN"
                         " ($1::uuid, $2::uuid)",
                         2, was, now);
    if (!pg)
        return -1;
    for (int i = 0; i < PQntuples(pg); i++)
        material_changed(w, PQgetvalue(pg, i, 1), PQgetvalue(pg, i, 0), "updated");
    return 0;
}

const ob_resource ob_res_course_material_page_ranges = {
    .app_label = APP,
    .model = "coursematerialpagerange",
    .class_name = "CourseMaterialPageRange",
    .from = "course_material_page_ranges t JOIN course_materials tm ON tm.id = t.material_id"
            " JOIN courses tc ON tc.id = tm.course_id JOIN textbooks ttb ON ttb.id ="
            " tm.textbook_id JOIN textbook_pages tsp ON tsp.id = t.start_page_id"
            " JOIN textbook_pages tep ON tep.id = t.end_page_id" OB_AUDIT_JOINS,
    .pk = &range_fields[0],
    .pk_is_uuid = true,
    .ref_type = "uuid",
    .fields = range_fields,
    .nfields = N(range_fields),
    .default_order = "t.material_id, t.position",
    .guard = OB_GUARD_SCOPE,
    .refs = range_refs,
    .nrefs = N(range_refs),
    .path = "/api/content/course_material_page_ranges/",
    .summary = "The page ranges of a course material, in order.",
    .ops = OB_CAN_ALL,
    .access = OB_ANON_READ,
    .search_sql = range_search,
    .filters = range_filters,
    .nfilters = N(range_filters),
    .scope_type_name = COURSE_TYPE,
    .scope_uuid_sql = "tm.course_id",
    .table = "course_material_page_ranges",
    .audit = true,
    .wfields = range_wfields,
    .nwfields = N(range_wfields),
    .uniques = range_uniques,
    .nuniques = N(range_uniques),
    .scope_field = "material",
    .scope_lookup_sql = "SELECT course_id::text FROM course_materials WHERE id = $1::uuid",
    .validate = range_validate,
    .after_save = range_event,
    .before_delete = range_event,
};
