/* api_signup.c - sign-up and e-mail verification (api-auth.md §4.3-§4.6,
 * §6). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cjson/cJSON.h>
#include <sodium.h>
#include "openbook/auth/account.h"
#include "openbook/auth/auth_api.h"
#include "openbook/core/config.h"
#include "openbook/db/db.h"
#include "openbook/mail/mail.h"
#include "openbook/auth/password.h"
#include "openbook/auth/ratelimit.h"
#include "openbook/http/validate.h"

#define KEY_MAX 256

/* ---- POST /auth/signup ---- */

static bool blacklisted(const char *username)
{
    static const char *const names[] = {"admin", "administrator", "root", "superuser"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strcasecmp(username, names[i]) == 0)
            return true;
    return false;
}

/* Format rules of the username; the uniqueness check comes after. */
static bool check_username(ob_authapi *a, const char *u)
{
    size_t n = ob_utf8_count(u, strlen(u));
    const char *code = NULL, *msg = NULL;
    if (n < OB_USERNAME_MIN) {
        code = "min_length";
        msg = ob_arena_printf(a->r->arena, ob_authapi_msg(a, "min_length"), (long)OB_USERNAME_MIN,
                              (long)n);
    } else if (!ob_valid_username_chars(u, strlen(u))) {
        code = "invalid";
        msg = ob_authapi_msg(a, "username_invalid");
    } else if (blacklisted(u)) {
        code = "username_blacklisted";
        msg = ob_authapi_msg(a, code);
    }
    if (code)
        ob_authapi_add_error(a, code, "username", msg);
    return code == NULL;
}

static bool ends_with_ci(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static void check_email(ob_authapi *a, const char *email, const char *suffix)
{
    if (!ob_valid_email(email, strlen(email)))
        ob_authapi_add_error(a, "invalid", "email", ob_authapi_msg(a, "email_invalid"));
    else if (*suffix && !ends_with_ci(email, suffix))
        ob_authapi_add_error(a, "invalid", "email",
                             ob_arena_printf(a->r->arena, ob_authapi_msg(a, "email_suffix"), suffix));
}

/* Validates the three fields; returns 0, 1 (errors added) or -1 (db). */
static int signup_input(ob_authapi *a, const char *suffix, const char **username,
                        const char **email, const char **password)
{
    ob_authapi_string(a, "username", OB_USERNAME_MAX, OB_FIELD_TRIM | OB_FIELD_REQUIRED, username);
    ob_authapi_string(a, "email", OB_EMAIL_MAX, OB_FIELD_TRIM | OB_FIELD_REQUIRED, email);
    ob_authapi_string(a, "password", OB_PASSWORD_MAX, OB_FIELD_REQUIRED, password);
    if (*username && check_username(a, *username)) {
        int64_t id = ob_account_find(a->r->db, a->r->arena, *username);
        if (id < 0)
            return -1;
        if (id > 0)
            ob_authapi_add_error(a, "username_taken", "username", ob_authapi_msg(a, "username_taken"));
    }
    if (*email)
        check_email(a, *email, suffix);
    if (*password) {
        const char *similar[4] = {*username, NULL, NULL, *email};
        ob_authapi_password_rules(a, "password", *password, similar);
    }
    return a->nerrors ? 1 : 0;
}

static int email_in_use(ob_authapi *a, const char *email)
{
    const char *p[] = {email};
    PGresult *res = ob_db_query(a->r->db, a->r->arena,
                                "SELECT EXISTS (SELECT 1 FROM users WHERE lower(email) = $1) OR "
                                "EXISTS (SELECT 1 FROM email_addresses WHERE lower(email) = $1)",
                                1, p);
    if (!res)
        return -1;
    return PQgetvalue(res, 0, 0)[0] == 't';
}

static int apply_signup_groups(ob_authapi *a, int64_t user_id)
{
    char uid[24], site[24];
    snprintf(uid, sizeof uid, "%lld", (long long)user_id);
    snprintf(site, sizeof site, "%ld", a->r->cfg->site_id);
    const char *p[] = {uid, site};
    return ob_db_query(a->r->db, a->r->arena,
                       "INSERT INTO user_groups (user_id, group_id) "
                       "SELECT DISTINCT $1::bigint, g.group_id FROM signup_group_assignment_groups g "
                       "JOIN signup_group_assignments s ON s.id = g.assignment_id "
                       "WHERE s.is_active AND s.social_app IS NULL "
                       "AND (s.site_id IS NULL OR s.site_id = $2::integer) "
                       "ON CONFLICT DO NOTHING",
                       2, p)
               ? 0
               : -1;
}

/* Creates the account; returns 0, 1 (username taken meanwhile) or -1. */
static int signup_create(ob_authapi *a, const char *username, const char *email,
                         const char *password)
{
    int64_t id = ob_account_create(a->r->db, a->r->arena, username, email, password, false, false);
    if (id <= 0)
        return id == 0 ? 1 : -1;
    if (apply_signup_groups(a, id) != 0 ||
        ob_authapi_send_verification(a, id, username, email, false) < 0)
        return -1;
    cJSON *st = ob_authapi_new_stage(a, "verify_email", id);
    cJSON_AddStringToObject(st, "username", username);
    ob_authapi_set_stage(a, st);
    return 0;
}

/* An existing address: nothing is created, the owner gets a mail, and the
 * answer looks exactly like a successful sign-up, in time too: the
 * password is hashed as for a new account (argon2id is nearly all of a
 * sign-up's time), and the hash is thrown away. */
static int signup_existing(ob_authapi *a, const char *email, const char *password)
{
    char hash[OB_PASSWORD_HASH_MAX];
    if (ob_password_hash(password, strlen(password), hash) != 0)
        return -1;
    sodium_memzero(hash, sizeof hash);
    ob_mail_vars v = {0};
    if (ob_mail_enqueue(a->r, OB_MAIL_ACCOUNT_EXISTS, email, &v) != 0)
        return -1;
    ob_authapi_set_stage(a, ob_authapi_new_stage(a, "verify_email", 0));
    return 0;
}

static void signup_write(ob_authapi *a, const char *username, const char *email,
                         const char *password)
{
    ob_request *r = a->r;
    int used = email_in_use(a, email);
    if (used < 0 || ob_db_begin(r->db) != 0) {
        ob_authapi_db_failure(a);
        return;
    }
    int rc = used ? signup_existing(a, email, password) : signup_create(a, username, email, password);
    if (rc == 1) {
        ob_db_rollback(r->db);
        ob_authapi_fail(a, "username_taken", "username");
        return;
    }
    if (rc != 0 || ob_authapi_save(a) != 0 || ob_db_commit(r->db) != 0) {
        ob_authapi_db_failure(a);
        return;
    }
    ob_authapi_unauthenticated(a);
}

void ob_authapi_signup(ob_request *r)
{
    ob_authapi *a = ob_authapi_begin(r);
    bool open;
    const char *suffix;
    if (a->user) {
        ob_authapi_status(a, 409);
        return;
    }
    if (ob_authapi_signup_config(a, &open, &suffix) != 0) {
        ob_authapi_db_failure(a);
        return;
    }
    if (!open) {
        ob_authapi_status(a, 403);
        return;
    }
    long wait = ob_ratelimit_hit(r, &ob_rate_signup_ip, ob_ratelimit_client(r));
    if (wait) {
        ob_authapi_throttled(a, wait);
        return;
    }
    if (ob_authapi_read_body(a) != 0)
        return;
    const char *username, *email, *password;
    int rc = signup_input(a, suffix, &username, &email, &password);
    if (rc < 0)
        ob_authapi_db_failure(a);
    else if (rc > 0)
        ob_authapi_errors(a);
    else
        signup_write(a, username, ob_authapi_lower(a, email), password);
}

/* ---- e-mail verification keys ---- */

typedef struct {
    int64_t user_id;
    const char *email;
} verify_key;

/* A live key for an address that is not verified yet.  Returns 1, 0
 * (invalid), -1 (db). */
static int verify_lookup(ob_authapi *a, const char *key, verify_key *out)
{
    char hash[65];
    ob_sha256_hex(key, strlen(key), hash);
    const char *p[] = {hash};
    PGresult *res = ob_db_query(
        a->r->db, a->r->arena,
        "SELECT k.user_id, k.email FROM auth_keys k JOIN email_addresses e "
        "ON e.user_id = k.user_id AND e.email = k.email "
        "WHERE k.key_hash = decode($1, 'hex') AND k.kind = 'verify' AND k.expires_at > now() "
        "AND NOT e.verified",
        1, p);
    if (!res)
        return -1;
    if (PQntuples(res) == 0)
        return 0;
    out->user_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    out->email = ob_arena_strdup(a->r->arena, PQgetvalue(res, 0, 1));
    return 1;
}

static bool stage_for(ob_authapi *a, int64_t user_id)
{
    const cJSON *st = ob_authapi_stage(a, "verify_email");
    const cJSON *uid = cJSON_GetObjectItemCaseSensitive(st, "user_id");
    return cJSON_IsNumber(uid) && (int64_t)uid->valuedouble == user_id;
}

void ob_authapi_verify_get(ob_request *r)
{
    ob_authapi *a = ob_authapi_begin(r);
    const char *key = ob_authapi_header(a, "HTTP_X_EMAIL_VERIFICATION_KEY", KEY_MAX);
    verify_key k;
    bool err = false;
    int found = key ? verify_lookup(a, key, &k) : 0;
    ob_user *u = found > 0 ? ob_authapi_user_by_id(a, k.user_id, &err) : NULL;
    if (found < 0 || err) {
        ob_authapi_db_failure(a);
        return;
    }
    if (!u) {
        ob_authapi_fail(a, "invalid_or_expired_key", "key");
        return;
    }
    ob_json *j = ob_authapi_body(a, 200);
    ob_json_key(j, "data");
    ob_json_object_begin(j);
    ob_json_kv_string(j, "email", k.email);
    ob_json_key(j, "user");
    ob_authapi_write_user(a, j, u);
    ob_json_object_end(j);
    ob_json_key(j, "meta");
    ob_json_object_begin(j);
    ob_json_key(j, "is_authenticating");
    ob_json_bool(j, ob_authapi_stage(a, "verify_email") != NULL);
    ob_json_object_end(j);
    ob_authapi_end(a, j);
}

/* Verified: log in when this session was waiting for it, else 401. */
static void verify_done(ob_authapi *a, const verify_key *k)
{
    ob_request *r = a->r;
    bool err = false;
    ob_user *u = stage_for(a, k->user_id) ? ob_authapi_user_by_id(a, k->user_id, &err) : NULL;
    int rc = err ? -1 : 0;
    bool login = u && u->is_active && strcmp(u->user_type, "human") == 0;
    if (!rc && login) {
        cJSON *m = ob_authapi_method(a, "password");
        cJSON_AddStringToObject(m, "username", u->username);
        rc = ob_authapi_login(a, u, m);
    }
    if (rc != 0 || ob_db_commit(r->db) != 0) {
        ob_authapi_db_failure(a);
        return;
    }
    if (login) {
        if (!*u->email)
            u->email = k->email;
        ob_authapi_authenticated(a);
    } else {
        ob_authapi_unauthenticated(a);
    }
}

void ob_authapi_verify_post(ob_request *r)
{
    ob_authapi *a = ob_authapi_begin(r);
    if (ob_authapi_read_body(a) != 0)
        return;
    const char *key;
    ob_authapi_string(a, "key", KEY_MAX, OB_FIELD_TRIM | OB_FIELD_REQUIRED, &key);
    if (a->nerrors) {
        ob_authapi_errors(a);
        return;
    }
    verify_key k;
    int found = verify_lookup(a, key, &k);
    if (found < 0) {
        ob_authapi_db_failure(a);
        return;
    }
    if (!found) {
        ob_authapi_fail(a, "invalid_or_expired_key", "key");
        return;
    }
    int marked = ob_db_begin(r->db) == 0 ? ob_authapi_mark_verified(a, k.user_id, k.email) : -1;
    if (marked < 0) {
        ob_authapi_db_failure(a);
        return;
    }
    if (marked > 0) { /* another account verified the address (§4.5) */
        ob_db_rollback(r->db);
        ob_authapi_fail(a, "email_taken", "key");
        return;
    }
    verify_done(a, &k);
}

/* ---- POST /auth/email/verify/resend ---- */

/* Returns 1 sent, 0 within the cooldown, -1 db error. */
static int resend(ob_authapi *a, int64_t user_id)
{
    bool err = false;
    ob_user *u = user_id > 0 ? ob_authapi_user_by_id(a, user_id, &err) : NULL;
    if (err)
        return -1;
    if (!u)
        return 1; /* the "account exists" stage: answer as if sent */
    const char *mail = ob_authapi_verification_address(a, u, &err);
    if (err)
        return -1;
    return mail ? ob_authapi_send_verification(a, u->id, u->username, mail, true) : 1;
}

void ob_authapi_verify_resend(ob_request *r)
{
    ob_authapi *a = ob_authapi_begin(r);
    const cJSON *st = ob_authapi_stage(a, "verify_email");
    if (!st) {
        ob_authapi_status(a, 409);
        return;
    }
    const cJSON *uid = cJSON_GetObjectItemCaseSensitive(st, "user_id");
    int64_t user_id = cJSON_IsNumber(uid) ? (int64_t)uid->valuedouble : 0;
    int rc = ob_db_begin(r->db) == 0 ? resend(a, user_id) : -1;
    if (rc < 0 || ob_db_commit(r->db) != 0) {
        ob_authapi_db_failure(a);
        return;
    }
    if (rc == 0)
        ob_authapi_throttled(a, r->cfg->auth_verification_cooldown);
    else
        ob_authapi_status(a, 200);
}
