// <ob-studio-group> (#/studio/groups/<id>): a library group in the studio:
// its settings (name, slug, description, place in the tree), its links to
// textbooks and courses of other groups, and through <ob-scope-admin> its
// roles, enrolment methods, assignments, access requests and public
// permissions.
import { View, html, nothing, t, announce, setTitle, focusHeading, loading, loadError, formErrors } from '../ui.js';
import { get, listAll, create, patch, destroy } from '../api.js';
import { href } from '../router.js';
import { loadGrants, groupScope, GROUP } from './session.js';
import { messages, attempt, textFields, settingsBox, crumbs } from './forms.js';
import './scope-admin.js';

const C = 'openbook_content';

class ObStudioGroup extends View {
  static properties = {
    params: { attribute: false }, group: { state: true }, groups: { state: true }, links: { state: true },
    textbooks: { state: true }, courses: { state: true }, grants: { state: true }, error: { state: true }, errors: { state: true },
  };

  constructor() {
    super();
    this.params = {};
    this.errors = {};
  }

  willUpdate(changed) {
    if (changed.has('params')) {
      this.group = null;
      this.load(true);
    }
  }

  async load(focus = false) {
    const id = this.params.id;
    try {
      const [group, groups, links, textbooks, courses, grants] = await Promise.all([
        get('studio.groups', id),
        listAll('studio.groups', {}, { fields: ['id', 'name', 'parent'] }),
        listAll('studio.links', { group: id }),
        listAll('studio.textbooks', {}, { fields: ['id', 'name', 'group'] }),
        listAll('studio.courses', {}, { fields: ['id', 'name', 'group'] }),
        loadGrants(),
      ]);
      if (this.params.id !== id) return;
      Object.assign(this, { group, groups, links, textbooks, courses, grants });
      setTitle(`${t('studio.title')}: ${group.name}`);
      if (focus) {
        await this.updateComplete;
        focusHeading(this);
      }
    } catch (e) {
      if (this.params.id === id) this.error = e;
    }
  }

  can(perm) {
    return Boolean(this.grants && this.grants.can(`${C}.${perm}`, { scope: groupScope(this.group) }));
  }

  run(key, fn, done) {
    return attempt(this, key, fn, done);
  }

  saveSettings(e) {
    e.preventDefault();
    const f = e.target.elements;
    return this.run('settings', () => patch('studio.groups', this.group.id, {
      name: f.name.value.trim(), slug: f.slug.value.trim(), description: f.description.value, parent: f.parent.value || null,
    }), t('studio.saved'));
  }

  async deleteGroup() {
    const g = this.group;
    if (!confirm(t('studio.group.deleteConfirm', { name: g.name }))) return;
    try {
      await destroy('studio.groups', g.id);
      announce(t('studio.deletedNamed', { name: g.name }));
      location.hash = '#/studio';
    } catch (err) {
      this.errors = { settings: messages(err) };
    }
  }

  addLink(e) {
    e.preventDefault();
    const [kind, id] = e.target.elements.target.value.split(':');
    return this.run('links', () => create('studio.links', { group: this.group.id, [kind]: id }), t('studio.group.linked'));
  }

  renderLinks() {
    const name = (l) => (l.textbook ? this.textbooks.find((x) => x.id === l.textbook)?.name : this.courses.find((x) => x.id === l.course)?.name) || l.textbook || l.course;
    const linked = new Set(this.links.map((l) => l.textbook || l.course));
    const others = (xs) => xs.filter((x) => x.group !== this.group.id && !linked.has(x.id));
    return html`<section aria-labelledby="g-links"><h2 id="g-links">${t('studio.group.links')}</h2>
      ${this.links.length ? html`<ul>${this.links.map((l) => html`<li>${l.textbook ? t('studio.group.textbookLink', { name: name(l) }) : t('studio.group.courseLink', { name: name(l) })}
        ${this.can('delete_librarylink') ? html`<button type="button" class="danger small" aria-label=${t('studio.deleteNamed', { name: name(l) })}
          @click=${() => this.run('links', () => destroy('studio.links', l.id))}>${t('studio.delete')}</button>` : nothing}</li>`)}</ul>` : html`<p>${t('studio.group.noLinks')}</p>`}
      ${this.can('add_librarylink') ? html`<form class="inline-form" @submit=${(e) => this.addLink(e)}>
        <div class="field"><label for="gl-target">${t('studio.group.linkTarget')}</label><select id="gl-target" name="target" required>
          <option value="">${t('studio.choose')}</option>
          <optgroup label=${t('group.textbooks')}>${others(this.textbooks).map((x) => html`<option value="textbook:${x.id}">${x.name}</option>`)}</optgroup>
          <optgroup label=${t('group.courses')}>${others(this.courses).map((x) => html`<option value="course:${x.id}">${x.name}</option>`)}</optgroup>
        </select></div><button type="submit">${t('studio.group.link')}</button></form>` : nothing}
      ${formErrors(this.errors.links)}
    </section>`;
  }

  renderSettings() {
    const g = this.group;
    return settingsBox({
      summary: t('studio.group.settings'), errors: this.errors.settings,
      form: this.can('change_librarygroup') ? html`<form @submit=${(e) => this.saveSettings(e)}>${textFields('g', g)}
        <div class="field"><label for="g-parent">${t('studio.parentGroup')}</label><select id="g-parent" name="parent">
          <option value="">${t('studio.topLevel')}</option>
          ${this.groups.filter((x) => x.id !== g.id).map((x) => html`<option value=${x.id} ?selected=${x.id === g.parent}>${x.name}</option>`)}</select></div>
        <button type="submit">${t('studio.save')}</button></form>` : null,
      deleteLabel: t('studio.group.delete'), onDelete: this.can('delete_librarygroup') ? () => this.deleteGroup() : null,
    });
  }

  render() {
    if (this.error) return loadError(this.error);
    if (!this.group) return loading();
    const g = this.group;
    return html`${crumbs(g.name)}
      <h1>${g.name}</h1>
      <p><a href=${href(`/groups/${g.id}`)}>${t('studio.group.view')}</a></p>
      ${this.renderSettings()}
      ${this.renderLinks()}
      <ob-scope-admin .scopeType=${GROUP} .item=${g} .grants=${this.grants}></ob-scope-admin>`;
  }
}

customElements.define('ob-studio-group', ObStudioGroup);
