// tree-moves.js - moving a page in its textbook's tree as a list of
// PATCHes that never break "positions are unique among siblings" (the
// server checks each one): where there is a free position between the new
// neighbours, one PATCH; otherwise the page first goes to a free position
// above all, the later siblings move up by one from the last, and the page
// takes its place.  Pure (unit-tested).

function siblingsOf(pages, parent, exceptId) {
  return pages.filter((p) => (p.parent || null) === (parent || null) && p.id !== exceptId)
    .sort((a, b) => a.position - b.position);
}

/** True when `id` is `ancestor` or below it. */
export function isWithin(pages, id, ancestor) {
  const byId = new Map(pages.map((p) => [p.id, p]));
  let n = byId.get(id);
  for (let i = 0; n && i < 10000; i++) {
    if (n.id === ancestor) return true;
    n = n.parent ? byId.get(n.parent) : null;
  }
  return false;
}

/**
 * @param {{id, parent, position}[]} pages  the textbook's pages
 * @param {string} id      the page to move
 * @param {string|null} parent  its new parent
 * @param {number} index   its index among the new siblings (without itself)
 * @returns {{id: string, body: {parent?: string|null, position: number}}[]}
 *   PATCHes in order; empty when nothing changes; null when the move is
 *   impossible (into its own subtree).
 */
export function planMove(pages, id, parent, index) {
  const page = pages.find((p) => p.id === id);
  if (!page) return null;
  parent = parent || null;
  if (parent && isWithin(pages, parent, id)) return null;
  const sibs = siblingsOf(pages, parent, id);
  index = Math.max(0, Math.min(index, sibs.length));
  const prev = sibs[index - 1];
  const next = sibs[index];
  const sameParent = (page.parent || null) === parent;
  const withParent = (body) => (sameParent ? body : { parent, ...body });
  if (sameParent) {
    const cur = siblingsOf(pages, parent, null);
    const at = cur.findIndex((p) => p.id === id);
    if (at === index) return [];
  }
  const lo = prev ? prev.position : -1;
  const hi = next ? next.position : Infinity;
  if (hi - lo >= 2) {
    const position = hi === Infinity ? lo + 1 : Math.floor((lo + hi) / 2);
    return [{ id, body: withParent({ position }) }];
  }
  // No room: park the page above everything, shift the tail up by one
  // (the last first, so each new position is free), then place it.
  const all = siblingsOf(pages, parent, null);
  const top = all.reduce((m, p) => Math.max(m, p.position), 0);
  const ops = [{ id, body: withParent({ position: top + 2 }) }];
  const tail = sibs.slice(index);
  for (let i = tail.length - 1; i >= 0; i--) ops.push({ id: tail[i].id, body: { position: tail[i].position + 1 } });
  ops.push({ id, body: { position: next.position } });
  return ops;
}

/** Applies planned PATCH bodies to a local copy (for tests and for the
 * optimistic tree). */
export function applyMoves(pages, ops) {
  const out = pages.map((p) => ({ ...p }));
  for (const op of ops) Object.assign(out.find((p) => p.id === op.id), op.body);
  return out;
}

/** The next free position at the end of a parent's children. */
export function endPosition(pages, parent) {
  const sibs = siblingsOf(pages, parent, null);
  return sibs.length ? sibs[sibs.length - 1].position + 1 : 0;
}

/** Where keyboard moves go: {parent, index} or null.  dir: up, down, in
 * (under the previous sibling, last), out (after the parent). */
export function keyboardTarget(pages, id, dir) {
  const page = pages.find((p) => p.id === id);
  if (!page) return null;
  const parent = page.parent || null;
  const sibs = siblingsOf(pages, parent, null);
  const at = sibs.findIndex((p) => p.id === id);
  if (dir === 'up') return at > 0 ? { parent, index: at - 1 } : null;
  if (dir === 'down') return at < sibs.length - 1 ? { parent, index: at + 1 } : null;
  if (dir === 'in') {
    if (at <= 0) return null;
    const newParent = sibs[at - 1].id;
    return { parent: newParent, index: siblingsOf(pages, newParent, id).length };
  }
  if (dir === 'out') {
    if (!parent) return null;
    const p = pages.find((x) => x.id === parent);
    const grand = p ? p.parent || null : null;
    const gs = siblingsOf(pages, grand, id);
    return { parent: grand, index: gs.findIndex((x) => x.id === parent) + 1 };
  }
  return null;
}
