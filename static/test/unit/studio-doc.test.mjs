// The editor's document mapping (src/studio/doc.js): every stored content
// tree comes back unchanged after content -> ProseMirror -> content, key
// order included: the demo pages (read from the C source that loads them),
// hand-picked awkward trees, and random trees (property-based, seeded, so a
// failure names the seed that reproduces it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { toDoc, toContent, jsonDepth, contentLimits } from '../../src/studio/doc.js';
import { schema } from '../../src/studio/schema.js';

const el = (tag, attributes, children = []) => ({ type: 'element', tag, attributes, children });
const txt = (text) => ({ type: 'text', text });
const comp = (tag, attributes, children = []) => ({ type: 'component', tag, attributes, children });
const root = (...children) => ({ type: 'root', children });

function roundTrip(tree, label = '') {
  const doc = toDoc(tree);
  doc.check();   // a valid document of the schema
  const back = toContent(doc);
  assert.equal(JSON.stringify(back), JSON.stringify(tree), `round trip changed the tree ${label}`);
  return doc;
}

/** The demo pages, as src/cli/load_demo_data.c stores them. */
function demoPages() {
  const c = readFileSync(new URL('../../../src/cli/load_demo_data.c', import.meta.url), 'utf8');
  const pages = {};
  for (const m of c.matchAll(/static const char (page_\w+)\[\] =((?:\s*"(?:[^"\\]|\\.)*")+);/g)) {
    const literal = [...m[2].matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((x) => x[1]).join('');
    pages[m[1]] = JSON.parse(JSON.parse(`"${literal}"`));
  }
  return pages;
}

test('every demo page survives the round trip', () => {
  const pages = demoPages();
  assert.ok(Object.keys(pages).length >= 4, 'the demo pages were found in load_demo_data.c');
  for (const [name, tree] of Object.entries(pages)) roundTrip(tree, name);
});

test('the demo pages map to editable nodes, not to kept-verbatim ones', () => {
  const doc = toDoc(demoPages().page_intro);
  const types = [];
  doc.descendants((n) => { types.push(n.type.name); });
  assert.deepEqual(types.filter((t) => t.startsWith('raw')), []);
  assert.equal(doc.child(0).type.name, 'heading');
  assert.equal(doc.child(1).type.name, 'paragraph');
  assert.ok(doc.child(1).child(1).marks.some((m) => m.type.name === 'em'));
  assert.equal(doc.child(2).type.name, 'component');
  assert.equal(doc.child(2).attrs.tag, 'ob-info-box');
});

test('awkward trees survive the round trip', () => {
  const cases = {
    newPage: {},
    emptyRoot: root(),
    rootWithoutChildren: { type: 'root' },
    textAtRoot: root(txt('loose '), el('em', {}, [txt('text')]), el('p', {}, [txt('then a paragraph')])),
    adjacentText: root(el('p', {}, [txt('a'), txt('b'), txt('c')])),
    emptyText: root(el('p', {}, [txt(''), txt('x')])),
    twoEms: root(el('p', {}, [el('em', {}, [txt('a')]), el('em', {}, [txt('b')])])),
    nestedSame: root(el('p', {}, [el('em', {}, [el('em', {}, [txt('deep')])])])),
    nestingOrder: root(el('p', {}, [el('strong', {}, [el('em', {}, [txt('x')])]), el('em', {}, [el('strong', {}, [txt('y')])])])),
    emptyInline: root(el('p', {}, [el('em', {}, []), el('a', { href: '/x' })])),
    linkWithBlock: root(el('p', {}, [el('a', { href: '#' }, [el('div', {}, [txt('block in link')])])])),
    noAttributes: root({ type: 'element', tag: 'p', children: [txt('x')] }),
    noChildren: root({ type: 'element', tag: 'p', attributes: {} }, { type: 'element', tag: 'hr' }),
    keyOrder: root({ children: [{ text: 'x', type: 'text' }], tag: 'p', type: 'element', attributes: { b: '1', a: '2' } }),
    extraKeys: root({ type: 'element', tag: 'p', attributes: {}, children: [{ type: 'text', text: 'x', id: 7 }], data: { x: [1] } }),
    listText: root(el('ul', {}, [el('li', {}, [txt('item'), el('ul', {}, [el('li', {}, [txt('sub')])])]), el('li', {}, [])])),
    listNoLi: root(el('ul', {}, [txt(' '), el('li', {}, [txt('x')])])),
    emptyList: root(el('ol', { start: '3' }, [])),
    pre: root(el('pre', {}, [el('code', { class: 'language-c' }, [txt('int x;\n')])]), el('pre', {}, [txt('plain')]), el('pre', {}, []), el('pre', {}, [el('code', {}, [])])),
    preOdd: root(el('pre', {}, [el('code', {}, [txt('a'), txt('b')])]), el('pre', {}, [el('b', {}, [txt('x')])])),
    table: root(el('table', {}, [el('thead', {}, [el('tr', {}, [el('th', {}, [txt('A')]), el('th', { colspan: '2' }, [txt('B')])])]),
      el('tbody', {}, [el('tr', {}, [el('td', {}, [txt('1')]), el('td', {}, [])]), el('tr', {}, [el('td', {}, [el('p', {}, [txt('p')])])])]),
      el('tbody', {}, [el('tr', {}, [el('td', {}, [txt('2')])])]), el('tr', {}, [el('td', {}, [txt('bare row')])])])),
    tableOdd: root(el('table', {}, [el('caption', {}, [txt('c')]), el('tr', {}, [el('td', {}, [])])]), el('table', {}, [])),
    components: root(comp('ob-quiz', { shuffle: 'true' }, [comp('ob-quiz-question', { answer: 'b' }, [txt('Q?')])]), comp('ob-empty', {}), comp('ob-x', {}, [])),
    componentInP: root(el('p', {}, [txt('a '), comp('ob-term', {}, [txt('term')]), txt(' b')])),
    unknownTags: root(el('section', { class: 'x' }, [el('script', {}, [txt('alert(1)')]), el('P', {}, [txt('upper')])]), el('blink', {}, [])),
    invalidNodes: root(null, 5, 'str', [], { type: 'weird' }, { type: 'element' }, { type: 'element', tag: 'p', children: 'x' }, { type: 'element', tag: 'p', attributes: [] }),
    images: root(el('p', {}, [el('img', { src: '/m/a.png', alt: 'A' }), el('br', {}), txt('after')]), el('img', { src: 'x' }, [txt('child')])),
    blockquote: root(el('blockquote', {}, [el('p', {}, [txt('q')])]), el('blockquote', {}, [txt('bare quote')]), el('blockquote', {}, [])),
    notATree: [1, 2, 3],
    wrongRoot: { type: 'element', tag: 'p', children: [] },
    rootBadChildren: { type: 'root', children: {} },
    numbersInAttributes: root(el('td', { colspan: 2, open: true, data: null }, [txt('x')])),
  };
  for (const [name, tree] of Object.entries(cases)) roundTrip(tree, name);
});

test('edits come back as the usual tree', () => {
  // A new paragraph typed into an empty page.
  const doc = toDoc({});
  const p = schema.nodes.paragraph.create(null, schema.text('Hello ', []).mark([]));
  const edited = doc.type.create(doc.attrs, [p, schema.nodes.paragraph.create(null, schema.text('world', [schema.marks.em.create()]))]);
  assert.deepEqual(toContent(edited), root(el('p', {}, [txt('Hello ')]), el('p', {}, [el('em', {}, [txt('world')])])));
  // An untouched new page stays {}.
  assert.deepEqual(toContent(doc), {});
});

test('new marks nest inside the stored ones', () => {
  const doc = toDoc(root(el('p', {}, [el('em', {}, [txt('ab')])])));
  const para = doc.child(0);
  const em = para.child(0).marks[0];
  const a = schema.text('a', [em, schema.marks.strong.create()]);
  const b = schema.text('b', [em]);
  const edited = doc.type.create(doc.attrs, para.type.create(para.attrs, [a, b]));
  assert.deepEqual(toContent(edited), root(el('p', {}, [el('em', {}, [el('strong', {}, [txt('a')]), txt('b')])])));
});

test('limits: depth as the server counts it, bytes as UTF-8', () => {
  assert.equal(jsonDepth({}), 1);
  assert.equal(jsonDepth(root(el('p', {}, [txt('x')]))), 5);
  let deep = txt('x');
  for (let i = 0; i < 30; i++) deep = el('div', {}, [deep]);
  const l = contentLimits(root(deep));
  assert.equal(l.tooDeep, true);
  assert.equal(contentLimits(root(el('p', {}, [txt('ä')]))).bytes, JSON.stringify(root(el('p', {}, [txt('ä')]))).length + 1);
  assert.equal(contentLimits(root(el('p', {}, [txt('x'.repeat(1024 * 1024))]))).tooBig, true);
});

// ---- random trees

/** A small seeded PRNG (mulberry32), so failures are reproducible. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TAGS = ['p', 'h1', 'h3', 'h6', 'em', 'strong', 'code', 'a', 'b', 'span', 'sub', 'ul', 'ol', 'li', 'pre',
  'blockquote', 'table', 'thead', 'tbody', 'tr', 'td', 'th', 'hr', 'br', 'img', 'div', 'section', 'figure', 'script',
  'X-UNKNOWN', 'caption'];
const TEXTS = ['', ' ', 'a', 'Hello, world', 'x\ny', '<b>not markup</b>', 'ümlaut ✓', '\u0000\u001f', '😀'];

function randomTree(r, depth = 0) {
  const pick = (xs) => xs[Math.floor(r() * xs.length)];
  const node = () => {
    const roll = r();
    if (roll < 0.3 || depth > 4) return { type: 'text', text: pick(TEXTS) };
    if (roll < 0.33) return pick([null, 3, 'x', [], { type: 'other' }, { type: 'element', tag: 5 }]);
    const isComp = roll < 0.45;
    const n = { type: isComp ? 'component' : 'element', tag: isComp ? pick(['ob-quiz', 'ob-info-box', 'ob-x-y']) : pick(TAGS) };
    if (r() < 0.9) n.attributes = r() < 0.5 ? {} : { class: pick(['a', 'b']), [pick(['href', 'src', 'title', 'colspan'])]: pick(['/x', 'javascript:x', '2', 1, true]) };
    if (r() < 0.92) n.children = randomChildren(r, depth + 1, pick);
    if (r() < 0.05) n.extra = pick([1, 'x', { y: [1] }]);
    if (r() < 0.05) return Object.fromEntries(Object.entries(n).reverse());
    return n;
  };
  function randomChildren(rr, d, pk) {
    const count = Math.floor(rr() * (d > 4 ? 2 : 5));
    const out = [];
    for (let i = 0; i < count; i++) out.push(randomTree(rr, d));
    // Structures the mapping has special cases for.
    if (rr() < 0.1) out.push(el('table', {}, [el(pk(['thead', 'tbody']), {}, [el('tr', {}, [el(pk(['td', 'th']), {}, out.splice(0, 1))])]), el('tr', {}, [el('td', {}, [])])]));
    if (rr() < 0.1) out.push(el(pk(['ul', 'ol']), {}, [el('li', {}, out.splice(0, 2))]));
    if (rr() < 0.1) out.push(el('pre', {}, [el('code', {}, [txt(pk(['x', 'a\nb']))])]));
    return out;
  }
  return node();
}

test('random trees survive the round trip (property-based, 3000 trees)', () => {
  const base = Number(process.env.STUDIO_SEED || 20261208);
  for (let i = 0; i < 3000; i++) {
    const seed = base + i;
    const r = rng(seed);
    const tree = { type: 'root', children: [] };
    const n = 1 + Math.floor(r() * 6);
    for (let k = 0; k < n; k++) tree.children.push(randomTree(r, 0));
    try {
      roundTrip(tree);
    } catch (e) {
      throw new Error(`seed ${seed} (STUDIO_SEED=${seed} reproduces it): ${e.message.slice(0, 300)}\n${JSON.stringify(tree).slice(0, 3000)}`);
    }
  }
});
