// The studio, textbooks: a teacher creates a textbook, builds its page tree
// (add, keyboard and drag-and-drop moves, rename, delete), writes a page
// with formatted text, a link, an image and a library component whose
// attributes are checked, and a reader in a second browser context sees
// the edit live; axe-core on the studio screens.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { withBrowser, openPage, login, url, axeViolations, acceptNextDialog } from './harness.mjs';
import { whitelist, user, group, stubDefinitions, pagesOf, outline, textOf, componentsOf } from './studio-support.mjs';

const s = withBrowser();
before(whitelist);

async function addPage(page, name, parent = '') {
  await page.getByLabel('Page name').fill(name);
  await page.getByLabel('Place').selectOption({ label: parent || '(top level)' });
  await page.getByRole('button', { name: 'Add page' }).click();
  await page.locator('.page-tree a', { hasText: name }).waitFor();
}

async function waitSaved(page) {
  await page.locator('.save-state[data-state="saved"]').waitFor();
}

test('a teacher builds a textbook, writes a page, and a reader sees it live', async () => {
  const teacher = await user('teach', ['teacher']);
  const g = await group('Studio books', teacher.username);
  const { context, page } = await openPage(s.browser);
  await stubDefinitions(context);
  await login(page, teacher);

  // Create the textbook from the studio's home.
  await page.goto(url('/app/#/studio'));
  await page.getByRole('button', { name: `New textbook in ${g.name}` }).click();
  await page.getByLabel('Name', { exact: true }).fill('Web basics');
  assert.equal(await page.getByLabel('Short name (slug)').inputValue(), 'web-basics');
  assert.deepEqual(await axeViolations(page), []);
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByRole('heading', { name: 'Web basics', level: 1 }).waitFor();
  const tb = /#\/studio\/textbooks\/([0-9a-f-]+)/.exec(page.url())[1];

  // The page tree: three pages, then a keyboard move and a drag.
  await addPage(page, 'Chapter 1');
  await addPage(page, 'Chapter 2');
  await addPage(page, 'Section A', 'Chapter 1');
  assert.deepEqual(outline(await pagesOf(tb)), ['Chapter 1', 'Chapter 1/Section A', 'Chapter 2']);
  await page.locator('.page-tree a', { hasText: 'Chapter 2' }).focus();
  await page.keyboard.press('Alt+ArrowUp');
  await page.waitForFunction(() => document.querySelector('.page-tree > ul > li a').textContent === 'Chapter 2');
  assert.deepEqual(outline(await pagesOf(tb)), ['Chapter 2', 'Chapter 1', 'Chapter 1/Section A']);
  // Focus stays on the moved page: Alt+Right makes it a subpage of nothing (first), so move down and in.
  await page.keyboard.press('Alt+ArrowDown');
  await page.waitForFunction(() => document.querySelector('.page-tree > ul > li a').textContent === 'Chapter 1');
  const section = page.locator('.page-tree .row', { has: page.locator('a', { hasText: 'Section A' }) });
  const ch2 = page.locator('.page-tree .row', { has: page.locator('a', { hasText: 'Chapter 2' }) });
  const box = await ch2.boundingBox();
  await section.dragTo(ch2, { targetPosition: { x: 10, y: box.height / 2 } });
  await page.waitForFunction(() => [...document.querySelectorAll('.page-tree ul ul a')].some((a) => a.textContent === 'Section A' &&
    a.closest('li').parentElement.closest('li').querySelector('a').textContent === 'Chapter 2'));
  let pages = await pagesOf(tb);
  assert.deepEqual(outline(pages), ['Chapter 1', 'Chapter 2', 'Chapter 2/Section A']);
  for (const parent of [null, ...pages.map((p) => p.id)]) {
    const pos = pages.filter((p) => (p.parent || null) === parent).map((p) => p.position);
    assert.equal(new Set(pos).size, pos.length, 'positions unique among siblings');
  }
  // Rename.
  await page.getByRole('button', { name: 'Rename Chapter 2' }).click();
  await page.locator('.page-tree form.rename input').fill('Chapter Two');
  await page.keyboard.press('Enter');
  await page.locator('.page-tree a', { hasText: 'Chapter Two' }).waitFor();

  // A reader (another browser context) opens Chapter 1.
  const ch1 = pages.find((p) => p.name === 'Chapter 1').id;
  const reader = await openPage(s.browser);
  await stubDefinitions(reader.context);
  await reader.page.goto(url(`/app/#/textbooks/${tb}/pages/${ch1}`));
  await reader.page.locator(`#page-content[data-rendered-page="${ch1}"]`).waitFor();
  await reader.page.waitForFunction(() => document.documentElement.dataset.live === 'open');

  // Write Chapter 1: a heading, text with bold, a link, an image, a component.
  await page.locator('.page-tree a', { hasText: 'Chapter 1' }).click();
  const editor = page.locator('.pm-editor');
  await editor.waitFor();
  await editor.click();
  await page.getByLabel('Kind of paragraph').selectOption({ label: 'Heading 2' });
  await page.keyboard.type('Hello, studio');
  await page.keyboard.press('Enter');
  await page.keyboard.type('Plain and ');
  await page.keyboard.press('Control+b');
  await page.keyboard.type('bold');
  await page.keyboard.press('Control+b');
  await page.keyboard.type(' text. ');
  await page.getByRole('button', { name: 'Link', exact: true }).click();
  await page.getByLabel('Link target (address)').fill('javascript:alert(1)');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.getByText('Only http(s), mailto and addresses on this site are allowed.').waitFor();
  assert.deepEqual(await axeViolations(page), []);
  await page.getByLabel('Link target (address)').fill('https://example.org/');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.getByRole('button', { name: 'Image', exact: true }).click();
  await page.getByLabel('Image address').fill('/media/lib/openbook-e2e/demo/1.0.0/library.css');
  await page.getByLabel('Text for people who cannot see the image').fill('A picture');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.keyboard.press('End');
  await page.keyboard.press('Enter');
  // The component: its form checks the attribute's pattern.
  await page.getByRole('button', { name: 'ob-code-editor' }).click();
  await page.locator('dialog[open]').getByLabel('height').fill('tall');
  await page.locator('dialog[open]').getByLabel('language', { exact: true }).fill('html');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.getByText('This value is not allowed.').waitFor();
  assert.deepEqual(await axeViolations(page), []);
  await page.locator('dialog[open]').getByLabel('height').fill('12em');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.keyboard.type('<p>live</p>');
  // Rendered with the library's own code, inside the editor.
  await page.locator('.pm-component-live ob-code-editor[data-upgraded]').waitFor();
  await waitSaved(page);
  assert.deepEqual(await axeViolations(page), []);

  const stored = (await pagesOf(tb)).find((p) => p.id === ch1).content;
  assert.match(textOf(stored), /Hello, studio.*Plain and bold text\. https:\/\/example\.org\/.*<p>live<\/p>/s);
  assert.deepEqual(componentsOf(stored), [{ tag: 'ob-code-editor', attributes: { language: 'html', height: '12em' } }]);
  assert.equal(stored.children[0].tag, 'h2');
  assert.ok(JSON.stringify(stored).includes('"tag":"strong"'));
  assert.ok(JSON.stringify(stored).includes('"href":"https://example.org/"'));
  assert.ok(JSON.stringify(stored).includes('"alt":"A picture"'));

  // The reader sees it, live, with the component upgraded.
  await reader.page.locator('#page-content h3', { hasText: 'Hello, studio' }).waitFor();
  await reader.page.locator('#page-content ob-code-editor[data-upgraded]').waitFor();
  await reader.page.locator('#page-content strong', { hasText: 'bold' }).waitFor();

  // Undo and redo, then the preview as readers see it.
  await page.locator('.pm-component-body .pm-bare').click();
  await page.keyboard.press('End');
  await page.keyboard.type('!');
  await page.getByRole('button', { name: 'Undo' }).click();
  await page.getByRole('button', { name: 'Redo' }).click();
  await page.getByRole('button', { name: 'Preview' }).click();
  await page.locator('.preview-body ob-code-editor[data-upgraded]').waitFor();
  await page.locator('.preview h1.page-title', { hasText: 'Chapter 1' }).waitFor();
  await page.locator('.preview-body h3', { hasText: 'Hello, studio' }).waitFor();
  assert.deepEqual(await axeViolations(page), []);
  await page.getByRole('button', { name: 'Preview' }).click();
  await waitSaved(page);
  await reader.page.locator('#page-content', { hasText: '<p>live</p>!' }).waitFor();

  // Delete a subtree: Chapter Two with Section A.
  acceptNextDialog(page);
  await page.getByRole('button', { name: 'Delete Chapter Two' }).click();
  await page.waitForFunction(() => ![...document.querySelectorAll('.page-tree a')].some((a) => a.textContent === 'Section A'));
  assert.deepEqual(outline(await pagesOf(tb)), ['Chapter 1']);

  assert.deepEqual(page.problems, []);
  assert.deepEqual(reader.page.problems, []);
  await reader.context.close();
  await context.close();
});

test('two editors on one page: the second to save sees both versions and chooses', async () => {
  const teacher = await user('teach', ['teacher']);
  const g = await group('Conflict books', teacher.username);
  const { api } = await import('./harness.mjs');
  const tb = await api('POST', '/api/content/textbooks/', { slug: 'conflict', name: 'Conflicts', group: g.id });
  const p = await api('POST', '/api/content/textbook_pages/', { textbook: tb.id, name: 'Shared page', position: 0,
    content: { type: 'root', children: [{ type: 'element', tag: 'p', attributes: {}, children: [{ type: 'text', text: 'Base.' }] }] } });
  const editors = [];
  for (const who of ['A', 'B']) {
    const e = await openPage(s.browser);
    await stubDefinitions(e.context);
    await login(e.page, teacher);
    await e.page.goto(url(`/app/#/studio/textbooks/${tb.id}/pages/${p.id}`));
    await e.page.locator('.pm-editor p', { hasText: 'Base.' }).waitFor();
    await e.page.waitForFunction(() => document.documentElement.dataset.live === 'open');
    e.who = who;
    editors.push(e);
  }
  // Both change the page; A saves at once.  Whoever saves second (B by
  // the live event, or A if B's autosave came first) gets the dialog.
  for (const e of editors) {
    await e.page.locator('.pm-editor p').click();
    await e.page.keyboard.press('End');
    await e.page.keyboard.type(` Edit by ${e.who}.`);
  }
  await editors[0].page.getByRole('button', { name: 'Save now' }).click();
  const which = await Promise.race(editors.map((e) => e.page.locator('dialog.conflict[open]').waitFor().then(() => e)));
  const other = editors.find((e) => e !== which);
  const dialog = which.page.locator('dialog.conflict[open]');
  await dialog.locator('.mine', { hasText: `Edit by ${which.who}.` }).waitFor();
  await dialog.locator('.theirs', { hasText: `Edit by ${other.who}.` }).waitFor();
  assert.deepEqual(await axeViolations(which.page), []);
  await dialog.getByRole('button', { name: 'Keep my version' }).click();
  await which.page.locator('.save-state[data-state="saved"]').waitFor();
  const stored = (await pagesOf(tb.id)).find((x) => x.id === p.id).content;
  assert.equal(textOf(stored), `Base. Edit by ${which.who}.`);
  // The other editor, with nothing unsaved, now shows the kept version.
  await other.page.locator('.pm-editor p', { hasText: `Base. Edit by ${which.who}.` }).waitFor();
  assert.equal(await other.page.locator('dialog.conflict[open]').count(), 0);
  for (const e of editors) {
    assert.deepEqual(e.page.problems, []);
    await e.context.close();
  }
});

test('the content limits are explained before the server would refuse', async () => {
  const teacher = await user('teach', ['teacher']);
  const g = await group('Big books', teacher.username);
  const { api } = await import('./harness.mjs');
  const tb = await api('POST', '/api/content/textbooks/', { slug: 'big', name: 'Big', group: g.id });
  const text = 'x'.repeat(1024 * 1024 - 200);
  const p = await api('POST', '/api/content/textbook_pages/', { textbook: tb.id, name: 'Nearly full', position: 0,
    content: { type: 'root', children: [{ type: 'element', tag: 'p', attributes: {}, children: [{ type: 'text', text }] }] } });
  const { context, page } = await openPage(s.browser, { colorScheme: 'dark' });
  await stubDefinitions(context);
  await login(page, teacher);
  await page.goto(url(`/app/#/studio/textbooks/${tb.id}/pages/${p.id}`));
  // Near the limit, the editor says so before anything is sent.
  await page.locator('.limits.near', { hasText: 'The server stores at most 1 MiB' }).waitFor();
  assert.deepEqual(await axeViolations(page), []);
  let patches = 0;
  page.on('request', (r) => { if (r.method() === 'PATCH') patches++; });
  await page.locator('.pm-editor p').click();
  await page.keyboard.press('End');
  await page.keyboard.insertText('y'.repeat(500));
  await page.locator('.save-state[data-state="limits"]', { hasText: 'Not saved: the page is larger than 1 MiB' }).waitFor();
  assert.equal(patches, 0, 'nothing over the limit was sent');
  const stored = (await pagesOf(tb.id))[0];
  assert.equal(stored.modified_at, p.modified_at);
  assert.deepEqual(page.problems, []);
  await context.close();
});
