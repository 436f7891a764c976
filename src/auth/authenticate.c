/* authenticate.c - who is asking (see auth.h): tokens, sessions, CSRF. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sodium.h>
#include "openbook/auth/auth.h"
#include "openbook/core/cache.h"
#include "openbook/core/config.h"
#include "openbook/db/db.h"
#include "openbook/core/log.h"

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

/* A read request fetches what the caller's preload asks for together with
 * the user (the last column): one round trip less for every list or item
 * it reads.  Not for writes: a handler that changes grants and then checks
 * them must see its own changes, which the lazy load after the change
 * does. */
static bool preload_wanted(const ob_request *r, const ob_auth_preload *pre)
{
    return pre && (r->method == OB_GET || r->method == OB_HEAD);
}

/* The preload column as it follows the user columns, or "". */
static const char *preload_sql(ob_request *r, const ob_auth_preload *pre)
{
    return preload_wanted(r, pre) ? ob_arena_printf(r->arena, ", %s", pre->sql) : "";
}

/* One row of an authentication query, from PostgreSQL or from the worker's
 * cache: v[i] NULL for SQL NULL.  Pointers live as long as the request. */
#define AUTH_MAX_COLS 16
typedef struct auth_row {
    int n;
    const char *v[AUTH_MAX_COLS];
} auth_row;

static void row_from_result(auth_row *row, const PGresult *res)
{
    row->n = PQnfields(res) < AUTH_MAX_COLS ? PQnfields(res) : AUTH_MAX_COLS;
    for (int i = 0; i < row->n; i++)
        row->v[i] = PQgetisnull(res, 0, i) ? NULL : PQgetvalue(res, 0, i);
}

static const char *col(const auth_row *row, int i)
{
    return i < row->n && row->v[i] ? row->v[i] : "";
}

/* Reads (GET, HEAD) keep the row of a valid credential in the response
 * cache (cache.h), keyed by the credential's hash: a repeat costs no query.
 * The cache is emptied by every change to tokens, sessions, users or
 * grants, so a revoked token or an ended session is refused at once; what
 * changes with time alone (an expiry date passing) within
 * cache.max_age_ms.  Writes always ask the database. */
static bool auth_cacheable(const ob_request *r)
{
    return r->cache && (r->method == OB_GET || r->method == OB_HEAD);
}

/* Looked up only when the client did not ask for a fresh answer. */
static bool auth_lookup(const ob_request *r)
{
    return auth_cacheable(r) && ob_request_cache_allowed(r);
}

/* "\1auth <kind> <hash>": the \1 keeps these keys apart from response keys.
 * The kind is upper case for rows read with a preload column, lower case
 * for rows without. */
static size_t auth_key(char *out, size_t cap, char kind, const char *hash_hex)
{
    int n = snprintf(out, cap, "\1auth %c %s", kind, hash_hex);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

static bool auth_cache_get(ob_request *r, char kind, const char *hash_hex, auth_row *row)
{
    char key[96];
    size_t klen = auth_key(key, sizeof key, kind, hash_hex);
    ob_cached hit;
    if (!klen || !ob_cache_get(r->cache, key, klen, r->start_ns, &hit))
        return false;
    /* The value: per column a 4-byte length (all ones for NULL), the bytes. */
    const unsigned char *p = (const unsigned char *)hit.body, *end = p + hit.body_len;
    row->n = 0;
    while (p + 4 <= end && row->n < AUTH_MAX_COLS) {
        uint32_t len = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                       (uint32_t)p[3] << 24;
        p += 4;
        if (len == UINT32_MAX) {
            row->v[row->n++] = NULL;
            continue;
        }
        if (len > (size_t)(end - p))
            return false;
        row->v[row->n++] = ob_arena_strndup(r->arena, (const char *)p, len);
        p += len;
    }
    return true;
}

static void auth_cache_put(ob_request *r, char kind, const char *hash_hex, const auth_row *row,
                           uint64_t gen)
{
    char key[96];
    size_t klen = auth_key(key, sizeof key, kind, hash_hex);
    if (!klen)
        return;
    ob_buf b;
    ob_buf_init(&b, r->arena);
    for (int i = 0; i < row->n; i++) {
        uint32_t len = row->v[i] ? (uint32_t)strlen(row->v[i]) : UINT32_MAX;
        char le[4] = {(char)(len & 0xff), (char)(len >> 8 & 0xff), (char)(len >> 16 & 0xff),
                      (char)(len >> 24)};
        ob_buf_append(&b, le, 4);
        if (row->v[i])
            ob_buf_append(&b, row->v[i], len);
    }
    ob_cached v = {.status = 0, .body = b.data, .body_len = b.len};
    ob_cache_put(r->cache, key, klen, gen, r->start_ns, &v);
}

/* After r->user is set to the active user of the row. */
static void take_preload(ob_request *r, const ob_auth_preload *pre, const auth_row *row)
{
    if (preload_wanted(r, pre) && r->user && row->n > 0 && row->v[row->n - 1])
        pre->take(r, row->v[row->n - 1]);
}

static ob_user *user_from_row(ob_request *r, const auth_row *row, int c)
{
    ob_user *u = ob_arena_calloc(r->arena, 1, sizeof *u);
    u->id = strtoll(col(row, c), NULL, 10);
    u->username = ob_arena_strdup(r->arena, col(row, c + 1));
    u->email = ob_arena_strdup(r->arena, col(row, c + 2));
    u->first_name = ob_arena_strdup(r->arena, col(row, c + 3));
    u->last_name = ob_arena_strdup(r->arena, col(row, c + 4));
    u->password_hash = ob_arena_strdup(r->arena, col(row, c + 5));
    u->is_active = col(row, c + 6)[0] == 't';
    u->is_staff = col(row, c + 7)[0] == 't';
    u->is_superuser = col(row, c + 8)[0] == 't';
    u->user_type = ob_arena_strdup(r->arena, col(row, c + 9));
    return u;
}

static int deny(ob_request *r, const char *detail)
{
    ob_fail(r, 403, detail);
    return -1;
}

/* The token row of hash, from the cache or the database.  1 found, 0 not
 * found (answered), -1 error (answered). */
static int token_row(ob_request *r, const ob_auth_preload *pre, const char *hash,
                     auth_row *row)
{
    if (auth_lookup(r) && auth_cache_get(r, pre ? 'T' : 't', hash, row))
        return 1;
    uint64_t gen = r->cache ? ob_cache_generation(r->cache) : 0;
    const char *params[] = {hash};
    const char *sql = ob_arena_printf(
        r->arena,
        "SELECT t.token_hash, t.is_active AND (t.start_date IS NULL OR t.start_date <= now()) "
        "AND (t.end_date IS NULL OR t.end_date > now()), " USER_COLS "%s"
        " FROM auth_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = decode($1, 'hex')",
        preload_sql(r, pre));
    PGresult *res = ob_db_query(r->db, r->arena, sql, 1, params);
    if (!res) {
        ob_db_failure(r);
        return -1;
    }
    if (PQntuples(res) == 0) {
        deny(r, "Invalid token received.");
        return 0;
    }
    /* The index found it by hash; compare again in constant time so the
     * answer does not depend on how much of the hash matched. */
    unsigned char want[32];
    size_t wl = 0;
    const char *stored = PQgetvalue(res, 0, 0); /* bytea in hex output: \x... */
    unsigned char got[32];
    if (sodium_hex2bin(want, sizeof want, stored + 2, strlen(stored) - 2, NULL, &wl, NULL) != 0 ||
        wl != 32 || sodium_hex2bin(got, sizeof got, hash, 64, NULL, NULL, NULL) != 0 ||
        sodium_memcmp(got, want, 32) != 0) {
        deny(r, "Invalid token received.");
        return 0;
    }
    row_from_result(row, res);
    /* Only a usable credential is kept: a refusal is asked again. */
    if (auth_cacheable(r) && col(row, 1)[0] == 't' && col(row, 2 + 6)[0] == 't')
        auth_cache_put(r, pre ? 'T' : 't', hash, row, gen);
    return 1;
}

static int by_token(ob_request *r, const ob_auth_preload *pre, const char *hdr)
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
    auth_row row;
    int found = token_row(r, pre, hash, &row);
    if (found <= 0)
        return -1;
    if (col(&row, 1)[0] != 't')
        return deny(r, "Token is inactive or expired.");
    ob_user *u = user_from_row(r, &row, 2);
    if (!u->is_active)
        return deny(r, "User is inactive or deleted.");
    r->user = u;
    r->auth_method = OB_AUTH_TOKEN;
    take_preload(r, pre, &row);
    return 0;
}

/* Loads a live session by key.  Returns 1 found, 0 not found, -1 error. */
static int load_session(ob_request *r, const ob_auth_preload *pre, const char *key,
                        ob_user **user, auth_row *row)
{
    *user = NULL;
    size_t n = strlen(key);
    if (n == 0 || n > 64)
        return 0;
    ob_session *s = ob_arena_calloc(r->arena, 1, sizeof *s);
    ob_sha256_hex(key, n, s->key_hash_hex);
    if (!(auth_lookup(r) && auth_cache_get(r, pre ? 'S' : 's', s->key_hash_hex, row))) {
        uint64_t gen = r->cache ? ob_cache_generation(r->cache) : 0;
        const char *params[] = {s->key_hash_hex};
        const char *sql = ob_arena_printf(
            r->arena,
            "SELECT s.user_id, s.data::text, " USER_COLS "%s"
            " FROM sessions s LEFT JOIN users u ON u.id = s.user_id"
            " WHERE s.key_hash = decode($1, 'hex') AND s.expires_at > now()",
            preload_sql(r, pre));
        PGresult *res = ob_db_query(r->db, r->arena, sql, 1, params);
        if (!res) {
            ob_db_failure(r);
            return -1;
        }
        if (PQntuples(res) == 0)
            return 0;
        row_from_result(row, res);
        if (auth_cacheable(r))
            auth_cache_put(r, pre ? 'S' : 's', s->key_hash_hex, row, gen);
    }
    s->data = ob_arena_strdup(r->arena, col(row, 1));
    if (row->n > 0 && row->v[0]) {
        s->user_id = strtoll(row->v[0], NULL, 10);
        *user = user_from_row(r, row, 2);
    }
    r->session = s;
    return 1;
}

int ob_authenticate(ob_request *r, const ob_auth_preload *pre)
{
    const char *authz = ob_request_param(r, "HTTP_AUTHORIZATION");
    if (authz && strncasecmp(authz, "token", 5) == 0 && (authz[5] == ' ' || authz[5] == '\0'))
        return by_token(r, pre, authz);
    /* Other schemes (Basic, Bearer) are ignored, as in the original. */

    const char *st = ob_request_param(r, "HTTP_X_SESSION_TOKEN");
    if (st) {
        ob_user *u;
        auth_row row;
        int found = load_session(r, pre, st, &u, &row);
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
        take_preload(r, pre, &row);
        return 0;
    }

    const char *sid = ob_request_cookie(r, "sessionid");
    if (sid) {
        ob_user *u;
        auth_row row;
        int found = load_session(r, pre, sid, &u, &row);
        if (found < 0)
            return -1;
        if (found) {
            /* A session whose user was deactivated is anonymous; its record
             * is deleted when the user is deactivated. */
            r->user = u && u->is_active ? u : NULL;
            r->auth_method = OB_AUTH_COOKIE;
            take_preload(r, pre, &row);
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
