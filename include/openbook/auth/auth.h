/* auth.h - who is asking: authentication of a request (api-conventions.md
 * §11), sessions, API tokens and CSRF.
 *
 * Credentials are tried in the spec's order: `Authorization: Token`,
 * `X-Session-Token`, the `sessionid` cookie.  A presented credential that
 * is invalid ends the request with 403 (it never falls through to the next
 * method); an unknown cookie is simply anonymous. */
#ifndef OPENBOOK_AUTH_H
#define OPENBOOK_AUTH_H

#include <stdbool.h>
#include <stdint.h>
#include "openbook/http/http.h"

typedef enum {
    OB_AUTH_NONE = 0,
    OB_AUTH_TOKEN,        /* Authorization: Token */
    OB_AUTH_APP_SESSION,  /* X-Session-Token */
    OB_AUTH_COOKIE,       /* sessionid cookie: CSRF applies */
} ob_auth_method;

typedef struct ob_user {
    int64_t id;
    const char *username;
    const char *email;
    const char *first_name, *last_name;
    const char *password_hash;
    bool is_active, is_staff, is_superuser;
    const char *user_type;
} ob_user;

/* A session as loaded for this request. */
typedef struct ob_session {
    char key_hash_hex[65];  /* SHA-256 of the key, hex */
    int64_t user_id;        /* 0 if none */
    const char *data;       /* jsonb text */
    const char *new_key;    /* set by ob_session_start: the key created by
                               this request (NULL for a loaded session) */
} ob_session;

#define OB_SESSION_KEY_LEN 32
#define OB_TOKEN_LEN 64

/* What the caller wants loaded together with the user when a read (GET,
 * HEAD) authenticates, saving it a round trip: `sql` is an expression over
 * the user row `u` (its text value may be NULL), and `take` gets the value
 * once r->user is set to an active user.  Writes never preload: a handler
 * that changes what it loaded must see its own change. */
typedef struct ob_auth_preload {
    const char *sql;
    void (*take)(ob_request *r, const char *value);
} ob_auth_preload;

/* Fills r->user/r->auth_method/r->session, with pre (may be NULL) loaded
 * alongside.  A bad X-Session-Token sets r->bad_app_session (the
 * /auth-api/app/ caller answers 410 instead of 403).  Returns 0, or -1 with
 * the 403 (or 503) response set. */
int ob_authenticate(ob_request *r, const ob_auth_preload *pre);

/* CSRF for unsafe methods (api-conventions.md §11.1).  Returns NULL when
 * the request passes, else the reason ("CSRF cookie not set." ...). */
const char *ob_csrf_check(ob_request *r);

/* Random strings from a CSPRNG over [a-z0-9] / [A-Za-z0-9]. */
void ob_random_token(char *out, size_t len, const char *alphabet);
/* Hex SHA-256 of s, for storing keys and tokens. */
void ob_sha256_hex(const char *s, size_t len, char out[65]);

#endif
