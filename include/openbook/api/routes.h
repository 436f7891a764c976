/* routes.h - the handlers the routing table (src/api/routes.c) points at.
 * One file per area under src/api/. */
#ifndef OPENBOOK_ROUTES_H
#define OPENBOOK_ROUTES_H

#include "openbook/http/http.h"
#include "openbook/http/router.h"

/* The application's router: the table of routes.c, the access checks of
 * access.c and the refusals in each API's envelope. */
extern const ob_router ob_api_router;
extern const ob_route ob_routes[];
extern const size_t ob_nroutes;

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

void ob_api_root(ob_request *r);
/* schema.c: GET /api/schema/, the OpenAPI document (?format=yaml). */
void ob_api_schema(ob_request *r);
/* core.c */
void ob_api_health(ob_request *r);
void ob_api_sites_list(ob_request *r);
void ob_api_sites_get(ob_request *r);
void ob_api_languages(ob_request *r);
/* auth_perms.c, auth_roles.c: the permission model (api-resources.md §1) */
void ob_api_permissions(ob_request *r);
void ob_api_permission_texts(ob_request *r);
void ob_api_allowed_role_permissions(ob_request *r);
void ob_api_anonymous_permissions(ob_request *r);
void ob_api_groups(ob_request *r);
void ob_api_scope_types(ob_request *r);
void ob_api_scope_type(ob_request *r);
void ob_api_roles(ob_request *r);
/* content.c: the learning content (api-resources.md §3) */
void ob_api_library_groups(ob_request *r);
void ob_api_library_links(ob_request *r);
void ob_api_textbooks(ob_request *r);
void ob_api_textbook_pages(ob_request *r);
void ob_api_courses(ob_request *r);
void ob_api_course_materials(ob_request *r);
void ob_api_course_material_page_ranges(ob_request *r);
void ob_api_role_assignments(ob_request *r);
void ob_api_enrollment_methods(ob_request *r);
void ob_api_enroll(ob_request *r);
void ob_api_access_requests(ob_request *r);
void ob_api_access_request_accept(ob_request *r);
void ob_api_access_request_deny(ob_request *r);
void ob_api_auth_configs(ob_request *r);
/* signup_groups.c */
void ob_api_signup_group_assignments(ob_request *r);
/* auth_users.c */
void ob_api_current_user(ob_request *r);
void ob_api_users(ob_request *r);
void ob_api_user(ob_request *r);
void ob_api_auth_tokens(ob_request *r);
void ob_api_auth_token(ob_request *r);

#endif
