// The administration (#/admin/...): a chunk of its own, loaded by the
// route table of app.js on first use, so readers never download it.
// <ob-admin> is the frame: it asks who is logged in and what the server
// offers (schema.js), shows the sections this user may use (access.js)
// and the current one.
import { View, html, nothing, t, loading, loadError, setTitle } from '../ui.js';
import { addStrings } from '../i18n.js';
import { onSessionChange, ready } from '../session.js';
import { get } from '../api.js';
import { href } from '../router.js';
import en from '../i18n/admin.en.js';
import de from '../i18n/admin.de.js';
import { registerEndpoints } from './endpoints.js';
import { loadSchema } from './schema.js';
import { isAdmin, visibleSections, SECTIONS } from './access.js';
import './dashboard.js';
import './users.js';
import './groups.js';
import './permissions.js';
import './signup.js';
import './languages.js';
import './site.js';
import './libraries.js';
import './media.js';

addStrings({ en, de });
registerEndpoints();
linkStyles();

/** The administration's stylesheet (app/admin.css, built next to app.css
 * and carrying the same ?v=<build>). */
function linkStyles() {
  if (document.querySelector('link[data-ob-admin]')) return;
  const app = document.querySelector('link[rel="stylesheet"][href*="app.css"]');
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = app ? app.getAttribute('href').replace('app.css', 'admin.css') : 'admin.css';
  link.dataset.obAdmin = '';
  document.head.append(link);
}

/** Section id -> [list element, item element]. */
const ELEMENTS = {
  '': ['ob-admin-dashboard'],
  users: ['ob-admin-users', 'ob-admin-user'],
  groups: ['ob-admin-groups', 'ob-admin-group'],
  'permission-texts': ['ob-admin-permission-texts'],
  'anonymous-permissions': ['ob-admin-anonymous-permissions'],
  'role-permissions': ['ob-admin-role-permissions'],
  'signup-groups': ['ob-admin-signup-groups'],
  languages: ['ob-admin-languages'],
  site: ['ob-admin-site'],
  libraries: ['ob-admin-libraries'],
  media: ['ob-admin-media'],
};

class ObAdmin extends View {
  static properties = {
    params: { attribute: false }, user: { state: true }, schema: { state: true }, error: { state: true },
  };

  constructor() {
    super();
    this.params = {};
    this.child = null;
  }

  connectedCallback() {
    super.connectedCallback();
    // Logged in or out elsewhere: ask again.
    this._off = onSessionChange(() => this.load());
    this.load();
  }

  disconnectedCallback() {
    super.disconnectedCallback();
    this._off();
  }

  /** Who is asking, with what they hold (rights may have been granted or
   * taken since the page loaded, so ask each time the administration
   * opens), and what the server offers. */
  async load() {
    await ready();
    let me;
    try {
      [me, this.schema] = await Promise.all([get('adminMe', null, { expand: ['permissions'] }), loadSchema()]);
    } catch (e) {
      this.error = e;
      return;
    }
    if (!me || !me.is_authenticated) {
      this.user = null;
      location.replace(`#/account/login?next=${encodeURIComponent(location.hash.slice(1) || '/admin')}`);
      return;
    }
    this.user = me;
  }

  get section() {
    return this.params.section || '';
  }

  /** The section's element, made once and given new params after. */
  content(sections) {
    const s = this.section;
    if (s && !sections.some((x) => x.id === s)) {
      setTitle(t('admin.title'));
      const known = SECTIONS.find((x) => x.id === s);
      if (known && !known.paths.some((p) => this.schema.resources.has(p))) {
        return html`<h1>${t(`admin.section.${s}`)}</h1><div class="notice info"><p>${t('admin.notAvailable')}</p></div>`;
      }
      return html`<h1>${t('admin.title')}</h1>${loadError({ status: known ? 403 : 404 })}`;
    }
    const names = ELEMENTS[s];
    const name = this.params.id !== undefined && names[1] ? names[1] : names[0];
    if (!this.child || this.child.localName !== name) this.child = document.createElement(name);
    Object.assign(this.child, { user: this.user, schema: this.schema, params: { ...this.params } });
    return this.child;
  }

  render() {
    if (this.error) return html`<h1>${t('admin.title')}</h1>${loadError(this.error)}`;
    if (this.user === undefined || (this.user && !this.schema)) return loading();
    if (!this.user) return nothing;
    if (!isAdmin(this.user)) {
      setTitle(t('admin.title'));
      return html`<h1>${t('admin.title')}</h1>${loadError({ status: 403 })}`;
    }
    const sections = visibleSections(this.user, this.schema);
    const current = this.section;
    const link = (id, label) => html`<li><a href=${href(id ? `/admin/${id}` : '/admin')}
      aria-current=${current === id ? 'page' : nothing}>${label}</a></li>`;
    return html`<div class="admin">
      <nav class="tabs" aria-label=${t('admin.title')}><ul>
        ${link('', t('admin.dashboard'))}
        ${sections.map((s) => link(s.id, t(`admin.section.${s.id}`)))}
      </ul></nav>
      <div class="admin-body">${this.content(sections)}</div>
    </div>`;
  }
}

customElements.define('ob-admin', ObAdmin);
