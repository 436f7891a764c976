/* session.h - server-side sessions (api-conventions.md §11, api-auth.md §5).
 *
 * The key is 32 random characters; only its SHA-256 is stored.  Browser
 * clients carry it in the `sessionid` cookie, app clients in
 * X-Session-Token (returned as meta.session_token).  `data` is a JSON
 * object holding the pending stage and the authentication methods. */
#ifndef OPENBOOK_SESSION_H
#define OPENBOOK_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include "openbook/auth/auth.h"

struct cJSON;

/* Creates a new session (new key) for user_id (0 = none) with data (JSON
 * object text), replacing r->session if there was one (its row is
 * deleted).  Sets the cookie (browser) or remembers the token for
 * meta.session_token (app).  Returns 0 or -1 (db error). */
int ob_session_start(ob_request *r, int64_t user_id, const char *data_json, bool app_client);

/* Writes r->session's data back and extends its expiry. */
int ob_session_save(ob_request *r, const char *data_json);

/* Deletes r->session and expires the cookie (browser). */
int ob_session_end(ob_request *r, bool app_client);

/* Ends every session of a user except (optionally) the current one. */
int ob_session_end_all(ob_request *r, int64_t user_id, bool keep_current);

/* The new key after ob_session_start (NULL if none), for meta.session_token. */
const char *ob_session_new_key(const ob_request *r);

/* Sets the csrftoken cookie (browser) if the request had none, or always
 * when rotate is true (login). */
void ob_csrf_cookie(ob_request *r, bool rotate);

#endif
