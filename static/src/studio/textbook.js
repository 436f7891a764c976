// <ob-studio-textbook> (#/studio/textbooks/<id>[/pages/<page>]): a textbook
// in the studio: its settings, its page tree (add, rename, move by drag and
// drop or Alt+arrow keys, delete with the subtree) and the page editor.
// Every control shows only when the user's grants allow the action on this
// textbook's group (perms.js); live on textbook:<id>, so other editors'
// changes to the tree show at once.
import { View, html, nothing, t, announce, setTitle, loading, loadError, formErrors } from '../ui.js';
import { get, listAll, create, patch, destroy } from '../api.js';
import { buildTree } from '../textbook-tree.js';
import { live } from '../live.js';
import { href } from '../router.js';
import { planMove, keyboardTarget, endPosition, isWithin } from './tree-moves.js';
import { loadGrants, groupScope } from './session.js';
import { messages, textFields, settingsBox, crumbs } from './forms.js';
import './editor.js';

const TREE_FIELDS = ['id', 'parent', 'position', 'name'];
const KEYS = { ArrowUp: 'up', ArrowDown: 'down', ArrowRight: 'in', ArrowLeft: 'out' };

class ObStudioTextbook extends View {
  static properties = {
    params: { attribute: false }, textbook: { state: true }, group: { state: true }, groups: { state: true },
    pages: { state: true }, grants: { state: true }, error: { state: true }, errors: { state: true },
    renaming: { state: true }, busy: { state: true }, dropHint: { state: true },
  };

  constructor() {
    super();
    this.params = {};
    this.errors = {};
    this.loadedId = null;
  }

  connectedCallback() {
    super.connectedCallback();
    this._offLive = live.on((m) => this.onLive(m));
  }

  disconnectedCallback() {
    super.disconnectedCallback();
    this._offLive();
    live.want('studio-textbook', []);
  }

  willUpdate(changed) {
    if (changed.has('params')) this.route();
  }

  async route() {
    const { id, page } = this.params;
    if (id !== this.loadedId) {
      this.loadedId = id;
      this.textbook = null;
      this.error = null;
      live.want('studio-textbook', [`textbook:${id}`]);
      try {
        await this.load(id);
      } catch (e) {
        if (this.loadedId === id) this.error = e;
        return;
      }
    }
    if (!page && this.pages?.length) {
      const first = buildTree(this.pages).order[0];
      location.replace(href(`/studio/textbooks/${id}/pages/${first.page.id}`));
    }
  }

  async load(id) {
    const [textbook, pages, grants] = await Promise.all([
      get('studio.textbooks', id),
      listAll('studio.pages', { textbook: id }, { fields: TREE_FIELDS }),
      loadGrants(),
    ]);
    const group = await get('studio.groups', textbook.group, { fields: ['id', 'name', 'owner', 'public_permissions'] }).catch(() => null);
    if (this.loadedId !== id) return;
    Object.assign(this, { textbook, pages, grants, group });
    setTitle(`${t('studio.title')}: ${textbook.name}`);
  }

  async reloadPages() {
    const id = this.loadedId;
    const pages = await listAll('studio.pages', { textbook: id }, { fields: TREE_FIELDS });
    if (this.loadedId === id) this.pages = pages;
  }

  onLive(m) {
    if (m.channel !== `textbook:${this.loadedId}`) return;
    if (m.kind === 'resync' || (m.kind === 'event' && m.type === 'textbook.page.updated')) {
      this.reloadPages().catch(() => {});
      if (m.kind === 'event' && m.payload.op === 'deleted' && m.payload.page === this.params.page) {
        announce(t('reader.pageDeleted'));
      }
    } else if (m.kind === 'event' && m.type === 'textbook.updated') {
      get('studio.textbooks', this.loadedId).then((tb) => { this.textbook = tb; }, () => {});
    }
  }

  can(perm) {
    return Boolean(this.grants && this.grants.can(perm, { scope: groupScope(this.group || { id: this.textbook?.group }) }));
  }

  // ---- textbook settings

  async saveSettings(e) {
    e.preventDefault();
    const f = e.target.elements;
    const body = { name: f.name.value.trim(), slug: f.slug.value.trim(), description: f.description.value };
    if (f.group && f.group.value !== this.textbook.group) body.group = f.group.value;
    this.errors = {};
    try {
      this.textbook = { ...this.textbook, ...await patch('studio.textbooks', this.textbook.id, body) };
      announce(t('studio.saved'));
    } catch (err) {
      this.errors = { settings: messages(err) };
    }
  }

  async deleteTextbook() {
    const tb = this.textbook;
    const msg = t('studio.textbook.deleteConfirm', {
      name: tb.name, pages: (tb.pages || []).length, materials: (tb.used_in_courses || []).length, links: (tb.library_links || []).length,
    });
    if (!confirm(msg)) return;
    try {
      await destroy('studio.textbooks', tb.id);
      announce(t('studio.textbook.deleted', { name: tb.name }));
      location.hash = '#/studio';
    } catch (err) {
      this.errors = { settings: messages(err) };
    }
  }

  async loadGroups() {
    if (this.groups) return;
    const all = await listAll('studio.groups', {}, { fields: ['id', 'name', 'owner', 'public_permissions'] }).catch(() => []);
    this.groups = all.filter((g) => g.id === this.textbook.group || this.grants.can('openbook_content.add_textbook', { scope: groupScope(g) }));
  }

  // ---- pages

  async addPage(e) {
    e.preventDefault();
    const f = e.target.elements;
    const name = f.name.value.trim();
    const parent = f.parent.value || null;
    if (!name) {
      this.errors = { add: [t('studio.required')] };
      return;
    }
    this.errors = {};
    try {
      const p = await create('studio.pages', { textbook: this.textbook.id, parent, position: endPosition(this.pages, parent), name, content: {} });
      e.target.reset();
      await this.reloadPages();
      announce(t('studio.pages.added', { name }));
      location.hash = href(`/studio/textbooks/${this.textbook.id}/pages/${p.id}`);
    } catch (err) {
      this.errors = { add: messages(err) };
    }
  }

  async rename(e, page) {
    e.preventDefault();
    const name = e.target.elements.name.value.trim();
    if (!name) return;
    try {
      await patch('studio.pages', page.id, { name });
      this.renaming = null;
      await this.reloadPages();
      announce(t('studio.pages.renamed', { name }));
    } catch (err) {
      this.errors = { tree: messages(err) };
    }
  }

  async deletePage(page) {
    const tree = buildTree(this.pages);
    let below = 0;
    const count = (n) => n.children.forEach((c) => { below++; count(c); });
    count(tree.byId.get(page.id));
    if (!confirm(t('studio.pages.deleteConfirm', { name: page.name, count: below }))) return;
    try {
      await destroy('studio.pages', page.id);
      await this.reloadPages();
      announce(t('studio.pages.deleted', { name: page.name }));
      if (this.params.page && !this.pages.some((p) => p.id === this.params.page)) location.hash = href(`/studio/textbooks/${this.textbook.id}`);
    } catch (err) {
      this.errors = { tree: messages(err) };
    }
  }

  /** Moves page id to parent at index: the planned PATCHes one by one. */
  async move(id, parent, index) {
    const ops = planMove(this.pages, id, parent, index);
    if (!ops || !ops.length) return;
    this.busy = true;
    this.errors = {};
    try {
      for (const op of ops) await patch('studio.pages', op.id, op.body);
      await this.reloadPages();
      const name = this.pages.find((p) => p.id === id)?.name;
      announce(t('studio.pages.moved', { name }));
    } catch (err) {
      this.errors = { tree: messages(err) };
      await this.reloadPages().catch(() => {});
    } finally {
      this.busy = false;
    }
    await this.updateComplete;
    this.querySelector(`.page-tree a[data-page="${id}"]`)?.focus();
  }

  onTreeKey(e, page) {
    if (!e.altKey || !KEYS[e.key] || !this.can('openbook_content.change_textbookpage')) return;
    e.preventDefault();
    const to = keyboardTarget(this.pages, page.id, KEYS[e.key]);
    if (to) this.move(page.id, to.parent, to.index);
  }

  // drag and drop: the upper quarter of a row puts the page before it, the
  // lower quarter after it, the middle makes it a child
  zone(e, row) {
    const r = row.getBoundingClientRect();
    const y = (e.clientY - r.top) / Math.max(1, r.height);
    return y < 0.25 ? 'before' : y > 0.75 ? 'after' : 'inside';
  }

  onDragStart(e, page) {
    e.dataTransfer.setData('text/x-ob-page', page.id);
    e.dataTransfer.effectAllowed = 'move';
    this.dragging = page.id;
  }

  onDragOver(e, page) {
    if (!this.dragging || isWithin(this.pages, page.id, this.dragging)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'move';
    this.dropHint = { id: page.id, zone: this.zone(e, e.currentTarget) };
  }

  onDrop(e, page) {
    e.preventDefault();
    const id = this.dragging || e.dataTransfer.getData('text/x-ob-page');
    const zone = this.zone(e, e.currentTarget);
    this.dragging = null;
    this.dropHint = null;
    if (!id || id === page.id || isWithin(this.pages, page.id, id)) return;
    if (zone === 'inside') {
      this.move(id, page.id, this.pages.filter((p) => p.parent === page.id && p.id !== id).length);
      return;
    }
    const parent = page.parent || null;
    const sibs = this.pages.filter((p) => (p.parent || null) === parent && p.id !== id).sort((a, b) => a.position - b.position);
    const i = sibs.findIndex((p) => p.id === page.id);
    this.move(id, parent, zone === 'before' ? i : i + 1);
  }

  renderNodes(nodes) {
    const canChange = this.can('openbook_content.change_textbookpage');
    const canAdd = this.can('openbook_content.add_textbookpage');
    const canDelete = this.can('openbook_content.delete_textbookpage');
    return html`<ul>${nodes.map((n) => {
      const p = n.page;
      const current = p.id === this.params.page;
      const hint = this.dropHint && this.dropHint.id === p.id ? `drop-${this.dropHint.zone}` : '';
      return html`<li>
        <div class="row ${hint}" draggable=${canChange ? 'true' : 'false'} data-page=${p.id}
          @dragstart=${(e) => this.onDragStart(e, p)} @dragover=${(e) => this.onDragOver(e, p)}
          @dragleave=${() => { this.dropHint = null; }} @drop=${(e) => this.onDrop(e, p)}
          @dragend=${() => { this.dragging = null; this.dropHint = null; }}>
          ${this.renaming === p.id ? html`<form class="rename" @submit=${(e) => this.rename(e, p)}>
              <label class="visually-hidden" for="rn-${p.id}">${t('studio.pages.name')}</label>
              <input id="rn-${p.id}" name="name" .value=${p.name} required maxlength="255"
                @keydown=${(e) => { if (e.key === 'Escape') this.renaming = null; }}>
              <button type="submit" class="small">${t('studio.save')}</button>
              <button type="button" class="secondary small" @click=${() => { this.renaming = null; }}>${t('common.cancel')}</button></form>`
            : html`<a href=${href(`/studio/textbooks/${this.textbook.id}/pages/${p.id}`)} data-page=${p.id}
                aria-current=${current ? 'page' : nothing} aria-describedby=${canChange ? 'move-hint' : nothing}
                @keydown=${(e) => this.onTreeKey(e, p)}>${p.name}</a>
              <span class="row-tools">
                ${canChange ? html`<button type="button" class="secondary small icon-button" aria-label=${t('studio.pages.renameNamed', { name: p.name })}
                  title=${t('studio.pages.rename')} @click=${async () => { this.renaming = p.id; await this.updateComplete; this.querySelector(`#rn-${p.id}`)?.select(); }}>✎</button>` : nothing}
                ${canDelete ? html`<button type="button" class="danger small icon-button" aria-label=${t('studio.pages.deleteNamed', { name: p.name })}
                  title=${t('studio.delete')} @click=${() => this.deletePage(p)}>✕</button>` : nothing}
              </span>`}
        </div>
        ${n.children.length ? this.renderNodes(n.children) : nothing}
      </li>`;
    })}</ul>`;
  }

  renderSettings() {
    const tb = this.textbook;
    return settingsBox({
      summary: t('studio.textbook.settings'), errors: this.errors.settings, onToggle: () => this.loadGroups(),
      form: this.can('openbook_content.change_textbook') ? html`<form @submit=${(e) => this.saveSettings(e)}>${textFields('tb', tb)}
        ${this.groups ? html`<div class="field"><label for="tb-group">${t('studio.group')}</label><select id="tb-group" name="group">
          ${this.groups.map((g) => html`<option value=${g.id} ?selected=${g.id === tb.group}>${g.name}</option>`)}</select></div>` : nothing}
        <button type="submit">${t('studio.save')}</button></form>` : null,
      deleteLabel: t('studio.textbook.delete'), onDelete: this.can('openbook_content.delete_textbook') ? () => this.deleteTextbook() : null,
    });
  }

  render() {
    if (this.error) return loadError(this.error);
    if (!this.textbook || !this.pages) return loading();
    const tb = this.textbook;
    const tree = buildTree(this.pages);
    const canAdd = this.can('openbook_content.add_textbookpage');
    return html`${crumbs(tb.name)}
      <div class="studio-textbook">
        <aside class="studio-side">
          <h1>${tb.name}</h1>
          <p><a href=${href(`/textbooks/${tb.id}${this.params.page ? `/pages/${this.params.page}` : ''}`)}>${t('studio.textbook.read')}</a></p>
          ${this.renderSettings()}
          <h2 id="pages-title">${t('studio.pages.title')}</h2>
          <p id="move-hint" class="hint">${t('studio.pages.moveHint')}</p>
          ${formErrors(this.errors.tree)}
          <div class="page-tree" aria-busy=${this.busy ? 'true' : 'false'}>
            ${tree.order.length ? this.renderNodes(tree.roots) : html`<p>${t('reader.noPages')}</p>`}
          </div>
          ${canAdd ? html`<form class="add-page" @submit=${(e) => this.addPage(e)}>
            <h3>${t('studio.pages.add')}</h3>
            <div class="field"><label for="np-name">${t('studio.pages.name')}</label><input id="np-name" name="name" maxlength="255"></div>
            <div class="field"><label for="np-parent">${t('studio.pages.parent')}</label><select id="np-parent" name="parent">
              <option value="">${t('studio.pages.topLevel')}</option>
              ${tree.order.map((n) => html`<option value=${n.page.id}>${'\u00a0\u00a0'.repeat(n.depth)}${n.page.name}</option>`)}
            </select></div>
            ${formErrors(this.errors.add)}
            <button type="submit">${t('studio.pages.addButton')}</button>
          </form>` : nothing}
        </aside>
        <section class="studio-main" aria-label=${t('studio.editor.label')}>
          ${this.params.page ? html`<ob-page-editor .pageId=${this.params.page}
            .canEdit=${this.can('openbook_content.change_textbookpage')}></ob-page-editor>` : html`<p>${t('studio.pages.none')}</p>`}
        </section>
      </div>`;
  }
}

customElements.define('ob-studio-textbook', ObStudioTextbook);
