// <ob-admin-dashboard> (#/admin): the installation at a glance: health,
// versions, how many of each thing there are, the latest sign-ups, and
// the sections this user may use.  Only what the API exposes: the mail
// outbox's state is not (see the README), so the screen says so.
import { AdminSection, html, nothing, t } from './common.js';
import { list, request, ApiError } from '../api.js';
import { RESOURCES } from '../endpoints.js';
import { formatDate } from '../i18n.js';
import { href } from '../router.js';
import { visibleSections } from './access.js';

/** What is counted: [resource name in endpoints, its key field, label]. */
const COUNTS = [
  ['adminUsers', 'username', 'admin.count.users'],
  ['adminGroups', 'id', 'admin.count.groups'],
  ['libraryGroups', 'id', 'admin.count.libraryGroups'],
  ['textbooks', 'id', 'admin.count.textbooks'],
  ['courses', 'id', 'admin.count.courses'],
  ['adminLanguages', 'language', 'admin.count.languages'],
  ['htmlLibraries', 'id', 'admin.count.libraries'],
  ['mediaFiles', 'id', 'admin.count.media'],
];

/** The app's build id (index.html loads main.js?v=<build>). */
function appBuild() {
  const s = document.querySelector('script[type="module"][src*="main.js"]');
  const m = s && /[?&]v=([\w-]+)/.exec(s.getAttribute('src'));
  return m ? m[1] : '';
}

class ObAdminDashboard extends AdminSection {
  static properties = {
    ...AdminSection.properties, health: { state: true }, counts: { state: true }, signups: { state: true },
  };

  async load() {
    this.titled(t('admin.dashboard'));
    const started = performance.now();
    const health = request('GET', '/api/core/sites/health/').then(
      (b) => ({ good: b && b.status === 'GOOD', ms: Math.round(performance.now() - started) }),
      (e) => ({ good: false, ms: Math.round(performance.now() - started), status: e instanceof ApiError ? e.status : 0 }),
    );
    const counts = Promise.all(COUNTS.map(async ([name, key, label]) => {
      const path = this.pathOf(name);
      // Counted where the user may list (model permission) or anyone
      // may read; a count of only oneself would mislead.
      const res = path && this.res(path);
      if (!res || !(this.rights(path).list || res.access === 'anon_read')) return null;
      try {
        const r = await list(name, {}, { fields: [key], pageSize: 1 });
        return { label, count: r.count, section: this.sectionOf(path) };
      } catch {
        return null;   // not readable by this user
      }
    }));
    const signups = !this.rights('/api/auth/users/').list ? Promise.resolve(null) : list('adminUsers', {}, {
      fields: ['username', 'full_name', 'date_joined', 'is_active'], sort: '-date_joined', pageSize: 8,
    }).then((r) => r.results, () => null);
    this.health = await health;
    this.counts = (await counts).filter(Boolean);
    this.signups = await signups;
    if (this.user.is_superuser) {
      // Accounts waiting: inactive ones (superusers only may filter so).
      try {
        const inactive = await list('adminUsers', { is_active: false }, { fields: ['username'], pageSize: 1 });
        this.inactive = inactive.count;
        this.requestUpdate();
      } catch {
        /* not for this user */
      }
    }
  }

  pathOf(name) {
    return RESOURCES[name] && RESOURCES[name].path;   // joined by index.js
  }

  sectionOf(path) {
    const s = visibleSections(this.user, this.schema).find((x) => x.paths.includes(path));
    return s ? s.id : null;
  }

  render() {
    const sections = visibleSections(this.user, this.schema);
    const h = this.health;
    return html`<h1>${t('admin.dashboard')}</h1>
      <p class="lead">${t('admin.welcome', { name: this.user.full_name || this.user.username })}</p>
      ${sections.length ? nothing : html`<div class="notice info"><p>${t('admin.nothingToAdminister')}</p></div>`}
      <div class="dash">
        <section aria-labelledby="d-health" class="card"><h2 id="d-health">${t('admin.health')}</h2>
          ${h ? html`<p><strong class=${h.good ? 'ok' : 'bad'}>${h.good ? t('admin.healthGood') : t('admin.healthBad')}</strong>
            ${t('admin.healthTime', { ms: h.ms })}</p>` : html`<p class="loading">${t('common.loading')}</p>`}
        </section>
        <section aria-labelledby="d-versions" class="card"><h2 id="d-versions">${t('admin.versions')}</h2>
          <dl class="facts">
            <dt>${t('admin.apiVersion')}</dt><dd>${this.schema.version || '—'}</dd>
            <dt>${t('admin.appBuild')}</dt><dd><code>${appBuild() || '—'}</code></dd>
          </dl>
        </section>
        <section aria-labelledby="d-mail" class="card"><h2 id="d-mail">${t('admin.mail')}</h2>
          <p>${t('admin.mailNotExposed')}</p>
        </section>
      </div>
      <section aria-labelledby="d-counts"><h2 id="d-counts">${t('admin.counts')}</h2>
        ${this.counts ? html`<table class="list counts"><tbody>
          ${this.counts.map((c) => html`<tr><th scope="row">${c.section ? html`<a href=${href(`/admin/${c.section}`)}>${t(c.label)}</a>` : t(c.label)}</th><td>${c.count}</td></tr>`)}
          ${this.inactive !== undefined ? html`<tr><th scope="row">${t('admin.count.inactive')}</th><td>${this.inactive}</td></tr>` : nothing}
        </tbody></table>` : html`<p class="loading">${t('common.loading')}</p>`}
      </section>
      ${this.signups ? html`<section aria-labelledby="d-signups"><h2 id="d-signups">${t('admin.recentSignups')}</h2>
        ${this.signups.length ? html`<table class="list"><thead><tr><th scope="col">${t('admin.user.username')}</th>
          <th scope="col">${t('admin.user.name')}</th><th scope="col">${t('admin.user.joined')}</th>
          ${this.user.is_superuser ? html`<th scope="col">${t('admin.user.state')}</th>` : nothing}</tr></thead>
          <tbody>${this.signups.map((u) => html`<tr>
            <td>${sections.some((s) => s.id === 'users') ? html`<a href=${href(`/admin/users/${encodeURIComponent(u.username)}`)}>${u.username}</a>` : u.username}</td>
            <td>${u.full_name}</td><td>${formatDate(u.date_joined)}</td>
            ${this.user.is_superuser ? html`<td>${u.is_active ? t('admin.user.active') : t('admin.user.inactive')}</td>` : nothing}</tr>`)}
          </tbody></table>` : html`<p>${t('admin.none')}</p>`}
      </section>` : nothing}`;
  }
}

customElements.define('ob-admin-dashboard', ObAdminDashboard);
