/**
 * The official ChartMogul Node client (chartmogul-node, a dev dependency) pointed at `serve`:
 * it lists, searches, retrieves, tags and untags customers written through another dialect,
 * adds, updates and removes their custom attributes, and surfaces the engine's 400, 401 and
 * 404 the way it surfaces ChartMogul's own.
 *
 * How the client is pointed at the server: `new ChartMogul.Config(apiKey, apiBase)` takes the
 * base URL as its second argument (default https://api.chartmogul.com), and sends the API key
 * as the HTTP Basic user with an empty password. `config.retries = 0` turns off its retry of
 * 429, 5xx and network errors (20 retries with back-off by default), so a failure shows at
 * once instead of after minutes.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import ChartMogul from 'chartmogul-node';
import { pkgDir } from './helpers/paths.mjs';
import { startNode, stopChild } from './helpers/processes.mjs';

const serveJs = join(pkgDir, 'serve.js');
const LISTENING = /^cdp-engine listening on http:\/\/127\.0\.0\.1:(\d+)$/;
const API_KEY = 'cm-key';
const UNKNOWN_CUSTOMER = 'cus_00000000-0000-4000-8000-000000000000';

/** Credentials for Arrigoo (to seed customers) and for ChartMogul (the client's API key). */
const config = {
  arrigoo: { apiKeys: [{ key: 'seeder', secret: 'seeder-secret', role: 'admin' }] },
  chartmogul: { accounts: [{ token: 'account-token', secret: '' }], apiKeys: [API_KEY] },
};

/** The customers seeded through Arrigoo, in creation order. */
const seeded = Array.from({ length: 5 }, (_, number) => ({
  email: `customer${number}@example.com`,
  name: `Customer ${number}`,
}));

/** @type {import('node:child_process').ChildProcess} */
let server;
/** @type {string} */
let origin;
/** @type {string} */
let scratch;

/**
 * A client configuration for `apiKey` against the running server, without retries.
 * @param {string} apiKey
 */
function clientConfig(apiKey) {
  const clientConfig = new ChartMogul.Config(apiKey, origin);
  clientConfig.retries = 0;
  return clientConfig;
}

/**
 * Resolves with the error a client call rejects with; fails when it resolves.
 * @param {Promise<unknown>} call
 * @returns {Promise<any>}
 */
async function rejection(call) {
  try {
    await call;
  } catch (error) {
    return error;
  }
  assert.fail('the call succeeded');
}

/**
 * Asserts the error chartmogul-node rejects with for a 4xx answer. The client hands 4xx to
 * superagent, which fails the request before the client's own status switch runs, so what
 * reaches the caller is superagent's HTTP error: `status`, and `response.body` holding
 * ChartMogul's error body.
 * @param {any} error
 * @param {number} status
 * @param {string | null} param
 */
function assertClientError(error, status, param) {
  assert.ok(error instanceof Error, 'rejects with an Error');
  assert.equal(error.status, status);
  assert.deepEqual(Object.keys(error.response.body).sort(), ['code', 'message', 'param']);
  assert.equal(error.response.body.code, status);
  assert.equal(typeof error.response.body.message, 'string');
  assert.equal(error.response.body.param, param);
}

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'cdp-chartmogul-client-'));
  const configFile = join(scratch, 'config.json');
  await writeFile(configFile, JSON.stringify(config));
  const started = await startNode([serveJs, '--port', '0', '--config', configFile], LISTENING);
  server = started.child;
  origin = `http://127.0.0.1:${started.match[1]}`;

  const login = await fetch(`${origin}/auth/api`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ key: 'seeder', secret: 'seeder-secret' }),
  });
  assert.equal(login.status, 200);
  const { access_token: token } = await login.json();
  for (const { email, name } of seeded) {
    const put = await fetch(`${origin}/v1/customer`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ident: [{ id_type: 'email', id_value: email }], properties: { name } }),
    });
    assert.equal(put.status, 200, await put.text());
  }
});

after(async () => {
  if (server !== undefined) await stopChild(server);
  await rm(scratch, { recursive: true, force: true });
});

describe('chartmogul-node against serve', () => {
  test('lists every customer by walking pages with its cursor', async () => {
    const client = clientConfig(API_KEY);
    const emails = [];
    let page = await ChartMogul.Customer.all(client, { per_page: 2 });
    let pages = 1;
    emails.push(...page.entries.map((/** @type {any} */ entry) => entry.email));
    while (page.has_more) {
      assert.equal(typeof page.cursor, 'string', 'a page with more after it has a cursor');
      page = await ChartMogul.Customer.all(client, { per_page: 2, cursor: page.cursor });
      pages += 1;
      emails.push(...page.entries.map((/** @type {any} */ entry) => entry.email));
    }
    assert.equal(pages, 3);
    assert.equal(page.cursor, null, 'the last page has no cursor');
    assert.deepEqual(emails, seeded.map(({ email }) => email), 'creation order, each once');
  });

  test('the client refuses `page` itself, so only the cursor form reaches the server', async () => {
    const error = await rejection(ChartMogul.Customer.all(clientConfig(API_KEY), { page: 2 }));
    assert.ok(error instanceof ChartMogul.DeprecatedParamError);
  });

  test('searches by email, normalized, and retrieves the customer it finds', async () => {
    const client = clientConfig(API_KEY);
    const found = await ChartMogul.Customer.search(client, { email: ' Customer3@EXAMPLE.com ' });
    assert.equal(found.entries.length, 1);
    const [entry] = found.entries;
    assert.equal(entry.email, 'customer3@example.com');
    assert.match(entry.uuid, /^cus_[0-9a-f-]{36}$/);

    const customer = await ChartMogul.Customer.retrieve(client, entry.uuid);
    assert.equal(customer.uuid, entry.uuid);
    assert.equal(customer.id, entry.id);
    assert.equal(customer.name, 'Customer 3');
    assert.equal(customer.status, 'Active');
    assert.deepEqual(customer.attributes.tags, []);
    assert.deepEqual(customer.attributes.custom, { name: 'Customer 3' }, 'Arrigoo properties show as custom');
  });

  test('adds tags, reads them back in the attributes, and removes them', async () => {
    const client = clientConfig(API_KEY);
    const { entries } = await ChartMogul.Customer.search(client, { email: 'customer1@example.com' });
    const uuid = entries[0].uuid;

    assert.deepEqual(await ChartMogul.Tag.add(client, uuid, { tags: ['important', 'Prio1'] }), {
      tags: ['Prio1', 'important'],
    });
    const byEmail = await ChartMogul.Tag.add(client, { email: 'customer1@example.com', tags: ['engage'] });
    assert.equal(byEmail.entries.length, 1);
    assert.equal(byEmail.entries[0].uuid, uuid);
    assert.deepEqual(byEmail.entries[0].attributes.tags, ['Prio1', 'engage', 'important']);

    const { attributes } = await ChartMogul.Customer.attributes(client, uuid);
    assert.deepEqual(attributes.tags, ['Prio1', 'engage', 'important']);

    assert.deepEqual(await ChartMogul.Tag.remove(client, uuid, { tags: ['Prio1', 'never-added'] }), {
      tags: ['engage', 'important'],
    });
    const retrieved = await ChartMogul.Customer.retrieve(client, uuid);
    assert.deepEqual(retrieved.attributes.tags, ['engage', 'important']);
    const other = await ChartMogul.Customer.search(client, { email: 'customer2@example.com' });
    assert.deepEqual(other.entries[0].attributes.tags, [], 'tags stay on their customer');
  });

  test('an account token with an empty secret works as the client API key', async () => {
    const page = await ChartMogul.Customer.all(clientConfig('account-token'), { per_page: 1 });
    assert.equal(page.entries.length, 1);
  });

  test('a wrong API key is a 401 carrying ChartMogul error body', async () => {
    const error = await rejection(ChartMogul.Customer.all(clientConfig('not-a-key')));
    assertClientError(error, 401, null);
    assert.equal(error.response.body.message, 'No valid API key provided');
    assert.equal(error.response.headers['www-authenticate'], undefined, 'no browser log-in prompt');
  });

  test('an unknown customer is a 404 on retrieve, attributes and tag writes, and the tag write changes nothing', async () => {
    const client = clientConfig(API_KEY);
    assertClientError(await rejection(ChartMogul.Customer.retrieve(client, UNKNOWN_CUSTOMER)), 404, 'customer_uuid');
    assertClientError(await rejection(ChartMogul.Customer.attributes(client, UNKNOWN_CUSTOMER)), 404, 'customer_uuid');
    const listedBefore = await ChartMogul.Customer.all(client, { per_page: 200 });
    const add = await rejection(ChartMogul.Tag.add(client, UNKNOWN_CUSTOMER, { tags: ['x'] }));
    assertClientError(add, 404, 'customer_uuid');
    const byEmail = await rejection(ChartMogul.Tag.add(client, { email: 'nobody@example.com', tags: ['x'] }));
    assert.equal(byEmail.status, 404);
    assert.deepEqual(await ChartMogul.Customer.all(client, { per_page: 200 }), listedBefore);
  });

  test('a search for an email nobody has is a 404', async () => {
    const error = await rejection(ChartMogul.Customer.search(clientConfig(API_KEY), { email: 'nobody@example.com' }));
    assert.equal(error.status, 404);
    assert.equal(error.response.body.code, 404);
  });

  test(
    'custom attributes are added, read and removed through the client',
    async () => {
      const client = clientConfig(API_KEY);
      const { entries } = await ChartMogul.Customer.search(client, { email: 'customer4@example.com' });
      const uuid = entries[0].uuid;
      const added = await ChartMogul.CustomAttribute.add(client, uuid, {
        custom: [
          { type: 'String', key: 'channel', value: 'Facebook' },
          { type: 'Integer', key: 'age', value: 8 },
        ],
      });
      assert.equal(added.custom.channel, 'Facebook');
      assert.equal(added.custom.age, 8);
      const { attributes } = await ChartMogul.Customer.attributes(client, uuid);
      assert.equal(attributes.custom.age, 8);
      const updated = await ChartMogul.CustomAttribute.update(client, uuid, { custom: { age: 9 } });
      assert.equal(updated.custom.age, 9);
      const byEmail = await ChartMogul.CustomAttribute.add(client, {
        email: 'customer4@example.com',
        custom: [{ type: 'Boolean', key: 'pro', value: 't' }],
      });
      assert.equal(byEmail.entries[0].uuid, uuid);
      assert.equal(byEmail.entries[0].attributes.custom.pro, true, 'Boolean spellings are read');
      const mismatch = await rejection(ChartMogul.CustomAttribute.update(client, uuid, { custom: { age: 'nine' } }));
      assertClientError(mismatch, 400, 'age');
      const removed = await ChartMogul.CustomAttribute.remove(client, uuid, { custom: ['age'] });
      assert.equal(removed.custom.age, undefined);
    },
  );
});
