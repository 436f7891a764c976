/* api_login.c - log in, re-authenticate, session status and log out, and
 * login by e-mailed code (api-auth.md §4.2, §4.7, §4.11-§4.13). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include <sodium.h>
#include "openbook/auth/auth_api.h"
#include "openbook/core/config.h"
#include "openbook/db/db.h"
#include "openbook/redis/events.h"
#include "openbook/mail/mail.h"
#include "openbook/auth/password.h"
#include "openbook/auth/ratelimit.h"
#include "openbook/auth/session.h"
#include "openbook/http/validate.h"

#define CODE_CHARS "BCDFGHJKLMNPQRSTVWXZ"
#define CODE_TTL 300.0
#define CODE_TRIES 3

/* ---- POST /auth/login ---- */

/* The key of the per-user failure limit: the account's id when the name
 * reaches one, so that every spelling PostgreSQL's lower() takes to it
 * (K U+212A is k, İ U+0130 is i) counts against the same failures;
 * otherwise the name as typed, lower-cased. */
static const char *login_key(ob_authapi *a, const ob_user *u, const char *username)
{
    if (u)
        return ob_arena_printf(a->r->arena, "id:%lld", (long long)u->id);
    return ob_arena_printf(a->r->arena, "name:%s", ob_authapi_lower(a, username));
}

static void login_release(ob_authapi *a, const char *ukey)
{
    ob_request *r = a->r;
    ob_ratelimit_undo(r, &ob_rate_login_failed_ip, ob_ratelimit_client(r));
    ob_ratelimit_undo(r, &ob_rate_login_failed_user, ukey);
}

/* Takes a try from both failure limits before the password is checked
 * and gives it back unless the try fails: counted after the check, every
 * request in flight would pass it.  False (nothing taken) when either
 * limit is used up, correct password or not (api-auth.md §7). */
static bool login_reserve(ob_authapi *a, const char *ukey)
{
    ob_request *r = a->r;
    bool over = ob_ratelimit_hit(r, &ob_rate_login_failed_ip, ob_ratelimit_client(r)) != 0;
    over = ob_ratelimit_hit(r, &ob_rate_login_failed_user, ukey) != 0 || over;
    if (over)
        login_release(a, ukey);
    return !over;
}

/* Correct password, unverified address: mail (outside the cooldown) and
 * leave the verify_email stage pending with the login to record later. */
static int login_unverified(ob_authapi *a, ob_user *u)
{
    bool err = false;
    const char *mail = ob_authapi_verification_address(a, u, &err);
    if (err || (mail && ob_authapi_send_verification(a, u->id, u->username, mail, true) < 0))
        return -1;
    cJSON *st = ob_authapi_new_stage(a, "verify_email", u->id);
    cJSON_AddStringToObject(st, "username", u->username);
    ob_authapi_set_stage(a, st);
    return ob_authapi_save(a);
}

/* The password matched: rehash if needed, then log in or ask for the
 * e-mail verification. */
static void login_correct(ob_authapi *a, ob_user *u, const char *password, bool rehash)
{
    ob_request *r = a->r;
    if (ob_db_begin(r->db) != 0 ||
        (rehash && ob_authapi_set_password(a, u->id, password) != 0)) {
        ob_authapi_db_failure(a);
        return;
    }
    int verified = ob_authapi_email_verified(a, u->id);
    int rc = -1;
    if (verified > 0) {
        cJSON *m = ob_authapi_method(a, "password");
        cJSON_AddStringToObject(m, "username", u->username);
        rc = ob_authapi_login(a, u, m);
    } else if (verified == 0) {
        rc = login_unverified(a, u);
    }
    if (rc != 0 || ob_db_commit(r->db) != 0) {
        ob_authapi_db_failure(a);
        return;
    }
    if (verified > 0)
        ob_authapi_authenticated(a);
    else
        ob_authapi_unauthenticated(a);
}

void ob_authapi_login_post(ob_request *r)
{
    ob_authapi *a = ob_authapi_begin(r);
    if (a->user) {
        ob_authapi_status(a, 409);
        return;
    }
    if (ob_authapi_read_body(a) != 0)
        return;
    const char *username, *password;
    ob_authapi_string(a, "username", OB_USERNAME_MAX, OB_FIELD_TRIM | OB_FIELD_REQUIRED, &username);
    ob_authapi_string(a, "password", OB_PASSWORD_MAX, OB_FIELD_REQUIRED, &password);
    if (a->nerrors) {
        ob_authapi_errors(a);
        return;
    }
    long wait = ob_ratelimit_hit(r, &ob_rate_login_ip, ob_ratelimit_client(r));
    if (wait) {
        ob_authapi_throttled(a, wait);
        return;
    }
    bool err = false, rehash = false;
    ob_user *u = ob_authapi_user_where(a, "lower(u.username) = lower($1)", username, &err);
    if (err) {
        ob_authapi_db_failure(a);
        return;
    }
    const char *ukey = login_key(a, u, username);
    if (!login_reserve(a, ukey)) {
        ob_authapi_fail(a, "too_many_login_attempts", NULL);
        return;
    }
    /* The hash is always checked, so every refusal takes as long. */
    bool ok = ob_authapi_verify_password(u, password, &rehash);
    if (!ok || !u->is_active || strcmp(u->user_type, "human") != 0) {
        ob_authapi_fail(a, "username_password_mismatch", "password"); /* the try counts */
        return;
    }
    login_release(a, ukey);
    login_correct(a, u, password, rehash);
}

/* ---- POST /auth/reauthenticate ---- */

void ob_authapi_reauthenticate(ob_request *r)
{
    ob_authapi *a = ob_authapi_begin(r);
    if (!a->user) {
        ob_authapi_unauthenticated(a);
        return;
    }
    if (ob_authapi_read_body(a) != 0)
        return;
    const char *password;
    ob_authapi_string(a, "password", OB_PASSWORD_MAX, OB_FIELD_REQUIRED, &password);
    if (a->nerrors) {
        ob_authapi_errors(a);
        return;
    }
    long wait = ob_ratelimit_hit(r, &ob_rate_reauthenticate, ob_authapi_user_key(a));
    if (wait) {
        ob_authapi_throttled(a, wait);
        return;
    }
    bool rehash = false;
    if (!ob_authapi_verify_password(a->user, password, &rehash)) {
        ob_authapi_fail(a, "incorrect_password", "password");
        return;
    }
    if (ob_db_begin(r->db) != 0 || (rehash && ob_authapi_set_password(a, a->user->id, password))) {
        ob_authapi_db_failure(a);
        return;
    }
    cJSON *m = ob_authapi_method(a, "password");
    cJSON_AddBoolToObject(m, "reauthenticated", true);
    if (ob_authapi_rekey(a, m) != 0 || ob_db_commit(r->db) != 0) {
        ob_authapi_db_failure(a);
        return;
    }
    ob_authapi_authenticated(a);
}

/* ---- GET/DELETE /auth/session ---- */

void ob_authapi_session_get(ob_request *r)
{
    ob_authapi *a = ob_authapi_begin(r);
    if (a->user)
        ob_authapi_authenticated(a);
    else
        ob_authapi_unauthenticated(a);
}

void ob_authapi_session_delete(ob_request *r)
{
    ob_authapi *a = ob_authapi_begin(r);
    int64_t uid = a->user ? a->user->id : 0;
    if (ob_session_end(r, a->app) != 0) {
        ob_authapi_db_failure(a);
        return;
    }
    /* The last session of the user ended (the DELETE is committed: no
     * transaction here): their relay connections end (websocket.md §6).
     * When the check fails, revoke anyway. */
    if (uid) {
        char ub[24];
        snprintf(ub, sizeof ub, "%lld", (long long)uid);
        const char *p[] = {ub};
        PGresult *pg = ob_db_query(r->db, r->arena,
                                   "SELECT 1 FROM sessions WHERE user_id = $1::bigint"
                                   " AND expires_at > now() LIMIT 1",
                                   1, p);
        if (!pg || PQntuples(pg) == 0)
            ob_events_revoke_user(r->redis, uid);
    }
    a->user = NULL;
    cJSON_Delete(a->data);
    a->data = cJSON_CreateObject();
    ob_authapi_unauthenticated(a);
}

/* ---- login by code ---- */

static void code_hash(const char *normalized, char out[65])
{
    char buf[32];
    snprintf(buf, sizeof buf, "login_by_code:%s", normalized);
    ob_sha256_hex(buf, strlen(buf), out);
}

/* The account a code may log in (§4.11): the one that verified the
 * address, else the only account that holds it at all, and only an active
 * human.  A code proves control of the mailbox, not of an account that
 * merely added the address: sending it to such an account would log the
 * mailbox's owner into someone else's account.  With several unverified
 * holders nobody gets a code.  (At most one account has the address
 * verified: migration 0006.) */
static ob_user *code_user(ob_authapi *a, const char *email, bool *err)
{
    return ob_authapi_user_where(
        a,
        "u.is_active AND u.user_type = 'human' AND u.id = ("
        "SELECT CASE WHEN bool_or(h.verified) THEN min(h.user_id) FILTER (WHERE h.verified) "
        "WHEN count(DISTINCT h.user_id) = 1 THEN min(h.user_id) END FROM ("
        "SELECT id AS user_id, false AS verified FROM users WHERE lower(email) = $1 "
        "UNION ALL SELECT user_id, verified FROM email_addresses WHERE lower(email) = $1) h)",
        email, err);
}

/* Creates the stage and mails the code (or the unknown-account mail). */
static int code_start(ob_authapi *a, ob_user *u, const char *email)
{
    char code[OB_LOGIN_CODE_LEN + 1], hash[65];
    ob_random_token(code, OB_LOGIN_CODE_LEN, CODE_CHARS);
    code_hash(code, hash);
    cJSON *st = ob_authapi_new_stage(a, "login_by_code", u ? u->id : 0);
    cJSON_AddStringToObject(st, "email", email);
    cJSON_AddStringToObject(st, "code_hash", hash);
    cJSON_AddNumberToObject(st, "tries", 0);
    cJSON_AddNumberToObject(st, "expires", a->now + CODE_TTL);
    ob_authapi_set_stage(a, st);
    int rc;
    if (u) {
        ob_mail_vars v = {.username = u->username, .code = code};
        rc = ob_mail_enqueue(a->r, OB_MAIL_CODE, email, &v);
    } else {
        ob_mail_vars v = {0};
        rc = ob_mail_enqueue(a->r, OB_MAIL_UNKNOWN_ACCOUNT, email, &v);
    }
    sodium_memzero(code, sizeof code);
    return rc == 0 ? ob_authapi_save(a) : -1;
}

void ob_authapi_code_request(ob_request *r)
{
    ob_authapi *a = ob_authapi_begin(r);
    if (a->user) {
        ob_authapi_status(a, 409);
        return;
    }
    if (ob_authapi_read_body(a) != 0)
        return;
    const char *email = ob_authapi_email_field(a);
    if (a->nerrors) {
        ob_authapi_errors(a);
        return;
    }
    if (ob_ratelimit_hit(r, &ob_rate_code_ip, ob_ratelimit_client(r)) ||
        ob_ratelimit_hit(r, &ob_rate_code_email, email)) {
        ob_authapi_fail(a, "too_many_login_attempts", "email");
        return;
    }
    bool err = false;
    ob_user *u = code_user(a, email, &err);
    if (err || ob_db_begin(r->db) != 0 || code_start(a, u, email) != 0 ||
        ob_db_commit(r->db) != 0) {
        ob_authapi_db_failure(a);
        return;
    }
    ob_authapi_unauthenticated(a);
}

static const char *code_hash_of(const cJSON *st)
{
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(st, "code_hash");
    return cJSON_IsString(h) && strlen(h->valuestring) == 64 ? h->valuestring : NULL;
}

static bool code_matches(const cJSON *st, const char *code)
{
    const char *want = code_hash_of(st);
    const cJSON *uid = cJSON_GetObjectItemCaseSensitive(st, "user_id");
    char norm[OB_LOGIN_CODE_LEN + 1], hash[65];
    if (!want || !cJSON_IsNumber(uid))
        return false;
    if (ob_login_code_normalize(code, strlen(code), norm) != OB_LOGIN_CODE_LEN)
        return false;
    code_hash(norm, hash);
    return sodium_memcmp(hash, want, 64) == 0;
}

/* Counts a try at the stage's code in the stored session, in one UPDATE
 * (under its row lock), before the code is compared: parallel confirms
 * each get their own number, where reading the count with the session and
 * writing it back let them all see the same one.  Returns the number of
 * this try, 0 when the stage is gone (used up, or replaced meanwhile), -1
 * on a database error. */
static int code_count_try(ob_authapi *a, const cJSON *st)
{
    ob_request *r = a->r;
    const char *want = code_hash_of(st);
    if (!want || !r->session)
        return 0;
    const char *p[] = {r->session->key_hash_hex, want};
    PGresult *res = ob_db_query(
        r->db, r->arena,
        "UPDATE sessions SET data = jsonb_set(data, '{stage,tries}', "
        "to_jsonb(COALESCE((data #>> '{stage,tries}')::integer, 0) + 1)) "
        "WHERE key_hash = decode($1, 'hex') AND data #>> '{stage,id}' = 'login_by_code' "
        "AND data #>> '{stage,code_hash}' = $2 RETURNING data #>> '{stage,tries}'",
        2, p);
    if (!res)
        return -1;
    return PQntuples(res) ? atoi(PQgetvalue(res, 0, 0)) : 0;
}

/* Removes the stage of this code from the stored session (not through
 * ob_authapi_save, which would write back the try count read with it). */
static int code_end(ob_authapi *a, const cJSON *st)
{
    ob_request *r = a->r;
    const char *p[] = {r->session->key_hash_hex, code_hash_of(st)};
    return ob_db_query(r->db, r->arena,
                       "UPDATE sessions SET data = data - 'stage' WHERE key_hash = decode($1, 'hex') "
                       "AND data #>> '{stage,code_hash}' = $2",
                       2, p)
               ? 0
               : -1;
}

/* A wrong code: its try is counted already; the last one ends the stage. */
static void code_wrong(ob_authapi *a, const cJSON *st, int attempt)
{
    if (attempt >= CODE_TRIES && code_end(a, st) != 0) {
        ob_authapi_db_failure(a);
        return;
    }
    ob_authapi_fail(a, "incorrect_code", "code");
}

/* The address was verified by another account after the code was sent:
 * logging in would verify it twice (and log the mailbox's owner into this
 * account).  The stage cannot succeed any more. */
static void code_taken(ob_authapi *a, const cJSON *st)
{
    ob_db_rollback(a->r->db);
    if (code_end(a, st) != 0) {
        ob_authapi_db_failure(a);
        return;
    }
    ob_authapi_fail(a, "email_taken", "code");
}

static void code_login(ob_authapi *a, const cJSON *st)
{
    ob_request *r = a->r;
    int64_t uid = (int64_t)cJSON_GetObjectItemCaseSensitive(st, "user_id")->valuedouble;
    const char *email =
        ob_arena_strdup(r->arena, cJSON_GetObjectItemCaseSensitive(st, "email")->valuestring);
    bool err = false;
    ob_user *u = ob_authapi_user_by_id(a, uid, &err);
    if (!err && (!u || !u->is_active || strcmp(u->user_type, "human") != 0)) {
        /* Deactivated since the code was sent: the stage cannot succeed. */
        if (code_end(a, st) == 0)
            ob_authapi_status(a, 409);
        else
            ob_authapi_db_failure(a);
        return;
    }
    int marked = err || ob_db_begin(r->db) != 0 ? -1 : ob_authapi_mark_verified(a, uid, email);
    if (marked > 0) {
        code_taken(a, st);
        return;
    }
    if (marked < 0) {
        ob_authapi_db_failure(a);
        return;
    }
    cJSON *m = ob_authapi_method(a, "code");
    cJSON_AddStringToObject(m, "email", email);
    if (ob_authapi_login(a, u, m) != 0 || ob_db_commit(r->db) != 0) {
        ob_authapi_db_failure(a);
        return;
    }
    /* users.email may just have been set from the code's address. */
    if (!*u->email)
        u->email = email;
    ob_authapi_authenticated(a);
}

void ob_authapi_code_confirm(ob_request *r)
{
    ob_authapi *a = ob_authapi_begin(r);
    cJSON *st = a->user ? NULL : ob_authapi_stage(a, "login_by_code");
    if (!st) {
        ob_authapi_status(a, 409);
        return;
    }
    if (ob_authapi_read_body(a) != 0)
        return;
    const char *code;
    ob_authapi_string(a, "code", 64, OB_FIELD_TRIM | OB_FIELD_REQUIRED, &code);
    if (a->nerrors) {
        ob_authapi_errors(a);
        return;
    }
    int attempt = code_count_try(a, st);
    if (attempt < 0) {
        ob_authapi_db_failure(a);
        return;
    }
    if (attempt == 0 || attempt > CODE_TRIES) {
        ob_authapi_status(a, 409); /* used up by other requests meanwhile */
        return;
    }
    if (!code_matches(st, code))
        code_wrong(a, st, attempt);
    else
        code_login(a, st);
}

void ob_authapi_code_resend(ob_request *r)
{
    ob_authapi_status(ob_authapi_begin(r), 409);
}
