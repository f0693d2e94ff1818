/**
 * `serve --data DIR`: acknowledged writes survive a SIGKILL in the middle of a load, and the
 * API key a FollowAnalytics SOR was created with survives a restart.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/** @param {string} data */
async function startServer(data) {
  const { child, match } = await startNode([serveJs, '--port', '0', '--config', configFile, '--data', data], LISTENING);
  const origin = `http://127.0.0.1:${match[1]}`;
  const response = await fetch(`${origin}/auth/api`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(adminLogin),
  });
  assert.equal(response.status, 200);
  const { access_token: token } = await response.json();
  return { child, origin, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } };
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
