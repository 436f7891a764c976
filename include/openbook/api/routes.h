/* routes.h - the handlers of the paths that are not resources (resources
 * are served from their descriptions: registry.h). */
#ifndef OPENBOOK_ROUTES_H
#define OPENBOOK_ROUTES_H

#include "openbook/http/http.h"
#include "openbook/http/router.h"

/* The application's router: the table of routes.c (ob_api_routes,
 * derived from the descriptions), the access checks of access.c and the
 * refusals in each API's envelope.  ob_api_router() fills
 * ob_api_router_state on first use (`openbook serve` calls it before the
 * pool starts, whose metrics count requests by its routes) and returns
 * it. */
extern ob_router ob_api_router_state;
const ob_router *ob_api_router(void);

/* Who may call a route without logging in (api-conventions.md §11.3):
 * ob_route.access. */
enum {
    OB_LOGIN = 0,          /* every method needs an authenticated user */
    OB_ANON_READ = 1,      /* GET/HEAD/OPTIONS allowed anonymously */
    OB_ANON = 2,           /* every method allowed anonymously */
    OB_AUTH_API = 3,       /* /auth-api/: anonymous allowed, CSRF on every unsafe
                              browser request, errors in the auth envelope */
};

/* access.c: authentication (403 for an invalid credential), CSRF and
 * login required, by the route's access (ob_router.access). */
int ob_access_check(ob_request *r, const ob_route *route);
/* access.c: the router's 404/405/413 in the envelope of the path's API:
 * {"status": N} under /auth-api/ (api-auth.md §1.1), {"detail": ...}
 * elsewhere (ob_router.refuse). */
void ob_api_refuse(ob_request *r, int status, const char *detail);

/* routes.c: GET /api/, every collection mapped to its absolute URL. */
void ob_api_root(ob_request *r);
/* schema.c: GET /api/schema/, the OpenAPI document (?format=yaml). */
void ob_api_schema(ob_request *r);
/* health.c: GET /api/core/sites/health/ */
void ob_api_health(ob_request *r);

#endif
