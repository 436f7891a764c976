// <ob-admin-site> (#/admin/site): the site (domain, names, about URL,
// brand colour; staff + change_site) and its authentication settings
// (sign-up open, e-mail suffix, where logout leads and its link text per
// language, the images of the sign-up, login, logout and password reset
// screens; superusers).  Images go up as multipart with a progress bar; a
// server without multipart writes answers 415, which is explained.
import { AdminSection, html, nothing, t, checkbox, localErrors } from './common.js';
import { field, formValues } from '../ui.js';
import { listAll, get, patch } from '../api.js';
import { safeUrl } from '../render.js';
import { checkSite, hasErrors } from './validate.js';
import { upload, uploadErrors } from './upload.js';
import { progressBar } from './progress.js';

const SITES = '/api/core/sites/';
const AUTH_CONFIGS = '/api/auth/auth_configs/';
const IMAGES = ['signup_image', 'login_image', 'logout_image', 'password_reset_image'];

class ObAdminSite extends AdminSection {
  static section = 'site';

  static properties = {
    ...AdminSection.properties, sites: { state: true }, configs: { state: true }, languages: { state: true }, progress: { state: true },
  };

  constructor() {
    super();
    this.progress = {};
  }

  async load() {
    await this.fetching(async () => {
      const [sites, languages] = await Promise.all([listAll('adminSites'), listAll('adminLanguages').catch(() => [])]);
      const configs = {};
      await Promise.all(sites.map(async (s) => {
        configs[s.id] = await get('authConfigs', s.id, { expand: ['translations'] }).catch(() => null);
      }));
      Object.assign(this, { sites, languages, configs });
    });
  }

  async saveSite(e, site) {
    e.preventDefault();
    const v = formValues(e.target);
    const body = { domain: v.domain, name: v.name, short_name: v.short_name, about_url: v.about_url, brand_color: v.brand_color };
    const local = checkSite(body);
    const scope = `site-${site.id}`;
    if (hasErrors(local)) {
      this.errors = { ...this.errors, [scope]: localErrors(local) };
      return;
    }
    const r = await this.run(() => patch('adminSites', site.id, body), scope);
    if (r) {
      this.sites = this.sites.map((s) => (s.id === r.id ? r : s));
      this.say(t('admin.saved'));
    }
  }

  async saveConfig(e, site) {
    e.preventDefault();
    const form = e.target;
    const v = formValues(form);
    const translations = (this.languages || []).map((l) => ({ language: l.language, logout_next_text: (v[`lt-${l.language}`] || '').trim() }))
      .filter((x) => x.logout_next_text);
    const scope = `auth-${site.id}`;
    if (!v.logout_next_url || !v.logout_next_url.trim()) {
      this.errors = { ...this.errors, [scope]: { logout_next_url: [t('admin.v.required')] } };
      return;
    }
    const body = {
      local_signup_allowed: !!v.local_signup_allowed, signup_email_suffix: v.signup_email_suffix.trim(),
      logout_next_url: v.logout_next_url.trim(), translations,
    };
    const r = await this.run(() => patch('authConfigs', site.id, body), scope);
    if (r) {
      this.configs = { ...this.configs, [site.id]: await get('authConfigs', site.id, { expand: ['translations'] }) };
      this.say(t('admin.saved'));
    }
  }

  async uploadImage(site, name) {
    const input = this.querySelector(`#img-${site.id}-${name}`);
    const file = input && input.files[0];
    const scope = `img-${site.id}-${name}`;
    if (!file) {
      this.errors = { ...this.errors, [scope]: { '': [t('admin.site.chooseFile')] } };
      return;
    }
    this.errors = { ...this.errors, [scope]: {} };
    this.progress = { ...this.progress, [scope]: { loaded: 0, total: file.size } };
    const res = await upload('PATCH', `${AUTH_CONFIGS}${site.id}/`, { [name]: file }, {
      onProgress: (loaded, total) => { this.progress = { ...this.progress, [scope]: { loaded, total } }; },
    });
    this.progress = { ...this.progress, [scope]: null };
    if (res.status === 200) {
      input.value = '';
      this.configs = { ...this.configs, [site.id]: { ...this.configs[site.id], [name]: res.body[name] } };
      this.say(t('admin.site.imageUploaded'));
    } else {
      // 415: this server takes no multipart writes (yet); say so in words.
      this.errors = { ...this.errors, [scope]: res.status === 415 ? { '': [t('admin.site.uploadUnsupported')] }
        : uploadErrors(res, (s) => (s === 0 ? t('error.offline') : t('error.generic'))) };
    }
  }

  async clearImage(site, name) {
    const scope = `img-${site.id}-${name}`;
    const r = await this.run(() => patch('authConfigs', site.id, { [name]: '' }), scope);
    if (r) {
      this.configs = { ...this.configs, [site.id]: { ...this.configs[site.id], [name]: null } };
      this.say(t('admin.site.imageRemoved'));
    }
  }

  image(site, cfg, name, canWrite) {
    const scope = `img-${site.id}-${name}`;
    const url = cfg[name] ? safeUrl(cfg[name]) : null;
    const label = t(`admin.site.${name}`);
    const p = this.progress[scope];
    return html`<div class="image-field" role="group" aria-labelledby=${`${scope}-label`}>
      <h4 id=${`${scope}-label`}>${label}</h4>
      ${url ? html`<a href=${url}><img src=${url} alt=${t('admin.site.currentImage', { image: label })} class="thumb"></a>` : html`<p>${t('admin.site.noImage')}</p>`}
      ${canWrite ? html`<div class="upload-row">
        <label class="visually-hidden" for=${scope}>${t('admin.site.chooseImage', { image: label })}</label>
        <input type="file" id=${scope} accept="image/*">
        <button type="button" class="secondary" ?disabled=${!!p} @click=${() => this.uploadImage(site, name)}>${t('admin.upload')}</button>
        ${url ? html`<button type="button" class="danger" ?disabled=${this.busy} @click=${() => this.clearImage(site, name)}
          aria-label=${t('admin.site.removeImage', { image: label })}>${t('admin.remove')}</button>` : nothing}
      </div>
      ${p ? progressBar(p.loaded, p.total, t('admin.site.uploading', { image: label })) : nothing}` : nothing}
      ${this.general(scope)}
    </div>`;
  }

  site(s) {
    const siteRights = this.rights(SITES);
    const cfgRights = this.rights(AUTH_CONFIGS);
    const cfg = this.configs[s.id];
    const se = (k) => this.err(k, `site-${s.id}`);
    const ae = (k) => this.err(k, `auth-${s.id}`);
    const text = (lang) => ((cfg && cfg.translations) || []).find((x) => x.language === lang)?.logout_next_text || '';
    return html`<section aria-labelledby=${`site-${s.id}`}><h2 id=${`site-${s.id}`}>${t('admin.site.site', { name: s.name })}</h2>
      ${siteRights.change ? html`<form novalidate @submit=${(e) => this.saveSite(e, s)}>
        ${field({ id: `s-domain-${s.id}`, name: 'domain', label: t('admin.site.domain'), value: s.domain, errors: se('domain'), required: true })}
        ${field({ id: `s-name-${s.id}`, name: 'name', label: t('admin.name'), value: s.name, errors: se('name'), required: true })}
        ${field({ id: `s-short-${s.id}`, name: 'short_name', label: t('admin.site.shortName'), value: s.short_name, errors: se('short_name'), required: true })}
        ${field({ id: `s-about-${s.id}`, name: 'about_url', label: t('admin.site.aboutUrl'), type: 'url', value: s.about_url, errors: se('about_url'), required: true })}
        <div class="color-row">${field({ id: `s-color-${s.id}`, name: 'brand_color', label: t('admin.site.brandColor'), value: s.brand_color, errors: se('brand_color'),
          hint: t('admin.site.brandColorHint') })}<span class="swatch" style=${`background:${/^#[0-9a-fA-F]{3,6}$/.test(s.brand_color) ? s.brand_color : 'transparent'}`} aria-hidden="true"></span></div>
        ${this.general(`site-${s.id}`, ['domain', 'name', 'short_name', 'about_url', 'brand_color'])}
        <button type="submit" ?disabled=${this.busy}>${t('admin.save')}</button>
      </form>` : html`<dl class="facts"><dt>${t('admin.site.domain')}</dt><dd>${s.domain}</dd><dt>${t('admin.name')}</dt><dd>${s.name}</dd>
        <dt>${t('admin.site.shortName')}</dt><dd>${s.short_name}</dd><dt>${t('admin.site.aboutUrl')}</dt><dd>${s.about_url}</dd>
        <dt>${t('admin.site.brandColor')}</dt><dd>${s.brand_color}</dd></dl>`}
      ${cfg ? html`<h3>${t('admin.site.auth')}</h3>
        ${cfgRights.change ? html`<form novalidate @submit=${(e) => this.saveConfig(e, s)}>
          ${checkbox({ id: `a-signup-${s.id}`, name: 'local_signup_allowed', label: t('admin.site.signupAllowed'), checked: cfg.local_signup_allowed })}
          ${field({ id: `a-suffix-${s.id}`, name: 'signup_email_suffix', label: t('admin.site.emailSuffix'), value: cfg.signup_email_suffix,
            errors: ae('signup_email_suffix'), hint: t('admin.site.emailSuffixHint') })}
          ${field({ id: `a-logout-${s.id}`, name: 'logout_next_url', label: t('admin.site.logoutUrl'), value: cfg.logout_next_url, errors: ae('logout_next_url'), required: true })}
          <fieldset><legend>${t('admin.site.logoutText')}</legend>
            ${(this.languages || []).map((l) => field({ id: `a-lt-${s.id}-${l.language}`, name: `lt-${l.language}`, label: l.name, value: text(l.language) }))}
          </fieldset>
          ${this.general(`auth-${s.id}`, ['signup_email_suffix', 'logout_next_url'])}
          <button type="submit" ?disabled=${this.busy}>${t('admin.save')}</button>
        </form>` : html`<dl class="facts"><dt>${t('admin.site.signupAllowed')}</dt><dd>${cfg.local_signup_allowed ? t('admin.yes') : t('admin.no')}</dd>
          <dt>${t('admin.site.emailSuffix')}</dt><dd>${cfg.signup_email_suffix || '—'}</dd>
          <dt>${t('admin.site.logoutUrl')}</dt><dd>${cfg.logout_next_url}</dd></dl>`}
        <h3>${t('admin.site.images')}</h3>
        <div class="images">${IMAGES.map((n) => this.image(s, cfg, n, cfgRights.change))}</div>` : nothing}
    </section>`;
  }

  render() {
    return this.frame(t('admin.section.site'), () => html`${(this.sites || []).map((s) => this.site(s))}`, !!this.sites);
  }
}

customElements.define('ob-admin-site', ObAdminSite);
