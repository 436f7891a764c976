// ui.js - the base class of every view and small shared pieces.
//
// Views render into the light DOM (no shadow root): one stylesheet themes
// the whole app, page content and the libraries' own CSS apply as in any
// document, and screen readers and tests see one tree.
import { LitElement, html, nothing } from 'lit';
import { t, onLanguageChange } from './i18n.js';

export class View extends LitElement {
  createRenderRoot() {
    return this;
  }

  connectedCallback() {
    super.connectedCallback();
    this._offLang = onLanguageChange(() => this.languageChanged());
  }

  disconnectedCallback() {
    super.disconnectedCallback();
    if (this._offLang) this._offLang();
  }

  /** Default: re-render; views whose data the API translates reload. */
  languageChanged() {
    this.requestUpdate();
  }
}

/** Polite announcement for screen readers (the shell's live region). */
export function announce(text) {
  const region = document.getElementById('ob-announce');
  if (!region) return;
  region.textContent = '';
  // A separate task, so that the same text twice is read twice.
  setTimeout(() => {
    region.textContent = text;
  }, 30);
}

/** Sets document.title: "<page> · OpenBook". */
export function setTitle(text) {
  document.title = text ? `${text} · ${t('app.name')}` : t('app.name');
}

/** Moves the focus to the view's main heading after a navigation (for
 * keyboard and screen reader users: the new content is announced). */
export function focusHeading(root) {
  const h = root.querySelector('h1');
  if (h) {
    h.setAttribute('tabindex', '-1');
    h.focus({ preventScroll: false });
  }
}

/**
 * A labelled form field with its error messages (linked by
 * aria-describedby, aria-invalid when there are errors).
 */
export function field({ id, label, type = 'text', name, value = '', errors = [], autocomplete,
  required = false, hint, inputmode, onInput }) {
  const errId = `${id}-errors`;
  const hintId = hint ? `${id}-hint` : null;
  const described = [errors.length ? errId : null, hintId].filter(Boolean).join(' ') || nothing;
  return html`<div class="field ${errors.length ? 'has-error' : ''}">
    <label for=${id}>${label}</label>
    <input id=${id} name=${name || id} type=${type} .value=${value}
      autocomplete=${autocomplete || nothing} inputmode=${inputmode || nothing}
      ?required=${required} aria-invalid=${errors.length ? 'true' : 'false'}
      aria-describedby=${described} @input=${onInput || nothing}>
    ${hint ? html`<p class="hint" id=${hintId}>${hint}</p>` : nothing}
    ${errors.length ? html`<ul class="errors" id=${errId}>${errors.map((m) => html`<li>${m}</li>`)}</ul>` : nothing}
  </div>`;
}

/** Errors that concern the whole form. */
export function formErrors(messages) {
  if (!messages || !messages.length) return nothing;
  return html`<div class="form-errors" role="alert">${messages.map((m) => html`<p>${m}</p>`)}</div>`;
}

export function loading() {
  return html`<p class="loading" role="status">${t('common.loading')}</p>`;
}

/** An error box for a failed load (ApiError or other). */
export function loadError(e) {
  let msg = t('error.generic');
  if (e && e.status === 0) msg = t('error.offline');
  else if (e && e.status === 404) msg = t('error.notFound');
  else if (e && e.status === 403) msg = t('error.forbidden');
  else if (e && e.detail) msg = e.detail;
  return html`<div class="notice error" role="alert"><p>${msg}</p></div>`;
}

/** Values of a form's named inputs. */
export function formValues(form) {
  const out = {};
  for (const el of form.elements) {
    if (el.name && (el.type !== 'checkbox' || el.checked)) out[el.name] = el.value;
  }
  return out;
}

export { html, nothing, t };
