// render.js - a page's `content` tree into real DOM, safe by construction.
//
// The tree (api-resources.md §3, textbook_pages.content) is JSON:
//   {"type":"root","children":[…]}
//   {"type":"element","tag":"p","attributes":{…},"children":[…]}
//   {"type":"text","text":"…"}
//   {"type":"component","tag":"ob-quiz","attributes":{…},"children":[…]}
//
// Nodes are created one by one with createElement/createTextNode; no HTML
// string is ever parsed.  Elements and attributes come from allow-lists;
// URLs must be relative or http(s)/mailto (images: relative or http(s));
// nothing that runs code (script, on* handlers, iframes, SVG, forms,
// style) is produced.  Elements outside the list that merely wrap text are
// unwrapped (their children are kept); those whose content could act or
// mislead (DROP) disappear with their content.
//
// Components become custom elements only when an installed library
// defines the tag (ctx.definitions), with each attribute checked against
// the definition (known name, `regex` full match, `enum`).  Others render
// as a visible placeholder that shows the component's text content.

/** Elements the renderer creates, with their own attributes (beyond GLOBAL). */
export const ELEMENTS = {
  p: [], h1: [], h2: [], h3: [], h4: [], h5: [], h6: [],
  em: [], strong: [], b: [], i: [], u: [], s: [], sub: [], sup: [], small: [], mark: [],
  code: [], pre: [], kbd: [], samp: [], var: [], blockquote: ['cite'], q: ['cite'], cite: [],
  abbr: [], dfn: [], time: ['datetime'], br: [], hr: [], wbr: [], span: [], div: [],
  section: [], article: [], aside: [], header: [], footer: [], figure: [], figcaption: [],
  ul: [], ol: ['start', 'reversed', 'type'], li: ['value'], dl: [], dt: [], dd: [],
  a: ['href', 'title'], img: ['src', 'alt', 'width', 'height'],
  table: [], caption: [], thead: [], tbody: [], tfoot: [], tr: [],
  th: ['colspan', 'rowspan', 'scope'], td: ['colspan', 'rowspan'], colgroup: ['span'], col: ['span'],
  details: ['open'], summary: [], del: [], ins: [],
};
/** Attributes allowed on every element. */
export const GLOBAL = ['title', 'lang', 'dir', 'class'];
/** Not rendered, and neither is anything inside them. */
export const DROP = new Set(['script', 'style', 'iframe', 'frame', 'frameset', 'object', 'embed',
  'applet', 'svg', 'math', 'template', 'noscript', 'link', 'meta', 'base', 'form', 'input',
  'button', 'textarea', 'select', 'option', 'head', 'title', 'audio', 'video', 'source',
  'track', 'canvas', 'portal', 'dialog', 'slot']);
const URL_ATTRS = new Set(['href', 'src', 'cite']);
const MAX_DEPTH = 64;
/** Custom element names (HTML spec), minus the reserved ones. */
const CUSTOM_NAME = /^[a-z][a-z0-9._-]*-[a-z0-9._-]*$/;
const RESERVED = new Set(['annotation-xml', 'color-profile', 'font-face', 'font-face-src',
  'font-face-uri', 'font-face-format', 'font-face-name', 'missing-glyph']);

/** True when url may appear in href (mailto allowed) or src. */
export function safeUrl(url, { mailto = true } = {}) {
  if (typeof url !== 'string') return false;
  // Browsers ignore these while parsing a scheme ("java\tscript:").
  const u = url.replace(/[\u0000-\u0020\u007f-\u009f]/g, '');
  if (u === '') return false;
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(u);
  if (!m) {
    // Relative: but "//host" is another origin's URL: allow (it is
    // http(s) in effect), and "\\" is treated as "/" by browsers.
    return true;
  }
  const scheme = m[1].toLowerCase();
  return scheme === 'http' || scheme === 'https' || (mailto && scheme === 'mailto');
}

export function isCustomElementName(tag) {
  return typeof tag === 'string' && tag.length <= 100 && CUSTOM_NAME.test(tag) && !RESERVED.has(tag);
}

/** Whether value may be given to attribute `name` of a component whose
 * normalised definition is def (libraries.md §2.2). */
export function componentAttributeAllowed(def, name, value) {
  const attrs = def && typeof def.attributes === 'object' && def.attributes ? def.attributes : {};
  if (!Object.prototype.hasOwnProperty.call(attrs, name)) return false;
  if (/^on/i.test(name)) return false;
  const a = attrs[name] || {};
  if (Array.isArray(a.enum) && a.enum.length && !a.enum.includes(value)) return false;
  if (typeof a.regex === 'string' && a.regex) {
    let re;
    try {
      re = new RegExp('^(?:' + a.regex + ')$', 'u');
    } catch {
      return false;   // a definition with a broken regex allows nothing
    }
    if (!re.test(value)) return false;
  }
  return true;
}

function attrValue(v) {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}

/**
 * Renders tree into a DocumentFragment of doc.
 * @param {any} tree  the page content
 * @param {object} ctx
 * @param {Document} ctx.doc
 * @param {Map<string, object>} [ctx.definitions]  tag -> component definition
 * @param {(tag: string) => void} [ctx.onComponent] called for every defined component used
 * @param {(key: string, params?: object) => string} [ctx.t] translations
 * @param {number} [ctx.headingShift] added to heading levels (h1 -> h2 with 1)
 * @returns {{fragment: DocumentFragment, components: Set<string>, unknown: Set<string>}}
 */
export function renderContent(tree, ctx) {
  const doc = ctx.doc;
  const t = ctx.t || ((k, p) => (p && p.tag ? `${k} ${p.tag}` : k));
  const defs = ctx.definitions || new Map();
  // The page's title is the document's h1: content headings move down.
  const shift = ctx.headingShift || 0;
  const components = new Set();
  const unknown = new Set();
  const fragment = doc.createDocumentFragment();

  function children(node, parent, depth) {
    if (!Array.isArray(node.children)) return;
    for (const c of node.children) visit(c, parent, depth + 1);
  }

  function setAttributes(el, tag, attributes) {
    if (!attributes || typeof attributes !== 'object' || Array.isArray(attributes)) return;
    const allowed = ELEMENTS[tag];
    for (const [name, raw] of Object.entries(attributes)) {
      const n = String(name).toLowerCase();
      if (!(GLOBAL.includes(n) || allowed.includes(n))) continue;
      const v = attrValue(raw);
      if (v === null) continue;
      if (URL_ATTRS.has(n) && !safeUrl(v, { mailto: n === 'href' })) continue;
      el.setAttribute(n, v);
    }
    if (tag === 'a' && el.getAttribute('href') !== null) {
      const href = el.getAttribute('href');
      if (/^[a-z][a-z0-9+.-]*:|^\/\//i.test(href.trim())) {
        // Other sites open in a new tab without access to this one.
        el.setAttribute('target', '_blank');
        el.setAttribute('rel', 'noopener noreferrer');
      }
    }
    if (tag === 'img') {
      if (el.getAttribute('alt') === null) el.setAttribute('alt', '');
      el.setAttribute('loading', 'lazy');
      el.setAttribute('referrerpolicy', 'no-referrer');
    }
  }

  function placeholder(node, parent, depth, tag) {
    unknown.add(tag);
    const box = doc.createElement('div');
    box.setAttribute('class', 'ob-placeholder');
    box.setAttribute('role', 'note');
    box.setAttribute('data-component', tag);
    const label = doc.createElement('p');
    label.setAttribute('class', 'ob-placeholder-label');
    label.appendChild(doc.createTextNode(t('content.unknownComponent', { tag })));
    box.appendChild(label);
    children(node, box, depth);
    parent.appendChild(box);
  }

  function visit(node, parent, depth) {
    if (depth > MAX_DEPTH || !node || typeof node !== 'object' || Array.isArray(node)) return;
    const type = node.type;
    if (type === 'text') {
      if (typeof node.text === 'string') parent.appendChild(doc.createTextNode(node.text));
      return;
    }
    if (type === 'root') {
      children(node, parent, depth);
      return;
    }
    const tag = typeof node.tag === 'string' ? node.tag.toLowerCase() : '';
    if (type === 'element') {
      if (DROP.has(tag)) return;
      if (!Object.prototype.hasOwnProperty.call(ELEMENTS, tag)) {
        children(node, parent, depth);   // unwrap
        return;
      }
      let name = tag;
      if (shift && /^h[1-6]$/.test(tag)) name = 'h' + Math.min(6, Number(tag[1]) + shift);
      const el = doc.createElement(name);
      setAttributes(el, tag, node.attributes);
      children(node, el, depth);
      parent.appendChild(el);
      return;
    }
    if (type === 'component') {
      if (!isCustomElementName(tag)) {
        placeholder(node, parent, depth, tag || '?');
        return;
      }
      const def = defs.get(tag);
      if (!def) {
        placeholder(node, parent, depth, tag);
        return;
      }
      const el = doc.createElement(tag);
      const attrs = node.attributes && typeof node.attributes === 'object' ? node.attributes : {};
      for (const [name, raw] of Object.entries(attrs)) {
        const v = attrValue(raw);
        if (v !== null && componentAttributeAllowed(def, name, v)) el.setAttribute(name, v);
      }
      components.add(tag);
      if (ctx.onComponent) ctx.onComponent(tag);
      children(node, el, depth);
      parent.appendChild(el);
    }
    // any other type: nothing
  }

  if (tree && typeof tree === 'object') visit(tree.type ? tree : { type: 'root', children: [] }, fragment, 0);
  return { fragment, components, unknown };
}

/** True when the tree has nothing to show. */
export function isEmptyContent(tree) {
  return !tree || typeof tree !== 'object' || !Array.isArray(tree.children) || tree.children.length === 0;
}
