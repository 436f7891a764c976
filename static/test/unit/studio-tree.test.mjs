// Page moves (src/studio/tree-moves.js): every planned sequence of PATCHes
// keeps positions unique among siblings after each step, and ends in the
// wanted order; random trees and random moves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planMove, applyMoves, keyboardTarget, isWithin, endPosition } from '../../src/studio/tree-moves.js';

function uniqueAfterEachStep(pages, ops) {
  let cur = pages.map((p) => ({ ...p }));
  for (const op of ops) {
    cur = applyMoves(cur, [op]);
    const seen = new Set();
    for (const p of cur) {
      const k = `${p.parent || ''}:${p.position}`;
      assert.ok(!seen.has(k), `duplicate position ${k} after ${JSON.stringify(op)}`);
      seen.add(k);
    }
  }
  return cur;
}

const order = (pages, parent) => pages.filter((p) => (p.parent || null) === parent).sort((a, b) => a.position - b.position).map((p) => p.id);

test('one PATCH where there is room, a shift where there is none', () => {
  const pages = [{ id: 'a', parent: null, position: 0 }, { id: 'b', parent: null, position: 1 }, { id: 'c', parent: null, position: 2 }];
  const ops = planMove(pages, 'c', null, 0);
  const after = uniqueAfterEachStep(pages, ops);
  assert.deepEqual(order(after, null), ['c', 'a', 'b']);
  const gap = [{ id: 'a', parent: null, position: 5 }, { id: 'b', parent: null, position: 10 }];
  assert.equal(planMove(gap, 'b', null, 0).length, 1);
  assert.deepEqual(planMove(pages, 'a', null, 0), []);
  assert.equal(planMove(pages, 'a', 'a', 0), null);
});

test('keyboard targets: up, down, in, out', () => {
  const pages = [{ id: 'a', parent: null, position: 0 }, { id: 'b', parent: null, position: 1 }, { id: 'b1', parent: 'b', position: 0 }];
  assert.deepEqual(keyboardTarget(pages, 'b', 'up'), { parent: null, index: 0 });
  assert.equal(keyboardTarget(pages, 'a', 'up'), null);
  assert.deepEqual(keyboardTarget(pages, 'b', 'in'), { parent: 'a', index: 0 });
  assert.deepEqual(keyboardTarget(pages, 'b1', 'out'), { parent: null, index: 2 });
  assert.ok(isWithin(pages, 'b1', 'b'));
  assert.equal(endPosition(pages, 'b'), 1);
});

test('random moves keep positions unique after every PATCH (2000 moves)', () => {
  let seed = 7;
  const r = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let round = 0; round < 200; round++) {
    let pages = [];
    const n = 2 + Math.floor(r() * 12);
    for (let i = 0; i < n; i++) {
      const parent = i && r() < 0.5 ? pages[Math.floor(r() * pages.length)].id : null;
      pages.push({ id: `p${i}`, parent, position: endPosition(pages, parent) + Math.floor(r() * 3) });
    }
    for (let m = 0; m < 10; m++) {
      const id = pages[Math.floor(r() * n)].id;
      const parent = r() < 0.3 ? null : pages[Math.floor(r() * n)].id;
      const index = Math.floor(r() * 5);
      const ops = planMove(pages, id, parent, index);
      if (ops === null) {
        assert.ok(parent && isWithin(pages, parent, id));
        continue;
      }
      const before = order(pages, parent).filter((x) => x !== id);
      pages = uniqueAfterEachStep(pages, ops);
      const want = [...before];
      want.splice(Math.min(index, want.length), 0, id);
      assert.deepEqual(order(pages, parent), want);
    }
  }
});
