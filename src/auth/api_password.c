/* api_password.c - password reset by mailed key and password change
 * (api-auth.md §4.8-§4.10, §4.15). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "openbook/auth/auth_api.h"
#include "openbook/db/db.h"
#include "openbook/redis/events.h"
#include "openbook/mail/mail.h"
#include "openbook/auth/password.h"
#include "openbook/auth/ratelimit.h"
#include "openbook/auth/session.h"

#define KEY_MAX 256
#define RESET_KEY_TTL (3L * 24 * 3600)

/* ---- POST /auth/password/request ---- */

/* Mails a reset key to every active user with the address (verified
 * matches first), or the unknown-account mail.  Returns 0 or -1. */
static int reset_mails(ob_authapi *a, const char *email)
{
    const char *p[] = {email};
    PGresult *res = ob_db_query(
        a->r->db, a->r->arena,
        "SELECT u.id, u.username, lower(u.email) FROM users u WHERE u.is_active AND "
        "(lower(u.email) = $1 OR EXISTS (SELECT 1 FROM email_addresses e "
        "WHERE e.user_id = u.id AND lower(e.email) = $1)) "
        "ORDER BY EXISTS (SELECT 1 FROM email_addresses e WHERE e.user_id = u.id "
        "AND lower(e.email) = $1 AND e.verified) DESC, u.id",
        1, p);
    if (!res)
        return -1;
    int n = PQntuples(res);
    if (n == 0) {
        ob_mail_vars v = {0};
        return ob_mail_enqueue(a->r, OB_MAIL_UNKNOWN_ACCOUNT, email, &v);
    }
    for (int i = 0; i < n; i++) {
        char key[33];
        int64_t uid = strtoll(PQgetvalue(res, i, 0), NULL, 10);
        /* The key is bound to the account address: it dies when that
         * changes (reset_lookup compares them). */
        if (ob_authapi_new_key(a, "reset", uid, PQgetvalue(res, i, 2), RESET_KEY_TTL, key) != 0)
            return -1;
        ob_mail_vars v = {.username = PQgetvalue(res, i, 1), .key = key};
        if (ob_mail_enqueue(a->r, OB_MAIL_RESET, email, &v) != 0)
            return -1;
    }
    return 0;
}

void ob_authapi_password_request(ob_request *r)
{
    ob_authapi *a = ob_authapi_begin(r);
    if (ob_authapi_read_body(a) != 0)
        return;
    const char *email = ob_authapi_email_field(a);
    if (a->nerrors) {
        ob_authapi_errors(a);
        return;
    }
    long wait = ob_ratelimit_hit(r, &ob_rate_reset_ip, ob_ratelimit_client(r));
    if (!wait)
        wait = ob_ratelimit_hit(r, &ob_rate_reset_email, email);
    if (wait) {
        ob_authapi_throttled(a, wait);
        return;
    }
    if (ob_db_begin(r->db) != 0 || reset_mails(a, email) != 0 || ob_db_commit(r->db) != 0) {
        ob_authapi_db_failure(a);
        return;
    }
    ob_authapi_status(a, 200);
}

/* ---- reset keys ---- */

/* The active user a live reset key belongs to; NULL if the key is
 * invalid (*err on a database error). */
static ob_user *reset_lookup(ob_authapi *a, const char *key, bool *err)
{
    char hash[65];
    ob_sha256_hex(key, strlen(key), hash);
    return ob_authapi_user_where(
        a,
        "u.is_active AND u.id = (SELECT k.user_id FROM auth_keys k WHERE "
        "k.key_hash = decode($1, 'hex') AND k.kind = 'reset' AND k.expires_at > now() "
        "AND k.email = lower(u.email))",
        hash, err);
}

void ob_authapi_password_reset_get(ob_request *r)
{
    ob_authapi *a = ob_authapi_begin(r);
    const char *key = ob_authapi_header(a, "HTTP_X_PASSWORD_RESET_KEY", KEY_MAX);
    bool err = false;
    ob_user *u = key ? reset_lookup(a, key, &err) : NULL;
    if (err) {
        ob_authapi_db_failure(a);
        return;
    }
    if (!u) {
        ob_authapi_fail(a, "invalid_password_reset", "key");
        return;
    }
    ob_json *j = ob_authapi_body(a, 200);
    ob_json_key(j, "data");
    ob_json_object_begin(j);
    ob_json_key(j, "user");
    ob_authapi_write_user(a, j, u);
    ob_json_object_end(j);
    ob_authapi_end(a, j);
}

static const char *const *similar_of(ob_authapi *a, const ob_user *u)
{
    const char **s = ob_arena_calloc(a->r->arena, 4, sizeof *s);
    s[0] = u->username;
    s[1] = u->first_name;
    s[2] = u->last_name;
    s[3] = u->email;
    return s;
}

/* Sets the password and ends every session of the user (this one too,
 * when it is theirs).  Returns 0 or -1. */
static int reset_write(ob_authapi *a, ob_user *u, const char *password)
{
    ob_request *r = a->r;
    if (ob_db_begin(r->db) != 0 || ob_authapi_set_password(a, u->id, password) != 0)
        return -1;
    if (r->session && r->session->user_id == u->id && ob_session_end(r, a->app) != 0)
        return -1;
    if (ob_session_end_all(r, u->id, false) != 0 || ob_db_commit(r->db) != 0)
        return -1;
    ob_events_revoke_user(r->redis, u->id); /* websocket.md §6 */
    if (a->user && a->user->id == u->id)
        a->user = NULL;
    return 0;
}

void ob_authapi_password_reset_post(ob_request *r)
{
    ob_authapi *a = ob_authapi_begin(r);
    long wait = ob_ratelimit_hit(r, &ob_rate_reset_key_ip, ob_ratelimit_client(r));
    if (wait) {
        ob_authapi_throttled(a, wait);
        return;
    }
    if (ob_authapi_read_body(a) != 0)
        return;
    const char *key, *password;
    ob_authapi_string(a, "key", KEY_MAX, OB_FIELD_TRIM | OB_FIELD_REQUIRED, &key);
    ob_authapi_string(a, "password", OB_PASSWORD_MAX, OB_FIELD_REQUIRED, &password);
    if (a->nerrors) {
        ob_authapi_errors(a);
        return;
    }
    bool err = false;
    ob_user *u = reset_lookup(a, key, &err);
    if (err) {
        ob_authapi_db_failure(a);
        return;
    }
    if (!u) {
        ob_authapi_fail(a, "invalid_password_reset", "key");
        return;
    }
    if (ob_authapi_password_rules(a, "password", password, similar_of(a, u)) > 0) {
        ob_authapi_errors(a);
        return;
    }
    if (reset_write(a, u, password) != 0) {
        ob_authapi_db_failure(a);
        return;
    }
    ob_authapi_unauthenticated(a);
}

/* ---- POST /account/password/change ---- */

static void change_input(ob_authapi *a, const char **current, const char **fresh)
{
    ob_authapi_string(a, "current_password", OB_PASSWORD_MAX, 0, current);
    ob_authapi_string(a, "new_password", OB_PASSWORD_MAX, OB_FIELD_REQUIRED, fresh);
    bool rehash;
    if (ob_password_usable(a->user->password_hash) &&
        (!*current || !ob_authapi_verify_password(a->user, *current, &rehash)))
        ob_authapi_add_error(a, "enter_current_password", "current_password",
                             ob_authapi_msg(a, "enter_current_password"));
    if (*fresh)
        ob_authapi_password_rules(a, "new_password", *fresh, similar_of(a, a->user));
}

void ob_authapi_password_change(ob_request *r)
{
    ob_authapi *a = ob_authapi_begin(r);
    if (!a->user) {
        ob_authapi_unauthenticated(a);
        return;
    }
    long wait = ob_ratelimit_hit(r, &ob_rate_change_password, ob_authapi_user_key(a));
    if (wait) {
        ob_authapi_throttled(a, wait);
        return;
    }
    if (ob_authapi_read_body(a) != 0)
        return;
    const char *current, *fresh;
    change_input(a, &current, &fresh);
    if (a->nerrors) {
        ob_authapi_errors(a);
        return;
    }
    if (ob_db_begin(r->db) != 0 || ob_authapi_set_password(a, a->user->id, fresh) != 0 ||
        ob_authapi_rekey(a, NULL) != 0 || ob_session_end_all(r, a->user->id, true) != 0 ||
        ob_db_commit(r->db) != 0) {
        ob_authapi_db_failure(a);
        return;
    }
    /* All relay connections end, this session's too (websocket.md §6):
     * they reconnect with a new ticket. */
    ob_events_revoke_user(r->redis, a->user->id);
    a->user->password_hash = "$argon2id$"; /* usable now, for has_usable_password */
    ob_authapi_authenticated(a);
}
