/* resources.h - the resource descriptions of the permission model
 * (src/api/auth_perms.c, auth_roles.c, core.c), for expansions across
 * files, the registry and the OpenAPI document. */
#ifndef OPENBOOK_RESOURCES_H
#define OPENBOOK_RESOURCES_H

#include "openbook/api/resource.h"

/* auth_perms.c */
extern const ob_resource ob_res_permissions, ob_res_permission_texts,
    ob_res_allowed_role_permissions, ob_res_anonymous_permissions, ob_res_groups;
/* auth_roles.c */
extern const ob_resource ob_res_roles, ob_res_role_assignments, ob_res_enrollment_methods,
    ob_res_access_requests;
/* content.c (api-resources.md §3) */
extern const ob_resource ob_res_library_groups, ob_res_library_links, ob_res_textbooks,
    ob_res_textbook_pages, ob_res_courses, ob_res_course_materials,
    ob_res_course_material_page_ranges;
/* auth_configs.c */
extern const ob_resource ob_res_auth_configs;
/* signup_groups.c */
extern const ob_resource ob_res_signup_group_assignments;
/* auth_users.c: what a user reference expands to */
extern const ob_resource users_public;

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
