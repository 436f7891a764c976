/* api_state.c - what the /auth-api/ handlers share beyond the envelope:
 * session data and stages (api-auth.md §5), logging in, users, one-time
 * keys and the verification mail. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "openbook/auth/account.h"
#include "openbook/core/alloc.h"
#include "openbook/auth/auth_api.h"
#include "openbook/core/config.h"
#include "openbook/db/db.h"
#include "openbook/core/log.h"
#include "openbook/mail/mail.h"
#include "openbook/auth/password.h"
#include "openbook/auth/session.h"

#define KEY_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
#define VERIFY_KEY_TTL (3L * 24 * 3600)

/* ---- once per process ---- */

static char dummy[OB_PASSWORD_HASH_MAX];

/* A real argon2id hash of a random password: unknown users are checked
 * against it so that their answer takes as long as a known user's. */
static const char *dummy_hash(void)
{
    if (!dummy[0]) {
        char pw[33];
        ob_random_token(pw, 32, KEY_CHARS);
        if (ob_password_hash(pw, 32, dummy) != 0)
            snprintf(dummy, sizeof dummy, "%s", ob_password_unusable());
    }
    return dummy;
}

void ob_auth_worker_init(const ob_config *cfg)
{
    static bool done;
    if (done)
        return;
    done = true;
    if (ob_password_load_common(cfg->auth_common_passwords) < 0)
        ob_warn("auth: cannot read the common-password list %s: common passwords are not refused",
                cfg->auth_common_passwords);
    dummy_hash();
}

/* ---- session data and stages ---- */

cJSON *ob_authapi_stage(ob_authapi *a, const char *id)
{
    cJSON *st = cJSON_GetObjectItemCaseSensitive(a->data, "stage");
    const cJSON *sid = cJSON_GetObjectItemCaseSensitive(st, "id");
    const cJSON *at = cJSON_GetObjectItemCaseSensitive(st, "at");
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(st, "expires");
    if (!cJSON_IsString(sid) || strcmp(sid->valuestring, id) != 0 || !cJSON_IsNumber(at))
        return NULL;
    if (a->now - at->valuedouble > (double)a->r->cfg->auth_login_timeout)
        return NULL;
    if (cJSON_IsNumber(exp) && a->now > exp->valuedouble)
        return NULL;
    return st;
}

void ob_authapi_set_stage(ob_authapi *a, cJSON *stage)
{
    cJSON_DeleteItemFromObjectCaseSensitive(a->data, "stage");
    if (stage)
        cJSON_AddItemToObject(a->data, "stage", stage);
}

cJSON *ob_authapi_new_stage(ob_authapi *a, const char *id, int64_t user_id)
{
    cJSON *st = cJSON_CreateObject();
    cJSON_AddStringToObject(st, "id", id);
    cJSON_AddNumberToObject(st, "at", a->now);
    if (user_id > 0)
        cJSON_AddNumberToObject(st, "user_id", (double)user_id);
    else
        cJSON_AddNullToObject(st, "user_id");
    return st;
}

static char *print_data(ob_authapi *a)
{
    return cJSON_PrintUnformatted(a->data); /* never NULL (alloc.h) */
}

int ob_authapi_save(ob_authapi *a)
{
    char *txt = print_data(a);
    int rc = a->r->session ? ob_session_save(a->r, txt) : ob_session_start(a->r, 0, txt, a->app);
    cJSON_free(txt);
    return rc;
}

static int start_session(ob_authapi *a, int64_t user_id)
{
    char *txt = print_data(a);
    int rc = ob_session_start(a->r, user_id, txt, a->app);
    cJSON_free(txt);
    return rc;
}

cJSON *ob_authapi_method(ob_authapi *a, const char *method)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "method", method);
    cJSON_AddNumberToObject(m, "at", a->now);
    return m;
}

static int user_query(ob_authapi *a, const char *sql, int64_t user_id)
{
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", (long long)user_id);
    const char *p[] = {uid};
    return ob_db_query(a->r->db, a->r->arena, sql, 1, p) ? 0 : -1;
}

int ob_authapi_login(ob_authapi *a, ob_user *u, cJSON *method)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(d, "methods"), method);
    cJSON_Delete(a->data);
    a->data = d; /* stages end with the login */
    if (start_session(a, u->id) != 0 ||
        user_query(a, "UPDATE users SET last_login = now() WHERE id = $1::bigint", u->id) != 0 ||
        user_query(a, "DELETE FROM auth_keys WHERE user_id = $1::bigint AND kind = 'reset'",
                   u->id) != 0)
        return -1;
    a->user = u;
    a->rotate_csrf = true;
    return 0;
}

int ob_authapi_rekey(ob_authapi *a, cJSON *method)
{
    cJSON *ms = cJSON_GetObjectItemCaseSensitive(a->data, "methods");
    if (!cJSON_IsArray(ms)) {
        cJSON_DeleteItemFromObjectCaseSensitive(a->data, "methods");
        ms = cJSON_AddArrayToObject(a->data, "methods");
    }
    if (method)
        cJSON_AddItemToArray(ms, method);
    ob_authapi_set_stage(a, NULL);
    return start_session(a, a->user->id);
}

bool ob_authapi_recent(ob_authapi *a)
{
    double last = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(a->data, "methods"))
    {
        const cJSON *at = cJSON_GetObjectItemCaseSensitive(m, "at");
        if (cJSON_IsNumber(at) && at->valuedouble > last)
            last = at->valuedouble;
    }
    return a->now - last <= (double)a->r->cfg->auth_reauthentication_timeout;
}

/* ---- users ---- */

#define USER_COLS                                                                        \
    "u.id, u.username, u.email, u.first_name, u.last_name, u.password, u.is_active, "   \
    "u.is_staff, u.is_superuser, u.user_type"

ob_user *ob_authapi_user_where(ob_authapi *a, const char *where, const char *param, bool *err)
{
    ob_arena *ar = a->r->arena;
    const char *sql =
        ob_arena_printf(ar, "SELECT " USER_COLS " FROM users u WHERE %s ORDER BY u.id LIMIT 1", where);
    const char *p[] = {param};
    PGresult *res = ob_db_query(a->r->db, ar, sql, 1, p);
    if (!res) {
        *err = true;
        return NULL;
    }
    if (PQntuples(res) == 0)
        return NULL;
    ob_user *u = ob_arena_calloc(ar, 1, sizeof *u);
    u->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    u->username = ob_arena_strdup(ar, PQgetvalue(res, 0, 1));
    u->email = ob_arena_strdup(ar, PQgetvalue(res, 0, 2));
    u->first_name = ob_arena_strdup(ar, PQgetvalue(res, 0, 3));
    u->last_name = ob_arena_strdup(ar, PQgetvalue(res, 0, 4));
    u->password_hash = ob_arena_strdup(ar, PQgetvalue(res, 0, 5));
    u->is_active = PQgetvalue(res, 0, 6)[0] == 't';
    u->is_staff = PQgetvalue(res, 0, 7)[0] == 't';
    u->is_superuser = PQgetvalue(res, 0, 8)[0] == 't';
    u->user_type = ob_arena_strdup(ar, PQgetvalue(res, 0, 9));
    return u;
}

ob_user *ob_authapi_user_by_id(ob_authapi *a, int64_t id, bool *err)
{
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", (long long)id);
    return ob_authapi_user_where(a, "u.id = $1::bigint", uid, err);
}

bool ob_authapi_verify_password(const ob_user *u, const char *pw, bool *needs_rehash)
{
    bool usable = u && ob_password_usable(u->password_hash);
    bool ok = ob_password_verify(pw, strlen(pw), usable ? u->password_hash : dummy_hash(),
                                 needs_rehash);
    return ok && usable;
}

int ob_authapi_set_password(ob_authapi *a, int64_t user_id, const char *pw)
{
    return ob_account_set_password(a->r->db, a->r->arena, user_id, pw);
}

const char *ob_authapi_user_key(ob_authapi *a)
{
    return ob_arena_printf(a->r->arena, "user:%lld", (long long)(a->user ? a->user->id : 0));
}

/* ---- keys and mail ---- */

int ob_authapi_new_key(ob_authapi *a, const char *kind, int64_t user_id, const char *email,
                       long ttl_seconds, char out[33])
{
    char hash[65], uid[24], ttl[24];
    ob_random_token(out, 32, KEY_CHARS);
    ob_sha256_hex(out, 32, hash);
    snprintf(uid, sizeof uid, "%lld", (long long)user_id);
    snprintf(ttl, sizeof ttl, "%ld", ttl_seconds);
    const char *p[] = {hash, kind, user_id > 0 ? uid : NULL, email ? email : "", ttl};
    return ob_db_query(a->r->db, a->r->arena,
                       "INSERT INTO auth_keys (key_hash, kind, user_id, email, expires_at) VALUES "
                       "(decode($1, 'hex'), $2, $3::bigint, $4, "
                       "now() + make_interval(secs => $5::bigint))",
                       5, p)
               ? 0
               : -1;
}

int ob_authapi_send_verification(ob_authapi *a, int64_t user_id, const char *username,
                                 const char *email, bool cooldown)
{
    char uid[24], cd[24];
    snprintf(uid, sizeof uid, "%lld", (long long)user_id);
    snprintf(cd, sizeof cd, "%ld", a->r->cfg->auth_verification_cooldown);
    const char *p[] = {uid, email, cooldown ? "t" : "f", cd};
    /* Claims the send in one statement, so two concurrent requests cannot
     * both pass the cooldown. */
    PGresult *res = ob_db_query(
        a->r->db, a->r->arena,
        "UPDATE email_addresses SET last_sent_at = now() "
        "WHERE user_id = $1::bigint AND email = $2 AND NOT verified AND (NOT $3::boolean "
        "OR last_sent_at IS NULL OR last_sent_at <= now() - make_interval(secs => $4::bigint)) "
        "RETURNING id",
        4, p);
    if (!res)
        return -1;
    if (PQntuples(res) == 0)
        return 0;
    char key[33];
    if (ob_authapi_new_key(a, "verify", user_id, email, VERIFY_KEY_TTL, key) != 0)
        return -1;
    ob_mail_vars v = {.username = username, .key = key};
    return ob_mail_enqueue(a->r, OB_MAIL_VERIFY, email, &v) == 0 ? 1 : -1;
}

int ob_authapi_signup_config(ob_authapi *a, bool *open, const char **suffix)
{
    if (!a->signup_loaded) {
        char site[24];
        snprintf(site, sizeof site, "%ld", a->r->cfg->site_id);
        const char *p[] = {site};
        PGresult *res = ob_db_query(a->r->db, a->r->arena,
                                    "SELECT local_signup_allowed, btrim(signup_email_suffix) "
                                    "FROM auth_configs WHERE site_id = $1::integer",
                                    1, p);
        if (!res)
            return -1;
        bool found = PQntuples(res) > 0;
        a->signup_open = !found || PQgetvalue(res, 0, 0)[0] == 't';
        a->signup_suffix = ob_arena_strdup(a->r->arena, found ? PQgetvalue(res, 0, 1) : "");
        a->signup_loaded = 1;
    }
    *open = a->signup_open;
    *suffix = a->signup_suffix;
    return 0;
}

/* ---- e-mail addresses ---- */

static int run(ob_authapi *a, const char *sql, int n, const char *const *p)
{
    return ob_db_query(a->r->db, a->r->arena, sql, n, p) ? 0 : -1;
}

int ob_authapi_mark_verified(ob_authapi *a, int64_t user_id, const char *email)
{
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", (long long)user_id);
    const char *p[] = {uid, email};
    PGresult *res = ob_db_query(a->r->db, a->r->arena,
                                "SELECT 1 FROM email_addresses WHERE lower(email) = lower($2) "
                                "AND verified AND user_id <> $1::bigint",
                                2, p);
    if (!res)
        return -1;
    if (PQntuples(res))
        return 1;
    /* A verification committed since that check fails the first statement
     * on the unique index, which is the same answer. */
    if (run(a,
            "INSERT INTO email_addresses (user_id, email, verified, is_primary) "
            "VALUES ($1::bigint, $2, true, NOT EXISTS (SELECT 1 FROM email_addresses "
            "WHERE user_id = $1::bigint AND is_primary)) "
            "ON CONFLICT (user_id, email) DO UPDATE SET verified = true",
            2, p) != 0)
        return ob_account_email_taken(a->r->db) ? 1 : -1;
    if (run(a,
            "UPDATE email_addresses SET is_primary = true WHERE user_id = $1::bigint AND email = $2 "
            "AND NOT EXISTS (SELECT 1 FROM email_addresses WHERE user_id = $1::bigint AND is_primary)",
            2, p) != 0 ||
        run(a,
            "UPDATE users SET email = $2 WHERE id = $1::bigint AND EXISTS (SELECT 1 FROM "
            "email_addresses WHERE user_id = $1::bigint AND email = $2 AND is_primary)",
            2, p) != 0)
        return -1;
    return run(a, "DELETE FROM auth_keys WHERE kind = 'verify' AND user_id = $1::bigint AND email = $2",
               2, p);
}

const char *ob_authapi_verification_address(ob_authapi *a, const ob_user *u, bool *err)
{
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", (long long)u->id);
    const char *p[] = {uid};
    PGresult *res = ob_db_query(a->r->db, a->r->arena,
                                "SELECT email FROM email_addresses WHERE user_id = $1::bigint "
                                "ORDER BY is_primary DESC, id LIMIT 1",
                                1, p);
    if (!res) {
        *err = true;
        return NULL;
    }
    if (PQntuples(res))
        return ob_arena_strdup(a->r->arena, PQgetvalue(res, 0, 0));
    if (!u->email || !*u->email)
        return NULL;
    /* An account from the original server may have no address rows. */
    const char *mail = ob_arena_strdup_lower(a->r->arena, u->email);
    const char *q[] = {uid, mail};
    if (run(a,
            "INSERT INTO email_addresses (user_id, email, verified, is_primary) "
            "VALUES ($1::bigint, $2, false, true) ON CONFLICT DO NOTHING",
            2, q) != 0) {
        *err = true;
        return NULL;
    }
    return mail;
}

int ob_authapi_email_verified(ob_authapi *a, int64_t user_id)
{
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", (long long)user_id);
    const char *p[] = {uid};
    PGresult *res = ob_db_query(
        a->r->db, a->r->arena,
        "SELECT COALESCE(bool_or(verified) FILTER (WHERE is_primary), bool_or(verified), false) "
        "FROM email_addresses WHERE user_id = $1::bigint",
        1, p);
    if (!res)
        return -1;
    return PQgetvalue(res, 0, 0)[0] == 't';
}
