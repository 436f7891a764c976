/* signup_groups.c - /api/auth/signup_group_assignments/ (api-resources.md
 * §1, admin addition): which groups a new account joins at sign-up
 * (api-auth.md §6; src/auth/api_signup.c applies them).  Every method is
 * behind the admin gate staff + the model permission.  A description
 * served by the generic machinery; a hook stores `assertions`, a list of
 * objects kept in a table of their own. */
#include <string.h>
#include "openbook/db/db.h"
#include "openbook/api/resource.h"
#include "openbook/api/resources.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_ASSERTIONS 100

#define GROUP_SLUGS                                                                        \
    "(SELECT coalesce(json_agg(g.slug ORDER BY g.slug), '[]') FROM"                         \
    " signup_group_assignment_groups x JOIN groups g ON g.id = x.group_id"                  \
    " WHERE x.assignment_id = t.id)"
#define ASSERTIONS                                                                         \
    "(SELECT coalesce(json_agg(json_build_object('name', x.name, 'value', x.value,"         \
    " 'match_strategy', x.match_strategy) ORDER BY x.position), '[]') FROM"                 \
    " signup_group_assignment_assertions x WHERE x.assignment_id = t.id)"

static const ob_field fields[] = {
    {"id", "t.id", OB_FT_TEXT, OB_FF_SORT},
    {"name", "t.name", OB_FT_TEXT, OB_FF_SORT | OB_FF_SEARCH},
    {"description", "t.description", OB_FT_TEXT, OB_FF_SEARCH},
    {"text_format", "t.text_format", OB_FT_TEXT, OB_FF_SORT},
    {"is_active", "t.is_active", OB_FT_BOOL, OB_FF_SORT | OB_FF_EQ},
    {"site", "t.site_id", OB_FT_INT, OB_FF_SORT},
    {"social_app", "t.social_app", OB_FT_TEXT, OB_FF_SORT},
    {"groups", GROUP_SLUGS, OB_FT_JSON, 0},
    {"is_staff", "t.is_staff", OB_FT_BOOL, OB_FF_SORT},
    {"is_superuser", "t.is_superuser", OB_FT_BOOL, OB_FF_SORT},
    {"assertions", ASSERTIONS, OB_FT_JSON, 0},
};

/* `site` names a site by its id (no expansion: the spec offers none). */
static const ob_field_ref refs[] = {
    {.field = "site", .sort_sql = "t.site_id", .expand = &ob_res_sites},
};

static const ob_filter filters[] = {
    {.name = "site", .kind = OB_FILT_INT_REF, .sql = "t.site_id = $1::int"},
};

static const char *const match_strategies[] = {"exact",     "contains", "starts-with",
                                               "ends-with", "regex",    "any",
                                               NULL};

/* One assertion as written: what a provider's attribute must match. */
enum { A_NAME, A_VALUE, A_MATCH, A_N };
static const ob_wfield assertion_wfields[A_N] = {
    [A_NAME] = {.name = "name", .kind = OB_W_TEXT, .flags = OB_WF_REQUIRED, .max_len = 255},
    [A_VALUE] = {.name = "value", .kind = OB_W_TEXT, .flags = OB_WF_NULL | OB_WF_BLANK,
                 .max_len = 255},
    [A_MATCH] = {.name = "match_strategy", .kind = OB_W_TEXT, .choices = match_strategies,
                 .def = "exact"},
};

static const ob_wfield wfields[] = {
    OB_TEXT_WFIELDS,
    {.name = "is_active", .kind = OB_W_BOOL, .column = "is_active"},
    /* null: every site. */
    {.name = "site", .kind = OB_W_INT_REF, .column = "site_id", .flags = OB_WF_NULL,
     .ref_sql = "SELECT 1 FROM sites WHERE id = $1::int"},
    /* null: local accounts; a provider id otherwise (phase 2). */
    {.name = "social_app", .kind = OB_W_TEXT, .column = "social_app", .flags = OB_WF_NULL,
     .max_len = 255},
    {.name = "groups", .kind = OB_W_GROUP_LIST, .m2m_table = "signup_group_assignment_groups",
     .m2m_self = "assignment_id", .m2m_other = "group_id"},
    /* Applied only to provider sign-ups, as in the original. */
    {.name = "is_staff", .kind = OB_W_BOOL, .column = "is_staff"},
    {.name = "is_superuser", .kind = OB_W_BOOL, .column = "is_superuser"},
    {.name = "assertions", .kind = OB_W_OBJECT_LIST, .items = assertion_wfields, .nitems = A_N,
     .has_max = true, .max = MAX_ASSERTIONS},
};

/* Writing assertions replaces them all, in one statement: the list goes
 * as one JSON parameter, its order is their position. */
static int assertions_save(ob_write *w)
{
    const ob_wvalue *list = ob_write_value(w, "assertions");
    if (list->state != OB_WV_GIVEN || !list->rows)
        return 0;
    ob_request *r = w->r;
    ob_buf json;
    ob_buf_init(&json, r->arena);
    ob_json j;
    ob_json_init(&j, &json);
    ob_json_array_begin(&j);
    for (int i = 0; i < list->n; i++) {
        const ob_wvalue *a = list->rows + (size_t)i * A_N;
        ob_json_object_begin(&j);
        ob_json_kv_string(&j, "name", a[A_NAME].text);
        ob_json_key(&j, "value");
        if (a[A_VALUE].text)
            ob_json_string(&j, a[A_VALUE].text);
        else
            ob_json_null(&j);
        ob_json_kv_string(&j, "match_strategy", a[A_MATCH].text);
        ob_json_object_end(&j);
    }
    ob_json_array_end(&j);
    const char *p[] = {w->new_key, ob_buf_cstr(&json)};
    if (!ob_db_query(r->db, r->arena,
                     "DELETE FROM signup_group_assignment_assertions WHERE assignment_id = $1::uuid",
                     1, p) ||
        !ob_db_query(r->db, r->arena,
                     "INSERT INTO signup_group_assignment_assertions (assignment_id, position,"
                     " name, value, match_strategy) SELECT $1::uuid, x.ord, x.name, x.value,"
                     " x.match_strategy FROM ROWS FROM (json_to_recordset($2::json) AS"
                     " (name text, value text, match_strategy text)) WITH ORDINALITY"
                     " AS x(name, value, match_strategy, ord)",
                     2, p)) {
        ob_write_db_error(w);
        return -1;
    }
    return 0;
}

const ob_resource ob_res_signup_group_assignments = {
    .app_label = "openbook_auth",
    .model = "signupgroupassignment",
    .class_name = "SignupGroupAssignment",
    .from = "signup_group_assignments t",
    .pk = &fields[0],
    .pk_is_uuid = true,
    .ref_type = "uuid",
    .fields = fields,
    .nfields = N(fields),
    .default_order = "t.name",
    .guard = OB_GUARD_GLOBAL,
    .refs = refs,
    .nrefs = N(refs),
    .path = "/api/auth/signup_group_assignments/",
    .summary = "The groups a new account joins at sign-up; assertions and the staff and "
               "superuser flags apply to provider sign-ups only.",
    .ops = OB_CAN_ALL,
    .read_gate = OB_ADMIN_STAFF_PERM,
    .write_gate = OB_ADMIN_STAFF_PERM,
    .filters = filters,
    .nfilters = N(filters),
    .table = "signup_group_assignments",
    .audit = true,
    .wfields = wfields,
    .nwfields = N(wfields),
    .after_save = assertions_save,
};
