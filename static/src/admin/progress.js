// progress.js - an upload's progress bar: a native <progress> (announced
// by screen readers) with the percentage and the bytes in words.
import { html } from '../ui.js';
import { formatBytes } from './validate.js';
import { t } from '../i18n.js';

export function progressBar(loaded, total, label) {
  const pct = total ? Math.min(100, Math.round((loaded / total) * 100)) : 0;
  return html`<div class="progress">
    <progress max="100" .value=${pct} aria-label=${label}></progress>
    <span>${t('admin.progress', { pct, loaded: formatBytes(loaded), total: formatBytes(total) })}</span>
  </div>`;
}
