// The administration (issue 16), as staff and superusers use it: the user
// administration round trip (find, deactivate -> login refused, activate,
// staff flag, groups, permissions), groups, languages, sign-up group
// assignments, anonymous permissions, the site's images; who sees what
// (no entry for non-staff; a staff user with one model permission sees
// that one screen and only the controls it allows); axe-core on every
// admin screen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openPage, url, api, unique, makeUser, login, acceptNextDialog, axeViolations, withBrowser, ADMIN, PASSWORD } from './harness.mjs';

const env = withBrowser();

/** A staff user made by the administrator with exactly these model
 * permissions (and no groups). */
async function staffUser(prefix, permissions) {
  const username = unique(prefix);
  await api('POST', '/api/auth/users/', {
    username, email: `${username}@example.org`, password: PASSWORD, is_staff: true, user_permissions: permissions,
  });
  return { username, password: PASSWORD };
}

/** A new page without smooth scrolling (styles.css has it for people): a
 * click while the page still glides would land on the wrong row. */
async function open(options) {
  const { context, page } = await openPage(env.browser, options);
  await page.emulateMedia({ reducedMotion: 'reduce' });
  return { context, page };
}

async function adminPage(options) {
  const { context, page } = await open(options);
  await login(page, ADMIN);
  return { context, page };
}

/** Waits for a notice of the screen (not the live region's copy). */
function said(page, text) {
  return page.locator('main .notice').getByText(text).waitFor();
}

/** Waits until the screen has loaded what it shows. */
function loaded(page) {
  return page.waitForFunction(() => document.querySelector('main h1') && !document.querySelector('main .loading'));
}

/** The admin navigation's link texts. */
async function sectionLinks(page) {
  const nav = page.getByRole('navigation', { name: 'Administration' });
  await nav.waitFor();
  return nav.getByRole('link').allTextContents();
}

test('user administration: find, deactivate (login refused), activate, staff flag, groups, permissions', async () => {
  const user = await makeUser('adminee');
  const { context, page } = await adminPage();
  await page.getByRole('banner').getByRole('link', { name: 'Administration' }).click();
  await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
  await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Users' }).click();
  await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
  await page.getByLabel('Search').fill(user.username);
  await page.getByRole('button', { name: 'Find users' }).click();
  await page.locator('main').getByText('1 user found.').waitFor();
  await page.getByRole('link', { name: user.username }).click();
  await page.getByRole('heading', { level: 1, name: user.username }).waitFor();
  assert.equal(await page.locator('dd.user-state').textContent(), 'Active');

  // Deactivate: the account cannot log in any more.
  await page.getByRole('button', { name: 'Deactivate' }).click();
  await said(page, `${user.username} is deactivated.`);
  assert.equal(await page.locator('dd.user-state').textContent(), 'Inactive');
  const other = await open();
  await other.page.goto(url('/app/#/account/login'));
  await other.page.getByLabel('Username').fill(user.username);
  await other.page.getByLabel('Password', { exact: true }).fill(user.password);
  await other.page.getByRole('button', { name: 'Log in' }).click();
  await other.page.locator('main .errors').getByText('The username and/or password you specified are not correct.').waitFor();
  assert.equal(await other.page.locator('header a.user').count(), 0);

  // Activate: the same login works.
  await page.getByRole('button', { name: 'Activate' }).click();
  await said(page, `${user.username} is active again.`);
  await other.page.getByRole('button', { name: 'Log in' }).click();
  await other.page.locator('header a.user', { hasText: user.username }).waitFor();
  assert.equal(await other.page.getByRole('banner').getByRole('link', { name: 'Administration' }).count(), 0, 'not staff yet');

  // Staff flag, a group, a model permission; the server has each.
  await page.getByLabel('Staff: may use the administration').check();
  await page.getByRole('region', { name: 'Account' }).getByRole('button', { name: 'Save' }).click();
  await said(page, 'Saved.');
  await page.getByRole('checkbox', { name: 'Teacher' }).check();
  await page.getByRole('button', { name: 'Save groups' }).click();
  await said(page, 'Groups saved.');
  await page.getByRole('checkbox', { name: 'Can change Language', exact: true }).check();
  await page.getByRole('button', { name: 'Save permissions' }).click();
  await said(page, 'Permissions saved.');
  const stored = await api('GET', `/api/auth/users/${user.username}/`);
  assert.deepEqual([stored.is_active, stored.is_staff, stored.is_superuser, stored.groups, stored.user_permissions],
    [true, true, false, ['teacher'], ['openbook_core.change_language']]);

  // The user, now staff, sees the administration their rights allow: the
  // teacher group's view_user and view_group, and languages.
  await other.page.reload();
  await other.page.getByRole('banner').getByRole('link', { name: 'Administration' }).click();
  assert.deepEqual(await sectionLinks(other.page), ['Overview', 'Users', 'Groups', 'Languages']);
  assert.deepEqual(other.page.problems, []);
  assert.deepEqual(page.problems, []);
  await other.context.close();
  await context.close();
});

test('a user who is not staff has no administration entry, and the screens refuse', async () => {
  const user = await makeUser('nostaff');
  // Even with a model permission: the admin gate needs staff.
  await api('PATCH', `/api/auth/users/${user.username}/`, { user_permissions: ['openbook_core.change_language'] });
  const { context, page } = await open();
  await login(page, user);
  assert.equal(await page.getByRole('banner').getByRole('link', { name: 'Administration' }).count(), 0);
  await page.goto(url('/app/#/admin/languages'));
  await page.getByRole('heading', { level: 1, name: 'Administration' }).waitFor();
  await page.getByText('You may not see this.').waitFor();
  assert.equal(await page.getByRole('navigation', { name: 'Administration' }).count(), 0);
  assert.equal(await page.getByRole('button').filter({ hasText: /Rename|Delete|Add/ }).count(), 0);
  // Logged out: the login screen, then back here.
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('banner').getByRole('link', { name: 'Log in' }).waitFor();
  await page.goto(url('/app/#/admin'));
  await page.getByRole('heading', { level: 1, name: 'Log in' }).waitFor();
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('a staff user sees only what their model permissions allow, and each control they grant', async () => {
  const code = `q${unique('').slice(0, 2).replace(/[^a-z]/g, 'x')}`;
  await api('POST', '/api/core/languages/', { language: code, name: 'Testish' });
  const renamer = await staffUser('renamer', ['openbook_core.change_language']);
  const keeper = await staffUser('keeper', ['openbook_core.add_language', 'openbook_core.delete_language']);
  const { context, page } = await open();
  try {
    await login(page, renamer);
    await page.getByRole('banner').getByRole('link', { name: 'Administration' }).click();
    assert.deepEqual(await sectionLinks(page), ['Overview', 'Languages']);
    await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Languages' }).click();
    await page.getByRole('heading', { level: 1, name: 'Languages' }).waitFor();
    const row = page.getByRole('row').filter({ hasText: code });
    await row.waitFor();   // the list arrives after the heading: count() does not wait
    assert.equal(await row.getByRole('button', { name: `Rename ${code}` }).count(), 1);
    assert.equal(await page.getByRole('button', { name: /^Delete/ }).count(), 0);
    assert.equal(await page.getByRole('heading', { name: 'Add a language' }).count(), 0);
    // The control works: the server agrees with the app.
    await page.getByLabel(`Name of the language ${code}`).fill('Testisch');
    await row.getByRole('button', { name: `Rename ${code}` }).click();
    await said(page, `${code} is now called Testisch.`);
    assert.equal((await api('GET', `/api/core/languages/${code}/`)).name, 'Testisch');
    // Other screens refuse.
    await page.goto(url('/app/#/admin/users'));
    await page.getByText('You may not see this.').waitFor();
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('banner').getByRole('link', { name: 'Log in' }).waitFor();

    await login(page, keeper);
    await page.goto(url('/app/#/admin/languages'));
    await page.getByRole('heading', { level: 1, name: 'Languages' }).waitFor();
    await page.getByRole('heading', { name: 'Add a language' }).waitFor();
    assert.equal(await page.getByRole('button', { name: /^Rename/ }).count(), 0);
    acceptNextDialog(page);
    await page.getByRole('row').filter({ hasText: code }).getByRole('button', { name: 'Delete Testisch' }).click();
    await said(page, 'Testisch deleted.');
    await api('GET', `/api/core/languages/${code}/`, undefined, { expect: 404 });
    assert.deepEqual(page.problems, []);
  } finally {
    await api('DELETE', `/api/core/languages/${code}/`, undefined, { expect: undefined }).catch(() => {});
    await context.close();
  }
});

test('languages: add (checked in the browser, then by the server), rename, delete', async () => {
  const { context, page } = await adminPage();
  const code = `q${unique('').replace(/[^a-z]/g, '').slice(0, 2).padEnd(2, 'z')}`;
  await page.goto(url('/app/#/admin/languages'));
  await page.getByRole('heading', { level: 1, name: 'Languages' }).waitFor();
  // Checked here first: no request for an impossible code.
  await page.getByLabel('Code').fill('Q1');
  await page.getByRole('button', { name: 'Add language' }).click();
  await page.locator('#nl-code-errors').getByText('Use a code of two or three lower-case letters').waitFor();
  await page.locator('#nl-name-errors').getByText('This field is required.').waitFor();
  // The server's message for a code that exists.
  await page.getByLabel('Code').fill('en');
  await page.getByRole('textbox', { name: 'Name', exact: true }).fill('English again');
  await page.getByRole('button', { name: 'Add language' }).click();
  await page.locator('#nl-code-errors').getByText('Language with this Language Code already exists.').waitFor();
  assert.equal(await page.getByLabel('Code').getAttribute('aria-invalid'), 'true');
  await page.getByLabel('Code').fill(code);
  await page.getByRole('textbox', { name: 'Name', exact: true }).fill('Quenya');
  await page.getByRole('button', { name: 'Add language' }).click();
  await said(page, 'Quenya added.');
  await page.getByLabel(`Name of the language ${code}`).fill('Hochquenya');
  await page.getByRole('button', { name: `Rename ${code}` }).click();
  await said(page, `${code} is now called Hochquenya.`);
  assert.equal((await api('GET', `/api/core/languages/${code}/`)).name, 'Hochquenya');
  acceptNextDialog(page);
  await page.getByRole('button', { name: 'Delete Hochquenya' }).click();
  await said(page, 'Hochquenya deleted.');
  assert.equal(await page.getByRole('row').filter({ hasText: code }).count(), 0);
  await api('GET', `/api/core/languages/${code}/`, undefined, { expect: 404 });
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('groups: create, give permissions, delete', async () => {
  const { context, page } = await adminPage();
  const slug = unique('editors-');
  await page.goto(url('/app/#/admin/groups'));
  await page.getByRole('heading', { level: 1, name: 'Groups' }).waitFor();
  await page.getByRole('textbox', { name: 'Name', exact: true }).fill(`Editors ${slug}`);
  await page.getByLabel('Slug').fill('not a slug');
  await page.getByRole('button', { name: 'Create group' }).click();
  await page.locator('#ng-slug-errors').getByText('Use only letters, digits').waitFor();
  await page.getByLabel('Slug').fill(slug);
  await page.getByRole('button', { name: 'Create group' }).click();
  await page.getByRole('heading', { level: 1, name: `Editors ${slug}` }).waitFor();
  await page.getByRole('checkbox', { name: 'Can view Textbook', exact: true }).check();
  await page.getByRole('checkbox', { name: 'Can change Textbook', exact: true }).check();
  await page.getByRole('button', { name: 'Save' }).click();
  await said(page, 'Saved.');
  const groups = (await api('GET', `/api/auth/groups/?slug=${slug}`)).results;
  assert.deepEqual(groups[0].permissions, ['openbook_content.change_textbook', 'openbook_content.view_textbook']);
  acceptNextDialog(page);
  await page.getByRole('button', { name: `Delete Editors ${slug}` }).click();
  await page.getByRole('heading', { level: 1, name: 'Groups' }).waitFor();
  assert.equal(await page.getByRole('link', { name: `Editors ${slug}` }).count(), 0);
  assert.equal((await api('GET', `/api/auth/groups/?slug=${slug}`)).count, 0);
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('sign-up group assignments: create with groups and an assertion, deactivate, delete', async () => {
  const { context, page } = await adminPage();
  const name = unique('Newcomers ');
  await page.goto(url('/app/#/admin/signup-groups'));
  await page.getByRole('heading', { level: 1, name: 'Groups on sign-up' }).waitFor();
  await page.getByRole('button', { name: 'Create assignment' }).click();
  await page.locator('#sg-name-errors').getByText('This field is required.').waitFor();
  await page.getByRole('textbox', { name: 'Name', exact: true }).fill(name);
  await page.getByRole('checkbox', { name: 'Teacher' }).check();
  await page.getByRole('button', { name: 'Add an assertion' }).click();
  await page.getByLabel('Attribute').fill('email');
  await page.getByLabel('Value').fill('@school.example');
  await page.getByLabel('Match').selectOption('ends-with');
  await page.getByRole('button', { name: 'Create assignment' }).click();
  await said(page, `Assignment “${name}” created.`);
  const row = page.getByRole('row').filter({ hasText: name });
  assert.deepEqual(await row.getByRole('cell').allTextContents().then((c) => c.slice(0, 4).map((x) => x.trim())), [name, 'Yes', 'All sites', 'teacher']);
  let stored = (await api('GET', '/api/auth/signup_group_assignments/?_page_size=1000')).results.find((r) => r.name === name);
  assert.deepEqual([stored.is_active, stored.site, stored.social_app, stored.groups, stored.assertions],
    [true, null, null, ['teacher'], [{ name: 'email', value: '@school.example', match_strategy: 'ends-with' }]]);
  await row.getByRole('button', { name: `Edit ${name}` }).click();
  await page.getByRole('heading', { name: `Edit “${name}”` }).waitFor();
  await page.getByLabel('Active').uncheck();
  await page.getByRole('button', { name: 'Save' }).click();
  await said(page, 'Saved.');
  await row.getByRole('cell').nth(1).getByText('No', { exact: true }).waitFor();
  stored = (await api('GET', `/api/auth/signup_group_assignments/${stored.id}/`));
  assert.equal(stored.is_active, false);
  assert.equal(stored.assertions.length, 1, 'editing keeps the assertions');
  acceptNextDialog(page);
  await row.getByRole('button', { name: `Delete ${name}` }).click();
  await said(page, 'Deleted.');
  assert.equal(await page.getByRole('row').filter({ hasText: name }).count(), 0);
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('anonymous permissions: give one to everybody, take it back', async () => {
  const { context, page } = await adminPage();
  const perm = 'openbook_auth.view_permissiontext';
  await page.goto(url('/app/#/admin/anonymous-permissions'));
  await page.getByRole('heading', { level: 1, name: 'Permissions for everybody' }).waitFor();
  await page.getByRole('row').filter({ hasText: 'openbook_core.view_language' }).waitFor();   // the initial grants
  await page.getByRole('combobox', { name: 'Permission' }).fill('nothing');
  await page.getByRole('button', { name: 'Give to everybody' }).click();
  await page.locator('#ap-perm-errors').getByText('Enter a permission as app.codename').waitFor();
  await page.getByRole('combobox', { name: 'Permission' }).fill('openbook_core.no_such_thing');
  await page.getByRole('button', { name: 'Give to everybody' }).click();
  await page.locator('#ap-perm-errors li').first().waitFor();   // the server's 400
  await page.getByRole('combobox', { name: 'Permission' }).fill(perm);
  await page.getByRole('button', { name: 'Give to everybody' }).click();
  await said(page, `Everybody now holds ${perm}.`);
  const row = page.getByRole('row').filter({ hasText: perm });
  assert.match(await row.textContent(), /Can view Permission: Translation/);
  assert.ok((await api('GET', `/api/auth/anonymous_permissions/?permission=${perm}`)).count === 1);
  acceptNextDialog(page);
  await row.getByRole('button', { name: `Stop giving ${perm} to everybody` }).click();
  await said(page, `${perm} is no longer given to everybody.`);
  assert.equal((await api('GET', `/api/auth/anonymous_permissions/?permission=${perm}`)).count, 0);
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('site: checked before saving; the sign-in pictures upload with progress, or the server says it cannot', async () => {
  const { context, page } = await adminPage();
  await page.goto(url('/app/#/admin/site'));
  await page.getByRole('heading', { level: 1, name: 'Site and sign-in' }).waitFor();
  await page.getByLabel('Brand colour').fill('red');
  await page.getByRole('region', { name: /^Site: / }).getByRole('button', { name: 'Save' }).first().click();
  await page.locator('main .errors').getByText('Use a colour as #rgb or #rrggbb').waitFor();
  // A picture: the server of this build answers multipart writes with 415
  // until issue 14's uploads land; the screen says which happened.
  const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
  await page.getByLabel('New picture for Login').setInputFiles({ name: 'login.png', mimeType: 'image/png', buffer: png });
  const answer = page.waitForResponse((r) => r.url().includes('/api/auth/auth_configs/') && r.request().method() === 'PATCH');
  await page.getByRole('group', { name: 'Login' }).getByRole('button', { name: 'Upload' }).click();
  const status = (await answer).status();
  if (status === 415) {
    await page.locator('main .form-errors').getByText('This server does not accept picture uploads yet.').waitFor();
    page.problems = page.problems.filter((p) => !/status of 415/.test(p));   // the refusal itself
  } else {
    assert.equal(status, 200);
    await page.getByRole('img', { name: 'Current picture: Login' }).waitFor();
    await page.getByRole('button', { name: 'Remove the picture for Login' }).click();
    await said(page, 'Picture removed.');
    assert.equal((await api('GET', '/api/auth/auth_configs/1/')).login_image, null);
  }
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('axe-core: every admin screen, light and dark, has no serious or critical violations; phones do not scroll sideways', async () => {
  const user = await makeUser('axed');
  const groupId = (await api('GET', '/api/auth/groups/?slug=teacher')).results[0].id;
  const screens = ['', 'users', `users/${user.username}`, 'groups', `groups/${groupId}`, 'permission-texts', 'anonymous-permissions',
    'role-permissions', 'signup-groups', 'languages', 'site', 'libraries', 'media'];
  const problems = [];
  for (const colorScheme of ['light', 'dark']) {
    const { context, page } = await adminPage({ colorScheme });
    for (const s of screens) {
      await page.goto(url(`/app/#/admin${s ? `/${s}` : ''}`));
      await loaded(page);
      for (const v of await axeViolations(page)) problems.push(`${colorScheme} ${s || 'overview'}: ${v.id} (${v.impact}) ${v.help} ${v.nodes.join(', ')}`);
    }
    assert.deepEqual(page.problems, []);
    await context.close();
  }
  const { context, page } = await adminPage({ viewport: { width: 360, height: 740 } });
  for (const s of ['', 'users', `users/${user.username}`, 'languages', 'signup-groups', 'site']) {
    await page.goto(url(`/app/#/admin${s ? `/${s}` : ''}`));
    await loaded(page);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    if (width > 360) problems.push(`phone ${s || 'overview'}: ${width}px wide`);
  }
  await context.close();
  assert.deepEqual(problems, []);
});
