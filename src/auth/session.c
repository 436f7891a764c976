/* session.c - server-side sessions and the session/CSRF cookies
 * (session.h; api-conventions.md §11.1, §11.2).
 *
 * Cookie flags: `Secure` is sent when security.cookie_secure is true (the
 * production setting, which may only be false in development mode) and
 * also whenever the request itself came over HTTPS (directly or as
 * reported by a trusted proxy), so a development set-up behind TLS still
 * gets secure cookies.  `Domain` is added when security.cookie_domain is
 * set. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "openbook/auth/auth.h"
#include "openbook/core/config.h"
#include "openbook/db/db.h"
#include "openbook/core/log.h"
#include "openbook/auth/session.h"

#define CSRF_MAX_AGE 31449600L
static const char key_chars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
static const char csrf_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/* "Thu, 01 Jan 1970 00:00:00 GMT", max_age seconds from now. */
static void http_date(long max_age, char out[40])
{
    static const char *days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = max_age > 0 ? time(NULL) + max_age : 0;
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
             months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Appends one Set-Cookie header with the shared attributes. */
static void set_cookie(ob_request *r, const char *name, const char *value, long max_age,
                       bool http_only)
{
    char date[40];
    http_date(max_age, date);
    ob_buf v;
    ob_buf_init(&v, r->arena);
    ob_buf_printf(&v, "%s=%s; expires=%s; Max-Age=%ld; Path=/; SameSite=Lax", name, value, date,
                  max_age > 0 ? max_age : 0);
    if (http_only)
        ob_buf_puts(&v, "; HttpOnly");
    if (r->cfg->cookie_secure || r->https)
        ob_buf_puts(&v, "; Secure");
    if (r->cfg->cookie_domain && *r->cfg->cookie_domain)
        ob_buf_printf(&v, "; Domain=%s", r->cfg->cookie_domain);
    ob_response_header(&r->res, "Set-Cookie", ob_buf_cstr(&v));
}

static bool cookie_already_set(const ob_request *r, const char *name)
{
    const char *h = r->res.headers.data;
    if (!h || !r->res.headers.len)
        return false;
    char pat[64];
    snprintf(pat, sizeof pat, "Set-Cookie: %s=", name);
    return strstr(h, pat) != NULL;
}

static const char *max_age_text(const ob_request *r, char buf[24])
{
    snprintf(buf, 24, "%ld", r->cfg->session_max_age);
    return buf;
}

int ob_session_start(ob_request *r, int64_t user_id, const char *data_json, bool app_client)
{
    ob_session *s = ob_arena_calloc(r->arena, 1, sizeof *s);
    char *key = ob_arena_alloc(r->arena, OB_SESSION_KEY_LEN + 1);
    ob_random_token(key, OB_SESSION_KEY_LEN, key_chars);
    ob_sha256_hex(key, OB_SESSION_KEY_LEN, s->key_hash_hex);
    if (r->session && r->session->key_hash_hex[0]) {
        /* The old key must stop working at once (session fixation). */
        const char *p[] = {r->session->key_hash_hex};
        if (!ob_db_query(r->db, r->arena, "DELETE FROM sessions WHERE key_hash = decode($1, 'hex')",
                         1, p))
            return -1;
    }
    char uid[24], age[24];
    snprintf(uid, sizeof uid, "%lld", (long long)user_id);
    const char *data = data_json && *data_json ? data_json : "{}";
    const char *p[] = {s->key_hash_hex, user_id > 0 ? uid : NULL, data, max_age_text(r, age)};
    if (!ob_db_query(r->db, r->arena,
                     "INSERT INTO sessions (key_hash, user_id, data, expires_at) VALUES "
                     "(decode($1, 'hex'), $2::bigint, $3::jsonb, now() + make_interval(secs => $4::bigint))",
                     4, p))
        return -1;
    s->user_id = user_id > 0 ? user_id : 0;
    s->data = ob_arena_strdup(r->arena, data);
    s->new_key = key;
    r->session = s;
    if (!app_client)
        set_cookie(r, "sessionid", key, r->cfg->session_max_age, true);
    return 0;
}

int ob_session_save(ob_request *r, const char *data_json)
{
    if (!r->session)
        return -1;
    char age[24];
    const char *data = data_json && *data_json ? data_json : "{}";
    const char *p[] = {r->session->key_hash_hex, data, max_age_text(r, age)};
    if (!ob_db_query(r->db, r->arena,
                     "UPDATE sessions SET data = $2::jsonb, "
                     "expires_at = now() + make_interval(secs => $3::bigint) "
                     "WHERE key_hash = decode($1, 'hex')",
                     3, p))
        return -1;
    r->session->data = ob_arena_strdup(r->arena, data);
    /* The lifetime counts from the last write: renew the cookie with it. */
    const char *sid = ob_request_cookie(r, "sessionid");
    if (!r->session->new_key && r->auth_method == OB_AUTH_COOKIE && sid &&
        !cookie_already_set(r, "sessionid"))
        set_cookie(r, "sessionid", sid, r->cfg->session_max_age, true);
    return 0;
}

int ob_session_end(ob_request *r, bool app_client)
{
    if (r->session) {
        const char *p[] = {r->session->key_hash_hex};
        if (!ob_db_query(r->db, r->arena, "DELETE FROM sessions WHERE key_hash = decode($1, 'hex')",
                         1, p))
            return -1;
        r->session = NULL;
    }
    if (!app_client)
        set_cookie(r, "sessionid", "\"\"", 0, true);
    return 0;
}

int ob_session_end_all(ob_request *r, int64_t user_id, bool keep_current)
{
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", (long long)user_id);
    const char *keep = keep_current && r->session ? r->session->key_hash_hex : "";
    const char *p[] = {uid, keep};
    return ob_db_query(r->db, r->arena,
                       "DELETE FROM sessions WHERE user_id = $1::bigint "
                       "AND ($2 = '' OR key_hash <> decode($2, 'hex'))",
                       2, p)
               ? 0
               : -1;
}

const char *ob_session_new_key(const ob_request *r)
{
    return r->session ? r->session->new_key : NULL;
}

static bool csrf_cookie_valid(const char *c)
{
    if (!c || strlen(c) != 32)
        return false;
    return strspn(c, csrf_chars) == 32;
}

void ob_csrf_cookie(ob_request *r, bool rotate)
{
    if (cookie_already_set(r, "csrftoken"))
        return;
    if (!rotate && csrf_cookie_valid(ob_request_cookie(r, "csrftoken")))
        return;
    char tok[33];
    ob_random_token(tok, 32, csrf_chars);
    set_cookie(r, "csrftoken", tok, CSRF_MAX_AGE, false);
}
