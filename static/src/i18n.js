// i18n.js - every UI string goes through t(key, params).
//
// The tables (i18n/en.js, i18n/de.js) map keys to strings with {name}
// placeholders.  The UI language is the one the server also uses: the
// cookie `django_language` (api-conventions.md §12), so API texts
// (translated names, error messages) and the UI agree.  A language the
// server knows but the app has no table for falls back to English for the
// UI strings (the API still answers in it).
import en from './i18n/en.js';
import de from './i18n/de.js';

export const TABLES = { en, de };
export const UI_LANGUAGES = Object.keys(TABLES);
export const COOKIE = 'django_language';

/** Adds the strings of a part of the app that loads on demand (the
 * administration, the studio) when its chunk loads: its tables
 * (i18n/<part>.<lang>.js) travel with its code, so the reader's bundle
 * does not carry them.  Languages without a main table are ignored. */
export function addStrings(tables) {
  for (const [lang, table] of Object.entries(tables)) {
    if (TABLES[lang]) Object.assign(TABLES[lang], table);
  }
}

let current = 'en';
const listeners = new Set();

/** The language code in force ("en", "de", ...). */
export function language() {
  return current;
}

/** Translates key; params fill {name} placeholders.  An unknown key is
 * returned as is (the unit test checks that every key exists in every
 * table, so this only shows during development). */
export function t(key, params) {
  const table = TABLES[current] || en;
  let s = table[key] ?? en[key] ?? key;
  if (params) {
    s = s.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
  }
  return s;
}

/** Plural-aware variant: key + ".one" / ".other". */
export function tn(key, n, params) {
  return t(`${key}.${n === 1 ? 'one' : 'other'}`, { n, ...params });
}

export function readCookie(name, cookieString) {
  const m = (cookieString ?? globalThis.document?.cookie ?? '')
    .match(new RegExp('(?:^|; )' + name + '=([^;]*)'));
  return m ? decodeURIComponent(m[1]) : null;
}

/** The language to start with: the cookie, else the browser's first
 * preference the app has a table for, else English. */
export function initialLanguage(cookieString, navigatorLanguages) {
  const c = readCookie(COOKIE, cookieString);
  if (c && /^[a-z]{2,3}$/.test(c)) return c;
  for (const l of navigatorLanguages || []) {
    const p = String(l).toLowerCase().split('-')[0];
    if (TABLES[p]) return p;
  }
  return 'en';
}

/** Switches the language: sets the cookie (so the server answers in it
 * too), <html lang>, and tells the listeners (the app re-renders and
 * reloads what the API translated). */
export function setLanguage(code, { persist = true } = {}) {
  if (!/^[a-z]{2,3}$/.test(code)) return;
  current = code;
  if (globalThis.document) {
    document.documentElement.lang = code;
    if (persist) {
      document.cookie = `${COOKIE}=${code}; path=/; max-age=31536000; SameSite=Lax`;
    }
  }
  for (const fn of listeners) fn(code);
}

export function onLanguageChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** A date-time for people, in the UI language. */
export function formatDate(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return new Intl.DateTimeFormat(current, { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}
