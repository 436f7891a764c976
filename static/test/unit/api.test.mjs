// The API client: CSRF, field shaping from endpoints.js, errors, the auth
// envelope.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { _setTransport, list, get, create, action, auth, authFieldErrors, pendingFlows, ApiError } from '../../src/api.js';

let calls;
let cookie;
function respond(status, body) {
  return { ok: status >= 200 && status < 300, status, text: async () => (body === undefined ? '' : JSON.stringify(body)) };
}
let next;
beforeEach(() => {
  calls = [];
  cookie = 'csrftoken=abc123';
  next = () => respond(200, { count: 0, next: null, previous: null, results: [] });
  _setTransport(async (url, init) => {
    calls.push({ url, init });
    return next(url, init);
  }, () => cookie);
});

test('lists send exactly the declared fields and filters', async () => {
  await list('textbookPages', { textbook: 'T' }, { fields: ['id', 'name'] });
  const u = new URL(calls[0].url, 'http://x');
  assert.equal(u.pathname, '/api/content/textbook_pages/');
  assert.equal(u.searchParams.get('textbook'), 'T');
  assert.equal(u.searchParams.get('_fields'), 'id,name');
  assert.equal(calls[0].init.method, 'GET');
  assert.equal(calls[0].init.headers['X-CSRFToken'], undefined, 'no CSRF header on GET');
});

test('undeclared fields, filters and expansions are programming errors', async () => {
  await assert.rejects(list('textbooks', { nope: 1 }), /filter nope/);
  await assert.rejects(get('textbooks', 'x', { fields: ['secret'] }), /field secret/);
  await assert.rejects(list('textbooks', {}, { expand: ['group'] }), /expand group/);
  await assert.rejects(create('accessRequests', { decision: 'accepted' }), /decision/);
  assert.equal(calls.length, 0);
});

test('unsafe methods carry X-CSRFToken from the cookie, and fetch it first when missing', async () => {
  next = () => respond(200, { ticket: 't' });
  await action('wsTicket', {}, { channels: ['user:1'] });
  assert.equal(calls[0].init.headers['X-CSRFToken'], 'abc123');
  assert.equal(calls[0].init.headers['Content-Type'], 'application/json');
  assert.deepEqual(JSON.parse(calls[0].init.body), { channels: ['user:1'] });

  calls = [];
  cookie = '';
  next = (url) => {
    if (url.endsWith('/config')) cookie = 'csrftoken=fresh';
    return respond(200, {});
  };
  await action('enroll', { id: 'a/b' }, {});
  assert.equal(calls[0].url, '/auth-api/browser/v1/config');
  assert.equal(calls[1].url, '/api/auth/enrollment_methods/a%2Fb/enroll/');
  assert.equal(calls[1].init.method, 'PUT');
  assert.equal(calls[1].init.headers['X-CSRFToken'], 'fresh');
});

test('errors: field messages, detail, network failure', async () => {
  next = () => respond(400, { name: ['This field is required.'], non_field_errors: ['End date must be later than start date.'] });
  const e = await create('authTokens', { name: '' }).catch((x) => x);
  assert.ok(e instanceof ApiError);
  assert.deepEqual(e.fields.name, ['This field is required.']);
  assert.deepEqual(e.fields.non_field_errors, ['End date must be later than start date.']);
  next = () => respond(403, { detail: 'Incorrect passphrase' });
  const f = await action('enroll', { id: '1' }, { passphrase: 'x' }).catch((x) => x);
  assert.equal(f.status, 403);
  assert.equal(f.detail, 'Incorrect passphrase');
  next = () => { throw new TypeError('Failed to fetch'); };
  const g = await get('textbooks', '1').catch((x) => x);
  assert.equal(g.status, 0);
});

test('auth envelope: 401 is an answer, errors by param', async () => {
  next = () => respond(401, { status: 401, data: { flows: [{ id: 'login' }, { id: 'verify_email', is_pending: true }] }, meta: { is_authenticated: false } });
  const env = await auth('signup', { email: 'a@b.org', username: 'abcde', password: 'x' });
  assert.equal(env.status, 401);
  assert.deepEqual(pendingFlows(env), ['verify_email']);
  assert.equal(calls[0].url, '/auth-api/browser/v1/auth/signup');
  assert.equal(calls[0].init.headers['X-CSRFToken'], 'abc123');

  next = () => respond(400, { status: 400, errors: [
    { code: 'password_too_short', message: 'This password is too short.', param: 'password' },
    { code: 'too_many_login_attempts', message: 'Too many failed login attempts.' }] });
  const bad = await auth('login', { username: 'u', password: 'p' });
  assert.deepEqual(authFieldErrors(bad), { password: ['This password is too short.'], '': ['Too many failed login attempts.'] });

  next = () => { throw new TypeError('offline'); };
  assert.equal((await auth('session')).status, 0);
});

test('verification keys travel in the header the API names', async () => {
  next = () => respond(200, { status: 200, data: { email: 'a@b.org' } });
  await auth('verifyGet', undefined, { 'X-Email-Verification-Key': 'k' });
  assert.equal(calls[0].init.method, 'GET');
  assert.equal(calls[0].init.headers['X-Email-Verification-Key'], 'k');
  assert.equal(calls[0].init.body, undefined);
});
