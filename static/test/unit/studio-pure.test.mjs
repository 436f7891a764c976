// The studio's pure parts: its translation tables, the permission
// algorithm of permissions.md §6 as the app applies it (perms.js), and the
// component rules of libraries.md §2.2 (rules.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import en from '../../src/i18n/studio.en.js';
import de from '../../src/i18n/studio.de.js';
import { Grants, COURSE, GROUP } from '../../src/studio/perms.js';
import { componentProblems, allowedAt, checkAttributes, attributeFields, localText } from '../../src/studio/rules.js';
import { toDoc } from '../../src/studio/doc.js';

const STUDIO = new URL('../../src/studio/', import.meta.url).pathname;

test('studio strings: the same keys and placeholders in en and de, every key used exists', () => {
  assert.deepEqual(Object.keys(de).sort(), Object.keys(en).sort());
  const ph = (s) => (s.match(/\{\w+\}/g) || []).sort().join();
  for (const k of Object.keys(en)) assert.equal(ph(de[k]), ph(en[k]), k);
  const missing = [];
  for (const f of readdirSync(STUDIO).filter((n) => n.endsWith('.js'))) {
    const text = readFileSync(STUDIO + f, 'utf8');
    for (const m of text.matchAll(/\bt\('(studio\.[a-zA-Z.]+)'/g)) if (!(m[1] in en)) missing.push(`${f}: ${m[1]}`);
  }
  for (const k of ['textbook', 'course', 'group']) if (!(`studio.new.${k}` in en)) missing.push(k);
  assert.deepEqual(missing, []);
});

const me = (extra = {}, permissions = {}) => ({ id: 1, username: 'u', is_authenticated: true, is_superuser: false, is_staff: false,
  permissions: { global: [], model: [], scopes: [], ...permissions }, ...extra });
const course = (uuid, pub = []) => ({ type: COURSE, uuid, public: pub });

test('perms: superuser, global, owner, public, roles, view falls back to change', () => {
  assert.ok(new Grants(me({ is_superuser: true })).can('openbook_content.delete_course', { scope: course('c') }));
  const g = new Grants(me({}, {
    global: ['openbook_content.add_course', 'openbook_auth.self_enroll'],
    scopes: [
      { scope_type: COURSE, scope_uuid: 'own', owner: true, role: null, priority: null, permissions: [] },
      { scope_type: COURSE, scope_uuid: 'c1', owner: false, role: 'teacher', priority: 50, permissions: ['openbook_content.change_course', 'openbook_auth.change_role'] },
      { scope_type: GROUP, scope_uuid: 'g1', owner: false, role: 'author', priority: 10, permissions: ['openbook_content.change_textbookpage'] },
    ],
  }));
  assert.ok(g.can('openbook_content.add_course'));
  assert.ok(!g.can('openbook_content.add_librarygroup'));
  assert.ok(g.can('openbook_content.delete_course', { scope: course('own') }));
  assert.ok(!g.can('openbook_content.delete_course', { scope: course('c1') }));
  assert.ok(g.can('openbook_content.change_course', { scope: course('c1') }));
  assert.ok(g.can('openbook_content.view_course', { scope: course('c1') }), 'view follows change');
  assert.ok(g.can('openbook_content.delete_course', { scope: course('c2', ['openbook_content.delete_course']) }), 'public');
  assert.ok(g.can('openbook_content.change_textbookpage', { scope: { type: GROUP, uuid: 'g1', public: [] } }));
  assert.ok(!g.can('openbook_content.change_textbookpage', { scope: { type: GROUP, uuid: 'g2', public: [] } }));
  // Rule S: the priority guard.
  assert.ok(g.can('openbook_auth.change_role', { scope: course('c1'), priority: 50 }));
  assert.ok(!g.can('openbook_auth.change_role', { scope: course('c1'), priority: 51 }));
  assert.ok(g.can('openbook_auth.change_role', { scope: course('own'), priority: 32767 }), 'owners pass the guard');
  // Anonymous: only anonymous grants and public permissions.
  const anon = new Grants({ is_authenticated: false });
  assert.ok(!anon.can('openbook_content.change_course', { scope: course('c1') }));
  assert.ok(anon.can('openbook_content.change_course', { scope: course('c1', ['openbook_content.change_course']) }));
});

test('perms: the admin gate counts model permissions of staff only', () => {
  const staff = new Grants(me({ is_staff: true }, { model: ['openbook_core.add_htmllibraryversion'], global: ['openbook_core.add_htmllibraryversion'] }));
  assert.ok(staff.adminGate('openbook_core.add_htmllibraryversion'));
  assert.ok(!staff.adminGate(null));
  const notStaff = new Grants(me({}, { model: ['openbook_core.add_htmllibraryversion'] }));
  assert.ok(!notStaff.adminGate('openbook_core.add_htmllibraryversion'));
});

const DEFS = new Map([
  ['ob-quiz', { definition: { 'tag-name': 'ob-quiz', 'text-allowed': false, 'html-allowed': false, 'allowed-children': ['ob-quiz-question'],
    attributes: { shuffle: { name: 'shuffle', regex: '', enum: ['true', 'false'] } } } }],
  ['ob-quiz-question', { definition: { 'tag-name': 'ob-quiz-question', 'text-allowed': true, 'html-allowed': false, 'allowed-children': [],
    attributes: { answer: { name: 'answer', regex: '[a-d]', enum: [], description: { en: 'The answer', de: 'Die Antwort' } } } } }],
]);

test('rules: allowed-children, text-allowed, html-allowed and attributes', () => {
  const comp = (tag, attributes, children) => ({ type: 'component', tag, attributes, children });
  const txt = (text) => ({ type: 'text', text });
  const ok = toDoc({ type: 'root', children: [comp('ob-quiz', { shuffle: 'true' }, [comp('ob-quiz-question', { answer: 'b' }, [txt('Q')])])] });
  const quiz = ok.child(0);
  assert.deepEqual(componentProblems(quiz, DEFS.get('ob-quiz').definition), []);
  assert.deepEqual(componentProblems(quiz.child(0), DEFS.get('ob-quiz-question').definition), []);
  const bad = toDoc({ type: 'root', children: [comp('ob-quiz', { shuffle: 'maybe' }, [txt('loose'), comp('ob-other', {}, []),
    { type: 'element', tag: 'p', attributes: {}, children: [txt('p')] }])] }).child(0);
  assert.deepEqual(componentProblems(bad, DEFS.get('ob-quiz').definition), ['text', 'child:ob-other', 'html', 'attribute:shuffle']);
  const q = toDoc({ type: 'root', children: [comp('ob-quiz-question', { answer: 'e' }, [{ type: 'element', tag: 'em', attributes: {}, children: [txt('x')] }])] }).child(0);
  assert.deepEqual(componentProblems(q, DEFS.get('ob-quiz-question').definition), ['html', 'attribute:answer']);
  // Where the palette may insert.
  const $inQuiz = ok.resolve(1);
  assert.ok(allowedAt($inQuiz, 'ob-quiz-question', DEFS));
  assert.ok(!allowedAt($inQuiz, 'ob-quiz', DEFS));
  assert.ok(!allowedAt(ok.resolve(3), 'ob-quiz-question', DEFS), 'not inside a question');
  assert.ok(allowedAt(ok.resolve(0), 'ob-quiz', DEFS));
  // The attribute form.
  const def = DEFS.get('ob-quiz-question').definition;
  assert.deepEqual(checkAttributes(def, { answer: 'c' }), { attributes: { answer: 'c' }, errors: {} });
  assert.deepEqual(checkAttributes(def, { answer: 'cc' }).errors, { answer: true });
  assert.deepEqual(checkAttributes(def, { answer: '' }), { attributes: {}, errors: {} });
  assert.equal(attributeFields(def, 'de')[0].description, 'Die Antwort');
  assert.equal(attributeFields(DEFS.get('ob-quiz').definition, 'en')[0].kind, 'enum');
  assert.equal(localText({ en: 'E' }, 'fr'), 'E');
});
