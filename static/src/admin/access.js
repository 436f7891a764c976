// access.js - what the administration shows to whom, decided from what
// the API says, never assumed:
//
//  - the current user: is_superuser, is_staff and the model permissions
//    (their own and their groups', permissions.md §2);
//  - the OpenAPI document (GET /api/schema/): for every resource its
//    operations, the permission each kind of operation needs and the admin
//    gate of each operation ("staff": staff + that permission, "superuser":
//    superusers only; permissions.md §9).
//
// (GET /api/auth/current_user/?_expand=permissions; `permissions.model`
// is what the admin gate counts: the user's own model permissions and
// their groups'.)
//
// A control appears only when the server would allow the request; the
// server still decides (and its refusal is shown if the two disagree).
// Pure functions, tested in test/unit/admin.test.mjs.

const KIND = { list: 'view', retrieve: 'view', create: 'add', update: 'change', partial_update: 'change', destroy: 'delete' };

/** The user's model permissions (current_user's permissions.model). */
export function modelPermissions(user) {
  return (user && user.permissions && user.permissions.model) || [];
}

/** Whether the user holds `perm` as a model permission (superusers hold
 * every permission). */
export function holds(user, perm) {
  return !!user && (!!user.is_superuser || modelPermissions(user).includes(perm));
}

/** May `user` do `op` (list, retrieve, create, update, partial_update,
 * destroy) on `res`, an entry of the schema's x-openbook-resources?
 * Global grants only: object rules (a user editing themselves) are the
 * caller's business. */
export function may(user, res, op) {
  if (!user || !res || !(res.operations || []).includes(op)) return false;
  if (user.is_superuser) return true;
  const gate = (res.gates || {})[op];
  if (gate === 'superuser') return false;
  if (gate === 'staff' && !user.is_staff) return false;
  const perm = (res.permissions || {})[KIND[op]];
  return !!perm && modelPermissions(user).includes(perm);
}

/** The operations of `res` the user may use, as {list, create, ...}. */
export function abilities(user, res) {
  const out = {};
  for (const op of Object.keys(KIND)) out[op] = may(user, res, op);
  out.change = out.partial_update || out.update;
  out.adminFields = !!user && !!user.is_superuser && !!res && (res.admin_fields || []).length > 0;
  return out;
}

/** Library installs (libraries.md §5): staff + add_htmllibraryversion;
 * replacing an existing version also needs change_htmllibraryversion. */
export const INSTALL_PATH = '/api/core/html_library/install/';
export function installRights(user, schema) {
  const there = !!(schema && schema.paths && schema.paths[INSTALL_PATH]);
  const staff = !!user && (user.is_superuser || user.is_staff);
  return {
    install: there && staff && holds(user, 'openbook_core.add_htmllibraryversion'),
    replace: there && staff && holds(user, 'openbook_core.change_htmllibraryversion'),
  };
}

/** The screens, each with the resources it administers (collection
 * paths).  A screen shows when the server has one of its resources and
 * the user may do something with one of them. */
export const SECTIONS = [
  { id: 'users', paths: ['/api/auth/users/'] },
  { id: 'groups', paths: ['/api/auth/groups/'] },
  { id: 'permission-texts', paths: ['/api/auth/permission_texts/'] },
  { id: 'anonymous-permissions', paths: ['/api/auth/anonymous_permissions/'] },
  { id: 'role-permissions', paths: ['/api/auth/allowed_role_permissions/'] },
  { id: 'signup-groups', paths: ['/api/auth/signup_group_assignments/'] },
  { id: 'languages', paths: ['/api/core/languages/'] },
  { id: 'site', paths: ['/api/core/sites/', '/api/auth/auth_configs/'] },
  { id: 'libraries', paths: ['/api/core/html_library/libraries/', '/api/core/html_library/versions/'], install: true },
  { id: 'media', paths: ['/api/core/media_files/'] },
];

/** Whether the administration is for this user at all (the header's
 * entry): staff and superusers, as the original's admin site. */
export function isAdmin(user) {
  return !!user && (!!user.is_staff || !!user.is_superuser);
}

/** The sections `user` may use on a server described by `schema`
 * ({resources: Map(collection path -> resource), paths}). */
export function visibleSections(user, schema) {
  if (!isAdmin(user) || !schema) return [];
  return SECTIONS.filter((s) => {
    const rs = s.paths.map((p) => schema.resources.get(p)).filter(Boolean);
    if (!rs.length) return false;
    if (s.install && installRights(user, schema).install) return true;
    return rs.some((r) => Object.keys(KIND).some((op) => may(user, r, op)));
  });
}
