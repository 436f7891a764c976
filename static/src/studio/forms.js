// forms.js (studio) - small helpers of the studio's forms.
import { ApiError } from '../api.js';
import { t } from '../i18n.js';

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
