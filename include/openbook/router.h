/* router.h - the routing table.
 *
 * Patterns are literal segments and "{name}" placeholders.  Under /api/ the
 * trailing slash is optional (spec deviation 19).  The router answers 404,
 * 405 (with Allow) and OPTIONS itself, and runs GET handlers for HEAD. */
#ifndef OPENBOOK_ROUTER_H
#define OPENBOOK_ROUTER_H

#include <stdbool.h>
#include "openbook/http.h"

typedef void (*ob_handler)(ob_request *r);

typedef struct ob_route {
    const char *pattern;   /* e.g. "/api/core/sites/{id}/" */
    unsigned methods;      /* mask of ob_method */
    ob_handler handler;
    /* Collections are listed by the API root under this name, e.g.
     * "core/sites"; NULL for items and actions. */
    const char *collection;
} ob_route;

extern const ob_route ob_routes[];
extern const size_t ob_nroutes;

/* Finds and runs the handler for r, or answers 404/405/OPTIONS. */
void ob_route_dispatch(ob_request *r);

/* Matches path against pattern, filling r->path_params.  Exposed for tests. */
bool ob_route_match(const char *pattern, const char *path, size_t path_len, ob_request *r);

#endif
