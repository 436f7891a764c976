// screenshots.mjs - the README's pictures of the app, made on the e2e
// harness against the demo content (`make screenshots` runs it through
// run.mjs).  Writes docs/screenshots/{reader,course-dark,phone-de,studio}.png.
import { join } from 'node:path';
import { launch, openPage, url, demo, makeUser, login, ADMIN, stubLibraries } from './harness.mjs';

const OUT = new URL('../../../docs/screenshots/', import.meta.url).pathname;
const browser = await launch();
const ids = await demo();

async function settle(page) {
  await page.evaluate(() => document.activeElement?.blur());
  await page.waitForTimeout(300);
}

// 1. Reading a textbook page, desktop, light theme.
{
  const { context, page } = await openPage(browser, { viewport: { width: 1200, height: 720 } });
  await page.goto(url(`/app/#/textbooks/${ids.textbook}/pages/${ids.pages.Introduction}`));
  await page.locator('#page-content h2').waitFor();
  await settle(page);
  await page.screenshot({ path: join(OUT, 'reader.png') });
  await context.close();
}

// 2. A course after enrolling, desktop, dark theme.
{
  const user = await makeUser('student');
  const { context, page } = await openPage(browser, { viewport: { width: 1200, height: 720 }, colorScheme: 'dark' });
  await login(page, user);
  await page.goto(url(`/app/#/courses/${ids.course}`));
  await page.getByRole('button', { name: 'Enrol as student' }).click();
  await page.locator('main .notice').first().waitFor();
  await page.locator('main ol.path').waitFor();
  await settle(page);
  await page.screenshot({ path: join(OUT, 'course-dark.png') });
  await context.close();
}

// 3. A phone, 360 px wide, in German, with the contents open.
{
  const { context, page } = await openPage(browser, { viewport: { width: 360, height: 740 }, locale: 'de-DE' });
  await page.goto(url(`/app/#/textbooks/${ids.textbook}/pages/${ids.pages['Elements and attributes']}`));
  await page.locator('#page-content p').first().waitFor();
  await page.locator('.toc-mobile summary').click();
  await settle(page);
  await page.screenshot({ path: join(OUT, 'phone-de.png') });
  await context.close();
}

// 4. The studio: the demo textbook's page tree and a page in the editor,
// its component rendered by the test library.
{
  const { context, page } = await openPage(browser, { viewport: { width: 1280, height: 800 } });
  await stubLibraries(context);
  await login(page, ADMIN);
  await page.goto(url(`/app/#/studio/textbooks/${ids.textbook}/pages/${ids.pages.Introduction}`));
  await page.locator('.pm-component-live ob-info-box[data-upgraded]').waitFor();
  await settle(page);
  await page.screenshot({ path: join(OUT, 'studio.png') });
  await context.close();
}

await browser.close();
console.log(`screenshots: written to ${OUT}`);
