/**
 * `cdp.profiles.upsertMany` through the built package in headless Chromium: a batch is durable
 * once its promise resolves, stored whole or not at all (even when the page dies while it is
 * being written), and a refused record refuses the batch with its index.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { collectPageErrors, launchChromium, startStaticServer } from './helpers/browser.mjs';

/** @type {Awaited<ReturnType<typeof launchChromium>>} */
let browser;
/** @type {Awaited<ReturnType<typeof startStaticServer>>} */
let server;
/** @type {string[]} */
const pageErrors = [];

before(async () => {
  server = await startStaticServer('tests/js/pages');
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  assert.deepEqual(pageErrors, [], 'the pages logged no errors');
});

/** A fresh page of the test origin, its errors collected. */
async function newPage() {
  const page = await browser.context.newPage();
  const errors = collectPageErrors(page);
  page.on('close', () => pageErrors.push(...errors.filter((error) => !error.startsWith('requestfailed'))));
  await page.goto(`${server.origin}/`);
  return page;
}

/**
 * Opens the database `name` in `page` as `globalThis.cdp`.
 * @param {import('playwright-core').Page} page
 * @param {string} name
 */
function openIn(page, name) {
  return page.evaluate(async (name) => {
    const { Cdp } = await import('/pkg/index.js');
    globalThis.cdp = await Cdp.open({ name });
  }, name);
}

/**
 * Polls `check` until it returns true (each poll waits for the next event loop turn).
 * @param {() => boolean} check
 */
async function until(check) {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > 30_000) throw new Error('condition not reached');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

test('an acknowledged batch survives the page dying right after, with every record as written', async () => {
  const writer = await newPage();
  await openIn(writer, 'many-durable');
  const outcomes = await writer.evaluate(async () => {
    const records = [];
    for (let index = 0; index < 5_000; index += 1) {
      records.push({ identities: { email: [`m${index % 4_000}@x.dk`] }, attributes: { index } });
    }
    return globalThis.cdp.profiles.upsertMany(records);
  });
  assert.equal(outcomes.length, 5_000);
  assert.equal(outcomes.filter((outcome) => outcome.created).length, 4_000);
  assert.equal(outcomes[4_000].id, outcomes[0].id, 'record 4000 updated the profile record 0 created');
  await writer.close({ runBeforeUnload: false });

  const reader = await newPage();
  await openIn(reader, 'many-durable');
  const found = await reader.evaluate(async (ids) => {
    const profiles = await Promise.all(ids.map((id) => globalThis.cdp.profiles.get(id)));
    return { count: await globalThis.cdp.profiles.count(), indexes: profiles.map((profile) => profile?.attributes.index) };
  }, [outcomes[0].id, outcomes[3_999].id]);
  assert.deepEqual(found, { count: 4_000, indexes: [4_000, 3_999] }, 'the later record of the batch wins');
  await reader.close();
});

test('a page closed while a batch is being written keeps all of it or none of it', async () => {
  const writer = await newPage();
  /** @type {string[]} */
  const progress = [];
  await writer.exposeFunction('progress', (/** @type {string} */ step) => progress.push(step));
  await openIn(writer, 'many-killed');
  writer
    .evaluate(async () => {
      const batch = (/** @type {number} */ from, /** @type {number} */ count) =>
        Array.from({ length: count }, (_, index) => ({ identities: { email: [`k${from + index}@x.dk`] }, attributes: { n: from + index } }));
      await globalThis.cdp.profiles.upsertMany(batch(0, 1_000));
      await /** @type {any} */ (globalThis).progress('first');
      const second = globalThis.cdp.profiles.upsertMany(batch(1_000, 60_000));
      await /** @type {any} */ (globalThis).progress('second started');
      await second;
      await /** @type {any} */ (globalThis).progress('second');
    })
    .catch(() => undefined);
  await until(() => progress.includes('second started'));
  await writer.close({ runBeforeUnload: false });
  const acknowledged = [...progress];

  const reader = await newPage();
  await openIn(reader, 'many-killed');
  const count = await reader.evaluate(() => globalThis.cdp.profiles.count());
  if (acknowledged.includes('second')) assert.equal(count, 61_000);
  else assert.ok(count === 1_000 || count === 61_000, `all or nothing of the second batch, found ${count}`);
  await reader.close();
});

test('a refused record refuses the whole batch with its index, in memory and after a reload', async () => {
  const page = await newPage();
  await openIn(page, 'many-refused');
  const refused = await page.evaluate(async () => {
    await globalThis.cdp.profiles.upsert({ identities: { email: ['a@x.dk'], phone: ['+4511111111'] } });
    const attempt = async (/** @type {any[]} */ records) => {
      try {
        await globalThis.cdp.profiles.upsertMany(records);
        return null;
      } catch (error) {
        const { name, code, index } = /** @type {any} */ (error);
        return { name, code, index };
      }
    };
    return {
      conflict: await attempt([
        { identities: { email: ['b@x.dk'] } },
        { identities: { email: ['c@x.dk'] } },
        // b@ was created by record 0 and a@ is stored: two profiles, refused (reject policy).
        { identities: { email: ['a@x.dk', 'b@x.dk'] } },
      ]),
      malformed: await attempt([{ identities: { email: ['d@x.dk'] } }, 'not a record']),
      badValue: await attempt([{ identities: { email: ['d@x.dk'] } }, { identities: { email: [7] } }]),
      count: await globalThis.cdp.profiles.count(),
    };
  });
  assert.deepEqual(refused, {
    conflict: { name: 'CdpError', code: 'identity.conflict', index: 2 },
    malformed: { name: 'CdpError', code: 'cdp.invalid_argument', index: 1 },
    badValue: { name: 'CdpError', code: 'engine.invalid_command', index: 1 },
    count: 1,
  });
  await page.reload();
  await openIn(page, 'many-refused');
  assert.equal(await page.evaluate(() => globalThis.cdp.profiles.count()), 1, 'nothing of the refused batches was stored');
  await page.close();
});
