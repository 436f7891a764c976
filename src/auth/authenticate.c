/* authenticate.c - who is asking (see auth.h): tokens, sessions, CSRF. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sodium.h>
#include "openbook/auth.h"
#include "openbook/config.h"
#include "openbook/db.h"
#include "openbook/log.h"
#include "openbook/perm.h"
#include "openbook/resource.h"

void ob_random_token(char *out, size_t len, const char *alphabet)
{
    size_t n = strlen(alphabet);
    for (size_t i = 0; i < len; i++)
        out[i] = alphabet[randombytes_uniform((uint32_t)n)];
    out[len] = '\0';
}

void ob_sha256_hex(const char *s, size_t len, char out[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)s, len);
    sodium_bin2hex(out, 65, h, sizeof h);
}

/* The user columns every authentication query selects, in this order. */
#define USER_COLS                                                                        \
    "u.id, u.username, u.email, u.first_name, u.last_name, u.password, u.is_active, "   \
    "u.is_staff, u.is_superuser, u.user_type"
#define USER_NCOLS 10

/* A read request fetches what the user holds together with the user
 * (OB_PERM_PRELOAD_COL, the last column): one round trip less for every
 * list or item it reads.  Not for writes: a handler that changes grants
 * and then checks them must see its own changes, which the lazy load
 * after the change does. */
static bool preload_perms(const ob_request *r)
{
    return r->method == OB_GET || r->method == OB_HEAD;
}

/* After r->user is set to the active user of row 0. */
static void take_perms(ob_request *r, PGresult *res)
{
    int col = PQnfields(res) - 1;
    if (preload_perms(r) && r->user && !PQgetisnull(res, 0, col))
        ob_perm_preload(r, PQgetvalue(res, 0, col));
}

static ob_user *user_from_row(ob_request *r, PGresult *res, int row, int col)
{
    ob_user *u = ob_arena_calloc(r->arena, 1, sizeof *u);
    u->id = strtoll(PQgetvalue(res, row, col), NULL, 10);
    u->username = ob_arena_strdup(r->arena, PQgetvalue(res, row, col + 1));
    u->email = ob_arena_strdup(r->arena, PQgetvalue(res, row, col + 2));
    u->first_name = ob_arena_strdup(r->arena, PQgetvalue(res, row, col + 3));
    u->last_name = ob_arena_strdup(r->arena, PQgetvalue(res, row, col + 4));
    u->password_hash = ob_arena_strdup(r->arena, PQgetvalue(res, row, col + 5));
    u->is_active = PQgetvalue(res, row, col + 6)[0] == 't';
    u->is_staff = PQgetvalue(res, row, col + 7)[0] == 't';
    u->is_superuser = PQgetvalue(res, row, col + 8)[0] == 't';
    u->user_type = ob_arena_strdup(r->arena, PQgetvalue(res, row, col + 9));
    return u;
}

static int deny(ob_request *r, const char *detail)
{
    ob_fail(r, 403, detail);
    return -1;
}

static int by_token(ob_request *r, const char *hdr)
{
    /* "Token <key>": exactly one word after the scheme. */
    const char *p = hdr + 5;
    while (*p == ' ')
        p++;
    size_t n = strcspn(p, " ");
    const char *rest = p + n;
    while (*rest == ' ')
        rest++;
    if (n == 0 || *rest)
        return deny(r, "Invalid Authorization header received.");
    char hash[65];
    ob_sha256_hex(p, n, hash);
    const char *params[] = {hash};
#define TOKEN_SQL(PERMS)                                                                         \
    "SELECT t.token_hash, t.is_active AND (t.start_date IS NULL OR t.start_date <= now()) "      \
    "AND (t.end_date IS NULL OR t.end_date > now()), " USER_COLS PERMS                           \
    " FROM auth_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = decode($1, 'hex')"
    PGresult *res = ob_db_query(r->db, r->arena,
                                preload_perms(r) ? TOKEN_SQL(", " OB_PERM_PRELOAD_COL)
                                                 : TOKEN_SQL(""),
                                1, params);
    if (!res) {
        ob_db_failure(r);
        return -1;
    }
    if (PQntuples(res) == 0)
        return deny(r, "Invalid token received.");
    /* The index found it by hash; compare again in constant time so the
     * answer does not depend on how much of the hash matched. */
    unsigned char want[32];
    size_t wl = 0;
    const char *stored = PQgetvalue(res, 0, 0); /* bytea in hex output: \x... */
    if (sodium_hex2bin(want, sizeof want, stored + 2, strlen(stored) - 2, NULL, &wl, NULL) != 0 ||
        wl != 32)
        return deny(r, "Invalid token received.");
    unsigned char got[32];
    sodium_hex2bin(got, sizeof got, hash, 64, NULL, NULL, NULL);
    if (sodium_memcmp(got, want, 32) != 0)
        return deny(r, "Invalid token received.");
    if (PQgetvalue(res, 0, 1)[0] != 't')
        return deny(r, "Token is inactive or expired.");
    ob_user *u = user_from_row(r, res, 0, 2);
    if (!u->is_active)
        return deny(r, "User is inactive or deleted.");
    r->user = u;
    r->auth_method = OB_AUTH_TOKEN;
    take_perms(r, res);
    return 0;
}

/* Loads a live session by key.  Returns 1 found, 0 not found, -1 error. */
static int load_session(ob_request *r, const char *key, ob_user **user, PGresult **perm_res)
{
    *user = NULL;
    size_t n = strlen(key);
    if (n == 0 || n > 64)
        return 0;
    ob_session *s = ob_arena_calloc(r->arena, 1, sizeof *s);
    ob_sha256_hex(key, n, s->key_hash_hex);
    const char *params[] = {s->key_hash_hex};
#define SESSION_SQL(PERMS)                                                                       \
    "SELECT s.user_id, s.data::text, " USER_COLS PERMS                                           \
    " FROM sessions s LEFT JOIN users u ON u.id = s.user_id"                                     \
    " WHERE s.key_hash = decode($1, 'hex') AND s.expires_at > now()"
    PGresult *res = ob_db_query(r->db, r->arena,
                                preload_perms(r) ? SESSION_SQL(", " OB_PERM_PRELOAD_COL)
                                                 : SESSION_SQL(""),
                                1, params);
    if (!res) {
        ob_db_failure(r);
        return -1;
    }
    if (PQntuples(res) == 0)
        return 0;
    s->data = ob_arena_strdup(r->arena, PQgetvalue(res, 0, 1));
    if (!PQgetisnull(res, 0, 0)) {
        s->user_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        *user = user_from_row(r, res, 0, 2);
    }
    r->session = s;
    *perm_res = res;
    return 1;
}

int ob_authenticate(ob_request *r)
{
    const char *authz = ob_request_param(r, "HTTP_AUTHORIZATION");
    if (authz && strncasecmp(authz, "token", 5) == 0 && (authz[5] == ' ' || authz[5] == '\0'))
        return by_token(r, authz);
    /* Other schemes (Basic, Bearer) are ignored, as in the original. */

    const char *st = ob_request_param(r, "HTTP_X_SESSION_TOKEN");
    if (st) {
        ob_user *u;
        PGresult *res = NULL;
        int found = load_session(r, st, &u, &res);
        if (found < 0)
            return -1;
        if (!found) {
            r->bad_app_session = true;
            return deny(r, "Invalid session token.");
        }
        if (u && !u->is_active)
            return deny(r, "User is inactive or deleted.");
        r->user = u;
        r->auth_method = OB_AUTH_APP_SESSION;
        take_perms(r, res);
        return 0;
    }

    const char *sid = ob_request_cookie(r, "sessionid");
    if (sid) {
        ob_user *u;
        PGresult *res = NULL;
        int found = load_session(r, sid, &u, &res);
        if (found < 0)
            return -1;
        if (found) {
            /* A session whose user was deactivated is anonymous; its record
             * is deleted when the user is deactivated. */
            r->user = u && u->is_active ? u : NULL;
            r->auth_method = OB_AUTH_COOKIE;
            take_perms(r, res);
        }
    }
    return 0;
}

/* ---- CSRF ---- */

static const char csrf_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/* The original issues 64-character masked tokens: mask + cipher, where
 * secret[i] = chars[(idx(cipher[i]) - idx(mask[i])) mod 62]. */
static bool unmask(const char *tok, char out[33])
{
    for (int i = 0; i < 32; i++) {
        const char *m = strchr(csrf_chars, tok[i]);
        const char *c = strchr(csrf_chars, tok[32 + i]);
        if (!m || !c || !tok[i] || !tok[32 + i])
            return false;
        long d = (c - csrf_chars) - (m - csrf_chars);
        out[i] = csrf_chars[(d + 62) % 62];
    }
    out[32] = '\0';
    return true;
}

static bool valid_secret(const char *s)
{
    if (strlen(s) != 32)
        return false;
    for (; *s; s++)
        if (!strchr(csrf_chars, *s))
            return false;
    return true;
}

static bool same_origin(ob_request *r, const char *origin)
{
    const char *base = ob_request_base_url(r);
    if (strcasecmp(origin, base) == 0)
        return true;
    const ob_strlist *l = &r->cfg->csrf_trusted_origins;
    for (size_t i = 0; i < l->count; i++)
        if (strcasecmp(origin, l->items[i]) == 0)
            return true;
    return false;
}

const char *ob_csrf_check(ob_request *r)
{
    const char *origin = ob_request_param(r, "HTTP_ORIGIN");
    if (origin && *origin) {
        if (!same_origin(r, origin))
            return ob_arena_printf(r->arena,
                                   "Origin checking failed - %s does not match any trusted origins.",
                                   origin);
    } else if (r->https) {
        const char *ref = ob_request_param(r, "HTTP_REFERER");
        if (!ref || !*ref)
            return "Referer checking failed - no Referer.";
        /* Compare scheme://host[:port] of the referer. */
        const char *p = strstr(ref, "://");
        size_t n = p ? (size_t)(p + 3 - ref) + strcspn(p + 3, "/?#") : 0;
        char *ro = ob_arena_strndup(r->arena, ref, n);
        if (!p || !same_origin(r, ro))
            return ob_arena_printf(r->arena,
                                   "Referer checking failed - %s does not match any trusted origins.",
                                   ref);
    }
    const char *cookie = ob_request_cookie(r, "csrftoken");
    if (!cookie || !valid_secret(cookie))
        return "CSRF cookie not set.";
    const char *hdr = ob_request_param(r, "HTTP_X_CSRFTOKEN");
    if (!hdr || !*hdr)
        return "CSRF token missing.";
    char secret[33];
    size_t hl = strlen(hdr);
    if (hl == 64) {
        if (!unmask(hdr, secret))
            return "CSRF token incorrect.";
    } else if (hl == 32) {
        memcpy(secret, hdr, 33);
    } else {
        return "CSRF token incorrect.";
    }
    return sodium_memcmp(secret, cookie, 32) == 0 ? NULL : "CSRF token incorrect.";
}
