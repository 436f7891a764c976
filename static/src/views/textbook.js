// <ob-textbook>: a textbook's table of contents and one page.
//
// Routes: #/textbooks/<id> (opens the remembered page, else the first one)
// and #/textbooks/<id>/pages/<page>.  The element stays while the reader
// moves through the same textbook: only the page is fetched (the next one
// is prefetched), so turning a page costs one render.  Live: listens on
// textbook:<id>; an edited page is re-read and re-rendered in place, a
// deleted one says so, and the table of contents follows page changes.
import { View, html, nothing, t, announce, setTitle, focusHeading, loading, loadError } from '../ui.js';
import { get, listAll } from '../api.js';
import { renderContent, isEmptyContent } from '../render.js';
import { definitions, ensureLoaded } from '../components.js';
import { buildTree, neighbours, ancestors } from '../textbook-tree.js';
import { live } from '../live.js';
import { href } from '../router.js';

const POSITION_KEY = 'ob.read.';
const PAGE_FIELDS = ['id', 'textbook', 'parent', 'position', 'name', 'content', 'modified_at'];

function remember(textbook, page) {
  try {
    localStorage.setItem(POSITION_KEY + textbook, page);
  } catch {
    /* storage off */
  }
}

export function rememberedPage(textbook) {
  try {
    return localStorage.getItem(POSITION_KEY + textbook);
  } catch {
    return null;
  }
}

class ObTextbook extends View {
  static properties = {
    params: { attribute: false },
    textbook: { state: true },
    group: { state: true },
    tree: { state: true },
    page: { state: true },
    error: { state: true },
    pageError: { state: true },
    notice: { state: true },
  };

  constructor() {
    super();
    this.params = {};
    this.cache = new Map();   // page id -> promise of the page (with content)
    this.loadedId = null;
    this.renderedKey = null;
  }

  connectedCallback() {
    super.connectedCallback();
    this._offLive = live.on((m) => this.onLive(m));
  }

  disconnectedCallback() {
    super.disconnectedCallback();
    this._offLive();
    live.want('textbook', []);
  }

  willUpdate(changed) {
    if (changed.has('params')) this.route();
  }

  async route() {
    const { id, page } = this.params;
    if (id !== this.loadedId) {
      this.loadedId = id;
      this.textbook = null;
      this.tree = null;
      this.page = null;
      this.error = null;
      this.cache.clear();
      live.want('textbook', [`textbook:${id}`]);
      // The page and the component registry are fetched alongside the
      // book, not after it (one round trip less before the first page).
      if (page) this.fetchPage(page).catch(() => {});
      definitions().catch(() => {});
      try {
        await this.loadBook(id);
      } catch (e) {
        if (this.loadedId === id) this.error = e;
        return;
      }
    }
    if (this.loadedId !== id || !this.tree) return;
    let target = page;
    if (!target) {
      const remembered = rememberedPage(id);
      target = remembered && this.tree.byId.has(remembered) ? remembered : this.tree.order[0]?.page.id;
      if (target) {
        location.replace(href(`/textbooks/${id}/pages/${target}`));
        return;
      }
      setTitle(this.textbook.name);
      return;
    }
    await this.showPage(target);
  }

  async loadBook(id) {
    const [textbook, pages] = await Promise.all([
      get('textbooks', id),
      listAll('textbookPages', { textbook: id }, { fields: ['id', 'parent', 'position', 'name'] }),
    ]);
    if (this.loadedId !== id) return;
    this.textbook = textbook;
    this.tree = buildTree(pages);
    get('libraryGroups', textbook.group, { fields: ['id', 'name'] })
      .then((g) => { if (this.loadedId === id) this.group = g; }, () => {});
  }

  /** The page with its content; concurrent calls share one request. */
  fetchPage(pageId, fresh = false) {
    if (!fresh && this.cache.has(pageId)) return this.cache.get(pageId);
    const p = get('textbookPages', pageId, { fields: PAGE_FIELDS });
    this.cache.set(pageId, p);
    p.catch(() => { if (this.cache.get(pageId) === p) this.cache.delete(pageId); });
    return p;
  }

  async showPage(pageId, { fresh = false } = {}) {
    this.pageError = null;
    const bookId = this.loadedId;
    let p;
    try {
      p = await this.fetchPage(pageId, fresh);
    } catch (e) {
      if (this.loadedId === bookId && this.params.page === pageId) {
        this.page = null;
        this.pageError = e;
        this.querySelector('#page-content')?.replaceChildren();
        this.renderedKey = null;
      }
      return;
    }
    if (this.loadedId !== bookId || this.params.page !== pageId) return;
    if (p.textbook !== bookId) {
      this.pageError = { status: 404 };
      return;
    }
    this.page = p;
    remember(bookId, pageId);
    setTitle(`${p.name} · ${this.textbook.name}`);
    // Prefetch the next page, so that turning the page needs no request.
    const { next } = neighbours(this.tree, pageId);
    if (next && !this.cache.has(next.id)) this.fetchPage(next.id).catch(() => {});
  }

  async onLive(m) {
    if (!this.loadedId) return;
    if (m.kind === 'resync' && m.channel === `textbook:${this.loadedId}`) {
      await this.reloadAll();
      return;
    }
    if (m.kind !== 'event' || m.channel !== `textbook:${this.loadedId}`) return;
    const pl = m.payload;
    if (m.type === 'textbook.updated') {
      if (pl.op === 'deleted') {
        this.notice = { kind: 'error', text: t('reader.textbookDeleted') };
        announce(t('reader.textbookDeleted'));
      } else {
        this.textbook = await get('textbooks', this.loadedId).catch(() => this.textbook);
      }
      return;
    }
    if (m.type !== 'textbook.page.updated') return;
    this.cache.delete(pl.page);
    // The tree changes with created, moved, renamed and deleted pages.
    listAll('textbookPages', { textbook: this.loadedId }, { fields: ['id', 'parent', 'position', 'name'] })
      .then((pages) => { this.tree = buildTree(pages); }, () => {});
    if (this.page && pl.page === this.page.id) {
      if (pl.op === 'deleted') {
        this.notice = { kind: 'error', text: t('reader.pageDeleted') };
        announce(t('reader.pageDeleted'));
      } else {
        await this.showPage(this.page.id, { fresh: true });
        this.notice = { kind: 'info', text: t('reader.pageUpdated') };
        announce(t('reader.pageUpdated'));
      }
    }
  }

  async reloadAll() {
    const id = this.loadedId;
    this.cache.clear();
    try {
      await this.loadBook(id);
      if (this.params.page) await this.showPage(this.params.page, { fresh: true });
    } catch {
      /* keep what is shown */
    }
  }

  updated(changed) {
    if (changed.has('page') && this.page) this.paint();
  }

  /** Puts the page's content into the article, built node by node. */
  async paint() {
    const p = this.page;
    const key = `${p.id}@${p.modified_at}`;
    const article = this.querySelector('#page-content');
    if (!article) return;
    const firstPaint = this.renderedKey === null || !this.renderedKey.startsWith(p.id + '@');
    this.renderedKey = key;
    const defs = await definitions();
    if (this.page !== p) return;
    const { fragment, components } = renderContent(p.content, { doc: document, definitions: defs, t, headingShift: 1 });
    if (isEmptyContent(p.content)) {
      const empty = document.createElement('p');
      empty.className = 'empty';
      empty.textContent = t('reader.emptyPage');
      fragment.appendChild(empty);
    }
    article.replaceChildren(fragment);
    article.dataset.renderedPage = p.id;
    performance.mark('ob:page-rendered', { detail: p.id });
    if (components.size) ensureLoaded(components).catch(() => {});
    if (firstPaint) {
      this.notice = null;
      focusHeading(this);
    }
  }

  renderToc(nodes, currentId) {
    if (!nodes.length) return nothing;
    return html`<ol>${nodes.map((n) => html`<li>
      <a href=${href(`/textbooks/${this.loadedId}/pages/${n.page.id}`)}
        aria-current=${n.page.id === currentId ? 'page' : nothing}>${n.page.name}</a>
      ${this.renderToc(n.children, currentId)}</li>`)}</ol>`;
  }

  render() {
    if (this.error) return loadError(this.error);
    if (!this.textbook || !this.tree) return loading();
    const tb = this.textbook;
    const current = this.page?.id;
    const { prev, next } = current ? neighbours(this.tree, current) : { prev: null, next: null };
    const trail = current ? ancestors(this.tree, current) : [];
    const toc = html`<nav class="toc" aria-label=${t('reader.contents')}>
      <h2 class="toc-title">${t('reader.contents')}</h2>
      ${this.tree.order.length ? this.renderToc(this.tree.roots, current) : html`<p>${t('reader.noPages')}</p>`}
    </nav>`;
    return html`<div class="reader">
      <aside class="reader-toc">
        <details class="toc-mobile" ?open=${!current}>
          <summary>${t('reader.contents')}</summary>${toc}
        </details>
        <div class="toc-wide">${toc}</div>
      </aside>
      <div class="reader-main">
        <nav aria-label=${t('nav.breadcrumbs')} class="breadcrumbs"><ol>
          <li><a href="#/">${t('nav.library')}</a></li>
          ${this.group ? html`<li><a href=${href(`/groups/${this.group.id}`)}>${this.group.name}</a></li>` : nothing}
          <li><a href=${href(`/textbooks/${tb.id}`)}>${tb.name}</a></li>
          ${trail.map((a) => html`<li><a href=${href(`/textbooks/${tb.id}/pages/${a.id}`)}>${a.name}</a></li>`)}
          ${this.page ? html`<li><span aria-current="page">${this.page.name}</span></li>` : nothing}
        </ol></nav>
        ${this.notice ? html`<div class="notice ${this.notice.kind}" role="status">${this.notice.text}</div>` : nothing}
        ${this.pageError ? loadError(this.pageError) : nothing}
        ${this.page ? html`<h1 class="page-title">${this.page.name}</h1>` : html`<h1>${tb.name}</h1>`}
        ${!this.page && !this.pageError && current === undefined && this.params.page ? loading() : nothing}
        <article id="page-content" class="content" aria-label=${this.page ? this.page.name : tb.name}></article>
        <nav class="pager" aria-label=${t('reader.pager')}>
          ${prev ? html`<a class="prev" rel="prev" href=${href(`/textbooks/${tb.id}/pages/${prev.id}`)}>
            <span aria-hidden="true">←</span> ${t('reader.previous')}: ${prev.name}</a>` : html`<span></span>`}
          ${next ? html`<a class="next" rel="next" href=${href(`/textbooks/${tb.id}/pages/${next.id}`)}>
            ${t('reader.next')}: ${next.name} <span aria-hidden="true">→</span></a>` : nothing}
        </nav>
      </div>
    </div>`;
  }
}

customElements.define('ob-textbook', ObTextbook);
