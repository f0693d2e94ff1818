/**
 * `serve --data DIR`: acknowledged writes survive a SIGKILL in the middle of a load, the
 * API key a FollowAnalytics SOR was created with survives a restart, and a wasm trap (out of
 * memory, under a V8 page limit) fails only the request that caused it.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import { adminConfig, adminLogin, pkgDir } from './helpers/paths.mjs';
import { startNode, stopChild } from './helpers/processes.mjs';

const serveJs = join(pkgDir, 'serve.js');
const LISTENING = /^cdp-engine listening on http:\/\/127\.0\.0\.1:(\d+)$/;

/** @type {string} */
let scratch;
/** @type {string} */
let configFile;

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'cdp-serve-data-'));
  configFile = join(scratch, 'config.json');
  await writeFile(configFile, JSON.stringify({ ...adminConfig, followanalytics: { apiKeys: ['fk1'] } }));
});
after(() => rm(scratch, { recursive: true, force: true }));

/**
 * A wasm memory of at most this many 64 KiB pages (V8's `--wasm-max-mem-pages`): enough to
 * open the engine and serve small requests, too little for one body of 20,000 attributes,
 * so that request ends in a real trap.
 */
const SMALL_MEMORY_PAGES = 100;

/** A `/cdp/v1/profiles` body of 20,000 attributes (about 0.6 MB). */
function hugeProfile() {
  const attributes = Object.fromEntries(Array.from({ length: 20_000 }, (_, index) => [`k${index}`, `value number ${index}`]));
  return JSON.stringify({ identities: { email: ['huge@x.dk'] }, attributes });
}

/**
 * @param {string | undefined} data the `--data` directory, or memory storage
 * @param {string[]} [nodeFlags]
 */
async function startServer(data, nodeFlags = []) {
  const storage = data === undefined ? [] : ['--data', data];
  const { child, match } = await startNode([...nodeFlags, serveJs, '--port', '0', '--config', configFile, ...storage], LISTENING);
  const origin = `http://127.0.0.1:${match[1]}`;
  const token = await login(origin);
  return { child, origin, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } };
}

/**
 * Logs in with the admin key; the Arrigoo access token.
 * @param {string} origin
 * @returns {Promise<string>}
 */
async function login(origin) {
  const response = await fetch(`${origin}/auth/api`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(adminLogin),
  });
  assert.equal(response.status, 200);
  return (await response.json()).access_token;
}

test('serve --data killed with SIGKILL mid-load restarts with every acknowledged write', { timeout: 60_000 }, async () => {
  const data = join(scratch, 'data');
  const first = await startServer(data);
  /** @type {Map<string, string>} cid → email of every write answered 2xx */
  const acknowledged = new Map();
  const KILL_AFTER = 60;
  let next = 0;
  let killed = false;
  /** Sends PUTs one after another until the server is killed. */
  async function writer() {
    while (!killed && next < 10_000) {
      const email = `load${next}@x.dk`;
      next += 1;
      try {
        const response = await fetch(`${first.origin}/v1/customer`, {
          method: 'PUT',
          headers: first.headers,
          body: JSON.stringify({ ident: [{ id_type: 'email', id_value: email }], properties: { name: email } }),
        });
        if (response.ok) acknowledged.set((await response.json()).cid, email);
      } catch {
        return; // the server is gone: this write was never acknowledged
      }
      if (acknowledged.size >= KILL_AFTER && !killed) {
        killed = true;
        await stopChild(first.child, 'SIGKILL');
      }
    }
  }
  await Promise.all(Array.from({ length: 6 }, writer));
  assert.ok(acknowledged.size >= KILL_AFTER, `${acknowledged.size} writes were acknowledged`);

  const second = await startServer(data);
  try {
    for (const [cid, email] of acknowledged) {
      const response = await fetch(`${second.origin}/v1/customer/${cid}`, { headers: second.headers });
      assert.equal(response.status, 200, `acknowledged ${email} is there`);
      const body = await response.json();
      assert.ok(body.i.some((/** @type {any} */ identifier) => identifier.id_value === email));
    }
    const put = await fetch(`${second.origin}/v1/customer`, {
      method: 'PUT',
      headers: second.headers,
      body: JSON.stringify({ ident: [{ id_type: 'email', id_value: 'after@x.dk' }], properties: { name: 'after' } }),
    });
    assert.ok(put.ok, 'writing goes on after the restart');
  } finally {
    await stopChild(second.child);
  }
});

test('serve --data keeps the API key issued with a FollowAnalytics SOR across a restart', { timeout: 30_000 }, async () => {
  const data = join(scratch, 'sor-keys');
  const account = { authorization: 'Token token=fk1', 'content-type': 'application/json' };
  const first = await startServer(data);
  let sor;
  let key;
  try {
    const created = await fetch(`${first.origin}/api/system_of_records`, {
      method: 'POST',
      headers: account,
      body: JSON.stringify({ name: 'CRM' }),
    });
    assert.equal(created.status, 200);
    ({ identifier: sor, api_keys: [key] } = (await created.json()).result);
    const declared = await fetch(`${first.origin}/api/customer_attributes`, {
      method: 'POST',
      headers: account,
      body: JSON.stringify({ system_of_record_identifier: sor, key: 'fav_team', label: 'Team', type: 'String' }),
    });
    assert.equal(declared.status, 200);
  } finally {
    await stopChild(first.child);
  }

  const second = await startServer(data);
  try {
    const upload = (/** @type {string} */ apiKey) => fetch(`${second.origin}/api/attribute_values`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        sor,
        api_key: apiKey,
        customer_attribute_values: [{ customer_id: 'u1', attribute_key: 'fav_team', attribute_value: 'PSG' }],
      }),
    });
    const accepted = await upload(key);
    assert.equal(accepted.status, 200);
    assert.equal((await accepted.json()).result.uploaded, 1);
    assert.equal((await upload('not-the-key')).status, 401);
  } finally {
    await stopChild(second.child);
  }
});

test('serve --data answers a request that traps the wasm with 500 and serves the next from the reopened directory', { timeout: 60_000 }, async () => {
  const data = join(scratch, 'trap');
  const server = await startServer(data, [`--wasm-max-mem-pages=${SMALL_MEMORY_PAGES}`]);
  try {
    const put = (/** @type {string} */ email) => fetch(`${server.origin}/v1/customer`, {
      method: 'PUT',
      headers: server.headers,
      body: JSON.stringify({ ident: [{ id_type: 'email', id_value: email }], properties: { name: email } }),
    });
    const before = await put('before@x.dk');
    assert.equal(before.status, 200);
    const { cid } = await before.json();
    const trapped = await fetch(`${server.origin}/cdp/v1/profiles`, { method: 'POST', headers: server.headers, body: hugeProfile() });
    assert.equal(trapped.status, 500);
    assert.equal((await trapped.json()).error, 'cdp.trapped');
    // Access tokens live in the engine's memory: after the reopen, as after a restart, a
    // client logs in again.
    server.headers.authorization = `Bearer ${await login(server.origin)}`;
    const read = await fetch(`${server.origin}/v1/customer/${cid}`, { headers: server.headers });
    assert.equal(read.status, 200, 'the acknowledged write is there after the reopen');
    assert.equal((await put('after@x.dk')).status, 200, 'writing goes on');
    const search = await fetch(`${server.origin}/cdp/v1/profiles?limit=10`, { headers: server.headers });
    const emails = (await search.json()).data.flatMap((/** @type {any} */ profile) => profile.identities.email);
    assert.deepEqual(emails.sort(), ['after@x.dk', 'before@x.dk'], 'nothing of the trapped write');
  } finally {
    await stopChild(server.child);
  }
});

test('serve in memory answers a request that traps the wasm, then exits with a failure', { timeout: 60_000 }, async () => {
  const server = await startServer(undefined, [`--wasm-max-mem-pages=${SMALL_MEMORY_PAGES}`]);
  const exited = once(server.child, 'exit');
  const trapped = await fetch(`${server.origin}/cdp/v1/profiles`, { method: 'POST', headers: server.headers, body: hugeProfile() });
  assert.equal(trapped.status, 500);
  assert.equal((await trapped.json()).error, 'cdp.trapped');
  const [code] = await exited;
  assert.equal(code, 1);
});
