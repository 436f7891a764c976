// <ob-admin-signup-groups> (#/admin/signup-groups): sign-up group
// assignments (/api/auth/signup_group_assignments/, every method staff +
// the model permission): which groups a new account joins, for all sites
// or one.  Identity assertions and the staff/superuser flags apply to
// provider sign-ups only (api-auth.md §6), which phase 2 adds; the form
// says so.
import { AdminSection, html, nothing, t, checkbox, select, textarea, confirmed, localErrors, errorList } from './common.js';
import { field, formValues } from '../ui.js';
import { listAll, create, patch, destroy, ApiError } from '../api.js';
import { checkSignupAssignment, hasErrors, MATCH_STRATEGIES } from './validate.js';

const SIGNUP = '/api/auth/signup_group_assignments/';

const EMPTY = { name: '', description: '', is_active: true, site: null, groups: [], is_staff: false, is_superuser: false, assertions: [] };

class ObAdminSignupGroups extends AdminSection {
  static section = 'signup-groups';

  static properties = {
    ...AdminSection.properties, rows: { state: true }, groups: { state: true }, sites: { state: true }, draft: { state: true },
  };

  constructor() {
    super();
    this.draft = { ...EMPTY };
  }

  async load() {
    await this.fetching(async () => {
      const [rows, groups, sites] = await Promise.all([
        listAll('signupGroups'), listAll('adminGroups').catch(() => null), listAll('adminSites').catch(() => []),
      ]);
      Object.assign(this, { rows, groups, sites });
    });
  }

  edit(row) {
    this.draft = row ? structuredClone(row) : { ...EMPTY, groups: [], assertions: [] };
    this.errors = { ...this.errors, form: {} };
    this.updateComplete.then(() => this.querySelector('#sg-name')?.focus());
  }

  /** The draft from the form's inputs (assertion rows included). */
  collect(form) {
    const v = formValues(form);
    const d = this.draft;
    const groups = this.groups ? d.groups : (v.groups || '').split(/[\s,]+/).filter(Boolean);
    const assertions = d.assertions.map((_, i) => ({
      name: form.elements[`as-name-${i}`].value,
      value: form.elements[`as-value-${i}`].value || null,
      match_strategy: form.elements[`as-match-${i}`].value,
    }));
    return {
      name: v.name, description: v.description, is_active: !!v.is_active, site: v.site ? Number(v.site) : null,
      groups, is_staff: !!v.is_staff, is_superuser: !!v.is_superuser, assertions,
    };
  }

  async save(e) {
    e.preventDefault();
    const body = this.collect(e.target);
    const local = checkSignupAssignment(body);
    if (hasErrors(local)) {
      this.errors = { ...this.errors, form: localErrors(local) };
      return;
    }
    const id = this.draft.id;
    const r = await this.run(() => (id ? patch('signupGroups', id, body) : create('signupGroups', body)), 'form');
    if (r) {
      this.draft = { ...EMPTY, groups: [], assertions: [] };
      e.target.reset();
      await this.load();
      this.say(id ? t('admin.saved') : t('admin.signup.created', { name: r.name }));
    } else {
      this.flattenAssertionErrors();
    }
  }

  /** {"assertions": [{"name": [...]}, ...]} from the server -> per-row
   * keys the form shows ("assertions.0.name"). */
  flattenAssertionErrors() {
    const err = this.lastError;
    const f = this.errors.form || {};
    if (err instanceof ApiError && err.body && Array.isArray(err.body.assertions)) {
      err.body.assertions.forEach((row, i) => {
        for (const [k, v] of Object.entries(row || {})) if (Array.isArray(v)) f[`assertions.${i}.${k}`] = v;
      });
      this.errors = { ...this.errors, form: f };
    }
  }

  async run(fn, scope) {
    this.lastError = null;
    return super.run(async () => {
      try {
        return await fn();
      } catch (e) {
        this.lastError = e;
        throw e;
      }
    }, scope);
  }

  async deleteItem(row) {
    if (!confirmed(t('admin.signup.deleteConfirm', { name: row.name }))) return;
    if (await this.run(() => destroy('signupGroups', row.id).then(() => true), 'list')) {
      if (this.draft.id === row.id) this.edit(null);
      await this.load();
      this.say(t('admin.deleted'));
    }
  }

  siteName(id) {
    if (id === null || id === undefined) return t('admin.signup.allSites');
    const s = (this.sites || []).find((x) => x.id === id);
    return s ? s.name : String(id);
  }

  addAssertion(form) {
    const cur = this.collect(form);
    this.draft = { ...this.draft, ...cur, assertions: [...cur.assertions, { name: '', value: '', match_strategy: 'exact' }] };
  }

  dropAssertion(form, i) {
    const cur = this.collect(form);
    this.draft = { ...this.draft, ...cur, assertions: cur.assertions.filter((_, k) => k !== i) };
  }

  form(r) {
    const d = this.draft;
    const editing = !!d.id;
    if (editing ? !r.change : !r.create) return nothing;
    const e = (k) => this.err(k, 'form');
    return html`<section aria-labelledby="sg-form"><h2 id="sg-form">${editing ? t('admin.signup.edit', { name: d.name }) : t('admin.signup.create')}</h2>
      <form novalidate @submit=${(ev) => this.save(ev)}>
        ${field({ id: 'sg-name', name: 'name', label: t('admin.name'), value: d.name, errors: e('name'), required: true })}
        ${textarea({ id: 'sg-desc', name: 'description', label: t('admin.description'), value: d.description, errors: e('description') })}
        ${checkbox({ id: 'sg-active', name: 'is_active', label: t('admin.active'), checked: d.is_active })}
        ${select({ id: 'sg-site', name: 'site', label: t('admin.signup.site'), value: d.site === null ? '' : String(d.site), errors: e('site'),
          options: [{ value: '', label: t('admin.signup.allSites') }, ...(this.sites || []).map((s) => ({ value: String(s.id), label: s.name }))] })}
        <p>${t('admin.signup.localAccounts')}</p>
        ${this.groups ? html`<fieldset><legend>${t('admin.signup.groups')}</legend>
          ${this.groups.length ? this.groups.map((g) => checkbox({ id: `sg-g-${g.slug}`, label: g.name, checked: d.groups.includes(g.slug),
            onChange: (ev) => { this.draft = { ...this.draft, groups: ev.target.checked ? [...this.draft.groups, g.slug] : this.draft.groups.filter((x) => x !== g.slug) }; } }))
            : html`<p>${t('admin.groups.none')}</p>`}
          ${errorList(e('groups'))}</fieldset>`
          : field({ id: 'sg-groups', name: 'groups', label: t('admin.signup.groupSlugs'), value: d.groups.join(', '), errors: e('groups') })}
        <fieldset><legend>${t('admin.signup.providerOnly')}</legend>
          <p class="hint">${t('admin.signup.providerHint')}</p>
          ${checkbox({ id: 'sg-staff', name: 'is_staff', label: t('admin.user.staffLabel'), checked: d.is_staff })}
          ${checkbox({ id: 'sg-super', name: 'is_superuser', label: t('admin.user.superuserLabel'), checked: d.is_superuser })}
          <h3>${t('admin.signup.assertions')}</h3>
          ${d.assertions.map((a, i) => html`<div class="assertion" role="group" aria-label=${t('admin.signup.assertionN', { n: i + 1 })}>
            ${field({ id: `as-name-${i}`, label: t('admin.signup.claim'), value: a.name, errors: e(`assertions.${i}.name`) })}
            ${field({ id: `as-value-${i}`, label: t('admin.signup.value'), value: a.value || '', errors: e(`assertions.${i}.value`) })}
            ${select({ id: `as-match-${i}`, label: t('admin.signup.match'), value: a.match_strategy, errors: e(`assertions.${i}.match_strategy`),
              options: MATCH_STRATEGIES.map((m) => ({ value: m, label: t(`admin.signup.match.${m}`) })) })}
            <button type="button" class="secondary" @click=${(ev) => this.dropAssertion(ev.target.form, i)}>${t('admin.remove')}</button>
          </div>`)}
          <button type="button" class="secondary" @click=${(ev) => this.addAssertion(ev.target.form)}>${t('admin.signup.addAssertion')}</button>
        </fieldset>
        ${this.general('form', ['name', 'description', 'site', 'groups', ...d.assertions.flatMap((_, i) => ['name', 'value', 'match_strategy'].map((k) => `assertions.${i}.${k}`))])}
        <div class="buttons"><button type="submit" ?disabled=${this.busy}>${editing ? t('admin.save') : t('admin.signup.createButton')}</button>
          ${editing ? html`<button type="button" class="secondary" @click=${() => this.edit(null)}>${t('common.cancel')}</button>` : nothing}</div>
      </form></section>`;
  }

  render() {
    const r = this.rights(SIGNUP);
    return this.frame(t('admin.section.signup-groups'), () => html`
      <p class="lead">${t('admin.signup.lead')}</p>
      ${this.general('list')}
      ${this.rows && this.rows.length ? html`<table class="list"><thead><tr><th scope="col">${t('admin.name')}</th>
        <th scope="col">${t('admin.active')}</th><th scope="col">${t('admin.signup.site')}</th><th scope="col">${t('admin.signup.groups')}</th>
        ${r.change || r.destroy ? html`<th scope="col">${t('common.actions')}</th>` : nothing}</tr></thead>
        <tbody>${this.rows.map((x) => html`<tr><td>${x.name}</td><td>${x.is_active ? t('admin.yes') : t('admin.no')}</td>
          <td>${this.siteName(x.site)}</td><td>${x.groups.join(', ')}</td>
          ${r.change || r.destroy ? html`<td class="actions">
            ${r.change ? html`<button type="button" class="secondary" @click=${() => this.edit(x)} aria-label=${t('admin.editNamed', { name: x.name })}>${t('admin.edit')}</button>` : nothing}
            ${r.destroy ? html`<button type="button" class="danger" @click=${() => this.deleteItem(x)} aria-label=${t('admin.deleteNamed', { name: x.name })}>${t('admin.delete')}</button>` : nothing}
          </td>` : nothing}</tr>`)}</tbody></table>` : html`<p>${t('admin.none')}</p>`}
      ${this.form(r)}`, !!this.rows);
  }
}

customElements.define('ob-admin-signup-groups', ObAdminSignupGroups);
