// run.mjs - the end-to-end harness: one real stack (deploy/local/stack.py:
// PostgreSQL, Redis, the worker pool, the relay, nginx serving static/app/,
// send-mail writing .eml files, the demo content), then real headless
// Chromium (Debian's /usr/bin/chromium through playwright-core; no browser
// is ever downloaded).
//
//   node test/e2e/run.mjs test [file.e2e.mjs ...]   the e2e tests (default: all)
//   node test/e2e/run.mjs screenshots              README pictures (docs/screenshots/)
//   node test/e2e/run.mjs bench                    bundle size and page timings
//
// Environment: OPENBOOK_BIN (default build/asan/openbook), OPENBOOK_KEEP_TMP=1
// keeps the stack directory, E2E_CONCURRENCY (default 2) test files at once.
// The tests share the stack; each one makes its own users and content, so
// they run in parallel.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

const STATIC = resolve(new URL('../..', import.meta.url).pathname);
const REPO = resolve(STATIC, '..');
const HERE = join(STATIC, 'test', 'e2e');
const mode = process.argv[2] || 'test';
const binary = resolve(REPO, process.env.OPENBOOK_BIN || 'build/asan/openbook');
const SANITIZER = /ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|SUMMARY: (Address|Leak|UndefinedBehavior)Sanitizer/;
export const ADMIN = { username: 'e2e-admin', password: 'Vq8#lumen-Orchard-42', email: 'e2e-admin@example.org' };

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
    s.on('error', rej);
  });
}

async function startStack(dir, port) {
  const env = { ...process.env, LANG: 'C.UTF-8' };
  for (const k of Object.keys(env)) if (k.startsWith('OPENBOOK_')) delete env[k];
  env.ASAN_OPTIONS ??= 'detect_leaks=1:abort_on_error=0:print_summary=1';
  env.UBSAN_OPTIONS ??= 'print_stacktrace=1';
  const proc = spawn('python3', [join(REPO, 'deploy/local/stack.py'), 'run', '--dir', dir, '--port', String(port),
    '--binary', binary, '--workers', '3',
    // Every browser of every test file logs in from 127.0.0.1, as a class
    // behind one NAT address would: the limits per address (30 logins a
    // minute) are raised as such an installation raises them.
    '--set', 'auth.ip_limit_factor=20'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stderr.on('data', (d) => { err += d; });
  await new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`the stack did not start within 240 s\n${out}\n${err}`)), 240000);
    proc.stdout.on('data', (d) => {
      out += d;
      if (/OpenBook is running/.test(out) && /reload:/.test(out)) {
        clearTimeout(timer);
        res();
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`the stack exited (${code}) while starting\n${out}\n${err}`));
    });
  });
  const redis = /redis-cli -p (\d+)/.exec(out);
  // "psql: [PGPASSFILE=<file>] psql -h <dir> -p <port> -U <user> openbook"
  const psql = /psql:\s+(?:PGPASSFILE=(\S+)\s+)?psql -h (\S+) -p (\d+)(?: -U (\S+))?/.exec(out);
  const mail = /mail:\s+(\S+)/.exec(out);
  return { proc, env, redisPort: redis && redis[1], psql: psql && `${psql[2]}:${psql[3]}`, pgpass: psql && psql[1], pguser: psql && psql[4], mailDir: mail[1], output: () => out + err };
}

function stopStack(stack) {
  return new Promise((res) => {
    if (stack.proc.exitCode !== null) return res();
    stack.proc.on('exit', res);
    stack.proc.kill('SIGTERM');
    setTimeout(() => stack.proc.kill('SIGKILL'), 90000).unref();
  });
}

function sanitizerReports(dir) {
  const out = [];
  const logs = join(dir, 'log');
  for (const n of readdirSync(logs)) {
    const text = readFileSync(join(logs, n), 'utf8');
    const i = text.search(SANITIZER);
    if (i >= 0) out.push(`${n}:\n${text.slice(Math.max(0, i - 200), i + 3000)}`);
  }
  return out;
}

async function main() {
  if (spawnSync(process.execPath, [join(STATIC, 'build.mjs')], { stdio: 'inherit' }).status !== 0) {
    throw new Error('the app did not build');
  }
  const dir = mkdtempSync('/tmp/openbook-e2e-');
  chmodSync(dir, 0o755);
  const port = await freePort();
  let stack;
  let status = 1;
  try {
    stack = await startStack(dir, port);
    // The administrator the tests use to make content and decide requests.
    const su = spawnSync(binary, ['createsuperuser', '-c', join(dir, 'openbook.yaml'), '--no-input',
      '--username', ADMIN.username, '--email', ADMIN.email],
    { env: { ...stack.env, OPENBOOK_SUPERUSER_PASSWORD: ADMIN.password }, encoding: 'utf8' });
    if (su.status !== 0) throw new Error(`createsuperuser failed: ${su.stderr}`);
    // The test component library, served by nginx from the media root
    // like an installed one (libraries.md §6).
    const lib = join(dir, 'media', 'lib', 'openbook-e2e', 'demo', '1.0.0');
    mkdirSync(lib, { recursive: true });
    cpSync(join(HERE, 'fixtures', 'library'), lib, { recursive: true });

    const env = {
      ...process.env,
      OB_E2E_URL: `http://127.0.0.1:${port}`,
      OB_E2E_MAIL_DIR: stack.mailDir,
      OB_E2E_REDIS_PORT: stack.redisPort || '',
      OB_E2E_PSQL: stack.psql || '',
      OB_E2E_PGPASSFILE: stack.pgpass || '',
      OB_E2E_PGUSER: stack.pguser || '',
      OB_E2E_ADMIN: JSON.stringify(ADMIN),
      OB_E2E_ROOT: dir,
    };
    let argv;
    if (mode === 'test') {
      const files = process.argv.slice(3).length ? process.argv.slice(3).map((f) => resolve(f))
        : readdirSync(HERE).filter((f) => f.endsWith('.e2e.mjs')).sort().map((f) => join(HERE, f));
      argv = ['--test', `--test-concurrency=${process.env.E2E_CONCURRENCY || 2}`, ...files];
    } else if (mode === 'screenshots') {
      argv = [join(HERE, 'screenshots.mjs')];
    } else if (mode === 'bench') {
      argv = [join(STATIC, 'test', 'bench', 'app-bench.mjs')];
    } else {
      throw new Error(`unknown mode ${mode}`);
    }
    const r = spawnSync(process.execPath, argv, { env, stdio: 'inherit', cwd: STATIC });
    status = r.status ?? 1;
  } finally {
    if (stack) await stopStack(stack);
    const reports = stack ? sanitizerReports(dir) : [];
    if (reports.length) {
      console.error(`sanitizer reports in the server logs (kept ${dir}):\n${reports.join('\n\n')}`);
      status = 1;
    } else if (process.env.OPENBOOK_KEEP_TMP === '1' || status !== 0) {
      console.error(`(stack directory kept: ${dir})`);
    } else {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return status;
}

main().then((s) => process.exit(s), (e) => {
  console.error(e.stack || e);
  process.exit(1);
});
