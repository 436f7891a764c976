// The studio, courses: a teacher creates a course from a template, adds a
// material with a page range, a role, enrolment methods and the public
// permission to see it; a student enrols, asks for another role, and the
// teacher accepts the request live (the relay); library groups: a link and
// a role; axe-core on the course and group screens.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { withBrowser, openPage, login, url, api, axeViolations } from './harness.mjs';
import { whitelist, user, group, C, A, COURSE } from './studio-support.mjs';

const s = withBrowser();
before(whitelist);

test('a course from a template: materials, roles, enrolment; a student enrols and is accepted live', async () => {
  const teacher = await user('teach', ['teacher']);
  const g = await group('Course shelf');
  // The template: a role, a material of the demo textbook; everybody may
  // see it, its materials and its roles (so teachers can copy them).
  const tpl = await api('POST', '/api/content/courses/', { slug: 'tpl', name: 'Template course', group: g.id, is_template: true,
    public_permissions: [`${C}.view_course`, `${C}.view_coursematerial`, `${C}.view_coursematerialpagerange`, `${A}.view_role`] });
  await api('POST', '/api/auth/roles/', { scope_type: COURSE, scope_uuid: tpl.id, slug: 'student', name: 'Student', priority: 10,
    permissions: [`${C}.view_course`] });
  const m = await api('POST', '/api/content/course_materials/', { course: tpl.id, textbook: s.ids.textbook, position: 0 });
  await api('POST', '/api/content/course_material_page_ranges/', { material: m.id, start_page: s.ids.pages.Introduction,
    end_page: s.ids.pages.Introduction, position: 0 });
  // A second textbook for the new material.
  const tb = await api('POST', '/api/content/textbooks/', { slug: 'extra', name: 'Extra reading', group: g.id });
  for (const [i, name] of ['First', 'Second', 'Third'].entries()) {
    await api('POST', '/api/content/textbook_pages/', { textbook: tb.id, name, position: i, content: {} });
  }

  const { context, page } = await openPage(s.browser);
  await login(page, teacher);
  await page.goto(url('/app/#/studio'));
  await page.getByRole('button', { name: `New course in ${g.name}` }).click();
  await page.getByLabel('Name', { exact: true }).fill('Web 101');
  await page.getByLabel('Start from').selectOption({ label: 'Template course' });
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByRole('heading', { name: 'Web 101', level: 1 }).waitFor();
  const course = /#\/studio\/courses\/([0-9a-f-]+)/.exec(page.url())[1];
  // Copied from the template: the material with its range, the role, the public permission.
  await page.locator('.studio-materials h3', { hasText: 'HTML Basics' }).waitFor();
  await page.getByText('Pages Introduction to Introduction').waitFor();
  await page.locator('#sa-roles + table', { hasText: 'Student' }).waitFor();
  assert.ok(await page.locator(`input[name="public"][value="${C}.view_course"]`).isChecked());
  assert.deepEqual(await axeViolations(page), []);

  // A material with a page range.
  await page.getByLabel('Textbook').selectOption({ label: 'Extra reading' });
  await page.locator('#am-start').selectOption({ label: 'Second' });
  await page.locator('#am-end').selectOption({ label: 'Third' });
  await page.locator('form.add-material').getByRole('button', { name: 'Add material' }).click();
  await page.getByText('Pages Second to Third').waitFor();
  const materials = (await api('GET', `/api/content/course_materials/?course=${course}&_expand=page_ranges`)).results;
  assert.equal(materials.length, 2);

  // A role for tutors, an open method for students, a closed one for tutors.
  await page.locator('summary', { hasText: 'Add role' }).click();
  const roleForm = page.locator('form.role-form').last();
  await roleForm.getByLabel('Short name (slug)').fill('tutor');
  await roleForm.getByLabel('Name', { exact: true }).fill('Tutor');
  await roleForm.getByLabel('Priority').fill('20');
  await roleForm.getByRole('button', { name: 'Add role' }).click();
  await page.locator('#sa-roles + table', { hasText: 'Tutor' }).waitFor();
  await page.locator('summary', { hasText: 'Add enrolment method' }).click();
  await page.getByLabel('Name', { exact: true }).last().fill('Open enrolment');
  await page.locator('#m-role').selectOption('student');
  await page.locator('#sa-methods').locator('..').getByRole('button', { name: 'Add enrolment method' }).click();
  await page.locator('#sa-methods + table', { hasText: 'Open enrolment' }).waitFor();
  await page.locator('#m-name').fill('Tutors');
  await page.locator('#m-role').selectOption('tutor');
  await page.locator('#m-pass').fill('secret words');
  await page.locator('#sa-methods').locator('..').getByLabel('Active').uncheck();
  await page.locator('#sa-methods').locator('..').getByRole('button', { name: 'Add enrolment method' }).click();
  await page.locator('#sa-methods + table', { hasText: 'Tutors' }).waitFor();
  const methods = (await api('GET', `/api/auth/enrollment_methods/?scope_uuid=${course}`)).results;
  assert.deepEqual(methods.map((x) => [x.name, x.role, x.is_active, x.has_passphrase]).sort(),
    [['Open enrolment', 'student', true, false], ['Tutors', 'tutor', false, true]]);
  assert.deepEqual(await axeViolations(page), []);

  // Give a role by username; change the public permissions.
  const helper = await user('help');
  await page.getByLabel('Username').fill(helper.username);
  await page.locator('#a-role').selectOption('tutor');
  await page.getByRole('button', { name: 'Give role' }).click();
  await page.locator('#sa-assign + table tr', { hasText: helper.username }).waitFor();
  await page.locator(`input[name="public"][value="${C}.view_coursematerial"]`).uncheck();
  await page.getByRole('button', { name: 'Save public permissions' }).click();
  await page.locator('#ob-announce', { hasText: 'Saved.' }).waitFor();
  const pub = (await api('GET', `/api/content/courses/${course}/?_fields=public_permissions`)).public_permissions;
  assert.ok(pub.includes(`${C}.view_course`) && !pub.includes(`${C}.view_coursematerial`), JSON.stringify(pub));

  // A student enrols, then asks to be a tutor.
  const student = await user('stud');
  const st = await openPage(s.browser);
  await login(st.page, student);
  await st.page.goto(url(`/app/#/courses/${course}`));
  await st.page.getByRole('button', { name: 'Enrol as student' }).click();
  await st.page.getByText('You are enrolled as student.').first().waitFor();
  await st.page.waitForFunction(() => document.documentElement.dataset.live === 'open');
  await page.waitForFunction(() => document.documentElement.dataset.live === 'open');
  await st.page.getByRole('button', { name: 'Request access as tutor' }).click();
  // The teacher (the course's owner) sees it arrive without reloading.
  await page.getByRole('button', { name: `Accept ${student.username}` }).click();
  await st.page.locator('.notice', { hasText: 'Your access request was accepted.' }).waitFor();
  await page.locator('#sa-assign + table tr', { hasText: 'tutor' }).filter({ hasText: student.username }).waitFor();
  const roles = (await api('GET', `/api/auth/role_assignments/?scope_uuid=${course}&user=${student.username}`)).results.map((a) => a.role).sort();
  assert.deepEqual(roles, ['student', 'tutor']);
  assert.deepEqual(page.problems, []);
  assert.deepEqual(st.page.problems, []);
  await st.context.close();
  await context.close();
});

test('library groups: a teacher who owns a group links a course and adds a role', async () => {
  const teacher = await user('teach', ['teacher']);
  const g = await group('Owned shelf', teacher.username);
  const other = await group('Elsewhere');
  const c = await api('POST', '/api/content/courses/', { slug: 'x', name: 'Linked course', group: other.id, public_permissions: [`${C}.view_course`] });
  const { context, page } = await openPage(s.browser);
  await login(page, teacher);
  await page.goto(url('/app/#/studio'));
  await page.getByRole('link', { name: g.name }).click();
  await page.getByRole('heading', { name: g.name, level: 1 }).waitFor();
  await page.getByLabel('Link to').selectOption({ label: 'Linked course' });
  await page.getByRole('button', { name: 'Add link' }).click();
  await page.getByText('Course: Linked course').waitFor();
  await page.locator('summary', { hasText: 'Add role' }).click();
  await page.locator('form.role-form').getByLabel('Short name (slug)').fill('author');
  await page.locator('form.role-form').getByLabel('Name', { exact: true }).fill('Author');
  await page.locator('form.role-form').getByLabel('Can change Textbook Page').check();
  await page.locator('form.role-form').getByRole('button', { name: 'Add role' }).click();
  await page.locator('#sa-roles + table', { hasText: 'Author' }).waitFor();
  const roles = (await api('GET', `/api/auth/roles/?scope_uuid=${g.id}`)).results;
  assert.deepEqual(roles.map((r) => [r.slug, r.permissions]), [['author', [`${C}.change_textbookpage`]]]);
  const links = (await api('GET', `/api/content/library_links/?group=${g.id}`)).results;
  assert.deepEqual(links.map((l) => l.course), [c.id]);
  assert.deepEqual(await axeViolations(page), []);
  assert.deepEqual(page.problems, []);
  await context.close();
});
