// The content renderer: what it builds, and that hostile content builds
// nothing that can run.  (The browser half of these checks, "no script
// ran", is in test/e2e/reader.e2e.mjs.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderContent, safeUrl, componentAttributeAllowed, isCustomElementName } from '../../src/render.js';
import { fakeDocument, serialize, elements } from './fakedom.mjs';

const el = (tag, attributes, children = []) => ({ type: 'element', tag, attributes, children });
const txt = (text) => ({ type: 'text', text });
const comp = (tag, attributes, children = []) => ({ type: 'component', tag, attributes, children });
const root = (...children) => ({ type: 'root', children });

function render(tree, opts = {}) {
  const doc = fakeDocument();
  const r = renderContent(tree, { doc, t: (k, p) => `[${k}:${p?.tag}]`, ...opts });
  return { html: serialize(r.fragment), r, doc };
}

test('renders the demo page tree', () => {
  const { html } = render(root(el('h1', {}, [txt('What is HTML?')]),
    el('p', {}, [txt('HTML has '), el('em', {}, [txt('paragraphs')]), txt('.')])));
  assert.equal(html, '<h1>What is HTML?</h1><p>HTML has <em>paragraphs</em>.</p>');
});

test('text is text: markup in strings is never parsed', () => {
  const { html, doc } = render(root(el('p', {}, [txt('<img src=x onerror=alert(1)><script>alert(1)</script>')])));
  assert.deepEqual(doc.created, ['p']);
  assert.equal(html, '<p>&lt;img src=x onerror=alert(1)>&lt;script>alert(1)&lt;/script></p>');
});

test('script, style, iframe, svg, object, form and friends vanish with their content', () => {
  for (const tag of ['script', 'SCRIPT', 'style', 'iframe', 'svg', 'math', 'object', 'embed', 'form',
    'input', 'button', 'template', 'noscript', 'link', 'meta', 'base', 'frameset', 'audio', 'video']) {
    const { html, doc } = render(root(el(tag, { src: 'x', onload: 'alert(1)' }, [txt('alert(1)'), el('p', {}, [txt('inner')])])));
    assert.equal(html, '', tag);
    assert.deepEqual(doc.created, [], tag);
  }
});

test('SVG with a script inside leaves nothing', () => {
  const { html } = render(root(el('svg', { onload: 'alert(1)' }, [el('script', {}, [txt('alert(1)')])])));
  assert.equal(html, '');
});

test('unknown elements are unwrapped, their text kept', () => {
  const { html } = render(root(el('marquee', { onclick: 'x' }, [txt('hello '), el('b', {}, [txt('world')])])));
  assert.equal(html, 'hello <b>world</b>');
});

test('event handlers, style and unknown attributes are dropped', () => {
  const { html } = render(root(el('p', { onclick: 'alert(1)', ONMOUSEOVER: 'x', style: 'background:url(javascript:x)',
    id: 'clobber', class: 'note', title: 't', 'data-x': '1', srcdoc: '<script>' }, [txt('x')])));
  assert.equal(html, '<p class="note" title="t">x</p>');
});

test('URLs: relative, http(s) and mailto pass; javascript:, data:, vbscript: never', () => {
  const good = ['/app/#/x', 'page.html', '#anchor', 'https://example.org/', 'http://example.org/x', 'mailto:a@b.org', '//example.org/x'];
  const bad = ['javascript:alert(1)', 'JavaScript:alert(1)', ' javascript:alert(1)', 'java\tscript:alert(1)',
    'java\nscript:x', '\u0001javascript:x', 'data:text/html,<script>alert(1)</script>', 'vbscript:x', 'file:///etc/passwd', ''];
  for (const u of good) assert.ok(safeUrl(u), u);
  for (const u of bad) assert.ok(!safeUrl(u), JSON.stringify(u));
  assert.ok(!safeUrl('mailto:a@b.org', { mailto: false }));
  const { html } = render(root(el('a', { href: 'javascript:alert(1)' }, [txt('x')]), el('img', { src: 'data:image/svg+xml,<svg onload=alert(1)>' }),
    el('a', { href: 'https://example.org/' }, [txt('ext')]), el('a', { href: '/app/#/x' }, [txt('int')])));
  assert.equal(html, '<a>x</a><img alt="" loading="lazy" referrerpolicy="no-referrer"></img>' +
    '<a href="https://example.org/" target="_blank" rel="noopener noreferrer">ext</a><a href="/app/#/x">int</a>');
});

test('attribute values must be strings, numbers or booleans', () => {
  const { html } = render(root(el('td', { colspan: 2, rowspan: { toString: 'x' }, title: ['a'] }, [])));
  assert.equal(html, '<td colspan="2"></td>');
});

test('unknown components become a visible placeholder with their text', () => {
  const { html, r } = render(root(comp('ob-info-box', { variant: 'tip' }, [txt('Every page has an editor.')])));
  assert.equal(html, '<div class="ob-placeholder" role="note" data-component="ob-info-box">' +
    '<p class="ob-placeholder-label">[content.unknownComponent:ob-info-box]</p>Every page has an editor.</div>');
  assert.deepEqual([...r.unknown], ['ob-info-box']);
});

test('a component with an invalid tag name is a placeholder, never an element of that name', () => {
  for (const tag of ['script', 'img', 'font-face', 'x', 'Ob-Quiz<', 'a-b c']) {
    const defs = new Map([[tag, { attributes: {} }]]);
    const { doc } = render(root(comp(tag, {}, [])), { definitions: defs });
    assert.deepEqual(doc.created, ['div', 'p'], tag);
  }
});

test('defined components become custom elements with checked attributes', () => {
  const def = {
    'tag-name': 'ob-quiz',
    attributes: {
      shuffle: { name: 'shuffle', regex: '', enum: ['true', 'false'] },
      height: { name: 'height', regex: '[0-9]+(em|px)', enum: [] },
      onclick: { name: 'onclick', regex: '', enum: [] },
    },
  };
  const seen = [];
  const { html, r } = render(root(comp('ob-quiz', { shuffle: 'true', height: '12em', onclick: 'alert(1)', other: 'x' },
    [comp('ob-quiz', { shuffle: 'maybe', height: '12em; x' }, [txt('q')])])),
  { definitions: new Map([['ob-quiz', def]]), onComponent: (t) => seen.push(t) });
  assert.equal(html, '<ob-quiz shuffle="true" height="12em"><ob-quiz>q</ob-quiz></ob-quiz>');
  assert.deepEqual([...r.components], ['ob-quiz']);
  assert.deepEqual(seen, ['ob-quiz', 'ob-quiz']);
});

test('component attribute rules', () => {
  const def = { attributes: { a: { regex: 'x+', enum: [] }, b: { regex: '(', enum: [] }, c: { regex: '', enum: ['1'] } } };
  assert.ok(componentAttributeAllowed(def, 'a', 'xxx'));
  assert.ok(!componentAttributeAllowed(def, 'a', 'xxy'), 'the regex must match the whole value');
  assert.ok(!componentAttributeAllowed(def, 'b', '('), 'a broken regex allows nothing');
  assert.ok(componentAttributeAllowed(def, 'c', '1'));
  assert.ok(!componentAttributeAllowed(def, 'c', '2'));
  assert.ok(!componentAttributeAllowed(def, 'd', ''));
  assert.ok(!componentAttributeAllowed(null, 'a', 'x'));
  assert.ok(isCustomElementName('ob-quiz-question'));
  assert.ok(!isCustomElementName('annotation-xml'));
});

test('headings move down under the page title', () => {
  const { html } = render(root(el('h1', {}, [txt('a')]), el('h6', {}, [txt('b')])), { headingShift: 1 });
  assert.equal(html, '<h2>a</h2><h6>b</h6>');
});

test('malformed trees render what is valid and never throw', () => {
  const cases = [null, 42, 'x', [], {}, { type: 'root' }, { type: 'root', children: 'x' },
    root(null, 1, 'x', [], { type: 'element' }, { type: 'element', tag: 42 }, { type: 'text', text: 5 },
      { type: 'weird', children: [txt('hidden')] }, txt('ok'))];
  for (const c of cases) render(c);
  assert.equal(render(cases.at(-1)).html, 'ok');
});

test('depth is limited', () => {
  let tree = txt('deep');
  for (let i = 0; i < 200; i++) tree = el('span', {}, [tree]);
  const { html } = render(root(tree));
  assert.ok(!html.includes('deep'));
  assert.ok(elements({ childNodes: [render(root(tree)).r.fragment] }).length <= 64);
});
