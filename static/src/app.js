// <ob-app>: the shell (header, navigation, language, theme, the outlet
// where the route's view lives, a live region for announcements).
import { View, html, nothing, t, announce } from './ui.js';
import { Router, hashPath } from './router.js';
import { list, get } from './api.js';
import { setLanguage, language, UI_LANGUAGES } from './i18n.js';
import { currentUser, onSessionChange, logout } from './session.js';
import { live } from './live.js';
import './views/library.js';
import './views/textbook.js';

const admin = () => import('./admin/index.js');
const account = () => import('./account/index.js');
const courses = () => import('./views/courses.js');
const studio = () => import('./studio/index.js');

/** Every screen.  Reader views are in the main bundle (the first page
 * shows without a second round trip); the rest are chunks loaded on first
 * use.  The studio of issue 16 adds its routes here with its own import(). */
export const ROUTES = [
  { pattern: '/', element: 'ob-home' },
  { pattern: '/groups/:id', element: 'ob-group' },
  { pattern: '/textbooks/:id', element: 'ob-textbook' },
  { pattern: '/textbooks/:id/pages/:page', element: 'ob-textbook' },
  { pattern: '/courses', element: 'ob-courses', load: courses },
  { pattern: '/courses/:id', element: 'ob-course', load: courses },
  { pattern: '/admin', element: 'ob-admin', load: admin },
  { pattern: '/admin/:section', element: 'ob-admin', load: admin },
  { pattern: '/admin/:section/:id', element: 'ob-admin', load: admin },
  { pattern: '/account/login', element: 'ob-login', load: account },
  { pattern: '/account/login/code', element: 'ob-login-code', load: account },
  { pattern: '/account/signup', element: 'ob-signup', load: account },
  { pattern: '/account/verify-email/:key', element: 'ob-verify-email', load: account },
  { pattern: '/account/password/reset', element: 'ob-password-request', load: account },
  { pattern: '/account/password/reset/key/:key', element: 'ob-password-reset', load: account },
  { pattern: '/account', element: 'ob-account', load: account },
  { pattern: '/account/:section', element: 'ob-account', load: account },
  { pattern: '/studio', element: 'ob-studio-home', load: studio },
  { pattern: '/studio/textbooks/:id', element: 'ob-studio-textbook', load: studio },
  { pattern: '/studio/textbooks/:id/pages/:page', element: 'ob-studio-textbook', load: studio },
  { pattern: '/studio/courses/:id', element: 'ob-studio-course', load: studio },
  { pattern: '/studio/groups/:id', element: 'ob-studio-group', load: studio },
  { pattern: '*', element: 'ob-not-found' },
];

const THEME_KEY = 'ob.theme';

export function preferredTheme() {
  try {
    const saved = localStorage.getItem(THEME_KEY);
    if (saved === 'light' || saved === 'dark') return saved;
  } catch {
    /* storage off */
  }
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

class ObApp extends View {
  static properties = {
    user: { state: true }, languages: { state: true }, theme: { state: true },
    online: { state: true }, siteName: { state: true },
  };

  constructor() {
    super();
    this.router = new Router(ROUTES);
    this.user = currentUser();
    this.languages = UI_LANGUAGES.map((l) => ({ language: l, name: l }));
    this.theme = document.documentElement.dataset.theme || 'light';
    this.online = navigator.onLine;
    this.view = null;
    this.navSeq = 0;
  }

  connectedCallback() {
    super.connectedCallback();
    this._onHash = () => this.navigate();
    addEventListener('hashchange', this._onHash);
    addEventListener('online', () => { this.online = true; });
    addEventListener('offline', () => { this.online = false; });
    this._offSession = onSessionChange((u) => {
      this.user = u;
      live.want('user', u ? [`user:${u.id}`] : []);
    });
    list('languages', {}, { pageSize: 100 }).then((r) => { this.languages = r.results; }, () => {});
    get('sites', 1).then((s) => { this.siteName = s.short_name || s.name; }, () => {});
  }

  firstUpdated() {
    this.navigate();
  }

  languageChanged() {
    super.languageChanged();
    const r = this.router.resolve(hashPath(location.hash));
    if (this.view && r) this.view.requestUpdate();
  }

  async navigate() {
    performance.mark('ob:navigate');
    const seq = ++this.navSeq;
    const path = hashPath(location.hash);
    const { route, params } = this.router.resolve(path);
    const outlet = this.querySelector('#main');
    if (route.load) {
      try {
        await route.load();
      } catch {
        if (seq === this.navSeq) outlet.replaceChildren(Object.assign(document.createElement('p'), { textContent: t('error.offline') }));
        return;
      }
    }
    if (seq !== this.navSeq) return;
    // Same view (e.g. the next page of the same textbook): new params only.
    if (this.view && this.view.localName === route.element && this.view.isConnected) {
      this.view.params = params;
      return;
    }
    const el = document.createElement(route.element);
    el.params = params;
    this.view = el;
    outlet.replaceChildren(el);
    window.scrollTo(0, 0);
  }

  toggleTheme() {
    this.theme = this.theme === 'dark' ? 'light' : 'dark';
    document.documentElement.dataset.theme = this.theme;
    try {
      localStorage.setItem(THEME_KEY, this.theme);
    } catch {
      /* storage off */
    }
  }

  changeLanguage(e) {
    setLanguage(e.target.value);
    announce(t('app.languageChanged'));
  }

  async signOut() {
    await logout();
    live.restart();
    location.hash = '#/';
    announce(t('nav.loggedOut'));
  }

  render() {
    const u = this.user;
    return html`<a class="skip" href="#main" @click=${(e) => { e.preventDefault(); this.querySelector('#main').focus(); }}>${t('nav.skip')}</a>
      <header class="top">
        <a class="brand" href="#/">${this.siteName || t('app.name')}</a>
        <nav class="primary" aria-label=${t('nav.main')}><ul>
          <li><a href="#/">${t('nav.library')}</a></li>
          <li><a href="#/courses">${t('nav.courses')}</a></li>
          ${u ? html`<li><a href="#/studio">${t('nav.studio')}</a></li>` : nothing}
        </ul></nav>
        <div class="tools">
          <label class="visually-hidden" for="ob-lang">${t('nav.language')}</label>
          <select id="ob-lang" @change=${(e) => this.changeLanguage(e)}>
            ${this.languages.map((l) => html`<option value=${l.language} ?selected=${l.language === language()}>${l.name}</option>`)}
          </select>
          <button type="button" class="icon" aria-pressed=${this.theme === 'dark' ? 'true' : 'false'}
            @click=${() => this.toggleTheme()}>${t('nav.darkTheme')}</button>
          ${u && (u.is_staff || u.is_superuser) ? html`<a href="#/admin">${t('nav.admin')}</a>` : nothing}
          ${u ? html`<a href="#/account/profile" class="user">${u.username}</a>
              <button type="button" class="secondary" @click=${() => this.signOut()}>${t('nav.logout')}</button>`
            : html`<a href="#/account/login">${t('nav.login')}</a> <a href="#/account/signup" class="button">${t('nav.signup')}</a>`}
        </div>
      </header>
      ${this.online ? nothing : html`<div class="offline" role="status">${t('app.offline')}</div>`}
      <main id="main" tabindex="-1"></main>
      <footer class="foot"><p>${t('app.footer')}</p></footer>
      <div id="ob-announce" class="visually-hidden" aria-live="polite"></div>`;
  }
}

class ObNotFound extends View {
  connectedCallback() {
    super.connectedCallback();
    document.title = t('error.notFound');
  }

  render() {
    return html`<h1>${t('error.notFound')}</h1><p><a href="#/">${t('nav.library')}</a></p>`;
  }
}

customElements.define('ob-app', ObApp);
customElements.define('ob-not-found', ObNotFound);
