/**
 * The demo app (www/) in headless Chromium: it shows the real profile count, adds a profile
 * through its form, keeps it across a reload, records purchases whose computed traits and
 * segment follow at once, and its REST console talks Arrigoo.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { collectPageErrors, launchChromium, startStaticServer } from './helpers/browser.mjs';
import { buildDir } from './helpers/paths.mjs';

/** The config the demo opens its engine with. */
const DEMO_CONFIG = { arrigoo: { apiKeys: [{ key: 'demo', secret: 'demo-secret', role: 'admin' }] } };

/** @type {Awaited<ReturnType<typeof launchChromium>>} */
let browser;
/** @type {Awaited<ReturnType<typeof startStaticServer>>} */
let server;
/** @type {import('playwright-core').Page} */
let page;
/** @type {string[]} */
let pageErrors;

before(async () => {
  server = await startStaticServer('www');
  browser = await launchChromium();
  page = await browser.context.newPage();
  pageErrors = collectPageErrors(page);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  assert.deepEqual(pageErrors, [], 'the demo logged no errors');
});

/** Loads (or reloads) the demo and waits until it says it is ready. */
async function openDemo() {
  await page.goto(`${server.origin}/`);
  await page.waitForSelector('body[data-ready="true"], body[data-error="true"]');
  assert.equal(await page.getAttribute('body', 'data-error'), null, 'the demo started');
}

/**
 * Counts the demo's profiles with a second engine on the same database, independently of
 * what the page shows.
 * @returns {Promise<number>}
 */
function storedCount() {
  return page.evaluate(async (config) => {
    const { Cdp } = await import('/pkg/index.js');
    const probe = await Cdp.open({ name: 'cdp-demo', config });
    try {
      return await probe.profiles.count();
    } finally {
      await probe.close();
    }
  }, DEMO_CONFIG);
}

test('the demo shows the number of stored profiles', async () => {
  await openDemo();
  await page.evaluate(async (config) => {
    const { Cdp } = await import('/pkg/index.js');
    const seed = await Cdp.open({ name: 'cdp-demo', config });
    await seed.profiles.upsert({ identities: { email: ['seed-1@example.com'] }, attributes: { name: 'Seed One' } });
    await seed.profiles.upsert({ identities: { email: ['seed-2@example.com'] }, attributes: { name: 'Seed Two' } });
    await seed.close();
  }, DEMO_CONFIG);
  await openDemo();
  assert.equal(await storedCount(), 2);
  assert.equal(await page.textContent('#profile-count'), '2');
  assert.equal(await page.textContent('#storage'), 'IndexedDB');
});

test('adding a profile through the form raises the count by one, and a reload keeps it', async () => {
  await openDemo();
  const before = Number(await page.textContent('#profile-count'));
  await page.fill('#email', 'ada@example.com');
  await page.fill('#name', 'Ada Lovelace');
  await page.click('#add-form button[type="submit"]');
  await page.waitForFunction((expected) => document.getElementById('profile-count')?.textContent === expected, String(before + 1));
  assert.match(await page.textContent('#add-status') ?? '', /^Created profile [0-9a-f-]{36}\.$/);
  assert.match(await page.textContent('#recent-list') ?? '', /Ada Lovelace/);

  await openDemo();
  assert.equal(await page.textContent('#profile-count'), String(before + 1));
  assert.equal(await storedCount(), before + 1);
  assert.match(await page.textContent('#recent-list') ?? '', /ada@example\.com/);
});

test('recorded purchases update the traits and the segment, live and after a reload', async () => {
  await openDemo();
  assert.equal(await page.textContent('#segment-count'), '0');
  assert.equal(await page.inputValue('#purchase-email'), 'ada@example.com');
  const ada = '#recent-list li:first-child';
  const traits = `${ada} .traits`;
  /** @param {string} expected */
  const traitsShow = (expected) => page.waitForFunction(
    ([selector, text]) => document.querySelector(selector)?.textContent === text,
    [traits, expected],
  );
  assert.equal(await page.textContent(traits), 'spent 0 · 0 purchases');

  await page.fill('#amount', '60');
  await page.click('#purchase-form button[type="submit"]');
  await traitsShow('spent 60 · 1 purchase');
  assert.equal(await page.textContent('#purchase-status'), 'Recorded a purchase of 60 for ada@example.com.');
  assert.equal(await page.textContent('#segment-count'), '0');
  assert.equal(await page.$(`${ada} .badge`), null);

  await page.fill('#amount', '45.5');
  await page.click('#purchase-form button[type="submit"]');
  await traitsShow('spent 105.5 · 2 purchases');
  assert.equal(await page.textContent('#segment-count'), '1');
  assert.equal(await page.textContent(`${ada} .badge`), 'Big spenders');
  await page.waitForSelector('#segment-feed li.enter');
  assert.match(await page.textContent('#segment-feed') ?? '', /ada@example\.com entered Big spenders/);

  await openDemo();
  assert.equal(await page.textContent('#segment-count'), '1');
  assert.match(await page.textContent('#segment-feed li:first-child') ?? '', /ada@example\.com entered Big spenders$/, 'the stored history after a reload');
  assert.equal(await page.textContent(traits), 'spent 105.5 · 2 purchases');
});

test('the REST console logs in and reads the picked profile through cdp.fetch', async () => {
  await openDemo();
  await page.click('#recent-list button.profile >> nth=0');
  await page.click('#console-form button[type="submit"]');
  await page.waitForSelector('#console-output .exchange:nth-child(2) .status');
  const statuses = await page.$$eval('#console-output .status', (nodes) => nodes.map((node) => node.textContent));
  assert.deepEqual(statuses, ['200', '200']);
  const customer = JSON.parse((await page.textContent('#console-output .exchange:nth-child(2) pre')) ?? '');
  assert.deepEqual(customer.p, [{ lab: 'name', val: 'Ada Lovelace' }]);
  assert.deepEqual(customer.s, ['big-spenders'], 'the segment the purchases put her in');

  await mkdir(join(buildDir, 'screenshots'), { recursive: true });
  await page.screenshot({ path: join(buildDir, 'screenshots', 'demo.png'), fullPage: true });
});
