// rules.js - what a component definition (libraries.md §2.2) allows, for
// the editor: the palette offers a component only where its parent allows
// it, the attribute form checks `regex`/`enum`, and a transaction that adds
// a violation of `allowed-children`, `text-allowed` or `html-allowed` is
// refused.  Pure (unit-tested).  A definition without one of these keys
// (not normalised) does not restrict by it.
import { componentAttributeAllowed } from '../render.js';
import { ELEMENT_MARKS } from './schema.js';

/** A text of a definition's {lang: text} map in the UI language. */
export function localText(map, lang) {
  if (!map || typeof map !== 'object') return '';
  return map[lang] || map.en || Object.values(map).find((v) => typeof v === 'string') || '';
}

/** Problems of one component node against its definition: "text",
 * "html", "child:<tag>", "attribute:<name>". */
export function componentProblems(node, def) {
  const out = [];
  if (!def) return out;
  const text = def['text-allowed'];
  const html = def['html-allowed'];
  const kids = def['allowed-children'];
  node.forEach((child) => {
    const name = child.type.name;
    if (name === 'bare' || (name === 'paragraph' && child.attrs.phantom && child.childCount === 0)) {
      child.forEach((inl) => {
        if (inl.isText) {
          if (text === false && html !== true) out.push('text');
          if (html === false && inl.marks.some((m) => ELEMENT_MARKS.includes(m.type.name))) out.push('html');
        } else if (html === false) {
          out.push('html');
        }
      });
    } else if (name === 'component') {
      if (Array.isArray(kids) && !kids.includes(child.attrs.tag) && html !== true) out.push(`child:${child.attrs.tag}`);
    } else if (html === false) {
      out.push('html');
    }
  });
  const attrs = node.attrs.attributes;
  if (attrs && typeof attrs === 'object' && def.attributes && typeof def.attributes === 'object') {
    for (const [k, v] of Object.entries(attrs)) {
      if (!componentAttributeAllowed(def, k, typeof v === 'string' ? v : String(v))) out.push(`attribute:${k}`);
    }
  }
  return out;
}

/** All problems of a document's components (for the transaction filter):
 * textblocks are not entered, so this is cheap on long pages. */
export function countProblems(doc, registry) {
  let n = 0;
  doc.descendants((node) => {
    if (node.isTextblock) return false;
    if (node.type.name === 'component') {
      const e = registry.get(node.attrs.tag);
      if (e) n += componentProblems(node, e.definition).length;
    }
    return true;
  });
  return n;
}

/** Whether component `tag` may be inserted where the selection is: the
 * nearest enclosing component must list it in allowed-children (or allow
 * HTML); at the top level everything may go. */
export function allowedAt($pos, tag, registry) {
  for (let d = $pos.depth; d > 0; d--) {
    const n = $pos.node(d);
    if (n.type.name !== 'component') continue;
    const e = registry.get(n.attrs.tag);
    if (!e) return true;
    const def = e.definition;
    if (def['html-allowed'] === true) return true;
    const kids = def['allowed-children'];
    return !Array.isArray(kids) || kids.includes(tag);
  }
  return true;
}

/** Form fields of a definition's attributes: {name, kind: 'enum'|'text',
 * options, regex, description}. */
export function attributeFields(def, lang) {
  const attrs = def && def.attributes && typeof def.attributes === 'object' ? def.attributes : {};
  return Object.entries(attrs).map(([name, a]) => ({
    name,
    kind: Array.isArray(a.enum) && a.enum.length ? 'enum' : 'text',
    options: Array.isArray(a.enum) ? a.enum : [],
    regex: typeof a.regex === 'string' ? a.regex : '',
    description: localText(a.description, lang),
  }));
}

/** Checks form values: {attributes, errors: {name: true}}; empty values
 * leave the attribute out. */
export function checkAttributes(def, values) {
  const attributes = {};
  const errors = {};
  for (const [k, v] of Object.entries(values)) {
    if (v === '' || v === undefined || v === null) continue;
    if (componentAttributeAllowed(def, k, v)) attributes[k] = v;
    else errors[k] = true;
  }
  return { attributes, errors };
}
