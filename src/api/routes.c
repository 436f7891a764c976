/* routes.c - the routing table: every path the FastCGI app answers.
 * Collections carry their API-root name; GET /api/ is built from them. */
#include <string.h>
#include "openbook/http/router.h"
#include "openbook/api/routes.h"
#include "openbook/auth/auth_api.h"
#include "openbook/api/ws.h"

const ob_route ob_routes[] = {
    {"/api/", OB_GET, ob_api_root, OB_ANON, NULL},
    {"/api/schema/", OB_GET, ob_api_schema, OB_ANON, NULL},
    {"/api/core/sites/health/", OB_GET, ob_api_health, OB_ANON, NULL},
    /* WebSocket tickets (websocket.md §3): anonymous callers allowed. */
    {"/api/ws/ticket/", OB_POST, ob_api_ws_ticket, OB_ANON, NULL},
    {"/api/core/sites/", OB_GET, ob_api_sites_list, OB_ANON_READ, "core/sites"},
    {"/api/core/sites/{id}/", OB_GET | OB_PUT | OB_PATCH, ob_api_sites_get, OB_ANON_READ, NULL},
    {"/api/core/languages/", OB_GET | OB_POST, ob_api_languages, OB_ANON_READ, "core/languages"},
    {"/api/core/languages/{code}/", OB_GET | OB_PUT | OB_PATCH | OB_DELETE, ob_api_languages,
     OB_ANON_READ, NULL},
    {"/api/auth/current_user/", OB_GET, ob_api_current_user, OB_ANON, "auth/current_user"},
    {"/api/auth/users/", OB_GET | OB_POST, ob_api_users, OB_LOGIN, "auth/users"},
    {"/api/auth/users/{username}/", OB_GET | OB_PUT | OB_PATCH | OB_DELETE, ob_api_user, OB_LOGIN, NULL},
    {"/api/auth/auth_tokens/", OB_GET | OB_POST, ob_api_auth_tokens, OB_LOGIN, "auth/auth_tokens"},
    {"/api/auth/auth_tokens/{id}/", OB_GET | OB_PUT | OB_PATCH | OB_DELETE, ob_api_auth_token, OB_LOGIN, NULL},
    /* The permission model (api-resources.md §1). */
    {"/api/auth/permissions/", OB_GET, ob_api_permissions, OB_ANON_READ, "auth/permissions"},
    {"/api/auth/permissions/{id}/", OB_GET, ob_api_permissions, OB_ANON_READ, NULL},
    {"/api/auth/permission_texts/", OB_GET | OB_POST, ob_api_permission_texts, OB_ANON_READ,
     "auth/permission_texts"},
    {"/api/auth/permission_texts/{id}/", OB_GET | OB_PUT | OB_PATCH | OB_DELETE,
     ob_api_permission_texts, OB_ANON_READ, NULL},
    {"/api/auth/allowed_role_permissions/", OB_GET | OB_POST, ob_api_allowed_role_permissions,
     OB_ANON_READ, "auth/allowed_role_permissions"},
    {"/api/auth/allowed_role_permissions/{id}/", OB_GET | OB_DELETE,
     ob_api_allowed_role_permissions, OB_ANON_READ, NULL},
    {"/api/auth/anonymous_permissions/", OB_GET | OB_POST, ob_api_anonymous_permissions, OB_LOGIN,
     "auth/anonymous_permissions"},
    {"/api/auth/anonymous_permissions/{id}/", OB_GET | OB_DELETE, ob_api_anonymous_permissions,
     OB_LOGIN, NULL},
    {"/api/auth/groups/", OB_GET | OB_POST, ob_api_groups, OB_LOGIN, "auth/groups"},
    {"/api/auth/groups/{id}/", OB_GET | OB_PUT | OB_PATCH | OB_DELETE, ob_api_groups, OB_LOGIN,
     NULL},
    {"/api/auth/scope_types/", OB_GET, ob_api_scope_types, OB_LOGIN, "auth/scope_types"},
    {"/api/auth/scope_types/{key}/", OB_GET, ob_api_scope_type, OB_LOGIN, NULL},
    {"/api/auth/roles/", OB_GET | OB_POST, ob_api_roles, OB_LOGIN, "auth/roles"},
    {"/api/auth/roles/{id}/", OB_GET | OB_PUT | OB_PATCH | OB_DELETE, ob_api_roles, OB_LOGIN,
     NULL},
    {"/api/auth/role_assignments/", OB_GET | OB_POST, ob_api_role_assignments, OB_LOGIN,
     "auth/role_assignments"},
    {"/api/auth/role_assignments/{id}/", OB_GET | OB_PUT | OB_PATCH | OB_DELETE,
     ob_api_role_assignments, OB_LOGIN, NULL},
    {"/api/auth/enrollment_methods/", OB_GET | OB_POST, ob_api_enrollment_methods, OB_LOGIN,
     "auth/enrollment_methods"},
    {"/api/auth/enrollment_methods/{id}/", OB_GET | OB_PUT | OB_PATCH | OB_DELETE,
     ob_api_enrollment_methods, OB_LOGIN, NULL},
    {"/api/auth/enrollment_methods/{id}/enroll/", OB_PUT, ob_api_enroll, OB_LOGIN, NULL},
    {"/api/auth/access_requests/", OB_GET | OB_POST, ob_api_access_requests, OB_LOGIN,
     "auth/access_requests"},
    {"/api/auth/access_requests/{id}/", OB_GET | OB_PUT | OB_PATCH | OB_DELETE,
     ob_api_access_requests, OB_LOGIN, NULL},
    {"/api/auth/access_requests/{id}/accept/", OB_PUT, ob_api_access_request_accept, OB_LOGIN,
     NULL},
    {"/api/auth/access_requests/{id}/deny/", OB_PUT, ob_api_access_request_deny, OB_LOGIN, NULL},
    {"/api/auth/auth_configs/", OB_GET, ob_api_auth_configs, OB_ANON_READ, "auth/auth_configs"},
    {"/api/auth/auth_configs/{site}/", OB_GET | OB_PUT | OB_PATCH, ob_api_auth_configs,
     OB_ANON_READ, NULL},
    {"/api/auth/signup_group_assignments/", OB_GET | OB_POST, ob_api_signup_group_assignments,
     OB_LOGIN, "auth/signup_group_assignments"},
    {"/api/auth/signup_group_assignments/{id}/", OB_GET | OB_PUT | OB_PATCH | OB_DELETE,
     ob_api_signup_group_assignments, OB_LOGIN, NULL},
    /* The learning content (api-resources.md §3): anonymous reads. */
    {"/api/content/library_groups/", OB_GET | OB_POST, ob_api_library_groups, OB_ANON_READ, "content/library_groups"},
    {"/api/content/library_groups/{id}/", OB_GET | OB_PUT | OB_PATCH | OB_DELETE, ob_api_library_groups, OB_ANON_READ,
     NULL},
    {"/api/content/library_links/", OB_GET | OB_POST, ob_api_library_links, OB_ANON_READ, "content/library_links"},
    {"/api/content/library_links/{id}/", OB_GET | OB_PUT | OB_PATCH | OB_DELETE, ob_api_library_links, OB_ANON_READ,
     NULL},
    {"/api/content/textbooks/", OB_GET | OB_POST, ob_api_textbooks, OB_ANON_READ, "content/textbooks"},
    {"/api/content/textbooks/{id}/", OB_GET | OB_PUT | OB_PATCH | OB_DELETE, ob_api_textbooks, OB_ANON_READ,
     NULL},
    {"/api/content/textbook_pages/", OB_GET | OB_POST, ob_api_textbook_pages, OB_ANON_READ, "content/textbook_pages"},
    {"/api/content/textbook_pages/{id}/", OB_GET | OB_PUT | OB_PATCH | OB_DELETE, ob_api_textbook_pages, OB_ANON_READ,
     NULL},
    {"/api/content/courses/", OB_GET | OB_POST, ob_api_courses, OB_ANON_READ, "content/courses"},
    {"/api/content/courses/{id}/", OB_GET | OB_PUT | OB_PATCH | OB_DELETE, ob_api_courses, OB_ANON_READ,
     NULL},
    {"/api/content/course_materials/", OB_GET | OB_POST, ob_api_course_materials, OB_ANON_READ, "content/course_materials"},
    {"/api/content/course_materials/{id}/", OB_GET | OB_PUT | OB_PATCH | OB_DELETE, ob_api_course_materials, OB_ANON_READ,
     NULL},
    {"/api/content/course_material_page_ranges/", OB_GET | OB_POST, ob_api_course_material_page_ranges, OB_ANON_READ, "content/course_material_page_ranges"},
    {"/api/content/course_material_page_ranges/{id}/", OB_GET | OB_PUT | OB_PATCH | OB_DELETE, ob_api_course_material_page_ranges, OB_ANON_READ,
     NULL},
#include "../auth/routes_auth.inc"
};
const size_t ob_nroutes = sizeof ob_routes / sizeof ob_routes[0];

const ob_router ob_api_router = {
    .routes = ob_routes,
    .nroutes = sizeof ob_routes / sizeof ob_routes[0],
    .access = ob_access_check,
    .refuse = ob_api_refuse,
};

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
