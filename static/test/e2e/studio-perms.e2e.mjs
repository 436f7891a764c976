// The studio shows a control only where the API would allow the action:
// a user without rights sees none, and each permission a role grants in a
// library group or a course brings exactly its controls.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { withBrowser, openPage, login, url, api, axeViolations } from './harness.mjs';
import { whitelist, user, group, roleFor, stubDefinitions, C, A, GROUP, COURSE } from './studio-support.mjs';

const s = withBrowser();
let fx;
before(async () => {
  await whitelist();
  const g = await group('Permission books');
  const tb = await api('POST', '/api/content/textbooks/', { slug: 'perm', name: 'Permission book', group: g.id });
  const page = await api('POST', '/api/content/textbook_pages/', { textbook: tb.id, name: 'Only page', position: 0, content: {} });
  const course = await api('POST', '/api/content/courses/', { slug: 'perm', name: 'Permission course', group: g.id, public_permissions: [`${C}.view_course`] });
  await api('POST', '/api/auth/roles/', { scope_type: COURSE, scope_uuid: course.id, slug: 'student', name: 'Student', priority: 10, permissions: [] });
  fx = { g, tb, page, course };
});

/** What the textbook screen offers. */
async function textbookControls(page) {
  await page.goto(url(`/app/#/studio/textbooks/${fx.tb.id}/pages/${fx.page.id}`));
  await page.locator('ob-page-editor .editor:not([hidden])').waitFor();
  await page.locator('.pm-editor').waitFor();
  const has = async (sel) => (await page.locator(sel).count()) > 0;
  return {
    settingsForm: await has('details.settings form'),
    deleteTextbook: await has('details.settings button.danger'),
    addPage: await has('form.add-page'),
    renamePage: await has('.page-tree button[aria-label^="Rename"]'),
    movePage: await has('.page-tree .row[draggable="true"]'),
    editPage: await has('.toolbar'),
    deletePage: await has('.page-tree button.danger'),
  };
}

const NONE = { settingsForm: false, deleteTextbook: false, addPage: false, renamePage: false, movePage: false, editPage: false, deletePage: false };

test('a user without rights sees no control of the studio', async () => {
  const u = await user('nobody');
  const { context, page } = await openPage(s.browser);
  await stubDefinitions(context);
  await login(page, u);
  await page.goto(url('/app/#/studio'));
  await page.getByRole('heading', { name: 'Studio', level: 1 }).waitFor();
  await page.locator('.studio-tree').waitFor();
  for (const name of ['New textbook', 'New course', 'New library group']) {
    assert.equal(await page.getByRole('button', { name }).count(), 0, name);
  }
  assert.equal(await page.locator('.studio-tree a').count(), 0, 'nothing to open');
  assert.deepEqual(await axeViolations(page), []);
  assert.deepEqual(await textbookControls(page), NONE);
  await page.getByText('You may read this page but not change it.').waitFor();
  assert.deepEqual(await axeViolations(page), []);
  // A course: no settings, materials, roles, methods or public permissions to change.
  await page.goto(url(`/app/#/studio/courses/${fx.course.id}`));
  await page.locator('ob-scope-admin section').first().waitFor();
  assert.equal(await page.locator('details.settings').count(), 0);
  assert.equal(await page.locator('form.add-material').count(), 0);
  assert.equal(await page.getByRole('button', { name: /Add role|Add enrolment method|Give role|Save public permissions/ }).count(), 0);
  assert.equal(await page.locator('input[name="public"]:not(:disabled)').count(), 0);
  assert.deepEqual(await axeViolations(page), []);
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('each permission a role grants in a library group brings its controls', async () => {
  const cases = {
    change_textbook: { settingsForm: true },
    delete_textbook: { deleteTextbook: true },
    add_textbookpage: { addPage: true },
    change_textbookpage: { renamePage: true, movePage: true, editPage: true },
    delete_textbookpage: { deletePage: true },
  };
  for (const [perm, want] of Object.entries(cases)) {
    const u = await user('role');
    await roleFor(GROUP, fx.g.id, u.username, [`${C}.view_librarygroup`, `${C}.${perm}`]);
    const { context, page } = await openPage(s.browser);
    await stubDefinitions(context);
    await login(page, u);
    assert.deepEqual(await textbookControls(page), { ...NONE, ...want }, perm);
    assert.deepEqual(page.problems, []);
    await context.close();
  }
});

test('course roles bring their controls, bounded by the role priority', async () => {
  const { context, page } = await openPage(s.browser);
  await stubDefinitions(context);
  const u = await user('tutor');
  await roleFor(COURSE, fx.course.id, u.username, [`${C}.view_course`, `${C}.add_coursematerial`, `${A}.view_role`, `${A}.add_role`,
    `${A}.change_role`, `${A}.view_enrollmentmethod`, `${A}.add_enrollmentmethod`], 5);
  await login(page, u);
  await page.goto(url(`/app/#/studio/courses/${fx.course.id}`));
  await page.locator('ob-scope-admin section').first().waitFor();
  assert.equal(await page.locator('form.add-material').count(), 1);
  assert.equal(await page.locator('details.settings').count(), 0, 'no change_course');
  await page.getByText('Add role').first().waitFor();
  // Student (priority 10) ranks above this role (5): not editable, and no
  // method can be made for it; the user's own role (5) can.
  const rows = page.locator('#sa-roles + table tbody tr');
  const student = rows.filter({ hasText: 'Student' });
  assert.equal(await student.getByRole('button', { name: /Edit/ }).count(), 0);
  const own = rows.filter({ hasNotText: 'Student' }).first();
  assert.equal(await own.getByRole('button', { name: /Edit/ }).count(), 1);
  assert.deepEqual(await page.locator('#m-role option').allTextContents(), [(await own.locator('td').first().textContent()).split(' ')[0].trim()]);
  assert.deepEqual(page.problems, []);
  await context.close();
});
