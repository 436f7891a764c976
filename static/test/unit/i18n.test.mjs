// Translation tables: the same keys in every language, every key the
// source uses exists, placeholders match.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { addStrings } from '../../src/i18n.js';
import { TABLES, t, setLanguage, initialLanguage, tn } from '../../src/i18n.js';
import '../../src/studio/strings.js';   // the studio's strings join the tables when it loads

const SRC = new URL('../../src/', import.meta.url).pathname;

// The tables of the parts that load on demand (i18n/<part>.<lang>.js)
// join the main ones, as their chunks do in the app.
for (const f of readdirSync(join(SRC, 'i18n')).sort()) {
  const m = /^[\w-]+\.(\w+)\.js$/.exec(f);
  if (m) addStrings({ [m[1]]: (await import(join(SRC, 'i18n', f))).default });
}

function sources(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.js') ? [p] : [];
  });
}

test('en and de have the same keys and the same placeholders', () => {
  const en = Object.keys(TABLES.en).sort();
  assert.deepEqual(Object.keys(TABLES.de).sort(), en);
  for (const k of en) {
    const ph = (s) => (s.match(/\{\w+\}/g) || []).sort().join();
    assert.equal(ph(TABLES.de[k]), ph(TABLES.en[k]), k);
  }
});

test('every key the source passes to t() exists', () => {
  const missing = [];
  for (const file of sources(SRC)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\bt\('([a-zA-Z]+\.[a-zA-Z.]+)'/g)) if (!(m[1] in TABLES.en)) missing.push(`${file}: ${m[1]}`);
    for (const m of text.matchAll(/titleKey = '([^']+)'/g)) if (!(m[1] in TABLES.en)) missing.push(`${file}: ${m[1]}`);
  }
  // Keys built at run time.
  for (const k of ['account.profile', 'account.email', 'account.password', 'account.sessions', 'account.tokens',
    'decision.pending', 'decision.accepted', 'decision.denied', 'sessions.password', 'sessions.code', 'sessions.reauth']) {
    if (!(k in TABLES.en)) missing.push(k);
  }
  assert.deepEqual(missing, []);
});

test('no UI text in the views outside the tables (no bare words between tags)', () => {
  const offenders = [];
  for (const file of sources(join(SRC, 'views')).concat(sources(join(SRC, 'account')), [join(SRC, 'app.js')])) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/>([A-Za-zÄÖÜäöü][A-Za-zÄÖÜäöü ,.!?']{2,})</g)) offenders.push(`${file}: ${m[1]}`);
  }
  assert.deepEqual(offenders, []);
});

test('t() fills placeholders and switches language', () => {
  setLanguage('de', { persist: false });
  assert.equal(t('course.enrol', { role: 'student' }), 'Als student einschreiben');
  setLanguage('en', { persist: false });
  assert.equal(t('course.enrol', { role: 'student' }), 'Enrol as student');
  assert.equal(t('no.such.key'), 'no.such.key');
  setLanguage('fr', { persist: false });
  assert.equal(t('nav.login'), 'Log in', 'a language without a table falls back to English');
  setLanguage('en', { persist: false });
  assert.equal(typeof tn, 'function');
});

test('the starting language: cookie, then the browser, then English', () => {
  assert.equal(initialLanguage('a=1; django_language=de', ['en-US']), 'de');
  assert.equal(initialLanguage('', ['fr-FR', 'de-AT']), 'de');
  assert.equal(initialLanguage('', ['fr-FR']), 'en');
  assert.equal(initialLanguage('django_language=<x>', []), 'en');
});
