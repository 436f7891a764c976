/* router.h - the routing table.
 *
 * Patterns are literal segments and "{name}" placeholders.  Under /api/ the
 * trailing slash is optional (spec deviation 19).  The router answers 404,
 * 405 (with Allow) and OPTIONS itself, and runs GET handlers for HEAD. */
#ifndef OPENBOOK_ROUTER_H
#define OPENBOOK_ROUTER_H

#include <stdbool.h>
#include "openbook/http/http.h"

typedef void (*ob_handler)(ob_request *r);

/* Who may call a route without logging in (api-conventions.md §11.3). */
enum {
    OB_LOGIN = 0,          /* every method needs an authenticated user */
    OB_ANON_READ = 1,      /* GET/HEAD/OPTIONS allowed anonymously */
    OB_ANON = 2,           /* every method allowed anonymously */
    OB_AUTH_API = 3,       /* /auth-api/: anonymous allowed, CSRF on every unsafe
                              browser request, errors in the auth envelope */
};

/* The /auth-api/ envelope for a body-less status: {"status": N}. */
void ob_auth_api_status(ob_request *r, int status);

typedef struct ob_route {
    const char *pattern;   /* e.g. "/api/core/sites/{id}/" */
    unsigned methods;      /* mask of ob_method */
    ob_handler handler;
    int access;            /* OB_LOGIN, OB_ANON_READ, OB_ANON */
    /* Collections are listed by the API root under this name, e.g.
     * "core/sites"; NULL for items and actions. */
    const char *collection;
} ob_route;

extern const ob_route ob_routes[];
extern const size_t ob_nroutes;

/* Finds and runs the handler for r, in the order of checks of
 * api-conventions.md §5: path (404), body size (413), authentication and
 * CSRF (403), login required (403), method (405 / OPTIONS), handler. */
void ob_route_dispatch(ob_request *r);

/* Runs between the path/size checks and the method check: the API layer
 * sets it to authenticate and enforce CSRF and login (src/api/access.c),
 * which keeps the HTTP layer free of database code.  Returns 0 to go on,
 * -1 when it has answered. */
extern int (*ob_dispatch_hook)(ob_request *r, const ob_route *route);

/* Matches path against pattern, filling r->path_params.  Exposed for tests. */
bool ob_route_match(const char *pattern, const char *path, size_t path_len, ob_request *r);

#endif
