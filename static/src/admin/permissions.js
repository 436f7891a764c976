// Permissions, three screens:
//  <ob-admin-permission-texts>  (#/admin/permission-texts): translated
//    permission names per language (staff + the model permission);
//  <ob-admin-anonymous-permissions> (#/admin/anonymous-permissions):
//    what everybody may do, logged in or not (superusers write);
//  <ob-admin-role-permissions> (#/admin/role-permissions): which
//    permissions roles of each scope type may hold (superusers write).
import { AdminSection, html, nothing, t, confirmed, select, permissionCatalogue, permLabel } from './common.js';
import { field, formValues } from '../ui.js';
import { listAll, create, patch, destroy, request } from '../api.js';
import { language } from '../i18n.js';
import { isPermString } from './validate.js';

/** An input for a perm string, offering the catalogue's perm strings. */
function permInput({ id, label, errors, rows, hint }) {
  return html`${field({ id, name: 'permission', label, errors, required: true, autocomplete: 'off', hint })}
    <datalist id=${`${id}-options`}>${(rows || []).map((p) => html`<option value=${p.perm_string}>${p.perm_display_name}</option>`)}</datalist>`;
}

/** Connects a perm input with its datalist (field() has no `list`). */
function wireList(root, id) {
  const input = root.querySelector(`#${id}`);
  if (input && !input.getAttribute('list')) input.setAttribute('list', `${id}-options`);
}

function checkPerm(v) {
  const p = (v || '').trim();
  return isPermString(p) ? null : t('admin.v.perm');
}

// ---- permission texts

const TEXTS = '/api/auth/permission_texts/';

class ObAdminPermissionTexts extends AdminSection {
  static section = 'permission-texts';

  static properties = {
    ...AdminSection.properties, texts: { state: true }, languages: { state: true }, catalogue: { state: true }, langFilter: { state: true },
  };

  constructor() {
    super();
    this.langFilter = '';
  }

  async load() {
    await this.fetching(async () => {
      const [texts, languages, catalogue] = await Promise.all([
        listAll('permissionTexts', this.langFilter ? { language: this.langFilter } : {}),
        listAll('adminLanguages'), permissionCatalogue(language()),
      ]);
      Object.assign(this, { texts, languages, catalogue });
    });
  }

  updated() {
    wireList(this, 'pt-perm');
  }

  async add(e) {
    e.preventDefault();
    const form = e.target;
    const v = formValues(form);
    const bad = checkPerm(v.permission);
    if (bad || !v.name.trim()) {
      this.errors = { ...this.errors, create: { ...(bad ? { parent: [bad] } : {}), ...(v.name.trim() ? {} : { name: [t('admin.v.required')] }) } };
      return;
    }
    const r = await this.run(() => create('permissionTexts', { parent: v.permission.trim(), language: v.language, name: v.name.trim() }), 'create');
    if (r) {
      form.reset();
      await this.load();
      this.say(t('admin.texts.added'));
    }
  }

  async rename(row) {
    const input = this.querySelector(`#pt-name-${row.id}`);
    const r = await this.run(() => patch('permissionTexts', row.id, { name: input.value }), `row-${row.id}`);
    if (r) {
      await this.load();
      this.say(t('admin.saved'));
    }
  }

  async deleteItem(row) {
    if (!confirmed(t('admin.texts.deleteConfirm', { perm: row.parent, language: row.language }))) return;
    if (await this.run(() => destroy('permissionTexts', row.id).then(() => true), `row-${row.id}`)) {
      await this.load();
      this.say(t('admin.deleted'));
    }
  }

  render() {
    const r = this.rights(TEXTS);
    const langs = this.languages || [];
    return this.frame(t('admin.section.permission-texts'), () => html`
      <p class="lead">${t('admin.texts.lead')}</p>
      ${select({ id: 'pt-filter', label: t('admin.texts.filter'), value: this.langFilter,
        options: [{ value: '', label: t('admin.all') }, ...langs.map((l) => ({ value: l.language, label: l.name }))],
        onChange: (e) => { this.langFilter = e.target.value; this.load(); } })}
      ${this.texts && this.texts.length ? html`<table class="list"><thead><tr><th scope="col">${t('admin.permission')}</th>
        <th scope="col">${t('admin.language')}</th><th scope="col">${t('admin.name')}</th>${r.change || r.destroy ? html`<th scope="col">${t('common.actions')}</th>` : nothing}</tr></thead>
        <tbody>${this.texts.map((x) => html`<tr>
          <td>${permLabel(this.catalogue, x.parent)}<br><code>${x.parent}</code></td><td>${x.language}</td>
          <td>${r.change ? html`<input id=${`pt-name-${x.id}`} .value=${x.name} aria-label=${t('admin.texts.nameFor', { perm: x.parent, language: x.language })}>` : x.name}
            ${this.general(`row-${x.id}`)}</td>
          ${r.change || r.destroy ? html`<td class="actions">
            ${r.change ? html`<button type="button" class="secondary" @click=${() => this.rename(x)}>${t('admin.save')}</button>` : nothing}
            ${r.destroy ? html`<button type="button" class="danger" @click=${() => this.deleteItem(x)}
              aria-label=${t('admin.texts.deleteLabel', { perm: x.parent, language: x.language })}>${t('admin.delete')}</button>` : nothing}</td>` : nothing}
        </tr>`)}</tbody></table>` : html`<p>${t('admin.texts.none')}</p>`}
      ${r.create ? html`<section aria-labelledby="pt-new"><h2 id="pt-new">${t('admin.texts.create')}</h2>
        <form class="narrow-form" novalidate @submit=${(e) => this.add(e)}>
          ${permInput({ id: 'pt-perm', label: t('admin.permission'), errors: this.err('parent', 'create'), rows: this.catalogue, hint: t('admin.permHint') })}
          ${select({ id: 'pt-lang', name: 'language', label: t('admin.language'), value: language(), options: langs.map((l) => ({ value: l.language, label: l.name })),
            errors: this.err('language', 'create') })}
          ${field({ id: 'pt-text', name: 'name', label: t('admin.texts.text'), errors: this.err('name', 'create'), required: true })}
          ${this.general('create', ['parent', 'language', 'name'])}
          <button type="submit" ?disabled=${this.busy}>${t('admin.add')}</button>
        </form></section>` : nothing}`, !!this.texts);
  }
}

// ---- anonymous permissions

const ANON = '/api/auth/anonymous_permissions/';

class ObAdminAnonymousPermissions extends AdminSection {
  static section = 'anonymous-permissions';

  static properties = { ...AdminSection.properties, rows: { state: true }, catalogue: { state: true } };

  async load() {
    await this.fetching(async () => {
      [this.rows, this.catalogue] = await Promise.all([listAll('anonymousPermissions'), permissionCatalogue(language())]);
    });
  }

  updated() {
    wireList(this, 'ap-perm');
  }

  async add(e) {
    e.preventDefault();
    const form = e.target;
    const v = formValues(form);
    const bad = checkPerm(v.permission);
    if (bad) {
      this.errors = { ...this.errors, create: { permission: [bad] } };
      return;
    }
    if (await this.run(() => create('anonymousPermissions', { permission: v.permission.trim() }), 'create')) {
      form.reset();
      await this.load();
      this.say(t('admin.anon.added', { perm: v.permission.trim() }));
    }
  }

  async deleteItem(row) {
    if (!confirmed(t('admin.anon.removeConfirm', { perm: row.permission }))) return;
    if (await this.run(() => destroy('anonymousPermissions', row.id).then(() => true), 'list')) {
      await this.load();
      this.say(t('admin.anon.removed', { perm: row.permission }));
    }
  }

  render() {
    const r = this.rights(ANON);
    return this.frame(t('admin.section.anonymous-permissions'), () => html`
      <p class="lead">${t('admin.anon.lead')}</p>
      ${this.general('list')}
      ${this.rows && this.rows.length ? html`<table class="list"><thead><tr><th scope="col">${t('admin.permission')}</th>
        <th scope="col">${t('admin.permString')}</th>${r.destroy ? html`<th scope="col">${t('common.actions')}</th>` : nothing}</tr></thead>
        <tbody>${this.rows.map((x) => html`<tr><td>${x.perm_display_name}</td><td><code>${x.permission}</code></td>
          ${r.destroy ? html`<td class="actions"><button type="button" class="danger" @click=${() => this.deleteItem(x)}
            aria-label=${t('admin.anon.removeLabel', { perm: x.permission })}>${t('admin.remove')}</button></td>` : nothing}</tr>`)}</tbody></table>`
        : html`<p>${t('admin.none')}</p>`}
      ${r.create ? html`<section aria-labelledby="ap-new"><h2 id="ap-new">${t('admin.anon.add')}</h2>
        <form class="narrow-form" novalidate @submit=${(e) => this.add(e)}>
          ${permInput({ id: 'ap-perm', label: t('admin.permission'), errors: this.err('permission', 'create'), rows: this.catalogue, hint: t('admin.permHint') })}
          ${this.general('create', ['permission'])}
          <button type="submit" ?disabled=${this.busy}>${t('admin.anon.addButton')}</button>
        </form></section>` : nothing}`, !!this.rows);
  }
}

// ---- allowed role permissions per scope type

const ALLOWED = '/api/auth/allowed_role_permissions/';

class ObAdminRolePermissions extends AdminSection {
  static section = 'role-permissions';

  static properties = { ...AdminSection.properties, types: { state: true }, catalogue: { state: true } };

  async load() {
    await this.fetching(async () => {
      const [types, rows, catalogue] = await Promise.all([
        request('GET', '/api/auth/scope_types/'),
        listAll('allowedRolePermissions', {}, { expand: ['permission'] }),
        permissionCatalogue(language()),
      ]);
      this.catalogue = catalogue;
      this.types = types.map((st) => ({ ...st, rows: rows.filter((r) => r.scope_type === st.id) }));
    });
  }

  updated() {
    for (const st of this.types || []) wireList(this, `rp-perm-${st.pk}`);
  }

  async add(e, st) {
    e.preventDefault();
    const form = e.target;
    const v = formValues(form);
    const scope = `type-${st.pk}`;
    const bad = checkPerm(v.permission);
    if (bad) {
      this.errors = { ...this.errors, [scope]: { permission: [bad] } };
      return;
    }
    if (await this.run(() => create('allowedRolePermissions', { scope_type: st.id, permission: v.permission.trim() }), scope)) {
      form.reset();
      await this.load();
      this.say(t('admin.roles.added', { perm: v.permission.trim(), type: st.label }));
    }
  }

  async deleteItem(st, row) {
    const perm = typeof row.permission === 'object' ? row.permission.perm_string : row.permission;
    if (!confirmed(t('admin.roles.removeConfirm', { perm, type: st.label }))) return;
    if (await this.run(() => destroy('allowedRolePermissions', row.id).then(() => true), `type-${st.pk}`)) {
      await this.load();
      this.say(t('admin.roles.removed', { perm, type: st.label }));
    }
  }

  render() {
    const r = this.rights(ALLOWED);
    const perm = (row) => (row.permission && typeof row.permission === 'object' ? row.permission : { perm_string: row.permission, perm_display_name: row.permission });
    return this.frame(t('admin.section.role-permissions'), () => html`
      <p class="lead">${t('admin.roles.lead')}</p>
      ${(this.types || []).map((st) => html`<section aria-labelledby=${`rp-${st.pk}`}>
        <h2 id=${`rp-${st.pk}`}>${st.label} <code>${st.id}</code></h2>
        ${st.rows.length ? html`<table class="list"><thead><tr><th scope="col">${t('admin.permission')}</th><th scope="col">${t('admin.permString')}</th>
          ${r.destroy ? html`<th scope="col">${t('common.actions')}</th>` : nothing}</tr></thead>
          <tbody>${st.rows.map((x) => html`<tr><td>${perm(x).perm_display_name}</td><td><code>${perm(x).perm_string}</code></td>
            ${r.destroy ? html`<td class="actions"><button type="button" class="danger" @click=${() => this.deleteItem(st, x)}
              aria-label=${t('admin.roles.removeLabel', { perm: perm(x).perm_string, type: st.label })}>${t('admin.remove')}</button></td>` : nothing}</tr>`)}</tbody></table>`
          : html`<p>${t('admin.none')}</p>`}
        ${r.create ? html`<form class="inline-form" novalidate @submit=${(e) => this.add(e, st)}>
          ${permInput({ id: `rp-perm-${st.pk}`, label: t('admin.roles.addFor', { type: st.label }), errors: this.err('permission', `type-${st.pk}`), rows: this.catalogue })}
          <button type="submit" ?disabled=${this.busy}>${t('admin.add')}</button>
        </form>` : nothing}
        ${this.general(`type-${st.pk}`, ['permission'])}
      </section>`)}`, !!this.types);
  }
}

customElements.define('ob-admin-permission-texts', ObAdminPermissionTexts);
customElements.define('ob-admin-anonymous-permissions', ObAdminAnonymousPermissions);
customElements.define('ob-admin-role-permissions', ObAdminRolePermissions);
