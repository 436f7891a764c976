// Language, phone layout, keyboard and accessibility: German UI switched
// by the language cookie, a 360 px phone, keyboard-only reading with
// visible focus, axe-core on every main screen in both themes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openPage, url, makeUser, login, axeViolations, withBrowser } from './harness.mjs';

const env = withBrowser();

test('German UI: switched in the header, kept in the cookie the server reads', async () => {
  const { context, page } = await openPage(env.browser);
  await page.goto(url('/app/'));
  await page.getByRole('heading', { level: 1, name: 'Library' }).waitFor();
  await page.getByLabel('Language').selectOption('de');
  await page.getByRole('heading', { level: 1, name: 'Bibliothek' }).waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'de');
  const cookie = (await context.cookies()).find((c) => c.name === 'django_language');
  assert.equal(cookie.value, 'de');
  // The API answers in German too now.
  const lang = await page.evaluate(() => fetch('/api/core/languages/').then((r) => r.headers.get('content-language')));
  assert.equal(lang, 'de');
  await page.goto(url(`/app/#/textbooks/${env.ids.textbook}/pages/${env.ids.pages.Introduction}`));
  await page.reload();
  await page.getByRole('navigation', { name: 'Inhalt' }).first().waitFor();
  await page.getByRole('link', { name: /Weiter: Elements and attributes/ }).waitFor();
  assert.match(await page.locator('.ob-placeholder-label').textContent(), /Das interaktive Element „ob-info-box“ ist hier nicht verfügbar\./);
  await page.goto(url('/app/#/account/login'));
  await page.getByRole('heading', { level: 1, name: 'Anmelden' }).waitFor();
  await page.getByLabel('Benutzername').fill('nobody-here');
  await page.getByLabel('Passwort', { exact: true }).fill('wrong-password');
  await page.getByRole('button', { name: 'Anmelden' }).click();
  await page.locator('main [aria-invalid="true"]').waitFor();
  assert.match(await page.locator('main .errors').textContent(), /.+/);
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('a 360 px phone: no sideways scrolling, contents folded away', async () => {
  const { context, page } = await openPage(env.browser, { viewport: { width: 360, height: 740 } });
  const user = await makeUser('phone');
  const screens = ['/app/', `/app/#/groups/${env.ids.group}`, `/app/#/textbooks/${env.ids.textbook}/pages/${env.ids.pages['Elements and attributes']}`,
    '/app/#/courses', `/app/#/courses/${env.ids.course}`, '/app/#/account/login', '/app/#/account/signup'];
  for (const s of screens) {
    await page.goto(url(s));
    await page.locator('main h1').waitFor();
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 360, `${s}: ${width}px wide`);
  }
  await page.goto(url(`/app/#/textbooks/${env.ids.textbook}/pages/${env.ids.pages.Introduction}`));
  await page.getByRole('heading', { level: 1, name: 'Introduction' }).waitFor();
  assert.equal(await page.locator('.toc-wide').isVisible(), false);
  await page.locator('.toc-mobile summary').click();
  await page.locator('.toc-mobile').getByRole('link', { name: 'Links' }).click();
  await page.getByRole('heading', { level: 1, name: 'Links' }).waitFor();
  await login(page, user);
  for (const s of ['profile', 'email', 'tokens']) {
    await page.goto(url(`/app/#/account/${s}`));
    await page.locator('main h1').waitFor();
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 360, `${s}: ${width}px wide`);
  }
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('keyboard only: skip link, contents, next page; focus is visible', async () => {
  const { context, page } = await openPage(env.browser);
  await page.goto(url(`/app/#/textbooks/${env.ids.textbook}/pages/${env.ids.pages.Introduction}`));
  await page.getByRole('heading', { level: 1, name: 'Introduction' }).waitFor();
  // The focus is on the page's heading; the skip link is the first stop
  // before it.
  let onSkip = false;
  for (let i = 0; i < 40 && !onSkip; i++) {
    await page.keyboard.press('Shift+Tab');
    onSkip = await page.evaluate(() => document.activeElement.matches('a.skip'));
  }
  assert.ok(onSkip, 'the skip link is reachable');
  assert.ok(await page.evaluate(() => document.querySelector('a[href], button, input, select, textarea') === document.activeElement),
    'and it is the first focusable element');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Skip to content');
  assert.notEqual(await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle), 'none');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'main');
  // Tab to the "Next" link and follow it.
  let found = false;
  for (let i = 0; i < 30 && !found; i++) {
    await page.keyboard.press('Tab');
    found = await page.evaluate(() => document.activeElement.matches('a.next'));
  }
  assert.ok(found, 'the next link is reachable by Tab');
  assert.notEqual(await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle), 'none', 'focus is visible');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: 'Elements and attributes' }).waitFor();
  // After a page turn the focus is on the new page's heading (screen readers read it).
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Elements and attributes');
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('axe-core: no serious or critical violations on any main screen, light and dark', async () => {
  const user = await makeUser('axe');
  const failures = [];
  for (const colorScheme of ['light', 'dark']) {
    const { context, page } = await openPage(env.browser, { colorScheme });
    const check = async (path, ready) => {
      await page.goto(url(path));
      await (ready ? ready() : page.locator('main h1').waitFor());
      await page.waitForTimeout(100);
      for (const v of await page.evaluate(() => document.documentElement.dataset.theme) === colorScheme ? [] : ['theme']) failures.push(`${path}: ${v}`);
      for (const v of await axeViolations(page)) failures.push(`${colorScheme} ${path}: ${v.id} (${v.impact}) ${v.help} ${v.nodes.join(', ')}`);
    };
    await check('/app/');
    await check(`/app/#/groups/${env.ids.group}`);
    await check(`/app/#/textbooks/${env.ids.textbook}/pages/${env.ids.pages.Introduction}`, () => page.locator('#page-content h2').waitFor());
    await check('/app/#/courses', () => page.locator('main .cards').first().waitFor());
    await check(`/app/#/courses/${env.ids.course}`, () => page.locator('main #c-enrol').waitFor());
    await check('/app/#/account/login');
    await check('/app/#/account/login/code');
    await check('/app/#/account/signup');
    await check('/app/#/account/password/reset');
    await check('/app/#/account/verify-email/not-a-key', () => page.locator('main .notice').waitFor());
    await check('/app/#/nowhere');
    await login(page, user);
    await check(`/app/#/courses/${env.ids.course}`, () => page.locator('main .methods').waitFor());
    for (const s of ['profile', 'email', 'password', 'sessions', 'tokens']) {
      await check(`/app/#/account/${s}`, () => page.locator('main .account-body h1').waitFor());
    }
    // A form showing the API's errors.
    await page.goto(url('/app/#/account/password'));
    await page.getByLabel('New password').fill('1');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.locator('main .errors').first().waitFor();
    for (const v of await axeViolations(page)) failures.push(`${colorScheme} password errors: ${v.id} ${v.help} ${v.nodes.join(', ')}`);
    assert.deepEqual(page.problems, []);
    if (colorScheme === 'dark') {
      // The check itself can fail: an image without a text alternative.
      await page.evaluate(() => document.querySelector('main').append(Object.assign(document.createElement('img'), { src: 'data:,' })));
      const v = await axeViolations(page);
      assert.ok(v.some((x) => x.id === 'image-alt'), JSON.stringify(v));
    }
    await context.close();
  }
  assert.deepEqual(failures, []);
});
