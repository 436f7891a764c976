/* roles.c - roles, role assignments, enrollment methods (with
 * self-enrolment) and access requests (with accept/deny): the scoped
 * items of permissions.md §8, guarded by rule S.  The descriptions drive
 * the generic machinery; the hooks here add the rules that look at more
 * than one field, and the actions. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "openbook/auth/auth.h"
#include "openbook/db/db.h"
#include "openbook/http/fields.h"
#include "openbook/auth/password.h"
#include "openbook/perm/perm.h"
#include "openbook/api/resource.h"
#include "openbook/api/resources.h"
#include "openbook/api/routes.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define APP "openbook_auth"

/* A JSON list of the ids of rows of `table` that point at this role. */
#define ID_LIST(table) \
    "(SELECT coalesce(json_agg(x.id ORDER BY x.id), '[]') FROM " table " x WHERE x.role_id = t.id)"
#define ROLE_PERMS                                                                          \
    "(SELECT coalesce(json_agg(lct.app_label || '.' || lp.codename ORDER BY lct.app_label," \
    " lp.codename), '[]') FROM role_permissions lx JOIN permissions lp ON lp.id ="          \
    " lx.permission_id JOIN content_types lct ON lct.id = lp.content_type_id"               \
    " WHERE lx.role_id = t.id)"

static const char *const decisions[] = {"pending", "accepted", "denied", NULL};

/* ---- roles ---- */

static const ob_field role_fields[] = {
    {"id", "t.id", OB_FT_TEXT, OB_FF_SORT},
    OB_SCOPE_FIELDS,
    {"slug", "t.slug", OB_FT_TEXT, OB_FF_SORT | OB_FF_SEARCH | OB_FF_EQ},
    {"name", "t.name", OB_FT_TEXT, OB_FF_SORT | OB_FF_SEARCH | OB_FF_EQ},
    {"description", "t.description", OB_FT_TEXT, OB_FF_SEARCH},
    {"text_format", "t.text_format", OB_FT_TEXT, OB_FF_SORT},
    {"priority", "t.priority", OB_FT_INT, OB_FF_SORT | OB_FF_EQ | OB_FF_RANGE},
    {"is_active", "t.is_active", OB_FT_BOOL, OB_FF_SORT | OB_FF_EQ},
    {"permissions", ROLE_PERMS, OB_FT_JSON, 0},
    {"role_assignments", ID_LIST("role_assignments"), OB_FT_JSON, 0},
    {"enrollment_methods", ID_LIST("enrollment_methods"), OB_FT_JSON, 0},
    {"access_requests", ID_LIST("access_requests"), OB_FT_JSON, 0},
    OB_AUDIT_FIELDS,
};

static const ob_field_ref role_refs[] = {
    {.field = "scope_type", .sort_sql = "t.scope_type_id"},
    {.field = "permissions", .expand = &ob_res_permissions, .key_sql = ROLE_PERMS},
    {.field = "role_assignments", .expand = &ob_res_role_assignments,
     .key_sql = ID_LIST("role_assignments"), .link_sql = "t.role_id"},
    {.field = "enrollment_methods", .expand = &ob_res_enrollment_methods,
     .key_sql = ID_LIST("enrollment_methods"), .link_sql = "t.role_id"},
    {.field = "access_requests", .expand = &ob_res_access_requests,
     .key_sql = ID_LIST("access_requests"), .link_sql = "t.role_id"},
    OB_AUDIT_REFS(&ob_res_users_public),
};

static const ob_filter scope_filters[] = {OB_SCOPE_FILTERS};

static const ob_wfield role_wfields[] = {
    OB_SCOPE_WFIELDS,
    {.name = "slug", .kind = OB_W_TEXT, .column = "slug", .flags = OB_WF_REQUIRED, .max_len = 50,
     .format = OB_FMT_SLUG},
    OB_TEXT_WFIELDS,
    {.name = "priority", .kind = OB_W_INT, .column = "priority", .flags = OB_WF_REQUIRED,
     .has_min = true, .min = 0, .has_max = true, .max = 32767},
    {.name = "is_active", .kind = OB_W_BOOL, .column = "is_active"},
    {.name = "permissions", .kind = OB_W_PERM_LIST, .flags = OB_WF_WHITELIST,
     .m2m_table = "role_permissions", .m2m_self = "role_id", .m2m_other = "permission_id"},
};

static const ob_unique role_uniques[] = {
    {"roles_scope_slug_unique", NULL, "Role with this Scope Type, Scope UUID and Slug already exists."},
};

static int role_before_delete(ob_write *w);

/* Rule S with the priority guard against the role's own priority.
 * Deleting a role deletes its assignments, methods and requests (foreign
 * keys ON DELETE CASCADE). */
const ob_resource ob_res_roles = {
    .app_label = APP,
    .model = "role",
    .class_name = "Role",
    .from = "roles t" OB_SCOPE_JOIN OB_AUDIT_JOINS,
    .pk = &role_fields[0],
    .pk_is_uuid = true,
    .ref_type = "uuid",
    .fields = role_fields,
    .nfields = N(role_fields),
    .default_order = "t.scope_type_id, t.scope_uuid, t.slug",
    .guard = OB_GUARD_SCOPED,
    .refs = role_refs,
    .nrefs = N(role_refs),
    .path = "/api/auth/roles/",
    .summary = "Roles within a scope.",
    .ops = OB_CAN_ALL,
    .filters = scope_filters,
    .nfilters = N(scope_filters),
    .scope_type_sql = "t.scope_type_id",
    .scope_uuid_sql = "t.scope_uuid",
    .priority_sql = "t.priority",
    .table = "roles",
    .audit = true,
    .wfields = role_wfields,
    .nwfields = N(role_wfields),
    .uniques = role_uniques,
    .nuniques = N(role_uniques),
    .priority_field = "priority",
    .before_delete = role_before_delete,
};

/* ---- live events (websocket.md §6, §9) ---- */

/* Queues enrollment.created (removed false; method: the assignment method
 * of this enrolment, NULL: the stored one) or enrollment.removed plus
 * revoke_user for the assignment `id`, to the user:<id> channel of its
 * user.  Reads the row in this transaction: call it before a delete.
 * 0, or -1 (answered, rolled back). */
static int assignment_event(ob_write *w, const char *id, bool removed, const char *method)
{
    ob_request *r = w->r;
    const char *p[] = {id, method};
    PGresult *pg = ob_db_query(
        r->db, r->arena,
        removed ? "SELECT ra.user_id::text, json_build_object('scope_type', ct.app_label || '.' ||"
                  " ct.model, 'scope_uuid', ra.scope_uuid, 'role', ro.slug, 'role_assignment',"
                  " ra.id)::text FROM role_assignments ra JOIN roles ro ON ro.id = ra.role_id"
                  " JOIN content_types ct ON ct.id = ra.scope_type_id WHERE ra.id = $1::uuid"
                  " AND $2::text IS NULL"
                : "SELECT ra.user_id::text, json_build_object('scope_type', ct.app_label || '.' ||"
                  " ct.model, 'scope_uuid', ra.scope_uuid, 'role', ro.slug, 'role_assignment',"
                  " ra.id, 'assignment_method', coalesce($2::text, ra.assignment_method))::text"
                  " FROM role_assignments ra JOIN roles ro ON ro.id = ra.role_id"
                  " JOIN content_types ct ON ct.id = ra.scope_type_id WHERE ra.id = $1::uuid",
        2, p);
    if (!pg) {
        ob_db_failure(r);
        ob_db_rollback(r->db);
        return -1;
    }
    if (PQntuples(pg) != 1)
        return 0;
    long long uid = strtoll(PQgetvalue(pg, 0, 0), NULL, 10);
    ob_write_event(w, ob_arena_printf(r->arena, "user:%lld", uid),
                   removed ? "enrollment.removed" : "enrollment.created", PQgetvalue(pg, 0, 1));
    if (removed)
        ob_write_revoke(w, uid);
    return 0;
}

/* Queues access_request.created for the owner of the request's scope
 * (nothing when the scope has none), or, with a decision,
 * access_request.decided for the requesting user (websocket.md §9). */
static int request_event(ob_write *w, const char *request_id, const char *decision)
{
    ob_request *r = w->r;
    const char *p[] = {request_id, decision};
    const char *sql = ob_arena_printf(
        r->arena,
        "SELECT %s::text, json_build_object('access_request', ar.id, 'scope_type',"
        " ct.app_label || '.' || ct.model, 'scope_uuid', ar.scope_uuid, 'role', ro.slug%s)::text"
        " FROM access_requests ar JOIN roles ro ON ro.id = ar.role_id"
        " JOIN content_types ct ON ct.id = ar.scope_type_id%s WHERE ar.id = $1::uuid",
        decision ? "ar.user_id" : "so.owner_id", decision ? ", 'decision', $2::text" : "",
        decision ? "" : " JOIN scope_objects so ON so.scope_type_id = ar.scope_type_id"
                        " AND so.scope_uuid = ar.scope_uuid AND so.owner_id IS NOT NULL");
    PGresult *pg = ob_db_query(r->db, r->arena, sql, decision ? 2 : 1, p);
    if (!pg) {
        ob_db_failure(r);
        ob_db_rollback(r->db);
        return -1;
    }
    if (PQntuples(pg) == 1)
        ob_write_event(w,
                       ob_arena_printf(r->arena, "user:%lld",
                                       strtoll(PQgetvalue(pg, 0, 0), NULL, 10)),
                       decision ? "access_request.decided" : "access_request.created",
                       PQgetvalue(pg, 0, 1));
    return 0;
}

/* Role assignments: a new one is announced; deactivating one announces
 * its removal and ends the user's relay connections (so is moving it to
 * another user, for the old user). */
static int assignment_after_save(ob_write *w)
{
    if (w->create)
        return assignment_event(w, w->new_key, false, NULL);
    const char *was = ob_write_stored(w, "is_active");
    const ob_wvalue *act = ob_write_value(w, "is_active");
    const ob_wvalue *usr = ob_write_value(w, "user");
    const char *old_user = ob_write_stored(w, "user_id");
    bool was_active = was && was[0] == 't';
    if (was_active && act->state == OB_WV_GIVEN && !act->num)
        return assignment_event(w, w->key, true, NULL);
    if (was_active && old_user && usr->state == OB_WV_GIVEN && usr->text &&
        strcmp(usr->text, old_user) != 0)
        ob_write_revoke(w, strtoll(old_user, NULL, 10));
    return 0;
}

static int assignment_before_delete(ob_write *w)
{
    return assignment_event(w, w->key, true, NULL);
}

/* enrollment.removed and revoke_user for every assignment that a delete
 * is about to take along (cond: SQL over ra with $1, $2), in one query. */
static int assignments_removed(ob_write *w, const char *cond, const char *a, const char *b)
{
    ob_request *r = w->r;
    const char *p[] = {a, b};
    PGresult *pg = ob_db_query(
        r->db, r->arena,
        ob_arena_printf(r->arena,
                        "SELECT ra.user_id::text, json_build_object('scope_type', ct.app_label"
                        " || '.' || ct.model, 'scope_uuid', ra.scope_uuid, 'role', ro.slug,"
                        " 'role_assignment', ra.id)::text FROM role_assignments ra JOIN roles ro"
                        " ON ro.id = ra.role_id JOIN content_types ct ON ct.id = ra.scope_type_id"
                        " WHERE %s",
                        cond),
        b ? 2 : 1, p);
    if (!pg) {
        ob_db_failure(r);
        ob_db_rollback(r->db);
        return -1;
    }
    for (int i = 0; i < PQntuples(pg); i++) {
        long long uid = strtoll(PQgetvalue(pg, i, 0), NULL, 10);
        ob_write_event(w, ob_arena_printf(r->arena, "user:%lld", uid), "enrollment.removed",
                       PQgetvalue(pg, i, 1));
        ob_write_revoke(w, uid);
    }
    return 0;
}

/* Deleting a role takes its assignments along (foreign keys). */
static int role_before_delete(ob_write *w)
{
    return assignments_removed(w, "ra.role_id = $1::uuid", w->key, NULL);
}

int ob_scope_delete_dependents(ob_write *w, int scope_type_id, const char *uuid_array)
{
    ob_request *r = w->r;
    const char *p[] = {ob_arena_printf(r->arena, "%d", scope_type_id), uuid_array};
    if (assignments_removed(w, "ra.scope_type_id = $1::int AND ra.scope_uuid = ANY ($2::uuid[])",
                            p[0], p[1]) != 0)
        return -1;
    if (!ob_db_query(r->db, r->arena,
                     "DELETE FROM roles WHERE scope_type_id = $1::int"
                     " AND scope_uuid = ANY ($2::uuid[])",
                     2, p) ||
        !ob_db_query(r->db, r->arena,
                     "DELETE FROM scope_public_permissions WHERE scope_type_id = $1::int"
                     " AND scope_uuid = ANY ($2::uuid[])",
                     2, p)) {
        ob_db_failure(r);
        ob_db_rollback(r->db);
        return -1;
    }
    return 0;
}

/* ---- role assignments ---- */

/* permissions.md §6.1, evaluated now. */
#define IS_EFFECTIVE                                                                       \
    "(t.is_active AND tr.is_active AND tu.is_active AND (t.start_date IS NULL OR"           \
    " t.start_date <= now()) AND (t.end_date IS NULL OR t.end_date > now()))"

static const ob_field assignment_fields[] = {
    {"id", "t.id", OB_FT_TEXT, OB_FF_SORT},
    OB_SCOPE_FIELDS,
    {"role", "tr.slug", OB_FT_TEXT, OB_FF_SORT | OB_FF_EQ},
    {"user", "tu.username", OB_FT_TEXT, OB_FF_SORT | OB_FF_EQ},
    {"assignment_method", "t.assignment_method", OB_FT_TEXT, OB_FF_SORT},
    {"enrollment_method", "t.enrollment_method_id", OB_FT_TEXT, OB_FF_SORT},
    {"access_request", "t.access_request_id", OB_FT_TEXT, OB_FF_SORT},
    {"is_active", "t.is_active", OB_FT_BOOL, OB_FF_SORT | OB_FF_EQ},
    {"start_date", "t.start_date", OB_FT_DATETIME, OB_FF_SORT | OB_FF_EQ | OB_FF_RANGE},
    {"end_date", "t.end_date", OB_FT_DATETIME, OB_FF_SORT | OB_FF_EQ | OB_FF_RANGE},
    {"is_effective", IS_EFFECTIVE, OB_FT_BOOL, 0},
    OB_AUDIT_FIELDS,
};

static const ob_field_ref assignment_refs[] = {
    {.field = "scope_type", .sort_sql = "t.scope_type_id"},
    {.field = "role", .sort_sql = "t.role_id", .expand = &ob_res_roles, .key_sql = "t.role_id"},
    {.field = "user", .sort_sql = "t.user_id", .expand = &ob_res_users_public, .key_sql = "t.user_id"},
    {.field = "enrollment_method", .expand = &ob_res_enrollment_methods,
     .key_sql = "t.enrollment_method_id"},
    {.field = "access_request", .expand = &ob_res_access_requests,
     .key_sql = "t.access_request_id"},
    OB_AUDIT_REFS(&ob_res_users_public),
};

static const char *const user_role_search[] = {
    "tu.username", "tu.first_name", "tu.last_name", "tu.email",
    "tr.slug",     "tr.name",       "tr.description", NULL};

static const ob_wfield assignment_wfields[] = {
    OB_SCOPE_WFIELDS,
    {.name = "role", .kind = OB_W_ROLE, .column = "role_id", .flags = OB_WF_REQUIRED},
    {.name = "user", .kind = OB_W_USER, .column = "user_id", .flags = OB_WF_REQUIRED},
    {.name = "is_active", .kind = OB_W_BOOL, .column = "is_active"},
    {.name = "start_date", .kind = OB_W_DATETIME, .column = "start_date", .flags = OB_WF_NULL},
    {.name = "end_date", .kind = OB_W_DATETIME, .column = "end_date", .flags = OB_WF_NULL},
};

static const ob_unique assignment_uniques[] = {
    {"role_assignments_unique", NULL,
     "Role Assignment with this Scope Type, Scope UUID, Role and User already exists."},
};

/* Rule S with the priority of the assigned role.  API creates are
 * "manual" (the column default; clients cannot set the method). */
const ob_resource ob_res_role_assignments = {
    .app_label = APP,
    .model = "roleassignment",
    .class_name = "RoleAssignment",
    .from = "role_assignments t" OB_SCOPE_JOIN " JOIN roles tr ON tr.id = t.role_id"
            " JOIN users tu ON tu.id = t.user_id" OB_AUDIT_JOINS,
    .pk = &assignment_fields[0],
    .pk_is_uuid = true,
    .ref_type = "uuid",
    .fields = assignment_fields,
    .nfields = N(assignment_fields),
    .default_order = "t.scope_type_id, t.scope_uuid, tu.username, tr.slug",
    .guard = OB_GUARD_SCOPED,
    .refs = assignment_refs,
    .nrefs = N(assignment_refs),
    .path = "/api/auth/role_assignments/",
    .summary = "Who holds which role in a scope.",
    .ops = OB_CAN_ALL,
    .search_sql = user_role_search,
    .filters = scope_filters,
    .nfilters = N(scope_filters),
    .scope_type_sql = "t.scope_type_id",
    .scope_uuid_sql = "t.scope_uuid",
    .priority_sql = "tr.priority",
    .table = "role_assignments",
    .audit = true,
    .wfields = assignment_wfields,
    .nwfields = N(assignment_wfields),
    .uniques = assignment_uniques,
    .nuniques = N(assignment_uniques),
    .priority_field = "role",
    .validate = ob_write_check_dates,
    .after_save = assignment_after_save,
    .before_delete = assignment_before_delete,
};

/* ---- enrollment methods ---- */

/* passphrase (deliberate: write-only, stored hashed): absent = unchanged,
 * "" = none, else the hash of the trimmed passphrase. */
static int hash_passphrase(ob_write *w)
{
    const ob_wvalue *v = ob_write_value(w, "passphrase");
    if (v->state != OB_WV_GIVEN)
        return 0;
    if (!v->text || !*v->text) {
        ob_write_set(w, "passphrase", "", NULL);
        return 0;
    }
    char hash[OB_PASSWORD_HASH_MAX];
    if (ob_password_hash(v->text, strlen(v->text), hash) != 0) {
        ob_db_rollback(w->r->db);
        ob_fail(w->r, 503, "Service temporarily unavailable.");
        return -1;
    }
    ob_write_set(w, "passphrase", ob_arena_strdup(w->r->arena, hash), NULL);
    return 0;
}

static const ob_field method_fields[] = {
    {"id", "t.id", OB_FT_TEXT, OB_FF_SORT},
    OB_SCOPE_FIELDS,
    {"name", "t.name", OB_FT_TEXT, OB_FF_SORT | OB_FF_SEARCH | OB_FF_EQ},
    {"description", "t.description", OB_FT_TEXT, OB_FF_SEARCH},
    {"text_format", "t.text_format", OB_FT_TEXT, OB_FF_SORT},
    {"role", "tr.slug", OB_FT_TEXT, OB_FF_SORT | OB_FF_EQ},
    {"end_date", "t.end_date", OB_FT_DATETIME, OB_FF_SORT},
    {"duration_period", "t.duration_period", OB_FT_TEXT, OB_FF_SORT},
    {"duration_value", "t.duration_value", OB_FT_NUMBER, OB_FF_SORT},
    {"has_passphrase", "t.passphrase <> ''", OB_FT_BOOL, 0},
    {"is_active", "t.is_active", OB_FT_BOOL, OB_FF_SORT | OB_FF_EQ},
    OB_AUDIT_FIELDS,
};

static const ob_field_ref method_refs[] = {
    {.field = "scope_type", .sort_sql = "t.scope_type_id"},
    {.field = "role", .sort_sql = "t.role_id", .expand = &ob_res_roles, .key_sql = "t.role_id"},
    OB_AUDIT_REFS(&ob_res_users_public),
};

static const char *const method_search[] = {"tr.slug", "tr.name", "tr.description", NULL};

static const ob_wfield method_wfields[] = {
    OB_SCOPE_WFIELDS,
    OB_TEXT_WFIELDS,
    {.name = "role", .kind = OB_W_ROLE, .column = "role_id", .flags = OB_WF_REQUIRED},
    {.name = "end_date", .kind = OB_W_DATETIME, .column = "end_date", .flags = OB_WF_NULL},
    OB_DURATION_WFIELDS,
    {.name = "passphrase", .kind = OB_W_TEXT, .flags = OB_WF_WRITE_ONLY | OB_WF_BLANK,
     .max_len = 100},
    {.name = "is_active", .kind = OB_W_BOOL, .column = "is_active"},
};

static void enroll(ob_request *r);
static const ob_action method_actions[] = {{"enroll", OB_PUT, enroll}};

const ob_resource ob_res_enrollment_methods = {
    .app_label = APP,
    .model = "enrollmentmethod",
    .class_name = "EnrollmentMethod",
    .from = "enrollment_methods t" OB_SCOPE_JOIN " JOIN roles tr ON tr.id = t.role_id"
            OB_AUDIT_JOINS,
    .pk = &method_fields[0],
    .pk_is_uuid = true,
    .ref_type = "uuid",
    .fields = method_fields,
    .nfields = N(method_fields),
    .default_order = "t.scope_type_id, t.scope_uuid, t.name, tr.slug",
    .guard = OB_GUARD_SCOPED,
    .refs = method_refs,
    .nrefs = N(method_refs),
    .path = "/api/auth/enrollment_methods/",
    .actions = method_actions,
    .nactions = N(method_actions),
    .summary = "Self-enrolment into a role; PUT {id}/enroll/ enrols the requester.",
    .ops = OB_CAN_ALL,
    .search_sql = method_search,
    .filters = scope_filters,
    .nfilters = N(scope_filters),
    .scope_type_sql = "t.scope_type_id",
    .scope_uuid_sql = "t.scope_uuid",
    .priority_sql = "tr.priority",
    .table = "enrollment_methods",
    .audit = true,
    .wfields = method_wfields,
    .nwfields = N(method_wfields),
    .priority_field = "role",
    .before_save = hash_passphrase,
};

/* ---- access requests ---- */

static const ob_field request_fields[] = {
    {"id", "t.id", OB_FT_TEXT, OB_FF_SORT},
    OB_SCOPE_FIELDS,
    {"user", "tu.username", OB_FT_TEXT, OB_FF_SORT | OB_FF_EQ},
    {"role", "tr.slug", OB_FT_TEXT, OB_FF_SORT | OB_FF_EQ},
    {"end_date", "t.end_date", OB_FT_DATETIME, OB_FF_SORT},
    {"duration_period", "t.duration_period", OB_FT_TEXT, OB_FF_SORT},
    {"duration_value", "t.duration_value", OB_FT_NUMBER, OB_FF_SORT},
    {"decision", "t.decision", OB_FT_TEXT, OB_FF_SORT | OB_FF_EQ},
    {"decision_date", "t.decision_date", OB_FT_DATETIME, OB_FF_SORT | OB_FF_EQ | OB_FF_RANGE},
    OB_AUDIT_FIELDS,
};

static const ob_field_ref request_refs[] = {
    {.field = "scope_type", .sort_sql = "t.scope_type_id"},
    {.field = "user", .sort_sql = "t.user_id", .expand = &ob_res_users_public, .key_sql = "t.user_id"},
    {.field = "role", .sort_sql = "t.role_id", .expand = &ob_res_roles, .key_sql = "t.role_id"},
    OB_AUDIT_REFS(&ob_res_users_public),
};

static const ob_wfield request_wfields[] = {
    OB_SCOPE_WFIELDS,
    {.name = "user", .kind = OB_W_USER, .column = "user_id", .flags = OB_WF_REQUIRED},
    {.name = "role", .kind = OB_W_ROLE, .column = "role_id", .flags = OB_WF_REQUIRED},
    {.name = "end_date", .kind = OB_W_DATETIME, .column = "end_date", .flags = OB_WF_NULL},
    OB_DURATION_WFIELDS,
    {.name = "decision", .kind = OB_W_TEXT, .column = "decision", .choices = decisions},
};

static const ob_unique request_uniques[] = {
    {"access_requests_one_pending", NULL, "A pending access request for this role already exists."},
};

/* The decision as stored before this write ("pending" on create) and as
 * it will be stored after it. */
static const char *old_decision(const ob_write *w)
{
    const char *d = w->create ? NULL : ob_write_stored(w, "decision");
    return d ? d : "pending";
}

static const char *new_decision(ob_write *w)
{
    const ob_wvalue *v = ob_write_value(w, "decision");
    return v->state == OB_WV_GIVEN && v->text ? v->text : old_decision(w);
}

/* accept: change_accessrequest and add_roleassignment on the request;
 * deny: change_accessrequest and delete_roleassignment (permissions.md
 * §8).  The role-assignment permission goes through rule S proper (the
 * priority guard), never the requester's own-request rule. */
static int may_decide(ob_request *r, const ob_perm_item *req, const char *decision)
{
    int ok = ob_perm_allowed(r, APP ".change_accessrequest", req);
    if (ok != 1)
        return ok;
    ob_perm_item s = *req;
    s.rule = OB_RULE_SCOPED;
    if (strcmp(decision, "accepted") == 0)
        return ob_perm_allowed(r, APP ".add_roleassignment", &s);
    if (strcmp(decision, "denied") == 0)
        return ob_perm_allowed(r, APP ".delete_roleassignment", &s);
    return 1;
}

static int request_authorize(ob_write *w)
{
    const char *now = new_decision(w);
    if (strcmp(now, old_decision(w)) == 0 || strcmp(now, "pending") == 0)
        return 0;
    ob_perm_item it;
    if (ob_write_new_item(w, &it) != 0)
        return -1;
    int ok = may_decide(w->r, &it, now);
    if (ok < 0) {
        ob_db_rollback(w->r->db);
        return -1;
    }
    if (!ok) {
        ob_db_rollback(w->r->db);
        ob_fail(w->r, 403, "You do not have permission to perform this action.");
        return -1;
    }
    return 0;
}

static int request_before_save(ob_write *w)
{
    const char *now = new_decision(w);
    if (strcmp(now, old_decision(w)) == 0)
        return 0;
    /* Set when the decision changes; back to pending clears it. */
    if (strcmp(now, "pending") == 0)
        ob_write_set(w, "decision_date", NULL, "timestamptz");
    else
        ob_write_set(w, "decision_date", "now", "timestamptz");
    return 0;
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static const char *us_text(ob_request *r, long long us)
{
    return ob_arena_printf(r->arena, "%lld", us);
}

#define US_TO_TS "to_timestamp($%d::double precision / 1000000)"

int ob_enroll(ob_request *r, int st, const char *su, const char *role_id, long long user_id,
              const char *method, const char *em_id, const char *ar_id, bool has_end,
              long long end_us, const char *period, double value, const char **out)
{
    int64_t now = now_us(), end = 0;
    bool unlimited = false;
    if (has_end)
        end = end_us;
    else if (!ob_duration_end(now, ob_period_parse(period, strlen(period)), value, &end))
        unlimited = true;
    const char *sts = ob_arena_printf(r->arena, "%d", st);
    const char *uid = ob_arena_printf(r->arena, "%lld", user_id);
    const char *me = r->user ? ob_arena_printf(r->arena, "%lld", (long long)r->user->id) : NULL;
    const char *endt = unlimited ? NULL : us_text(r, end);
    for (int attempt = 0; attempt < 2; attempt++) {
        const char *sp[] = {sts, su, role_id, uid};
        PGresult *pg = ob_db_query(
            r->db, r->arena,
            "SELECT id::text, (extract(epoch FROM end_date) * 1000000)::bigint"
            " FROM role_assignments WHERE scope_type_id = $1::int AND scope_uuid = $2::uuid"
            " AND role_id = $3::uuid AND user_id = $4::bigint FOR UPDATE",
            4, sp);
        if (!pg)
            goto fail;
        if (PQntuples(pg) == 1) {
            /* Never shortened: a new end only when it is later, where
             * "none" (unlimited) is later than any date.  A deactivated
             * assignment stays inactive. */
            bool cur_unlimited = PQgetisnull(pg, 0, 1);
            long long cur = cur_unlimited ? 0 : strtoll(PQgetvalue(pg, 0, 1), NULL, 10);
            bool extend = !cur_unlimited && (unlimited || end > cur);
            const char *up[] = {PQgetvalue(pg, 0, 0), extend ? "t" : "f", endt, em_id, ar_id, me};
            if (!ob_db_query(r->db, r->arena,
                             "UPDATE role_assignments SET end_date = CASE WHEN $2::boolean THEN"
                             " to_timestamp($3::double precision / 1000000) ELSE end_date END,"
                             " enrollment_method_id = coalesce($4::uuid, enrollment_method_id),"
                             " access_request_id = coalesce($5::uuid, access_request_id),"
                             " modified_by = $6::bigint, modified_at = now() WHERE id = $1::uuid",
                             6, up))
                goto fail;
            *out = ob_arena_strdup(r->arena, PQgetvalue(pg, 0, 0));
            return 0;
        }
        const char *ip[] = {sts, su, role_id, uid, method, em_id, ar_id, endt, me};
        pg = ob_db_query(
            r->db, r->arena,
            "INSERT INTO role_assignments (scope_type_id, scope_uuid, role_id, user_id,"
            " assignment_method, enrollment_method_id, access_request_id, is_active, start_date,"
            " end_date, created_by, modified_by) VALUES ($1::int, $2::uuid, $3::uuid, $4::bigint,"
            " $5, $6::uuid, $7::uuid, true, now(), to_timestamp($8::double precision / 1000000),"
            " $9::bigint, $9::bigint) ON CONFLICT DO NOTHING RETURNING id::text",
            9, ip);
        if (!pg)
            goto fail;
        if (PQntuples(pg) == 1) {
            *out = ob_arena_strdup(r->arena, PQgetvalue(pg, 0, 0));
            return 0;
        }
        /* Someone enrolled the same user meanwhile: update theirs. */
    }
fail:
    ob_db_failure(r);
    ob_db_rollback(r->db);
    return -1;
}

/* The effective value of a column after the write, as text. */
static const char *eff(ob_write *w, const char *name, const char *column)
{
    const ob_wvalue *v = ob_write_value(w, name);
    if (v->state == OB_WV_GIVEN)
        return v->text;
    return ob_write_stored(w, column);
}

/* Accept enrolls the user (method access-request); deny withdraws the
 * assignment of that user, role and scope; both in this transaction. */
static int apply_decision(ob_write *w, const char *decision, const char *request_id)
{
    ob_request *r = w->r;
    const char *role = eff(w, "role", "role_id");
    const char *user = eff(w, "user", "user_id");
    if (!role || !user)
        return 0;
    const char *was = w->create ? "pending" : ob_write_stored(w, "decision");
    if ((!was || strcmp(was, decision) != 0) && request_event(w, request_id, decision) != 0)
        return -1;
    if (strcmp(decision, "accepted") == 0) {
        bool has_end;
        long long end = ob_write_datetime_us(w, "end_date", "end_date", &has_end);
        const char *period = eff(w, "duration_period", "duration_period");
        const char *value = eff(w, "duration_value", "duration_value");
        const char *id;
        if (ob_enroll(r, w->scope_type_id, w->scope_uuid, role, strtoll(user, NULL, 10),
                      "access-request", NULL, request_id, has_end, end, period ? period : "",
                      value ? strtod(value, NULL) : 0, &id) != 0)
            return -1;
        return assignment_event(w, id, false, "access-request");
    }
    if (strcmp(decision, "denied") == 0) {
        const char *p[] = {ob_arena_printf(r->arena, "%d", w->scope_type_id), w->scope_uuid,
                           role, user};
        PGresult *ids = ob_db_query(r->db, r->arena,
                                    "SELECT id::text FROM role_assignments WHERE scope_type_id ="
                                    " $1::int AND scope_uuid = $2::uuid AND role_id = $3::uuid"
                                    " AND user_id = $4::bigint",
                                    4, p);
        if (!ids) {
            ob_db_failure(r);
            ob_db_rollback(r->db);
            return -1;
        }
        for (int i = 0; i < PQntuples(ids); i++)
            if (assignment_event(w, PQgetvalue(ids, i, 0), true, NULL) != 0)
                return -1;
        if (!ob_db_query(r->db, r->arena,
                         "DELETE FROM role_assignments WHERE scope_type_id = $1::int"
                         " AND scope_uuid = $2::uuid AND role_id = $3::uuid"
                         " AND user_id = $4::bigint",
                         4, p)) {
            ob_db_failure(r);
            ob_db_rollback(r->db);
            return -1;
        }
    }
    return 0;
}

static int request_after_save(ob_write *w)
{
    /* The scope's owner hears of a new request first, then, for one
     * created decided, the requester of the decision. */
    if (w->create && request_event(w, w->new_key, NULL) != 0)
        return -1;
    const char *now = new_decision(w);
    if (strcmp(now, old_decision(w)) == 0 || strcmp(now, "pending") == 0)
        return 0;
    return apply_decision(w, now, w->new_key);
}

static void accept(ob_request *r);
static void deny(ob_request *r);
static const ob_action request_actions[] = {{"accept", OB_PUT, accept}, {"deny", OB_PUT, deny}};

const ob_resource ob_res_access_requests = {
    .app_label = APP,
    .model = "accessrequest",
    .class_name = "AccessRequest",
    .from = "access_requests t" OB_SCOPE_JOIN " JOIN roles tr ON tr.id = t.role_id"
            " JOIN users tu ON tu.id = t.user_id" OB_AUDIT_JOINS,
    .pk = &request_fields[0],
    .pk_is_uuid = true,
    .ref_type = "uuid",
    .fields = request_fields,
    .nfields = N(request_fields),
    .default_order = "t.scope_type_id, t.scope_uuid, tu.username, tr.slug",
    .guard = OB_GUARD_ACCESS_REQUEST,
    .refs = request_refs,
    .nrefs = N(request_refs),
    .path = "/api/auth/access_requests/",
    .actions = request_actions,
    .nactions = N(request_actions),
    .summary = "Requests for a role; PUT {id}/accept/ and {id}/deny/ decide them.",
    .ops = OB_CAN_ALL,
    .search_sql = user_role_search,
    .filters = scope_filters,
    .nfilters = N(scope_filters),
    .scope_type_sql = "t.scope_type_id",
    .scope_uuid_sql = "t.scope_uuid",
    .priority_sql = "tr.priority",
    .user_sql = "t.user_id",
    .pending_sql = "t.decision = 'pending'",
    .table = "access_requests",
    .audit = true,
    .wfields = request_wfields,
    .nwfields = N(request_wfields),
    .uniques = request_uniques,
    .nuniques = N(request_uniques),
    .user_field = "user",
    .priority_field = "role",
    .authorize = request_authorize,
    .before_save = request_before_save,
    .after_save = request_after_save,
};

static void forbidden(ob_request *r, const char *detail)
{
    ob_db_rollback(r->db);
    ob_fail(r, 403, detail);
}

#define NOT_ALLOWED "You do not have permission to perform this action."

/* PUT /api/auth/enrollment_methods/{id}/enroll/ (permissions.md §8). */
static void enroll(ob_request *r)
{
    ob_write w = {.r = r, .res = &ob_res_enrollment_methods};
    if (ob_db_begin(r->db) != 0) {
        ob_db_failure(r);
        return;
    }
    /* 1 (login) is the route's; 2: the method must be visible. */
    if (ob_write_lock(&w, r->path_params[0]) != 1)
        return;
    if (ob_resource_read_body(r) != 0) {
        ob_db_rollback(r->db);
        return;
    }
    const cJSON *pp = cJSON_GetObjectItemCaseSensitive(r->json, "passphrase");
    const char *given = "";
    if (pp && !cJSON_IsNull(pp)) {
        if (!cJSON_IsString(pp)) {
            ob_db_rollback(r->db);
            w.nerr = 0;
            ob_write_error(&w, "passphrase", "Not a valid string.");
            ob_write_answer_errors(r, &w);
            return;
        }
        given = pp->valuestring;
    }
    ob_perm_item it;
    ob_write_stored_item(&w, &it);
    int ok = ob_perm_allowed(r, APP ".self_enroll", &it);
    if (ok < 0) {
        ob_db_rollback(r->db);
        return;
    }
    if (!ok) {
        forbidden(r, NOT_ALLOWED);
        return;
    }
    const char *p[] = {w.key};
    PGresult *pg = ob_db_query(
        r->db, r->arena,
        "SELECT em.is_active AND (em.end_date IS NULL OR em.end_date > now()) AND ro.is_active,"
        " em.passphrase, em.role_id::text, (extract(epoch FROM em.end_date) * 1000000)::bigint,"
        " em.duration_period, em.duration_value FROM enrollment_methods em"
        " JOIN roles ro ON ro.id = em.role_id WHERE em.id = $1::uuid",
        1, p);
    if (!pg || PQntuples(pg) != 1) {
        ob_db_failure(r);
        ob_db_rollback(r->db);
        return;
    }
    /* Deliberate fix: closed methods and inactive roles enroll nobody. */
    if (PQgetvalue(pg, 0, 0)[0] != 't') {
        forbidden(r, "This enrollment method is currently not available.");
        return;
    }
    const char *hash = PQgetvalue(pg, 0, 1);
    if (*hash) {
        /* Trimmed, then checked against the stored hash (constant time). */
        size_t n = strlen(given);
        while (*given == ' ' || *given == '\t' || *given == '\n' || *given == '\r') {
            given++;
            n--;
        }
        while (n > 0 && (given[n - 1] == ' ' || given[n - 1] == '\t' || given[n - 1] == '\n' ||
                         given[n - 1] == '\r'))
            n--;
        bool rehash;
        if (n == 0 || n > 1024 || !ob_password_verify(given, n, hash, &rehash)) {
            forbidden(r, "Incorrect passphrase");
            return;
        }
    }
    const char *id;
    bool has_end = !PQgetisnull(pg, 0, 3);
    if (ob_enroll(r, w.scope_type_id, w.scope_uuid, PQgetvalue(pg, 0, 2), r->user->id,
                  "self-enrollment", w.key, NULL, has_end,
                  has_end ? strtoll(PQgetvalue(pg, 0, 3), NULL, 10) : 0, PQgetvalue(pg, 0, 4),
                  strtod(PQgetvalue(pg, 0, 5), NULL), &id) != 0 ||
        assignment_event(&w, id, false, "self-enrollment") != 0)
        return;
    if (ob_db_commit(r->db) != 0) {
        ob_db_failure(r);
        ob_db_rollback(r->db);
        return;
    }
    ob_write_after_commit(&w);
    ob_resource_item(r, &ob_res_role_assignments, id, &(ob_item_opts){.skip_visibility = true});
}

/* PUT /api/auth/access_requests/{id}/accept/ and .../deny/ (no body). */
static void decide(ob_request *r, const char *decision)
{
    ob_write w = {.r = r, .res = &ob_res_access_requests};
    if (ob_db_begin(r->db) != 0) {
        ob_db_failure(r);
        return;
    }
    if (ob_write_lock(&w, r->path_params[0]) != 1)
        return;
    w.v = ob_arena_calloc(r->arena, ob_res_access_requests.nwfields + 1, sizeof *w.v);
    ob_perm_item it;
    ob_write_stored_item(&w, &it);
    int ok = may_decide(r, &it, decision);
    if (ok < 0) {
        ob_db_rollback(r->db);
        return;
    }
    if (!ok) {
        forbidden(r, NOT_ALLOWED);
        return;
    }
    const char *p[] = {w.key, decision,
                       r->user ? ob_arena_printf(r->arena, "%lld", (long long)r->user->id) : NULL};
    if (!ob_db_query(r->db, r->arena,
                     "UPDATE access_requests SET decision_date = CASE WHEN decision = $2"
                     " THEN decision_date ELSE now() END, decision = $2, modified_by = $3::bigint,"
                     " modified_at = now() WHERE id = $1::uuid",
                     3, p)) {
        ob_db_failure(r);
        ob_db_rollback(r->db);
        return;
    }
    if (apply_decision(&w, decision, w.key) != 0)
        return;
    if (ob_db_commit(r->db) != 0) {
        ob_db_failure(r);
        ob_db_rollback(r->db);
        return;
    }
    ob_write_after_commit(&w);
    ob_resource_item(r, &ob_res_access_requests, w.key, &(ob_item_opts){.skip_visibility = true});
}

static void accept(ob_request *r) { decide(r, "accepted"); }
static void deny(ob_request *r) { decide(r, "denied"); }
