// forms.js - what the account screens share: a form element that keeps
// per-field errors from the authentication API's envelope and shows them
// next to their fields.
import { View, html, nothing, t, field, formErrors, formValues, announce } from '../ui.js';
import { authFieldErrors } from '../api.js';
import { refreshSession } from '../session.js';
import { live } from '../live.js';

export class AuthForm extends View {
  static properties = {
    params: { attribute: false }, errors: { state: true }, busy: { state: true },
    done: { state: true }, values: { state: true },
  };

  constructor() {
    super();
    this.params = {};
    this.errors = {};
    this.values = {};
  }

  /** Field input with the errors the API gave for `param`. */
  input(name, label, opts = {}) {
    return field({
      id: `f-${name}`, name, label, errors: this.errors[name] || [], value: this.values[name] || '', ...opts,
    });
  }

  /** Errors without a field of this form: whole-input ones and those
   * about the key from the mailed link. */
  general() {
    return formErrors([...(this.errors[''] || []), ...(this.errors.key || [])]);
  }

  /** Runs fn(values) with busy state; fn returns an envelope or nothing. */
  async submit(e, fn) {
    e.preventDefault();
    const values = formValues(e.target);
    this.values = values;
    this.busy = true;
    this.errors = {};
    try {
      const env = await fn(values);
      if (env && env.status === 0) this.errors = { '': [t('error.offline')] };
      else if (env && env.status === 429) this.errors = { '': [t('error.rateLimited')] };
      else if (env && env.status === 400) {
        this.errors = authFieldErrors(env);
        // Focus the first field with an error (or the form's error box).
        await this.updateComplete;
        const bad = this.querySelector('[aria-invalid="true"]') || this.querySelector('.form-errors');
        if (bad) {
          if (!bad.matches('input')) bad.setAttribute('tabindex', '-1');
          bad.focus();
        }
        announce(t('form.hasErrors'));
      } else if (env && env.errors && env.errors.length && env.status >= 400) {
        this.errors = { '': env.errors.map((er) => er.message || er.code) };   // e.g. CSRF
      }
      return env;
    } finally {
      this.busy = false;
    }
  }

  submitButton(label) {
    return html`<button type="submit" ?disabled=${this.busy}>${label}</button>`;
  }
}

/** After a successful login: the session, the live connection, the target. */
export async function afterLogin(next) {
  await refreshSession();
  live.restart();
  const target = typeof next === 'string' && next.startsWith('/') && !next.startsWith('//') ? next : '/';
  location.hash = '#' + target;
}

/** The `next` query parameter of the hash (#/account/login?next=/x). */
export function nextParam() {
  const q = location.hash.indexOf('?');
  if (q < 0) return null;
  return new URLSearchParams(location.hash.slice(q + 1)).get('next');
}

export { html, nothing, t };
