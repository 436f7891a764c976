/* resources.h - the one table of resource descriptions.
 *
 * OB_API_RESOURCES lists every description the API serves, in the order
 * of the API root and of the OpenAPI document.  The routes (with their
 * methods, access and Allow header), the API root, the registry and the
 * document are all derived from it (registry.h).  Adding a resource is its
 * description, in the file of its area (src/api/resources/), and its line
 * here (and its table in a migration).  Shapes (OB_RES_SHAPE) come last:
 * they have no path. */
#ifndef OPENBOOK_RESOURCES_H
#define OPENBOOK_RESOURCES_H

#include "openbook/api/resource.h"

#define OB_API_RESOURCES(X)                                                                \
    /* resources/core.c (api-resources.md §2) */                                           \
    X(ob_res_sites)                                                                        \
    X(ob_res_languages)                                                                    \
    X(ob_res_media_files)                                                                  \
    /* resources/html_libraries.c (§2, libraries.md) */                                    \
    X(ob_res_html_libraries)                                                               \
    X(ob_res_html_library_texts)                                                           \
    X(ob_res_html_library_versions)                                                        \
    X(ob_res_html_components)                                                              \
    X(ob_res_html_component_definitions)                                                   \
    /* resources/users.c */                                                                \
    X(ob_res_current_user)                                                                 \
    X(ob_res_users)                                                                        \
    X(ob_res_auth_tokens)                                                                  \
    /* resources/permissions.c, roles.c, auth_configs.c, signup_groups.c (§1) */           \
    X(ob_res_permissions)                                                                  \
    X(ob_res_permission_texts)                                                             \
    X(ob_res_allowed_role_permissions)                                                     \
    X(ob_res_anonymous_permissions)                                                        \
    X(ob_res_groups)                                                                       \
    X(ob_res_scope_types)                                                                  \
    X(ob_res_roles)                                                                        \
    X(ob_res_role_assignments)                                                             \
    X(ob_res_enrollment_methods)                                                           \
    X(ob_res_access_requests)                                                              \
    X(ob_res_auth_configs)                                                                 \
    X(ob_res_signup_group_assignments)                                                     \
    /* resources/content.c: the learning content (§3) */                                   \
    X(ob_res_library_groups)                                                               \
    X(ob_res_library_links)                                                                \
    X(ob_res_textbooks)                                                                    \
    X(ob_res_textbook_pages)                                                               \
    X(ob_res_courses)                                                                      \
    X(ob_res_course_materials)                                                             \
    X(ob_res_course_material_page_ranges)                                                  \
    /* shapes */                                                                           \
    X(ob_res_users_public)

#define OB_DECLARE_RESOURCE(name) extern const ob_resource name;
OB_API_RESOURCES(OB_DECLARE_RESOURCE)
#undef OB_DECLARE_RESOURCE

/* POST /api/core/html_library/install/ (libraries.md §5): a plain route of
 * routes.c (not an item action), answering with a version. */
void ob_api_library_install(ob_request *r);

/* Enroll (permissions.md §8), shared by self-enrolment and accepted
 * access requests, in the caller's transaction.  method is
 * "self-enrollment" or "access-request"; exactly one of em_id / ar_id is
 * set.  end_date: the source's end date (microseconds, has_end), else the
 * duration.  Writes the assignment id to *out.  0, or -1 (answered). */
int ob_enroll(ob_request *r, int scope_type_id, const char *scope_uuid, const char *role_id,
              long long user_id, const char *method, const char *em_id, const char *ar_id,
              bool has_end, long long end_us, const char *period, double value,
              const char **out);

/* Deletes what hangs off scopes that are being deleted: their roles (and
 * with them, by foreign keys, their assignments, enrollment methods and
 * access requests) and their public permissions, after queueing
 * enrollment.removed and revoke_user for every assignment that goes.
 * uuid_array: a PostgreSQL array literal "{uuid,...}" of scopes of one
 * type (a library group's subtree).  In the write's transaction; three
 * statements whatever the number of scopes.  0, or -1 after answering. */
int ob_scope_delete_dependents(ob_write *w, int scope_type_id, const char *uuid_array);

#endif
