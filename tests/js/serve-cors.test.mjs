/**
 * CORS on `serve`, so pages on other origins can be its clients: preflights answered 204 with
 * the allowed methods and headers, every answer readable from any origin, and a real page in
 * headless Chromium (cross-origin isolated, on another port) using all four dialects.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { collectPageErrors, launchChromium, startStaticServer } from './helpers/browser.mjs';
import { pkgDir } from './helpers/paths.mjs';
import { startNode, stopChild } from './helpers/processes.mjs';

const serveJs = join(pkgDir, 'serve.js');
const LISTENING = /^cdp-engine listening on http:\/\/127\.0\.0\.1:(\d+)$/;
const PAGE_ORIGIN = 'http://127.0.0.1:9';

/** Credentials for every dialect; PrimeData allows one search a minute, to see a 429. */
const config = {
  arrigoo: { apiKeys: [{ key: 'web', secret: 'web-secret', role: 'admin' }] },
  chartmogul: { apiKeys: ['cm-key'] },
  primedata: { apiKeys: ['pk1'], rateLimit: { requests: 1, perSeconds: 60 } },
  followanalytics: { apiKeys: ['fk1'] },
};

/** One path of each dialect, and one no dialect owns. */
const PATHS = [
  '/auth/api',
  '/v1/customer',
  '/v1/customers/search',
  '/pub/profiles/advanced-search',
  '/api/customer_profiles',
  '/no/such/route',
];

/** @type {import('node:child_process').ChildProcess} */
let server;
/** @type {string} */
let origin;
/** @type {string} */
let scratch;

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'cdp-serve-cors-'));
  const configFile = join(scratch, 'config.json');
  await writeFile(configFile, JSON.stringify(config));
  const started = await startNode([serveJs, '--port', '0', '--config', configFile], LISTENING);
  server = started.child;
  origin = `http://127.0.0.1:${started.match[1]}`;
});

after(async () => {
  if (server !== undefined) await stopChild(server);
  await rm(scratch, { recursive: true, force: true });
});

describe('CORS headers', () => {
  test('a preflight on any path is answered 204 with the allowed origin, methods and headers', async () => {
    for (const path of PATHS) {
      const response = await fetch(`${origin}${path}`, {
        method: 'OPTIONS',
        headers: {
          origin: PAGE_ORIGIN,
          'access-control-request-method': 'PUT',
          'access-control-request-headers': 'authorization,content-type',
        },
      });
      assert.equal(response.status, 204, path);
      assert.equal(await response.text(), '', `${path} has no body`);
      assert.equal(response.headers.get('access-control-allow-origin'), '*', path);
      const methods = response.headers.get('access-control-allow-methods')?.split(/,\s*/) ?? [];
      for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'DELETE']) {
        assert.ok(methods.includes(method), `${path} allows ${method}`);
      }
      const headers = response.headers.get('access-control-allow-headers')?.toLowerCase().split(/,\s*/) ?? [];
      assert.deepEqual(headers.sort(), ['authorization', 'content-type', 'x-api-key'], path);
    }
  });

  test('every answer allows any origin: success, 401, 404, 405 and 400', async () => {
    const answers = [
      await fetch(`${origin}/auth/api`, {
        method: 'POST',
        headers: { origin: PAGE_ORIGIN, 'content-type': 'application/json' },
        body: JSON.stringify({ key: 'web', secret: 'web-secret' }),
      }),
      await fetch(`${origin}/v1/customers`, { headers: { origin: PAGE_ORIGIN } }),
      await fetch(`${origin}/no/such/route`, { headers: { origin: PAGE_ORIGIN } }),
      await fetch(`${origin}/auth/api`, { method: 'DELETE', headers: { origin: PAGE_ORIGIN } }),
      await fetch(`${origin}/auth/api`, { method: 'POST', headers: { origin: PAGE_ORIGIN }, body: '{"key": ' }),
    ];
    assert.deepEqual(
      answers.map((answer) => answer.status),
      [200, 401, 404, 405, 400],
    );
    for (const answer of answers) {
      assert.equal(answer.headers.get('access-control-allow-origin'), '*', `${answer.status}`);
      assert.match(answer.headers.get('content-type') ?? '', /^application\/json/);
      await answer.json();
    }
  });

  test('an OPTIONS request that is not a preflight reaches the engine: 405 in the dialect shape', async () => {
    const response = await fetch(`${origin}/v1/customers`, { method: 'OPTIONS' });
    assert.equal(response.status, 405);
    assert.equal(response.headers.get('access-control-allow-origin'), '*');
    assert.deepEqual(Object.keys(await response.json()).sort(), ['code', 'message', 'param']);
  });
});

describe('a page on another origin', () => {
  /** @type {Awaited<ReturnType<typeof launchChromium>>} */
  let browser;
  /** @type {Awaited<ReturnType<typeof startStaticServer>>} */
  let pageServer;
  /** @type {import('playwright-core').Page} */
  let page;
  /** @type {string[]} */
  let pageErrors;

  before(async () => {
    pageServer = await startStaticServer('tests/js/pages');
    browser = await launchChromium();
    page = await browser.context.newPage();
    pageErrors = collectPageErrors(page);
    await page.goto(`${pageServer.origin}/`);
  });

  after(async () => {
    await browser?.close();
    await pageServer?.stop();
    // Chromium logs every 4xx answer it loads; those are the answers the tests asked for.
    const expected = /^console: Failed to load resource: the server responded with a status of (401|429) /;
    assert.deepEqual(
      pageErrors.filter((error) => !expected.test(error)),
      [],
      'no CORS error, failed request or page error',
    );
  });

  test('reads and writes every dialect with Authorization, x-api-key and JSON bodies', async () => {
    assert.notEqual(pageServer.origin, origin, 'the page and serve are different origins');
    const seen = await page.evaluate(async (serveOrigin) => {
      const json = { 'content-type': 'application/json' };
      const login = await fetch(`${serveOrigin}/auth/api`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ key: 'web', secret: 'web-secret' }),
      });
      const { access_token: token } = await login.json();
      const put = await fetch(`${serveOrigin}/v1/customer`, {
        method: 'PUT',
        headers: { ...json, authorization: `Bearer ${token}` },
        body: JSON.stringify({ ident: [{ id_type: 'email', id_value: 'page@example.com' }], properties: { name: 'Page' } }),
      });
      const { cid } = await put.json();
      const basic = { authorization: `Basic ${btoa('cm-key:')}` };
      const tags = await fetch(`${serveOrigin}/v1/customers/cus_${cid}/attributes/tags`, {
        method: 'POST',
        headers: { ...json, ...basic },
        body: JSON.stringify({ tags: ['from-a-page'] }),
      });
      const untag = await fetch(`${serveOrigin}/v1/customers/cus_${cid}/attributes/tags`, {
        method: 'DELETE',
        headers: { ...json, ...basic },
        body: JSON.stringify({ tags: ['from-a-page'] }),
      });
      const search = () =>
        fetch(`${serveOrigin}/pub/profiles/advanced-search`, {
          method: 'POST',
          headers: { ...json, 'x-api-key': 'pk1' },
          body: JSON.stringify({ identities: { email: ['page@example.com'] } }),
        });
      const found = await search();
      const limited = await search();
      const profiles = await fetch(`${serveOrigin}/api/customer_profiles`, {
        headers: { authorization: 'Token token=fk1' },
      });
      return {
        statuses: [login.status, put.status, tags.status, untag.status, found.status, limited.status, profiles.status],
        tags: (await tags.json()).tags,
        untagged: (await untag.json()).tags,
        profileId: (await found.json()).data.profile_id,
        retryAfter: limited.headers.get('retry-after'),
        cid,
      };
    }, origin);
    assert.deepEqual(seen.statuses, [200, 200, 200, 200, 200, 429, 200]);
    assert.deepEqual(seen.tags, ['from-a-page']);
    assert.deepEqual(seen.untagged, []);
    assert.equal(seen.profileId, seen.cid);
    assert.match(seen.retryAfter ?? '', /^\d+$/, 'Retry-After is exposed to the page');
  });

  test('error answers are readable by the page too, so its client sees the 401 body', async () => {
    const seen = await page.evaluate(async (serveOrigin) => {
      const response = await fetch(`${serveOrigin}/v1/customer`, { headers: { authorization: 'Bearer bogus' } });
      return { status: response.status, body: await response.json() };
    }, origin);
    assert.equal(seen.status, 401);
    assert.equal(seen.body.error, 'api.unauthenticated');
  });
});
