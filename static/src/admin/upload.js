// upload.js - multipart uploads with progress (library archives, media
// files, images).  fetch() cannot report upload progress, XMLHttpRequest
// can (xhr.upload.onprogress); the request is otherwise the same as the
// app's other unsafe requests: same origin, cookies, X-CSRFToken.
import { ensureCsrf } from '../api.js';
import { readCookie } from '../i18n.js';

/**
 * Sends `fields` (name -> string | File) as multipart/form-data.
 * onProgress(loaded, total) is called while the body goes out.  Resolves
 * to {status, body} for every answer the server gives (status 0: the
 * network failed or the upload was aborted through `signal`).
 */
export async function upload(method, url, fields, { onProgress, signal, query } = {}) {
  await ensureCsrf();
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) {
    if (v !== undefined && v !== null) form.append(k, v);
  }
  if (query) url += '?' + new URLSearchParams(query).toString();
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    xhr.withCredentials = true;
    xhr.setRequestHeader('Accept', 'application/json');
    const csrf = readCookie('csrftoken');
    if (csrf) xhr.setRequestHeader('X-CSRFToken', csrf);
    if (onProgress) {
      xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : 0);
    }
    const done = () => {
      let body = null;
      try {
        body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        body = null;
      }
      resolve({ status: xhr.status, body });
    };
    xhr.onload = done;
    xhr.onerror = () => resolve({ status: 0, body: null });
    xhr.onabort = () => resolve({ status: 0, body: null, aborted: true });
    if (signal) signal.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(form);
  });
}

/** Messages of an upload's error answer, by field ("" for the rest):
 * {file: ["The archive ..."]} for 400s, {"": [detail]} otherwise. */
export function uploadErrors({ status, body }, fallback) {
  if (status >= 200 && status < 300) return {};
  const out = {};
  if (body && typeof body === 'object') {
    if (typeof body.detail === 'string') out[''] = [body.detail];
    else {
      for (const [k, v] of Object.entries(body)) {
        const msgs = Array.isArray(v) ? v.filter((m) => typeof m === 'string') : typeof v === 'string' ? [v] : [];
        if (msgs.length) out[k] = msgs;
      }
    }
  }
  if (!Object.keys(out).length) out[''] = [fallback(status)];
  return out;
}

/** What a library install's answer means for people (libraries.md §5:
 * 201 installed, 200 replaced, both with `warnings`). */
export function installOutcome({ status, body }) {
  if (status === 201 || status === 200) {
    const v = body || {};
    const fqn = v.parent && typeof v.parent === 'object' ? v.parent.fqn : '';
    return { ok: true, replaced: status === 200, fqn, version: v.version || '', warnings: Array.isArray(v.warnings) ? v.warnings : [] };
  }
  return { ok: false, status };
}
