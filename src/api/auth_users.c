/* auth_users.c - /api/auth/current_user/, /api/auth/users/ and
 * /api/auth/auth_tokens/ (api-resources.md; permissions.md rules U and T).
 *
 * Reads go through the generic resource machinery (resource.c), with the
 * visibility predicate inside the SQL.  Writes are written out here, in
 * the order of checks of api-conventions.md §5: lookup among the visible
 * rows (404), body and field formats (400), object permission (403, or 404
 * for a create the requester could not view), rules about other rows
 * (400), then the change, in one transaction. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "openbook/http/jsonvalue.h"
#include "openbook/auth/account.h"
#include "openbook/auth/auth.h"
#include "openbook/core/config.h"
#include "openbook/db/db.h"
#include "openbook/redis/events.h"
#include "openbook/core/log.h"
#include "openbook/auth/password.h"
#include "openbook/api/resource.h"
#include "openbook/api/routes.h"
#include "openbook/auth/session.h"
#include "openbook/http/validate.h"

#define APP "openbook_auth"
#define NAME_MAX_CHARS 150
#define TOKEN_NAME_MAX 255

/* ---- descriptions ---- */

/* The public user shape (api-resources.md §0), shared by users, the
 * current user and every expansion of a user reference. */
#define USER_PUBLIC_FIELDS                                                                  \
    {"id", "t.id", OB_FT_INT, OB_FF_SORT},                                                  \
    {"username", "t.username", OB_FT_TEXT, OB_FF_SORT | OB_FF_SEARCH | OB_FF_ICONTAINS},   \
    {"full_name", "btrim(t.first_name || ' ' || t.last_name)", OB_FT_TEXT, 0},              \
    {"first_name", "t.first_name", OB_FT_TEXT, OB_FF_SORT | OB_FF_SEARCH | OB_FF_ICONTAINS}, \
    {"last_name", "t.last_name", OB_FT_TEXT, OB_FF_SORT | OB_FF_SEARCH | OB_FF_ICONTAINS},   \
    {"description", "t.description", OB_FT_TEXT,                                            \
     OB_FF_SORT | OB_FF_SEARCH | OB_FF_ICONTAINS},                                          \
    {"picture", "t.picture", OB_FT_FILE, OB_FF_SORT},                                       \
    {"is_staff", "t.is_staff", OB_FT_BOOL, OB_FF_SORT | OB_FF_EQ},                          \
    {"last_login", "t.last_login", OB_FT_DATETIME, OB_FF_SORT},                             \
    {"date_joined", "t.date_joined", OB_FT_DATETIME, OB_FF_SORT}

static const ob_field user_fields[] = {
    USER_PUBLIC_FIELDS,
    /* Admin fields (addition): superuser requesters only. */
    {"email", "t.email", OB_FT_TEXT, OB_FF_ADMIN | OB_FF_SORT | OB_FF_ICONTAINS},
    {"user_type", "t.user_type", OB_FT_TEXT, OB_FF_ADMIN | OB_FF_SORT},
    {"is_active", "t.is_active", OB_FT_BOOL, OB_FF_ADMIN | OB_FF_SORT | OB_FF_EQ},
    {"is_superuser", "t.is_superuser", OB_FT_BOOL, OB_FF_ADMIN | OB_FF_SORT},
    {"groups",
     "(SELECT coalesce(json_agg(g.slug ORDER BY g.slug), '[]') FROM user_groups ug"
     " JOIN groups g ON g.id = ug.group_id WHERE ug.user_id = t.id)",
     OB_FT_JSON, OB_FF_ADMIN},
    {"user_permissions",
     "(SELECT coalesce(json_agg(ct.app_label || '.' || p.codename ORDER BY ct.app_label, "
     "p.codename), '[]') FROM user_permissions up JOIN permissions p ON p.id = up.permission_id"
     " JOIN content_types ct ON ct.id = p.content_type_id WHERE up.user_id = t.id)",
     OB_FT_JSON, OB_FF_ADMIN},
};

static const ob_field user_public_fields[] = {USER_PUBLIC_FIELDS};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Rule U: every user sees themselves; global view_user (or change_user)
 * shows all; inactive users only to superusers. */
const ob_resource users = {
    .app_label = APP,
    .model = "user",
    .class_name = "User",
    .from = "users t",
    .pk = &user_fields[1],
    .pk_max_len = NAME_MAX_CHARS * 4,
    .fields = user_fields,
    .nfields = N(user_fields),
    .default_order = "t.username",
    .guard = OB_GUARD_SELF,
    .self_sql = "t.id",
    .restrict_sql = "t.is_active",
    .ref_sql = "t.id",
    .ref_type = "bigint",
};

/* What a reference to a user expands to. */
const ob_resource users_public = {
    .app_label = APP,
    .model = "user",
    .class_name = "User",
    .from = "users t",
    .pk = &user_public_fields[1],
    .pk_max_len = NAME_MAX_CHARS * 4,
    .fields = user_public_fields,
    .nfields = N(user_public_fields),
    .default_order = "t.username",
    .guard = OB_GUARD_SELF,
    .self_sql = "t.id",
    .restrict_sql = "t.is_active",
    .ref_sql = "t.id",
    .ref_type = "bigint",
};

/* What the requester holds (addition, only with _expand=permissions), so
 * that the app shows a control only where the API would allow the action
 * without trying it: `global` the perm strings held for every item
 * (anonymous and model permissions), `model` the model permissions alone
 * (the admin gate counts only these), `scopes` one entry per owned scope
 * and per effective role assignment (permissions.md §6.1) with the role's
 * priority and permissions.  The app applies permissions.md §6 to these
 * and to the items' own owner and public_permissions. */
#define PERM_STR(p) "(SELECT xct.app_label || '.' || xp.codename FROM permissions xp JOIN" \
    " content_types xct ON xct.id = xp.content_type_id WHERE xp.id = " p ")"
#define MODEL_PERM_IDS                                                                     \
    "SELECT up.permission_id FROM user_permissions up WHERE up.user_id = t.id UNION"          \
    " SELECT gp.permission_id FROM user_groups ug JOIN group_permissions gp ON"               \
    " gp.group_id = ug.group_id WHERE ug.user_id = t.id"
#define CURRENT_USER_PERMISSIONS                                                           \
    "json_build_object("                                                                    \
    "'global', (SELECT coalesce(json_agg(x.s ORDER BY x.s), '[]') FROM (SELECT DISTINCT "     \
    PERM_STR("g.id") " AS s FROM (SELECT permission_id AS id FROM anonymous_permissions UNION " \
    MODEL_PERM_IDS ") g) x),"                                                                \
    "'model', (SELECT coalesce(json_agg(x.s ORDER BY x.s), '[]') FROM (SELECT " PERM_STR("g.id") \
    " AS s FROM (SELECT permission_id AS id FROM (" MODEL_PERM_IDS ") m) g) x),"               \
    "'scopes', (SELECT coalesce(json_agg(json_build_object('scope_type', sct.app_label || '.' ||" \
    " sct.model, 'scope_uuid', s.u, 'owner', s.o, 'role', s.r, 'priority', s.p,"                \
    " 'permissions', s.l) ORDER BY sct.model, s.u, s.o DESC, s.r), '[]') FROM ("               \
    "SELECT so.scope_type_id AS ty, so.scope_uuid::text AS u, true AS o, NULL::text AS r,"      \
    " NULL::int AS p, '[]'::json AS l FROM scope_objects so WHERE so.owner_id = t.id"           \
    " UNION ALL SELECT ra.scope_type_id, ra.scope_uuid::text, false, ro.slug, ro.priority,"     \
    " (SELECT coalesce(json_agg(" PERM_STR("rp.permission_id") " ORDER BY rp.permission_id),"  \
    " '[]') FROM role_permissions rp WHERE rp.role_id = ro.id)"                                 \
    " FROM role_assignments ra JOIN roles ro ON ro.id = ra.role_id WHERE ra.user_id = t.id"     \
    " AND ra.is_active AND ro.is_active AND (ra.start_date IS NULL OR ra.start_date <= now())"  \
    " AND (ra.end_date IS NULL OR ra.end_date > now())) s"                                      \
    " JOIN content_types sct ON sct.id = s.ty))"

static const ob_field current_user_fields[] = {
    USER_PUBLIC_FIELDS,
    {"email", "t.email", OB_FT_TEXT, 0},
    {"is_authenticated", "true", OB_FT_BOOL, 0},
    {"is_superuser", "t.is_superuser", OB_FT_BOOL, 0},
    {"permissions", CURRENT_USER_PERMISSIONS, OB_FT_JSON, OB_FF_EXPAND_ONLY},
};

const ob_resource current_user = {
    .app_label = APP,
    .model = "user",
    .class_name = "User",
    .from = "users t",
    .pk = &current_user_fields[0],
    .pk_is_int = true,
    .ref_type = "bigint",
    .fields = current_user_fields,
    .nfields = N(current_user_fields),
    .default_order = "t.username",
    .guard = OB_GUARD_SELF,
    .self_sql = "t.id",
};

static const ob_field token_fields[] = {
    {"id", "t.id", OB_FT_TEXT, OB_FF_SORT},
    {"user", "tu.username", OB_FT_TEXT, OB_FF_SORT | OB_FF_SEARCH | OB_FF_EQ},
    /* Stored hashed: the full token exists only in the 201 of the create. */
    {"token", "NULL::text", OB_FT_TEXT, 0},
    {"token_prefix", "t.token_prefix", OB_FT_TEXT, OB_FF_SORT | OB_FF_SEARCH},
    {"name", "t.name", OB_FT_TEXT, OB_FF_SORT | OB_FF_SEARCH},
    {"description", "t.description", OB_FT_TEXT, OB_FF_SORT | OB_FF_SEARCH},
    {"text_format", "t.text_format", OB_FT_TEXT, OB_FF_SORT},
    {"is_active", "t.is_active", OB_FT_BOOL, OB_FF_SORT | OB_FF_EQ},
    {"start_date", "t.start_date", OB_FT_DATETIME, OB_FF_SORT | OB_FF_EQ | OB_FF_RANGE},
    {"end_date", "t.end_date", OB_FT_DATETIME, OB_FF_SORT | OB_FF_EQ | OB_FF_RANGE},
    {"created_by", "tcb.username", OB_FT_TEXT, OB_FF_SORT | OB_FF_EQ},
    {"created_at", "t.created_at", OB_FT_DATETIME, OB_FF_SORT | OB_FF_EQ | OB_FF_RANGE},
    {"modified_by", "tmb.username", OB_FT_TEXT, OB_FF_SORT | OB_FF_EQ},
    {"modified_at", "t.modified_at", OB_FT_DATETIME, OB_FF_SORT | OB_FF_EQ | OB_FF_RANGE},
};

static const ob_field_ref token_refs[] = {
    {.field = "user", .sort_sql = "t.user_id", .expand = &users_public, .key_sql = "t.user_id"},
    {.field = "created_by", .sort_sql = "t.created_by", .expand = &users_public,
     .key_sql = "t.created_by"},
    {.field = "modified_by", .sort_sql = "t.modified_by", .expand = &users_public,
     .key_sql = "t.modified_by"},
};

/* Rule T: own tokens with manage_own_authtoken held globally; global
 * view/change_authtoken shows every token. */
const ob_resource tokens = {
    .app_label = APP,
    .model = "authtoken",
    .class_name = "AuthToken",
    .from = "auth_tokens t JOIN users tu ON tu.id = t.user_id"
            " LEFT JOIN users tcb ON tcb.id = t.created_by"
            " LEFT JOIN users tmb ON tmb.id = t.modified_by",
    .pk = &token_fields[0],
    .pk_is_uuid = true,
    .fields = token_fields,
    .nfields = N(token_fields),
    .default_order = "tu.username, t.token_prefix",
    .guard = OB_GUARD_SELF,
    .self_sql = "t.user_id",
    .self_perm = "manage_own_authtoken",
    .ref_type = "uuid",
    .refs = token_refs,
    .nrefs = N(token_refs),
};

/* ---- field validation (api-conventions.md §2, §4) ---- */

#define MAX_ERRORS 48

typedef struct {
    ob_request *r;
    const char *field[MAX_ERRORS];
    const char *msg[MAX_ERRORS];
    int n;
} errors;

static void err(errors *e, const char *field, const char *msg)
{
    if (e->n < MAX_ERRORS) {
        e->field[e->n] = field;
        e->msg[e->n] = msg;
        e->n++;
    }
}

/* {"field": ["message", ...], ...} in the order the fields failed. */
static void answer_errors(ob_request *r, const errors *e)
{
    ob_json *j = ob_json_response(r, 400);
    ob_json_object_begin(j);
    for (int i = 0; i < e->n; i++) {
        bool seen = false;
        for (int k = 0; k < i && !seen; k++)
            seen = strcmp(e->field[k], e->field[i]) == 0;
        if (seen)
            continue;
        ob_json_key(j, e->field[i]);
        ob_json_array_begin(j);
        for (int k = i; k < e->n; k++)
            if (strcmp(e->field[k], e->field[i]) == 0)
                ob_json_string(j, e->msg[k]);
        ob_json_array_end(j);
    }
    ob_json_object_end(j);
}

typedef enum { ABSENT = 0, GIVEN = 1, INVALID = -1 } got;

/* A text field.  max 0: no limit.  trim_it: every string but passwords. */
static got get_text(errors *e, const cJSON *body, const char *name, size_t max, bool allow_blank,
                    bool trim_it, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, name);
    if (!v)
        return ABSENT;
    if (cJSON_IsNull(v)) {
        err(e, name, "This field may not be null.");
        return INVALID;
    }
    if (!cJSON_IsString(v) && !cJSON_IsNumber(v)) {
        err(e, name, "Not a valid string.");
        return INVALID;
    }
    const char *s = ob_json_py_str(e->r->arena, v);
    if (trim_it)
        s = ob_str_trim(e->r->arena, s);
    if (!*s && !allow_blank) {
        err(e, name, "This field may not be blank.");
        return INVALID;
    }
    if (max && ob_utf8_count(s, strlen(s)) > max) {
        err(e, name,
            ob_arena_printf(e->r->arena, "Ensure this field has no more than %zu characters.",
                            max));
        return INVALID;
    }
    *out = s;
    return GIVEN;
}

static got get_bool(errors *e, const cJSON *body, const char *name, bool *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, name);
    if (!v)
        return ABSENT;
    if (cJSON_IsNull(v)) {
        err(e, name, "This field may not be null.");
        return INVALID;
    }
    if (cJSON_IsBool(v)) {
        *out = cJSON_IsTrue(v);
        return GIVEN;
    }
    if (cJSON_IsNumber(v) && (v->valuedouble == 0 || v->valuedouble == 1)) {
        *out = v->valuedouble == 1;
        return GIVEN;
    }
    if (cJSON_IsString(v)) {
        const char *s = ob_str_trim(e->r->arena, v->valuestring);
        if (strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0) {
            *out = true;
            return GIVEN;
        }
        if (strcasecmp(s, "false") == 0 || strcmp(s, "0") == 0) {
            *out = false;
            return GIVEN;
        }
    }
    err(e, name, "Must be a valid boolean.");
    return INVALID;
}

static got get_choice(errors *e, const cJSON *body, const char *name, const char *const *choices,
                      const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, name);
    if (!v)
        return ABSENT;
    if (cJSON_IsNull(v)) {
        err(e, name, "This field may not be null.");
        return INVALID;
    }
    const char *s = cJSON_IsString(v) ? ob_str_trim(e->r->arena, v->valuestring)
                    : cJSON_IsArray(v) || cJSON_IsObject(v) ? NULL
                                                             : ob_json_py_str(e->r->arena, v);
    for (size_t i = 0; s && choices[i]; i++)
        if (cJSON_IsString(v) && strcmp(s, choices[i]) == 0) {
            *out = choices[i];
            return GIVEN;
        }
    err(e, name,
        ob_arena_printf(e->r->arena, "\"%s\" is not a valid choice.", s ? s : "(invalid)"));
    return INVALID;
}

/* A nullable date-time: "" means null (api-conventions.md §2).  *out is
 * the normalised text, or NULL for null. */
static got get_datetime(errors *e, const cJSON *body, const char *name, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, name);
    if (!v)
        return ABSENT;
    if (cJSON_IsNull(v) || (cJSON_IsString(v) && !*ob_str_trim(e->r->arena, v->valuestring))) {
        *out = NULL;
        return GIVEN;
    }
    char *norm = ob_arena_alloc(e->r->arena, 40);
    if (cJSON_IsString(v) && ob_parse_datetime(v->valuestring, false, norm)) {
        *out = norm;
        return GIVEN;
    }
    err(e, name,
        "Datetime has wrong format. Use one of these formats instead: "
        "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].");
    return INVALID;
}

/* Microseconds since the epoch of a text from ob_parse_datetime. */
static long long datetime_us(const char *s)
{
    int y, mo, d, h, mi, sec, us, oh, om;
    char sign;
    if (sscanf(s, "%d-%d-%dT%d:%d:%d.%d%c%d:%d", &y, &mo, &d, &h, &mi, &sec, &us, &sign, &oh,
               &om) != 10)
        return 0;
    /* Days from civil (H. Hinnant's algorithm). */
    y -= mo <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153LL * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    long long days = era * 146097 + doe - 719468;
    long long secs = days * 86400 + h * 3600LL + mi * 60LL + sec;
    long long off = (oh * 3600LL + om * 60LL) * (sign == '-' ? -1 : 1);
    return (secs - off) * 1000000LL + us;
}

/* A list of natural keys (slugs, perm strings).  Items that are not
 * strings come back as NULL, for resolve_names to report in order. */
static got get_string_list(errors *e, const cJSON *body, const char *name, const char ***out,
                           int *count)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, name);
    if (!v)
        return ABSENT;
    if (cJSON_IsNull(v)) {
        err(e, name, "This field may not be null.");
        return INVALID;
    }
    if (!cJSON_IsArray(v)) {
        err(e, name,
            ob_arena_printf(e->r->arena, "Expected a list of items but got type \"%s\".",
                            ob_json_type_name(v)));
        return INVALID;
    }
    int n = cJSON_GetArraySize(v);
    if (n > 1000) {
        err(e, name, "Ensure this field has no more than 1000 elements.");
        return INVALID;
    }
    const char **list = ob_arena_calloc(e->r->arena, (size_t)n + 1, sizeof *list);
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, v)
    {
        list[i++] = cJSON_IsString(it) ? ob_str_trim(e->r->arena, it->valuestring) : NULL;
    }
    *out = list;
    *count = i;
    return GIVEN;
}

/* A PostgreSQL array literal of text values. */
static const char *pg_text_array(ob_arena *a, const char *const *v, int n)
{
    ob_buf b;
    ob_buf_init(&b, a);
    ob_buf_putc(&b, '{');
    for (int i = 0; i < n; i++) {
        ob_buf_puts(&b, i ? ",\"" : "\"");
        for (const char *s = v[i]; *s; s++) {
            if (*s == '"' || *s == '\\')
                ob_buf_putc(&b, '\\');
            ob_buf_putc(&b, *s);
        }
        ob_buf_putc(&b, '"');
    }
    ob_buf_putc(&b, '}');
    return ob_buf_cstr(&b);
}

/* Reads the JSON body and refuses strings a C string cannot carry. */
static int read_body(ob_request *r)
{
    if (ob_request_read_json(r) != 0)
        return -1;
    const char *bad = r->body_len ? ob_json_bad_string_member(r->arena, r->body, r->body_len)
                                  : NULL;
    if (bad) {
        errors e = {.r = r};
        err(&e, bad, "Null characters are not allowed.");
        answer_errors(r, &e);
        return -1;
    }
    return 0;
}

static const char *id_text(ob_request *r, int64_t id)
{
    return ob_arena_printf(r->arena, "%lld", (long long)id);
}

static bool is_superuser(const ob_request *r)
{
    return r->user && r->user->is_superuser;
}

static void forbidden(ob_request *r)
{
    ob_db_rollback(r->db);
    ob_fail(r, 403, "You do not have permission to perform this action.");
}

static void db_failed(ob_request *r)
{
    /* The e-mail given is verified by another account: one owner per
     * verified address holds here too (api-auth.md §8's message). */
    if (ob_account_email_taken(r->db)) {
        ob_db_rollback(r->db);
        errors e = {.r = r};
        err(&e, "email", "A user is already registered with this email address.");
        answer_errors(r, &e);
        return;
    }
    ob_db_failure(r);
    ob_db_rollback(r->db);
}

/* ---- current_user ---- */

void ob_api_current_user(ob_request *r)
{
    if (!r->user) {
        /* Exactly this, whatever the query asks (api-resources.md). */
        ob_json *j = ob_json_response(r, 200);
        ob_json_object_begin(j);
        ob_json_key(j, "is_authenticated");
        ob_json_bool(j, false);
        ob_json_object_end(j);
        return;
    }
    ob_item_opts o = {.skip_visibility = true};
    ob_resource_item(r, &current_user, id_text(r, r->user->id), &o);
}

/* ---- users ---- */

typedef struct {
    const char *first_name, *last_name, *description, *picture;
    const char *email, *user_type, *password;
    bool is_active, is_staff, is_superuser;
    got g_first, g_last, g_desc, g_pic, g_email, g_type, g_pw, g_active, g_staff, g_super;
    got g_groups, g_perms;
    const char **groups, **perms;
    int ngroups, nperms;
    int64_t *group_ids, *perm_ids;
} user_input;

typedef struct {
    errors *e;
} pw_ctx;

static void pw_report(void *ctx, const char *code, const char *message)
{
    (void)code;
    errors *e = ctx;
    err(e, "password", ob_arena_strdup(e->r->arena, message));
}

/* Resolves natural keys to ids in one query.  As the original, the first
 * bad item is reported: a non-string (item_error) or an unknown key
 * (fmt).  Returns -1 on a database error. */
static int resolve_names(ob_request *r, errors *e, const char *field, const char *sql,
                         const char *const *names, int n, int64_t **ids, const char *item_error,
                         const char *fmt)
{
    *ids = ob_arena_calloc(r->arena, (size_t)n + 1, sizeof **ids);
    const char **strs = ob_arena_calloc(r->arena, (size_t)n + 1, sizeof *strs);
    int ns = 0;
    for (int i = 0; i < n; i++)
        if (names[i])
            strs[ns++] = names[i];
    PGresult *pg = NULL;
    if (ns) {
        const char *p[] = {pg_text_array(r->arena, strs, ns)};
        pg = ob_db_query(r->db, r->arena, sql, 1, p);
        if (!pg)
            return -1;
    }
    for (int i = 0; i < n; i++) {
        if (!names[i]) {
            err(e, field, item_error);
            return 0;
        }
        bool found = false;
        for (int k = 0; pg && k < PQntuples(pg) && !found; k++)
            if (strcmp(PQgetvalue(pg, k, 0), names[i]) == 0) {
                (*ids)[i] = strtoll(PQgetvalue(pg, k, 1), NULL, 10);
                found = true;
            }
        if (!found) {
            err(e, field, ob_arena_printf(r->arena, fmt, names[i]));
            return 0;
        }
    }
    return 0;
}

/* Parses the user fields of a write.  Admin fields only for superusers
 * (for everyone else they are read-only, so ignored).  Returns -1 after a
 * database failure (answered). */
static int parse_user_input(ob_request *r, errors *e, user_input *in, bool create,
                            const char *username, const char *first, const char *last,
                            const char *email)
{
    const cJSON *b = r->json;
    memset(in, 0, sizeof *in);
    in->g_first = get_text(e, b, "first_name", NAME_MAX_CHARS, true, true, &in->first_name);
    in->g_last = get_text(e, b, "last_name", NAME_MAX_CHARS, true, true, &in->last_name);
    in->g_desc = get_text(e, b, "description", 0, true, true, &in->description);
    const cJSON *pic = cJSON_GetObjectItemCaseSensitive(b, "picture");
    if (pic) {
        /* Uploads come as multipart; in JSON only "" (clear) makes sense. */
        if (cJSON_IsString(pic) && !*ob_str_trim(r->arena, pic->valuestring)) {
            in->picture = "";
            in->g_pic = GIVEN;
        } else if (cJSON_IsNull(pic)) {
            err(e, "picture", "This field may not be null.");
        } else {
            err(e, "picture",
                "The submitted data was not a file. Check the encoding type on the form.");
        }
    }
    if (!is_superuser(r))
        return 0;
    in->g_email = get_text(e, b, "email", OB_EMAIL_MAX, false, true, &in->email);
    if (in->g_email == GIVEN && !ob_valid_email(in->email, strlen(in->email))) {
        err(e, "email", "Enter a valid email address.");
        in->g_email = INVALID;
    }
    if (create && in->g_email == ABSENT)
        err(e, "email", "This field is required.");
    static const char *const types[] = {"human", "app", NULL};
    in->g_type = get_choice(e, b, "user_type", types, &in->user_type);
    in->g_active = get_bool(e, b, "is_active", &in->is_active);
    in->g_staff = get_bool(e, b, "is_staff", &in->is_staff);
    in->g_super = get_bool(e, b, "is_superuser", &in->is_superuser);
    in->g_groups = get_string_list(e, b, "groups", &in->groups, &in->ngroups);
    in->g_perms = get_string_list(e, b, "user_permissions", &in->perms, &in->nperms);
    if (in->g_groups == GIVEN &&
        resolve_names(r, e, "groups", "SELECT slug, id FROM groups WHERE slug = ANY($1::text[])",
                      in->groups, in->ngroups, &in->group_ids, "Invalid value.",
                      "Object with slug=%s does not exist.") != 0)
        return -1;
    if (in->g_perms == GIVEN &&
        resolve_names(r, e, "user_permissions",
                      "SELECT ct.app_label || '.' || p.codename, p.id FROM permissions p"
                      " JOIN content_types ct ON ct.id = p.content_type_id"
                      " WHERE ct.app_label || '.' || p.codename = ANY($1::text[])",
                      in->perms, in->nperms, &in->perm_ids,
                      "Invalid format: Expected a permission string.",
                      "Permission '%s' not found.") != 0)
        return -1;
    const cJSON *pw = cJSON_GetObjectItemCaseSensitive(b, "password");
    if (pw) {
        /* Passwords are taken exactly as typed: no trimming. */
        in->g_pw = get_text(e, b, "password", 0, false, false, &in->password);
        if (in->g_pw == GIVEN) {
            const char *similar[4] = {
                username,
                in->g_first == GIVEN ? in->first_name : first,
                in->g_last == GIVEN ? in->last_name : last,
                in->g_email == GIVEN ? in->email : email,
            };
            if (ob_password_check(in->password, strlen(in->password), similar, pw_report, e))
                in->g_pw = INVALID;
        }
    }
    return 0;
}

/* Applies the parsed fields to user uid (in the open transaction). */
static int apply_user_input(ob_request *r, const user_input *in, int64_t uid)
{
    ob_sql_params p = {.n = 0};
    ob_buf sql;
    ob_buf_init(&sql, r->arena);
    int k = ob_sql_param(&p, id_text(r, uid));
    ob_buf_puts(&sql, "UPDATE users SET id = id");
#define SET_TEXT(g, col, val)                                                              \
    if ((g) == GIVEN)                                                                      \
        ob_buf_printf(&sql, ", " col " = $%d", ob_sql_param(&p, (val)));
#define SET_BOOL(g, col, val)                                                              \
    if ((g) == GIVEN)                                                                      \
        ob_buf_printf(&sql, ", " col " = $%d::boolean", ob_sql_param(&p, (val) ? "t" : "f"));
    SET_TEXT(in->g_first, "first_name", in->first_name)
    SET_TEXT(in->g_last, "last_name", in->last_name)
    SET_TEXT(in->g_desc, "description", in->description)
    SET_TEXT(in->g_pic, "picture", in->picture)
    SET_TEXT(in->g_type, "user_type", in->user_type)
    SET_BOOL(in->g_active, "is_active", in->is_active)
    SET_BOOL(in->g_staff, "is_staff", in->is_staff)
    SET_BOOL(in->g_super, "is_superuser", in->is_superuser)
#undef SET_TEXT
#undef SET_BOOL
    const char *email = in->g_email == GIVEN ? ob_arena_strdup(r->arena, in->email) : NULL;
    if (email) {
        /* Stored lower-case, as sign-up stores it. */
        for (char *c = (char *)email; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        ob_buf_printf(&sql, ", email = $%d", ob_sql_param(&p, email));
    }
    ob_buf_printf(&sql, " WHERE id = $%d::bigint", k);
    if (!ob_db_query(r->db, r->arena, ob_buf_cstr(&sql), p.n, p.v))
        return -1;
    const char *uidp[] = {id_text(r, uid)};
    if (email) {
        /* An address set by a superuser is the verified primary one. */
        const char *ep[] = {uidp[0], email};
        if (!ob_db_query(r->db, r->arena,
                         "UPDATE email_addresses SET is_primary = false"
                         " WHERE user_id = $1::bigint AND is_primary AND email <> $2",
                         2, ep) ||
            !ob_db_query(r->db, r->arena,
                         "INSERT INTO email_addresses (user_id, email, verified, is_primary)"
                         " VALUES ($1::bigint, $2, true, true) ON CONFLICT (user_id, email)"
                         " DO UPDATE SET verified = true, is_primary = true",
                         2, ep))
            return -1;
    }
    if (in->g_groups == GIVEN) {
        ob_buf ids;
        ob_buf_init(&ids, r->arena);
        ob_buf_putc(&ids, '{');
        for (int i = 0; i < in->ngroups; i++)
            ob_buf_printf(&ids, "%s%lld", i ? "," : "", (long long)in->group_ids[i]);
        ob_buf_putc(&ids, '}');
        const char *gp[] = {uidp[0], ob_buf_cstr(&ids)};
        if (!ob_db_query(r->db, r->arena, "DELETE FROM user_groups WHERE user_id = $1::bigint", 1,
                         uidp) ||
            !ob_db_query(r->db, r->arena,
                         "INSERT INTO user_groups (user_id, group_id) SELECT $1::bigint, g"
                         " FROM unnest($2::int[]) g ON CONFLICT DO NOTHING",
                         2, gp))
            return -1;
    }
    if (in->g_perms == GIVEN) {
        ob_buf ids;
        ob_buf_init(&ids, r->arena);
        ob_buf_putc(&ids, '{');
        for (int i = 0; i < in->nperms; i++)
            ob_buf_printf(&ids, "%s%lld", i ? "," : "", (long long)in->perm_ids[i]);
        ob_buf_putc(&ids, '}');
        const char *pp[] = {uidp[0], ob_buf_cstr(&ids)};
        if (!ob_db_query(r->db, r->arena,
                         "DELETE FROM user_permissions WHERE user_id = $1::bigint", 1, uidp) ||
            !ob_db_query(r->db, r->arena,
                         "INSERT INTO user_permissions (user_id, permission_id) SELECT"
                         " $1::bigint, x FROM unnest($2::int[]) x ON CONFLICT DO NOTHING",
                         2, pp))
            return -1;
    }
    bool me = r->user && r->user->id == uid;
    if (in->g_pw == GIVEN) {
        if (ob_account_set_password(r->db, r->arena, uid, in->password) != 0)
            return -1;
        /* Other sessions end; the requester's own stays if it is theirs. */
        if (ob_session_end_all(r, uid, me) != 0)
            return -1;
    }
    if (in->g_active == GIVEN && !in->is_active && ob_session_end_all(r, uid, false) != 0)
        return -1;
    return 0;
}

/* Removes a user's old picture file once the change is committed. */
static void remove_media(ob_request *r, const char *path)
{
    if (!path || !*path || strstr(path, ".."))
        return;
    const char *full = ob_arena_printf(r->arena, "%s/%s", r->cfg->media_root, path);
    if (unlink(full) != 0)
        ob_debug("could not remove %s", full);
}

typedef struct {
    int64_t id;
    const char *username, *first_name, *last_name, *email, *picture;
} user_row;

/* Looks up a visible user by username and locks the row.  Returns 1, 0
 * (404 answered) or -1 (error answered). */
static int lock_visible_user(ob_request *r, const char *key, user_row *u)
{
    if (!ob_resource_key(r, &users, key)) {
        ob_db_rollback(r->db);
        ob_fail(r, 404, "No User matches the given query.");
        return 0;
    }
    ob_sql_params p = {.n = 0};
    ob_buf sql;
    ob_buf_init(&sql, r->arena);
    ob_buf_puts(&sql, "SELECT t.id, t.username, t.first_name, t.last_name, t.email, t.picture"
                      " FROM users t WHERE ");
    ob_resource_visible_sql(&sql, &p, &users, r);
    ob_buf_printf(&sql, " AND t.username = $%d FOR UPDATE OF t", ob_sql_param(&p, key));
    PGresult *pg = ob_db_query(r->db, r->arena, ob_buf_cstr(&sql), p.n, p.v);
    if (!pg) {
        db_failed(r);
        return -1;
    }
    if (PQntuples(pg) == 0) {
        ob_db_rollback(r->db);
        ob_fail(r, 404, "No User matches the given query.");
        return 0;
    }
    u->id = strtoll(PQgetvalue(pg, 0, 0), NULL, 10);
    u->username = PQgetvalue(pg, 0, 1);
    u->first_name = PQgetvalue(pg, 0, 2);
    u->last_name = PQgetvalue(pg, 0, 3);
    u->email = PQgetvalue(pg, 0, 4);
    u->picture = PQgetvalue(pg, 0, 5);
    return 1;
}

/* change_user / delete_user on user u: rule U, then global grants. */
static int may_change_user(ob_request *r, const char *codename, int64_t uid)
{
    if (is_superuser(r) || (r->user && r->user->id == uid))
        return 1;
    return ob_perm_global(r, APP, codename);
}

static void user_update(ob_request *r, const char *key)
{
    if (ob_db_begin(r->db) != 0) {
        db_failed(r);
        return;
    }
    user_row u;
    if (lock_visible_user(r, key, &u) != 1)
        return;
    if (read_body(r) != 0) {
        ob_db_rollback(r->db);
        return;
    }
    errors e = {.r = r};
    user_input in;
    if (parse_user_input(r, &e, &in, false, u.username, u.first_name, u.last_name, u.email)) {
        db_failed(r);
        return;
    }
    if (e.n) {
        ob_db_rollback(r->db);
        answer_errors(r, &e);
        return;
    }
    int ok = may_change_user(r, "change_user", u.id);
    if (ok < 0) {
        ob_db_rollback(r->db);
        return;
    }
    if (!ok) {
        forbidden(r);
        return;
    }
    const char *old_picture = in.g_pic == GIVEN ? ob_arena_strdup(r->arena, u.picture) : NULL;
    if (apply_user_input(r, &in, u.id) != 0 || ob_db_commit(r->db) != 0) {
        db_failed(r);
        return;
    }
    /* A new password or deactivation ends the user's relay connections
     * (websocket.md §6). */
    if (in.g_pw == GIVEN || (in.g_active == GIVEN && !in.is_active))
        ob_events_revoke_user(r->redis, u.id);
    remove_media(r, old_picture);
    ob_resource_item(r, &users, u.username, &(ob_item_opts){.skip_visibility = true});
}

static void user_delete(ob_request *r, const char *key)
{
    if (ob_db_begin(r->db) != 0) {
        db_failed(r);
        return;
    }
    user_row u;
    if (lock_visible_user(r, key, &u) != 1)
        return;
    int ok = may_change_user(r, "delete_user", u.id);
    if (ok < 0) {
        ob_db_rollback(r->db);
        return;
    }
    if (!ok) {
        forbidden(r);
        return;
    }
    bool me = r->user && r->user->id == u.id;
    const char *picture = ob_arena_strdup(r->arena, u.picture);
    /* Tokens, sessions, addresses and keys go with the row (ON DELETE
     * CASCADE); audit references become NULL (ON DELETE SET NULL). */
    const char *p[] = {id_text(r, u.id)};
    if (!ob_db_query(r->db, r->arena, "DELETE FROM users WHERE id = $1::bigint", 1, p)) {
        db_failed(r);
        return;
    }
    /* A user who deletes themselves is logged out (the cookie goes too). */
    if (me && r->auth_method == OB_AUTH_COOKIE && ob_session_end(r, false) != 0) {
        db_failed(r);
        return;
    }
    if (ob_db_commit(r->db) != 0) {
        db_failed(r);
        return;
    }
    ob_events_revoke_user(r->redis, u.id);
    remove_media(r, picture);
    r->res.status = 204;
    ob_buf_reset(&r->res.body);
}

static void user_create(ob_request *r)
{
    /* Superuser-only addition: the admin gate of permissions.md §9. */
    if (!is_superuser(r)) {
        ob_fail(r, 403, "You do not have permission to perform this action.");
        return;
    }
    if (read_body(r) != 0)
        return;
    errors e = {.r = r};
    const char *username = NULL;
    got gu = get_text(&e, r->json, "username", NAME_MAX_CHARS, false, true, &username);
    if (gu == ABSENT)
        err(&e, "username", "This field is required.");
    if (gu == GIVEN) {
        size_t n = strlen(username);
        if (ob_utf8_count(username, n) < OB_USERNAME_MIN)
            err(&e, "username", "Ensure this field has at least 5 characters.");
        if (!ob_valid_username_chars(username, n))
            err(&e, "username", "Enter a valid username. This value may contain only letters, "
                                "numbers, and @/./+/-/_ characters.");
    }
    if (ob_db_begin(r->db) != 0) {
        db_failed(r);
        return;
    }
    user_input in;
    if (parse_user_input(r, &e, &in, true, username, NULL, NULL, NULL)) {
        db_failed(r);
        return;
    }
    if (e.n) {
        ob_db_rollback(r->db);
        answer_errors(r, &e);
        return;
    }
    /* Last, the rule that looks at other rows: the unique username. */
    int64_t uid = ob_account_create(r->db, r->arena, username, in.email, NULL,
                                    in.g_super == GIVEN && in.is_superuser, true);
    if (uid < 0) {
        db_failed(r);
        return;
    }
    if (uid == 0) {
        ob_db_rollback(r->db);
        err(&e, "username", "A user with that username already exists.");
        answer_errors(r, &e);
        return;
    }
    /* ob_account_create gives superusers is_staff too; the explicit field
     * wins.  The e-mail is already stored; the password goes through the
     * same path as any password change. */
    in.g_email = ABSENT;
    if (in.g_staff != GIVEN) {
        in.g_staff = GIVEN;
        in.is_staff = false;
    }
    if (apply_user_input(r, &in, uid) != 0 || ob_db_commit(r->db) != 0) {
        db_failed(r);
        return;
    }
    ob_resource_item(r, &users, username, &(ob_item_opts){.status = 201, .skip_visibility = true});
}

void ob_api_users(ob_request *r)
{
    if (r->method == OB_POST)
        user_create(r);
    else
        ob_resource_list(r, &users);
}

void ob_api_user(ob_request *r)
{
    const char *key = r->path_params[0];
    switch (r->method) {
    case OB_PUT:
    case OB_PATCH:
        user_update(r, key);
        break;
    case OB_DELETE:
        user_delete(r, key);
        break;
    default:
        ob_resource_retrieve(r, &users);
        break;
    }
}

/* ---- auth tokens ---- */

typedef struct {
    const char *name, *description, *text_format, *start_date, *end_date;
    bool is_active;
    got g_name, g_desc, g_fmt, g_active, g_start, g_end;
} token_input;

static void parse_token_input(ob_request *r, errors *e, token_input *in, bool require_name)
{
    const cJSON *b = r->json;
    memset(in, 0, sizeof *in);
    in->g_name = get_text(e, b, "name", TOKEN_NAME_MAX, false, true, &in->name);
    if (in->g_name == ABSENT && require_name)
        err(e, "name", "This field is required.");
    in->g_desc = get_text(e, b, "description", 0, true, true, &in->description);
    static const char *const formats[] = {"TEXT", "HTML", "MD", NULL};
    in->g_fmt = get_choice(e, b, "text_format", formats, &in->text_format);
    in->g_active = get_bool(e, b, "is_active", &in->is_active);
    in->g_start = get_datetime(e, b, "start_date", &in->start_date);
    in->g_end = get_datetime(e, b, "end_date", &in->end_date);
}

/* [validity]: end after start, on the values as they would be stored.
 * Only checked when every field was valid, as the original does. */
static void check_validity(errors *e, const char *start, long long start_us, const char *end,
                           long long end_us)
{
    if (e->n || !start || !end)
        return;
    if (end_us <= start_us)
        err(e, "non_field_errors", "End date must be later than start date.");
}

/* Rule T for a permission on a token of user `owner`: the global grant,
 * or own token + manage_own_authtoken held globally.  1, 0 or -1. */
static int may_token(ob_request *r, const char *codename, int64_t owner)
{
    int g = ob_perm_global(r, APP, codename);
    if (g != 0)
        return g;
    if (!r->user || r->user->id != owner)
        return 0;
    return ob_perm_global(r, APP, "manage_own_authtoken");
}

static void token_create(ob_request *r)
{
    if (read_body(r) != 0)
        return;
    errors e = {.r = r};
    int64_t owner = r->user->id;
    const char *uname = NULL;
    got gu = get_text(&e, r->json, "user", 0, false, true, &uname);
    if (gu == GIVEN) {
        const char *p[] = {uname};
        PGresult *pg =
            ob_db_query(r->db, r->arena, "SELECT id FROM users WHERE username = $1", 1, p);
        if (!pg) {
            db_failed(r);
            return;
        }
        if (PQntuples(pg) == 0)
            err(&e, "user",
                ob_arena_printf(r->arena, "Object with username=%s does not exist.", uname));
        else
            owner = strtoll(PQgetvalue(pg, 0, 0), NULL, 10);
    }
    token_input in;
    parse_token_input(r, &e, &in, true);
    if (in.g_start == GIVEN && in.g_end == GIVEN && in.start_date && in.end_date)
        check_validity(&e, in.start_date, datetime_us(in.start_date), in.end_date,
                       datetime_us(in.end_date));
    if (e.n) {
        answer_errors(r, &e);
        return;
    }
    int ok = may_token(r, "add_authtoken", owner);
    if (ok < 0)
        return;
    if (!ok) {
        /* permissions.md §6.3: 404 when the requester could not even view
         * the would-be token (someone else's), else 403. */
        int view = may_token(r, "view_authtoken", owner);
        if (view == 0)
            view = ob_perm_global(r, APP, "change_authtoken");
        if (view < 0)
            return;
        if (view)
            ob_fail(r, 403, "You do not have permission to perform this action.");
        else
            ob_fail(r, 404, "No AuthToken matches the given query.");
        return;
    }
    static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    char token[OB_TOKEN_LEN + 1], hash[65], prefix[9];
    ob_random_token(token, OB_TOKEN_LEN, alnum);
    ob_sha256_hex(token, OB_TOKEN_LEN, hash);
    memcpy(prefix, token, 8);
    prefix[8] = '\0';
    const char *me = id_text(r, r->user->id);
    const char *p[] = {
        id_text(r, owner),
        hash,
        prefix,
        in.name,
        in.g_desc == GIVEN ? in.description : "",
        in.g_fmt == GIVEN ? in.text_format : "MD",
        in.g_active == GIVEN && !in.is_active ? "f" : "t",
        in.g_start == GIVEN ? in.start_date : NULL,
        in.g_end == GIVEN ? in.end_date : NULL,
        me,
    };
    PGresult *pg = ob_db_query(
        r->db, r->arena,
        "INSERT INTO auth_tokens (user_id, token_hash, token_prefix, name, description,"
        " text_format, is_active, start_date, end_date, created_by, modified_by)"
        " VALUES ($1::bigint, decode($2, 'hex'), $3, $4, $5, $6, $7::boolean,"
        " $8::timestamptz, $9::timestamptz, $10::bigint, $10::bigint) RETURNING id",
        10, p);
    if (!pg) {
        db_failed(r);
        return;
    }
    const char *id = ob_arena_strdup(r->arena, PQgetvalue(pg, 0, 0));
    /* The only time the full token is shown. */
    ob_resource_item(r, &tokens, id,
                     &(ob_item_opts){.status = 201,
                                     .skip_visibility = true,
                                     .set_field = "token",
                                     .set_value = ob_arena_strdup(r->arena, token)});
    explicit_bzero(token, sizeof token);
}

typedef struct {
    const char *id;
    int64_t owner;
    const char *start, *end; /* normalised, or NULL */
    long long start_us, end_us;
} token_row;

static int lock_visible_token(ob_request *r, const char *key, token_row *t)
{
    const char *k = ob_resource_key(r, &tokens, key);
    if (!k) {
        ob_db_rollback(r->db);
        ob_fail(r, 404, "No AuthToken matches the given query.");
        return 0;
    }
    ob_sql_params p = {.n = 0};
    ob_buf sql;
    ob_buf_init(&sql, r->arena);
    ob_buf_puts(&sql, "SELECT t.id, t.user_id, (extract(epoch FROM t.start_date) * 1000000)::bigint,"
                      " (extract(epoch FROM t.end_date) * 1000000)::bigint FROM ");
    ob_buf_puts(&sql, tokens.from);
    ob_buf_puts(&sql, " WHERE ");
    ob_resource_visible_sql(&sql, &p, &tokens, r);
    ob_buf_printf(&sql, " AND t.id = $%d FOR UPDATE OF t", ob_sql_param(&p, k));
    PGresult *pg = ob_db_query(r->db, r->arena, ob_buf_cstr(&sql), p.n, p.v);
    if (!pg) {
        db_failed(r);
        return -1;
    }
    if (PQntuples(pg) == 0) {
        ob_db_rollback(r->db);
        ob_fail(r, 404, "No AuthToken matches the given query.");
        return 0;
    }
    t->id = PQgetvalue(pg, 0, 0);
    t->owner = strtoll(PQgetvalue(pg, 0, 1), NULL, 10);
    /* Only whether they are set matters here; the values are in _us. */
    t->start = PQgetisnull(pg, 0, 2) ? NULL : "set";
    t->end = PQgetisnull(pg, 0, 3) ? NULL : "set";
    t->start_us = t->start ? strtoll(PQgetvalue(pg, 0, 2), NULL, 10) : 0;
    t->end_us = t->end ? strtoll(PQgetvalue(pg, 0, 3), NULL, 10) : 0;
    return 1;
}

static void token_update(ob_request *r, const char *key)
{
    if (ob_db_begin(r->db) != 0) {
        db_failed(r);
        return;
    }
    token_row t;
    if (lock_visible_token(r, key, &t) != 1)
        return;
    if (read_body(r) != 0) {
        ob_db_rollback(r->db);
        return;
    }
    errors e = {.r = r};
    token_input in;
    /* PUT replaces the writable fields, so the required one must be there. */
    parse_token_input(r, &e, &in, r->method == OB_PUT);
    const char *start = in.g_start == GIVEN ? in.start_date : t.start;
    const char *end = in.g_end == GIVEN ? in.end_date : t.end;
    long long sus = in.g_start == GIVEN ? (start ? datetime_us(start) : 0) : t.start_us;
    long long eus = in.g_end == GIVEN ? (end ? datetime_us(end) : 0) : t.end_us;
    check_validity(&e, start, sus, end, eus);
    if (e.n) {
        ob_db_rollback(r->db);
        answer_errors(r, &e);
        return;
    }
    int ok = may_token(r, "change_authtoken", t.owner);
    if (ok < 0) {
        ob_db_rollback(r->db);
        return;
    }
    if (!ok) {
        forbidden(r);
        return;
    }
    ob_sql_params p = {.n = 0};
    ob_buf sql;
    ob_buf_init(&sql, r->arena);
    int k = ob_sql_param(&p, t.id);
    int me = ob_sql_param(&p, id_text(r, r->user->id));
    ob_buf_printf(&sql, "UPDATE auth_tokens SET modified_by = $%d::bigint, modified_at = now()",
                  me);
    if (in.g_name == GIVEN)
        ob_buf_printf(&sql, ", name = $%d", ob_sql_param(&p, in.name));
    if (in.g_desc == GIVEN)
        ob_buf_printf(&sql, ", description = $%d", ob_sql_param(&p, in.description));
    if (in.g_fmt == GIVEN)
        ob_buf_printf(&sql, ", text_format = $%d", ob_sql_param(&p, in.text_format));
    if (in.g_active == GIVEN)
        ob_buf_printf(&sql, ", is_active = $%d::boolean",
                      ob_sql_param(&p, in.is_active ? "t" : "f"));
    if (in.g_start == GIVEN)
        ob_buf_printf(&sql, ", start_date = $%d::timestamptz", ob_sql_param(&p, in.start_date));
    if (in.g_end == GIVEN)
        ob_buf_printf(&sql, ", end_date = $%d::timestamptz", ob_sql_param(&p, in.end_date));
    ob_buf_printf(&sql, " WHERE id = $%d", k);
    if (!ob_db_query(r->db, r->arena, ob_buf_cstr(&sql), p.n, p.v) || ob_db_commit(r->db) != 0) {
        db_failed(r);
        return;
    }
    ob_resource_item(r, &tokens, t.id, &(ob_item_opts){.skip_visibility = true});
}

static void token_delete(ob_request *r, const char *key)
{
    if (ob_db_begin(r->db) != 0) {
        db_failed(r);
        return;
    }
    token_row t;
    if (lock_visible_token(r, key, &t) != 1)
        return;
    int ok = may_token(r, "delete_authtoken", t.owner);
    if (ok < 0) {
        ob_db_rollback(r->db);
        return;
    }
    if (!ok) {
        forbidden(r);
        return;
    }
    const char *p[] = {t.id};
    if (!ob_db_query(r->db, r->arena, "DELETE FROM auth_tokens WHERE id = $1", 1, p) ||
        ob_db_commit(r->db) != 0) {
        db_failed(r);
        return;
    }
    r->res.status = 204;
    ob_buf_reset(&r->res.body);
}

void ob_api_auth_tokens(ob_request *r)
{
    if (r->method == OB_POST)
        token_create(r);
    else
        ob_resource_list(r, &tokens);
}

void ob_api_auth_token(ob_request *r)
{
    const char *key = r->path_params[0];
    switch (r->method) {
    case OB_PUT:
    case OB_PATCH:
        token_update(r, key);
        break;
    case OB_DELETE:
        token_delete(r, key);
        break;
    default:
        ob_resource_retrieve(r, &tokens);
        break;
    }
}
