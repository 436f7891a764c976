// <ob-studio-home> (#/studio): the library groups with the textbooks and
// courses the user may work on, and the forms to create textbooks, courses
// (from scratch or from a template course) and groups, each shown only
// where the user's grants allow it.
import { View, html, nothing, t, announce, setTitle, focusHeading, loading, loadError, formErrors } from '../ui.js';
import { listAll, create } from '../api.js';
import { href } from '../router.js';
import { loadGrants, groupScope, courseScope } from './session.js';
import { slugify, messages } from './forms.js';
import { copyCourse } from './course-copy.js';

const C = 'openbook_content';

class ObStudioHome extends View {
  static properties = {
    groups: { state: true }, textbooks: { state: true }, courses: { state: true }, grants: { state: true },
    error: { state: true }, errors: { state: true }, form: { state: true }, busy: { state: true },
  };

  constructor() {
    super();
    this.errors = {};
  }

  connectedCallback() {
    super.connectedCallback();
    this.load(true);
  }

  languageChanged() {
    this.load();
  }

  async load(focus = false, fresh = false) {
    try {
      const [groups, textbooks, courses, grants] = await Promise.all([
        listAll('studio.groups', {}, { fields: ['id', 'name', 'parent', 'owner', 'public_permissions'] }),
        listAll('studio.textbooks', {}, { fields: ['id', 'name', 'group'] }),
        listAll('studio.courses', {}, { fields: ['id', 'name', 'group', 'is_template', 'owner', 'public_permissions'] }),
        loadGrants({ fresh }),
      ]);
      Object.assign(this, { groups, textbooks, courses, grants });
    } catch (e) {
      this.error = e;
    }
    setTitle(t('studio.title'));
    if (focus) {
      await this.updateComplete;
      focusHeading(this);
    }
  }

  groupOf(id) {
    return this.groups.find((g) => g.id === id);
  }

  canTextbook(tb) {
    const scope = groupScope(this.groupOf(tb.group) || { id: tb.group });
    return ['change_textbook', 'delete_textbook', 'add_textbookpage', 'change_textbookpage', 'delete_textbookpage']
      .some((p) => this.grants.can(`${C}.${p}`, { scope }));
  }

  canCourse(c) {
    const scope = courseScope(c);
    return this.grants.can(`${C}.change_course`, { scope }) || this.grants.can(`${C}.add_coursematerial`, { scope }) ||
      this.grants.can('openbook_auth.view_accessrequest', { scope, priority: 0 }) ||
      this.grants.can('openbook_auth.change_role', { scope, priority: 0 });
  }

  canGroup(g) {
    const scope = groupScope(g);
    return ['change_librarygroup', 'delete_librarygroup', 'add_librarylink'].some((p) => this.grants.can(`${C}.${p}`, { scope })) ||
      this.grants.can('openbook_auth.change_role', { scope, priority: 0 });
  }

  openForm(kind, group) {
    this.form = { kind, group };
    this.errors = {};
    this.updateComplete.then(() => this.querySelector('#new-name')?.focus());
  }

  async submit(e) {
    e.preventDefault();
    const f = e.target.elements;
    const name = f.name.value.trim();
    const slug = f.slug.value.trim() || slugify(name);
    const base = { name, slug, description: f.description.value };
    this.busy = true;
    this.errors = {};
    try {
      if (this.form.kind === 'textbook') {
        const tb = await create('studio.textbooks', { ...base, group: f.group.value });
        announce(t('studio.created', { name }));
        location.hash = href(`/studio/textbooks/${tb.id}`);
      } else if (this.form.kind === 'course') {
        const template = f.template.value;
        const body = { ...base, group: f.group.value, is_template: f.is_template.checked };
        const c = template ? await copyCourse(this.courses.find((x) => x.id === template), body) : await create('studio.courses', body);
        await loadGrants({ fresh: true });   // the creator owns the course
        announce(t('studio.created', { name }));
        location.hash = href(`/studio/courses/${c.id}`);
      } else {
        const g = await create('studio.groups', { ...base, parent: f.parent.value || null });
        await loadGrants({ fresh: true });
        announce(t('studio.created', { name }));
        location.hash = href(`/studio/groups/${g.id}`);
      }
    } catch (err) {
      this.errors = { form: messages(err) };
    } finally {
      this.busy = false;
    }
  }

  renderForm() {
    const k = this.form.kind;
    const addPerm = k === 'textbook' ? `${C}.add_textbook` : k === 'course' ? `${C}.add_course` : `${C}.add_librarygroup`;
    const groups = k === 'textbook' ? this.groups.filter((g) => this.grants.can(addPerm, { scope: groupScope(g) })) : this.groups;
    const templates = this.courses.filter((c) => c.is_template);
    const title = t(`studio.new.${k}`);
    return html`<section class="card new-form" aria-labelledby="new-title"><h2 id="new-title">${title}</h2>
      <form @submit=${(e) => this.submit(e)}>
        <div class="field"><label for="new-name">${t('studio.name')}</label><input id="new-name" name="name" required maxlength="255"
          @input=${(e) => { const s = this.querySelector('#new-slug'); if (s && !s.dataset.touched) s.value = slugify(e.target.value); }}></div>
        <div class="field"><label for="new-slug">${t('studio.slug')}</label><input id="new-slug" name="slug" maxlength="50" pattern="[a-zA-Z0-9_\\-]+"
          @input=${(e) => { e.target.dataset.touched = '1'; }} aria-describedby="new-slug-hint"><p class="hint" id="new-slug-hint">${t('studio.slugHint')}</p></div>
        <div class="field"><label for="new-desc">${t('studio.description')}</label><textarea id="new-desc" name="description" rows="2"></textarea></div>
        ${k === 'group' ? html`<div class="field"><label for="new-parent">${t('studio.parentGroup')}</label><select id="new-parent" name="parent">
            <option value="">${t('studio.topLevel')}</option>
            ${this.groups.map((g) => html`<option value=${g.id} ?selected=${g.id === this.form.group}>${g.name}</option>`)}</select></div>`
          : html`<div class="field"><label for="new-group">${t('studio.group')}</label><select id="new-group" name="group">
            ${groups.map((g) => html`<option value=${g.id} ?selected=${g.id === this.form.group}>${g.name}</option>`)}</select></div>`}
        ${k === 'course' ? html`<div class="field"><label for="new-template">${t('studio.course.template')}</label><select id="new-template" name="template" aria-describedby="new-template-hint">
            <option value="">${t('studio.course.fromScratch')}</option>
            ${templates.map((c) => html`<option value=${c.id}>${c.name}</option>`)}</select>
            <p class="hint" id="new-template-hint">${t('studio.course.templateHint')}</p></div>
          <label class="check"><input type="checkbox" name="is_template"> ${t('studio.course.isTemplate')}</label>` : nothing}
        ${formErrors(this.errors.form)}
        <div class="buttons"><button type="submit" ?disabled=${this.busy}>${t('studio.create')}</button>
          <button type="button" class="secondary" @click=${() => { this.form = null; }}>${t('common.cancel')}</button></div>
      </form></section>`;
  }

  groupItem(g, depth) {
    const scope = groupScope(g);
    const books = this.textbooks.filter((tb) => tb.group === g.id && this.canTextbook(tb));
    const courses = this.courses.filter((c) => c.group === g.id && this.canCourse(c));
    const kids = depth < 32 ? this.groups.filter((c) => c.parent === g.id) : [];
    const canAddBook = this.grants.can(`${C}.add_textbook`, { scope });
    const canAddCourse = this.grants.can(`${C}.add_course`);
    const inner = html`${books.length ? html`<ul class="books">${books.map((tb) => html`<li><a href=${href(`/studio/textbooks/${tb.id}`)}>${tb.name}</a></li>`)}</ul>` : nothing}
      ${courses.length ? html`<ul class="books courses">${courses.map((c) => html`<li><a href=${href(`/studio/courses/${c.id}`)}>${c.name}</a>
        ${c.is_template ? html`<span class="tag">${t('studio.course.templateTag')}</span>` : nothing}</li>`)}</ul>` : nothing}
      ${canAddBook || canAddCourse ? html`<p class="row-tools">
        ${canAddBook ? html`<button type="button" class="secondary small" aria-label=${t('studio.new.textbookIn', { name: g.name })} @click=${() => this.openForm('textbook', g.id)}>${t('studio.new.textbook')}</button>` : nothing}
        ${canAddCourse ? html`<button type="button" class="secondary small" aria-label=${t('studio.new.courseIn', { name: g.name })} @click=${() => this.openForm('course', g.id)}>${t('studio.new.course')}</button>` : nothing}</p>` : nothing}
      ${kids.length ? html`<ul class="tree">${kids.map((c) => this.groupItem(c, depth + 1))}</ul>` : nothing}`;
    return html`<li>${this.canGroup(g) ? html`<a class="group-link" href=${href(`/studio/groups/${g.id}`)}>${g.name}</a>` : html`<span class="group-link">${g.name}</span>`}${inner}</li>`;
  }

  render() {
    if (this.error) return html`<h1>${t('studio.title')}</h1>${loadError(this.error)}`;
    if (!this.groups) return loading();
    if (!this.grants.user) {
      return html`<h1>${t('studio.title')}</h1><p><a href="#/account/login?next=%2Fstudio">${t('studio.loginFirst')}</a></p>`;
    }
    const ids = new Set(this.groups.map((g) => g.id));
    const roots = this.groups.filter((g) => !g.parent || !ids.has(g.parent));
    const canAddGroup = this.grants.can(`${C}.add_librarygroup`);
    return html`<h1>${t('studio.title')}</h1>
      <p class="lead">${t('studio.lead')}</p>
      ${canAddGroup ? html`<p><button type="button" class="secondary" @click=${() => this.openForm('group', null)}>${t('studio.new.group')}</button></p>` : nothing}
      ${this.form ? this.renderForm() : nothing}
      ${roots.length ? html`<ul class="tree studio-tree">${roots.map((g) => this.groupItem(g, 0))}</ul>` : html`<p>${t('home.empty')}</p>`}`;
  }
}

customElements.define('ob-studio-home', ObStudioHome);
