// The administration's pure pieces: semver display order, what a user may
// see and do (from current_user and the schema), form checks, upload
// answers, its strings, and a guard against methods that shadow the DOM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareSemver, sortBySemver, parseSemver } from '../../src/admin/semver.js';
import { may, abilities, visibleSections, installRights, isAdmin, holds, SECTIONS, INSTALL_PATH } from '../../src/admin/access.js';
import { checkLanguage, checkGroup, checkSite, checkSignupAssignment, checkNewUser, parsePermList, isPermString, hasErrors, formatBytes } from '../../src/admin/validate.js';
import { uploadErrors, installOutcome } from '../../src/admin/upload.js';
import { describe } from '../../src/admin/schema.js';
import en from '../../src/i18n/admin.en.js';
import de from '../../src/i18n/admin.de.js';
import mainEn from '../../src/i18n/en.js';

const ADMIN_SRC = new URL('../../src/admin/', import.meta.url).pathname;

test('semver: precedence as libraries.md §1 (and semver.org §11) orders it', () => {
  const ordered = ['0.9.0', '1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2',
    '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '1.2.0', '1.10.0', '9.0.0', '10.0.0'];
  const shuffled = [...ordered].reverse();
  shuffled.splice(3, 0, shuffled.splice(7, 1)[0]);
  assert.deepEqual(sortBySemver(shuffled.map((version) => ({ version }))).map((v) => v.version), ordered);
  assert.equal(compareSemver('10.0.0', '9.0.0'), 1, 'numbers, not strings');
  assert.equal(compareSemver('1.0.0-2', '1.0.0-10'), -1, 'numeric identifiers as numbers');
  assert.equal(compareSemver('1.0.0-9', '1.0.0-a'), -1, 'numeric below alphanumeric');
  // Build metadata has no precedence; the string breaks the tie so the
  // order is stable.
  assert.equal(compareSemver('1.0.0+b', '1.0.0+a'), 1);
  assert.equal(compareSemver('1.0.0+a', '1.0.0'), 1);
  assert.equal(compareSemver('1.0.0', '1.0.0'), 0);
  // Huge numbers do not lose precision.
  assert.equal(compareSemver('9007199254740993.0.0', '9007199254740992.0.0'), 1);
  // Not semver: after every version.
  assert.equal(compareSemver('banana', '99.0.0'), 1);
  assert.equal(parseSemver('01.0.0'), null);
  assert.equal(parseSemver('1.0'), null);
  assert.equal(parseSemver('1.0.0-'), null);
  assert.deepEqual(parseSemver('1.2.3-rc.1+build.5').pre, ['rc', '1']);
});

// A schema as GET /api/schema/ describes resources (x-openbook-resources).
const res = (path, model, gates, ops = ['list', 'create', 'retrieve', 'update', 'partial_update', 'destroy'], extra = {}) => ({
  collection_path: path, operations: ops, gates,
  permissions: { view: `${model.split('.')[0]}.view_${model.split('.')[1]}`, add: `${model.split('.')[0]}.add_${model.split('.')[1]}`,
    change: `${model.split('.')[0]}.change_${model.split('.')[1]}`, delete: `${model.split('.')[0]}.delete_${model.split('.')[1]}` },
  ...extra,
});
const STAFF_WRITES = { create: 'staff', update: 'staff', partial_update: 'staff', destroy: 'staff' };
const SUPER_WRITES = { create: 'superuser', update: 'superuser', partial_update: 'superuser', destroy: 'superuser' };
const DOC = {
  info: { version: '0.1.0' },
  paths: { '/api/core/languages/': { get: {}, post: {} } },
  'x-openbook-resources': {
    'core/languages': res('/api/core/languages/', 'openbook_core.language', STAFF_WRITES, undefined, { access: 'anon_read' }),
    'auth/users': res('/api/auth/users/', 'openbook_auth.user', { create: 'superuser' }, undefined, { admin_fields: ['is_active'] }),
    'auth/groups': res('/api/auth/groups/', 'openbook_auth.group', STAFF_WRITES),
    'auth/anonymous_permissions': res('/api/auth/anonymous_permissions/', 'openbook_auth.anonymouspermission', SUPER_WRITES, ['list', 'create', 'retrieve', 'destroy']),
    'core/sites': res('/api/core/sites/', 'openbook_core.site', STAFF_WRITES, ['list', 'retrieve', 'update', 'partial_update']),
    'auth/auth_configs': res('/api/auth/auth_configs/', 'openbook_auth.authconfig', SUPER_WRITES, ['list', 'retrieve', 'update', 'partial_update']),
    'content/textbooks': res('/api/content/textbooks/', 'openbook_content.textbook', {}),
  },
};
const schema = describe(DOC);
const langs = schema.resources.get('/api/core/languages/');
const staff = (perms) => ({ is_staff: true, is_superuser: false, permissions: { model: perms } });

test('what the schema says: resources by path, the API version, the paths', () => {
  assert.equal(schema.version, '0.1.0');
  assert.ok(schema.resources.has('/api/auth/users/'));
  assert.deepEqual(schema.paths['/api/core/languages/'], { get: true, post: true });
});

test('may(): superusers always; staff gates need staff and the permission; superuser gates only superusers', () => {
  const su = { is_superuser: true, is_staff: false, permissions: { model: [] } };
  assert.equal(may(su, langs, 'destroy'), true);
  assert.equal(may(staff(['openbook_core.change_language']), langs, 'partial_update'), true);
  assert.equal(may(staff(['openbook_core.change_language']), langs, 'create'), false);
  assert.equal(may({ is_staff: false, permissions: { model: ['openbook_core.change_language'] } }, langs, 'partial_update'), false,
    'the permission without staff does not pass a staff gate');
  const anon = schema.resources.get('/api/auth/anonymous_permissions/');
  assert.equal(may(staff(['openbook_auth.add_anonymouspermission']), anon, 'create'), false, 'superuser-only');
  assert.equal(may(staff(['openbook_auth.view_anonymouspermission']), anon, 'list'), true, 'reads: the model permission');
  assert.equal(may(su, anon, 'partial_update'), false, 'an operation the resource does not have');
  assert.equal(may(null, langs, 'list'), false);
  assert.equal(may(su, undefined, 'list'), false);
  const a = abilities(staff(['openbook_core.change_language']), langs);
  assert.deepEqual([a.list, a.create, a.change, a.destroy, a.adminFields], [false, false, true, false, false]);
  assert.equal(abilities(su, schema.resources.get('/api/auth/users/')).adminFields, true);
  assert.equal(holds(staff(['x.y']), 'x.y'), true);
  assert.equal(holds(staff([]), 'x.y'), false);
});

test('sections: a staff user with one model permission sees only that one; non-staff see none', () => {
  const ids = (u) => visibleSections(u, schema).map((s) => s.id);
  assert.deepEqual(ids(staff(['openbook_core.change_language'])), ['languages']);
  assert.deepEqual(ids(staff(['openbook_core.change_site'])), ['site']);
  assert.deepEqual(ids(staff([])), []);
  assert.deepEqual(ids({ is_staff: false, is_superuser: false, permissions: { model: ['openbook_core.change_language'] } }), []);
  assert.equal(isAdmin({ is_staff: false, is_superuser: false }), false);
  assert.equal(isAdmin(null), false);
  // A superuser sees every section whose API the server has; libraries
  // and media are not in this schema, so they stay hidden.
  assert.deepEqual(ids({ is_superuser: true }), ['users', 'groups', 'anonymous-permissions', 'languages', 'site']);
  // Every section has its name in both languages.
  for (const s of SECTIONS) assert.ok(en[`admin.section.${s.id}`] && de[`admin.section.${s.id}`], s.id);
});

test('library installs: staff with add_htmllibraryversion; replacing also needs change_htmllibraryversion', () => {
  const withInstall = { ...schema, paths: { ...schema.paths, [INSTALL_PATH]: { post: true } } };
  assert.deepEqual(installRights({ is_superuser: true }, schema), { install: false, replace: false }, 'no install endpoint');
  assert.deepEqual(installRights({ is_superuser: true }, withInstall), { install: true, replace: true });
  assert.deepEqual(installRights(staff(['openbook_core.add_htmllibraryversion']), withInstall), { install: true, replace: false });
  assert.deepEqual(installRights({ ...staff(['openbook_core.add_htmllibraryversion']), is_staff: false }, withInstall), { install: false, replace: false });
});

test('form checks', () => {
  assert.deepEqual(checkLanguage({ language: 'fr', name: 'Français' }), {});
  assert.deepEqual(Object.keys(checkLanguage({ language: 'FR', name: '' })).sort(), ['language', 'name']);
  assert.deepEqual(checkLanguage({ language: 'francais', name: 'x' }).language, ['admin.v.languageCode']);
  assert.deepEqual(checkLanguage({ name: 'x'.repeat(65) }, { creating: false }).name, ['admin.v.tooLong']);
  assert.deepEqual(checkLanguage({ name: 'Neu' }, { creating: false }), {}, 'renaming does not need the code');
  assert.deepEqual(checkGroup({ name: 'Editors', slug: 'editors' }), {});
  assert.deepEqual(checkGroup({ name: 'Editors', slug: 'edi tors' }).slug, ['admin.v.slug']);
  assert.deepEqual(checkSite({ domain: 'a.example', name: 'A', short_name: 'A', about_url: 'https://a.example/about', brand_color: '#abc' }), {});
  const bad = checkSite({ domain: '', name: 'A', short_name: 'A', about_url: 'javascript:alert(1)', brand_color: 'red' });
  assert.deepEqual(Object.keys(bad).sort(), ['about_url', 'brand_color', 'domain']);
  assert.deepEqual(checkSignupAssignment({ name: 'S', assertions: [{ name: 'mail', value: null, match_strategy: 'any' }] }), {});
  assert.deepEqual(Object.keys(checkSignupAssignment({ name: 'S', assertions: [{ name: '', value: 'x', match_strategy: 'glob' }] })).sort(),
    ['assertions.0.match_strategy', 'assertions.0.name']);
  assert.deepEqual(checkNewUser({ username: 'ada.l', email: 'ada@example.org' }), {});
  assert.deepEqual(checkNewUser({ username: 'ada', email: 'ada' }), { username: ['admin.v.username'], email: ['admin.v.email'] });
  assert.deepEqual(checkNewUser({ username: 'Zoë-1234', email: 'z@x' }).username, ['admin.v.username'], 'ASCII only');
  assert.ok(isPermString('openbook_core.view_language'));
  assert.ok(!isPermString('openbook_core.view_language; drop'));
  assert.deepEqual(parsePermList('a.b\n  c.d, a.b x'), { perms: ['a.b', 'c.d'], bad: ['x'] });
  assert.equal(hasErrors({ a: [] }), false);
  assert.equal(hasErrors({ a: ['m'] }), true);
  assert.deepEqual([formatBytes(999), formatBytes(1000), formatBytes(12345678), formatBytes(-1)], ['999 B', '1.0 kB', '12 MB', '']);
});

test('upload answers: the install outcome and the messages per field', () => {
  assert.deepEqual(installOutcome({ status: 201, body: { version: '1.0.0', parent: { fqn: '@a/b' }, warnings: ['Missing dependency: @x/y 1.0.0'] } }),
    { ok: true, replaced: false, fqn: '@a/b', version: '1.0.0', warnings: ['Missing dependency: @x/y 1.0.0'] });
  assert.equal(installOutcome({ status: 200, body: { version: '1.0.0', parent: 'id', warnings: [] } }).replaced, true);
  assert.deepEqual(installOutcome({ status: 400, body: {} }), { ok: false, status: 400 });
  const fb = (s) => `fallback ${s}`;
  assert.deepEqual(uploadErrors({ status: 400, body: { file: ['The archive contains an unsafe path: ../x'] } }, fb),
    { file: ['The archive contains an unsafe path: ../x'] });
  assert.deepEqual(uploadErrors({ status: 409, body: { detail: 'This library version is already installed.' } }, fb),
    { '': ['This library version is already installed.'] });
  assert.deepEqual(uploadErrors({ status: 413, body: null }, fb), { '': ['fallback 413'] });
  assert.deepEqual(uploadErrors({ status: 201, body: {} }, fb), {});
});

function adminSources() {
  return readdirSync(ADMIN_SRC).filter((f) => f.endsWith('.js')).map((f) => [f, readFileSync(join(ADMIN_SRC, f), 'utf8')]);
}

test('strings: every key the administration uses exists; no bare words in its templates', () => {
  const missing = [];
  const offenders = [];
  for (const [f, text] of adminSources()) {
    for (const m of text.matchAll(/'((?:admin|nav|common|error|form|reader)\.[\w.-]+)'/g)) {
      const known = (k) => k in en || k in mainEn || (`${k}.one` in en && `${k}.other` in en);
      if (!/\.(css|js)$/.test(m[1]) && !known(m[1])) missing.push(`${f}: ${m[1]}`);
    }
    for (const m of text.matchAll(/>([A-Za-zÄÖÜäöü][A-Za-zÄÖÜäöü ,.!?']{2,})</g)) offenders.push(`${f}: ${m[1]}`);
  }
  // Keys built at run time.
  for (const k of ['signup_image', 'login_image', 'logout_image', 'password_reset_image']) if (!en[`admin.site.${k}`]) missing.push(k);
  for (const k of ['exact', 'contains', 'starts-with', 'ends-with', 'regex', 'any']) if (!en[`admin.signup.match.${k}`]) missing.push(k);
  for (const k of ['view', 'add', 'change', 'delete']) if (!en[`admin.perms.${k}`]) missing.push(k);
  for (const k of ['website', 'coderepo', 'bugtracker']) if (!en[`admin.libs.${k}`]) missing.push(k);
  assert.deepEqual(missing, []);
  assert.deepEqual(offenders, []);
  assert.deepEqual(Object.keys(de).sort(), Object.keys(en).sort());
});

test('no view method shadows a DOM member (Lit calls el.remove() to take a view out)', () => {
  // A view with its own remove() once turned leaving a screen into
  // "delete this user?": Lit removes old nodes with node.remove().
  const DOM = new Set(['remove', 'append', 'prepend', 'before', 'after', 'replaceWith', 'replaceChildren', 'click', 'focus', 'blur',
    'closest', 'matches', 'animate', 'contains', 'insertBefore', 'appendChild', 'removeChild', 'replaceChild', 'cloneNode',
    'normalize', 'toggleAttribute', 'setAttribute', 'getAttribute', 'removeAttribute', 'hasAttribute', 'attachShadow',
    'scroll', 'scrollTo', 'scrollBy', 'scrollIntoView', 'title', 'lang', 'dir', 'hidden', 'id', 'slot', 'style', 'dataset',
    'children', 'translate', 'draggable', 'inert', 'role', 'popover', 'showPopover', 'hidePopover', 'togglePopover', 'dispatchEvent',
    'addEventListener', 'removeEventListener', 'isConnected', 'textContent', 'innerHTML', 'outerHTML', 'className', 'classList',
    'part', 'shadowRoot', 'prefix', 'tagName', 'nodeName', 'nodeType', 'parentNode', 'parentElement', 'ownerDocument']);
  const clashes = [];
  for (const [f, text] of adminSources()) {
    for (const m of text.matchAll(/^ {2}(?:async |static |get |set )?([A-Za-z_]\w*)\s*\(/gm)) if (DOM.has(m[1])) clashes.push(`${f}: ${m[1]}()`);
    for (const m of text.matchAll(/^\s+(\w+): \{ (?:state|attribute)/gm)) if (DOM.has(m[1])) clashes.push(`${f}: property ${m[1]}`);
  }
  assert.deepEqual(clashes, []);
});
