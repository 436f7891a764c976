// schema.js - the server's own description of its API (GET /api/schema/),
// read once per page load by the administration: which resources exist
// (the library and media screens stay hidden on a server without them),
// and which permission and admin gate each operation needs (access.js).
import { request } from '../api.js';

let pending = null;

/** {version, resources: Map(collection path -> x-openbook-resources
 * entry), paths: {path: {method: true}}}; the rest of the document is
 * dropped. */
export function describe(doc) {
  const resources = new Map();
  for (const r of Object.values(doc['x-openbook-resources'] || {})) {
    if (r && r.collection_path) resources.set(r.collection_path, r);
    else if (r && r.path) resources.set(r.path, r);
  }
  const paths = {};
  for (const [p, ops] of Object.entries(doc.paths || {})) {
    paths[p] = Object.fromEntries(Object.keys(ops).map((m) => [m, true]));
  }
  return { version: (doc.info && doc.info.version) || '', resources, paths };
}

export function loadSchema({ again = false } = {}) {
  if (!pending || again) {
    pending = request('GET', '/api/schema/').then(describe);
    pending.catch(() => {
      pending = null;
    });
  }
  return pending;
}
