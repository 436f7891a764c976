// <ob-admin-languages> (#/admin/languages): the languages the server
// knows (translations exist per language; the UI offers them in the
// header): add, rename, delete (staff + the model permission each).
import { AdminSection, html, nothing, t, confirmed, localErrors, errorList } from './common.js';
import { field, formValues } from '../ui.js';
import { listAll, create, patch, destroy } from '../api.js';
import { checkLanguage, hasErrors } from './validate.js';

const LANGUAGES = '/api/core/languages/';

class ObAdminLanguages extends AdminSection {
  static section = 'languages';

  static properties = { ...AdminSection.properties, rows: { state: true } };

  async load() {
    await this.fetching(async () => {
      this.rows = await listAll('adminLanguages');
    });
  }

  async add(e) {
    e.preventDefault();
    const form = e.target;
    const v = formValues(form);
    v.language = (v.language || '').trim().toLowerCase();
    const local = checkLanguage(v);
    if (hasErrors(local)) {
      this.errors = { ...this.errors, create: localErrors(local) };
      return;
    }
    const r = await this.run(() => create('adminLanguages', { language: v.language, name: v.name.trim() }), 'create');
    if (r) {
      form.reset();
      await this.load();
      this.say(t('admin.languages.added', { name: r.name }));
    }
  }

  async rename(row) {
    const name = this.querySelector(`#lang-name-${row.language}`).value;
    const local = checkLanguage({ name }, { creating: false });
    if (hasErrors(local)) {
      this.errors = { ...this.errors, [`row-${row.language}`]: localErrors(local) };
      return;
    }
    const r = await this.run(() => patch('adminLanguages', row.language, { name: name.trim() }), `row-${row.language}`);
    if (r) {
      await this.load();
      this.say(t('admin.languages.renamed', { code: r.language, name: r.name }));
    }
  }

  async deleteItem(row) {
    if (!confirmed(t('admin.languages.deleteConfirm', { name: row.name }))) return;
    if (await this.run(() => destroy('adminLanguages', row.language).then(() => true), `row-${row.language}`)) {
      await this.load();
      this.say(t('admin.languages.deleted', { name: row.name }));
    }
  }

  render() {
    const r = this.rights(LANGUAGES);
    return this.frame(t('admin.section.languages'), () => html`
      <p class="lead">${t('admin.languages.lead')}</p>
      ${this.rows && this.rows.length ? html`<table class="list"><thead><tr><th scope="col">${t('admin.languages.code')}</th>
        <th scope="col">${t('admin.name')}</th>${r.change || r.destroy ? html`<th scope="col">${t('common.actions')}</th>` : nothing}</tr></thead>
        <tbody>${this.rows.map((x) => html`<tr><td><code>${x.language}</code></td>
          <td>${r.change ? html`<input id=${`lang-name-${x.language}`} .value=${x.name} maxlength="64"
            aria-label=${t('admin.languages.nameOf', { code: x.language })}
            aria-invalid=${this.err('name', `row-${x.language}`).length ? 'true' : 'false'}>` : x.name}
            ${errorList(this.err('name', `row-${x.language}`))}
            ${this.general(`row-${x.language}`, ['name'])}</td>
          ${r.change || r.destroy ? html`<td class="actions">
            ${r.change ? html`<button type="button" class="secondary" @click=${() => this.rename(x)}
              aria-label=${t('admin.languages.renameLabel', { code: x.language })}>${t('admin.rename')}</button>` : nothing}
            ${r.destroy ? html`<button type="button" class="danger" @click=${() => this.deleteItem(x)}
              aria-label=${t('admin.deleteNamed', { name: x.name })}>${t('admin.delete')}</button>` : nothing}</td>` : nothing}
        </tr>`)}</tbody></table>` : html`<p>${t('admin.none')}</p>`}
      ${r.create ? html`<section aria-labelledby="l-new"><h2 id="l-new">${t('admin.languages.add')}</h2>
        <form class="narrow-form" novalidate @submit=${(e) => this.add(e)}>
          ${field({ id: 'nl-code', name: 'language', label: t('admin.languages.code'), errors: this.err('language', 'create'), required: true,
            hint: t('admin.languages.codeHint'), autocomplete: 'off' })}
          ${field({ id: 'nl-name', name: 'name', label: t('admin.name'), errors: this.err('name', 'create'), required: true })}
          ${this.general('create', ['language', 'name'])}
          <button type="submit" ?disabled=${this.busy}>${t('admin.languages.addButton')}</button>
        </form></section>` : nothing}`, !!this.rows);
  }
}

customElements.define('ob-admin-languages', ObAdminLanguages);
