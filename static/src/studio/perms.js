// perms.js - may the user do this?  permissions.md §6 applied to what the
// API says the user holds (GET /api/auth/current_user/?_expand=permissions:
// global and model permissions, owned scopes, effective role assignments
// with their priorities) and to the item's own scope (its
// public_permissions).  The studio shows a control only when this says
// yes; the server decides again on every request.  Pure (unit-tested).

/** Scope types (api-conventions.md §9). */
export const COURSE = 'openbook_content.course';
export const GROUP = 'openbook_content.librarygroup';

export class Grants {
  /** @param {object|null} me  current_user with `permissions` expanded */
  constructor(me) {
    this.user = me && me.is_authenticated !== false ? me : null;
    this.superuser = Boolean(this.user && this.user.is_superuser);
    const p = (this.user && this.user.permissions) || {};
    this.global = new Set(p.global || []);
    this.model = new Set(p.model || []);
    this.scopes = new Map();   // "type:uuid" -> {owner, roles: [{slug, priority, permissions:Set}]}
    for (const s of p.scopes || []) {
      const k = `${s.scope_type}:${s.scope_uuid}`;
      const e = this.scopes.get(k) || { owner: false, roles: [] };
      if (s.owner) e.owner = true;
      else e.roles.push({ slug: s.role, priority: s.priority, permissions: new Set(s.permissions || []) });
      this.scopes.set(k, e);
    }
  }

  entry(scope) {
    return (scope && this.scopes.get(`${scope.type}:${scope.uuid}`)) || { owner: false, roles: [] };
  }

  /** Rule R for scope {type, uuid, public} (public: its public_permissions). */
  ruleR(perm, scope) {
    if (!scope) return false;
    const e = this.entry(scope);
    if (e.owner) return true;
    if ((scope.public || []).includes(perm)) return true;
    return e.roles.some((r) => r.permissions.has(perm));
  }

  /** The highest priority of the user's roles in a scope, -1 without one. */
  maxPriority(scope) {
    return this.entry(scope).roles.reduce((m, r) => Math.max(m, r.priority ?? -1), -1);
  }

  /**
   * allowed(user, perm, item) of permissions.md §6.
   * @param {string} perm  "app.codename"
   * @param {object} [item]  {scope} for rule R items (the scope that guards
   *   them), {scope, priority} for rule S items (roles and what hangs off a
   *   role); nothing for a global check
   */
  can(perm, item) {
    if (!this.user) return this.global.has(perm) || Boolean(item && item.scope && (item.scope.public || []).includes(perm));
    if (this.superuser || this.global.has(perm)) return true;
    if (item && item.scope) {
      if (item.priority === undefined) {
        if (this.ruleR(perm, item.scope)) return true;
      } else if (this.entry(item.scope).owner) {
        return true;
      } else if (this.ruleR(perm, item.scope)) {
        if (perm === 'openbook_auth.self_enroll' || /\.view_/.test(perm)) return true;
        if (this.maxPriority(item.scope) >= item.priority) return true;
      }
    }
    const m = /^(\w+)\.view_(\w+)$/.exec(perm);
    if (m) return this.can(`${m[1]}.change_${m[2]}`, item);
    return false;
  }

  /** The admin gate (permissions.md §9): superuser, or staff with P as a
   * model permission. */
  adminGate(perm) {
    return this.superuser || Boolean(this.user && this.user.is_staff && perm && this.model.has(perm));
  }
}

/** The scope of a textbook (its group) or a group, for can(). */
export function groupScope(group) {
  return group ? { type: GROUP, uuid: group.id, public: group.public_permissions || [] } : null;
}

export function courseScope(course) {
  return course ? { type: COURSE, uuid: course.id, public: course.public_permissions || [] } : null;
}
