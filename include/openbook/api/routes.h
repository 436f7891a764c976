/* routes.h - the handlers the routing table (src/api/routes.c) points at.
 * One file per area under src/api/. */
#ifndef OPENBOOK_ROUTES_H
#define OPENBOOK_ROUTES_H

#include "openbook/http/http.h"

/* access.c: installs the authentication/CSRF/login checks in the router. */
void ob_access_install(void);

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
