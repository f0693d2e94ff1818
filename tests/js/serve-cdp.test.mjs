/**
 * `/cdp/v1` through `serve`: keyed (Bearer) and open (a warning on start, and no answers to
 * web pages, which send `Origin`), with curl-like requests.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pkgDir } from './helpers/paths.mjs';
import { startNode, stopChild } from './helpers/processes.mjs';

const serveJs = join(pkgDir, 'serve.js');
const LISTENING = /^cdp-engine listening on http:\/\/127\.0\.0\.1:(\d+)$/;

/** @type {string} */
let scratch;

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'cdp-serve-cdp-'));
});
after(() => rm(scratch, { recursive: true, force: true }));

/**
 * @param {string} name
 * @param {object} config
 */
async function configFile(name, config) {
  const file = join(scratch, name);
  await writeFile(file, JSON.stringify(config));
  return file;
}

describe('a serve with cdp.apiKeys', () => {
  /** @type {import('node:child_process').ChildProcess} */
  let server;
  /** @type {string} */
  let origin;
  const auth = { authorization: 'Bearer k1', 'content-type': 'application/json' };

  before(async () => {
    const file = await configFile('keyed.json', { cdp: { apiKeys: ['k1'] } });
    const started = await startNode([serveJs, '--port', '0', '--config', file], LISTENING);
    server = started.child;
    origin = `http://127.0.0.1:${started.match[1]}`;
  });
  after(() => stopChild(server));

  test('answers with the key and refuses without it', async () => {
    const refused = await fetch(`${origin}/cdp/v1/profiles`);
    assert.equal(refused.status, 401);
    assert.equal(refused.headers.get('www-authenticate'), 'Bearer');
    assert.equal((await refused.json()).error.code, 'api.unauthenticated');

    const created = await fetch(`${origin}/cdp/v1/events`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ identities: { email: 'bib@bob.dk' }, name: 'purchase', properties: { amount: 30 } }),
    });
    assert.equal(created.status, 201);
    const { profile } = await created.json();
    const segment = await fetch(`${origin}/cdp/v1/segments`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ systemTitle: 'buyers', rule: { op: 'didEvent', name: 'purchase' } }),
    });
    assert.equal(segment.status, 201);
    const members = await (await fetch(`${origin}/cdp/v1/segments/buyers/members`, { headers: auth })).json();
    assert.deepEqual(members, { data: [profile], next: null, total: 1 });
    const found = await fetch(`${origin}/cdp/v1/profiles/lookup?identity=email:BIB@bob.dk`, { headers: auth });
    assert.equal((await found.json()).id, profile);
    const invalid = await fetch(`${origin}/cdp/v1/segments`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ systemTitle: 'x', rule: { op: 'or', rules: [{ op: 'nope' }] } }),
    });
    assert.equal(invalid.status, 400);
    assert.deepEqual((await invalid.json()).error.path, '$.rule.rules[0].op');
    assert.equal(invalid.headers.get('access-control-allow-origin'), '*');
  });
});

describe('a serve without cdp.apiKeys', () => {
  /** @type {import('node:child_process').ChildProcess} */
  let server;
  /** @type {string} */
  let origin;
  let stderr = '';

  before(async () => {
    const file = await configFile('open.json', {});
    server = spawn(process.execPath, [serveJs, '--port', '0', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout?.setEncoding('utf8');
    server.stderr?.setEncoding('utf8');
    let stdout = '';
    const exited = once(server, 'exit').then(([code]) => {
      throw new Error(`serve exited (${code}): ${stderr}`);
    });
    exited.catch(() => undefined);
    const ready = new Promise((resolve) => {
      const check = () => {
        const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout);
        if (match !== null && stderr.includes('\n')) resolve(match[1]);
      };
      server.stdout?.on('data', (chunk) => {
        stdout += chunk;
        check();
      });
      server.stderr?.on('data', (chunk) => {
        stderr += chunk;
        check();
      });
    });
    const port = await Promise.race([ready, exited]);
    origin = `http://127.0.0.1:${port}`;
  });
  after(() => stopChild(server));

  test('warns on start that /cdp/v1 is open', () => {
    assert.match(stderr, /^cdp-engine-serve: warning: \/cdp\/v1 is open \(no cdp\.apiKeys/);
  });

  test('answers clients that are not web pages and refuses requests carrying an Origin', async () => {
    const answered = await fetch(`${origin}/cdp/v1/identity`);
    assert.equal(answered.status, 200);
    assert.equal((await answered.json()).policy, 'reject');
    for (const path of ['/cdp/v1/identity', '/%63dp/v1/identity', '//cdp//v1/profiles', '/cdp%2Fv1/profiles']) {
      const refused = await fetch(`${origin}${path}`, { headers: { origin: 'https://evil.example' } });
      assert.equal(refused.status, 401, path);
      assert.equal((await refused.json()).error.code, 'api.unauthenticated');
    }
    const other = await fetch(`${origin}/cdp/v2/identity`, { headers: { origin: 'https://shop.example' } });
    assert.equal(other.status, 404, 'only /cdp/v1 is guarded');
  });
});
