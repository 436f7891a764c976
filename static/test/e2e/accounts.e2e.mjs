// Accounts, courses and live updates, as a person does them in the
// browser: sign-up -> mailed verification link -> login -> browse -> read
// a page with a real component -> enrol -> a live page edit -> logout;
// password reset from the mailed link; login by code; the account pages;
// an access request accepted while the course is open.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  openPage, url, api, unique, waitForMail, mailLink, makeUser, login, stubLibraries,
  acceptNextDialog, ageLogins, PASSWORD, withBrowser } from './harness.mjs';

const env = withBrowser();

test('a new reader: sign up, verify, log in, read, enrol, see a live edit, log out', async () => {
  const { context, page } = await openPage(env.browser);
  await stubLibraries(context);
  const username = unique('newreader');
  const email = `${username}@example.org`;

  // Sign up, with the API's field errors first.
  await page.goto(url('/app/'));
  await page.getByRole('link', { name: 'Sign up' }).click();
  await page.getByRole('heading', { level: 1, name: 'Sign up' }).waitFor();
  await page.getByLabel('E-mail address').fill(email);
  await page.getByLabel('Username').fill('adm');
  await page.getByLabel('Password', { exact: true }).fill('12345678');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.locator('#f-username-errors').getByText('Ensure this value has at least 5 characters (it has 3).').waitFor();
  assert.match(await page.locator('#f-password-errors').textContent(), /entirely numeric/);
  assert.equal(await page.getByLabel('Username').getAttribute('aria-invalid'), 'true');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { level: 1, name: 'Check your e-mail' }).waitFor();

  // The mailed link confirms the address, in the same browser: logged in.
  const mail = await waitForMail(email, 'Please Confirm Your Email Address');
  const link = mailLink(mail, '/app/#/account/verify-email/');
  await page.goto(link);
  await page.locator('main').getByText(`Confirm ${email} for the account ${username}.`).waitFor();
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.locator('header a.user', { hasText: username }).waitFor();

  // Log out, and in again with the password.
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('link', { name: 'Log in' }).waitFor();
  await login(page, { username, password: PASSWORD });

  // Browse to the textbook and read a page with a library component.
  await page.getByRole('link', { name: 'Library' }).first().click();
  await page.getByRole('link', { name: 'HTML Basics' }).first().click();
  await page.getByRole('heading', { level: 1, name: 'Introduction' }).waitFor();
  await page.waitForFunction(() => document.querySelector('#page-content ob-info-box')?.dataset.upgraded);

  // Enrol in the demo course.
  await page.getByRole('link', { name: 'Courses' }).first().click();
  await page.getByRole('link', { name: 'Web Development' }).first().click();
  await page.getByRole('heading', { level: 1, name: 'Web Development' }).waitFor();
  await page.getByRole('button', { name: 'Enrol as student' }).click();
  await page.locator('main .notice').getByText(/(are|have been) enrolled as student\./).first().waitFor();

  // Open the course's reading path; a teacher edits the page meanwhile.
  await page.locator('ol.path').getByRole('link', { name: 'Elements and attributes' }).click();
  await page.getByRole('heading', { level: 1, name: 'Elements and attributes' }).waitFor();
  const pageId = env.ids.pages['Elements and attributes'];
  const before = await api('GET', `/api/content/textbook_pages/${pageId}/?_fields=content`);
  const marker = unique('Edited live ');
  const edited = structuredClone(before.content);
  edited.children.push({ type: 'element', tag: 'p', attributes: {}, children: [{ type: 'text', text: marker }] });
  // Wait until the app listens on the textbook's channel.
  await page.waitForFunction(() => document.documentElement.dataset.live === 'open' && / textbook:|^textbook:/.test(document.documentElement.dataset.liveChannels));
  try {
    await api('PATCH', `/api/content/textbook_pages/${pageId}/`, { content: edited });
    await page.locator('#page-content').getByText(marker).waitFor();
    await page.locator('main').getByText('This page was just updated.').waitFor();
    assert.match(page.url(), new RegExp(`/pages/${pageId}$`), 'updated in place, no navigation');
  } finally {
    await api('PATCH', `/api/content/textbook_pages/${pageId}/`, { content: before.content });
  }

  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('link', { name: 'Log in' }).waitFor();
  const me = await page.evaluate(() => fetch('/api/auth/current_user/').then((r) => r.json()));
  assert.deepEqual(me, { is_authenticated: false });
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('password reset from the mailed link', async () => {
  const user = await makeUser('forgetful');
  const { context, page } = await openPage(env.browser);
  await page.goto(url('/app/#/account/login'));
  await page.getByRole('link', { name: 'Forgot your password?' }).click();
  await page.getByLabel('E-mail address').fill(user.email);
  await page.getByRole('button', { name: 'Send link' }).click();
  await page.locator('main').getByText('a link to reset the password is on its way').waitFor();
  const mail = await waitForMail(user.email, 'Password Reset Email');
  await page.goto(mailLink(mail, '/app/#/account/password/reset/key/'));
  await page.locator('main').getByText(`New password for ${user.username}.`).waitFor();
  await page.getByLabel('New password').fill('short');
  await page.getByRole('button', { name: 'Set password' }).click();
  await page.locator('main').getByText('This password is too short. It must contain at least 8 characters.').waitFor();
  const fresh = 'Another#Lantern-Walk-77';
  await page.getByLabel('New password').fill(fresh);
  await page.getByRole('button', { name: 'Set password' }).click();
  await page.locator('main').getByText('Your password has been changed.').waitFor();
  // The old password no longer works, the new one does.
  await page.goto(url('/app/#/account/login'));
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.locator('main').getByText('The username and/or password you specified are not correct.').waitFor();
  await login(page, { username: user.username, password: fresh });
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('login by a code sent by e-mail', async () => {
  const user = await makeUser('coder');
  const { context, page } = await openPage(env.browser);
  await page.goto(url('/app/#/account/login'));
  await page.getByRole('link', { name: 'Log in with a code sent by e-mail' }).click();
  await page.getByLabel('E-mail address').fill(user.email);
  await page.getByRole('button', { name: 'Send code' }).click();
  await page.getByLabel('Sign-in code').waitFor();
  const mail = await waitForMail(user.email, 'Sign-In Code');
  const code = /\b([B-DF-HJ-NP-TV-XZ]{4}-[B-DF-HJ-NP-TV-XZ]{4})\b/.exec(mail.body)[1];
  await page.getByLabel('Sign-in code').fill('BBBB-BBBB');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.locator('main').getByText('Incorrect code.').waitFor();
  await page.getByLabel('Sign-in code').fill(code.toLowerCase());
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.locator('header a.user', { hasText: user.username }).waitFor();
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('account pages: profile, e-mail addresses, API tokens, password', async () => {
  const user = await makeUser('settler');
  const { context, page } = await openPage(env.browser);
  await login(page, user);
  await page.locator('header a.user').click();
  await page.getByRole('heading', { level: 1, name: 'Profile' }).waitFor();
  await page.getByLabel('First name').fill('Ada');
  await page.getByLabel('Last name').fill('Lovelace');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.locator('main').getByText('Saved.').waitFor();
  assert.equal((await api('GET', `/api/auth/users/${user.username}/?_fields=full_name`)).full_name, 'Ada Lovelace');

  // E-mail addresses: add (a verification mail goes out), remove.
  await page.getByRole('link', { name: 'E-mail addresses' }).click();
  const extra = `${user.username}-2@example.org`;
  await page.getByLabel('E-mail address').fill(extra);
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await page.getByRole('cell', { name: extra }).waitFor();
  await waitForMail(extra, 'Please Confirm Your Email Address');
  await page.getByLabel('E-mail address').fill(extra);
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await page.locator('main').getByText('This email address is already associated with this account.').waitFor();
  // An old login: the change asks for the password again, then goes through.
  ageLogins(user.username);
  await page.getByRole('row', { name: new RegExp(extra) }).getByRole('button', { name: 'Remove' }).click();
  await page.getByRole('heading', { name: 'Confirm it is you' }).waitFor();
  await page.locator('main .reauth').getByLabel('Password').fill('not my password');
  await page.getByRole('button', { name: 'Confirm', exact: true }).click();
  await page.locator('main .reauth').getByText('Incorrect password.').waitFor();
  await page.locator('main .reauth').getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Confirm', exact: true }).click();
  await page.locator('main').getByText(`${extra} was removed.`).waitFor();
  assert.equal(await page.locator('main .reauth').count(), 0);
  assert.equal(await page.getByRole('cell', { name: extra }).count(), 0);

  // API tokens: only with the permission for own tokens (rule T) ...
  await page.getByRole('link', { name: 'API tokens' }).click();
  await page.getByLabel('Name').fill('my script');
  await page.getByRole('button', { name: 'Create token' }).click();
  await page.locator('main').getByText('Your account may not create API tokens.').waitFor();
  await api('PATCH', `/api/auth/users/${user.username}/`, { user_permissions: ['openbook_auth.manage_own_authtoken'] });
  // ... then shown once, and it works; revoked, it does not.
  await page.getByRole('button', { name: 'Create token' }).click();
  const token = await page.locator('#new-token').inputValue();
  assert.match(token, /^[A-Za-z0-9]{64}$/);
  const whoami = () => fetch(url('/api/auth/current_user/'), { headers: { Authorization: `Token ${token}` } });
  assert.equal((await (await whoami()).json()).username, user.username);
  await page.getByRole('cell', { name: 'my script', exact: true }).waitFor();
  acceptNextDialog(page);
  await page.getByRole('button', { name: 'Revoke my script' }).click();
  await page.locator('main').getByText('The token “my script” was revoked.').waitFor();
  assert.equal((await whoami()).status, 403);

  // Password change: errors next to their fields, then success.
  await page.getByRole('link', { name: 'Password' }).click();
  await page.getByLabel('Current password').fill('wrong-password');
  await page.getByLabel('New password').fill('Fresh#Meadow-Stone-19');
  await page.getByRole('button', { name: 'Change password' }).click();
  await page.locator('#f-current_password-errors').getByText('Please type your current password.').waitFor();
  await page.getByLabel('Current password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Change password' }).click();
  await page.locator('main').getByText('Your password has been changed.').waitFor();

  await page.getByRole('link', { name: 'Session' }).click();
  await page.locator('main').getByText(/Logged in with a password on/).waitFor();
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('an access request, accepted while the course is open, shows at once', async () => {
  const user = await makeUser('asker');
  const { context, page } = await openPage(env.browser);
  await login(page, user);
  await page.goto(url(`/app/#/courses/${env.ids.course}`));
  await page.getByRole('heading', { level: 1, name: 'Web Development' }).waitFor();
  await page.getByRole('button', { name: 'Request access as student' }).click();
  await page.locator('main').getByText(/Request as student: pending/).waitFor();
  await page.waitForFunction(() => document.documentElement.dataset.live === 'open' && / user:|^user:/.test(document.documentElement.dataset.liveChannels));
  const req = (await api('GET', `/api/auth/access_requests/?user=${user.username}&_fields=id`)).results[0];
  await api('PUT', `/api/auth/access_requests/${req.id}/accept/`);
  await page.locator('main').getByText('Your access request was accepted.').waitFor();
  await page.locator('main').getByText('You have been enrolled as student.').waitFor();
  await page.locator('main').getByText(/Request as student: accepted/).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Request access as student' }).count(), 0);
  assert.deepEqual(page.problems, []);
  await context.close();
});
