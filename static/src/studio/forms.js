// forms.js (studio) - small helpers of the studio's forms.
import { ApiError } from '../api.js';
import { html, nothing, t, announce, formErrors } from '../ui.js';

/** A slug from a name: lower case ASCII letters, digits and dashes. */
export function slugify(name) {
  return String(name).normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
    .replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 50) || 'item';
}

/** Every message of a failed call, field names first ("slug: …"). */
export function messages(err) {
  if (!(err instanceof ApiError)) return [t('error.generic')];
  if (err.status === 0) return [t('error.offline')];
  const out = [];
  if (err.detail) out.push(err.detail);
  for (const [k, v] of Object.entries(err.fields)) for (const m of v) out.push(k === 'non_field_errors' ? m : `${k}: ${m}`);
  return out.length ? out : [t('error.generic')];
}

/** A datetime-local input's value as ISO (UTC), or null when empty. */
export function isoOrNull(local) {
  if (!local) return null;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** Runs one change of a studio view: clears the form's errors, calls fn,
 * announces `done`, reloads the view; on failure shows the API's messages
 * under `key`.  True when it went through. */
export async function attempt(view, key, fn, done) {
  view.errors = { ...view.errors, [key]: null };
  try {
    await fn();
    if (done) announce(done);
    await view.load();
    return true;
  } catch (err) {
    view.errors = { ...view.errors, [key]: messages(err) };
    return false;
  }
}

/** Name, slug and description fields of a settings form. */
export function textFields(prefix, item) {
  return html`<div class="field"><label for="${prefix}-name">${t('studio.name')}</label><input id="${prefix}-name" name="name" .value=${item.name} required maxlength="255"></div>
    <div class="field"><label for="${prefix}-slug">${t('studio.slug')}</label><input id="${prefix}-slug" name="slug" .value=${item.slug} required maxlength="50" pattern="[a-zA-Z0-9_\\-]+"></div>
    <div class="field"><label for="${prefix}-desc">${t('studio.description')}</label><textarea id="${prefix}-desc" name="description" rows="3" .value=${item.description || ''}></textarea></div>`;
}

/** A settings box: the form (when the user may change the item), its
 * errors, and the delete button (when the user may delete it). */
export function settingsBox({ summary, form, errors, deleteLabel, onDelete, onToggle }) {
  if (!form && !onDelete) return nothing;
  return html`<details class="settings" @toggle=${(e) => { if (e.target.open && onToggle) onToggle(); }}><summary>${summary}</summary>
    ${form || nothing}${formErrors(errors)}
    ${onDelete ? html`<p><button type="button" class="danger" @click=${onDelete}>${deleteLabel}</button></p>` : nothing}
  </details>`;
}

/** The studio's breadcrumbs: Studio › name. */
export function crumbs(name) {
  return html`<nav aria-label=${t('nav.breadcrumbs')} class="breadcrumbs"><ol>
    <li><a href="#/studio">${t('studio.title')}</a></li><li><span aria-current="page">${name}</span></li></ol></nav>`;
}
