// api.js - the app's only way to the server: the REST API (/api/) and the
// browser authentication API (/auth-api/browser/v1/).
//
// Same origin, cookies (sessionid, csrftoken) carried by the browser;
// unsafe methods send X-CSRFToken (api-conventions.md §11.1).  REST calls go
// through the declarations of endpoints.js, so the fields the app reads are
// the ones the schema test checks.
import { RESOURCES, ACTIONS, AUTH, AUTH_BASE } from './endpoints.js';
import { readCookie } from './i18n.js';

/** A failed REST call.  `fields` maps field names to messages (400
 * bodies, api-conventions.md §4); `detail` is the message of other
 * errors; `status` 0 means the network failed. */
export class ApiError extends Error {
  constructor(status, body) {
    const detail = body && typeof body === 'object' && typeof body.detail === 'string'
      ? body.detail : '';
    super(detail || `HTTP ${status}`);
    this.status = status;
    this.body = body;
    this.detail = detail;
    /** @type {Record<string, string[]>} */
    this.fields = {};
    if (status === 400 && body && typeof body === 'object' && !detail) {
      for (const [k, v] of Object.entries(body)) {
        if (Array.isArray(v)) this.fields[k] = v.filter((m) => typeof m === 'string');
        else if (typeof v === 'string') this.fields[k] = [v];
      }
    }
  }
}

/** fetch, replaceable by the unit tests. */
let fetchImpl = (...a) => globalThis.fetch(...a);
let cookieSource = () => globalThis.document?.cookie ?? '';
export function _setTransport(fetchFn, cookieFn) {
  fetchImpl = fetchFn;
  if (cookieFn) cookieSource = cookieFn;
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function headersFor(method, extra) {
  const h = { Accept: 'application/json', ...extra };
  if (UNSAFE.has(method)) {
    const csrf = readCookie('csrftoken', cookieSource());
    if (csrf) h['X-CSRFToken'] = csrf;
  }
  return h;
}

async function readJson(r) {
  const text = await r.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** Makes sure the csrftoken cookie exists (any /auth-api/browser/
 * answer sets it), before the first unsafe request. */
export async function ensureCsrf() {
  if (readCookie('csrftoken', cookieSource())) return;
  await auth('config');
}

/** One REST request.  Returns the parsed body; throws ApiError. */
export async function request(method, path, { query, body, signal } = {}) {
  method = method.toUpperCase();
  if (UNSAFE.has(method)) await ensureCsrf();
  let url = path;
  if (query) {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v !== undefined && v !== null) qs.set(k, String(v));
    }
    const s = qs.toString();
    if (s) url += '?' + s;
  }
  const init = {
    method,
    credentials: 'same-origin',
    headers: headersFor(method, body !== undefined ? { 'Content-Type': 'application/json' } : {}),
    signal,
  };
  if (body !== undefined) init.body = JSON.stringify(body);
  let r;
  try {
    r = await fetchImpl(url, init);
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    throw new ApiError(0, null);
  }
  const data = await readJson(r);
  if (!r.ok) throw new ApiError(r.status, data);
  return data;
}

function spec(name) {
  const s = RESOURCES[name];
  if (!s) throw new Error(`unknown resource ${name}`);
  return s;
}

function checkFields(s, fields, name) {
  for (const f of fields) {
    if (!s.fields.includes(f)) throw new Error(`${name}: field ${f} is not declared in endpoints.js`);
  }
}

function shaping(s, name, opts) {
  const fields = opts.fields || s.fields;
  checkFields(s, fields, name);
  const q = { _fields: fields.join(',') };
  if (opts.expand) {
    for (const e of opts.expand) {
      if (!(s.expand || []).includes(e)) throw new Error(`${name}: expand ${e} is not declared`);
    }
    q._expand = opts.expand.join(',');
  }
  return q;
}

/** One page of a list: {count, next, previous, results}; opts: fields,
 * expand, search (`_search`), sort (`_sort`), page, pageSize, signal. */
export async function list(name, filters = {}, opts = {}) {
  const s = spec(name);
  for (const f of Object.keys(filters)) {
    if (!(s.filters || []).includes(f)) throw new Error(`${name}: filter ${f} is not declared`);
  }
  const q = { ...filters, ...shaping(s, name, opts) };
  if (opts.search) q._search = opts.search;
  if (opts.sort) q._sort = opts.sort;
  if (opts.pageSize) q._page_size = opts.pageSize;
  if (opts.page) q._page = opts.page;
  return request('GET', s.path, { query: q, signal: opts.signal });
}

/** Every row of a list (follows pages of 1000). */
export async function listAll(name, filters = {}, opts = {}) {
  const out = [];
  for (let page = 1; ; page++) {
    const r = await list(name, filters, { ...opts, pageSize: 1000, page });
    out.push(...r.results);
    if (!r.next || out.length >= r.count) return out;
  }
}

/** One item (key: its id, or its natural key). */
export async function get(name, key, opts = {}) {
  const s = spec(name);
  const path = s.single ? s.path : s.path + encodeURIComponent(key) + '/';
  return request('GET', path, { query: shaping(s, name, opts), signal: opts.signal });
}

function writable(s, name, body) {
  for (const f of Object.keys(body)) {
    if (!(s.write || []).includes(f)) throw new Error(`${name}: field ${f} is not declared writable`);
  }
  return body;
}

export async function create(name, body) {
  const s = spec(name);
  return request('POST', s.path, { body: writable(s, name, body), query: shaping(s, name, {}) });
}

export async function patch(name, key, body) {
  const s = spec(name);
  return request('PATCH', s.path + encodeURIComponent(key) + '/', {
    body: writable(s, name, body), query: shaping(s, name, {}),
  });
}

export async function destroy(name, key) {
  const s = spec(name);
  return request('DELETE', s.path + encodeURIComponent(key) + '/');
}

/** An action of ACTIONS, with {id} filled in. */
export async function action(name, params = {}, body) {
  const a = ACTIONS[name];
  if (!a) throw new Error(`unknown action ${name}`);
  const path = a.path.replace(/\{(\w+)\}/g, (_, k) => encodeURIComponent(params[k]));
  return request(a.method, path, { body });
}

// ---- authentication API (api-auth.md) ----

/** The envelope of an /auth-api/ answer: {status, data, meta, errors}.
 * Never throws for HTTP statuses: 401 is often the successful end of a
 * step (code requested, signed up, logged out).  Network failures give
 * status 0. */
export async function auth(name, body, headers = {}) {
  const e = AUTH[name];
  if (!e) throw new Error(`unknown auth endpoint ${name}`);
  const method = e[0].toUpperCase();
  if (UNSAFE.has(method)) await ensureCsrf();
  const init = {
    method,
    credentials: 'same-origin',
    headers: headersFor(method, body !== undefined ? { 'Content-Type': 'application/json', ...headers } : headers),
  };
  if (body !== undefined) init.body = JSON.stringify(body);
  let r;
  try {
    r = await fetchImpl(AUTH_BASE + e[1], init);
  } catch {
    return { status: 0, errors: [] };
  }
  const data = (await readJson(r)) || {};
  return {
    status: data.status ?? r.status,
    data: data.data,
    meta: data.meta || {},
    errors: Array.isArray(data.errors) ? data.errors : [],
  };
}

/** Field errors of an envelope: {param: [message]}, whole-input errors
 * under "" (api-auth.md §2). */
export function authFieldErrors(env) {
  const out = {};
  for (const err of env.errors || []) {
    const k = err.param || '';
    (out[k] ||= []).push(err.message || err.code);
  }
  return out;
}

/** Pending flow ids of a 401 envelope (verify_email, login_by_code). */
export function pendingFlows(env) {
  return ((env.data && env.data.flows) || []).filter((f) => f.is_pending).map((f) => f.id);
}
