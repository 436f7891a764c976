// components.js - which custom elements the installed component libraries
// define, and loading their code (libraries.md).
//
// The registry comes from GET /api/core/html_library/component_definitions/
// with each definition's library version expanded (frontend_url).  When
// several versions of a library define a tag, the newest wins (the server
// lists versions in semver order, so the last one seen).  A library's
// library.js (as an ES module script) and library.css (beside it) are
// loaded on demand, the first time a page uses one of its tags, once per
// version (the URL carries the version).  While the server has no library
// API yet (issue 14: 404), the registry is empty and every component is a
// placeholder.
import { listAll, ApiError } from './api.js';

/** @type {Promise<Map<string, {definition: object, url: string}>> | null} */
let registry = null;
const loaded = new Map();   // frontend_url -> Promise

/** For the tests: replace the source of the registry. */
let source = async () => listAll('componentDefinitions', {}, { expand: ['library_version'] });
export function _setSource(fn) {
  source = fn;
  registry = null;
}

/** Builds tag -> {definition, url} from definition rows. */
export function buildRegistry(rows) {
  const map = new Map();
  for (const row of rows || []) {
    const def = row && row.definition;
    const lv = row && row.library_version;
    if (!def || typeof def !== 'object' || typeof def['tag-name'] !== 'string') continue;
    const url = lv && typeof lv === 'object' ? lv.frontend_url : null;
    if (typeof url !== 'string' || !url.startsWith('/') || url.startsWith('//')) continue;
    map.set(def['tag-name'].toLowerCase(), { definition: def, url });
  }
  return map;
}

/** tag -> {definition, url}; fetched once per page load (reset() after a
 * library.installed event). */
export function getRegistry() {
  if (!registry) {
    registry = source().then(buildRegistry, (e) => {
      if (e instanceof ApiError && (e.status === 404 || e.status === 403)) return new Map();
      registry = null;   // try again next time (offline, 5xx)
      return new Map();
    });
  }
  return registry;
}

export function reset() {
  registry = null;
}

/** Definitions only, for the renderer. */
export async function definitions() {
  const reg = await getRegistry();
  const out = new Map();
  for (const [tag, v] of reg) out.set(tag, v.definition);
  return out;
}

/** Loads the library code for these tags (each URL once). */
export async function ensureLoaded(tags, doc = globalThis.document) {
  const reg = await getRegistry();
  const urls = new Set();
  for (const tag of tags) {
    const e = reg.get(tag);
    if (e) urls.add(e.url);
  }
  await Promise.all([...urls].map((url) => loadLibrary(url, doc)));
}

function loadLibrary(url, doc) {
  let p = loaded.get(url);
  if (p) return p;
  p = new Promise((resolve) => {
    const css = url.replace(/library\.js$/, 'library.css');
    if (css !== url) {
      const link = doc.createElement('link');
      link.rel = 'stylesheet';
      link.href = css;
      link.dataset.library = url;
      doc.head.appendChild(link);
    }
    const s = doc.createElement('script');
    s.type = 'module';
    s.src = url;
    s.dataset.library = url;
    s.onload = () => resolve(true);
    s.onerror = () => resolve(false);   // the page still shows; the elements stay unupgraded
    doc.head.appendChild(s);
  });
  loaded.set(url, p);
  return p;
}

/** For the tests: which library URLs were requested. */
export function loadedLibraries() {
  return [...loaded.keys()];
}
