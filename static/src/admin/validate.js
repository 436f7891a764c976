// validate.js - what the administration checks before it asks the server,
// so that a slip is explained at once next to its field.  The server
// checks everything again; its messages win (they are shown the same way).
// Pure functions: each returns {field: [message]} with i18n keys resolved
// by the caller's t().

const URL_RE = /^https?:\/\/[^\s/?#]+[^\s]*$/i;

/** Language: code of 2-3 lower-case letters (the cookie and the server
 * accept these), name required, at most 64 characters. */
export function checkLanguage({ language, name }, { creating = true } = {}) {
  const e = {};
  if (creating) {
    if (!language) e.language = ['admin.v.required'];
    else if (!/^[a-z]{2,3}$/.test(language)) e.language = ['admin.v.languageCode'];
  }
  if (!name || !name.trim()) e.name = ['admin.v.required'];
  else if (name.length > 64) e.name = ['admin.v.tooLong'];
  return e;
}

/** Group: name ≤150, slug ≤50 of letters, digits, "-" and "_". */
export function checkGroup({ name, slug }) {
  const e = {};
  if (!name || !name.trim()) e.name = ['admin.v.required'];
  else if (name.length > 150) e.name = ['admin.v.tooLong'];
  if (!slug) e.slug = ['admin.v.required'];
  else if (slug.length > 50) e.slug = ['admin.v.tooLong'];
  else if (!/^[-a-zA-Z0-9_]+$/.test(slug)) e.slug = ['admin.v.slug'];
  return e;
}

/** Site: domain ≤100, names ≤50, an http(s) about URL, #rgb or #rrggbb. */
export function checkSite({ domain, name, short_name: shortName, about_url: aboutUrl, brand_color: color }) {
  const e = {};
  const req = (k, v, max) => {
    if (!v || !v.trim()) e[k] = ['admin.v.required'];
    else if (v.length > max) e[k] = ['admin.v.tooLong'];
  };
  req('domain', domain, 100);
  req('name', name, 50);
  req('short_name', shortName, 50);
  if (!aboutUrl) e.about_url = ['admin.v.required'];
  else if (!URL_RE.test(aboutUrl)) e.about_url = ['admin.v.url'];
  if (color && !/^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/.test(color)) e.brand_color = ['admin.v.color'];
  return e;
}

/** A perm string `app_label.codename`. */
export function isPermString(s) {
  return typeof s === 'string' && /^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$/.test(s);
}

/** Perm strings typed one per line (or separated by commas/spaces):
 * {perms, bad} with duplicates dropped and the order kept. */
export function parsePermList(text) {
  const perms = [];
  const bad = [];
  for (const p of String(text || '').split(/[\s,]+/).filter(Boolean)) {
    if (!isPermString(p)) bad.push(p);
    else if (!perms.includes(p)) perms.push(p);
  }
  return { perms, bad };
}

/** Sign-up group assignment: name ≤255 required, assertions with a name
 * (≤255) and a value of ≤255 unless the strategy is "any". */
export const MATCH_STRATEGIES = ['exact', 'contains', 'starts-with', 'ends-with', 'regex', 'any'];
export function checkSignupAssignment({ name, assertions = [] }) {
  const e = {};
  if (!name || !name.trim()) e.name = ['admin.v.required'];
  else if (name.length > 255) e.name = ['admin.v.tooLong'];
  assertions.forEach((a, i) => {
    if (!a.name || !a.name.trim()) e[`assertions.${i}.name`] = ['admin.v.required'];
    else if (a.name.length > 255) e[`assertions.${i}.name`] = ['admin.v.tooLong'];
    if (a.value && a.value.length > 255) e[`assertions.${i}.value`] = ['admin.v.tooLong'];
    if (!MATCH_STRATEGIES.includes(a.match_strategy)) e[`assertions.${i}.match_strategy`] = ['admin.v.choice'];
  });
  return e;
}

/** New user: username of 5-150 ASCII letters, digits and @.+-_ (api-auth.md
 * §6), an e-mail address. */
export function checkNewUser({ username, email }) {
  const e = {};
  if (!username) e.username = ['admin.v.required'];
  else if (username.length > 150) e.username = ['admin.v.tooLong'];
  else if (!/^[A-Za-z0-9@.+_-]{5,}$/.test(username)) e.username = ['admin.v.username'];
  if (!email) e.email = ['admin.v.required'];
  else if (!/^[^\s@]+@[^\s@]+$/.test(email)) e.email = ['admin.v.email'];
  return e;
}

/** Whether an errors object holds anything. */
export function hasErrors(e) {
  return Object.values(e).some((v) => v && v.length);
}

/** A byte count for people: 1.2 MB (decimal units, as file managers show). */
export function formatBytes(n) {
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) return '';
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = -1;
  do {
    v /= 1000;
    i++;
  } while (v >= 1000 && i < units.length - 1);
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}
