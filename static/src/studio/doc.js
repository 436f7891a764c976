// doc.js - a page's `content` tree <-> the editor's ProseMirror document,
// both ways, losslessly: toContent(toDoc(tree)) is deep-equal to tree, key
// order included, for every tree (the unit tests check the demo pages and
// random trees).  Pure: no DOM.
//
// The stored tree (api-resources.md §3, the reader's render.js):
//   {"type":"root","children":[…]}        (a new page holds {})
//   {"type":"element","tag":"p","attributes":{…},"children":[…]}
//   {"type":"component","tag":"ob-quiz","attributes":{…},"children":[…]}
//   {"type":"text","text":"…"}
//
// Children of a container are split into runs: consecutive inline nodes
// (text, inline elements, <br>, <img>) become one textblock, `bare` when
// the container has no wrapper for them; block elements and components
// become block nodes.  Inline elements become marks; each stored element
// gets its own mark (its `key` is its pre-order number in the page), so two
// adjacent <em> stay two, and the nesting order is the key order.
// Anything that does not fit is kept verbatim in a `raw` node.
import { Fragment, Mark } from 'prosemirror-model';
import { schema, ELEMENT_MARKS, MARK_TAG } from './schema.js';

/** Tags that become marks (inline elements that wrap text). */
export const INLINE_TAGS = new Set(['em', 'strong', 'code', 'a', 'b', 'i', 'u', 's', 'sub', 'sup',
  'small', 'mark', 'kbd', 'samp', 'var', 'abbr', 'dfn', 'time', 'q', 'cite', 'del', 'ins', 'span']);
const INLINE_ATOMS = new Set(['br', 'img']);
const HEADING = /^h([1-6])$/;

const hasOwn = (o, k) => Object.prototype.hasOwnProperty.call(o, k);
const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

const CANON = {
  element: ['type', 'tag', 'attributes', 'children'],
  text: ['type', 'text'],
  root: ['type', 'children'],
};

/** null when node's keys are exactly the usual ones in the usual order,
 * else {keys, extra}: what toContent needs to give the node back as it was. */
function shapeOf(node, canon) {
  const keys = Object.keys(node);
  if (keys.length === canon.length && keys.every((k, i) => k === canon[i])) return null;
  const extra = {};
  for (const k of keys) if (!canon.includes(k)) extra[k] = node[k];
  return { keys, extra };
}

/** Rebuilds a stored node: std holds the standard keys (undefined: absent). */
function assemble(std, shape) {
  const out = {};
  if (shape) {
    for (const k of shape.keys) {
      if (hasOwn(std, k)) {
        if (std[k] !== undefined) out[k] = std[k];
      } else if (hasOwn(shape.extra, k)) {
        out[k] = shape.extra[k];
      }
    }
  }
  for (const [k, v] of Object.entries(std)) if (!hasOwn(out, k) && v !== undefined) out[k] = v;
  return out;
}

/** An element or component node the editor can take apart. */
function wellFormed(n) {
  return isObject(n) && (n.type === 'element' || n.type === 'component') && typeof n.tag === 'string' &&
    (!hasOwn(n, 'attributes') || isObject(n.attributes)) &&
    (!hasOwn(n, 'children') || Array.isArray(n.children));
}

function isText(n) {
  return isObject(n) && n.type === 'text' && typeof n.text === 'string';
}

/** Whether a child goes into an inline run. */
function isInline(n) {
  if (isText(n)) return true;
  return wellFormed(n) && n.type === 'element' && (INLINE_TAGS.has(n.tag) || INLINE_ATOMS.has(n.tag));
}

function kids(n) {
  return Array.isArray(n.children) ? n.children : [];
}

function emptyChildren(n) {
  return !hasOwn(n, 'children') || n.children.length === 0;
}

/** The usual attrs of a node made from stored element n. */
function keptAttrs(n) {
  return { attributes: hasOwn(n, 'attributes') ? n.attributes : null, shape: shapeOf(n, CANON.element) };
}

class Loader {
  constructor() {
    this.key = 0;
    this.seg = 0;
  }

  raw(n) {
    return schema.nodes.raw.create({ json: n });
  }

  rawInline(n) {
    return schema.nodes.raw_inline.create({ json: n });
  }

  /** Inline nodes for stored inline children, under the given marks. */
  inline(children, marks, out) {
    let prevText = false;
    for (const c of children) {
      if (isText(c) && c.text !== '') {
        const shape = shapeOf(c, CANON.text);
        let m = marks;
        if (shape || prevText) m = [...marks, schema.marks.textmeta.create({ id: ++this.seg, shape })];
        out.push(schema.text(c.text, m));
        prevText = true;
        continue;
      }
      prevText = false;
      if (wellFormed(c) && c.type === 'element' && INLINE_TAGS.has(c.tag) && !emptyChildren(c)) {
        const attrs = { ...keptAttrs(c), key: ++this.key };
        const type = c.tag === 'a' ? 'link' : MARK_TAG[c.tag] ? c.tag : 'inline';
        if (type === 'inline') attrs.tag = c.tag;
        this.inline(c.children, [...marks, schema.marks[type].create(attrs)], out);
        continue;
      }
      let node;
      if (wellFormed(c) && c.type === 'element' && INLINE_ATOMS.has(c.tag) && emptyChildren(c)) {
        node = (c.tag === 'br' ? schema.nodes.hard_break : schema.nodes.image).create(keptAttrs(c));
      } else {
        node = this.rawInline(c);
      }
      out.push(node.mark(Mark.setFrom(marks)));
    }
    return out;
  }

  /** Block nodes for the children of a container.  empty: the node that
   * stands for "no children" (ProseMirror needs one block). */
  blocks(children, empty = 'paragraph') {
    const out = [];
    let run = null;
    for (const c of children) {
      if (isInline(c)) {
        (run ||= []).push(c);
        continue;
      }
      if (run) {
        out.push(schema.nodes.bare.create(null, this.inline(run, [], [])));
        run = null;
      }
      out.push(this.block(c));
    }
    if (run) out.push(schema.nodes.bare.create(null, this.inline(run, [], [])));
    if (!out.length) {
      out.push(empty === 'bare' ? schema.nodes.bare.create() : schema.nodes.paragraph.create({ phantom: true }));
    }
    return out;
  }

  block(n) {
    if (!wellFormed(n)) return this.raw(n);
    const children = kids(n);
    const attrs = keptAttrs(n);
    if (n.type === 'component') {
      return schema.nodes.component.create({ ...attrs, tag: n.tag }, this.blocks(children, 'bare'));
    }
    const tag = n.tag;
    const allInline = children.every(isInline);
    if (tag === 'p' && allInline) return schema.nodes.paragraph.create(attrs, this.inline(children, [], []));
    const h = HEADING.exec(tag);
    if (h && allInline) {
      return schema.nodes.heading.create({ ...attrs, level: Number(h[1]) }, this.inline(children, [], []));
    }
    if (tag === 'pre') {
      const cb = this.codeBlock(n, attrs);
      if (cb) return cb;
    }
    if ((tag === 'hr') && emptyChildren(n)) return schema.nodes.horizontal_rule.create(attrs);
    if (tag === 'blockquote') return schema.nodes.blockquote.create(attrs, this.blocks(children));
    if ((tag === 'ul' || tag === 'ol') && children.length && children.every((c) => wellFormed(c) && c.type === 'element' && c.tag === 'li')) {
      const items = children.map((li) => schema.nodes.list_item.create(keptAttrs(li), this.blocks(kids(li), 'bare')));
      return schema.nodes[tag === 'ul' ? 'bullet_list' : 'ordered_list'].create(attrs, items);
    }
    if (tag === 'table') {
      const t = this.table(n, attrs);
      if (t) return t;
    }
    return schema.nodes.element.create({ ...attrs, tag }, this.blocks(children));
  }

  codeBlock(n, attrs) {
    const c = kids(n);
    const textOk = (t) => isText(t) && t.text !== '';
    let inner = null;
    let text = null;
    if (c.length === 1 && wellFormed(c[0]) && c[0].type === 'element' && c[0].tag === 'code') {
      const k = kids(c[0]);
      if (k.length > 1 || (k.length === 1 && !textOk(k[0]))) return null;
      inner = keptAttrs(c[0]);
      text = k[0] || null;
    } else if (c.length === 1 && textOk(c[0])) {
      text = c[0];
    } else if (c.length) {
      return null;
    }
    return schema.nodes.code_block.create({ ...attrs, inner, text: text ? shapeOf(text, CANON.text) : null },
      text ? schema.text(text.text) : null);
  }

  table(n, attrs) {
    const isEl = (c, tags) => wellFormed(c) && c.type === 'element' && tags.includes(c.tag);
    const rowOk = (r) => isEl(r, ['tr']) && kids(r).length > 0 && kids(r).every((c) => isEl(c, ['td', 'th']));
    const c = kids(n);
    if (!c.length) return null;
    const rows = [];
    for (const part of c) {
      if (rowOk(part)) {
        rows.push([part, null]);
      } else if (isEl(part, ['thead', 'tbody', 'tfoot']) && kids(part).length && kids(part).every(rowOk)) {
        const section = { tag: part.tag, ...keptAttrs(part), key: ++this.key };
        for (const r of part.children) rows.push([r, section]);
      } else {
        return null;
      }
    }
    return schema.nodes.table.create(attrs, rows.map(([r, section]) => schema.nodes.table_row.create(
      { ...keptAttrs(r), section },
      r.children.map((cell) => schema.nodes.table_cell.create({ ...keptAttrs(cell), tag: cell.tag }, this.blocks(kids(cell), 'bare'))),
    )));
  }
}

/** The editor document of a stored content tree. */
export function toDoc(content) {
  const l = new Loader();
  if (isObject(content) && Object.keys(content).length === 0) {
    return schema.nodes.doc.create({ source: 'empty' }, schema.nodes.paragraph.create({ phantom: true }));
  }
  if (isObject(content) && content.type === 'root' && (!hasOwn(content, 'children') || Array.isArray(content.children))) {
    return schema.nodes.doc.create({ source: 'root', shape: shapeOf(content, CANON.root) }, l.blocks(kids(content)));
  }
  // Not a tree the reader would render as such: kept whole.
  return schema.nodes.doc.create({ source: 'raw' }, l.raw(content));
}

// ---- back ----

function element(tag, node, children, type = 'element') {
  const a = node.attrs;
  const shape = a.shape;
  const std = { type, tag, attributes: a.attributes ?? (shape ? undefined : {}) };
  std.children = children.length || !shape || shape.keys.includes('children') ? children : undefined;
  return assemble(std, shape);
}

function markElement(m) {
  const tag = m.type.name === 'inline' ? m.attrs.tag : MARK_TAG[m.type.name];
  const shape = m.attrs.shape;
  return assemble({ type: 'element', tag, attributes: m.attrs.attributes ?? (shape ? undefined : {}), children: [] }, shape);
}

/** Marks of an inline node that stand for elements, outermost first. */
function elementMarks(marks) {
  return marks.filter((m) => ELEMENT_MARKS.includes(m.type.name)).sort((a, b) => {
    const ka = a.attrs.key ?? Infinity;
    const kb = b.attrs.key ?? Infinity;
    return ka === kb ? a.type.rank - b.type.rank : ka - kb;
  });
}

const SKIP = Symbol('skip');

function inlineNode(n) {
  if (n.isText) {
    const meta = n.marks.find((m) => m.type.name === 'textmeta');
    return assemble({ type: 'text', text: n.text }, meta ? meta.attrs.shape : null);
  }
  switch (n.type.name) {
    case 'hard_break': return element('br', n, []);
    case 'image': return element('img', n, []);
    case 'raw_inline': return n.attrs.json;
    default: return SKIP;
  }
}

/** Stored children for a textblock's inline content. */
function inlineChildren(block) {
  const out = [];
  const stack = [];   // [{mark, el}]
  block.forEach((child) => {
    const marks = elementMarks(child.marks);
    let keep = 0;
    while (keep < stack.length && keep < marks.length && stack[keep].mark.eq(marks[keep])) keep++;
    stack.length = keep;
    for (let i = keep; i < marks.length; i++) {
      const el = markElement(marks[i]);
      (i === 0 ? out : stack[i - 1].el.children).push(el);
      stack.push({ mark: marks[i], el });
    }
    const json = inlineNode(child);
    if (json !== SKIP) (stack.length ? stack[stack.length - 1].el.children : out).push(json);
  });
  return out;
}

/** Stored children of a container's block content (bare runs inline). */
function blockChildren(node) {
  const out = [];
  node.forEach((b) => {
    if (b.type.name === 'bare') out.push(...inlineChildren(b));
    else if (b.type.name === 'paragraph' && b.attrs.phantom && b.childCount === 0) {
      /* "no children" */
    } else out.push(fromBlock(b));
  });
  return out;
}

function fromBlock(b) {
  switch (b.type.name) {
    case 'paragraph': return element('p', b, inlineChildren(b));
    case 'heading': return element(`h${b.attrs.level}`, b, inlineChildren(b));
    case 'blockquote': return element('blockquote', b, blockChildren(b));
    case 'bullet_list':
    case 'ordered_list': {
      const items = [];
      b.forEach((li) => items.push(element('li', li, blockChildren(li))));
      return element(b.type.name === 'bullet_list' ? 'ul' : 'ol', b, items);
    }
    case 'horizontal_rule': return element('hr', b, []);
    case 'code_block': {
      const text = b.textContent ? [assemble({ type: 'text', text: b.textContent }, b.attrs.text)] : [];
      const inner = b.attrs.inner;
      const children = inner ? [element('code', { attrs: inner }, text)] : text;
      return element('pre', b, children);
    }
    case 'table': {
      const parts = [];
      let section = null;
      let sectionEl = null;
      b.forEach((row) => {
        const cells = [];
        row.forEach((cell) => cells.push(element(cell.attrs.tag === 'th' ? 'th' : 'td', cell, blockChildren(cell))));
        const tr = element('tr', row, cells);
        const s = row.attrs.section;
        if (!s) {
          section = null;
          parts.push(tr);
          return;
        }
        if (!section || section.key !== s.key || section.tag !== s.tag) {
          section = s;
          sectionEl = element(s.tag, { attrs: s }, []);
          if (!sectionEl.children) sectionEl.children = [];
          parts.push(sectionEl);
        }
        sectionEl.children.push(tr);
      });
      return element('table', b, parts);
    }
    case 'element': return element(b.attrs.tag, b, blockChildren(b));
    case 'component': return element(b.attrs.tag, b, blockChildren(b), 'component');
    case 'raw': return b.attrs.json;
    case 'bare': return { type: 'element', tag: 'span', attributes: {}, children: inlineChildren(b) };
    default: return null;
  }
}

/** The stored node of one block node (a component's live rendering). */
export function nodeToContent(node) {
  return fromBlock(node);
}

/** The stored content tree of an editor document. */
export function toContent(doc) {
  const children = blockChildren(doc);
  if (doc.attrs.source === 'empty' && children.length === 0) return {};
  if (doc.attrs.source === 'raw' && doc.childCount === 1 && doc.firstChild.type.name === 'raw') {
    return doc.firstChild.attrs.json;
  }
  const shape = doc.attrs.source === 'root' ? doc.attrs.shape : null;
  return assemble({ type: 'root', children: children.length || !shape || shape.keys.includes('children') ? children : undefined }, shape);
}

/** JSON nesting depth, counted as the server counts it (objects and
 * arrays; content is refused beyond 48). */
export function jsonDepth(v) {
  if (v === null || typeof v !== 'object') return 0;
  let best = 0;
  for (const c of Array.isArray(v) ? v : Object.values(v)) {
    const d = jsonDepth(c);
    if (d > best) best = d;
  }
  return best + 1;
}

/** Size and depth of a tree against the server's limits. */
export const CONTENT_MAX_BYTES = 1024 * 1024;
export const CONTENT_MAX_DEPTH = 48;
export function contentLimits(tree) {
  const text = JSON.stringify(tree);
  const bytes = new TextEncoder().encode(text).length;
  const depth = jsonDepth(tree);
  return { bytes, depth, tooBig: bytes > CONTENT_MAX_BYTES, tooDeep: depth > CONTENT_MAX_DEPTH };
}

/** A fresh, empty paragraph (for commands). */
export function emptyParagraph() {
  return schema.nodes.paragraph.create();
}

export { Fragment };
