/**
 * The built package in headless Chromium: IndexedDB storage, cdp.fetch speaking Arrigoo,
 * persistence across a reload, and recovery from a trap.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { assertCustomer, assertJsonError, assertTokens, unknownUuid } from './helpers/arrigoo.mjs';
import { collectPageErrors, launchChromium, startStaticServer } from './helpers/browser.mjs';
import { adminConfig, adminLogin } from './helpers/paths.mjs';

/** @type {Awaited<ReturnType<typeof launchChromium>>} */
let browser;
/** @type {Awaited<ReturnType<typeof startStaticServer>>} */
let server;
/** @type {import('playwright-core').Page} */
let page;
/** @type {string[]} */
let pageErrors;

before(async () => {
  server = await startStaticServer('tests/js/pages');
  browser = await launchChromium();
  page = await browser.context.newPage();
  pageErrors = collectPageErrors(page);
  await page.goto(`${server.origin}/`);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  assert.deepEqual(pageErrors, [], 'the page logged no errors');
});

/**
 * Opens an engine in the page as `window.cdp` (closing the previous one).
 * @param {string} name
 * @returns {Promise<{ storage: string, databases: string[] }>}
 */
function openInPage(name) {
  return page.evaluate(
    async ({ name, config }) => {
      const { Cdp } = await import('/pkg/index.js');
      await globalThis.cdp?.close();
      globalThis.cdp = await Cdp.open({ name, config });
      const databases = (await indexedDB.databases()).map((database) => database.name ?? '');
      return { storage: globalThis.cdp.storage, databases };
    },
    { name, config: adminConfig },
  );
}

test('the test server makes the page cross-origin isolated and sends wasm as application/wasm', async () => {
  const facts = await page.evaluate(async () => {
    const wasm = await fetch('/pkg/cdp_engine_bg.wasm');
    await wasm.arrayBuffer();
    return { isolated: globalThis.crossOriginIsolated, wasmType: wasm.headers.get('content-type') };
  });
  assert.deepEqual(facts, { isolated: true, wasmType: 'application/wasm' });
});

/**
 * Runs `body` in a page of its own, freshly loaded (nothing imported yet), and returns what
 * it returns; that page must log no errors.
 * @template T
 * @param {() => Promise<T>} body
 * @returns {Promise<T>}
 */
async function inFreshPage(body) {
  const fresh = await browser.context.newPage();
  const errors = collectPageErrors(fresh);
  /** @type {T} */
  let result;
  try {
    await fresh.goto(`${server.origin}/`);
    result = await fresh.evaluate(body);
  } finally {
    await fresh.close();
  }
  assert.deepEqual(errors, []);
  return result;
}

test('importing the package requests the glue and the wasm before any open', async () => {
  const requested = await inFreshPage(async () => {
    await import('/pkg/index.js');
    const seen = () => performance.getEntriesByType('resource').map((entry) => new URL(entry.name).pathname);
    for (let waited = 0; waited < 5_000 && !seen().includes('/pkg/cdp_engine_bg.wasm'); waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return seen().filter((path) => path.startsWith('/pkg/')).sort();
  });
  assert.deepEqual(requested, ['/pkg/cdp_engine.js', '/pkg/cdp_engine_bg.wasm', '/pkg/index.js']);
});

test('Cdp.open picks IndexedDB in the browser and creates its database', async () => {
  const opened = await openInPage('browser-open');
  assert.equal(opened.storage, 'indexeddb');
  assert.ok(
    opened.databases.some((database) => database.includes('browser-open')),
    `a database named after the engine exists: ${opened.databases.join(', ')}`,
  );
});

test('Cdp.open asks IndexedDB for the database before the wasm is instantiated', async () => {
  const calls = await inFreshPage(async () => {
    /** @type {string[]} */
    const seen = [];
    const { instantiate } = WebAssembly;
    WebAssembly.instantiate = /** @type {any} */ ((/** @type {any[]} */ ...args) => {
      seen.push('instantiate');
      return /** @type {any} */ (instantiate)(...args);
    });
    const open = indexedDB.open.bind(indexedDB);
    indexedDB.open = (name, version) => {
      seen.push(`open ${name} ${version}`);
      return open(name, version);
    };
    const { Cdp } = await import('/pkg/index.js');
    const cdp = await Cdp.open({ name: 'browser-overlap' });
    await cdp.profiles.upsert({ identities: { email: ['early@example.com'] } });
    const count = await cdp.profiles.count();
    await cdp.close();
    return { seen, count };
  });
  assert.deepEqual(calls, { seen: ['open browser-overlap 2', 'instantiate'], count: 1 });
});

test('Cdp.open refuses a blocked upgrade and a newer schema with their codes', async () => {
  const outcome = await page.evaluate(async () => {
    const { Cdp } = await import('/pkg/index.js');
    /** @param {string} name @param {number} version @returns {Promise<IDBDatabase>} */
    const openRaw = (name, version) => new Promise((resolve, reject) => {
      const request = indexedDB.open(name, version);
      request.onupgradeneeded = () => request.result.createObjectStore('log');
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    /** @param {Promise<unknown>} opening */
    const codeOf = (opening) => opening.then(() => 'opened', (/** @type {any} */ error) => `${error.code}: ${error.message}`);
    // A first-format database held open by a connection that ignores version changes.
    const old = await openRaw('browser-blocked', 1);
    const blocked = await codeOf(Cdp.open({ name: 'browser-blocked' }));
    old.close();
    const cdp = await Cdp.open({ name: 'browser-blocked' });
    const count = await cdp.profiles.count();
    await cdp.close();
    (await openRaw('browser-newer', 99)).close();
    const newer = await codeOf(Cdp.open({ name: 'browser-newer' }));
    return { blocked, count, newer };
  });
  assert.match(outcome.blocked, /^storage\.blocked: /);
  assert.equal(outcome.count, 0, 'opens once the old connection is gone');
  assert.match(outcome.newer, /^storage\.failed: .*newer version of cdp-engine/);
});

test('cdp.fetch answers the Arrigoo log-in, 200, 401 and 404 in the page', async () => {
  await openInPage('browser-fetch');
  const answers = await page.evaluate(
    async ({ login, unknown }) => {
      /** @param {Response} response */
      const read = async (response) => ({
        status: response.status,
        contentType: response.headers.get('content-type'),
        body: await response.json(),
        isResponse: response instanceof Response,
      });
      const { cdp } = globalThis;
      const { id } = await cdp.profiles.upsert({ identities: { email: ['bob@bib.dk'] }, attributes: { name: 'Bob' } });
      const tokens = await read(await cdp.fetch('/auth/api', { method: 'POST', body: JSON.stringify(login) }));
      const authorization = `Bearer ${tokens.body.access_token}`;
      return {
        id,
        tokens,
        found: await read(await cdp.fetch(`/v1/customer/${id}`, { headers: { authorization } })),
        anonymous: await read(await cdp.fetch(`/v1/customer/${id}`)),
        bogus: await read(await cdp.fetch(`/v1/customer/${id}`, { headers: { authorization: 'Bearer bogus' } })),
        missing: await read(await cdp.fetch(new URL(`/v1/customer/${unknown}`, location.href), { headers: { authorization } })),
      };
    },
    { login: adminLogin, unknown: unknownUuid },
  );
  assert.equal(answers.tokens.status, 200);
  assertTokens(answers.tokens.body);
  assert.equal(answers.found.status, 200);
  assert.equal(answers.found.isResponse, true);
  assertCustomer(answers.found.body, { id: answers.id, email: 'bob@bib.dk', name: 'Bob' });
  assertJsonError(answers.anonymous, 401, 'api.unauthenticated');
  assertJsonError(answers.bogus, 401, 'api.unauthenticated');
  assertJsonError(answers.missing, 404, 'api.not_found');
});

test('a profile written survives closing the engine and reloading the page', async () => {
  await openInPage('browser-persist');
  const written = await page.evaluate(async () => {
    const { cdp } = globalThis;
    await cdp.profiles.upsert({ identities: { email: ['first@example.com'] }, attributes: { name: 'First' } });
    const { id } = await cdp.profiles.upsert({
      identities: { email: ['kept@example.com'], phone: ['+45 12 34 56 78'] },
      attributes: { name: 'Kept', visits: 3, subscriber: true },
    });
    const result = { id, profile: await cdp.profiles.get(id), count: await cdp.profiles.count() };
    await cdp.close();
    return result;
  });
  assert.equal(written.count, 2);
  assert.equal(written.profile?.attributes.name, 'Kept');

  await page.reload();
  const opened = await openInPage('browser-persist');
  assert.equal(opened.storage, 'indexeddb');
  const read = await page.evaluate(async (id) => {
    const { cdp } = globalThis;
    return { profile: await cdp.profiles.get(id), count: await cdp.profiles.count() };
  }, written.id);
  assert.deepEqual(read.profile, written.profile);
  assert.equal(read.count, written.count);
});

test('a write made while a snapshot commits does not wait for it, and close waits for the snapshot', async () => {
  await openInPage('browser-snapshot-beside');
  const events = await page.evaluate(async () => {
    const { cdp } = globalThis;
    /** @type {string[]} */
    const seen = [];
    const original = IDBDatabase.prototype.transaction;
    IDBDatabase.prototype.transaction = function (stores, mode, options) {
      const transaction = original.call(this, stores, mode, options);
      if (mode === 'readwrite') {
        const scope = [stores].flat().join('+');
        seen.push(`begin ${scope}`);
        transaction.addEventListener('complete', () => seen.push(`complete ${scope}`));
      }
      return transaction;
    };
    try {
      // Over 10,000 changes and more than there are profiles: a snapshot is due after it.
      const records = Array.from({ length: 2000 }, (_, index) => ({
        identities: { email: [`p${index}@x.dk`] },
        attributes: { name: `P${index}`, age: index % 90, plan: 'gold', visits: index },
      }));
      await cdp.profiles.upsertMany(records);
      // The due snapshot is queued behind one of these writes, the next ones behind it.
      for (let index = 0; index < 10; index += 1) {
        await cdp.profiles.upsert({ identities: { email: [`late${index}@x.dk`] } });
      }
      await cdp.close();
      seen.push('closed');
    } finally {
      IDBDatabase.prototype.transaction = original;
    }
    return seen;
  });
  const at = (/** @type {string} */ event, from = 0) => {
    const index = events.indexOf(event, from);
    assert.ok(index >= 0, `${event} in ${events.join(', ')}`);
    return index;
  };
  const snapshotBegun = at('begin snapshots+manifests');
  const snapshotDone = at('complete snapshots+manifests');
  assert.ok(at('begin log', snapshotBegun) < snapshotDone, `a write began while the snapshot committed: ${events.join(', ')}`);
  assert.equal(events.filter((event) => event === 'begin snapshots+manifests').length, 1, 'one snapshot');
  assert.ok(at('closed') > snapshotDone, `close waited for the snapshot: ${events.join(', ')}`);
});

test('a trap closes the engine and opening again re-reads the data from IndexedDB', async () => {
  await openInPage('browser-trap');
  const outcome = await page.evaluate(async (config) => {
    const { Cdp } = await import('/pkg/index.js');
    const glue = await import('/pkg/cdp_engine.js');
    const { cdp } = globalThis;
    const { id } = await cdp.profiles.upsert({ identities: { email: ['trap@example.com'] }, attributes: { name: 'Trap' } });
    const original = glue.CdpCore.prototype.profileCount;
    glue.CdpCore.prototype.profileCount = () => {
      throw new WebAssembly.RuntimeError('unreachable');
    };
    /** @param {Promise<unknown>} promise */
    const codeOf = (promise) => promise.then(() => 'resolved', (error) => error.code);
    try {
      const trapped = await codeOf(cdp.profiles.count());
      const afterTrap = await codeOf(cdp.profiles.get(id));
      globalThis.cdp = await Cdp.open({ name: 'browser-trap', config });
      return { trapped, afterTrap, profile: await globalThis.cdp.profiles.get(id), count: await globalThis.cdp.profiles.count() };
    } finally {
      glue.CdpCore.prototype.profileCount = original;
    }
  }, adminConfig);
  assert.equal(outcome.trapped, 'cdp.trapped');
  assert.equal(outcome.afterTrap, 'cdp.closed');
  assert.equal(outcome.profile?.attributes.name, 'Trap');
  assert.equal(outcome.count, 1);
});

test('segment subscribers see entries caused in the page and in another tab on the same database', async () => {
  await openInPage('browser-segments');
  await page.evaluate(async () => {
    const { cdp } = globalThis;
    await cdp.segments.define({ systemTitle: 'gold', rule: { op: 'equals', attribute: 'plan', value: 'gold' } });
    /** @type {Array<{ type: string, profile: string }>} */
    const seen = [];
    globalThis.seen = seen;
    globalThis.secondEntry = new Promise((resolve) => {
      cdp.segments.subscribe('gold', (event) => {
        seen.push({ type: event.type, profile: event.profile });
        if (seen.length === 2) resolve(undefined);
      });
    });
    await cdp.profiles.upsert({ identities: { email: ['here@example.com'] }, attributes: { plan: 'gold' } });
  });
  const other = await browser.context.newPage();
  const otherErrors = collectPageErrors(other);
  await other.goto(`${server.origin}/`);
  const written = await other.evaluate(async (config) => {
    const { Cdp } = await import('/pkg/index.js');
    const cdp = await Cdp.open({ name: 'browser-segments', config });
    const { id } = await cdp.profiles.upsert({ identities: { email: ['there@example.com'] }, attributes: { plan: 'gold' } });
    const members = await cdp.segments.members('gold');
    await cdp.close();
    return { id, members: members.data.length };
  }, adminConfig);
  assert.equal(written.members, 2, 'the other tab sees the segment and both members');
  const seen = await page.evaluate(async () => {
    await globalThis.secondEntry;
    return globalThis.seen;
  });
  assert.equal(seen.length, 2);
  assert.deepEqual(seen.map((event) => event.type), ['enter', 'enter']);
  assert.equal(seen[1].profile, written.id, 'the entry the other tab caused reached this tab');
  await other.close();
  assert.deepEqual(otherErrors, []);
});
