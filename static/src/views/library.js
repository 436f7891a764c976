// <ob-home> (#/): the library group tree with its textbooks and courses.
// <ob-group> (#/groups/<id>): one group: subgroups, textbooks, courses.
import { View, html, nothing, t, setTitle, focusHeading, loading, loadError } from '../ui.js';
import { get, list, listAll } from '../api.js';
import { href } from '../router.js';
import { rememberedPage } from './textbook.js';

function textbookLink(tb) {
  const page = rememberedPage(tb.id);
  return html`<a href=${href(page ? `/textbooks/${tb.id}/pages/${page}` : `/textbooks/${tb.id}`)}>${tb.name}</a>`;
}

class ObHome extends View {
  static properties = { groups: { state: true }, textbooks: { state: true }, error: { state: true } };

  connectedCallback() {
    super.connectedCallback();
    this.load();
  }

  languageChanged() {
    this.load();
  }

  async load() {
    this.error = null;
    try {
      const [groups, textbooks] = await Promise.all([
        listAll('libraryGroups', {}, { fields: ['id', 'name', 'description', 'parent'] }),
        listAll('textbooks', {}, { fields: ['id', 'name', 'group'] }),
      ]);
      this.groups = groups;
      this.textbooks = textbooks;
    } catch (e) {
      this.error = e;
    }
    setTitle(t('home.title'));
    await this.updateComplete;
    if (!this.error) focusHeading(this);
  }

  /** One group with its textbooks and subgroups (depth-limited). */
  groupItem(g, depth) {
    const books = this.textbooks.filter((tb) => tb.group === g.id);
    const kids = depth < 32 ? this.groups.filter((c) => c.parent === g.id) : [];
    return html`<li>
      <a class="group-link" href=${href(`/groups/${g.id}`)}>${g.name}</a>
      ${g.description && depth === 0 ? html`<p class="desc">${g.description}</p>` : nothing}
      ${books.length ? html`<ul class="books">${books.map((tb) => html`<li class="book">${textbookLink(tb)}</li>`)}</ul>` : nothing}
      ${kids.length ? html`<ul class="tree">${kids.map((c) => this.groupItem(c, depth + 1))}</ul>` : nothing}
    </li>`;
  }

  render() {
    if (this.error) return html`<h1>${t('home.title')}</h1>${loadError(this.error)}`;
    if (!this.groups) return loading();
    const ids = new Set(this.groups.map((g) => g.id));
    // Groups whose parent the reader cannot see are shown as roots.
    const roots = this.groups.filter((g) => !g.parent || !ids.has(g.parent));
    return html`<h1>${t('home.title')}</h1>
      <p class="lead">${t('home.lead')}</p>
      ${this.groups.length ? html`<ul class="tree">${roots.map((g) => this.groupItem(g, 0))}</ul>`
        : html`<p>${t('home.empty')}</p>`}
      <p><a href="#/courses">${t('home.toCourses')}</a></p>`;
  }
}

class ObGroup extends View {
  static properties = {
    params: { attribute: false }, group: { state: true }, parent: { state: true },
    children: { state: true }, textbooks: { state: true }, courses: { state: true }, error: { state: true },
  };

  willUpdate(changed) {
    if (changed.has('params')) this.load();
  }

  languageChanged() {
    this.load();
  }

  async load() {
    const id = this.params.id;
    this.error = null;
    this.group = null;
    try {
      const [group, children, textbooks, courses] = await Promise.all([
        get('libraryGroups', id),
        listAll('libraryGroups', { parent: id }, { fields: ['id', 'name', 'description'] }),
        listAll('textbooks', { group: id }),
        list('courses', { group: id, is_template: false }, { pageSize: 100 }),
      ]);
      if (this.params.id !== id) return;
      Object.assign(this, { group, children, textbooks, courses: courses.results });
      this.parent = group.parent ? await get('libraryGroups', group.parent, { fields: ['id', 'name'] }).catch(() => null) : null;
      setTitle(group.name);
      await this.updateComplete;
      focusHeading(this);
    } catch (e) {
      if (this.params.id === id) this.error = e;
    }
  }

  render() {
    if (this.error) return loadError(this.error);
    if (!this.group) return loading();
    const g = this.group;
    return html`<nav aria-label=${t('nav.breadcrumbs')} class="breadcrumbs"><ol>
        <li><a href="#/">${t('nav.library')}</a></li>
        ${this.parent ? html`<li><a href=${href(`/groups/${this.parent.id}`)}>${this.parent.name}</a></li>` : nothing}
        <li><span aria-current="page">${g.name}</span></li></ol></nav>
      <h1>${g.name}</h1>
      ${g.description ? html`<p class="lead">${g.description}</p>` : nothing}
      <section aria-labelledby="g-books"><h2 id="g-books">${t('group.textbooks')}</h2>
        ${this.textbooks.length ? html`<ul class="cards">${this.textbooks.map((tb) => html`<li class="card">
          <h3>${textbookLink(tb)}</h3>${tb.description ? html`<p>${tb.description}</p>` : nothing}</li>`)}</ul>`
        : html`<p>${t('group.noTextbooks')}</p>`}
      </section>
      <section aria-labelledby="g-courses"><h2 id="g-courses">${t('group.courses')}</h2>
        ${this.courses.length ? html`<ul class="cards">${this.courses.map((c) => html`<li class="card">
          <h3><a href=${href(`/courses/${c.id}`)}>${c.name}</a></h3>${c.description ? html`<p>${c.description}</p>` : nothing}</li>`)}</ul>`
        : html`<p>${t('group.noCourses')}</p>`}
      </section>
      ${this.children.length ? html`<section aria-labelledby="g-sub"><h2 id="g-sub">${t('group.subgroups')}</h2>
        <ul class="cards">${this.children.map((c) => html`<li class="card"><h3><a href=${href(`/groups/${c.id}`)}>${c.name}</a></h3>
          ${c.description ? html`<p>${c.description}</p>` : nothing}</li>`)}</ul></section>` : nothing}`;
  }
}

customElements.define('ob-home', ObHome);
customElements.define('ob-group', ObGroup);
