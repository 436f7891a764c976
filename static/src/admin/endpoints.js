// endpoints.js - the resources, fields, filters and actions the
// administration uses, in the shape of src/endpoints.js.  They join the
// app's table when this chunk loads (so the reader's bundle does not carry
// them); test/e2e/schema.e2e.mjs checks them against /api/schema/ with the
// rest.  `pending`: added to the server by issue 14 (skipped by the check
// while the schema does not have them).
import { RESOURCES, ACTIONS } from '../endpoints.js';

const LIB_PENDING = 'issue 14';

/** @type {Record<string, import('../endpoints.js').ResourceSpec>} */
export const ADMIN_RESOURCES = {
  // The requester with what they hold (`permissions`, only when expanded):
  // its `model` list is what the admin gate counts (permissions.md §9).
  adminMe: {
    path: '/api/auth/current_user/',
    ops: ['retrieve'],
    single: true,
    fields: ['id', 'username', 'full_name', 'is_authenticated', 'is_staff', 'is_superuser', 'permissions'],
    expand: ['permissions'],
  },
  adminUsers: {
    path: '/api/auth/users/',
    key: 'username',
    ops: ['list', 'create', 'retrieve', 'partial_update', 'destroy'],
    fields: ['id', 'username', 'full_name', 'first_name', 'last_name', 'description', 'is_staff',
      'last_login', 'date_joined', 'email', 'user_type', 'is_active', 'is_superuser', 'groups',
      'user_permissions'],
    write: ['username', 'email', 'password', 'first_name', 'last_name', 'description', 'is_active',
      'is_staff', 'is_superuser', 'groups', 'user_permissions'],
    filters: ['is_active', 'is_staff'],
    sort: ['username', 'date_joined'],
  },
  adminGroups: {
    path: '/api/auth/groups/',
    ops: ['list', 'create', 'retrieve', 'partial_update', 'destroy'],
    fields: ['id', 'name', 'slug', 'permissions', 'user_count'],
    write: ['name', 'slug', 'permissions'],
  },
  adminPermissions: {
    path: '/api/auth/permissions/',
    ops: ['list'],
    fields: ['id', 'perm_string', 'perm_display_name', 'codename', 'app', 'app_display_name', 'model',
      'model_display_name'],
  },
  permissionTexts: {
    path: '/api/auth/permission_texts/',
    ops: ['list', 'create', 'partial_update', 'destroy'],
    fields: ['id', 'language', 'parent', 'name'],
    write: ['language', 'parent', 'name'],
    filters: ['language'],
  },
  anonymousPermissions: {
    path: '/api/auth/anonymous_permissions/',
    ops: ['list', 'create', 'destroy'],
    fields: ['id', 'permission', 'perm_display_name'],
    write: ['permission'],
  },
  allowedRolePermissions: {
    path: '/api/auth/allowed_role_permissions/',
    ops: ['list', 'create', 'destroy'],
    fields: ['id', 'scope_type', 'permission'],
    write: ['scope_type', 'permission'],
    filters: ['scope_type'],
    expand: ['permission'],
  },
  signupGroups: {
    path: '/api/auth/signup_group_assignments/',
    ops: ['list', 'create', 'partial_update', 'destroy'],
    fields: ['id', 'name', 'description', 'is_active', 'site', 'social_app', 'groups', 'is_staff',
      'is_superuser', 'assertions'],
    write: ['name', 'description', 'is_active', 'site', 'groups', 'is_staff', 'is_superuser', 'assertions'],
  },
  adminLanguages: {
    path: '/api/core/languages/',
    key: 'language',
    ops: ['list', 'create', 'partial_update', 'destroy'],
    fields: ['language', 'name'],
    write: ['language', 'name'],
  },
  adminSites: {
    path: '/api/core/sites/',
    ops: ['list', 'retrieve', 'partial_update'],
    fields: ['id', 'domain', 'name', 'short_name', 'about_url', 'brand_color', 'auth_config'],
    write: ['domain', 'name', 'short_name', 'about_url', 'brand_color'],
  },
  authConfigs: {
    path: '/api/auth/auth_configs/',
    key: 'site',
    ops: ['retrieve', 'partial_update'],
    fields: ['site', 'local_signup_allowed', 'signup_email_suffix', 'logout_next_url', 'signup_image',
      'login_image', 'logout_image', 'password_reset_image', 'translations'],
    write: ['local_signup_allowed', 'signup_email_suffix', 'logout_next_url', 'signup_image', 'login_image',
      'logout_image', 'password_reset_image', 'translations'],
    expand: ['translations'],
  },
  htmlLibraries: {
    path: '/api/core/html_library/libraries/',
    ops: ['list', 'partial_update', 'destroy'],
    fields: ['id', 'fqn', 'organization', 'name', 'author', 'license', 'website', 'coderepo', 'bugtracker',
      'published', 'versions', 'components'],
    write: ['published'],
    expand: ['versions', 'components'],
    pending: LIB_PENDING,
  },
  htmlLibraryVersions: {
    path: '/api/core/html_library/versions/',
    ops: ['destroy'],
    fields: ['id', 'parent', 'version', 'dependencies', 'frontend_url', 'file_name', 'file_size'],
    pending: LIB_PENDING,
  },
  mediaFiles: {
    path: '/api/core/media_files/',
    ops: ['list', 'create', 'partial_update', 'destroy'],
    fields: ['id', 'content_type', 'object_id', 'file_name', 'file_size', 'mime_type', 'file_data'],
    write: ['content_type', 'object_id', 'file_data'],
    filters: ['content_type', 'object_id'],
    pending: LIB_PENDING,
  },
};

export const ADMIN_ACTIONS = {
  installLibrary: { method: 'post', path: '/api/core/html_library/install/', pending: LIB_PENDING },
};

/** Adds the tables above to the app's (once). */
export function registerEndpoints() {
  Object.assign(RESOURCES, ADMIN_RESOURCES);
  Object.assign(ACTIONS, ADMIN_ACTIONS);
}
