// <ob-page-editor>: one textbook page in ProseMirror.
//
// Loads the page, maps its content into the editor (doc.js, lossless),
// and saves it back: automatically 1.2 s after the last change (or at once
// with Ctrl+S), after checking that nobody else saved the page meanwhile:
// the server's modified_at decides.  If it moved, both versions are shown
// and the teacher chooses.  The same check runs when the relay says the
// page changed.  Content limits of the server (1 MiB, 48 levels of JSON)
// are measured before saving and explained; nothing over them is sent.
// Components come from a palette built from the installed definitions;
// their attributes are edited in a form that checks regex/enum, and a
// change that breaks allowed-children/text-allowed/html-allowed is refused.
// The preview renders with the reader's renderer and the libraries' code.
import { EditorState, Plugin, TextSelection, NodeSelection } from 'prosemirror-state';
import { EditorView } from 'prosemirror-view';
import { keymap } from 'prosemirror-keymap';
import { history, undo, redo, undoDepth, redoDepth } from 'prosemirror-history';
import { baseKeymap, toggleMark, setBlockType, wrapIn, lift } from 'prosemirror-commands';
import { wrapInList, splitListItem, liftListItem, sinkListItem } from 'prosemirror-schema-list';
import { dropCursor } from 'prosemirror-dropcursor';
import { gapCursor } from 'prosemirror-gapcursor';
import { View, html, nothing, t, announce } from '../ui.js';
import { get, patch, ApiError } from '../api.js';
import { renderContent, safeUrl } from '../render.js';
import { getRegistry, ensureLoaded } from '../components.js';
import { language, formatDate } from '../i18n.js';
import { live } from '../live.js';
import { schema } from './schema.js';
import { toDoc, toContent, nodeToContent, contentLimits, CONTENT_MAX_BYTES, CONTENT_MAX_DEPTH } from './doc.js';
import { countProblems, componentProblems, allowedAt, attributeFields, checkAttributes, localText } from './rules.js';

const AUTOSAVE_MS = 1200;
const PAGE_FIELDS = ['id', 'textbook', 'parent', 'position', 'name', 'content', 'modified_at', 'modified_by'];

/** Renders a stored tree into el as readers see it (library code loaded). */
export async function paintContent(el, tree, { headingShift = 1 } = {}) {
  const reg = await getRegistry();
  const defs = new Map([...reg].map(([k, v]) => [k, v.definition]));
  const { fragment, components } = renderContent(tree, { doc: document, definitions: defs, t, headingShift });
  el.replaceChildren(fragment);
  if (components.size) ensureLoaded(components).catch(() => {});
}

// ---- node views: kept-verbatim nodes and components render as readers see them

class RawView {
  constructor(node, inline) {
    this.dom = document.createElement(inline ? 'span' : 'div');
    this.dom.className = inline ? 'pm-raw-inline' : 'pm-raw';
    this.dom.contentEditable = 'false';
    this.dom.title = t('studio.editor.kept');
    this.paint(node, inline);
  }

  paint(node, inline) {
    this.node = node;
    const tree = { type: 'root', children: [node.attrs.json] };
    const target = inline ? this.dom : document.createElement('div');
    if (!inline) {
      const label = document.createElement('p');
      label.className = 'pm-label';
      label.textContent = t('studio.editor.kept');
      this.dom.replaceChildren(label, target);
    }
    paintContent(target, tree, { headingShift: 1 }).catch(() => {});
  }

  update(node) {
    if (node.type !== this.node.type) return false;
    if (node.attrs.json !== this.node.attrs.json) this.paint(node, this.dom.tagName === 'SPAN');
    return true;
  }

  stopEvent() {
    return false;
  }

  ignoreMutation() {
    return true;
  }
}

class ComponentView {
  constructor(node, view, getPos, host) {
    this.node = node;
    this.host = host;
    this.dom = document.createElement('div');
    this.dom.className = 'pm-component';
    this.dom.dataset.tag = node.attrs.tag;
    const bar = document.createElement('div');
    bar.className = 'pm-component-bar';
    bar.contentEditable = 'false';
    this.label = document.createElement('span');
    this.label.className = 'pm-component-tag';
    const edit = document.createElement('button');
    edit.type = 'button';
    edit.className = 'secondary small';
    edit.textContent = t('studio.editor.attributes');
    edit.addEventListener('click', (e) => {
      e.preventDefault();
      host.editAttributes(getPos());
    });
    this.problems = document.createElement('span');
    this.problems.className = 'pm-problems';
    bar.append(this.label, edit, this.problems);
    this.live = document.createElement('div');
    this.live.className = 'pm-component-live content';
    this.live.contentEditable = 'false';
    this.live.setAttribute('aria-label', t('studio.editor.rendered'));
    this.contentDOM = document.createElement('div');
    this.contentDOM.className = 'pm-component-body';
    this.dom.append(bar, this.contentDOM, this.live);
    this.describe();
    this.schedule();
  }

  describe() {
    const e = this.host.registry.get(this.node.attrs.tag);
    const attrs = this.node.attrs.attributes || {};
    const shown = Object.entries(attrs).map(([k, v]) => `${k}="${v}"`).join(' ');
    this.label.textContent = `<${this.node.attrs.tag}${shown ? ' ' + shown : ''}>`;
    const problems = e ? componentProblems(this.node, e.definition) : ['unknown'];
    this.problems.textContent = problems.length ? problemText(problems[0], this.node.attrs.tag) : '';
    this.dom.classList.toggle('has-problems', problems.length > 0);
  }

  schedule() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      paintContent(this.live, { type: 'root', children: [nodeToContent(this.node)] }).catch(() => {});
    }, 250);
  }

  update(node) {
    if (node.type !== this.node.type || node.attrs.tag !== this.node.attrs.tag) return false;
    const changed = node !== this.node;
    this.node = node;
    if (changed) {
      this.describe();
      this.schedule();
    }
    return true;
  }

  ignoreMutation(m) {
    return !this.contentDOM.contains(m.target) || m.target === this.contentDOM && m.type === 'attributes';
  }

  stopEvent(e) {
    return !this.contentDOM.contains(e.target) && e.target.closest?.('button') !== null;
  }

  destroy() {
    clearTimeout(this.timer);
  }
}

function problemText(p, tag) {
  if (p === 'unknown') return t('studio.editor.unknownComponent', { tag });
  if (p === 'text') return t('studio.editor.noText', { tag });
  if (p === 'html') return t('studio.editor.noHtml', { tag });
  if (p.startsWith('child:')) return t('studio.editor.noChild', { tag, child: p.slice(6) });
  if (p.startsWith('attribute:')) return t('studio.editor.badAttribute', { name: p.slice(10) });
  return p;
}

// ---- commands

function markActive(state, type) {
  const { from, $from, to, empty } = state.selection;
  if (empty) return Boolean(type.isInSet(state.storedMarks || $from.marks()));
  return state.doc.rangeHasMark(from, to, type);
}

function emptyCell(tag = 'td') {
  return schema.nodes.table_cell.create({ tag }, schema.nodes.bare.create());
}

let newKey = 0;
function insertTable(state, dispatch) {
  const head = { tag: 'thead', attributes: {}, shape: null, key: `new${++newKey}` };
  const body = { tag: 'tbody', attributes: {}, shape: null, key: `new${++newKey}` };
  const table = schema.nodes.table.create(null, [
    schema.nodes.table_row.create({ section: head }, [emptyCell('th'), emptyCell('th')]),
    schema.nodes.table_row.create({ section: body }, [emptyCell(), emptyCell()]),
  ]);
  if (dispatch) dispatch(state.tr.replaceSelectionWith(table).scrollIntoView());
  return true;
}

/** The table around the selection: {table, tablePos, rowIndex, cellIndex}. */
function findCell(state) {
  const $p = state.selection.$from;
  for (let d = $p.depth; d > 0; d--) {
    if ($p.node(d).type.name === 'table_cell') {
      return { table: $p.node(d - 2), tablePos: $p.before(d - 2), rowIndex: $p.index(d - 2), cellIndex: $p.index(d - 1) };
    }
  }
  return null;
}

function rebuildTable(state, dispatch, fn) {
  const c = findCell(state);
  if (!c) return false;
  if (dispatch) {
    const rows = [];
    c.table.forEach((r) => rows.push(r));
    const next = fn(rows, c);
    if (!next || !next.length) return true;
    const table = c.table.type.create(c.table.attrs, next);
    const tr = state.tr.replaceWith(c.tablePos, c.tablePos + c.table.nodeSize, table);
    dispatch(tr.scrollIntoView());
  }
  return true;
}

const addRow = (state, dispatch) => rebuildTable(state, dispatch, (rows, c) => {
  const src = rows[c.rowIndex];
  const cells = [];
  src.forEach((cell) => cells.push(emptyCell(cell.attrs.tag === 'th' && src.attrs.section?.tag !== 'thead' ? 'th' : 'td')));
  const section = src.attrs.section && src.attrs.section.tag === 'thead' ? null : src.attrs.section;
  const row = src.type.create({ section }, cells);
  return [...rows.slice(0, c.rowIndex + 1), row, ...rows.slice(c.rowIndex + 1)];
});

const addColumn = (state, dispatch) => rebuildTable(state, dispatch, (rows, c) => rows.map((r) => {
  const cells = [];
  r.forEach((cell) => cells.push(cell));
  const tag = cells[Math.min(c.cellIndex, cells.length - 1)]?.attrs.tag === 'th' ? 'th' : 'td';
  cells.splice(Math.min(c.cellIndex + 1, cells.length), 0, emptyCell(tag));
  return r.type.create(r.attrs, cells);
}));

const deleteRow = (state, dispatch) => rebuildTable(state, dispatch, (rows, c) => rows.filter((_, i) => i !== c.rowIndex));

const deleteColumn = (state, dispatch) => rebuildTable(state, dispatch, (rows, c) => {
  const out = [];
  for (const r of rows) {
    const cells = [];
    r.forEach((cell, _, i) => { if (i !== c.cellIndex) cells.push(cell); });
    if (cells.length) out.push(r.type.create(r.attrs, cells));
  }
  return out;
});

// ---- plugins

/** Two `bare` runs side by side would merge on saving: the second becomes
 * a paragraph (Enter in loose text starts a paragraph). */
const bareRuns = new Plugin({
  appendTransaction(trs, _old, state) {
    if (!trs.some((tr) => tr.docChanged)) return null;
    let tr = null;
    state.doc.descendants((node, pos) => {
      if (node.isTextblock) return false;
      let prevBare = false;
      node.forEach((child, offset) => {
        const isBare = child.type.name === 'bare';
        if (isBare && prevBare) {
          tr ||= state.tr;
          tr.setNodeMarkup(tr.mapping.map(pos + 1 + offset), schema.nodes.paragraph);
        }
        prevBare = isBare;
      });
      return true;
    });
    return tr;
  },
});

/** Refuses changes that add component rule violations. */
function componentRules(host) {
  return new Plugin({
    filterTransaction(tr, state) {
      if (!tr.docChanged || tr.getMeta('ob-load') || !host.registry.size) return true;
      const after = countProblems(tr.doc, host.registry);
      if (after === 0) return true;
      const ok = after <= countProblems(state.doc, host.registry);
      if (!ok) host.refused();
      return ok;
    },
  });
}

/** Keystroke latency: from keydown to the editor's state and DOM updated. */
const latency = new Plugin({
  props: {
    handleDOMEvents: {
      keydown() {
        performance.mark('ob:key');
        return false;
      },
    },
  },
});

// ---- the element

class ObPageEditor extends View {
  static properties = {
    pageId: { attribute: false },
    canEdit: { attribute: false },
    page: { state: true }, error: { state: true }, status: { state: true },
    preview: { state: true }, conflict: { state: true }, dialog: { state: true },
    limits: { state: true }, tick: { state: true },
  };

  constructor() {
    super();
    this.registry = new Map();
    this.view = null;
    this.dirty = false;
    this.saving = null;
    this.status = 'idle';
    this.limits = null;
    this.tick = 0;
  }

  connectedCallback() {
    super.connectedCallback();
    this._offLive = live.on((m) => this.onLive(m));
    this._beforeUnload = (e) => {
      if (this.dirty) e.preventDefault();
    };
    addEventListener('beforeunload', this._beforeUnload);
  }

  disconnectedCallback() {
    super.disconnectedCallback();
    this._offLive();
    removeEventListener('beforeunload', this._beforeUnload);
    if (this.dirty) this.save().catch(() => {});
    clearTimeout(this.timer);
    this.view?.destroy();
    this.view = null;
  }

  willUpdate(changed) {
    if (changed.has('pageId') && this.pageId) this.load();
  }

  async load() {
    const id = this.pageId;
    if (this.dirty && this.page && this.page.id !== id) await this.save().catch(() => {});
    this.error = null;
    this.page = null;
    this.conflict = null;
    this.preview = false;
    try {
      const [page, registry] = await Promise.all([get('studio.pages', id, { fields: PAGE_FIELDS }), getRegistry()]);
      if (this.pageId !== id) return;
      this.registry = registry;
      this.page = page;
      this.base = page.modified_at;
      await this.updateComplete;
      this.mount(page.content);
      performance.mark('ob:editor-ready', { detail: id });
    } catch (e) {
      if (this.pageId === id) this.error = e;
    }
  }

  mount(content) {
    const state = this.makeState(content);
    if (this.view) {
      this.view.updateState(state);
    } else {
      const host = this.querySelector('.pm-host');
      this.view = new EditorView(host, {
        state,
        editable: () => Boolean(this.canEdit),
        attributes: { class: 'pm-editor content', 'aria-label': t('studio.editor.label'), 'aria-multiline': 'true', role: 'textbox' },
        nodeViews: {
          component: (node, view, getPos) => new ComponentView(node, view, getPos, this),
          raw: (node) => new RawView(node, false),
          raw_inline: (node) => new RawView(node, true),
        },
        dispatchTransaction: (tr) => this.dispatch(tr),
      });
    }
    this.dirty = false;
    this.status = 'saved';
    this.limits = contentLimits(content);
    this.tick++;
  }

  makeState(content) {
    const mod = {
      'Mod-b': toggleMark(schema.marks.strong),
      'Mod-i': toggleMark(schema.marks.em),
      'Mod-`': toggleMark(schema.marks.code),
      'Mod-z': undo,
      'Mod-y': redo,
      'Shift-Mod-z': redo,
      'Mod-s': () => {
        this.saveNow();
        return true;
      },
      Enter: splitListItem(schema.nodes.list_item),
      Tab: sinkListItem(schema.nodes.list_item),
      'Shift-Tab': liftListItem(schema.nodes.list_item),
    };
    return EditorState.create({
      doc: toDoc(content),
      plugins: [latency, keymap(mod), keymap(baseKeymap), history(), dropCursor(), gapCursor(), bareRuns, componentRules(this)],
    });
  }

  dispatch(tr) {
    const view = this.view;
    const state = view.state.apply(tr);
    view.updateState(state);
    if (performance.getEntriesByName('ob:key').length) {
      // Keystroke latency: keydown -> editor state, its DOM and the
      // toolbar updated (the bench reads these measures).
      performance.clearMarks('ob:key-pending');
      performance.mark('ob:key-pending', { startTime: performance.getEntriesByName('ob:key')[0].startTime });
      performance.clearMarks('ob:key');
      this.updateComplete.then(() => {
        if (performance.getEntriesByName('ob:key-pending').length) {
          performance.measure('ob:keystroke', 'ob:key-pending');
          performance.clearMarks('ob:key-pending');
        }
      });
    }
    if (tr.docChanged && !tr.getMeta('ob-load')) {
      this.dirty = true;
      this.status = 'unsaved';
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.save().catch(() => {}), AUTOSAVE_MS);
    }
    this.tick++;
  }

  refused() {
    announce(t('studio.editor.refused'));
    this.status = 'refused';
  }

  saveNow() {
    clearTimeout(this.timer);
    this.save().catch(() => {});
  }

  /** Saves if there is something to save; one save at a time. */
  async save({ force = false } = {}) {
    if (!this.view || !this.page || !this.canEdit) return;
    if (this.saving) {
      await this.saving;
      if (!this.dirty) return;
    }
    if (!this.dirty && !force) return;
    this.saving = this.doSave(force).finally(() => { this.saving = null; });
    return this.saving;
  }

  async doSave(force) {
    const page = this.page;
    const doc = this.view.state.doc;
    const content = toContent(doc);
    const limits = contentLimits(content);
    this.limits = limits;
    if (limits.tooBig || limits.tooDeep) {
      this.status = 'limits';
      announce(t(limits.tooBig ? 'studio.editor.tooBig' : 'studio.editor.tooDeep'));
      return;
    }
    this.status = 'saving';
    try {
      if (!force) {
        const now = await get('studio.pages', page.id, { fields: ['id', 'modified_at'] });
        if (now.modified_at !== this.base) {
          await this.showConflict();
          return;
        }
      }
      const saved = await patch('studio.pages', page.id, { content });
      if (this.page !== page) return;
      this.base = saved.modified_at;
      this.page = { ...page, modified_at: saved.modified_at };
      if (this.view.state.doc === doc) {
        this.dirty = false;
        this.status = 'saved';
      } else {
        this.status = 'unsaved';
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.save().catch(() => {}), AUTOSAVE_MS);
      }
      this.dispatchEvent(new CustomEvent('page-saved', { bubbles: true, detail: saved }));
    } catch (e) {
      this.status = 'error';
      this.saveError = e instanceof ApiError ? (e.fields.content || []).join(' ') || e.detail || t('error.generic') : t('error.generic');
      announce(this.saveError);
    }
  }

  async showConflict() {
    const theirs = await get('studio.pages', this.page.id, { fields: PAGE_FIELDS });
    this.status = 'conflict';
    this.conflict = { theirs, mine: toContent(this.view.state.doc) };
    announce(t('studio.conflict.title'));
    await this.updateComplete;
    const d = this.querySelector('dialog.conflict');
    if (d && !d.open) d.showModal();
    await paintContent(d.querySelector('.mine'), this.conflict.mine);
    await paintContent(d.querySelector('.theirs'), theirs.content);
  }

  async resolve(choice) {
    const c = this.conflict;
    this.querySelector('dialog.conflict')?.close();
    this.conflict = null;
    if (choice === 'mine') {
      this.base = c.theirs.modified_at;
      this.dirty = true;
      await this.save({ force: true });
    } else {
      this.page = { ...this.page, ...c.theirs };
      this.base = c.theirs.modified_at;
      this.mount(c.theirs.content);
      announce(t('studio.conflict.tookTheirs'));
    }
  }

  /** The relay says a page of the textbook changed. */
  async onLive(m) {
    if (m.kind !== 'event' || m.type !== 'textbook.page.updated' || !this.page) return;
    if (m.payload.page !== this.page.id || m.payload.op !== 'updated') return;
    if (this.saving) await this.saving.catch(() => {});
    let now;
    try {
      now = await get('studio.pages', this.page.id, { fields: PAGE_FIELDS });
    } catch {
      return;
    }
    if (!this.page || now.id !== this.page.id || now.modified_at === this.base) return;
    if (this.dirty) {
      clearTimeout(this.timer);
      await this.showConflict();
    } else {
      this.page = { ...this.page, ...now };
      this.base = now.modified_at;
      const sel = this.view.state.selection.from;
      this.mount(now.content);
      const max = this.view.state.doc.content.size;
      try {
        this.view.dispatch(this.view.state.tr.setSelection(TextSelection.near(this.view.state.doc.resolve(Math.min(sel, max)))).setMeta('ob-load', true).setMeta('addToHistory', false));
      } catch { /* the old position does not fit */ }
      announce(t('studio.editor.updatedElsewhere'));
    }
  }

  // ---- toolbar actions

  run(cmd) {
    if (!this.view) return;
    cmd(this.view.state, (tr) => this.view.dispatch(tr), this.view);
    this.view.focus();
  }

  blockType(value) {
    const [type, level] = value.split(':');
    const attrs = type === 'heading' ? { level: Number(level) } : null;
    this.run(setBlockType(schema.nodes[type], attrs));
  }

  currentBlock() {
    if (!this.view) return 'paragraph';
    const p = this.view.state.selection.$from.parent;
    if (p.type.name === 'heading') return `heading:${p.attrs.level}`;
    return p.type.name;
  }

  openDialog(kind, data = {}) {
    this.dialog = { kind, data, errors: {} };
    this.updateComplete.then(() => {
      const d = this.querySelector('dialog.editor-dialog');
      if (d && !d.open) d.showModal();
      d?.querySelector('input, select')?.focus();
    });
  }

  closeDialog() {
    this.querySelector('dialog.editor-dialog')?.close();
    this.dialog = null;
    this.view?.focus();
  }

  linkDialog() {
    const { state } = this.view;
    const link = schema.marks.link.isInSet(state.selection.$from.marks());
    this.openDialog('link', { href: link?.attrs.attributes?.href || '' });
  }

  applyLink(form) {
    const href = form.elements.href.value.trim();
    const { state } = this.view;
    const { from, to, empty } = state.selection;
    if (href === '') {
      this.view.dispatch(state.tr.removeMark(from, to, schema.marks.link));
      this.closeDialog();
      return;
    }
    if (!safeUrl(href)) {
      this.dialog = { ...this.dialog, errors: { href: t('studio.editor.badUrl') } };
      return;
    }
    const mark = schema.marks.link.create({ attributes: { href } });
    let tr = state.tr;
    if (empty) {
      tr = tr.insert(from, schema.text(href, [mark]));
    } else {
      tr = tr.removeMark(from, to, schema.marks.link).addMark(from, to, mark);
    }
    this.view.dispatch(tr);
    this.closeDialog();
  }

  applyImage(form) {
    const src = form.elements.src.value.trim();
    const alt = form.elements.alt.value;
    if (!src || !safeUrl(src, { mailto: false })) {
      this.dialog = { ...this.dialog, errors: { src: t('studio.editor.badUrl') } };
      return;
    }
    const img = schema.nodes.image.create({ attributes: { src, alt } });
    this.view.dispatch(this.view.state.tr.replaceSelectionWith(img).scrollIntoView());
    this.closeDialog();
  }

  /** Palette: a component at the selection, its form first when it has attributes. */
  insertComponent(tag) {
    const e = this.registry.get(tag);
    if (!e) return;
    const fields = attributeFields(e.definition, language());
    if (fields.length) this.openDialog('attributes', { tag, pos: null, values: {} });
    else this.placeComponent(tag, {});
  }

  placeComponent(tag, attributes) {
    const def = this.registry.get(tag)?.definition || {};
    const inner = def['text-allowed'] !== false ? schema.nodes.bare.create()
      : def['html-allowed'] === true ? schema.nodes.paragraph.create({ phantom: true }) : schema.nodes.bare.create();
    const node = schema.nodes.component.create({ tag, attributes }, inner);
    const { state } = this.view;
    const tr = state.tr.replaceSelectionWith(node);
    this.view.dispatch(tr.scrollIntoView());
    announce(t('studio.editor.inserted', { tag }));
  }

  editAttributes(pos) {
    const node = this.view.state.doc.nodeAt(pos);
    if (!node) return;
    const values = {};
    for (const [k, v] of Object.entries(node.attrs.attributes || {})) values[k] = typeof v === 'string' ? v : String(v);
    this.openDialog('attributes', { tag: node.attrs.tag, pos, values });
  }

  applyAttributes(form) {
    const { tag, pos, values: old } = this.dialog.data;
    const def = this.registry.get(tag)?.definition || {};
    const fields = attributeFields(def, language());
    const values = {};
    for (const f of fields) values[f.name] = form.elements[`attr-${f.name}`].value;
    const { attributes, errors } = checkAttributes(def, values);
    if (Object.keys(errors).length) {
      this.dialog = { ...this.dialog, errors };
      announce(t('form.hasErrors'));
      return;
    }
    // Attributes the definition does not know are kept as they were.
    for (const [k, v] of Object.entries(old || {})) if (!fields.some((f) => f.name === k)) attributes[k] = v;
    this.closeDialog();
    if (pos === null) {
      this.placeComponent(tag, attributes);
      return;
    }
    const node = this.view.state.doc.nodeAt(pos);
    this.view.dispatch(this.view.state.tr.setNodeMarkup(pos, null, { ...node.attrs, attributes }));
  }

  togglePreview() {
    this.preview = !this.preview;
    if (this.preview) {
      this.updateComplete.then(() => paintContent(this.querySelector('.preview-body'), toContent(this.view.state.doc)));
    }
  }

  // ---- rendering

  statusText() {
    switch (this.status) {
      case 'saving': return t('studio.editor.saving');
      case 'unsaved': return t('studio.editor.unsaved');
      case 'saved': return this.page ? t('studio.editor.saved', { time: formatDate(this.page.modified_at) }) : '';
      case 'conflict': return t('studio.conflict.title');
      case 'refused': return t('studio.editor.refused');
      case 'limits': return t(this.limits?.tooBig ? 'studio.editor.tooBig' : 'studio.editor.tooDeep');
      case 'error': return this.saveError || t('error.generic');
      default: return '';
    }
  }

  renderLimits() {
    const l = this.limits;
    if (!l) return nothing;
    const kb = (n) => Math.ceil(n / 1024);
    const near = l.bytes > CONTENT_MAX_BYTES * 0.9 || l.depth > CONTENT_MAX_DEPTH - 6;
    return html`<p class="limits ${near ? 'near' : ''}">${t('studio.editor.limits', {
      size: kb(l.bytes), max: kb(CONTENT_MAX_BYTES), depth: l.depth, maxDepth: CONTENT_MAX_DEPTH })}
      ${near || l.tooBig || l.tooDeep ? html`<br><span>${t('studio.editor.limitsHelp')}</span>` : nothing}</p>`;
  }

  renderToolbar() {
    const s = this.view?.state;
    const on = (m) => (s && markActive(s, schema.marks[m]) ? 'true' : 'false');
    const can = (cmd) => Boolean(s && cmd(s));
    const b = (label, cmd, pressed) => html`<button type="button" class="tool" aria-pressed=${pressed ?? nothing}
      ?disabled=${!can(cmd)} @mousedown=${(e) => e.preventDefault()} @click=${() => this.run(cmd)}>${label}</button>`;
    const inTable = s && findCell(s);
    return html`<div class="toolbar" role="toolbar" aria-label=${t('studio.editor.toolbar')}>
      <label class="visually-hidden" for="pm-block">${t('studio.editor.blockType')}</label>
      <select id="pm-block" .value=${this.currentBlock()} @change=${(e) => this.blockType(e.target.value)}>
        <option value="paragraph">${t('studio.editor.paragraph')}</option>
        ${[1, 2, 3, 4].map((l) => html`<option value="heading:${l}">${t('studio.editor.heading', { level: l })}</option>`)}
        <option value="code_block">${t('studio.editor.codeBlock')}</option>
        ${['bare', 'heading:5', 'heading:6'].includes(this.currentBlock()) ? html`<option value=${this.currentBlock()}>${t('studio.editor.other')}</option>` : nothing}
      </select>
      ${b(t('studio.editor.bold'), toggleMark(schema.marks.strong), on('strong'))}
      ${b(t('studio.editor.italic'), toggleMark(schema.marks.em), on('em'))}
      ${b(t('studio.editor.code'), toggleMark(schema.marks.code), on('code'))}
      <button type="button" class="tool" aria-pressed=${on('link')} @click=${() => this.linkDialog()}>${t('studio.editor.link')}</button>
      ${b(t('studio.editor.bulletList'), wrapInList(schema.nodes.bullet_list))}
      ${b(t('studio.editor.orderedList'), wrapInList(schema.nodes.ordered_list))}
      ${b(t('studio.editor.quote'), wrapIn(schema.nodes.blockquote))}
      ${b(t('studio.editor.lift'), lift)}
      <button type="button" class="tool" @click=${() => this.openDialog('image', { src: '', alt: '' })}>${t('studio.editor.image')}</button>
      ${b(t('studio.editor.table'), insertTable)}
      ${inTable ? html`${b(t('studio.editor.addRow'), addRow)}${b(t('studio.editor.addColumn'), addColumn)}
        ${b(t('studio.editor.deleteRow'), deleteRow)}${b(t('studio.editor.deleteColumn'), deleteColumn)}` : nothing}
      ${b(t('studio.editor.rule'), (st, d) => {
        if (d) d(st.tr.replaceSelectionWith(schema.nodes.horizontal_rule.create()));
        return true;
      })}
      <button type="button" class="tool" ?disabled=${!s || undoDepth(s) === 0} @click=${() => this.run(undo)}>${t('studio.editor.undo')}</button>
      <button type="button" class="tool" ?disabled=${!s || redoDepth(s) === 0} @click=${() => this.run(redo)}>${t('studio.editor.redo')}</button>
    </div>`;
  }

  renderPalette() {
    const s = this.view?.state;
    if (!this.registry.size) return html`<p class="hint">${t('studio.palette.none')}</p>`;
    const lang = language();
    return html`<ul class="palette">${[...this.registry].map(([tag, e]) => {
      const ok = s ? allowedAt(s.selection.$from, tag, this.registry) : true;
      const desc = localText(e.definition.description, lang);
      return html`<li><button type="button" class="secondary small" ?disabled=${!ok}
        title=${ok ? desc : t('studio.palette.notHere', { tag })}
        @mousedown=${(ev) => ev.preventDefault()} @click=${() => this.insertComponent(tag)}>${tag}</button>
        ${desc ? html`<span class="hint">${desc}</span>` : nothing}</li>`;
    })}</ul>`;
  }

  renderDialog() {
    const d = this.dialog;
    if (!d) return nothing;
    const err = (k) => (d.errors[k] ? html`<p class="errors" id="dlg-${k}-err">${d.errors[k] === true ? t('studio.attributes.invalid') : d.errors[k]}</p>` : nothing);
    let body;
    let title;
    if (d.kind === 'link') {
      title = t('studio.editor.link');
      body = html`<div class="field"><label for="dlg-href">${t('studio.editor.linkUrl')}</label>
        <input id="dlg-href" name="href" .value=${d.data.href} aria-invalid=${d.errors.href ? 'true' : 'false'}
          aria-describedby=${d.errors.href ? 'dlg-href-err' : nothing}>${err('href')}
        <p class="hint">${t('studio.editor.linkHint')}</p></div>`;
    } else if (d.kind === 'image') {
      title = t('studio.editor.image');
      body = html`<div class="field"><label for="dlg-src">${t('studio.editor.imageUrl')}</label>
        <input id="dlg-src" name="src" .value=${d.data.src} aria-invalid=${d.errors.src ? 'true' : 'false'}
          aria-describedby=${d.errors.src ? 'dlg-src-err' : nothing}>${err('src')}
        <p class="hint">${t('studio.editor.imageHint')}</p></div>
        <div class="field"><label for="dlg-alt">${t('studio.editor.imageAlt')}</label><input id="dlg-alt" name="alt" .value=${d.data.alt}></div>`;
    } else {
      const def = this.registry.get(d.data.tag)?.definition || {};
      const lang = language();
      title = t('studio.attributes.title', { tag: d.data.tag });
      const desc = localText(def.description, lang);
      body = html`${desc ? html`<p class="hint">${desc}</p>` : nothing}
        ${attributeFields(def, lang).map((f) => {
          const id = `attr-${f.name}`;
          const v = d.data.values[f.name] ?? '';
          const described = [d.errors[f.name] ? `dlg-${f.name}-err` : '', f.description ? `${id}-hint` : ''].filter(Boolean).join(' ') || nothing;
          return html`<div class="field ${d.errors[f.name] ? 'has-error' : ''}"><label for=${id}>${f.name}</label>
            ${f.kind === 'enum' ? html`<select id=${id} name=${id} aria-describedby=${described}>
                <option value="" ?selected=${v === ''}>${t('studio.attributes.unset')}</option>
                ${f.options.map((o) => html`<option value=${o} ?selected=${o === v}>${o}</option>`)}</select>`
              : html`<input id=${id} name=${id} .value=${v} aria-invalid=${d.errors[f.name] ? 'true' : 'false'} aria-describedby=${described}>`}
            ${f.description ? html`<p class="hint" id="${id}-hint">${f.description}${f.regex ? html` (${t('studio.attributes.pattern', { regex: f.regex })})` : nothing}</p>`
              : f.regex ? html`<p class="hint" id="${id}-hint">${t('studio.attributes.pattern', { regex: f.regex })}</p>` : nothing}
            ${d.errors[f.name] ? html`<p class="errors" id="dlg-${f.name}-err">${t('studio.attributes.invalid')}</p>` : nothing}
          </div>`;
        })}`;
    }
    const submit = (e) => {
      e.preventDefault();
      if (d.kind === 'link') this.applyLink(e.target);
      else if (d.kind === 'image') this.applyImage(e.target);
      else this.applyAttributes(e.target);
    };
    return html`<dialog class="editor-dialog" aria-labelledby="dlg-title" @close=${() => { this.dialog = null; }}>
      <form @submit=${submit}><h2 id="dlg-title">${title}</h2>${body}
        <div class="buttons"><button type="submit">${t('studio.apply')}</button>
        <button type="button" class="secondary" @click=${() => this.closeDialog()}>${t('common.cancel')}</button></div>
      </form></dialog>`;
  }

  renderConflict() {
    const c = this.conflict;
    if (!c) return nothing;
    return html`<dialog class="conflict" aria-labelledby="conflict-title" @cancel=${(e) => e.preventDefault()}>
      <h2 id="conflict-title">${t('studio.conflict.title')}</h2>
      <p>${t('studio.conflict.explain', { who: c.theirs.modified_by || '?', time: formatDate(c.theirs.modified_at) })}</p>
      <div class="versions">
        <section aria-labelledby="v-mine"><h3 id="v-mine">${t('studio.conflict.mine')}</h3><div class="mine content"></div></section>
        <section aria-labelledby="v-theirs"><h3 id="v-theirs">${t('studio.conflict.theirs')}</h3><div class="theirs content"></div></section>
      </div>
      <div class="buttons"><button type="button" @click=${() => this.resolve('mine')}>${t('studio.conflict.keepMine')}</button>
      <button type="button" class="secondary" @click=${() => this.resolve('theirs')}>${t('studio.conflict.takeTheirs')}</button></div>
    </dialog>`;
  }

  render() {
    if (this.error) return html`<div class="notice error" role="alert"><p>${this.error.status === 404 ? t('error.notFound') : this.error.detail || t('error.generic')}</p></div>`;
    const loadingPage = !this.page;
    return html`${loadingPage ? html`<p class="loading" role="status">${t('common.loading')}</p>` : nothing}
      <div class="editor" ?hidden=${loadingPage}>
        <div class="editor-head">
          ${this.canEdit ? this.renderToolbar() : html`<p class="notice info">${t('studio.editor.readOnly')}</p>`}
          <div class="editor-status"><span role="status" class="save-state" data-state=${this.status}>${this.statusText()}</span>
            <button type="button" class="secondary small" aria-pressed=${this.preview ? 'true' : 'false'} @click=${() => this.togglePreview()}>${t('studio.editor.preview')}</button>
            ${this.canEdit ? html`<button type="button" class="secondary small" ?disabled=${!this.dirty} @click=${() => this.saveNow()}>${t('studio.editor.saveNow')}</button>` : nothing}
          </div>
        </div>
        <div class="editor-body">
          <div class="pm-host" ?hidden=${this.preview}></div>
          ${this.preview ? html`<section class="preview" aria-label=${t('studio.editor.preview')}>
            <h1 class="page-title">${this.page?.name}</h1><article class="preview-body content"></article></section>` : nothing}
          ${this.canEdit ? html`<aside class="palette-box" aria-labelledby="palette-title"><h3 id="palette-title">${t('studio.palette.title')}</h3>${this.renderPalette()}</aside>` : nothing}
        </div>
        ${this.renderLimits()}
      </div>
      ${this.renderDialog()}${this.renderConflict()}`;
  }
}

customElements.define('ob-page-editor', ObPageEditor);
export { NodeSelection };
