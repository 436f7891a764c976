// Sign-up, log-in (password and e-mailed code), e-mail verification and
// password reset: the browser flows of api-auth.md.  Every error message
// of the API is shown next to its field (`param`), the others above the
// submit button.
import { AuthForm, afterLogin, nextParam, html, nothing, t } from './forms.js';
import { auth, pendingFlows } from '../api.js';
import { setTitle, focusHeading, announce, loading } from '../ui.js';
import { currentUser } from '../session.js';

function page(title, body) {
  return html`<div class="narrow"><h1>${title}</h1>${body}</div>`;
}

class Screen extends AuthForm {
  titleKey = '';

  connectedCallback() {
    super.connectedCallback();
    setTitle(t(this.titleKey));
    this.updateComplete.then(() => focusHeading(this));
  }
}

class ObLogin extends Screen {
  titleKey = 'login.title';

  async login(e) {
    const env = await this.submit(e, (v) => auth('login', { username: v.username, password: v.password }));
    if (!env) return;
    if (env.status === 200) await afterLogin(nextParam());
    else if (env.status === 401 && pendingFlows(env).includes('verify_email')) this.done = 'verify';
    else if (env.status === 409) await afterLogin(nextParam());   // already logged in
  }

  render() {
    if (this.done === 'verify') {
      return page(t('login.title'), html`<div class="notice info" role="status">
        <p>${t('login.verifyFirst')}</p></div>`);
    }
    return page(t('login.title'), html`
      <form @submit=${(e) => this.login(e)} novalidate>
        ${this.input('username', t('field.username'), { autocomplete: 'username', required: true })}
        ${this.input('password', t('field.password'), { type: 'password', autocomplete: 'current-password', required: true })}
        ${this.general()}
        ${this.submitButton(t('login.submit'))}
      </form>
      <ul class="links">
        <li><a href="#/account/login/code">${t('login.byCode')}</a></li>
        <li><a href="#/account/password/reset">${t('login.forgot')}</a></li>
        <li><a href="#/account/signup">${t('login.toSignup')}</a></li>
      </ul>`);
  }
}

class ObLoginCode extends Screen {
  titleKey = 'code.title';

  async request(e) {
    const env = await this.submit(e, (v) => auth('codeRequest', { email: v.email }));
    if (env && env.status === 401 && pendingFlows(env).includes('login_by_code')) {
      this.done = 'sent';
      announce(t('code.sent'));
      await this.updateComplete;
      this.querySelector('#f-code')?.focus();
    }
  }

  async confirm(e) {
    const env = await this.submit(e, (v) => auth('codeConfirm', { code: v.code }));
    if (!env) return;
    if (env.status === 200) await afterLogin(nextParam());
    else if (env.status === 409) {
      this.done = null;
      this.errors = { '': [t('code.expired')] };
    }
  }

  render() {
    if (this.done === 'sent') {
      return page(t('code.title'), html`<p role="status">${t('code.sent')}</p>
        <form @submit=${(e) => this.confirm(e)} novalidate>
          ${this.input('code', t('field.code'), { autocomplete: 'one-time-code', required: true, hint: t('code.hint') })}
          ${this.general()}
          ${this.submitButton(t('code.confirm'))}
        </form>`);
    }
    return page(t('code.title'), html`<p>${t('code.lead')}</p>
      <form @submit=${(e) => this.request(e)} novalidate>
        ${this.input('email', t('field.email'), { type: 'email', autocomplete: 'email', required: true })}
        ${this.general()}
        ${this.submitButton(t('code.request'))}
      </form>
      <p><a href="#/account/login">${t('code.back')}</a></p>`);
  }
}

class ObSignup extends Screen {
  titleKey = 'signup.title';

  async signup(e) {
    const env = await this.submit(e, (v) => auth('signup', { email: v.email, username: v.username, password: v.password }));
    if (!env) return;
    if (env.status === 401) this.done = 'verify';
    else if (env.status === 403) this.errors = { '': [t('signup.closed')] };
    else if (env.status === 409) this.errors = { '': [t('signup.loggedIn')] };
    if (this.done) {
      await this.updateComplete;
      focusHeading(this);
    }
  }

  async resend() {
    const env = await auth('verifyResend');
    const msg = env.status === 200 ? t('signup.resent') : env.status === 429 ? t('signup.resendWait') : t('error.generic');
    this.errors = { '': [] };
    announce(msg);
    this.resent = msg;
    this.requestUpdate();
  }

  render() {
    if (this.done === 'verify') {
      return page(t('signup.checkMail'), html`<div class="notice success" role="status"><p>${t('signup.sent')}</p></div>
        <p><button type="button" class="secondary" @click=${() => this.resend()}>${t('signup.resend')}</button></p>
        ${this.resent ? html`<p role="status">${this.resent}</p>` : nothing}`);
    }
    return page(t('signup.title'), html`
      <form @submit=${(e) => this.signup(e)} novalidate>
        ${this.input('email', t('field.email'), { type: 'email', autocomplete: 'email', required: true })}
        ${this.input('username', t('field.username'), { autocomplete: 'username', required: true, hint: t('signup.usernameHint') })}
        ${this.input('password', t('field.password'), { type: 'password', autocomplete: 'new-password', required: true, hint: t('signup.passwordHint') })}
        ${this.general()}
        ${this.submitButton(t('signup.submit'))}
      </form>
      <p><a href="#/account/login">${t('signup.toLogin')}</a></p>`);
  }
}

class ObVerifyEmail extends Screen {
  titleKey = 'verify.title';

  connectedCallback() {
    super.connectedCallback();
    this.inspect();
  }

  async inspect() {
    const env = await auth('verifyGet', undefined, { 'X-Email-Verification-Key': this.params.key });
    this.info = env;
    this.requestUpdate();
  }

  async verify(e) {
    const env = await this.submit(e, () => auth('verify', { key: this.params.key }));
    if (!env) return;
    if (env.status === 200) {
      announce(t('verify.doneLoggedIn'));
      await afterLogin('/');
    } else if (env.status === 401) {
      this.done = 'verified';
      await this.updateComplete;
      focusHeading(this);
    }
  }

  render() {
    const env = this.info;
    if (!env) return loading();
    if (this.done === 'verified') {
      return page(t('verify.done'), html`<div class="notice success" role="status"><p>${t('verify.doneLogin')}</p></div>
        <p><a href="#/account/login">${t('login.title')}</a></p>`);
    }
    if (env.status !== 200) {
      return page(t('verify.title'), html`<div class="notice error" role="alert"><p>${t('verify.invalid')}</p></div>
        <p><a href="#/account/login">${t('login.title')}</a></p>`);
    }
    return page(t('verify.title'), html`<p>${t('verify.confirmAddress', { email: env.data.email, user: env.data.user.username })}</p>
      <form @submit=${(e) => this.verify(e)}>${this.general()}
        ${this.submitButton(t('verify.submit'))}</form>`);
  }
}

class ObPasswordRequest extends Screen {
  titleKey = 'reset.title';

  async request(e) {
    const env = await this.submit(e, (v) => auth('passwordRequest', { email: v.email }));
    if (env && env.status === 200) {
      this.done = 'sent';
      announce(t('reset.sent'));
    }
  }

  render() {
    if (this.done === 'sent') {
      return page(t('reset.title'), html`<div class="notice success" role="status"><p>${t('reset.sent')}</p></div>`);
    }
    return page(t('reset.title'), html`<p>${t('reset.lead')}</p>
      <form @submit=${(e) => this.request(e)} novalidate>
        ${this.input('email', t('field.email'), { type: 'email', autocomplete: 'email', required: true })}
        ${this.general()}
        ${this.submitButton(t('reset.request'))}
      </form>`);
  }
}

class ObPasswordReset extends Screen {
  titleKey = 'reset.newTitle';

  connectedCallback() {
    super.connectedCallback();
    auth('passwordResetGet', undefined, { 'X-Password-Reset-Key': this.params.key }).then((env) => {
      this.info = env;
      this.requestUpdate();
    });
  }

  async reset(e) {
    const env = await this.submit(e, (v) => auth('passwordReset', { key: this.params.key, password: v.password }));
    if (env && env.status === 401) {
      this.done = 'changed';
      announce(t('reset.changed'));
    }
  }

  render() {
    const env = this.info;
    if (!env) return loading();
    if (this.done === 'changed') {
      return page(t('reset.newTitle'), html`<div class="notice success" role="status"><p>${t('reset.changed')}</p></div>
        <p><a href="#/account/login">${t('login.title')}</a></p>`);
    }
    if (env.status !== 200) {
      return page(t('reset.newTitle'), html`<div class="notice error" role="alert"><p>${t('reset.invalid')}</p></div>
        <p><a href="#/account/password/reset">${t('reset.again')}</a></p>`);
    }
    return page(t('reset.newTitle'), html`<p>${t('reset.forUser', { user: env.data.user.username })}</p>
      <form @submit=${(e) => this.reset(e)} novalidate>
        <input type="text" name="username" autocomplete="username" value=${env.data.user.username} hidden>
        ${this.input('password', t('field.newPassword'), { type: 'password', autocomplete: 'new-password', required: true, hint: t('signup.passwordHint') })}
        ${this.general()}
        ${this.submitButton(t('reset.submit'))}
      </form>`);
  }
}

customElements.define('ob-login', ObLogin);
customElements.define('ob-login-code', ObLoginCode);
customElements.define('ob-signup', ObSignup);
customElements.define('ob-verify-email', ObVerifyEmail);
customElements.define('ob-password-request', ObPasswordRequest);
customElements.define('ob-password-reset', ObPasswordReset);

export { currentUser };
