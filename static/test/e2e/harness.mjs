// harness.mjs - what the e2e tests share: the stack's address, Chromium,
// mail, an administrator's API client, axe-core.  Started by run.mjs.
import { chromium } from 'playwright-core';
import { before, after } from 'node:test';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';

export const URL_BASE = process.env.OB_E2E_URL;
export const MAIL_DIR = process.env.OB_E2E_MAIL_DIR;
export const ADMIN = JSON.parse(process.env.OB_E2E_ADMIN || '{}');
export const STACK_ROOT = process.env.OB_E2E_ROOT;
export const PASSWORD = 'Vq8#lumen-Orchard-42';
if (!URL_BASE) throw new Error('run the e2e tests through test/e2e/run.mjs (make e2e)');

/** Chromium flags: headless, no sandbox (root in CI), nothing that talks
 * to the outside world. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

export async function launch() {
  return chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true });
}

export function url(path = '/app/') {
  return URL_BASE + path;
}

export function unique(prefix) {
  return `${prefix}${randomBytes(4).toString('hex')}`;
}

/**
 * A new context and page.  page.problems collects uncaught exceptions and
 * console errors (404s of the component-library API, which issue 14 adds,
 * excepted), so tests can assert that none happened.
 */
export async function openPage(browser, { viewport = { width: 1100, height: 800 }, locale = 'en-US', colorScheme = 'light', serviceWorkers = 'block' } = {}) {
  const context = await browser.newContext({ viewport, locale, colorScheme, serviceWorkers });
  const page = await context.newPage();
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of (404|401|403|400|409)/.test(m.text())) {
      page.problems.push(`console: ${m.text()}`);
    }
  });
  page.acceptDialogs = 0;
  page.on('dialog', (d) => {
    if (page.acceptDialogs > 0) {
      page.acceptDialogs--;
      d.accept().catch(() => {});
      return;
    }
    page.problems.push(`dialog: ${d.type()} ${d.message()}`);
    d.dismiss().catch(() => {});
  });
  return { context, page };
}

/** Accepts the next confirm() (leave course, revoke token). */
export function acceptNextDialog(page) {
  page.acceptDialogs++;
}

// ---- mail (.eml files written by `openbook send-mail`)

function decodeQP(s) {
  const bytes = [];
  const text = s.replace(/=\r?\n/g, '');
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '=' && /^[0-9A-F]{2}$/i.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(text[i], 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

export function parseEml(raw) {
  const sep = raw.indexOf('\r\n\r\n') >= 0 ? '\r\n\r\n' : '\n\n';
  const i = raw.indexOf(sep);
  const head = raw.slice(0, i).replace(/\r?\n[ \t]+/g, ' ');
  let body = raw.slice(i + sep.length);
  const headers = {};
  for (const line of head.split(/\r?\n/)) {
    const k = line.indexOf(':');
    if (k > 0) headers[line.slice(0, k).toLowerCase()] = line.slice(k + 1).trim();
  }
  const cte = (headers['content-transfer-encoding'] || '').toLowerCase();
  if (cte === 'quoted-printable') body = decodeQP(body);
  else if (cte === 'base64') body = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  return { headers, body };
}

/** Waits for the newest mail to `to` whose subject contains `subject`. */
export async function waitForMail(to, subject, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (existsSync(MAIL_DIR)) {
      const files = readdirSync(MAIL_DIR).filter((f) => f.endsWith('.eml'))
        .sort((a, b) => parseInt(b, 10) - parseInt(a, 10));
      for (const f of files) {
        const m = parseEml(readFileSync(join(MAIL_DIR, f), 'utf8'));
        if ((m.headers.to || '').includes(to) && decodeSubject(m.headers.subject || '').includes(subject)) return m;
      }
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`no mail "${subject}" to ${to} within ${timeoutMs} ms`);
}

function decodeSubject(s) {
  return s.replace(/=\?utf-8\?([bq])\?([^?]*)\?=/gi, (_, enc, text) => (enc.toLowerCase() === 'b'
    ? Buffer.from(text, 'base64').toString('utf8') : decodeQP(text.replace(/_/g, ' '))));
}

/** The app link in a mail body (absolute, as the mail has it). */
export function mailLink(mail, pathPrefix) {
  const m = new RegExp(`https?://[^\\s]*${pathPrefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[^\\s]*`).exec(mail.body);
  if (!m) throw new Error(`no link ${pathPrefix} in:\n${mail.body}`);
  return m[0];
}

// ---- the administrator's API client (app session token, no CSRF)

let adminToken = null;

export async function api(method, path, body, { token, expect } = {}) {
  if (!token) {
    if (!adminToken) {
      const r = await fetch(url('/auth-api/app/v1/auth/login'), {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: ADMIN.username, password: ADMIN.password }),
      });
      const j = await r.json();
      if (r.status !== 200) throw new Error(`admin login: ${JSON.stringify(j)}`);
      adminToken = j.meta.session_token;
    }
    token = adminToken;
  }
  const r = await fetch(url(path), {
    method,
    headers: { 'X-Session-Token': token, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  const data = text ? JSON.parse(text) : null;
  if (expect !== undefined ? r.status !== expect : !r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return data;
}

/** A user with a verified address and a password, made by the admin. */
export async function makeUser(prefix = 'reader') {
  const username = unique(prefix);
  const email = `${username}@example.org`;
  await api('POST', '/api/auth/users/', { username, email, password: PASSWORD });
  return { username, email, password: PASSWORD };
}

/** Ids of the demo content (openbook load-demo-data). */
export async function demo() {
  const q = (p) => api('GET', p);
  const tb = (await q('/api/content/textbooks/?slug=html-basics&_fields=id,group')).results[0];
  const pages = (await q(`/api/content/textbook_pages/?textbook=${tb.id}&_fields=id,name,parent,position`)).results;
  const course = (await q('/api/content/courses/?slug=web-development&_fields=id,name')).results[0];
  const byName = Object.fromEntries(pages.map((p) => [p.name, p.id]));
  return { textbook: tb.id, group: tb.group, pages: byName, course: course.id };
}

/** Logs in through the app's own form. */
export async function login(page, user) {
  await page.goto(url('/app/#/account/login'));
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password', { exact: true }).fill(user.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.locator('header a.user').waitFor();
}

// ---- axe-core

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** Serious and critical axe violations of the page as it is now.  (The
 * script goes in through DevTools, not a <script> tag: the app's CSP
 * would rightly refuse that.) */
export async function axeViolations(page) {
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Route that stubs the component definitions API with the test library
 * (until issue 14 gives the server that API; run.mjs puts the library's
 * files where an install would). */
export const TEST_LIBRARY_URL = '/media/lib/openbook-e2e/demo/1.0.0/library.js';
export async function stubLibraries(context) {
  const definitions = [
    { 'tag-name': 'ob-info-box', attributes: { variant: { name: 'variant', regex: '', enum: ['tip', 'warning'] } } },
    { 'tag-name': 'ob-code-editor', attributes: { language: { name: 'language', regex: '[a-z]+', enum: [] }, height: { name: 'height', regex: '[0-9]+(em|px)', enum: [] } } },
    { 'tag-name': 'ob-quiz', attributes: { shuffle: { name: 'shuffle', regex: '', enum: ['true', 'false'] } } },
    { 'tag-name': 'ob-quiz-question', attributes: { answer: { name: 'answer', regex: '[a-d]', enum: [] } } },
  ];
  await context.route('**/api/core/html_library/component_definitions/**', (route) => route.fulfill({
    contentType: 'application/json',
    body: JSON.stringify({
      count: definitions.length, next: null, previous: null,
      results: definitions.map((d, i) => ({ id: `d${i}`, html_component: `c${i}`, library_version: { id: 'v1', version: '1.0.0', frontend_url: TEST_LIBRARY_URL }, definition: d })),
    }),
  }));
}

// ---- a switchable network

/**
 * An HTTP proxy in front of the stack, for the offline tests: Playwright's
 * setOffline() does not reach service workers, so "offline" here means
 * that this proxy drops every connection, for the page and its worker
 * alike.  The browser sees the proxy as the site's origin.
 */
export async function switchableNetwork() {
  const http = await import('node:http');
  const target = new URL(URL_BASE);
  let offline = false;
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    if (offline) {
      req.socket.destroy();
      return;
    }
    const up = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    up.on('error', () => req.socket.destroy());
    req.pipe(up);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    if (offline) s.destroy();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  server.unref();   // a failed test must not keep its process alive
  const port = server.address().port;
  return {
    url: (path = '/app/') => `http://127.0.0.1:${port}${path}`,
    setOffline(v) {
      offline = v;
      if (v) for (const s of sockets) s.destroy();
    },
    close: () => new Promise((r) => {
      for (const s of sockets) s.destroy();
      server.close(r);
    }),
  };
}

/** The shared set-up of a test file: one Chromium and the demo ids
 * (`s.browser`, `s.ids`), closed after the file's tests. */
export function withBrowser() {
  const s = {};
  before(async () => {
    s.browser = await launch();
    s.ids = await demo();
  });
  after(() => s.browser.close());
  return s;
}

/** SQL on the stack's database (socket directory and port from run.mjs),
 * for what no API does: making a login look old. */
export function psql(sql) {
  const [host, port] = (process.env.OB_E2E_PSQL || '').split(':');
  if (!host) throw new Error('OB_E2E_PSQL is not set');
  const env = { ...process.env };
  if (process.env.OB_E2E_PGPASSFILE) env.PGPASSFILE = process.env.OB_E2E_PGPASSFILE;
  const r = spawnSync('psql', ['-X', '-q', '-tA', '-v', 'ON_ERROR_STOP=1', '-h', host, '-p', port, '-U', process.env.OB_E2E_PGUSER || 'postgres',
    '-d', 'openbook', '-c', sql], { encoding: 'utf8', env });
  if (r.status !== 0) throw new Error(`psql: ${r.stderr}`);
  return r.stdout.trim();
}

/** Moves every authentication of the user's sessions ten minutes back:
 * past the re-authentication window (api-auth.md §7, 300 s). */
export function ageLogins(username) {
  psql(`UPDATE sessions SET data = jsonb_set(data, '{methods}', (SELECT jsonb_agg(m || jsonb_build_object('at', (m->>'at')::float8 - 600))
    FROM jsonb_array_elements(data->'methods') m)) WHERE user_id = (SELECT id FROM users WHERE username = '${username.replace(/'/g, "''")}')`);
}
