/* ratelimit.h - counters per action and key in fixed windows
 * (api-auth.md §7).
 *
 * The counters live in Redis (one INCR+EXPIRE script per hit), so every
 * worker and every host behind the same Redis shares them.  When Redis is
 * unavailable the limiter fails safe: it counts in this process only, with
 * the limit divided by the number of workers (at least 1), so that the
 * whole pool together still stays within the configured limit. */
#ifndef OPENBOOK_RATELIMIT_H
#define OPENBOOK_RATELIMIT_H

#include <stdbool.h>
#include "openbook/http/http.h"

/* One limit of api-auth.md §7: at most `limit` events per `window`
 * seconds for one key. */
typedef struct ob_rate {
    const char *action;  /* "login", "login_failed", ... (part of the key) */
    long limit;
    long window;
    bool per_ip;         /* keyed by client address: auth.ip_limit_factor applies */
} ob_rate;

extern const ob_rate ob_rate_login_ip;            /* 30/min per IP */
extern const ob_rate ob_rate_login_failed_ip;     /* 10/min per IP */
extern const ob_rate ob_rate_login_failed_user;   /* 5 per 5 min per username */
extern const ob_rate ob_rate_signup_ip;           /* 20/min per IP */
extern const ob_rate ob_rate_reset_ip;            /* 20/min per IP */
extern const ob_rate ob_rate_reset_email;         /* 5/min per address */
extern const ob_rate ob_rate_reset_key_ip;        /* 20/min per IP */
extern const ob_rate ob_rate_code_ip;             /* 20/min per IP */
extern const ob_rate ob_rate_code_email;          /* 3/min per address */
extern const ob_rate ob_rate_change_password;     /* 5/min per user */
extern const ob_rate ob_rate_manage_email;        /* 10/min per user */
extern const ob_rate ob_rate_reauthenticate;      /* 10/min per user */

/* The name (ob_rate.action) of limit i of the list above, NULL past the
 * last: the labels of the pool's refusal counters (ob_app.ratelimit_name;
 * ob_ratelimit_hit counts a refusal under its limit's index). */
const char *ob_ratelimit_name(size_t i);

/* Counts one event for key.  Returns 0 when it is within the limit, else
 * the seconds until the window ends (>= 1, for Retry-After). */
long ob_ratelimit_hit(ob_request *r, const ob_rate *rate, const char *key);

/* Gives back one event counted by ob_ratelimit_hit.  A limit that must
 * hold under parallel requests is taken before the check it guards (hit,
 * then check, then undo when the event turned out not to count, e.g. a
 * correct password): a count made after the check lets every request in
 * flight pass it.  Never goes below 0 or starts a window. */
void ob_ratelimit_undo(ob_request *r, const ob_rate *rate, const char *key);

/* The client address for per-IP limits (the front server's REMOTE_ADDR). */
const char *ob_ratelimit_client(const ob_request *r);

/* Empties the in-process fallback table (tests). */
void ob_ratelimit_reset_local(void);

#endif
