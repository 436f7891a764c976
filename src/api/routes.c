/* routes.c - the routing table: every path the FastCGI app answers.
 * Collections carry their API-root name; GET /api/ is built from them. */
#include <string.h>
#include "openbook/router.h"
#include "openbook/routes.h"
#include "openbook/auth_api.h"

const ob_route ob_routes[] = {
    {"/api/", OB_GET, ob_api_root, OB_ANON, NULL},
    {"/api/core/sites/health/", OB_GET, ob_api_health, OB_ANON, NULL},
    {"/api/core/sites/", OB_GET, ob_api_sites_list, OB_ANON_READ, "core/sites"},
    {"/api/core/sites/{id}/", OB_GET, ob_api_sites_get, OB_ANON_READ, NULL},
    {"/api/core/languages/", OB_GET, ob_api_languages_list, OB_ANON_READ, "core/languages"},
    {"/api/core/languages/{code}/", OB_GET, ob_api_languages_get, OB_ANON_READ, NULL},
    {"/api/auth/current_user/", OB_GET, ob_api_current_user, OB_ANON, "auth/current_user"},
    {"/api/auth/users/", OB_GET | OB_POST, ob_api_users, OB_LOGIN, "auth/users"},
    {"/api/auth/users/{username}/", OB_GET | OB_PUT | OB_PATCH | OB_DELETE, ob_api_user, OB_LOGIN, NULL},
    {"/api/auth/auth_tokens/", OB_GET | OB_POST, ob_api_auth_tokens, OB_LOGIN, "auth/auth_tokens"},
    {"/api/auth/auth_tokens/{id}/", OB_GET | OB_PUT | OB_PATCH | OB_DELETE, ob_api_auth_token, OB_LOGIN, NULL},
#include "../auth/routes_auth.inc"
};
const size_t ob_nroutes = sizeof ob_routes / sizeof ob_routes[0];

/* GET /api/ - maps every collection to its absolute URL. */
void ob_api_root(ob_request *r)
{
    const char *base = ob_request_base_url(r);
    ob_json *j = ob_json_response(r, 200);
    ob_json_object_begin(j);
    for (size_t i = 0; i < ob_nroutes; i++) {
        if (!ob_routes[i].collection)
            continue;
        ob_json_key(j, ob_routes[i].collection);
        ob_json_string(j, ob_arena_printf(r->arena, "%s/api/%s/", base, ob_routes[i].collection));
    }
    ob_json_object_end(j);
}
