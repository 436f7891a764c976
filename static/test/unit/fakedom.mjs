// fakedom.mjs - the few DOM calls the renderer makes, for Node's test
// runner.  serialize() writes what was built in an HTML-like form that the
// tests compare against.

class Node {
  constructor(kind) {
    this.kind = kind;
    this.childNodes = [];
  }

  appendChild(c) {
    this.childNodes.push(c);
    return c;
  }
}

class Element extends Node {
  constructor(tag) {
    super('element');
    this.localName = tag;
    this.attrs = new Map();
  }

  setAttribute(n, v) {
    if (typeof v !== 'string') throw new TypeError('attribute values are strings here');
    this.attrs.set(n, v);
  }

  getAttribute(n) {
    return this.attrs.has(n) ? this.attrs.get(n) : null;
  }
}

export function fakeDocument() {
  const created = [];
  return {
    created,
    createElement(tag) {
      const e = new Element(tag);
      created.push(tag);
      return e;
    },
    createTextNode(text) {
      const n = new Node('text');
      n.text = text;
      return n;
    },
    createDocumentFragment() {
      return new Node('fragment');
    },
  };
}

export function serialize(node) {
  if (node.kind === 'text') return node.text.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const inner = node.childNodes.map(serialize).join('');
  if (node.kind === 'fragment') return inner;
  const attrs = [...node.attrs].map(([k, v]) => ` ${k}="${v.replace(/"/g, '&quot;')}"`).join('');
  return `<${node.localName}${attrs}>${inner}</${node.localName}>`;
}

/** Every element of the tree, depth-first. */
export function elements(node, out = []) {
  for (const c of node.childNodes) {
    if (c.kind === 'element') {
      out.push(c);
      elements(c, out);
    }
  }
  return out;
}
