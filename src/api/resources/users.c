/* users.c - /api/auth/current_user/, /api/auth/users/ and
 * /api/auth/auth_tokens/ (api-resources.md; permissions.md rules U and T).
 *
 * Described like every other resource and served by the generic engine
 * (read.c, write.c); the hooks here add what is particular
 * to accounts: the password (checked against the user's names, hashed,
 * other sessions ended), the primary e-mail address, the picture file,
 * and the token that is shown once. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "openbook/auth/account.h"
#include "openbook/auth/auth.h"
#include "openbook/db/db.h"
#include "openbook/auth/password.h"
#include "openbook/api/resource.h"
#include "openbook/api/resources.h"
#include "openbook/auth/session.h"
#include "openbook/http/validate.h"

#define APP "openbook_auth"
#define NAME_MAX_CHARS OB_USERNAME_MAX

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

static const char *const user_types[] = {"human", "app", NULL};

/* Admin fields are writable by superusers only (for everyone else they
 * are read-only, so ignored); in the order they are validated. */
static int password_check(ob_write *w, const ob_wfield *f, ob_wvalue *v);

/* Pictures: openbook_auth/User/<username>/<name> (api-conventions.md §13). */
static const char *picture_dir(ob_write *w, const ob_wfield *f)
{
    (void)f;
    const ob_wvalue *name = ob_write_value(w, "username");
    return ob_write_upload_dir(w, "openbook_auth/User",
                               w->create ? name->text : ob_write_stored(w, "username"));
}

static const ob_wfield user_wfields[] = {
    {.name = "username", .kind = OB_W_TEXT, .column = "username",
     .flags = OB_WF_REQUIRED | OB_WF_CREATE_ONLY, .max_len = OB_USERNAME_MAX,
     .min_len = OB_USERNAME_MIN, .format = OB_FMT_USERNAME},
    {.name = "first_name", .kind = OB_W_TEXT, .column = "first_name", .flags = OB_WF_BLANK,
     .max_len = OB_USERNAME_MAX},
    {.name = "last_name", .kind = OB_W_TEXT, .column = "last_name", .flags = OB_WF_BLANK,
     .max_len = OB_USERNAME_MAX},
    {.name = "description", .kind = OB_W_TEXT, .column = "description", .flags = OB_WF_BLANK},
    {.name = "picture", .kind = OB_W_FILE, .column = "picture", .flags = OB_WF_BLANK,
     .upload_dir = picture_dir},
    /* Stored lower-case (before_save), as sign-up stores it. */
    {.name = "email", .kind = OB_W_TEXT, .column = "email",
     .flags = OB_WF_REQUIRED | OB_WF_UPDATE_OPTIONAL | OB_WF_SUPERUSER, .max_len = OB_EMAIL_MAX,
     .format = OB_FMT_EMAIL},
    {.name = "user_type", .kind = OB_W_TEXT, .column = "user_type", .flags = OB_WF_SUPERUSER,
     .choices = user_types},
    {.name = "is_active", .kind = OB_W_BOOL, .column = "is_active", .flags = OB_WF_SUPERUSER},
    {.name = "is_staff", .kind = OB_W_BOOL, .column = "is_staff", .flags = OB_WF_SUPERUSER},
    {.name = "is_superuser", .kind = OB_W_BOOL, .column = "is_superuser",
     .flags = OB_WF_SUPERUSER},
    {.name = "groups", .kind = OB_W_GROUP_LIST, .flags = OB_WF_SUPERUSER,
     .m2m_table = "user_groups", .m2m_self = "user_id", .m2m_other = "group_id"},
    {.name = "user_permissions", .kind = OB_W_PERM_LIST, .flags = OB_WF_SUPERUSER,
     .m2m_table = "user_permissions", .m2m_self = "user_id", .m2m_other = "permission_id"},
    /* Taken exactly as typed; hashed by after_save. */
    {.name = "password", .kind = OB_W_TEXT,
     .flags = OB_WF_SUPERUSER | OB_WF_WRITE_ONLY | OB_WF_NO_TRIM, .check = password_check},
};

static const ob_unique user_uniques[] = {
    {"users_username_lower", "username", "A user with that username already exists."},
    /* One verified owner per address (migration 0006, api-auth.md §8). */
    {"email_addresses_verified_email", "email",
     "A user is already registered with this email address."},
};

static int user_before_save(ob_write *w);
static int user_after_save(ob_write *w);
static int user_before_delete(ob_write *w);

/* The rows of users as both users and the public shape read them, keyed
 * by the username (references store the id); rule U: every user sees
 * themselves, global view_user (or change_user) shows all, inactive users
 * only superusers. */
#define USER_ROWS(fields_)                                                                 \
    .app_label = APP, .model = "user", .class_name = "User", .from = "users t",            \
    .pk = &(fields_)[1], .pk_max_len = NAME_MAX_CHARS * 4, .fields = (fields_),            \
    .nfields = N(fields_), .default_order = "t.username", .guard = OB_GUARD_SELF,          \
    .self_sql = "t.id", .restrict_sql = "t.is_active", .ref_sql = "t.id", .ref_type = "bigint"

/* Rule U: every user sees themselves; global view_user (or change_user)
 * shows all; inactive users only to superusers.  Creating a user is
 * superuser-only (the admin gate of permissions.md §9); changing and
 * deleting follow rule U. */
const ob_resource ob_res_users = {
    USER_ROWS(user_fields),
    .path = "/api/auth/users/",
    .summary = "User accounts; the admin fields exist for superusers only.",
    .ops = OB_CAN_ALL,
    .write_gate = OB_ADMIN_SUPERUSER,
    .gate_ops = OB_CAN_CREATE,
    .table = "users",
    .pk_column = "id",
    .wfields = user_wfields,
    .nwfields = N(user_wfields),
    .uniques = user_uniques,
    .nuniques = N(user_uniques),
    .before_save = user_before_save,
    .after_save = user_after_save,
    .before_delete = user_before_delete,
};

/* What a reference to a user expands to. */
const ob_resource ob_res_users_public = {
    .kind = OB_RES_SHAPE,
    .schema_name = "UserPublic",
    .shape_of = &ob_res_users,
    .summary = "The public user shape: what a user reference expands to.",
    USER_ROWS(user_public_fields),
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

static void current_user(ob_request *r);

/* The requester; {"is_authenticated": false} when anonymous. */
const ob_resource ob_res_current_user = {
    .kind = OB_RES_SINGLE,
    .path = "/api/auth/current_user/",
    .access = OB_ANON,
    .list = current_user,
    .schema_name = "CurrentUser",
    .summary = "The requester; {\"is_authenticated\": false} when anonymous.",
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
    OB_AUDIT_FIELDS,
};

static const ob_field_ref token_refs[] = {
    {.field = "user", .sort_sql = "t.user_id", .expand = &ob_res_users_public, .key_sql = "t.user_id"},
    OB_AUDIT_REFS(&ob_res_users_public),
};

static const ob_wfield token_wfields[] = {
    /* Absent: the requester's own token. */
    {.name = "user", .kind = OB_W_USER, .column = "user_id",
     .flags = OB_WF_CREATE_ONLY | OB_WF_DEFAULT_REQUESTER},
    OB_TEXT_WFIELDS,
    {.name = "is_active", .kind = OB_W_BOOL, .column = "is_active"},
    {.name = "start_date", .kind = OB_W_DATETIME, .column = "start_date", .flags = OB_WF_NULL},
    {.name = "end_date", .kind = OB_W_DATETIME, .column = "end_date", .flags = OB_WF_NULL},
};

static int token_before_save(ob_write *w);

/* Rule T: own tokens with manage_own_authtoken held globally; global
 * view/change_authtoken shows every token. */
/* the token exists in the answer of the create only. */
static const ob_field_note token_notes[] = {
    {.name = "user", .flags = OB_NOTE_NOT_NULLABLE},
    {.name = "token", .flags = OB_NOTE_SHOWN_ONCE | OB_NOTE_NULLABLE},
};

const ob_resource ob_res_auth_tokens = {
    .path = "/api/auth/auth_tokens/",
    .summary = "API tokens; the token itself is shown once, in the answer of the create.",
    .notes = token_notes,
    .nnotes = N(token_notes),
    .app_label = APP,
    .model = "authtoken",
    .class_name = "AuthToken",
    .from = "auth_tokens t JOIN users tu ON tu.id = t.user_id" OB_AUDIT_JOINS,
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
    .ops = OB_CAN_ALL,
    .table = "auth_tokens",
    .audit = true,
    .wfields = token_wfields,
    .nwfields = N(token_wfields),
    .user_field = "user",
    .validate = ob_write_check_dates,
    .before_save = token_before_save,
};

/* ---- current_user ---- */

static void current_user(ob_request *r)
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
    ob_resource_item(r, &ob_res_current_user, ob_arena_printf(r->arena, "%lld", (long long)r->user->id),
                     &o);
}

/* ---- users: the hooks ---- */

/* A field of the user as the write leaves it: the given value, else the
 * stored one (NULL on create). */
static const char *user_attr(ob_write *w, const char *name)
{
    const ob_wvalue *v = ob_write_value(w, name);
    return v->state == OB_WV_GIVEN ? v->text : ob_write_stored(w, name);
}

static void password_report(void *ctx, const char *code, const char *message)
{
    (void)code;
    ob_write *w = ctx;
    ob_write_error(w, "password", ob_arena_strdup(w->r->arena, message));
}

/* api-auth.md §6: the password rules, against the user's own names. */
static int password_check(ob_write *w, const ob_wfield *f, ob_wvalue *v)
{
    (void)f;
    const char *similar[4] = {user_attr(w, "username"), user_attr(w, "first_name"),
                              user_attr(w, "last_name"), user_attr(w, "email")};
    if (ob_password_check(v->text, strlen(v->text), similar, password_report, w) != 0)
        v->state = OB_WV_INVALID;
    return 0;
}

static const char *lower(ob_arena *a, const char *s)
{
    char *out = ob_arena_strdup(a, s);
    for (char *c = out; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    return out;
}

static int user_before_save(ob_write *w)
{
    const ob_wvalue *email = ob_write_value(w, "email");
    if (email->state == OB_WV_GIVEN)
        ob_write_set(w, "email", lower(w->r->arena, email->text), NULL);
    /* (A new picture, or none, replaces the old file once committed: the
     * write engine's ob_write_publish_files.) */
    return 0;
}

/* The primary address, the password and the sessions, in the write's
 * transaction. */
static int user_after_save(ob_write *w)
{
    ob_request *r = w->r;
    int64_t uid = strtoll(w->new_key, NULL, 10);
    const ob_wvalue *email = ob_write_value(w, "email");
    if (email->state == OB_WV_GIVEN) {
        /* An address set by a superuser is the verified primary one. */
        const char *ep[] = {w->new_key, lower(r->arena, email->text)};
        if (!ob_db_query(r->db, r->arena,
                         "UPDATE email_addresses SET is_primary = false"
                         " WHERE user_id = $1::bigint AND is_primary AND email <> $2",
                         2, ep) ||
            !ob_db_query(r->db, r->arena,
                         "INSERT INTO email_addresses (user_id, email, verified, is_primary)"
                         " VALUES ($1::bigint, $2, true, true) ON CONFLICT (user_id, email)"
                         " DO UPDATE SET verified = true, is_primary = true",
                         2, ep))
            goto fail;
    }
    const ob_wvalue *pw = ob_write_value(w, "password");
    if (pw->state == OB_WV_GIVEN) {
        /* Other sessions end; the requester's own stays if it is theirs. */
        bool me = r->user && r->user->id == uid;
        if (ob_account_set_password(r->db, r->arena, uid, pw->text) != 0 ||
            ob_session_end_all(r, uid, me) != 0)
            goto fail;
    }
    const ob_wvalue *active = ob_write_value(w, "is_active");
    bool deactivated = active->state == OB_WV_GIVEN && !active->num;
    if (deactivated && ob_session_end_all(r, uid, false) != 0)
        goto fail;
    /* A new password or deactivation ends the user's relay connections
     * (websocket.md §6). */
    if (!w->create && (pw->state == OB_WV_GIVEN || deactivated))
        ob_write_revoke(w, uid);
    return 0;
fail:
    ob_write_db_error(w);
    return -1;
}

/* Tokens, sessions, addresses and keys go with the row (ON DELETE
 * CASCADE); audit references become NULL (ON DELETE SET NULL). */
static int user_before_delete(ob_write *w)
{
    ob_request *r = w->r;
    int64_t uid = strtoll(w->key, NULL, 10);
    /* A user who deletes themselves is logged out (the cookie goes too). */
    if (r->user && r->user->id == uid && r->auth_method == OB_AUTH_COOKIE &&
        ob_session_end(r, false) != 0) {
        ob_write_db_error(w);
        return -1;
    }
    ob_write_revoke(w, uid);
    ob_write_remove_file(w, ob_write_stored(w, "picture"));
    return 0;
}

/* ---- auth tokens: the hook ---- */

/* A new token: 64 random characters, stored as their SHA-256 with the
 * first eight as a prefix; the answer of the create shows it once. */
static int token_before_save(ob_write *w)
{
    if (!w->create)
        return 0;
    static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    char *token = ob_arena_alloc(w->r->arena, OB_TOKEN_LEN + 1);
    char hash[65];
    ob_random_token(token, OB_TOKEN_LEN, alnum);
    token[OB_TOKEN_LEN] = '\0';
    ob_sha256_hex(token, OB_TOKEN_LEN, hash);
    ob_write_set(w, "token_hash", ob_arena_printf(w->r->arena, "\\x%s", hash), "bytea");
    ob_write_set(w, "token_prefix", ob_arena_strndup(w->r->arena, token, 8), NULL);
    w->show_field = "token";
    w->show_value = token;
    return 0;
}
