/* auth_api.h - the authentication API under /auth-api/{browser,app}/v1/
 * (api-auth.md): its envelope, flows, shared objects, input reading,
 * stages in the session, and the handlers of src/auth/api_*.c.
 *
 * Every handler starts with ob_authapi_begin() and ends through exactly
 * one of the ob_authapi_* response functions, which also set the csrftoken
 * cookie for browser clients (§1) and, for app clients, add
 * meta.session_token when this request created or re-keyed the session. */
#ifndef OPENBOOK_AUTH_API_H
#define OPENBOOK_AUTH_API_H

#include <stdbool.h>
#include <stdint.h>
#include "openbook/auth/auth.h"
#include "openbook/http/http.h"

struct cJSON;
struct ob_config;

typedef struct ob_authapi_error {
    const char *code;
    const char *message;
    const char *param; /* NULL: concerns the whole input */
} ob_authapi_error;

typedef struct ob_authapi {
    ob_request *r;
    bool app;                /* /auth-api/app/ */
    bool rotate_csrf;        /* a login happened: new csrftoken (browser) */
    ob_user *user;           /* the session's logged-in user, or NULL */
    struct cJSON *data;      /* the session data object (never NULL) */
    struct cJSON *body;      /* the JSON body after ob_authapi_read_body() */
    ob_authapi_error *errors;
    size_t nerrors, errcap;
    double now;              /* epoch seconds at the start of the request */
    int signup_loaded;       /* cache of ob_authapi_signup_config() */
    bool signup_open;
    const char *signup_suffix;
} ob_authapi;

/* Loads the common-password list and prepares the dummy hash once per
 * process.  Called lazily by ob_authapi_begin(); calling it from the
 * worker's start-up moves that cost out of the first request. */
void ob_auth_worker_init(const struct ob_config *cfg);

ob_authapi *ob_authapi_begin(ob_request *r);

/* The envelope for a body-less status, {"status": N}, where no handler
 * runs (the router's refusals, the access checks). */
void ob_auth_api_status(ob_request *r, int status);

/* ---- input ---- */

/* Reads the JSON body.  Returns 0, or -1 with the response set (400
 * {"status":400} for malformed JSON, a 400 naming the field for a string
 * member with invalid UTF-8 or NUL, 413, 415). */
int ob_authapi_read_body(ob_authapi *a);

enum { OB_FIELD_TRIM = 1 << 0, OB_FIELD_REQUIRED = 1 << 1 };
/* A string member of the body, at most max_chars characters.  Returns 1
 * with *out set, 0 when absent/null/blank (adding `required` if the flag is
 * set), -1 when invalid (error added). */
int ob_authapi_string(ob_authapi *a, const char *name, size_t max_chars, unsigned flags,
                      const char **out);
/* The "email" member: required, a valid address; lower-cased.  NULL
 * when absent or invalid (error added). */
const char *ob_authapi_email_field(ob_authapi *a);
/* A request header by CGI name, trimmed; NULL if absent or over max. */
const char *ob_authapi_header(ob_authapi *a, const char *cgi_name, size_t max);

/* ---- messages and errors (English, German where translated) ---- */

/* The message of an error code of api-auth.md §8 / §6. */
const char *ob_authapi_msg(ob_authapi *a, const char *code);
void ob_authapi_add_error(ob_authapi *a, const char *code, const char *param, const char *message);
/* Adds the password-rule violations of pw (param names the field). */
int ob_authapi_password_rules(ob_authapi *a, const char *param, const char *pw,
                              const char *const similar_to[4]);

/* ---- responses ---- */

void ob_authapi_status(ob_authapi *a, int status);          /* {"status":N} */
void ob_authapi_errors(ob_authapi *a);                      /* 400 with errors */
void ob_authapi_fail(ob_authapi *a, const char *code, const char *param); /* one error */
void ob_authapi_authenticated(ob_authapi *a);               /* 200 user+methods */
void ob_authapi_unauthenticated(ob_authapi *a);             /* 401 flows */
void ob_authapi_reauth_required(ob_authapi *a);             /* 401, is_authenticated */
void ob_authapi_throttled(ob_authapi *a, long retry_after); /* 429 + Retry-After */
void ob_authapi_db_failure(ob_authapi *a);                  /* rollback, 503 (400: ob_db_classify) */
/* Writes a User object (§3). */
void ob_authapi_write_user(ob_authapi *a, ob_json *j, const ob_user *u);
/* Starts a body {"status":N, ...}: the caller adds members and closes it
 * with ob_authapi_end(). */
ob_json *ob_authapi_body(ob_authapi *a, int status);
void ob_authapi_end(ob_authapi *a, ob_json *j);

/* ---- session data, stages, login ---- */

/* The pending stage `id` ("verify_email", "login_by_code"), or NULL when
 * there is none or it expired. */
struct cJSON *ob_authapi_stage(ob_authapi *a, const char *id);
/* Replaces the pending stage (NULL clears it); ob_authapi_save() stores. */
void ob_authapi_set_stage(ob_authapi *a, struct cJSON *stage);
struct cJSON *ob_authapi_new_stage(ob_authapi *a, const char *id, int64_t user_id);
/* Writes the session data back, creating an anonymous session if needed. */
int ob_authapi_save(ob_authapi *a);
/* A method record {"method": m, "at": now}. */
struct cJSON *ob_authapi_method(ob_authapi *a, const char *method);
/* Logs u in: new session key with methods [method], last_login, reset
 * keys invalidated, CSRF rotated.  Takes ownership of method. */
int ob_authapi_login(ob_authapi *a, ob_user *u, struct cJSON *method);
/* Re-keys the current session and appends method to its methods. */
int ob_authapi_rekey(ob_authapi *a, struct cJSON *method);
/* True if the last authentication is within reauthentication_timeout. */
bool ob_authapi_recent(ob_authapi *a);

/* ---- users, keys, mail ---- */

/* The first user matching `where` (SQL over alias u with $1), or NULL;
 * *err is set on a database error. */
ob_user *ob_authapi_user_where(ob_authapi *a, const char *where, const char *param, bool *err);
ob_user *ob_authapi_user_by_id(ob_authapi *a, int64_t id, bool *err);
/* Checks pw against u's hash; with u NULL or an unusable hash it verifies
 * against a dummy hash so that the time taken is the same. */
bool ob_authapi_verify_password(const ob_user *u, const char *pw, bool *needs_rehash);
/* Sets a new password hash, invalidating the user's reset keys. */
int ob_authapi_set_password(ob_authapi *a, int64_t user_id, const char *pw);
/* Creates a one-time key (32 characters) stored hashed in auth_keys. */
int ob_authapi_new_key(ob_authapi *a, const char *kind, int64_t user_id, const char *email,
                       long ttl_seconds, char out[33]);
/* Sends the verification mail for the user's address.  With cooldown set
 * it is skipped within auth.verification_cooldown.  Returns 1 sent, 0
 * skipped (cooldown, or no such address), -1 database error. */
int ob_authapi_send_verification(ob_authapi *a, int64_t user_id, const char *username,
                                 const char *email, bool cooldown);
/* Marks the user's address verified (adding it if missing); makes it
 * primary and copies it to users.email when the user has no primary
 * address; the address's verification keys end.  Returns 0; 1 when
 * another account has the address verified, which the caller answers
 * with `email_taken` after rolling back (the transaction may have failed);
 * -1 on a database error.  The API's paths that verify an address all go
 * through here. */
int ob_authapi_mark_verified(ob_authapi *a, int64_t user_id, const char *email);
/* The address to verify for a login with an unverified e-mail: the
 * primary (or first) address, else users.email added as the primary
 * address.  NULL (with *err false) when the user has no address. */
const char *ob_authapi_verification_address(ob_authapi *a, const ob_user *u, bool *err);
/* True when the user's primary address (or, with no primary, any) is
 * verified.  Returns 1, 0, or -1 on error. */
int ob_authapi_email_verified(ob_authapi *a, int64_t user_id);
/* The site's sign-up switch and e-mail suffix (§6).  Returns 0 or -1. */
int ob_authapi_signup_config(ob_authapi *a, bool *open, const char **suffix);
/* Lower-cases an ASCII address into the arena. */
char *ob_authapi_lower(ob_authapi *a, const char *s);
/* The client's key for per-user rate limits. */
const char *ob_authapi_user_key(ob_authapi *a);

/* ---- handlers (routes_auth.inc) ---- */

void ob_authapi_config(ob_request *r);
void ob_authapi_login_post(ob_request *r);
void ob_authapi_reauthenticate(ob_request *r);
void ob_authapi_session_get(ob_request *r);
void ob_authapi_session_delete(ob_request *r);
void ob_authapi_code_request(ob_request *r);
void ob_authapi_code_confirm(ob_request *r);
void ob_authapi_code_resend(ob_request *r);
void ob_authapi_signup(ob_request *r);
void ob_authapi_verify_get(ob_request *r);
void ob_authapi_verify_post(ob_request *r);
void ob_authapi_verify_resend(ob_request *r);
void ob_authapi_password_request(ob_request *r);
void ob_authapi_password_reset_get(ob_request *r);
void ob_authapi_password_reset_post(ob_request *r);
void ob_authapi_password_change(ob_request *r);
void ob_authapi_email(ob_request *r);

#endif
