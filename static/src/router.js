// router.js - hash routes (/app/#/textbooks/<id>/pages/<id>).
//
// Hash routes because the mail links of api-auth.md §9 point at
// /app/#/account/..., and because the front server then serves one file
// for every route.  A route names a custom element and the module that
// defines it; modules are loaded with import() on first use, so esbuild
// splits them into chunks: the reader's bundle holds only what reading
// needs, the account screens come with their own chunk, and the studio
// (issue 16) will add its routes here the same way without growing the
// reader's bundle.

/**
 * @typedef {object} Route
 * @property {string} pattern   "/textbooks/:id/pages/:page"
 * @property {string} element   custom element to show
 * @property {() => Promise<unknown>} [load]  import() of its module
 * @property {string} [title]   i18n key of the document title
 */

/** Compiles "/a/:x/b" into a matcher returning {x} or null. */
export function compile(pattern) {
  const names = [];
  const re = new RegExp('^' + pattern.replace(/\/:(\w+)/g, (_, n) => {
    names.push(n);
    return '/([^/]+)';
  }).replace(/\//g, '\\/') + '\\/?$');
  return (path) => {
    const m = re.exec(path);
    if (!m) return null;
    const params = {};
    names.forEach((n, i) => {
      try {
        params[n] = decodeURIComponent(m[i + 1]);
      } catch {
        params[n] = m[i + 1];
      }
    });
    return params;
  };
}

/** The path of a location hash: "#/a/b?x" -> "/a/b". */
export function hashPath(hash) {
  let h = (hash || '').replace(/^#/, '');
  const q = h.indexOf('?');
  if (q >= 0) h = h.slice(0, q);
  return h.startsWith('/') ? h : '/' + h;
}

export function href(path) {
  return '#' + path;
}

export class Router {
  /** @param {Route[]} routes  first match wins; the last should be "*". */
  constructor(routes) {
    this.routes = routes.map((r) => ({ ...r, match: r.pattern === '*' ? () => ({}) : compile(r.pattern) }));
  }

  resolve(path) {
    for (const r of this.routes) {
      const params = r.match(path);
      if (params) return { route: r, params };
    }
    return null;
  }
}
