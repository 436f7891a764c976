// app-bench.mjs - the browser app's figures (issue 15), on the e2e
// harness (`make app-bench`, part of `make bench`):
//
//  - bundle: what a reader loads before the first page shows (index.html's
//    main.js, the chunks it preloads, app.css), raw and gzipped (level 9);
//    the lazily loaded chunks beside it;
//  - first page: navigation -> the first rendered textbook page, in a
//    fresh browser context each time (no HTTP cache, no service worker),
//    from the Performance API (mark "ob:page-rendered", whose startTime
//    counts from navigation start), with first-contentful-paint;
//  - next page: a click on "Next" -> that page rendered (marks
//    "ob:navigate" -> "ob:page-rendered"), in the same contexts.
// Medians of 20 (BENCH_RUNS).  Goals: <= 80 KB gzipped JS + CSS, < 300 ms
// cold, < 50 ms for the next page.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { launch, openPage, url, demo } from '../e2e/harness.mjs';
import { studioBench } from './studio-bench.mjs';

const APP = new URL('../../app/', import.meta.url).pathname;
const RUNS = Number(process.env.BENCH_RUNS || 20);

function size(file) {
  const raw = readFileSync(join(APP, file));
  return { file, raw: raw.length, gz: gzipSync(raw, { level: 9 }).length };
}

const index = readFileSync(join(APP, 'index.html'), 'utf8');
const first = ['index.html', ...[...index.matchAll(/(?:src|href)="([^"?]+\.(?:js|css))/g)].map((m) => m[1])];
const initial = first.map(size);
const lazy = readdirSync(join(APP, 'chunks')).map((f) => `chunks/${f}`).filter((f) => !first.includes(f)).map(size);
const kb = (n) => (n / 1024).toFixed(1);
const jsCss = initial.filter((s) => !s.file.endsWith('.html'));
const total = jsCss.reduce((a, s) => ({ raw: a.raw + s.raw, gz: a.gz + s.gz }), { raw: 0, gz: 0 });
console.log('app bundle (before the first page shows):');
for (const s of initial) console.log(`  ${s.file.padEnd(34)} ${kb(s.raw).padStart(7)} KB  ${kb(s.gz).padStart(6)} KB gz`);
console.log(`  JS + CSS total                      ${kb(total.raw).padStart(7)} KB  ${kb(total.gz).padStart(6)} KB gz   (goal <= 80 KB gz)`);
console.log('loaded on demand:');
for (const s of lazy) console.log(`  ${s.file.padEnd(34)} ${kb(s.raw).padStart(7)} KB  ${kb(s.gz).padStart(6)} KB gz`);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const browser = await launch();
const ids = await demo();
const cold = [];
const fcp = [];
const next = [];
const target = url(`/app/#/textbooks/${ids.textbook}/pages/${ids.pages.Introduction}`);
for (let i = 0; i < RUNS + 1; i++) {
  const { context, page } = await openPage(browser, { serviceWorkers: 'block' });
  await page.goto(target);
  await page.waitForFunction(() => performance.getEntriesByName('ob:page-rendered').length > 0);
  const t = await page.evaluate(() => ({
    rendered: performance.getEntriesByName('ob:page-rendered')[0].startTime,
    fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
  }));
  await page.waitForLoadState('networkidle');   // the next page is prefetched meanwhile
  await page.locator('a.next').click();
  await page.waitForFunction(() => performance.getEntriesByName('ob:page-rendered').length > 1);
  const n = await page.evaluate(() => {
    const nav = performance.getEntriesByName('ob:navigate').at(-1).startTime;
    return performance.getEntriesByName('ob:page-rendered').at(-1).startTime - nav;
  });
  await context.close();
  if (i === 0) continue;   // warm-up (the server's caches, Chromium's start)
  cold.push(t.rendered);
  fcp.push(t.fcp);
  next.push(n);
}
if (!process.env.BENCH_SKIP_STUDIO) await studioBench(browser);
await browser.close();
console.log(`first textbook page, navigation -> rendered (median of ${RUNS}, fresh context each): ${median(cold).toFixed(1)} ms  (goal < 300 ms; min ${Math.min(...cold).toFixed(1)}, max ${Math.max(...cold).toFixed(1)})`);
console.log(`  first contentful paint (median): ${median(fcp).toFixed(1)} ms`);
console.log(`next page of the same textbook, click -> rendered (median of ${RUNS}): ${median(next).toFixed(1)} ms  (goal < 50 ms; max ${Math.max(...next).toFixed(1)})`);
