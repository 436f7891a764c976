// <ob-studio-course> (#/studio/courses/<id>): a course in the studio: its
// settings, its materials (a textbook and page ranges of it, in order) and,
// through <ob-scope-admin>, roles, enrolment methods, assignments, access
// requests and public permissions.  Live on course:<id>.
import { View, html, nothing, t, announce, setTitle, focusHeading, loading, loadError, formErrors } from '../ui.js';
import { get, listAll, create, patch, destroy } from '../api.js';
import { buildTree } from '../textbook-tree.js';
import { live } from '../live.js';
import { href } from '../router.js';
import { loadGrants, courseScope, COURSE } from './session.js';
import { messages, attempt, textFields, settingsBox, crumbs } from './forms.js';
import './scope-admin.js';

const C = 'openbook_content';

class ObStudioCourse extends View {
  static properties = {
    params: { attribute: false }, course: { state: true }, materials: { state: true }, textbooks: { state: true },
    groups: { state: true }, trees: { state: true }, grants: { state: true }, error: { state: true }, errors: { state: true },
    pick: { state: true },
  };

  constructor() {
    super();
    this.params = {};
    this.errors = {};
    this.trees = new Map();
  }

  connectedCallback() {
    super.connectedCallback();
    this._offLive = live.on((m) => {
      if (m.channel === `course:${this.params.id}` && (m.kind === 'resync' || m.type === 'course.material.changed' || m.type === 'course.updated')) this.load();
    });
  }

  disconnectedCallback() {
    super.disconnectedCallback();
    this._offLive();
    live.want('studio-course', []);
  }

  willUpdate(changed) {
    if (changed.has('params')) {
      this.course = null;
      live.want('studio-course', [`course:${this.params.id}`]);
      this.load(true);
    }
  }

  async load(focus = false) {
    const id = this.params.id;
    try {
      const [course, materials, textbooks, groups, grants] = await Promise.all([
        get('studio.courses', id),
        listAll('studio.materials', { course: id }),
        listAll('studio.textbooks', {}, { fields: ['id', 'name', 'group'] }),
        listAll('studio.groups', {}, { fields: ['id', 'name'] }),
        loadGrants(),
      ]);
      materials.sort((a, b) => a.position - b.position);
      const ranges = new Map();
      await Promise.all(materials.map(async (m) => {
        ranges.set(m.id, (await listAll('studio.ranges', { material: m.id })).sort((a, b) => a.position - b.position));
        await this.tree(m.textbook);
      }));
      if (this.params.id !== id) return;
      Object.assign(this, { course, materials, textbooks, groups, grants, ranges });
      setTitle(`${t('studio.title')}: ${course.name}`);
      if (focus) {
        await this.updateComplete;
        focusHeading(this);
      }
    } catch (e) {
      if (this.params.id === id) this.error = e;
    }
  }

  /** A textbook's pages in reading order (cached). */
  async tree(textbook) {
    if (!this.trees.has(textbook)) {
      this.trees.set(textbook, listAll('studio.pages', { textbook }, { fields: ['id', 'parent', 'position', 'name'] }).then(buildTree, () => buildTree([])));
    }
    return this.trees.get(textbook);
  }

  can(perm) {
    return Boolean(this.grants && this.grants.can(`${C}.${perm}`, { scope: courseScope(this.course) }));
  }

  run(key, fn, done) {
    return attempt(this, key, fn, done);
  }

  saveSettings(e) {
    e.preventDefault();
    const f = e.target.elements;
    return this.run('settings', () => patch('studio.courses', this.course.id, {
      name: f.name.value.trim(), slug: f.slug.value.trim(), description: f.description.value, group: f.group.value, is_template: f.is_template.checked,
    }), t('studio.saved'));
  }

  async deleteCourse() {
    const c = this.course;
    if (!confirm(t('studio.course.deleteConfirm', { name: c.name, materials: this.materials.length }))) return;
    try {
      await destroy('studio.courses', c.id);
      announce(t('studio.deletedNamed', { name: c.name }));
      location.hash = '#/studio';
    } catch (err) {
      this.errors = { settings: messages(err) };
    }
  }

  async addMaterial(e) {
    e.preventDefault();
    const f = e.target.elements;
    const position = this.materials.reduce((m, x) => Math.max(m, x.position + 1), 0);
    await this.run('material', async () => {
      const m = await create('studio.materials', { course: this.course.id, textbook: f.textbook.value, position });
      if (f.start.value && f.end.value) await create('studio.ranges', { material: m.id, start_page: f.start.value, end_page: f.end.value, position: 0 });
      this.pick = null;
    }, t('studio.course.materialAdded'));
  }

  addRange(e, m) {
    e.preventDefault();
    const f = e.target.elements;
    const ranges = this.ranges.get(m.id) || [];
    const position = ranges.reduce((x, r) => Math.max(x, r.position + 1), 0);
    return this.run(`m-${m.id}`, () => create('studio.ranges', { material: m.id, start_page: f.start.value, end_page: f.end.value, position }),
      t('studio.course.rangeAdded'));
  }

  /** Swaps a material with its neighbour (positions unique per course:
   * through a free position). */
  async moveMaterial(i, dir) {
    const a = this.materials[i];
    const b = this.materials[i + dir];
    if (!a || !b) return;
    const free = this.materials.reduce((m, x) => Math.max(m, x.position), 0) + 1;
    await this.run('materials', async () => {
      await patch('studio.materials', a.id, { position: free });
      await patch('studio.materials', b.id, { position: a.position });
      await patch('studio.materials', a.id, { position: b.position });
    }, t('studio.course.moved'));
  }

  async pickTextbook(id) {
    this.pick = { textbook: id, tree: id ? await this.tree(id) : null };
  }

  pageOptions(tree) {
    return tree ? tree.order.map((n) => html`<option value=${n.page.id}>${'\u00a0\u00a0'.repeat(n.depth)}${n.page.name}</option>`) : nothing;
  }

  renderMaterials() {
    const name = (id) => this.textbooks.find((x) => x.id === id)?.name || id;
    const canAdd = this.can('add_coursematerial');
    const canChange = this.can('change_coursematerial');
    const canDelete = this.can('delete_coursematerial');
    const canRange = this.can('add_coursematerialpagerange');
    const canDelRange = this.can('delete_coursematerialpagerange');
    const used = new Set(this.materials.map((m) => m.textbook));
    return html`<section aria-labelledby="c-materials"><h2 id="c-materials">${t('course.materials')}</h2>
      ${this.materials.length ? html`<ol class="materials studio-materials">${this.materials.map((m, i) => {
        return html`<li class="card"><h3>${name(m.textbook)}</h3>
          <ul>${(this.ranges.get(m.id) || []).map((r) => html`<li>${t('studio.course.range', { start: this.pageName(m.textbook, r.start_page), end: this.pageName(m.textbook, r.end_page) })}
            ${canDelRange ? html`<button type="button" class="danger small" aria-label=${t('studio.course.removeRange')}
              @click=${() => this.run(`m-${m.id}`, () => destroy('studio.ranges', r.id))}>${t('studio.delete')}</button>` : nothing}</li>`)}</ul>
          ${(this.ranges.get(m.id) || []).length ? nothing : html`<p>${t('course.wholeBook')}</p>`}
          ${canRange ? html`<form class="inline-form" @submit=${(e) => this.addRange(e, m)}>
            <div class="field"><label for="rs-${m.id}">${t('studio.course.start')}</label><select id="rs-${m.id}" name="start">${this.pageOptionsFor(m.textbook)}</select></div>
            <div class="field"><label for="re-${m.id}">${t('studio.course.end')}</label><select id="re-${m.id}" name="end">${this.pageOptionsFor(m.textbook)}</select></div>
            <button type="submit" class="small">${t('studio.course.addRange')}</button></form>` : nothing}
          ${formErrors(this.errors[`m-${m.id}`])}
          <p class="row-tools">
            ${canChange && i > 0 ? html`<button type="button" class="secondary small" aria-label=${t('studio.moveUpNamed', { name: name(m.textbook) })} @click=${() => this.moveMaterial(i, -1)}>${t('studio.moveUp')}</button>` : nothing}
            ${canChange && i < this.materials.length - 1 ? html`<button type="button" class="secondary small" aria-label=${t('studio.moveDownNamed', { name: name(m.textbook) })} @click=${() => this.moveMaterial(i, 1)}>${t('studio.moveDown')}</button>` : nothing}
            ${canDelete ? html`<button type="button" class="danger small" aria-label=${t('studio.deleteNamed', { name: name(m.textbook) })}
              @click=${() => confirm(t('studio.deleteConfirmNamed', { name: name(m.textbook) })) && this.run('materials', () => destroy('studio.materials', m.id))}>${t('studio.delete')}</button>` : nothing}
          </p></li>`;
      })}</ol>` : html`<p>${t('course.noMaterials')}</p>`}
      ${formErrors(this.errors.materials)}
      ${canAdd ? html`<form class="add-material" @submit=${(e) => this.addMaterial(e)}><h3>${t('studio.course.addMaterial')}</h3>
        <div class="field"><label for="am-tb">${t('studio.course.textbook')}</label><select id="am-tb" name="textbook" required @change=${(e) => this.pickTextbook(e.target.value)}>
          <option value="">${t('studio.choose')}</option>
          ${this.textbooks.filter((x) => !used.has(x.id)).map((x) => html`<option value=${x.id}>${x.name}</option>`)}</select></div>
        ${this.pick?.tree ? html`<div class="field"><label for="am-start">${t('studio.course.start')}</label><select id="am-start" name="start">
            <option value="">${t('course.wholeBook')}</option>${this.pageOptions(this.pick.tree)}</select></div>
          <div class="field"><label for="am-end">${t('studio.course.end')}</label><select id="am-end" name="end">
            <option value="">${t('course.wholeBook')}</option>${this.pageOptions(this.pick.tree)}</select></div>`
          : html`<input type="hidden" name="start" value=""><input type="hidden" name="end" value="">`}
        ${formErrors(this.errors.material)}
        <button type="submit">${t('studio.course.addMaterial')}</button></form>` : nothing}
    </section>`;
  }

  pageOptionsFor(textbook) {
    const p = this.trees.get(textbook);
    if (!p) return nothing;
    if (!this.resolved) this.resolved = new Map();
    if (!this.resolved.has(textbook)) {
      p.then((tree) => { this.resolved.set(textbook, tree); this.requestUpdate(); });
      this.resolved.set(textbook, null);
    }
    return this.pageOptions(this.resolved.get(textbook));
  }

  pageName(textbook, page) {
    const tree = this.resolved?.get(textbook);
    if (!tree) this.pageOptionsFor(textbook);
    return tree?.byId.get(page)?.page.name || page;
  }

  renderSettings() {
    const c = this.course;
    return settingsBox({
      summary: t('studio.course.settings'), errors: this.errors.settings,
      form: this.can('change_course') ? html`<form @submit=${(e) => this.saveSettings(e)}>${textFields('c', c)}
        <div class="field"><label for="c-group">${t('studio.group')}</label><select id="c-group" name="group">
          ${this.groups.map((g) => html`<option value=${g.id} ?selected=${g.id === c.group}>${g.name}</option>`)}</select></div>
        <label class="check"><input type="checkbox" name="is_template" ?checked=${c.is_template}> ${t('studio.course.isTemplate')}</label>
        <button type="submit">${t('studio.save')}</button></form>` : null,
      deleteLabel: t('studio.course.delete'), onDelete: this.can('delete_course') ? () => this.deleteCourse() : null,
    });
  }

  render() {
    if (this.error) return loadError(this.error);
    if (!this.course) return loading();
    const c = this.course;
    return html`${crumbs(c.name)}
      <h1>${c.name}</h1>
      <p><a href=${href(`/courses/${c.id}`)}>${t('studio.course.view')}</a></p>
      ${this.renderSettings()}
      ${this.renderMaterials()}
      <ob-scope-admin .scopeType=${COURSE} .item=${c} .grants=${this.grants}></ob-scope-admin>`;
  }
}

customElements.define('ob-studio-course', ObStudioCourse);
