// studio-support.mjs - what the studio's e2e files share: the whitelist of
// role permissions they need, users with groups and scopes made through
// the administrator's API, and the component definitions of the test
// library with the keys an installed library's normalised definitions have
// (libraries.md §2.2), served in place of the library API until issue 14
// lands it.
import { api, unique, PASSWORD, TEST_LIBRARY_URL } from './harness.mjs';

export const C = 'openbook_content';
export const A = 'openbook_auth';
export const COURSE = `${C}.course`;
export const GROUP = `${C}.librarygroup`;

/** Whitelists (allowed_role_permissions) the tests give to roles and
 * public permissions; existing rows are fine. */
export async function whitelist() {
  const perms = {
    [COURSE]: ['view_course', 'view_coursematerial', 'view_coursematerialpagerange', 'change_course', 'delete_course', 'add_coursematerial', 'change_coursematerial',
      'delete_coursematerial', 'add_coursematerialpagerange', 'delete_coursematerialpagerange'].map((p) => `${C}.${p}`)
      .concat(['view_role', 'add_role', 'change_role', 'view_roleassignment', 'add_roleassignment', 'delete_roleassignment',
        'view_enrollmentmethod', 'add_enrollmentmethod', 'change_enrollmentmethod', 'view_accessrequest', 'change_accessrequest',
        'self_enroll'].map((p) => `${A}.${p}`)),
    [GROUP]: ['view_librarygroup', 'change_librarygroup', 'view_textbook', 'add_textbook', 'change_textbook', 'delete_textbook',
      'view_textbookpage', 'add_textbookpage', 'change_textbookpage', 'delete_textbookpage'].map((p) => `${C}.${p}`),
  };
  const have = (await api('GET', '/api/auth/allowed_role_permissions/?_page_size=1000')).results
    .map((r) => `${r.scope_type} ${r.permission}`);
  for (const [scope, list] of Object.entries(perms)) {
    for (const p of list) {
      if (have.includes(`${scope} ${p}`)) continue;
      // Another test file may add the same row meanwhile.
      await api('POST', '/api/auth/allowed_role_permissions/', { scope_type: scope, permission: p }).catch((e) => {
        if (!/already exists/.test(e.message)) throw e;
      });
    }
  }
}

/** A user (verified address, password), optionally in groups (slugs). */
export async function user(prefix, groups = []) {
  const username = unique(prefix);
  await api('POST', '/api/auth/users/', { username, email: `${username}@example.org`, password: PASSWORD, groups });
  return { username, email: `${username}@example.org`, password: PASSWORD };
}

/** A library group (owner: a username or none) readable by everybody. */
export async function group(name, owner) {
  return api('POST', '/api/content/library_groups/', {
    slug: unique('g'), name, public_permissions: [`${C}.view_librarygroup`, `${C}.view_textbook`, `${C}.view_textbookpage`],
    ...(owner ? { owner } : {}),
  });
}

/** A role in a scope with these permissions, held by a user. */
export async function roleFor(scopeType, scopeUuid, username, perms, priority = 10) {
  const slug = unique('r');
  await api('POST', '/api/auth/roles/', { scope_type: scopeType, scope_uuid: scopeUuid, slug, name: slug, priority, permissions: perms });
  await api('POST', '/api/auth/role_assignments/', { scope_type: scopeType, scope_uuid: scopeUuid, role: slug, user: username });
  return slug;
}

export const DEFINITIONS = [
  { 'tag-name': 'ob-info-box', description: { en: 'A highlighted box', de: 'Ein hervorgehobener Kasten' }, 'text-allowed': true, 'html-allowed': false,
    'allowed-children': [], attributes: { variant: { name: 'variant', description: { en: 'Tip or warning' }, regex: '', enum: ['tip', 'warning'] } }, events: [] },
  { 'tag-name': 'ob-code-editor', description: { en: 'A live code editor' }, 'text-allowed': true, 'html-allowed': false, 'allowed-children': [],
    attributes: { language: { name: 'language', regex: '[a-z]+', enum: [] }, height: { name: 'height', description: { en: 'Height of the editor' }, regex: '[0-9]+(em|px)', enum: [] } }, events: [] },
  { 'tag-name': 'ob-quiz', description: { en: 'A quiz' }, 'text-allowed': false, 'html-allowed': false, 'allowed-children': ['ob-quiz-question'],
    attributes: { shuffle: { name: 'shuffle', regex: '', enum: ['true', 'false'] } }, events: [] },
  { 'tag-name': 'ob-quiz-question', description: { en: 'A question of a quiz' }, 'text-allowed': true, 'html-allowed': false, 'allowed-children': [],
    attributes: { answer: { name: 'answer', regex: '[a-d]', enum: [] } }, events: [] },
];

/** Serves DEFINITIONS as the component definitions list to a context. */
export async function stubDefinitions(context) {
  await context.route('**/api/core/html_library/component_definitions/**', (route) => route.fulfill({
    contentType: 'application/json',
    body: JSON.stringify({
      count: DEFINITIONS.length, next: null, previous: null,
      results: DEFINITIONS.map((d, i) => ({ id: `d${i}`, html_component: `c${i}`, library_version: { id: 'v1', version: '1.0.0', frontend_url: TEST_LIBRARY_URL }, definition: d })),
    }),
  }));
}

/** The pages of a textbook: [{id, name, parent, position}]. */
export async function pagesOf(textbook) {
  return (await api('GET', `/api/content/textbook_pages/?textbook=${textbook}&_fields=id,name,parent,position,content,modified_at&_page_size=1000`)).results;
}

/** Names in tree order: "A", "A/B", … */
export function outline(pages) {
  const out = [];
  const walk = (parent, prefix) => {
    for (const p of pages.filter((x) => (x.parent || null) === parent).sort((a, b) => a.position - b.position)) {
      out.push(prefix + p.name);
      walk(p.id, `${prefix}${p.name}/`);
    }
  };
  walk(null, '');
  return out;
}

/** The text of a stored content tree (for comparisons). */
export function textOf(tree) {
  if (!tree || typeof tree !== 'object') return '';
  if (tree.type === 'text') return tree.text;
  return (tree.children || []).map(textOf).join('');
}

/** Components of a stored tree, depth first: [{tag, attributes}]. */
export function componentsOf(tree, out = []) {
  if (tree && typeof tree === 'object') {
    if (tree.type === 'component') out.push({ tag: tree.tag, attributes: tree.attributes });
    for (const c of tree.children || []) componentsOf(c, out);
  }
  return out;
}
