/* router.h - matching a request to a route of a table the caller gives.
 *
 * Patterns are literal segments and "{name}" placeholders.  Under /api/ the
 * trailing slash is optional (spec deviation 19).  The router answers 404,
 * 405 (with Allow) and OPTIONS itself, and runs GET handlers for HEAD.  It
 * knows nothing of the application: the table, the access checks and the
 * format of its own refusals come with the ob_router it is given (the
 * application's is ob_api_router, src/api/routes.c). */
#ifndef OPENBOOK_ROUTER_H
#define OPENBOOK_ROUTER_H

#include <stdbool.h>
#include "openbook/http/http.h"

typedef void (*ob_handler)(ob_request *r);

typedef struct ob_route {
    const char *pattern;   /* e.g. "/api/core/sites/{id}/" */
    unsigned methods;      /* mask of ob_method */
    ob_handler handler;
    /* The application's: who may call the route (read by its access hook)
     * and the name a collection is listed under by the API root (NULL for
     * items and actions).  The router does not look at them. */
    int access;
    const char *collection;
    /* Handed to the handler as r->route_data (a generic handler's
     * resource description); NULL for most routes. */
    const void *data;
    /* The largest multipart/form-data body the route takes (other bodies:
     * http.max_body_bytes).  Routes that take files say which limit
     * applies, so that the 413 comes before anything else. */
    int uploads;           /* OB_ROUTE_NO_FILES, OB_ROUTE_FILES, OB_ROUTE_ARCHIVE */
} ob_route;

enum {
    OB_ROUTE_NO_FILES = 0, /* http.max_body_bytes for every body */
    OB_ROUTE_FILES,        /* multipart: http.max_upload_bytes */
    OB_ROUTE_ARCHIVE,      /* multipart: http.library_archive_max_bytes + the form */
};

typedef struct ob_router {
    const ob_route *routes;
    size_t nroutes;
    /* Runs between the path/size checks and the method check (the
     * application authenticates and enforces CSRF and login here).  Returns
     * 0 to go on, -1 when it has answered.  NULL: no checks. */
    int (*access)(ob_request *r, const ob_route *route);
    /* Answers the router's own refusals, 404, 405 and 413, whose detail
     * ("Not found.") it is given.  NULL: ob_fail(r, status, detail). */
    void (*refuse)(ob_request *r, int status, const char *detail);
} ob_router;

/* Finds and runs the handler for r, in the order of checks of
 * api-conventions.md §5: path (404), body size (413), access (403 from the
 * hook), method (405 / OPTIONS), handler.  The first pattern that matches
 * owns the path; one pattern may be listed several times with different
 * methods. */
void ob_route_dispatch(ob_request *r, const ob_router *router);

/* Matches path against pattern, filling r->path_params.  Exposed for tests. */
bool ob_route_match(const char *pattern, const char *path, size_t path_len, ob_request *r);

#endif
