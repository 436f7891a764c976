// <ob-admin-groups> (#/admin/groups): user groups with their member
// counts; create (add_group).  <ob-admin-group> (#/admin/groups/<id>):
// name, slug and permissions (change_group), delete (delete_group).
// Membership is edited on the user (api-resources.md groups).
import { AdminSection, html, nothing, t, confirmed, permissionCatalogue, permissionPicker, localErrors, permLabel } from './common.js';
import { field, formValues } from '../ui.js';
import { listAll, get, patch, create, destroy } from '../api.js';
import { language } from '../i18n.js';
import { href } from '../router.js';
import { checkGroup, hasErrors, parsePermList } from './validate.js';

const GROUPS = '/api/auth/groups/';

class ObAdminGroups extends AdminSection {
  static section = 'groups';

  static properties = { ...AdminSection.properties, groups: { state: true } };

  async load() {
    if (!this.rights(GROUPS).list) {
      this.groups = [];
      return;
    }
    await this.fetching(async () => {
      this.groups = await listAll('adminGroups');
    });
  }

  async add(e) {
    e.preventDefault();
    const form = e.target;
    const v = formValues(form);
    const local = checkGroup(v);
    if (hasErrors(local)) {
      this.errors = { ...this.errors, create: localErrors(local) };
      return;
    }
    const g = await this.run(() => create('adminGroups', { name: v.name, slug: v.slug, permissions: [] }), 'create');
    if (g) {
      form.reset();
      location.hash = href(`/admin/groups/${g.id}`);
    }
  }

  render() {
    const r = this.rights(GROUPS);
    return this.frame(t('admin.section.groups'), () => html`
      ${r.list ? (this.groups.length ? html`<table class="list"><thead><tr><th scope="col">${t('admin.name')}</th>
        <th scope="col">${t('admin.slug')}</th><th scope="col">${t('admin.groups.members')}</th><th scope="col">${t('admin.groups.perms')}</th></tr></thead>
        <tbody>${this.groups.map((g) => html`<tr><td><a href=${href(`/admin/groups/${g.id}`)}>${g.name}</a></td>
          <td><code>${g.slug}</code></td><td>${g.user_count}</td><td>${g.permissions.length}</td></tr>`)}</tbody></table>`
        : html`<p>${t('admin.groups.none')}</p>`) : html`<p>${t('admin.cannotList')}</p>`}
      ${r.create ? html`<section aria-labelledby="g-new"><h2 id="g-new">${t('admin.groups.create')}</h2>
        <form class="narrow-form" novalidate @submit=${(e) => this.add(e)}>
          ${field({ id: 'ng-name', name: 'name', label: t('admin.name'), errors: this.err('name', 'create'), required: true })}
          ${field({ id: 'ng-slug', name: 'slug', label: t('admin.slug'), errors: this.err('slug', 'create'), required: true, hint: t('admin.slugHint') })}
          ${this.general('create', ['name', 'slug'])}
          <button type="submit" ?disabled=${this.busy}>${t('admin.groups.createButton')}</button>
        </form></section>` : nothing}`, !!this.groups);
  }
}

class ObAdminGroup extends AdminSection {
  static properties = { ...AdminSection.properties, group: { state: true }, catalogue: { state: true }, perms: { state: true } };

  async load() {
    await this.fetching(async () => {
      const [g, catalogue] = await Promise.all([get('adminGroups', this.params.id), permissionCatalogue(language())]);
      this.group = g;
      this.perms = new Set(g.permissions);
      this.catalogue = catalogue;
    });
    this.titled(this.group ? this.group.name : t('admin.section.groups'));
  }

  async save(e) {
    e.preventDefault();
    const v = formValues(e.target);
    const local = localErrors(checkGroup(v));
    let perms = [...this.perms];
    if (!this.catalogue.length) {
      const parsed = parsePermList(v['g-perms']);
      if (parsed.bad.length) local.permissions = [t('admin.perms.bad', { perms: parsed.bad.join(', ') })];
      perms = parsed.perms;
    }
    if (hasErrors(local)) {
      this.errors = { ...this.errors, edit: local };
      return;
    }
    const g = await this.run(() => patch('adminGroups', this.group.id, { name: v.name, slug: v.slug, permissions: perms }), 'edit');
    if (g) {
      this.group = g;
      this.perms = new Set(g.permissions);
      this.say(t('admin.saved'));
    }
  }

  async deleteItem() {
    const g = this.group;
    if (!confirmed(t('admin.groups.deleteConfirm', { name: g.name, n: g.user_count }))) return;
    const ok = await this.run(() => destroy('adminGroups', g.id).then(() => true), 'delete');
    if (ok) location.hash = href('/admin/groups');
  }

  render() {
    const g = this.group;
    const r = this.rights(GROUPS);
    const edit = r.change;
    const body = g ? html`<p><a href=${href('/admin/groups')}>${t('admin.groups.back')}</a></p>
      <p>${t('admin.groups.memberCount', { n: g.user_count })}</p>
      ${edit ? html`<form novalidate @submit=${(e) => this.save(e)}>
        ${field({ id: 'g-name', name: 'name', label: t('admin.name'), value: g.name, errors: this.err('name', 'edit'), required: true })}
        ${field({ id: 'g-slug', name: 'slug', label: t('admin.slug'), value: g.slug, errors: this.err('slug', 'edit'), required: true })}
        <h2>${t('admin.groups.perms')}</h2>
        ${permissionPicker({ id: 'g-perms', rows: this.catalogue, selected: this.perms, errors: this.err('permissions', 'edit'),
          onToggle: (p, on) => { const s = new Set(this.perms); if (on) s.add(p); else s.delete(p); this.perms = s; } })}
        ${this.general('edit', ['name', 'slug', 'permissions'])}
        <button type="submit" ?disabled=${this.busy}>${t('admin.save')}</button>
      </form>` : html`<h2>${t('admin.groups.perms')}</h2>
        ${g.permissions.length ? html`<ul>${g.permissions.map((p) => html`<li>${permLabel(this.catalogue, p)} (<code>${p}</code>)</li>`)}</ul>` : html`<p>${t('admin.none')}</p>`}`}
      ${r.destroy ? html`<section aria-labelledby="g-delete"><h2 id="g-delete">${t('admin.groups.delete')}</h2>
        <button type="button" class="danger" ?disabled=${this.busy} @click=${() => this.deleteItem()}>${t('admin.groups.deleteButton', { name: g.name })}</button>
        ${this.general('delete')}</section>` : nothing}` : nothing;
    return this.frame(g ? g.name : t('admin.section.groups'), body, !!g);
  }
}

customElements.define('ob-admin-groups', ObAdminGroups);
customElements.define('ob-admin-group', ObAdminGroup);
