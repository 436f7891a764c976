// <ob-admin-users> (#/admin/users): find users (search, and for
// superusers their state), create one (superusers).
// <ob-admin-user> (#/admin/users/<username>): activate/deactivate, the
// staff and superuser flags, e-mail, groups, model permissions, a new
// password (the admin fields: superusers only, api-resources.md users);
// the public profile (change_user); delete (delete_user).
import { AdminSection, html, nothing, t, checkbox, select, textarea, confirmed, permissionCatalogue, permissionPicker, localErrors } from './common.js';
import { field, formValues } from '../ui.js';
import { list, listAll, get, patch, create, destroy } from '../api.js';
import { formatDate, language, tn } from '../i18n.js';
import { href } from '../router.js';
import { checkNewUser, hasErrors, parsePermList } from './validate.js';

const USERS = '/api/auth/users/';
const PAGE = 50;

function userHref(u) {
  return href(`/admin/users/${encodeURIComponent(u.username)}`);
}

class ObAdminUsers extends AdminSection {
  static section = 'users';

  static properties = { ...AdminSection.properties, page: { state: true }, query: { state: true } };

  constructor() {
    super();
    this.query = { search: '', state: '', staff: '' };
    this.pageNo = 1;
  }

  async load() {
    const filters = {};
    if (this.query.state && this.user.is_superuser) filters.is_active = this.query.state === 'active';
    if (this.query.staff) filters.is_staff = this.query.staff === 'yes';
    await this.fetching(async () => {
      this.page = await list('adminUsers', filters, { search: this.query.search || undefined, page: this.pageNo, pageSize: PAGE });
    });
  }

  search(e) {
    e.preventDefault();
    const v = formValues(e.target);
    this.query = { search: (v.search || '').trim(), state: v.state || '', staff: v.staff || '' };
    this.pageNo = 1;
    this.load();
  }

  go(delta) {
    this.pageNo += delta;
    this.load();
  }

  async createUser(e) {
    e.preventDefault();
    const form = e.target;
    const v = formValues(form);
    const local = checkNewUser(v);
    if (hasErrors(local)) {
      this.errors = { ...this.errors, create: localErrors(local) };
      return;
    }
    const body = { username: v.username, email: v.email };
    if (v.password) body.password = v.password;
    const u = await this.run(() => create('adminUsers', body), 'create');
    if (u) {
      form.reset();
      location.hash = userHref(u);
    }
  }

  render() {
    const r = this.rights(USERS);
    const su = this.user.is_superuser;
    const p = this.page;
    const pages = p ? Math.max(1, Math.ceil(p.count / PAGE)) : 1;
    const yesNo = (v) => (v ? t('admin.yes') : t('admin.no'));
    return this.frame(t('admin.section.users'), () => html`
      <form class="filters" role="search" @submit=${(e) => this.search(e)}>
        ${field({ id: 'u-search', name: 'search', label: t('admin.users.search'), type: 'search', value: this.query.search,
          hint: t('admin.users.searchHint') })}
        ${su ? select({ id: 'u-state', name: 'state', label: t('admin.user.state'), value: this.query.state, options: [
          { value: '', label: t('admin.all') }, { value: 'active', label: t('admin.user.active') },
          { value: 'inactive', label: t('admin.user.inactive') }] }) : nothing}
        ${select({ id: 'u-staff', name: 'staff', label: t('admin.user.staff'), value: this.query.staff, options: [
          { value: '', label: t('admin.all') }, { value: 'yes', label: t('admin.yes') }, { value: 'no', label: t('admin.no') }] })}
        <div class="field"><button type="submit">${t('admin.users.find')}</button></div>
      </form>
      ${p ? html`<p role="status">${tn('admin.users.found', p.count)}</p>
        ${p.results.length ? html`<table class="list users"><thead><tr>
          <th scope="col">${t('admin.user.username')}</th><th scope="col">${t('admin.user.name')}</th>
          ${su ? html`<th scope="col">${t('admin.user.email')}</th><th scope="col">${t('admin.user.state')}</th>` : nothing}
          <th scope="col">${t('admin.user.staff')}</th><th scope="col">${t('admin.user.joined')}</th></tr></thead>
          <tbody>${p.results.map((u) => html`<tr>
            <td><a href=${userHref(u)}>${u.username}</a></td><td>${u.full_name}</td>
            ${su ? html`<td>${u.email}</td><td>${u.is_active ? t('admin.user.active') : t('admin.user.inactive')}</td>` : nothing}
            <td>${yesNo(u.is_staff)}</td><td>${formatDate(u.date_joined)}</td></tr>`)}</tbody></table>` : nothing}
        ${pages > 1 ? html`<nav class="pager" aria-label=${t('admin.pages')}>
          <button type="button" class="secondary" ?disabled=${this.pageNo <= 1} @click=${() => this.go(-1)}>${t('reader.previous')}</button>
          <span>${t('admin.pageOf', { page: this.pageNo, pages })}</span>
          <button type="button" class="secondary" ?disabled=${this.pageNo >= pages} @click=${() => this.go(1)}>${t('reader.next')}</button>
        </nav>` : nothing}` : nothing}
      ${r.create ? html`<section aria-labelledby="u-new"><h2 id="u-new">${t('admin.users.create')}</h2>
        <form class="narrow-form" novalidate @submit=${(e) => this.createUser(e)}>
          ${field({ id: 'nu-username', name: 'username', label: t('admin.user.username'), errors: this.err('username', 'create'), required: true, autocomplete: 'off' })}
          ${field({ id: 'nu-email', name: 'email', label: t('admin.user.email'), type: 'email', errors: this.err('email', 'create'), required: true, autocomplete: 'off' })}
          ${field({ id: 'nu-password', name: 'password', label: t('admin.user.password'), type: 'password', errors: this.err('password', 'create'),
            autocomplete: 'new-password', hint: t('admin.users.passwordHint') })}
          ${this.general('create', ['username', 'email', 'password'])}
          <button type="submit" ?disabled=${this.busy}>${t('admin.users.createButton')}</button>
        </form></section>` : nothing}`, !!p);
  }
}

class ObAdminUser extends AdminSection {
  static properties = {
    ...AdminSection.properties, target: { state: true }, groups: { state: true }, catalogue: { state: true },
    perms: { state: true }, memberOf: { state: true },
  };

  async load() {
    await this.fetching(async () => {
      const u = await get('adminUsers', this.params.id);
      this.show(u);
      if (this.user.is_superuser) {
        const [groups, catalogue] = await Promise.all([
          listAll('adminGroups').catch(() => []), permissionCatalogue(language()),
        ]);
        this.groups = groups;
        this.catalogue = catalogue;
      }
    });
    this.titled(this.params.id);
  }

  show(u) {
    this.target = u;
    this.perms = new Set(u.user_permissions || []);
    this.memberOf = new Set(u.groups || []);
  }

  async save(body, scope, okText) {
    const u = await this.run(() => patch('adminUsers', this.target.username, body), scope);
    if (u) {
      this.show(u);
      this.say(okText);
    }
    return u;
  }

  setActive(active) {
    if (!active && this.target.id === this.user.id && !confirmed(t('admin.user.deactivateSelf'))) return;
    this.save({ is_active: active }, 'state', active ? t('admin.user.activated', { name: this.target.username })
      : t('admin.user.deactivated', { name: this.target.username }));
  }

  saveAccount(e) {
    e.preventDefault();
    const v = formValues(e.target);
    this.save({ email: v.email, is_staff: !!v.is_staff, is_superuser: !!v.is_superuser }, 'account', t('admin.saved'));
  }

  saveProfile(e) {
    e.preventDefault();
    const v = formValues(e.target);
    this.save({ first_name: v.first_name, last_name: v.last_name, description: v.description }, 'profile', t('admin.saved'));
  }

  saveGroups(e) {
    e.preventDefault();
    this.save({ groups: [...this.memberOf] }, 'groups', t('admin.user.groupsSaved'));
  }

  savePerms(e) {
    e.preventDefault();
    let perms = [...this.perms];
    if (!this.catalogue || !this.catalogue.length) {
      const { perms: typed, bad } = parsePermList(formValues(e.target)['u-perms']);
      if (bad.length) {
        this.errors = { ...this.errors, perms: { user_permissions: [t('admin.perms.bad', { perms: bad.join(', ') })] } };
        return;
      }
      perms = typed;
    }
    this.save({ user_permissions: perms }, 'perms', t('admin.user.permsSaved'));
  }

  async setPassword(e) {
    e.preventDefault();
    const form = e.target;
    const v = formValues(form);
    if (await this.save({ password: v.password }, 'password', t('admin.user.passwordSet'))) form.reset();
  }

  async deleteItem() {
    if (!confirmed(t('admin.user.deleteConfirm', { name: this.target.username }))) return;
    const ok = await this.run(() => destroy('adminUsers', this.target.username).then(() => true), 'delete');
    if (ok) location.hash = href('/admin/users');
  }

  toggle(set, key, on) {
    const next = new Set(set);
    if (on) next.add(key);
    else next.delete(key);
    return next;
  }

  render() {
    const u = this.target;
    const r = this.rights(USERS);
    const su = this.user.is_superuser;
    const self = u && u.id === this.user.id;
    const canProfile = r.change || self;
    const body = u ? html`
      <p><a href=${href('/admin/users')}>${t('admin.users.back')}</a></p>
      <dl class="facts">
        ${u.full_name ? html`<dt>${t('admin.user.name')}</dt><dd>${u.full_name}</dd>` : nothing}
        ${su ? html`<dt>${t('admin.user.state')}</dt><dd class="user-state">${u.is_active ? t('admin.user.active') : t('admin.user.inactive')}</dd>` : nothing}
        <dt>${t('admin.user.staff')}</dt><dd>${u.is_staff ? t('admin.yes') : t('admin.no')}</dd>
        ${su ? html`<dt>${t('admin.user.superuser')}</dt><dd>${u.is_superuser ? t('admin.yes') : t('admin.no')}</dd>
          <dt>${t('admin.user.type')}</dt><dd>${u.user_type}</dd>` : nothing}
        <dt>${t('admin.user.joined')}</dt><dd>${formatDate(u.date_joined)}</dd>
        <dt>${t('admin.user.lastLogin')}</dt><dd>${u.last_login ? formatDate(u.last_login) : t('admin.never')}</dd>
      </dl>
      ${su ? html`<section aria-labelledby="us-state"><h2 id="us-state">${t('admin.user.access')}</h2>
        <p>${u.is_active ? t('admin.user.activeText') : t('admin.user.inactiveText')}</p>
        ${u.is_active ? html`<button type="button" class="danger" ?disabled=${this.busy} @click=${() => this.setActive(false)}>${t('admin.user.deactivate')}</button>`
          : html`<button type="button" ?disabled=${this.busy} @click=${() => this.setActive(true)}>${t('admin.user.activate')}</button>`}
        ${this.general('state')}
      </section>
      <section aria-labelledby="us-account"><h2 id="us-account">${t('admin.user.account')}</h2>
        <form novalidate @submit=${(e) => this.saveAccount(e)}>
          ${field({ id: 'ua-email', name: 'email', label: t('admin.user.email'), type: 'email', value: u.email, errors: this.err('email', 'account') })}
          ${checkbox({ id: 'ua-staff', name: 'is_staff', label: t('admin.user.staffLabel'), checked: u.is_staff, hint: t('admin.user.staffHint') })}
          ${checkbox({ id: 'ua-super', name: 'is_superuser', label: t('admin.user.superuserLabel'), checked: u.is_superuser, hint: t('admin.user.superuserHint') })}
          ${this.general('account', ['email'])}
          <button type="submit" ?disabled=${this.busy}>${t('admin.save')}</button>
        </form>
      </section>` : nothing}
      ${canProfile ? html`<section aria-labelledby="us-profile"><h2 id="us-profile">${t('admin.user.profile')}</h2>
        <form novalidate @submit=${(e) => this.saveProfile(e)}>
          ${field({ id: 'up-first', name: 'first_name', label: t('admin.user.firstName'), value: u.first_name, errors: this.err('first_name', 'profile') })}
          ${field({ id: 'up-last', name: 'last_name', label: t('admin.user.lastName'), value: u.last_name, errors: this.err('last_name', 'profile') })}
          ${textarea({ id: 'up-desc', name: 'description', label: t('admin.description'), value: u.description, errors: this.err('description', 'profile') })}
          ${this.general('profile', ['first_name', 'last_name', 'description'])}
          <button type="submit" ?disabled=${this.busy}>${t('admin.save')}</button>
        </form></section>` : nothing}
      ${su ? html`<section aria-labelledby="us-groups"><h2 id="us-groups">${t('admin.user.groups')}</h2>
        <form @submit=${(e) => this.saveGroups(e)}>
          ${this.groups && this.groups.length ? html`<fieldset><legend>${t('admin.user.groupsLegend')}</legend>
            ${this.groups.map((g) => checkbox({ id: `ug-${g.slug}`, label: g.name, checked: this.memberOf.has(g.slug),
              onChange: (e) => { this.memberOf = this.toggle(this.memberOf, g.slug, e.target.checked); } }))}</fieldset>`
            : html`<p>${t('admin.groups.none')}</p>`}
          ${this.general('groups')}
          <button type="submit" ?disabled=${this.busy}>${t('admin.user.saveGroups')}</button>
        </form></section>
      <section aria-labelledby="us-perms"><h2 id="us-perms">${t('admin.user.perms')}</h2>
        <p class="hint">${t('admin.user.permsHint')}</p>
        <form @submit=${(e) => this.savePerms(e)}>
          ${permissionPicker({ id: 'u-perms', rows: this.catalogue, selected: this.perms, errors: this.err('user_permissions', 'perms'),
            onToggle: (p, on) => { this.perms = this.toggle(this.perms, p, on); } })}
          ${this.general('perms', ['user_permissions'])}
          <button type="submit" ?disabled=${this.busy}>${t('admin.user.savePerms')}</button>
        </form></section>
      <section aria-labelledby="us-password"><h2 id="us-password">${t('admin.user.password')}</h2>
        <form novalidate @submit=${(e) => this.setPassword(e)}>
          ${field({ id: 'upw', name: 'password', label: t('admin.user.newPassword'), type: 'password', autocomplete: 'new-password',
            errors: this.err('password', 'password'), hint: t('admin.user.passwordHint') })}
          ${this.general('password', ['password'])}
          <button type="submit" ?disabled=${this.busy}>${t('admin.user.setPassword')}</button>
        </form></section>` : nothing}
      ${r.destroy ? html`<section aria-labelledby="us-delete"><h2 id="us-delete">${t('admin.user.delete')}</h2>
        <p>${t('admin.user.deleteText')}</p>
        <button type="button" class="danger" ?disabled=${this.busy} @click=${() => this.deleteItem()}>${t('admin.user.deleteButton', { name: u.username })}</button>
        ${this.general('delete')}</section>` : nothing}` : nothing;
    return this.frame(this.params.id, body, !!u);
  }
}

customElements.define('ob-admin-users', ObAdminUsers);
customElements.define('ob-admin-user', ObAdminUser);
