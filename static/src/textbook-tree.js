// textbook-tree.js - a textbook's pages as a tree and in reading order.
// Pure functions (unit-tested): no DOM, no API.

/**
 * @param {{id:string, parent:string|null, position:number, name:string}[]} pages
 * @returns {{roots: object[], byId: Map<string, object>, order: object[]}}
 *   nodes are {page, children, parent (node|null), depth}; order is
 *   depth-first (the reading order: a chapter, then its sections).
 */
export function buildTree(pages) {
  const byId = new Map();
  for (const p of pages) byId.set(p.id, { page: p, children: [], parent: null, depth: 0 });
  const roots = [];
  for (const n of byId.values()) {
    const parent = n.page.parent && byId.get(n.page.parent);
    if (parent) {
      n.parent = parent;
      parent.children.push(n);
    } else {
      roots.push(n);   // a root, or a page whose parent we cannot see
    }
  }
  const cmp = (a, b) => (a.page.position - b.page.position) ||
    String(a.page.name).localeCompare(String(b.page.name)) || String(a.page.id).localeCompare(String(b.page.id));
  const order = [];
  const seen = new Set();
  const walk = (nodes, depth) => {
    nodes.sort(cmp);
    for (const n of nodes) {
      if (seen.has(n)) continue;   // (a cycle cannot be stored, but be safe)
      seen.add(n);
      n.depth = depth;
      order.push(n);
      walk(n.children, depth + 1);
    }
  };
  walk(roots, 0);
  return { roots, byId, order };
}

/** The previous and next page in reading order. */
export function neighbours(tree, id) {
  const i = tree.order.findIndex((n) => n.page.id === id);
  if (i < 0) return { prev: null, next: null };
  return {
    prev: i > 0 ? tree.order[i - 1].page : null,
    next: i + 1 < tree.order.length ? tree.order[i + 1].page : null,
  };
}

/** The ancestors of a page, outermost first (for breadcrumbs). */
export function ancestors(tree, id) {
  const out = [];
  let n = tree.byId.get(id);
  n = n ? n.parent : null;
  while (n && out.length < 64) {
    out.unshift(n.page);
    n = n.parent;
  }
  return out;
}

/** Pages from start to end in reading order (a course's page range);
 * empty when either is unknown or end comes before start. */
export function pageRange(tree, startId, endId) {
  const s = tree.order.findIndex((n) => n.page.id === startId);
  const e = tree.order.findIndex((n) => n.page.id === endId);
  if (s < 0 || e < 0 || e < s) return [];
  return tree.order.slice(s, e + 1).map((n) => n.page);
}
