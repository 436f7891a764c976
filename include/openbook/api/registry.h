/* registry.h - what is derived from the one table of descriptions
 * (OB_API_RESOURCES, resources.h): the list itself, lookups, the routing
 * table and the OpenAPI document.
 *
 * A description carries its path, access, operations, actions and
 * handlers (resource.h); from those the routing table gets, per resource,
 * a collection route (GET when it lists, POST when it creates), an item
 * route (GET / PUT / PATCH / DELETE by its ops) and its action routes, so
 * the router's 405 and Allow header and the document's operations all say
 * what the description offers.  The contract suite
 * (test/integration/test_contract.py) derives its tests from the document,
 * so a resource listed there gets them for free. */
#ifndef OPENBOOK_REGISTRY_H
#define OPENBOOK_REGISTRY_H

#include <stddef.h>
#include "openbook/core/buf.h"
#include "openbook/api/resource.h"
#include "openbook/api/resources.h"
#include "openbook/http/router.h"

/* The table, in its order. */
extern const ob_resource *const ob_api_resources[];
extern const size_t ob_api_nresources;

/* The API-root name of a description ("core/sites", from its path), or
 * NULL for shapes. */
const char *ob_api_collection(const ob_resource *res);
/* The description of a collection name / whether a description is in the
 * table; NULL / false when absent. */
const ob_resource *ob_api_resource(const char *collection);
bool ob_api_listed(const ob_resource *res);

/* The routing table of the FastCGI application: /api/ itself, the
 * document, health and WebSocket tickets, every resource's routes in
 * table order, then the authentication API (src/auth/routes_auth.inc).
 * Built on first use and kept for the life of the process. */
const ob_route *ob_api_routes(size_t *nroutes);

/* schema.c: the OpenAPI document of a routing table (the /api/ part)
 * and the descriptions it serves, appended to out.  routes.c:
 * ob_schema_json/_yaml return this process's copy for ob_api_routes(),
 * built on first use and kept for the life of the worker. */
void ob_schema_write(ob_buf *out, const ob_route *routes, size_t nroutes);
const char *ob_schema_json(size_t *len);
const char *ob_schema_yaml(size_t *len);
/* yaml.c: appends the JSON text json[0..len) as YAML. */
void ob_yaml_from_json(ob_buf *out, const char *json, size_t len);

#endif
