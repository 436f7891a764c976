/* permissions.c - the permission resources of /api/auth/ (api-resources.md
 * §1): permissions, permission_texts, allowed_role_permissions,
 * anonymous_permissions, groups and scope_types.  All but scope_types are
 * pure descriptions served by the generic machinery. */
#include <stdlib.h>
#include <string.h>
#include "openbook/core/config.h"
#include "openbook/db/db.h"
#include "openbook/perm/perm.h"
#include "openbook/api/resource.h"
#include "openbook/api/resources.h"
#include "openbook/api/routes.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define APP "openbook_auth"

/* The translated name of permission `pid` (api-conventions.md §12): the
 * request language, then the default language, then the name itself. */
#define PERM_DISPLAY_NAME(pid, name)                                                       \
    "coalesce((SELECT x.name FROM permission_texts x WHERE x.parent_id = " pid                \
    " AND x.language = $lang), (SELECT x.name FROM permission_texts x WHERE x.parent_id = " pid \
    " AND x.language = $deflang), " name ")"

/* ---- permissions ---- */

static const ob_field permission_fields[] = {
    {"id", "t.id", OB_FT_INT, OB_FF_SORT},
    {"name", "t.name", OB_FT_TEXT, OB_FF_SORT},
    {"codename", "t.codename", OB_FT_TEXT, OB_FF_SORT | OB_FF_SEARCH | OB_FF_SUBSTR},
    {"perm_string", "tct.app_label || '.' || t.codename", OB_FT_TEXT, OB_FF_SORT},
    {"perm_display_name", PERM_DISPLAY_NAME("t.id", "t.name"), OB_FT_TEXT, 0},
    {"app", "tct.app_label", OB_FT_TEXT, OB_FF_SORT | OB_FF_SEARCH | OB_FF_EQ},
    {"app_display_name", "coalesce(nullif(tct.app_display_name, ''), tct.app_label)", OB_FT_TEXT,
     0},
    {"model", "tct.model", OB_FT_TEXT, OB_FF_SORT | OB_FF_EQ},
    {"model_display_name", "coalesce(nullif(tct.verbose_name, ''), tct.model)", OB_FT_TEXT, 0},
};

static const ob_filter permission_filters[] = {
    /* An unknown perm string gives an empty list (the original failed). */
    {.name = "perm_string", .kind = OB_FILT_TEXT, .sql = "tct.app_label || '.' || t.codename = $1"},
};

/* Guard: global, with the model auth.permission (permissions.md §1). */
const ob_resource ob_res_permissions = {
    .app_label = "auth",
    .model = "permission",
    .class_name = "Permission",
    .from = "permissions t JOIN content_types tct ON tct.id = t.content_type_id",
    .pk = &permission_fields[0],
    .pk_is_int = true,
    .fields = permission_fields,
    .nfields = N(permission_fields),
    .default_order = "tct.app_label, t.codename",
    .guard = OB_GUARD_GLOBAL,
    /* References name permissions by their perm string. */
    .ref_sql = "tct.app_label || '.' || t.codename",
    .ref_type = "text",
    .path = "/api/auth/permissions/",
    .summary = "The permission catalogue.",
    .ops = OB_CAN_READ,
    .access = OB_ANON_READ,
    .filters = permission_filters,
    .nfilters = N(permission_filters),
};

/* A JSON list of the perm strings of a link table. */
#define PERM_LIST_SQL(table, col, key)                                                     \
    "(SELECT coalesce(json_agg(lct.app_label || '.' || lp.codename ORDER BY lct.app_label,"  \
    " lp.codename), '[]') FROM " table " lx JOIN permissions lp ON lp.id = lx.permission_id" \
    " JOIN content_types lct ON lct.id = lp.content_type_id WHERE lx." col " = " key ")"

/* ---- permission_texts ---- */

static const ob_field permission_text_fields[] = {
    {"id", "t.id", OB_FT_TEXT, OB_FF_SORT},
    {"language", "t.language", OB_FT_TEXT, OB_FF_SORT | OB_FF_EQ},
    {"parent", "tpct.app_label || '.' || tp.codename", OB_FT_TEXT, OB_FF_SORT},
    {"name", "t.name", OB_FT_TEXT, OB_FF_SORT | OB_FF_SEARCH | OB_FF_SUBSTR},
};

static const ob_field_ref permission_text_refs[] = {
    {.field = "parent", .sort_sql = "t.parent_id", .expand = &ob_res_permissions,
     .key_sql = "tpct.app_label || '.' || tp.codename"},
};

static const ob_filter permission_text_filters[] = {
    {.name = "app", .kind = OB_FILT_TEXT, .sql = "tpct.app_label = $1"},
    {.name = "model", .kind = OB_FILT_TEXT, .sql = "tpct.model = $1"},
    {.name = "codename", .kind = OB_FILT_SUBSTR, .sql = "tp.codename ILIKE $1"},
    {.name = "perm_string", .kind = OB_FILT_TEXT, .sql = "tpct.app_label || '.' || tp.codename = $1"},
};

static const char *const permission_text_search[] = {"tpct.app_label", "tp.codename",
                                                     "t.language", "tl.name", NULL};

static const ob_wfield permission_text_wfields[] = {
    {.name = "language", .kind = OB_W_LANGUAGE, .column = "language", .flags = OB_WF_REQUIRED},
    {.name = "parent", .kind = OB_W_PERM, .column = "parent_id", .flags = OB_WF_REQUIRED},
    {.name = "name", .kind = OB_W_TEXT, .column = "name", .flags = OB_WF_REQUIRED, .max_len = 255},
};

static const ob_unique permission_text_uniques[] = {
    {"permission_texts_unique", NULL,
     "Permission: Translation with this Permission and Language already exists."},
};

const ob_resource ob_res_permission_texts = {
    .app_label = APP,
    .model = "permissiontext",
    .class_name = "PermissionText",
    .from = "permission_texts t JOIN permissions tp ON tp.id = t.parent_id"
            " JOIN content_types tpct ON tpct.id = tp.content_type_id"
            " JOIN languages tl ON tl.language = t.language",
    .pk = &permission_text_fields[0],
    .pk_is_uuid = true,
    .ref_type = "uuid",
    .fields = permission_text_fields,
    .nfields = N(permission_text_fields),
    .default_order = "tpct.app_label, tp.codename, t.language",
    .guard = OB_GUARD_GLOBAL,
    .refs = permission_text_refs,
    .nrefs = N(permission_text_refs),
    .path = "/api/auth/permission_texts/",
    .summary = "Translated permission names.",
    .ops = OB_CAN_ALL,
    .access = OB_ANON_READ,
    .write_gate = OB_ADMIN_STAFF_PERM,
    .search_sql = permission_text_search,
    .filters = permission_text_filters,
    .nfilters = N(permission_text_filters),
    .table = "permission_texts",
    .wfields = permission_text_wfields,
    .nwfields = N(permission_text_wfields),
    .uniques = permission_text_uniques,
    .nuniques = N(permission_text_uniques),
};

/* ---- allowed_role_permissions ---- */

static const ob_field allowed_fields[] = {
    {"id", "t.id", OB_FT_TEXT, OB_FF_SORT},
    {"scope_type", "tct.app_label || '.' || tct.model", OB_FT_TEXT, OB_FF_SORT},
    {"permission", "tpct.app_label || '.' || tp.codename", OB_FT_TEXT, OB_FF_SORT},
};

static const ob_field_ref allowed_refs[] = {
    {.field = "scope_type", .sort_sql = "t.scope_type_id"},
    {.field = "permission", .sort_sql = "t.permission_id", .expand = &ob_res_permissions,
     .key_sql = "tpct.app_label || '.' || tp.codename"},
};

static const ob_filter allowed_filters[] = {
    {.name = "scope_type", .kind = OB_FILT_TEXT,
     .sql = "tct.app_label || '.' || tct.model = $1 OR tct.id::text = $1"},
    {.name = "permission", .kind = OB_FILT_TEXT, .sql = "tpct.app_label || '.' || tp.codename = $1"},
};

static const char *const allowed_search[] = {"tct.app_label", "tct.model", "tpct.app_label",
                                             "tp.codename", NULL};

static const ob_wfield allowed_wfields[] = {
    {.name = "scope_type", .kind = OB_W_SCOPE_TYPE, .column = "scope_type_id",
     .flags = OB_WF_REQUIRED},
    {.name = "permission", .kind = OB_W_PERM, .column = "permission_id", .flags = OB_WF_REQUIRED},
};

static const ob_unique allowed_uniques[] = {
    {"allowed_role_permissions_unique", NULL,
     "Allowed Role Permission with this Scope Type and Permission already exists."},
};

const ob_resource ob_res_allowed_role_permissions = {
    .app_label = APP,
    .model = "allowedrolepermission",
    .class_name = "AllowedRolePermission",
    .from = "allowed_role_permissions t JOIN content_types tct ON tct.id = t.scope_type_id"
            " JOIN permissions tp ON tp.id = t.permission_id"
            " JOIN content_types tpct ON tpct.id = tp.content_type_id",
    .pk = &allowed_fields[0],
    .pk_is_uuid = true,
    .ref_type = "uuid",
    .fields = allowed_fields,
    .nfields = N(allowed_fields),
    .default_order = "tct.app_label, tct.model, tpct.app_label, tp.codename",
    .guard = OB_GUARD_GLOBAL,
    .refs = allowed_refs,
    .nrefs = N(allowed_refs),
    .path = "/api/auth/allowed_role_permissions/",
    .summary = "Which permissions roles and public permissions may hold, per scope type.",
    .ops = OB_CAN_LIST | OB_CAN_RETRIEVE | OB_CAN_CREATE | OB_CAN_DELETE,
    .access = OB_ANON_READ,
    .write_gate = OB_ADMIN_SUPERUSER,
    .search_sql = allowed_search,
    .filters = allowed_filters,
    .nfilters = N(allowed_filters),
    .table = "allowed_role_permissions",
    .wfields = allowed_wfields,
    .nwfields = N(allowed_wfields),
    .uniques = allowed_uniques,
    .nuniques = N(allowed_uniques),
};

/* ---- anonymous_permissions ---- */

static const ob_field anonymous_fields[] = {
    {"id", "t.id", OB_FT_TEXT, OB_FF_SORT},
    {"permission", "tpct.app_label || '.' || tp.codename", OB_FT_TEXT, OB_FF_SORT},
    {"perm_display_name", PERM_DISPLAY_NAME("tp.id", "tp.name"), OB_FT_TEXT, 0},
};

static const ob_field_ref anonymous_refs[] = {
    {.field = "permission", .sort_sql = "t.permission_id", .expand = &ob_res_permissions,
     .key_sql = "tpct.app_label || '.' || tp.codename"},
};

static const ob_filter anonymous_filters[] = {
    {.name = "permission", .kind = OB_FILT_TEXT, .sql = "tpct.app_label || '.' || tp.codename = $1"},
};

static const char *const anonymous_search[] = {"tpct.app_label", "tp.codename", NULL};

static const ob_wfield anonymous_wfields[] = {
    {.name = "permission", .kind = OB_W_PERM, .column = "permission_id", .flags = OB_WF_REQUIRED},
};

static const ob_unique anonymous_uniques[] = {
    {"anonymous_permissions_permission_id_key", "permission",
     "Anonymous Permission with this Permission already exists."},
};

const ob_resource ob_res_anonymous_permissions = {
    .app_label = APP,
    .model = "anonymouspermission",
    .class_name = "AnonymousPermission",
    .from = "anonymous_permissions t JOIN permissions tp ON tp.id = t.permission_id"
            " JOIN content_types tpct ON tpct.id = tp.content_type_id",
    .pk = &anonymous_fields[0],
    .pk_is_uuid = true,
    .ref_type = "uuid",
    .fields = anonymous_fields,
    .nfields = N(anonymous_fields),
    .default_order = "tpct.app_label, tp.codename",
    .guard = OB_GUARD_GLOBAL,
    .refs = anonymous_refs,
    .nrefs = N(anonymous_refs),
    .path = "/api/auth/anonymous_permissions/",
    .summary = "Permissions granted to everybody, anonymous users included.",
    .ops = OB_CAN_LIST | OB_CAN_RETRIEVE | OB_CAN_CREATE | OB_CAN_DELETE,
    .write_gate = OB_ADMIN_SUPERUSER,
    .search_sql = anonymous_search,
    .filters = anonymous_filters,
    .nfilters = N(anonymous_filters),
    .table = "anonymous_permissions",
    .wfields = anonymous_wfields,
    .nwfields = N(anonymous_wfields),
    .uniques = anonymous_uniques,
    .nuniques = N(anonymous_uniques),
};

/* ---- groups ---- */

#define GROUP_PERMS PERM_LIST_SQL("group_permissions", "group_id", "t.id")

static const ob_field group_fields[] = {
    {"id", "t.id", OB_FT_INT, OB_FF_SORT},
    {"name", "t.name", OB_FT_TEXT, OB_FF_SORT | OB_FF_SEARCH | OB_FF_ICONTAINS},
    {"slug", "t.slug", OB_FT_TEXT, OB_FF_SORT | OB_FF_SEARCH | OB_FF_EQ},
    {"permissions", GROUP_PERMS, OB_FT_JSON, 0},
    {"user_count", "(SELECT count(*) FROM user_groups ug WHERE ug.group_id = t.id)", OB_FT_INT,
     0},
};

static const ob_field_ref group_refs[] = {
    {.field = "permissions", .expand = &ob_res_permissions, .key_sql = GROUP_PERMS},
};

static const ob_wfield group_wfields[] = {
    {.name = "name", .kind = OB_W_TEXT, .column = "name", .flags = OB_WF_REQUIRED, .max_len = 150},
    {.name = "slug", .kind = OB_W_TEXT, .column = "slug", .flags = OB_WF_REQUIRED, .max_len = 50,
     .format = OB_FMT_SLUG},
    {.name = "permissions", .kind = OB_W_PERM_LIST, .m2m_table = "group_permissions",
     .m2m_self = "group_id", .m2m_other = "permission_id"},
};

static const ob_unique group_uniques[] = {
    {"groups_name_key", "name", "User Group with this Name already exists."},
    {"groups_slug_key", "slug", "User Group with this Slug already exists."},
};

const ob_resource ob_res_groups = {
    .app_label = APP,
    .model = "group",
    .class_name = "Group",
    .from = "groups t",
    .pk = &group_fields[0],
    .pk_is_int = true,
    .fields = group_fields,
    .nfields = N(group_fields),
    .default_order = "t.name",
    .guard = OB_GUARD_GLOBAL,
    .refs = group_refs,
    .nrefs = N(group_refs),
    .path = "/api/auth/groups/",
    .summary = "User groups and their model permissions.",
    .ops = OB_CAN_ALL,
    .write_gate = OB_ADMIN_STAFF_PERM,
    .table = "groups",
    .wfields = group_wfields,
    .nwfields = N(group_wfields),
    .uniques = group_uniques,
    .nuniques = N(group_uniques),
};

/* ---- scope_types (api-resources.md §1) ---- */

typedef struct {
    const ob_scope_type *t;
    int id;
} scope_row;

static int by_id(const void *a, const void *b)
{
    return ((const scope_row *)a)->id - ((const scope_row *)b)->id;
}

/* The scope types with their content-type ids, ordered by id.  Types
 * without a catalogue row are left out. */
static size_t scope_rows(ob_request *r, scope_row *rows)
{
    size_t n = 0;
    for (size_t i = 0; i < ob_nscope_types; i++) {
        int id = ob_perm_content_type(r, ob_scope_types[i].app_label, ob_scope_types[i].model);
        if (id > 0)
            rows[n++] = (scope_row){&ob_scope_types[i], id};
    }
    qsort(rows, n, sizeof *rows, by_id);
    return n;
}

static void scope_head(ob_request *r, ob_json *j, const scope_row *s)
{
    ob_json_kv_int(j, "pk", s->id);
    ob_json_kv_string(j, "id",
                      ob_arena_printf(r->arena, "%s.%s", s->t->app_label, s->t->model));
    ob_json_kv_string(j, "label", s->t->label);
}

static void scope_types_list(ob_request *r)
{
    scope_row *rows = ob_arena_calloc(r->arena, ob_nscope_types + 1, sizeof *rows);
    size_t n = scope_rows(r, rows);
    if (r->res.status >= 500)
        return;
    /* A plain array: no paging, filters or field shaping. */
    ob_json *j = ob_json_response(r, 200);
    ob_json_array_begin(j);
    for (size_t i = 0; i < n; i++) {
        ob_json_object_begin(j);
        scope_head(r, j, &rows[i]);
        ob_json_object_end(j);
    }
    ob_json_array_end(j);
}

static void scope_type_retrieve(ob_request *r)
{
    const char *key = r->path_params[0];
    scope_row *rows = ob_arena_calloc(r->arena, ob_nscope_types + 1, sizeof *rows);
    size_t n = scope_rows(r, rows);
    const scope_row *s = NULL;
    for (size_t i = 0; i < n && !s; i++) {
        const char *name = ob_arena_printf(r->arena, "%s.%s", rows[i].t->app_label,
                                           rows[i].t->model);
        const char *pk = ob_arena_printf(r->arena, "%d", rows[i].id);
        if (strcmp(key, name) == 0 || strcmp(key, pk) == 0)
            s = &rows[i];
    }
    if (!s) {
        ob_fail(r, 404, "Not found.");
        return;
    }
    /* objects: only the scopes the requester may view (deliberate fix), by
     * the same rule R predicate as lists; one query. */
    ob_sql_params p = {.n = 0};
    ob_buf sql;
    ob_buf_init(&sql, r->arena);
    const char *ct = ob_arena_printf(r->arena, "%d", s->id);
    int cti = ob_sql_param(&p, ct);
    ob_buf_printf(&sql,
                  "SELECT so.scope_uuid::text, so.name FROM scope_objects so"
                  " WHERE so.scope_type_id = $%d::int AND ",
                  cti);
    int v = ob_perm_id2(r, s->t->app_label, ob_arena_printf(r->arena, "view_%s", s->t->model));
    int c = ob_perm_id2(r, s->t->app_label, ob_arena_printf(r->arena, "change_%s", s->t->model));
    if (v < 0 || c < 0)
        return;
    int gv = ob_perm_global_id(r, v), gc = ob_perm_global_id(r, c);
    if (gv < 0 || gc < 0)
        return;
    if (gv || gc) {
        ob_buf_puts(&sql, "true");
    } else {
        int ids[2] = {v, c};
        if (ob_perm_scope_sql(&sql, &p, r, "so.scope_type_id", "so.scope_uuid", ids, 2) != 0)
            return;
    }
    ob_buf_puts(&sql, " ORDER BY so.name, so.scope_uuid");
    PGresult *objs = ob_db_query(r->db, r->arena, ob_buf_cstr(&sql), p.n, p.v);
    if (!objs) {
        ob_db_failure(r);
        return;
    }
    const char *ap[] = {ct, r->language ? r->language : r->cfg->default_language,
                        r->cfg->default_language};
    PGresult *perms = ob_db_query(
        r->db, r->arena,
        "SELECT p.id, ct.app_label || '.' || p.codename,"
        " coalesce(nullif(ct.app_display_name, ''), ct.app_label),"
        " coalesce(nullif(ct.verbose_name, ''), ct.model),"
        " coalesce((SELECT x.name FROM permission_texts x WHERE x.parent_id = p.id"
        " AND x.language = $2::text), (SELECT x.name FROM permission_texts x"
        " WHERE x.parent_id = p.id AND x.language = $3::text), p.name)"
        " FROM allowed_role_permissions a JOIN permissions p ON p.id = a.permission_id"
        " JOIN content_types ct ON ct.id = p.content_type_id WHERE a.scope_type_id = $1::int"
        " ORDER BY ct.app_label, p.codename",
        3, ap);
    if (!perms) {
        ob_db_failure(r);
        return;
    }
    ob_json *j = ob_json_response(r, 200);
    ob_json_object_begin(j);
    scope_head(r, j, s);
    ob_json_key(j, "objects");
    ob_json_array_begin(j);
    for (int i = 0; i < PQntuples(objs); i++) {
        ob_json_object_begin(j);
        ob_json_kv_string(j, "uuid", PQgetvalue(objs, i, 0));
        ob_json_key(j, "name");
        if (PQgetisnull(objs, i, 1))
            ob_json_null(j);
        else
            ob_json_string(j, PQgetvalue(objs, i, 1));
        ob_json_object_end(j);
    }
    ob_json_array_end(j);
    ob_json_key(j, "allowed_permissions");
    ob_json_array_begin(j);
    for (int i = 0; i < PQntuples(perms); i++) {
        ob_json_object_begin(j);
        ob_json_kv_int(j, "id", strtoll(PQgetvalue(perms, i, 0), NULL, 10));
        ob_json_kv_string(j, "perm", PQgetvalue(perms, i, 1));
        ob_json_kv_string(j, "app", PQgetvalue(perms, i, 2));
        ob_json_kv_string(j, "model", PQgetvalue(perms, i, 3));
        ob_json_kv_string(j, "name", PQgetvalue(perms, i, 4));
        ob_json_object_end(j);
    }
    ob_json_array_end(j);
    ob_json_object_end(j);
}

const ob_resource ob_res_scope_types = {
    .kind = OB_RES_ARRAY,
    .class_name = "ScopeType",
    .path = "/api/auth/scope_types/",
    .key_name = "key",
    .summary = "The scope types: a plain array; items list the scopes the requester may view and "
               "the whitelisted permissions.",
    .list = scope_types_list,
    .retrieve = scope_type_retrieve,
};
