// endpoints.js (studio) - the resources, fields, filters and actions the
// studio uses, declared like src/endpoints.js (and checked against
// /api/schema/ by test/e2e/schema.e2e.mjs the same way).  They join the
// app's tables when the studio chunk loads, so the reader's bundle does not
// carry them.
import { RESOURCES, ACTIONS } from '../endpoints.js';

export const STUDIO_RESOURCES = {
  'studio.me': {
    path: '/api/auth/current_user/',
    ops: ['retrieve'],
    single: true,
    fields: ['id', 'username', 'is_authenticated', 'is_staff', 'is_superuser', 'permissions'],
    expand: ['permissions'],
  },
  'studio.groups': {
    path: '/api/content/library_groups/',
    ops: ['list', 'retrieve', 'create', 'partial_update', 'destroy'],
    fields: ['id', 'slug', 'name', 'description', 'parent', 'owner', 'public_permissions', 'textbooks', 'courses', 'links'],
    write: ['slug', 'name', 'description', 'parent', 'public_permissions'],
    filters: ['parent'],
  },
  'studio.textbooks': {
    path: '/api/content/textbooks/',
    ops: ['list', 'retrieve', 'create', 'partial_update', 'destroy'],
    fields: ['id', 'slug', 'name', 'description', 'group', 'pages', 'used_in_courses', 'library_links', 'modified_at'],
    write: ['slug', 'name', 'description', 'group'],
    filters: ['group'],
  },
  'studio.pages': {
    path: '/api/content/textbook_pages/',
    ops: ['list', 'retrieve', 'create', 'partial_update', 'destroy'],
    fields: ['id', 'textbook', 'parent', 'position', 'name', 'content', 'modified_at', 'modified_by'],
    write: ['textbook', 'parent', 'position', 'name', 'content'],
    filters: ['textbook'],
  },
  'studio.courses': {
    path: '/api/content/courses/',
    ops: ['list', 'retrieve', 'create', 'partial_update', 'destroy'],
    fields: ['id', 'slug', 'name', 'description', 'group', 'is_template', 'owner', 'public_permissions', 'materials'],
    write: ['slug', 'name', 'description', 'group', 'is_template', 'public_permissions'],
    filters: ['group', 'is_template'],
  },
  'studio.materials': {
    path: '/api/content/course_materials/',
    ops: ['list', 'create', 'partial_update', 'destroy'],
    fields: ['id', 'course', 'textbook', 'position', 'page_ranges'],
    write: ['course', 'textbook', 'position'],
    filters: ['course'],
  },
  'studio.ranges': {
    path: '/api/content/course_material_page_ranges/',
    ops: ['list', 'create', 'destroy'],
    fields: ['id', 'material', 'start_page', 'end_page', 'position'],
    write: ['material', 'start_page', 'end_page', 'position'],
    filters: ['material'],
  },
  'studio.roles': {
    path: '/api/auth/roles/',
    ops: ['list', 'create', 'partial_update', 'destroy'],
    fields: ['id', 'scope_type', 'scope_uuid', 'slug', 'name', 'description', 'priority', 'is_active', 'permissions'],
    write: ['scope_type', 'scope_uuid', 'slug', 'name', 'description', 'priority', 'is_active', 'permissions'],
    filters: ['scope_type', 'scope_uuid'],
  },
  'studio.methods': {
    path: '/api/auth/enrollment_methods/',
    ops: ['list', 'create', 'partial_update', 'destroy'],
    fields: ['id', 'scope_type', 'scope_uuid', 'name', 'description', 'role', 'end_date', 'has_passphrase', 'is_active'],
    write: ['scope_type', 'scope_uuid', 'name', 'description', 'role', 'end_date', 'passphrase', 'is_active'],
    filters: ['scope_type', 'scope_uuid'],
  },
  'studio.assignments': {
    path: '/api/auth/role_assignments/',
    ops: ['list', 'create', 'partial_update', 'destroy'],
    fields: ['id', 'scope_type', 'scope_uuid', 'role', 'user', 'assignment_method', 'is_active', 'is_effective', 'end_date'],
    write: ['scope_type', 'scope_uuid', 'role', 'user', 'is_active', 'end_date'],
    filters: ['scope_type', 'scope_uuid'],
  },
  'studio.requests': {
    path: '/api/auth/access_requests/',
    ops: ['list'],
    fields: ['id', 'scope_type', 'scope_uuid', 'user', 'role', 'decision', 'decision_date', 'created_at'],
    filters: ['scope_type', 'scope_uuid', 'decision'],
  },
  'studio.links': {
    path: '/api/content/library_links/',
    ops: ['list', 'create', 'destroy'],
    fields: ['id', 'group', 'course', 'textbook'],
    write: ['group', 'course', 'textbook'],
    filters: ['group'],
  },
};

export const STUDIO_ACTIONS = {
  'studio.accept': { method: 'put', path: '/api/auth/access_requests/{id}/accept/' },
  'studio.deny': { method: 'put', path: '/api/auth/access_requests/{id}/deny/' },
  'studio.scopeType': { method: 'get', path: '/api/auth/scope_types/{key}/' },
};

Object.assign(RESOURCES, STUDIO_RESOURCES);
Object.assign(ACTIONS, STUDIO_ACTIONS);
