// <ob-account> (#/account/<section>): the signed-in user's account:
// profile, e-mail addresses, password, this session, API tokens.
//
// Changing e-mail addresses needs a recent authentication (api-auth.md
// §4.14): a 401 with is_authenticated true asks for the password again
// (POST /auth/reauthenticate) and then repeats the change.
import { AuthForm, html, nothing, t } from './forms.js';
import { auth, get, patch, listAll, create, destroy, ApiError } from '../api.js';
import { setTitle, focusHeading, announce, loading, loadError, field, formErrors, formValues } from '../ui.js';
import { currentUser, refreshSession, logout, ready } from '../session.js';
import { live } from '../live.js';
import { formatDate } from '../i18n.js';
import { safeUrl } from '../render.js';

const SECTIONS = ['profile', 'email', 'password', 'sessions', 'tokens'];

class ObAccount extends AuthForm {
  static properties = {
    ...AuthForm.properties, emails: { state: true }, tokens: { state: true }, profile: { state: true },
    sessionInfo: { state: true }, newToken: { state: true }, reauth: { state: true }, message: { state: true },
    loadErr: { state: true },
  };

  get section() {
    return SECTIONS.includes(this.params.section) ? this.params.section : 'profile';
  }

  willUpdate(changed) {
    if (changed.has('params')) {
      this.errors = {};
      this.message = null;
      this.newToken = null;
      this.load();
    }
  }

  async load() {
    await ready();
    const me = currentUser();
    if (!me) {
      location.replace(`#/account/login?next=${encodeURIComponent('/account/' + this.section)}`);
      return;
    }
    setTitle(t(`account.${this.section}`));
    this.loadErr = null;
    try {
      if (this.section === 'profile') this.profile = await get('users', me.username);
      if (this.section === 'email') await this.loadEmails();
      if (this.section === 'tokens') this.tokens = await listAll('authTokens', { user: me.username });
      if (this.section === 'sessions') this.sessionInfo = await auth('session');
    } catch (e) {
      this.loadErr = e;
    }
    await this.updateComplete;
    focusHeading(this);
  }

  async loadEmails() {
    const env = await auth('emails');
    this.emails = env.status === 200 ? env.data : [];
  }

  say(text, kind = 'success') {
    this.message = { kind, text };
    announce(text);
  }

  // ---- profile

  async saveProfile(e) {
    e.preventDefault();
    const v = formValues(e.target);
    this.busy = true;
    this.errors = {};
    try {
      this.profile = await patch('users', currentUser().username,
        { first_name: v.first_name, last_name: v.last_name, description: v.description });
      await refreshSession();
      this.say(t('account.saved'));
    } catch (err) {
      this.errors = err instanceof ApiError ? { ...err.fields, '': err.detail ? [err.detail] : [] } : { '': [t('error.generic')] };
    } finally {
      this.busy = false;
    }
  }

  // ---- e-mail addresses (with re-authentication)

  async emailChange(name, body, okText) {
    this.errors = {};
    const env = await auth(name, body);
    if (env.status === 401 && env.meta.is_authenticated) {
      // Ask for the password, then repeat.
      this.reauth = { name, body, okText };
      await this.updateComplete;
      this.querySelector('#f-reauth-password')?.focus();
      return env;
    }
    if (env.status === 200) {
      if (Array.isArray(env.data)) this.emails = env.data;
      else await this.loadEmails();
      this.say(okText);
      await refreshSession();
    } else if (env.status === 400) {
      const errs = {};
      for (const er of env.errors) (errs[er.param === 'email' ? 'email' : ''] ||= []).push(er.message);
      this.errors = errs;
    } else if (env.status === 403) {
      this.errors = { '': [t('email.resendRefused')] };
    } else if (env.status === 429) {
      this.errors = { '': [t('error.rateLimited')] };
    } else {
      this.errors = { '': [t('error.generic')] };
    }
    return env;
  }

  async confirmReauth(e) {
    const env = await this.submit(e, (v) => auth('reauthenticate', { password: v.password }));
    if (env && env.status === 200) {
      const r = this.reauth;
      this.reauth = null;
      await this.emailChange(r.name, r.body, r.okText);
    }
  }

  async addEmail(e) {
    e.preventDefault();
    const form = e.target;
    const email = form.elements.email.value;
    const env = await this.emailChange('emailAdd', { email }, t('email.added', { email }));
    if (env.status === 200) form.reset();
  }

  // ---- password

  async changePassword(e) {
    const form = e.target;
    const env = await this.submit(e, (v) => auth('passwordChange', { current_password: v.current_password, new_password: v.new_password }));
    if (env && env.status === 200) {
      form.reset();
      this.values = {};
      this.say(t('password.changed'));
    }
  }

  // ---- tokens

  async createToken(e) {
    e.preventDefault();
    const form = e.target;
    const v = formValues(form);
    this.errors = {};
    try {
      const body = { name: v.name, description: v.description || '' };
      if (v.end_date) body.end_date = new Date(v.end_date).toISOString();
      const tok = await create('authTokens', body);
      this.newToken = tok;
      form.reset();
      this.tokens = await listAll('authTokens', { user: currentUser().username });
      announce(t('tokens.created'));
      await this.updateComplete;
      this.querySelector('#new-token')?.focus();
    } catch (err) {
      if (err instanceof ApiError && (err.status === 404 || err.status === 403)) {
        // Own tokens need openbook_auth.manage_own_authtoken (permissions.md, rule T).
        this.errors = { '': [t('tokens.notAllowed')] };
      } else {
        this.errors = err instanceof ApiError ? { ...err.fields, '': err.detail ? [err.detail] : [] } : { '': [t('error.generic')] };
      }
    }
  }

  async revokeToken(tok) {
    if (!confirm(t('tokens.revokeConfirm', { name: tok.name }))) return;
    try {
      await destroy('authTokens', tok.id);
      this.tokens = this.tokens.filter((x) => x.id !== tok.id);
      this.say(t('tokens.revoked', { name: tok.name }));
    } catch (err) {
      this.errors = { '': [err.detail || t('error.generic')] };
    }
  }

  async copyToken() {
    try {
      await navigator.clipboard.writeText(this.newToken.token);
      announce(t('tokens.copied'));
    } catch {
      this.querySelector('#new-token')?.select();
    }
  }

  async signOut() {
    await logout();
    live.restart();
    location.hash = '#/';
  }

  // ---- rendering

  renderProfile() {
    const p = this.profile;
    if (!p) return loading();
    return html`<form @submit=${(e) => this.saveProfile(e)} novalidate>
      <p>${t('account.username')}: <strong>${p.username}</strong></p>
      ${p.picture && safeUrl(p.picture, { mailto: false }) ? html`<p><img class="avatar" src=${p.picture} alt=${t('account.picture')} width="96" height="96"></p>` : nothing}
      ${field({ id: 'f-first_name', name: 'first_name', label: t('field.firstName'), value: p.first_name, autocomplete: 'given-name', errors: this.errors.first_name || [] })}
      ${field({ id: 'f-last_name', name: 'last_name', label: t('field.lastName'), value: p.last_name, autocomplete: 'family-name', errors: this.errors.last_name || [] })}
      <div class="field"><label for="f-description">${t('field.about')}</label>
        <textarea id="f-description" name="description" rows="4" .value=${p.description || ''}></textarea></div>
      ${this.general()}
      ${this.submitButton(t('account.save'))}
    </form>`;
  }

  renderEmail() {
    if (!this.emails) return loading();
    return html`<table class="list">
      <caption class="visually-hidden">${t('account.email')}</caption>
      <thead><tr><th scope="col">${t('field.email')}</th><th scope="col">${t('email.state')}</th><th scope="col">${t('common.actions')}</th></tr></thead>
      <tbody>${this.emails.map((m) => html`<tr>
        <td>${m.email}</td>
        <td>${m.primary ? t('email.primary') : ''} ${m.verified ? t('email.verified') : t('email.unverified')}</td>
        <td class="actions">
          ${!m.verified ? html`<button type="button" class="secondary" @click=${() => this.emailChange('emailResend', { email: m.email }, t('email.resent', { email: m.email }))}>${t('email.resend')}</button>` : nothing}
          ${m.verified && !m.primary ? html`<button type="button" class="secondary" @click=${() => this.emailChange('emailPrimary', { email: m.email, primary: true }, t('email.madePrimary', { email: m.email }))}>${t('email.makePrimary')}</button>` : nothing}
          ${!m.primary ? html`<button type="button" class="danger" @click=${() => this.emailChange('emailRemove', { email: m.email }, t('email.removed', { email: m.email }))}>${t('email.remove')}</button>` : nothing}
        </td></tr>`)}</tbody></table>
      ${this.reauth ? html`<form class="card reauth" @submit=${(e) => this.confirmReauth(e)} novalidate>
          <h2>${t('reauth.title')}</h2><p>${t('reauth.lead')}</p>
          ${field({ id: 'f-reauth-password', name: 'password', type: 'password', label: t('field.password'), autocomplete: 'current-password', errors: this.errors.password || [] })}
          ${this.submitButton(t('reauth.submit'))}
          <button type="button" class="secondary" @click=${() => { this.reauth = null; }}>${t('common.cancel')}</button>
        </form>` : nothing}
      <form @submit=${(e) => this.addEmail(e)} novalidate>
        <h2>${t('email.add')}</h2>
        ${field({ id: 'f-email', name: 'email', type: 'email', label: t('field.email'), autocomplete: 'email', errors: this.errors.email || [] })}
        ${formErrors(this.errors[''])}
        <button type="submit">${t('email.addSubmit')}</button>
      </form>`;
  }

  renderPassword() {
    return html`<form @submit=${(e) => this.changePassword(e)} novalidate>
      <input type="text" name="username" autocomplete="username" value=${currentUser().username} hidden>
      ${this.input('current_password', t('field.currentPassword'), { type: 'password', autocomplete: 'current-password' })}
      ${this.input('new_password', t('field.newPassword'), { type: 'password', autocomplete: 'new-password', hint: t('password.hint') })}
      ${this.general()}
      ${this.submitButton(t('password.submit'))}
    </form>`;
  }

  renderSessions() {
    const env = this.sessionInfo;
    if (!env) return loading();
    const methods = (env.data && env.data.methods) || [];
    return html`<p>${t('sessions.lead')}</p>
      <h2>${t('sessions.this')}</h2>
      <ul>${methods.map((m) => html`<li>${t(m.reauthenticated ? 'sessions.reauth' : m.method === 'code' ? 'sessions.code' : 'sessions.password',
        { date: formatDate(new Date(m.at * 1000).toISOString()) })}</li>`)}</ul>
      <p class="hint">${t('sessions.others')}</p>
      <button type="button" @click=${() => this.signOut()}>${t('nav.logout')}</button>`;
  }

  renderTokens() {
    if (!this.tokens) return loading();
    return html`
      ${this.newToken ? html`<div class="notice success" role="status">
        <p>${t('tokens.showOnce')}</p>
        <label for="new-token">${t('tokens.yourToken', { name: this.newToken.name })}</label>
        <input id="new-token" class="token" readonly .value=${this.newToken.token}>
        <button type="button" class="secondary" @click=${() => this.copyToken()}>${t('tokens.copy')}</button></div>` : nothing}
      ${this.tokens.length ? html`<table class="list"><caption class="visually-hidden">${t('account.tokens')}</caption>
        <thead><tr><th scope="col">${t('field.name')}</th><th scope="col">${t('tokens.prefix')}</th><th scope="col">${t('tokens.createdAt')}</th><th scope="col">${t('tokens.expires')}</th><th scope="col">${t('common.actions')}</th></tr></thead>
        <tbody>${this.tokens.map((k) => html`<tr><td>${k.name}</td><td><code>${k.token_prefix}…</code></td>
          <td>${formatDate(k.created_at)}</td><td>${k.end_date ? formatDate(k.end_date) : t('tokens.never')}</td>
          <td><button type="button" class="danger" @click=${() => this.revokeToken(k)}>${t('tokens.revoke')}<span class="visually-hidden"> ${k.name}</span></button></td></tr>`)}</tbody></table>`
        : html`<p>${t('tokens.none')}</p>`}
      <form @submit=${(e) => this.createToken(e)} novalidate>
        <h2>${t('tokens.new')}</h2>
        ${field({ id: 'f-name', name: 'name', label: t('field.name'), errors: this.errors.name || [], required: true })}
        ${field({ id: 'f-tdesc', name: 'description', label: t('field.description'), errors: this.errors.description || [] })}
        ${field({ id: 'f-end', name: 'end_date', type: 'date', label: t('tokens.expiresOptional'), errors: [...(this.errors.end_date || []), ...(this.errors.non_field_errors || [])] })}
        ${formErrors(this.errors[''])}
        <button type="submit">${t('tokens.create')}</button>
      </form>`;
  }

  render() {
    if (!currentUser()) return loading();
    const s = this.section;
    const body = this.loadErr ? loadError(this.loadErr) : {
      profile: () => this.renderProfile(), email: () => this.renderEmail(), password: () => this.renderPassword(),
      sessions: () => this.renderSessions(), tokens: () => this.renderTokens(),
    }[s]();
    return html`<div class="account">
      <nav class="tabs" aria-label=${t('account.sections')}><ul>
        ${SECTIONS.map((x) => html`<li><a href="#/account/${x}" aria-current=${x === s ? 'page' : nothing}>${t(`account.${x}`)}</a></li>`)}
      </ul></nav>
      <div class="account-body">
        <h1>${t(`account.${s}`)}</h1>
        ${this.message ? html`<div class="notice ${this.message.kind}" role="status">${this.message.text}</div>` : nothing}
        ${body}
      </div></div>`;
  }
}

customElements.define('ob-account', ObAccount);
