// Reading without an account: the library tree, a textbook's pages with
// contents, previous/next, breadcrumbs, deep links and the remembered
// position; hostile stored content renders inert; components from a
// library; offline reading through the service worker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openPage, url, api, unique, stubLibraries, switchableNetwork, TEST_LIBRARY_URL, withBrowser } from './harness.mjs';

const env = withBrowser();

test('/ leads to the app; browse the library and read the demo textbook', async () => {
  const { context, page } = await openPage(env.browser);
  await page.goto(url('/'));
  assert.match(page.url(), /\/app\/$/);
  await page.getByRole('heading', { level: 1, name: 'Library' }).waitFor();
  await page.getByRole('link', { name: 'HTML Basics' }).first().click();
  // The first page opens, with its content rendered and the contents beside it.
  await page.getByRole('heading', { level: 1, name: 'Introduction' }).waitFor();
  assert.match(page.url(), new RegExp(`#/textbooks/${env.ids.textbook}/pages/${env.ids.pages.Introduction}$`));
  const article = page.locator('#page-content');
  assert.equal(await article.locator('h2').textContent(), 'What is HTML?');
  assert.equal(await article.locator('em').textContent(), 'paragraphs');
  // No library defines ob-info-box here: a visible placeholder with its text.
  const ph = article.locator('.ob-placeholder[data-component="ob-info-box"]');
  assert.match(await ph.textContent(), /not available.*Every page in this book has a live editor\./s);
  const toc = page.locator('.toc-wide nav.toc');
  assert.equal(await toc.locator('a[aria-current="page"]').textContent(), 'Introduction');

  await page.getByRole('link', { name: /Next: Elements and attributes/ }).click();
  await page.getByRole('heading', { level: 1, name: 'Elements and attributes' }).waitFor();
  await page.getByRole('link', { name: /Next: Links/ }).click();
  await page.getByRole('heading', { level: 1, name: 'Links' }).waitFor();
  const crumbs = await page.locator('nav.breadcrumbs li').allTextContents();
  assert.deepEqual(crumbs.map((s) => s.trim()), ['Library', 'Web Development', 'HTML Basics', 'Elements and attributes', 'Links']);
  await page.getByRole('link', { name: /Previous: Elements and attributes/ }).click();
  await page.getByRole('heading', { level: 1, name: 'Elements and attributes' }).waitFor();

  // The reading position is remembered: the textbook opens where I left.
  await page.goto(url(`/app/#/textbooks/${env.ids.textbook}`));
  await page.getByRole('heading', { level: 1, name: 'Elements and attributes' }).waitFor();
  // A deep link to a page.
  await page.goto(url(`/app/#/textbooks/${env.ids.textbook}/pages/${env.ids.pages['Check your knowledge']}`));
  await page.reload();
  await page.getByRole('heading', { level: 1, name: 'Check your knowledge' }).waitFor();
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('hostile stored content renders inert: no script runs', async () => {
  const tb = await api('POST', '/api/content/textbooks/', { slug: unique('hostile-'), name: 'Hostile', group: env.ids.group });
  const el = (tag, attributes = {}, children = []) => ({ type: 'element', tag, attributes, children });
  const txt = (text) => ({ type: 'text', text });
  const pwn = 'window.__pwned = (window.__pwned || 0) + 1';
  const content = {
    type: 'root',
    children: [
      el('p', {}, [txt('Before.')]),
      el('script', {}, [txt(pwn)]),
      el('img', { src: 'x.png', onerror: pwn, alt: 'x' }),
      el('img', { src: `javascript:${pwn}` }),
      el('a', { href: `javascript:${pwn}`, id: 'js-link' }, [txt('click me')]),
      el('a', { href: ` JaVaScRiPt:${pwn}` }, [txt('again')]),
      el('a', { href: `data:text/html,<script>${pwn}</script>` }, [txt('data')]),
      el('iframe', { src: `javascript:${pwn}`, srcdoc: `<script>${pwn}</script>` }),
      el('svg', { onload: pwn }, [el('script', {}, [txt(pwn)])]),
      el('object', { data: `javascript:${pwn}` }),
      el('p', { onclick: pwn, onmouseover: pwn, style: 'color:red', class: 'ok' }, [txt('Hover me')]),
      el('marquee', { onstart: pwn }, [txt('Unknown tag, text kept.')]),
      el('form', { action: `javascript:${pwn}` }, [el('button', {}, [txt('Go')])]),
      { type: 'component', tag: 'ob-info-box', attributes: { onclick: pwn }, children: [txt('Boxed.')] },
      { type: 'component', tag: 'script', attributes: {}, children: [txt(pwn)] },
      el('p', {}, [txt(`<img src=x onerror="${pwn}">`)]),
      el('p', {}, [txt('After.')]),
    ],
  };
  const p = await api('POST', '/api/content/textbook_pages/', { textbook: tb.id, name: 'Hostile page', content });
  const { context, page } = await openPage(env.browser);
  await page.goto(url(`/app/#/textbooks/${tb.id}/pages/${p.id}`));
  await page.getByText('After.').waitFor();
  const article = page.locator('#page-content');
  await page.locator('#page-content p.ok').hover();
  await page.locator('#js-link, #page-content a', { hasText: 'click me' }).click();
  await page.waitForTimeout(300);
  const found = await page.evaluate(() => {
    const a = document.getElementById('page-content');
    const all = [...a.querySelectorAll('*')];
    return {
      pwned: window.__pwned ?? 0,
      tags: [...new Set(all.map((e) => e.localName))].sort(),
      handlers: all.flatMap((e) => [...e.attributes].map((x) => x.name)).filter((n) => /^on/i.test(n) || n === 'style' || n === 'id'),
      hrefs: [...a.querySelectorAll('[href],[src]')].map((e) => e.getAttribute('href') ?? e.getAttribute('src')),
      text: a.textContent,
    };
  });
  assert.equal(found.pwned, 0, 'no script ran');
  assert.deepEqual(found.tags, ['a', 'div', 'img', 'p']);
  assert.deepEqual(found.handlers, []);
  assert.deepEqual(found.hrefs, ['x.png']);
  assert.match(found.text, /Before\..*Hover me.*Unknown tag, text kept\..*Boxed\..*<img src=x onerror=.*After\./s);
  assert.ok(!found.text.includes('__pwned = (window.__pwned || 0) + 1\n'), 'script text is not shown either');
  assert.match(page.url(), /#\/textbooks\//, 'the javascript: link was not a link');
  assert.deepEqual(page.problems, []);
  await context.close();
  await api('DELETE', `/api/content/textbooks/${tb.id}/`, undefined, { expect: 204 });
});

test('components of an installed library become real custom elements (library list stubbed until issue 14)', async () => {
  const { context, page } = await openPage(env.browser);
  await stubLibraries(context);
  const libraryRequests = [];
  page.on('request', (r) => { if (r.url().includes('/media/lib/')) libraryRequests.push(new URL(r.url()).pathname); });
  await page.goto(url(`/app/#/textbooks/${env.ids.textbook}/pages/${env.ids.pages.Introduction}`));
  const box = page.locator('#page-content ob-info-box');
  await box.waitFor();
  await page.waitForFunction(() => document.querySelector('#page-content ob-info-box')?.dataset.upgraded);
  assert.equal(await box.getAttribute('variant'), 'tip');
  assert.equal(await box.evaluate((e) => e.shadowRoot.textContent), 'Tip: ');
  assert.equal(await box.evaluate((e) => getComputedStyle(e).borderLeftWidth), '7px', 'library.css applies');
  // Next pages: ob-code-editor (attributes checked), then the quiz.
  await page.getByRole('link', { name: /Next: Elements and attributes/ }).click();
  await page.waitForFunction(() => document.querySelector('#page-content ob-code-editor')?.dataset.upgraded);
  assert.deepEqual(await page.locator('#page-content ob-code-editor').evaluate((e) => [e.getAttribute('language'), e.getAttribute('height')]), ['html', '12em']);
  await page.goto(url(`/app/#/textbooks/${env.ids.textbook}/pages/${env.ids.pages['Check your knowledge']}`));
  await page.waitForFunction(() => document.querySelector('#page-content ob-quiz-question')?.dataset.upgraded);
  assert.equal(await page.locator('#page-content ob-quiz').getAttribute('shuffle'), 'true');
  assert.equal(await page.evaluate(() => window.__obE2eLibraryLoads), 1, 'library.js runs once');
  assert.deepEqual([...new Set(libraryRequests)].sort(), [TEST_LIBRARY_URL.replace('.js', '.css'), TEST_LIBRARY_URL].sort());
  assert.equal(await page.locator('.ob-placeholder').count(), 0);
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('offline: pages already read open without a network', async () => {
  const net = await switchableNetwork();
  const { context, page } = await openPage(env.browser, { serviceWorkers: 'allow' });
  try {
    await offlineReading(net, context, page);
  } finally {
    await context.close();
    await net.close();
  }
});

async function offlineReading(net, context, page) {
  const at = (name) => net.url(`/app/#/textbooks/${env.ids.textbook}/pages/${env.ids.pages[name]}`);
  await page.goto(at('Introduction'));
  await page.getByRole('heading', { level: 1, name: 'Introduction' }).waitFor();
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) {
      await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
    }
  });
  // Read two pages while the worker controls the page (it keeps them).
  await page.reload();
  await page.getByRole('heading', { level: 1, name: 'Introduction' }).waitFor();
  await page.getByRole('link', { name: /Next: Elements and attributes/ }).click();
  await page.getByRole('heading', { level: 1, name: 'Elements and attributes' }).waitFor();

  net.setOffline(true);
  await context.setOffline(true);   // (navigator.onLine: the app says so)
  const probe = await page.evaluate(() => fetch('/api/auth/current_user/').then(() => 'online', () => 'offline'));
  assert.equal(probe, 'offline');
  await page.goto(at('Introduction'));
  await page.reload();
  await page.getByRole('heading', { level: 1, name: 'Introduction' }).waitFor();
  assert.equal(await page.locator('#page-content h2').textContent(), 'What is HTML?');
  await page.getByRole('link', { name: /Next: Elements and attributes/ }).click();
  await page.getByRole('heading', { level: 1, name: 'Elements and attributes' }).waitFor();
  await page.locator('#page-content p').first().waitFor();
  assert.match(await page.locator('.offline').textContent(), /offline/);
  // A page never opened is not there: an error, not stale or empty content.
  await page.goto(at('Check your knowledge'));
  await page.getByText('The server cannot be reached').waitFor();
  assert.equal(await page.locator('#page-content').textContent(), '');

  // Back online, the network answers first: an edit made meanwhile shows.
  net.setOffline(false);
  await context.setOffline(false);
  await page.goto(at('Introduction'));
  await page.reload();
  await page.getByRole('heading', { level: 1, name: 'Introduction' }).waitFor();
}
