/* registry.c - the list of every resource description (see registry.h). */
#include <string.h>
#include "openbook/api/registry.h"
#include "openbook/http/validate.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const text_formats[] = {"TEXT", "HTML", "MD", NULL};
static const char *const user_types[] = {"human", "app", NULL};

/* users: written by hand in auth_users.c (parse_user_input, user_create);
 * api-resources.md "users". */
static const ob_wfield user_wfields[] = {
    {.name = "username",
     .kind = OB_W_TEXT,
     .flags = OB_WF_REQUIRED | OB_WF_CREATE_ONLY,
     .max_len = OB_USERNAME_MAX},
    {.name = "first_name", .kind = OB_W_TEXT, .flags = OB_WF_BLANK, .max_len = OB_USERNAME_MAX},
    {.name = "last_name", .kind = OB_W_TEXT, .flags = OB_WF_BLANK, .max_len = OB_USERNAME_MAX},
    {.name = "description", .kind = OB_W_TEXT, .flags = OB_WF_BLANK},
    {.name = "picture", .kind = OB_W_CUSTOM, .flags = OB_WF_BLANK},
    {.name = "is_staff", .kind = OB_W_BOOL, .flags = OB_WF_SUPERUSER},
    {.name = "email",
     .kind = OB_W_TEXT,
     .flags = OB_WF_REQUIRED | OB_WF_SUPERUSER,
     .max_len = OB_EMAIL_MAX,
     .format = OB_FMT_EMAIL},
    {.name = "user_type", .kind = OB_W_TEXT, .flags = OB_WF_SUPERUSER, .choices = user_types},
    {.name = "is_active", .kind = OB_W_BOOL, .flags = OB_WF_SUPERUSER},
    {.name = "is_superuser", .kind = OB_W_BOOL, .flags = OB_WF_SUPERUSER},
    {.name = "groups", .kind = OB_W_GROUP_LIST, .flags = OB_WF_SUPERUSER},
    {.name = "user_permissions", .kind = OB_W_PERM_LIST, .flags = OB_WF_SUPERUSER},
    {.name = "password",
     .kind = OB_W_TEXT,
     .flags = OB_WF_SUPERUSER | OB_WF_WRITE_ONLY | OB_WF_NO_TRIM},
};

static const ob_field_note user_notes[] = {
    {.name = "username", .min_length = OB_USERNAME_MIN, .pattern = "^[A-Za-z0-9@.+_-]+$"},
    {.name = "email", .flags = OB_NOTE_UPDATE_OPTIONAL},
};

/* auth_tokens: written by hand in auth_users.c (parse_token_input,
 * token_create); api-resources.md "auth_tokens". */
static const ob_wfield token_wfields[] = {
    {.name = "user", .kind = OB_W_USER, .flags = OB_WF_CREATE_ONLY},
    {.name = "name", .kind = OB_W_TEXT, .flags = OB_WF_REQUIRED, .max_len = 255},
    {.name = "description", .kind = OB_W_TEXT, .flags = OB_WF_BLANK},
    {.name = "text_format", .kind = OB_W_TEXT, .choices = text_formats},
    {.name = "is_active", .kind = OB_W_BOOL},
    {.name = "start_date", .kind = OB_W_DATETIME, .flags = OB_WF_NULL},
    {.name = "end_date", .kind = OB_W_DATETIME, .flags = OB_WF_NULL},
};

static const ob_field_note token_notes[] = {
    {.name = "user", .flags = OB_NOTE_NOT_NULLABLE},
    {.name = "token", .flags = OB_NOTE_SHOWN_ONCE | OB_NOTE_NULLABLE},
};

/* course_materials: null is refused with the spec's own message. */
static const ob_field_note material_notes[] = {
    {.name = "textbook", .flags = OB_NOTE_NOT_NULLABLE},
};

const ob_registry_entry ob_registry[] = {
    {.collection = "core/sites",
     .resource = &sites,
     .summary = "The site (the configured one is 1)."},
    {.collection = "core/languages",
     .resource = &languages,
     .summary = "Languages of translated texts."},
    {.collection = "auth/current_user",
     .resource = &current_user,
     .kind = OB_REG_SINGLE,
     .schema_name = "CurrentUser",
     .summary = "The requester; {\"is_authenticated\": false} when anonymous."},
    {.collection = "auth/users",
     .resource = &users,
     .summary = "User accounts; the admin fields exist for superusers only.",
     .wfields = user_wfields,
     .nwfields = N(user_wfields),
     .gated_ops = OB_CAN_CREATE,
     .gate = OB_ADMIN_SUPERUSER,
     .notes = user_notes,
     .nnotes = N(user_notes)},
    {.collection = "auth/auth_tokens",
     .resource = &tokens,
     .summary = "API tokens; the token itself is shown once, in the answer of the create.",
     .wfields = token_wfields,
     .nwfields = N(token_wfields),
     .notes = token_notes,
     .nnotes = N(token_notes)},
    /* The permission model (auth_perms.c, auth_roles.c, auth_configs.c). */
    {.collection = "auth/permissions",
     .resource = &ob_res_permissions,
     .summary = "The permission catalogue."},
    {.collection = "auth/permission_texts",
     .resource = &ob_res_permission_texts,
     .summary = "Translated permission names."},
    {.collection = "auth/allowed_role_permissions",
     .resource = &ob_res_allowed_role_permissions,
     .summary = "Which permissions roles and public permissions may hold, per scope type."},
    {.collection = "auth/anonymous_permissions",
     .resource = &ob_res_anonymous_permissions,
     .summary = "Permissions granted to everybody, anonymous users included."},
    {.collection = "auth/groups",
     .resource = &ob_res_groups,
     .summary = "User groups and their model permissions."},
    {.collection = "auth/scope_types",
     .kind = OB_REG_ARRAY,
     .summary = "The scope types: a plain array; items list the scopes the requester may "
                "view and the whitelisted permissions."},
    {.collection = "auth/roles",
     .resource = &ob_res_roles,
     .summary = "Roles within a scope."},
    {.collection = "auth/role_assignments",
     .resource = &ob_res_role_assignments,
     .summary = "Who holds which role in a scope."},
    {.collection = "auth/enrollment_methods",
     .resource = &ob_res_enrollment_methods,
     .summary = "Self-enrolment into a role; PUT {id}/enroll/ enrols the requester."},
    {.collection = "auth/access_requests",
     .resource = &ob_res_access_requests,
     .summary = "Requests for a role; PUT {id}/accept/ and {id}/deny/ decide them."},
    {.collection = "auth/auth_configs",
     .resource = &ob_res_auth_configs,
     .summary = "Authentication settings of the site (keyed by the site id)."},
    {.collection = "auth/signup_group_assignments",
     .resource = &ob_res_signup_group_assignments,
     .summary = "The groups a new account joins at sign-up; assertions and the staff and "
                "superuser flags apply to provider sign-ups only."},
    /* The learning content (content.c). */
    {.collection = "content/library_groups",
     .resource = &ob_res_library_groups,
     .summary = "The library: a tree of groups (a scope); slugs are unique among siblings."},
    {.collection = "content/library_links",
     .resource = &ob_res_library_links,
     .summary = "A group's link to a course or textbook of another group."},
    {.collection = "content/textbooks",
     .resource = &ob_res_textbooks,
     .summary = "Textbooks, each in a library group."},
    {.collection = "content/textbook_pages",
     .resource = &ob_res_textbook_pages,
     .summary = "The pages of a textbook: a tree with positions; content is a JSON tree."},
    {.collection = "content/courses",
     .resource = &ob_res_courses,
     .summary = "Courses (a scope), each in a library group."},
    {.collection = "content/course_materials",
     .resource = &ob_res_course_materials,
     .summary = "The textbooks a course uses, in order.",
     .notes = material_notes,
     .nnotes = N(material_notes)},
    {.collection = "content/course_material_page_ranges",
     .resource = &ob_res_course_material_page_ranges,
     .summary = "The page ranges of a course material, in order."},
    {.resource = &users_public,
     .kind = OB_REG_SHAPE,
     .schema_name = "UserPublic",
     .shape_of = "auth/users",
     .summary = "The public user shape: what a user reference expands to."},
};
const size_t ob_nregistry = N(ob_registry);

const ob_registry_entry *ob_registry_find(const char *collection)
{
    for (size_t i = 0; i < ob_nregistry; i++)
        if (ob_registry[i].collection && strcmp(ob_registry[i].collection, collection) == 0)
            return &ob_registry[i];
    return NULL;
}

const ob_registry_entry *ob_registry_of(const ob_resource *res)
{
    for (size_t i = 0; i < ob_nregistry; i++)
        if (ob_registry[i].resource == res)
            return &ob_registry[i];
    return NULL;
}
