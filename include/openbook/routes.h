/* routes.h - the handlers of the paths that are not resources (resources
 * are served from their descriptions: registry.h). */
#ifndef OPENBOOK_ROUTES_H
#define OPENBOOK_ROUTES_H

#include "openbook/http.h"

/* access.c: installs the authentication/CSRF/login checks in the router. */
void ob_access_install(void);

/* routes.c: GET /api/, every collection mapped to its absolute URL. */
void ob_api_root(ob_request *r);
/* schema.c: GET /api/schema/, the OpenAPI document (?format=yaml). */
void ob_api_schema(ob_request *r);
/* health.c: GET /api/core/sites/health/ */
void ob_api_health(ob_request *r);

#endif
