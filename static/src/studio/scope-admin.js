// <ob-scope-admin>: what a scope (a course or a library group) holds for
// people: its public permissions, roles with priorities and permissions
// (only those the scope type allows: GET /api/auth/scope_types/<type>/
// allowed_permissions), enrolment methods (passphrase, end date, active),
// role assignments, and access requests to accept or deny.  New access
// requests arrive live (access_request.created on the owner's user
// channel).  Each control shows only when the grants allow it: rule R on
// the scope for public permissions, rule S with the role's priority for
// roles and what hangs off them (permissions.md §6).
import { View, html, nothing, t, announce, formErrors } from '../ui.js';
import { listAll, create, patch, destroy, action } from '../api.js';
import { formatDate } from '../i18n.js';
import { live } from '../live.js';
import { isoOrNull, attempt } from './forms.js';

const AUTH = 'openbook_auth';

class ObScopeAdmin extends View {
  static properties = {
    scopeType: { attribute: false }, item: { attribute: false }, grants: { attribute: false },
    roles: { state: true }, allowed: { state: true }, methods: { state: true }, assignments: { state: true },
    requests: { state: true }, errors: { state: true }, editing: { state: true },
  };

  constructor() {
    super();
    this.errors = {};
  }

  connectedCallback() {
    super.connectedCallback();
    this._offLive = live.on((m) => {
      if (m.kind === 'event' && m.payload && m.payload.scope_uuid === this.item?.id &&
        ['access_request.created', 'access_request.decided', 'enrollment.created', 'enrollment.removed'].includes(m.type)) {
        if (m.type === 'access_request.created') announce(t('studio.scope.newRequest'));
        this.load();
      }
    });
  }

  disconnectedCallback() {
    super.disconnectedCallback();
    this._offLive();
  }

  willUpdate(changed) {
    if (changed.has('item') && this.item && (!changed.get('item') || changed.get('item').id !== this.item.id)) this.load();
  }

  get scope() {
    return { type: this.scopeType, uuid: this.item.id, public: this.item.public_permissions || [] };
  }

  can(perm, priority) {
    return this.grants.can(`${perm}`, priority === undefined ? { scope: this.scope } : { scope: this.scope, priority });
  }

  async load() {
    const f = { scope_type: this.scopeType, scope_uuid: this.item.id };
    const [roles, allowed, methods, assignments, requests] = await Promise.all([
      listAll('studio.roles', f).catch(() => []),
      action('studio.scopeType', { key: this.scopeType }).then((s) => s.allowed_permissions || [], () => []),
      listAll('studio.methods', f).catch(() => []),
      listAll('studio.assignments', f).catch(() => []),
      listAll('studio.requests', { ...f, decision: 'pending' }).catch(() => []),
    ]);
    roles.sort((a, b) => b.priority - a.priority || a.slug.localeCompare(b.slug));
    Object.assign(this, { roles, allowed, methods, assignments, requests });
  }

  priorityOf(slug) {
    return this.roles?.find((r) => r.slug === slug)?.priority ?? 0;
  }

  run(key, fn, done) {
    return attempt(this, key, fn, done);
  }

  checked(form, name) {
    return [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((i) => i.value);
  }

  // ---- public permissions

  savePublic(e) {
    e.preventDefault();
    const perms = this.checked(e.target, 'public');
    const res = this.scopeType.endsWith('.course') ? 'studio.courses' : 'studio.groups';
    return this.run('public', async () => {
      const saved = await patch(res, this.item.id, { public_permissions: perms });
      this.item.public_permissions = saved.public_permissions;
      this.dispatchEvent(new CustomEvent('scope-changed', { bubbles: true, detail: saved }));
    }, t('studio.saved'));
  }

  renderPublic() {
    const changePerm = this.scopeType.endsWith('.course') ? 'openbook_content.change_course' : 'openbook_content.change_librarygroup';
    const mine = new Set(this.item.public_permissions || []);
    const canChange = this.can(changePerm);
    return html`<section aria-labelledby="sa-public"><h2 id="sa-public">${t('studio.scope.public')}</h2>
      <p class="hint">${t('studio.scope.publicHint')}</p>
      <form @submit=${(e) => this.savePublic(e)}><fieldset ?disabled=${!canChange}><legend class="visually-hidden">${t('studio.scope.public')}</legend>
        <ul class="checks">${this.allowed.map((p) => html`<li><label><input type="checkbox" name="public" value=${p.perm} ?checked=${mine.has(p.perm)}>
          ${p.name || p.perm}</label></li>`)}</ul></fieldset>
        ${formErrors(this.errors.public)}
        ${canChange ? html`<button type="submit">${t('studio.scope.savePublic')}</button>` : nothing}
      </form></section>`;
  }

  // ---- roles

  saveRole(e, role) {
    e.preventDefault();
    const f = e.target.elements;
    const body = {
      name: f.name.value.trim(), description: f.description.value, priority: Number(f.priority.value),
      is_active: f.is_active.checked, permissions: this.checked(e.target, 'perm'),
    };
    return this.run(role ? `role-${role.id}` : 'role', async () => {
      if (role) await patch('studio.roles', role.id, body);
      else await create('studio.roles', { ...body, scope_type: this.scopeType, scope_uuid: this.item.id, slug: f.slug.value.trim() });
      this.editing = null;
      e.target.reset();
    }, t('studio.saved'));
  }

  roleForm(role) {
    const id = role ? role.id : 'new';
    const perms = new Set(role?.permissions || []);
    return html`<form class="role-form" @submit=${(e) => this.saveRole(e, role)}>
      ${role ? nothing : html`<div class="field"><label for="r-slug-${id}">${t('studio.slug')}</label><input id="r-slug-${id}" name="slug" required maxlength="50"></div>`}
      <div class="field"><label for="r-name-${id}">${t('studio.name')}</label><input id="r-name-${id}" name="name" required maxlength="255" .value=${role?.name || ''}></div>
      <div class="field"><label for="r-desc-${id}">${t('studio.description')}</label><input id="r-desc-${id}" name="description" .value=${role?.description || ''}></div>
      <div class="field"><label for="r-prio-${id}">${t('studio.scope.priority')}</label>
        <input id="r-prio-${id}" name="priority" type="number" min="0" max="32767" required .value=${String(role?.priority ?? 10)} aria-describedby="r-prio-${id}-hint">
        <p class="hint" id="r-prio-${id}-hint">${t('studio.scope.priorityHint')}</p></div>
      <label class="check"><input type="checkbox" name="is_active" ?checked=${role ? role.is_active : true}> ${t('studio.active')}</label>
      <fieldset><legend>${t('studio.scope.permissions')}</legend><ul class="checks">
        ${this.allowed.map((p) => html`<li><label><input type="checkbox" name="perm" value=${p.perm} ?checked=${perms.has(p.perm)}> ${p.name || p.perm}</label></li>`)}
      </ul></fieldset>
      ${formErrors(this.errors[role ? `role-${role.id}` : 'role'])}
      <button type="submit">${role ? t('studio.save') : t('studio.scope.addRole')}</button>
      ${role ? html`<button type="button" class="secondary" @click=${() => { this.editing = null; }}>${t('common.cancel')}</button>` : nothing}
    </form>`;
  }

  deleteRole(role) {
    if (!confirm(t('studio.scope.deleteRoleConfirm', { name: role.name }))) return;
    this.run('roles', () => destroy('studio.roles', role.id), t('studio.deletedNamed', { name: role.name }));
  }

  renderRoles() {
    const canAdd = this.can(`${AUTH}.add_role`, 0);
    return html`<section aria-labelledby="sa-roles"><h2 id="sa-roles">${t('studio.scope.roles')}</h2>
      ${this.roles.length ? html`<table class="list"><thead><tr><th scope="col">${t('studio.name')}</th><th scope="col">${t('studio.scope.priority')}</th>
        <th scope="col">${t('studio.scope.permissions')}</th><th scope="col">${t('common.actions')}</th></tr></thead><tbody>
        ${this.roles.map((r) => html`<tr><td>${r.name} <code>${r.slug}</code>${r.is_active ? nothing : html` (${t('studio.inactive')})`}</td>
          <td>${r.priority}</td><td>${r.permissions.length}</td>
          <td class="actions">
            ${this.can(`${AUTH}.change_role`, r.priority) ? html`<button type="button" class="secondary small" aria-label=${t('studio.editNamed', { name: r.name })}
              @click=${() => { this.editing = r.id; }}>${t('studio.edit')}</button>` : nothing}
            ${this.can(`${AUTH}.delete_role`, r.priority) ? html`<button type="button" class="danger small" aria-label=${t('studio.deleteNamed', { name: r.name })}
              @click=${() => this.deleteRole(r)}>${t('studio.delete')}</button>` : nothing}
          </td></tr>
          ${this.editing === r.id ? html`<tr><td colspan="4">${this.roleForm(r)}</td></tr>` : nothing}`)}
      </tbody></table>` : html`<p>${t('studio.scope.noRoles')}</p>`}
      ${formErrors(this.errors.roles)}
      ${canAdd ? html`<details><summary>${t('studio.scope.addRole')}</summary>${this.roleForm(null)}</details>` : nothing}
    </section>`;
  }

  // ---- enrolment methods

  addMethod(e) {
    e.preventDefault();
    const f = e.target.elements;
    const body = {
      scope_type: this.scopeType, scope_uuid: this.item.id, name: f.name.value.trim(), role: f.role.value,
      description: f.description.value, is_active: f.is_active.checked, end_date: isoOrNull(f.end_date.value),
    };
    if (f.passphrase.value) body.passphrase = f.passphrase.value;
    return this.run('method', async () => {
      await create('studio.methods', body);
      e.target.reset();
    }, t('studio.scope.methodAdded'));
  }

  renderMethods() {
    const rolesICanUse = this.roles.filter((r) => this.can(`${AUTH}.add_enrollmentmethod`, r.priority));
    return html`<section aria-labelledby="sa-methods"><h2 id="sa-methods">${t('studio.scope.methods')}</h2>
      ${this.methods.length ? html`<table class="list"><thead><tr><th scope="col">${t('studio.name')}</th><th scope="col">${t('studio.scope.role')}</th>
        <th scope="col">${t('studio.scope.state')}</th><th scope="col">${t('common.actions')}</th></tr></thead><tbody>
        ${this.methods.map((m) => {
          const p = this.priorityOf(m.role);
          return html`<tr><td>${m.name}${m.has_passphrase ? html` <span class="tag">${t('studio.scope.withPassphrase')}</span>` : nothing}</td><td>${m.role}</td>
          <td>${m.is_active ? t('studio.active') : t('studio.inactive')}${m.end_date ? html`<br>${t('studio.scope.until', { date: formatDate(m.end_date) })}` : nothing}</td>
          <td class="actions">
            ${this.can(`${AUTH}.change_enrollmentmethod`, p) ? html`<button type="button" class="secondary small"
              @click=${() => this.run('methods', () => patch('studio.methods', m.id, { is_active: !m.is_active }), t('studio.saved'))}>
              ${m.is_active ? t('studio.scope.deactivate') : t('studio.scope.activate')}</button>` : nothing}
            ${this.can(`${AUTH}.delete_enrollmentmethod`, p) ? html`<button type="button" class="danger small" aria-label=${t('studio.deleteNamed', { name: m.name })}
              @click=${() => confirm(t('studio.deleteConfirmNamed', { name: m.name })) && this.run('methods', () => destroy('studio.methods', m.id), t('studio.deletedNamed', { name: m.name }))}>${t('studio.delete')}</button>` : nothing}
          </td></tr>`;
        })}</tbody></table>` : html`<p>${t('studio.scope.noMethods')}</p>`}
      ${formErrors(this.errors.methods)}
      ${rolesICanUse.length ? html`<details><summary>${t('studio.scope.addMethod')}</summary>
        <form @submit=${(e) => this.addMethod(e)}>
          <div class="field"><label for="m-name">${t('studio.name')}</label><input id="m-name" name="name" required maxlength="255"></div>
          <div class="field"><label for="m-desc">${t('studio.description')}</label><input id="m-desc" name="description"></div>
          <div class="field"><label for="m-role">${t('studio.scope.role')}</label><select id="m-role" name="role">
            ${rolesICanUse.map((r) => html`<option value=${r.slug}>${r.name}</option>`)}</select></div>
          <div class="field"><label for="m-pass">${t('studio.scope.passphrase')}</label><input id="m-pass" name="passphrase" maxlength="100" autocomplete="off" aria-describedby="m-pass-hint">
            <p class="hint" id="m-pass-hint">${t('studio.scope.passphraseHint')}</p></div>
          <div class="field"><label for="m-end">${t('studio.scope.endDate')}</label><input id="m-end" name="end_date" type="datetime-local"></div>
          <label class="check"><input type="checkbox" name="is_active" checked> ${t('studio.active')}</label>
          ${formErrors(this.errors.method)}
          <button type="submit">${t('studio.scope.addMethod')}</button>
        </form></details>` : nothing}
    </section>`;
  }

  // ---- assignments and requests

  addAssignment(e) {
    e.preventDefault();
    const f = e.target.elements;
    return this.run('assignment', async () => {
      await create('studio.assignments', { scope_type: this.scopeType, scope_uuid: this.item.id, user: f.user.value.trim(), role: f.role.value });
      e.target.reset();
    }, t('studio.scope.assigned'));
  }

  renderAssignments() {
    const rolesICanUse = this.roles.filter((r) => this.can(`${AUTH}.add_roleassignment`, r.priority));
    return html`<section aria-labelledby="sa-assign"><h2 id="sa-assign">${t('studio.scope.assignments')}</h2>
      ${this.assignments.length ? html`<table class="list"><thead><tr><th scope="col">${t('studio.scope.user')}</th><th scope="col">${t('studio.scope.role')}</th>
        <th scope="col">${t('studio.scope.how')}</th><th scope="col">${t('common.actions')}</th></tr></thead><tbody>
        ${this.assignments.map((a) => html`<tr><td>${a.user}</td><td>${a.role}${a.is_effective ? nothing : html` (${t('studio.inactive')})`}</td><td>${a.assignment_method}</td>
          <td class="actions">${this.can(`${AUTH}.delete_roleassignment`, this.priorityOf(a.role)) ? html`<button type="button" class="danger small"
            aria-label=${t('studio.scope.removeNamed', { name: a.user, role: a.role })}
            @click=${() => this.run('assignments', () => destroy('studio.assignments', a.id), t('studio.scope.removed'))}>${t('studio.scope.remove')}</button>` : nothing}</td></tr>`)}
      </tbody></table>` : html`<p>${t('studio.scope.noAssignments')}</p>`}
      ${formErrors(this.errors.assignments)}
      ${rolesICanUse.length ? html`<form class="inline-form" @submit=${(e) => this.addAssignment(e)}>
        <div class="field"><label for="a-user">${t('studio.scope.username')}</label><input id="a-user" name="user" required autocomplete="off"></div>
        <div class="field"><label for="a-role">${t('studio.scope.role')}</label><select id="a-role" name="role">
          ${rolesICanUse.map((r) => html`<option value=${r.slug}>${r.name}</option>`)}</select></div>
        ${formErrors(this.errors.assignment)}
        <button type="submit">${t('studio.scope.assign')}</button></form>` : nothing}
    </section>`;
  }

  decide(r, accept) {
    return this.run('requests', () => action(accept ? 'studio.accept' : 'studio.deny', { id: r.id }),
      t(accept ? 'studio.scope.accepted' : 'studio.scope.denied', { name: r.user }));
  }

  renderRequests() {
    return html`<section aria-labelledby="sa-requests"><h2 id="sa-requests">${t('studio.scope.requests')}</h2>
      ${this.requests.length ? html`<ul class="requests">${this.requests.map((r) => {
        const p = this.priorityOf(r.role);
        return html`<li>${t('studio.scope.request', { name: r.user, role: r.role, date: formatDate(r.created_at) })}
          ${this.can(`${AUTH}.change_accessrequest`, p) && this.can(`${AUTH}.add_roleassignment`, p) ? html`<button type="button" class="small"
            aria-label=${t('studio.scope.acceptNamed', { name: r.user })} @click=${() => this.decide(r, true)}>${t('studio.scope.accept')}</button>` : nothing}
          ${this.can(`${AUTH}.change_accessrequest`, p) && this.can(`${AUTH}.delete_roleassignment`, p) ? html`<button type="button" class="secondary small"
            aria-label=${t('studio.scope.denyNamed', { name: r.user })} @click=${() => this.decide(r, false)}>${t('studio.scope.deny')}</button>` : nothing}
        </li>`;
      })}</ul>` : html`<p>${t('studio.scope.noRequests')}</p>`}
      ${formErrors(this.errors.requests)}
    </section>`;
  }

  render() {
    if (!this.roles) return html`<p class="loading" role="status">${t('common.loading')}</p>`;
    return html`${this.renderRequests()}${this.renderRoles()}${this.renderMethods()}${this.renderAssignments()}${this.renderPublic()}`;
  }
}

customElements.define('ob-scope-admin', ObScopeAdmin);
