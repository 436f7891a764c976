// schema.js - the ProseMirror schema of the page editor.
//
// It is shaped so that every stored `content` tree (api-resources.md §3)
// maps into it and back unchanged (doc.js does the mapping; the unit tests
// prove the round trip on the demo pages and on random trees):
//
//  - the usual editable nodes (paragraph, heading, lists, code block, block
//    quote, table, rule, image, line break) and marks (emphasis, strong,
//    code, link), each keeping the stored node's `attributes` object and,
//    where it differs from the usual {type, tag, attributes, children}, its
//    `shape` (key order and unknown keys);
//  - `bare`: inline content that sits directly in its parent, without a
//    wrapper element (text at the root, text beside a nested list in <li>);
//  - `element` and the `inline` mark: any other element, tag kept;
//  - `component`: a library component (custom element) with its children;
//  - `raw` and `raw_inline`: anything the editor cannot represent (an empty
//    <em>, an empty text node, an unknown node type), kept verbatim and
//    shown as the reader would see it;
//  - the `textmeta` mark: a text node's own shape, and the boundary between
//    two adjacent text nodes (ProseMirror would join them).
//
// The DOM the editor shows is never built from stored attributes except a
// checked link target and image source: hostile content stays inert while
// it is edited, as it does for readers.
import { Schema } from 'prosemirror-model';
import { safeUrl } from '../render.js';

const kept = { attributes: { default: null }, shape: { default: null } };

/** Tags rendered as themselves in the editor for the generic `inline`
 * mark; others show as <span>. */
const SAFE_INLINE = new Set(['b', 'i', 'u', 's', 'sub', 'sup', 'small', 'mark', 'kbd', 'samp', 'var',
  'abbr', 'dfn', 'time', 'q', 'cite', 'del', 'ins', 'span']);

function attr(node, name) {
  const a = node.attrs.attributes;
  return a && typeof a === 'object' && typeof a[name] === 'string' ? a[name] : null;
}

function cellSpan(node, name) {
  const v = Number(attr(node, name));
  return Number.isInteger(v) && v > 1 && v < 1000 ? String(v) : null;
}

const markSpec = (toDOM, extra = {}) => ({
  attrs: { ...kept, key: { default: null } },
  excludes: '',
  toDOM,
  ...extra,
});

export const schema = new Schema({
  nodes: {
    doc: { content: 'block+', attrs: { source: { default: 'root' }, shape: { default: null } } },
    paragraph: {
      group: 'block', content: 'inline*', attrs: { ...kept, phantom: { default: false } },
      parseDOM: [{ tag: 'p' }],
      toDOM: () => ['p', 0],
    },
    bare: {
      group: 'block', content: 'inline*',
      toDOM: () => ['div', { class: 'pm-bare' }, 0],
    },
    heading: {
      group: 'block', content: 'inline*', defining: true, attrs: { ...kept, level: { default: 2 } },
      parseDOM: [1, 2, 3, 4, 5, 6].map((level) => ({ tag: `h${level}`, attrs: { level } })),
      toDOM: (n) => [`h${n.attrs.level}`, 0],
    },
    code_block: {
      group: 'block', content: 'text*', marks: '', code: true, defining: true,
      // inner: the <code> element inside <pre> ({attributes, shape}) or
      // null; text: the shape of the stored text node.
      attrs: { ...kept, inner: { default: { attributes: {}, shape: null } }, text: { default: null } },
      parseDOM: [{ tag: 'pre', preserveWhitespace: 'full' }],
      toDOM: () => ['pre', ['code', 0]],
    },
    blockquote: {
      group: 'block', content: 'block+', defining: true, attrs: kept,
      parseDOM: [{ tag: 'blockquote' }],
      toDOM: () => ['blockquote', 0],
    },
    bullet_list: {
      group: 'block', content: 'list_item+', attrs: kept,
      parseDOM: [{ tag: 'ul' }],
      toDOM: () => ['ul', 0],
    },
    ordered_list: {
      group: 'block', content: 'list_item+', attrs: kept,
      parseDOM: [{ tag: 'ol' }],
      toDOM: () => ['ol', 0],
    },
    list_item: {
      content: 'block+', defining: true, attrs: kept,
      parseDOM: [{ tag: 'li' }],
      toDOM: () => ['li', 0],
    },
    table: {
      group: 'block', content: 'table_row+', isolating: true, attrs: kept,
      parseDOM: [{ tag: 'table' }],
      toDOM: () => ['table', ['tbody', 0]],
    },
    table_row: {
      // section: the <thead>/<tbody>/<tfoot> around the row
      // ({tag, attributes, shape, key}) or null when the row sits in <table>.
      content: 'table_cell+', attrs: { ...kept, section: { default: null } },
      parseDOM: [{ tag: 'tr' }],
      toDOM: () => ['tr', 0],
    },
    table_cell: {
      content: 'block+', isolating: true, attrs: { ...kept, tag: { default: 'td' } },
      parseDOM: [{ tag: 'td' }, { tag: 'th', attrs: { tag: 'th' } }],
      toDOM: (n) => [n.attrs.tag === 'th' ? 'th' : 'td',
        { colspan: cellSpan(n, 'colspan'), rowspan: cellSpan(n, 'rowspan') }, 0],
    },
    horizontal_rule: {
      group: 'block', attrs: kept,
      parseDOM: [{ tag: 'hr' }],
      toDOM: () => ['hr'],
    },
    element: {
      group: 'block', content: 'block+', attrs: { ...kept, tag: { default: 'div' } },
      toDOM: (n) => ['div', { class: 'pm-element', 'data-tag': String(n.attrs.tag).slice(0, 40) }, 0],
    },
    component: {
      group: 'block', content: 'block+', isolating: true, attrs: { ...kept, tag: { default: 'x-component' } },
      toDOM: (n) => ['div', { class: 'pm-component', 'data-tag': n.attrs.tag }, 0],
    },
    raw: {
      group: 'block', atom: true, selectable: true, attrs: { json: { default: null } },
      toDOM: () => ['div', { class: 'pm-raw' }],
    },
    text: { group: 'inline' },
    hard_break: {
      inline: true, group: 'inline', selectable: false, attrs: kept,
      parseDOM: [{ tag: 'br' }],
      toDOM: () => ['br'],
    },
    image: {
      inline: true, group: 'inline', draggable: true, attrs: kept,
      parseDOM: [{
        tag: 'img[src]',
        getAttrs: (d) => ({ attributes: { src: d.getAttribute('src'), alt: d.getAttribute('alt') || '' } }),
      }],
      toDOM: (n) => {
        const src = attr(n, 'src');
        return ['img', { src: src && safeUrl(src, { mailto: false }) ? src : '', alt: attr(n, 'alt') || '' }];
      },
    },
    raw_inline: {
      inline: true, group: 'inline', atom: true, attrs: { json: { default: null } },
      toDOM: () => ['span', { class: 'pm-raw-inline' }],
    },
  },
  marks: {
    em: markSpec(() => ['em', 0], { parseDOM: [{ tag: 'em' }] }),
    strong: markSpec(() => ['strong', 0], { parseDOM: [{ tag: 'strong' }] }),
    code: markSpec(() => ['code', 0], { parseDOM: [{ tag: 'code' }] }),
    link: markSpec((m) => {
      const href = attr(m, 'href');
      return ['a', { href: href && safeUrl(href) ? href : null, title: attr(m, 'title') }, 0];
    }, {
      inclusive: false,
      parseDOM: [{ tag: 'a[href]', getAttrs: (d) => ({ attributes: { href: d.getAttribute('href') } }) }],
    }),
    inline: {
      attrs: { ...kept, key: { default: null }, tag: { default: 'span' } },
      excludes: '',
      toDOM: (m) => [SAFE_INLINE.has(m.attrs.tag) ? m.attrs.tag : 'span', { class: 'pm-inline', 'data-tag': String(m.attrs.tag).slice(0, 40) }, 0],
    },
    textmeta: {
      attrs: { id: { default: null }, shape: { default: null } },
      toDOM: () => ['span', 0],
    },
  },
});

/** Mark types that stand for elements (textmeta does not). */
export const ELEMENT_MARKS = ['em', 'strong', 'code', 'link', 'inline'];
/** The tag of each specific mark type. */
export const MARK_TAG = { em: 'em', strong: 'strong', code: 'code', link: 'a' };
