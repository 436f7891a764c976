// common.js - what the administration's screens share: the base class
// (the user, the schema, notices, busy state, API errors next to their
// fields), checkboxes, the permission picker, confirmations.
import { View, html, nothing, t, announce, setTitle, focusHeading, loading, loadError } from '../ui.js';
import { ApiError, listAll } from '../api.js';
import { abilities, holds } from './access.js';

/** API failure -> {field: [message]}, whole-request messages under "". */
export function apiErrors(e) {
  if (!(e instanceof ApiError)) return { '': [t('error.generic')] };
  if (e.status === 0) return { '': [t('error.offline')] };
  const out = { ...e.fields };
  if (out.non_field_errors) {
    out[''] = out.non_field_errors;
    delete out.non_field_errors;
  }
  if (e.detail) out[''] = [...(out[''] || []), e.detail];
  if (!Object.values(out).some((v) => v && v.length)) {
    out[''] = [e.status === 403 ? t('error.forbidden') : e.status === 404 ? t('error.notFound') : t('error.generic')];
  }
  return out;
}

/** Translates the i18n keys of validate.js's answers. */
export function localErrors(e) {
  const out = {};
  for (const [k, v] of Object.entries(e)) out[k] = v.map((key) => t(key));
  return out;
}

const LOAD_FIRST = Symbol('not loaded');

export class AdminSection extends View {
  static properties = {
    params: { attribute: false }, user: { attribute: false }, schema: { attribute: false },
    errors: { state: true }, busy: { state: true }, notice: { state: true }, loadErr: { state: true },
  };

  constructor() {
    super();
    this.params = {};
    this.errors = {};
    this.notice = null;
    this.loadedFor = LOAD_FIRST;
  }

  /** A screen with `static section = '<id>'` is titled after it. */
  connectedCallback() {
    super.connectedCallback();
    if (this.constructor.section) this.titled(t(`admin.section.${this.constructor.section}`));
  }

  /** Loads on the first update and when the item (params.id) changes;
   * the frame hands new params on every render. */
  willUpdate(changed) {
    if (changed.has('params') && this.params.id !== this.loadedFor) {
      this.loadedFor = this.params.id;
      this.load();
    }
  }

  /** API texts (permission names, messages) come in the UI language. */
  languageChanged() {
    this.load();
  }

  /** Fetches what the screen shows (each screen has its own). */
  async load() {}

  /** Runs a load; a failure replaces the screen's body by its message. */
  async fetching(fn) {
    try {
      await fn();
      this.loadErr = null;
    } catch (e) {
      this.loadErr = e;
    }
  }

  /** The schema's description of the resource at `path`. */
  res(path) {
    return this.schema ? this.schema.resources.get(path) : undefined;
  }

  /** {list, create, change, destroy, adminFields, ...} for `path`. */
  rights(path) {
    return abilities(this.user, this.res(path));
  }

  holds(perm) {
    return holds(this.user, perm);
  }

  /** Sets the title, then focuses the heading (navigation announced). */
  async titled(text) {
    setTitle(text);
    await this.updateComplete;
    focusHeading(this);
  }

  say(text, kind = 'success') {
    this.notice = { kind, text };
    announce(text);
  }

  /** Runs fn with busy state; API errors land in this.errors (or under
   * `scope` when several forms share the screen).  Returns fn's value, or
   * undefined when it failed. */
  async run(fn, scope = '') {
    this.busy = true;
    this.notice = null;
    this.errors = { ...this.errors, [scope]: {} };
    try {
      return await fn();
    } catch (e) {
      this.errors = { ...this.errors, [scope]: apiErrors(e) };
      announce(t('form.hasErrors'));
      await this.updateComplete;
      const bad = this.querySelector('[aria-invalid="true"]') || this.querySelector('.form-errors');
      if (bad) {
        if (!bad.matches('input, select, textarea')) bad.setAttribute('tabindex', '-1');
        bad.focus();
      }
      return undefined;
    } finally {
      this.busy = false;
    }
  }

  /** Errors of a form (`scope`) for one field. */
  err(field, scope = '') {
    return ((this.errors[scope] || {})[field]) || [];
  }

  /** Errors of a form that no field of it shows. */
  general(scope = '', fields = []) {
    const all = this.errors[scope] || {};
    const msgs = Object.entries(all).filter(([k]) => !fields.includes(k)).flatMap(([k, v]) => (k ? v.map((m) => `${k}: ${m}`) : v));
    return msgs.length ? html`<div class="form-errors" role="alert">${msgs.map((m) => html`<p>${m}</p>`)}</div>` : nothing;
  }

  noticeBox() {
    const n = this.notice;
    return n ? html`<div class="notice ${n.kind}" role="status"><p>${n.text}</p></div>` : nothing;
  }

  /** The common frame of a screen: heading, notice, then the load
   * error, "loading", or the body (a template, or a function making it
   * once the data is there). */
  frame(title, body, ready = true) {
    let content = loading();
    if (this.loadErr) content = loadError(this.loadErr);
    else if (ready) content = typeof body === 'function' ? body() : body;
    return html`<h1>${title}</h1>${this.noticeBox()}${content}`;
  }
}

/** A checkbox with its label (and an optional hint). */
export function checkbox({ id, name, label, checked = false, disabled = false, onChange, hint }) {
  return html`<div class="check">
    <input type="checkbox" id=${id} name=${name || id} .checked=${checked} ?disabled=${disabled}
      aria-describedby=${hint ? `${id}-hint` : nothing} @change=${onChange || nothing}>
    <label for=${id}>${label}</label>
    ${hint ? html`<p class="hint" id=${`${id}-hint`}>${hint}</p>` : nothing}
  </div>`;
}

/** Error messages as a list (linked from their control by `id`). */
export function errorList(messages, id) {
  return messages && messages.length ? html`<ul class="errors" id=${id || nothing}>${messages.map((m) => html`<li>${m}</li>`)}</ul>` : nothing;
}

/** A form control with its label, hint and errors; control(describedBy,
 * invalid) makes the control with the attributes that link them. */
export function around({ id, label, errors = [], hint }, control) {
  const errId = `${id}-errors`;
  const hintId = `${id}-hint`;
  const described = [errors.length ? errId : null, hint ? hintId : null].filter(Boolean).join(' ') || nothing;
  return html`<div class="field ${errors.length ? 'has-error' : ''}">
    <label for=${id}>${label}</label>
    ${control(described, errors.length ? 'true' : 'false')}
    ${hint ? html`<p class="hint" id=${hintId}>${hint}</p>` : nothing}
    ${errorList(errors, errId)}
  </div>`;
}

/** A select with its label and errors. */
export function select({ id, name, label, value, options, errors = [], onChange, disabled = false, required = false }) {
  return around({ id, label, errors }, (described, invalid) => html`<select id=${id} name=${name || id} ?disabled=${disabled}
    ?required=${required} aria-invalid=${invalid} aria-describedby=${described} @change=${onChange || nothing}>
      ${options.map((o) => html`<option value=${o.value} ?selected=${o.value === value}>${o.label}</option>`)}
    </select>`);
}

/** A multi-line text field with its label and errors. */
export function textarea({ id, name, label, value = '', errors = [], hint, rows = 3 }) {
  return around({ id, label, errors, hint }, (described, invalid) => html`<textarea id=${id} name=${name || id} rows=${rows}
    .value=${value} aria-invalid=${invalid} aria-describedby=${described}></textarea>`);
}

/** A file input with its label, hint and errors. */
export function fileField({ id, name, label, errors = [], hint, accept, multiple = false }) {
  return around({ id, label, errors, hint }, (described, invalid) => html`<input type="file" id=${id} name=${name || id}
    accept=${accept || nothing} ?multiple=${multiple} aria-invalid=${invalid} aria-describedby=${described}>`);
}

/** Asks before something that cannot be undone. */
export function confirmed(text) {
  // eslint-disable-next-line no-alert
  return window.confirm(text);
}

// ---- permissions

let catalogue = null;

/** The permission catalogue (GET /api/auth/permissions/; rows need
 * auth.view_permission, so for most staff users it is empty), once per
 * language. */
export function permissionCatalogue(lang) {
  if (!catalogue || catalogue.lang !== lang) {
    const p = listAll('adminPermissions').catch(() => []);
    catalogue = { lang, p };
  }
  return catalogue.p;
}

const ACTIONS = ['view', 'add', 'change', 'delete'];

/** Catalogue rows grouped: [{app, label, models: [{model, label, perms:
 * {view, add, change, delete}, extra: [perm]}]}]. */
export function groupPermissions(rows) {
  const apps = new Map();
  for (const p of rows) {
    if (!apps.has(p.app)) apps.set(p.app, { app: p.app, label: p.app_display_name || p.app, models: new Map() });
    const models = apps.get(p.app).models;
    if (!models.has(p.model)) models.set(p.model, { model: p.model, label: p.model_display_name || p.model, perms: {}, extra: [] });
    const m = models.get(p.model);
    const action = ACTIONS.find((a) => p.codename === `${a}_${p.model}`);
    if (action) m.perms[action] = p;
    else m.extra.push(p);
  }
  return [...apps.values()].map((a) => ({ ...a, models: [...a.models.values()] }));
}

/**
 * The permission picker: a table per app, a row per model, a checkbox per
 * permission (labelled with its translated name).  `selected` is a Set of
 * perm strings; onToggle(perm, checked).  Without a catalogue (the user
 * may not read it) the perm strings are edited as text instead.
 */
export function permissionPicker({ id, rows, selected, disabled = false, onToggle, errors = [] }) {
  if (!rows || !rows.length) {
    return textarea({
      id, name: id, label: t('admin.perms.asText'), value: [...selected].join('\n'), errors, rows: 6,
      hint: t('admin.perms.asTextHint'),
    });
  }
  const known = new Set(rows.map((r) => r.perm_string));
  const unknown = [...selected].filter((p) => !known.has(p));
  const box = (p) => (p ? html`<input type="checkbox" id=${`${id}-${p.perm_string}`} .checked=${selected.has(p.perm_string)}
      ?disabled=${disabled} aria-label=${p.perm_display_name} title=${p.perm_string}
      @change=${(e) => onToggle(p.perm_string, e.target.checked)}>` : nothing);
  return html`<div class="perm-picker" id=${id}>
    ${errors.length ? html`<div role="alert">${errorList(errors)}</div>` : nothing}
    ${groupPermissions(rows).map((a) => html`<table class="list perm-grid">
      <caption>${a.label}</caption>
      <thead><tr><th scope="col">${t('admin.perms.model')}</th>${ACTIONS.map((x) => html`<th scope="col">${t(`admin.perms.${x}`)}</th>`)}<th scope="col">${t('admin.perms.other')}</th></tr></thead>
      <tbody>${a.models.map((m) => html`<tr><th scope="row">${m.label}</th>
        ${ACTIONS.map((x) => html`<td>${box(m.perms[x])}</td>`)}
        <td>${m.extra.map((p) => html`<label class="inline">${box(p)} ${p.perm_display_name}</label>`)}</td></tr>`)}</tbody>
    </table>`)}
    ${unknown.length ? html`<p class="hint">${t('admin.perms.unknown', { perms: unknown.join(', ') })}</p>` : nothing}
  </div>`;
}

/** A perm string's display: its translated name where the catalogue
 * has it. */
export function permLabel(rows, perm) {
  const r = (rows || []).find((p) => p.perm_string === perm);
  return r ? r.perm_display_name : perm;
}

export { html, nothing, t, loading, loadError, holds };
