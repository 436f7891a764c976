// endpoints.js - every REST resource, field, filter and action the app
// uses, in one table.  api.js only reaches the API through it: lists and
// items are fetched with `_fields` set to exactly the declared fields, so
// a field the app reads but did not declare is simply missing (and the
// end-to-end tests notice), and test/e2e/schema.test.mjs checks every
// entry against the OpenAPI document of the running server
// (GET /api/schema/): an API change that breaks the app fails `make test`.
//
// `pending` marks resources that a later issue adds to the server (the
// HTML component libraries, issue 14): the check skips them while the
// schema does not have them yet, and checks them once it does.

/**
 * @typedef {object} ResourceSpec
 * @property {string} path        collection path, canonical (trailing slash)
 * @property {string[]} ops       list | retrieve | create | update | partial_update | destroy
 * @property {string[]} fields    fields the app reads (sent as `_fields`)
 * @property {string[]} [write]   fields the app writes
 * @property {string[]} [filters] query filters the app uses
 * @property {string[]} [expand]  `_expand` names the app uses
 * @property {string[]} [sort]    `_sort` names the app uses
 * @property {string} [pending]   the issue that adds it to the server
 */

/** @type {Record<string, ResourceSpec>} */
export const RESOURCES = {
  currentUser: {
    path: '/api/auth/current_user/',
    ops: ['retrieve'],
    single: true,
    fields: ['id', 'username', 'full_name', 'first_name', 'last_name', 'description',
      'email', 'is_authenticated', 'is_staff', 'is_superuser'],
  },
  users: {
    path: '/api/auth/users/',
    key: 'username',
    ops: ['retrieve', 'partial_update'],
    fields: ['id', 'username', 'full_name', 'first_name', 'last_name', 'description', 'picture'],
    write: ['first_name', 'last_name', 'description'],
  },
  authTokens: {
    path: '/api/auth/auth_tokens/',
    ops: ['list', 'create', 'destroy'],
    fields: ['id', 'token', 'token_prefix', 'name', 'description', 'is_active', 'end_date',
      'created_at'],
    write: ['name', 'description', 'end_date'],
    filters: ['user'],
  },
  languages: {
    path: '/api/core/languages/',
    key: 'language',
    ops: ['list'],
    fields: ['language', 'name'],
  },
  sites: {
    path: '/api/core/sites/',
    ops: ['retrieve'],
    fields: ['id', 'name', 'short_name', 'about_url', 'brand_color'],
  },
  libraryGroups: {
    path: '/api/content/library_groups/',
    ops: ['list', 'retrieve'],
    fields: ['id', 'slug', 'name', 'description', 'parent', 'children', 'textbooks', 'courses'],
    filters: ['parent', 'parent__isnull'],
  },
  textbooks: {
    path: '/api/content/textbooks/',
    ops: ['list', 'retrieve'],
    fields: ['id', 'slug', 'name', 'description', 'group'],
    filters: ['group'],
  },
  textbookPages: {
    path: '/api/content/textbook_pages/',
    ops: ['list', 'retrieve'],
    fields: ['id', 'textbook', 'parent', 'position', 'name', 'content', 'modified_at'],
    filters: ['textbook'],
  },
  courses: {
    path: '/api/content/courses/',
    ops: ['list', 'retrieve'],
    fields: ['id', 'slug', 'name', 'description', 'group', 'is_template', 'owner'],
    filters: ['group', 'is_template', 'owner'],
  },
  courseMaterials: {
    path: '/api/content/course_materials/',
    ops: ['list'],
    fields: ['id', 'course', 'textbook', 'position', 'page_ranges'],
    filters: ['course'],
    expand: ['textbook', 'page_ranges'],
  },
  enrollmentMethods: {
    path: '/api/auth/enrollment_methods/',
    ops: ['list'],
    fields: ['id', 'name', 'description', 'role', 'end_date', 'has_passphrase', 'is_active'],
    filters: ['scope_type', 'scope_uuid'],
  },
  roleAssignments: {
    path: '/api/auth/role_assignments/',
    ops: ['list', 'destroy'],
    fields: ['id', 'scope_type', 'scope_uuid', 'role', 'user', 'assignment_method',
      'is_effective', 'end_date'],
    filters: ['user', 'scope_type', 'scope_uuid'],
  },
  accessRequests: {
    path: '/api/auth/access_requests/',
    ops: ['list', 'create', 'destroy'],
    fields: ['id', 'scope_type', 'scope_uuid', 'user', 'role', 'decision', 'decision_date',
      'created_at'],
    write: ['scope_type', 'scope_uuid', 'user', 'role'],
    filters: ['user', 'scope_type', 'scope_uuid'],
  },
  componentDefinitions: {
    path: '/api/core/html_library/component_definitions/',
    ops: ['list'],
    fields: ['id', 'html_component', 'library_version', 'definition'],
    expand: ['library_version'],
    pending: 'issue 14',
  },
};

/** Actions: paths outside the generic operations. */
export const ACTIONS = {
  enroll: { method: 'put', path: '/api/auth/enrollment_methods/{id}/enroll/' },
  wsTicket: { method: 'post', path: '/api/ws/ticket/' },
};

/** The authentication API (api-auth.md); not in /api/schema/, checked
 * against the server's routes by test/e2e/schema.test.mjs. */
export const AUTH_BASE = '/auth-api/browser/v1';
export const AUTH = {
  config: ['get', '/config'],
  login: ['post', '/auth/login'],
  signup: ['post', '/auth/signup'],
  verifyGet: ['get', '/auth/email/verify'],
  verify: ['post', '/auth/email/verify'],
  verifyResend: ['post', '/auth/email/verify/resend'],
  reauthenticate: ['post', '/auth/reauthenticate'],
  passwordRequest: ['post', '/auth/password/request'],
  passwordResetGet: ['get', '/auth/password/reset'],
  passwordReset: ['post', '/auth/password/reset'],
  codeRequest: ['post', '/auth/code/request'],
  codeConfirm: ['post', '/auth/code/confirm'],
  session: ['get', '/auth/session'],
  logout: ['delete', '/auth/session'],
  emails: ['get', '/account/email'],
  emailAdd: ['post', '/account/email'],
  emailResend: ['put', '/account/email'],
  emailPrimary: ['patch', '/account/email'],
  emailRemove: ['delete', '/account/email'],
  passwordChange: ['post', '/account/password/change'],
};

/** Scope types (api-conventions.md §9). */
export const SCOPE_COURSE = 'openbook_content.course';
