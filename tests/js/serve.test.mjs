/**
 * The package's bin, pkg/serve.js: the same engine behind node:http, its argument errors and
 * its shutdown.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Cdp } from '../../pkg/index.js';
import { assertCustomer, assertJsonError, assertTokens, readAnswer, unknownUuid } from './helpers/arrigoo.mjs';
import { adminConfig, adminLogin, pkgDir } from './helpers/paths.mjs';
import { runNode, startNode, stopChild } from './helpers/processes.mjs';

const serveJs = join(pkgDir, 'serve.js');
const LISTENING = /^cdp-engine listening on http:\/\/127\.0\.0\.1:(\d+)$/;

/** @type {string} */
let scratch;
/** @type {string} */
let configFile;

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'cdp-serve-'));
  configFile = join(scratch, 'config.json');
  await writeFile(configFile, JSON.stringify(adminConfig));
});
after(() => rm(scratch, { recursive: true, force: true }));

describe('a running server', () => {
  /** @type {import('node:child_process').ChildProcess} */
  let server;
  /** @type {string} */
  let origin;

  before(async () => {
    const started = await startNode([serveJs, '--port', '0', '--config', configFile], LISTENING);
    server = started.child;
    origin = `http://127.0.0.1:${started.match[1]}`;
    assert.notEqual(started.match[1], '0', 'prints the port it really got');
  });
  after(() => stopChild(server));

  /** @param {string} token */
  const bearer = (token) => ({ authorization: `Bearer ${token}` });

  async function login() {
    const response = await fetch(`${origin}/auth/api`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(adminLogin),
    });
    assert.equal(response.status, 200);
    const body = await response.json();
    assertTokens(body);
    return /** @type {string} */ (body.access_token);
  }

  test('the Arrigoo round trip works over real HTTP: log in, PUT, GET 200', async () => {
    const token = await login();
    const put = await fetch(`${origin}/v1/customer`, {
      method: 'PUT',
      headers: { ...bearer(token), 'content-type': 'application/json' },
      body: JSON.stringify({ ident: [{ id_type: 'email', id_value: 'bob@bib.dk' }], properties: { name: 'Bib Bobsen' } }),
    });
    assert.ok(put.ok, `PUT answered ${put.status}`);
    const { cid } = await put.json();
    const answer = await readAnswer(await fetch(`${origin}/v1/customer/${cid}`, { headers: bearer(token) }));
    assert.equal(answer.status, 200);
    assert.match(answer.contentType ?? '', /^application\/json/);
    assertCustomer(answer.body, { id: cid, email: 'bob@bib.dk', name: 'Bib Bobsen' });
  });

  test('GET without a token or with a bogus one answers 401 with a JSON body', async () => {
    assertJsonError(await readAnswer(await fetch(`${origin}/v1/customer/${unknownUuid}`)), 401, 'api.unauthenticated');
    const bogus = await fetch(`${origin}/v1/customer/${unknownUuid}`, { headers: bearer('bogus') });
    assertJsonError(await readAnswer(bogus), 401, 'api.unauthenticated');
  });

  test('GET of an unknown uuid answers 404 with a JSON body', async () => {
    const response = await fetch(`${origin}/v1/customer/${unknownUuid}`, { headers: bearer(await login()) });
    assertJsonError(await readAnswer(response), 404, 'api.not_found');
  });

  test('a streamed body past maxBodyBytes gets the 413 before it is all sent', { timeout: 30_000 }, async () => {
    const TOTAL = 256 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 'a');
    const url = new URL(`${origin}/v1/customer`);
    const answered = await new Promise((resolve, reject) => {
      let sent = 0;
      let replied = false;
      const request = httpRequest(url, { method: 'PUT', headers: { 'content-type': 'application/json' } });
      request.on('response', (response) => {
        replied = true;
        const sentWhenAnswered = sent;
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (piece) => { text += piece; });
        response.on('end', () => {
          request.destroy();
          resolve({ status: response.statusCode, contentType: response.headers['content-type'], text, sentWhenAnswered });
        });
      });
      request.on('error', (error) => { if (!replied) reject(error); });
      const pump = () => {
        while (!replied && sent < TOTAL) {
          sent += chunk.length;
          if (!request.write(chunk)) {
            request.once('drain', pump);
            return;
          }
        }
        if (!replied) request.end();
      };
      pump();
    });
    assertJsonError({ ...answered, body: JSON.parse(answered.text) }, 413, 'api.body_too_large');
    assert.ok(answered.sentWhenAnswered < TOTAL / 4, `answered after ${answered.sentWhenAnswered} of ${TOTAL} bytes`);

    // A fetch client streaming a body gets the 413 too, and the server goes on serving. Its
    // body (8 MiB, still eight times the limit) is one the client finishes sending while the
    // server drops the rest, so a loaded machine cannot turn the 413 into a broken pipe.
    const FETCH_TOTAL = 8 * 1024 * 1024;
    let streamed = 0;
    const body = new ReadableStream({
      pull(controller) {
        if (streamed >= FETCH_TOTAL) return controller.close();
        streamed += chunk.length;
        controller.enqueue(new Uint8Array(chunk));
      },
    });
    const overFetch = await fetch(`${origin}/v1/customer`, { method: 'PUT', body, duplex: 'half' });
    assertJsonError(await readAnswer(overFetch), 413, 'api.body_too_large');
    assert.ok(streamed < TOTAL, 'fetch stopped streaming');
    await login();
  });

  test('answers exactly what cdp.fetch answers for the same request', async () => {
    const cdp = await Cdp.open({ name: 'serve-compare', config: adminConfig, storage: 'memory' });
    try {
      const requests = [
        { path: `/v1/customer/${unknownUuid}`, init: {} },
        { path: '/v1/customer/not-a-uuid', init: { headers: bearer('bogus') } },
        { path: '/auth/api', init: { method: 'POST', body: '{"key": ' } },
        { path: '/auth/api', init: { method: 'DELETE' } },
        { path: '/no/such/route', init: {} },
      ];
      for (const { path, init } of requests) {
        const overHttp = await fetch(`${origin}${path}`, init);
        const inProcess = await cdp.fetch(path, init);
        assert.equal(overHttp.status, inProcess.status, `${path} status`);
        assert.equal(overHttp.headers.get('content-type'), inProcess.headers.get('content-type'), `${path} content-type`);
        assert.equal(await overHttp.text(), await inProcess.text(), `${path} body`);
      }
    } finally {
      await cdp.close();
    }
  });
});

describe('starting and stopping', () => {
  test('`serve` is accepted as the first word, and --host chooses the address', async () => {
    const { child, match } = await startNode(
      [serveJs, 'serve', '--port', '0', '--config', configFile, '--host', '127.0.0.1'],
      LISTENING,
    );
    const response = await fetch(`http://127.0.0.1:${match[1]}/v1/customer`);
    assert.equal(response.status, 401);
    assert.deepEqual(await stopChild(child), { code: 0, signal: null });
  });

  for (const signal of /** @type {const} */ (['SIGTERM', 'SIGINT'])) {
    test(`${signal} stops the server and exits with 0`, { timeout: 10_000 }, async () => {
      const { child, match } = await startNode([serveJs, '--port', '0', '--config', configFile], LISTENING);
      const keptAlive = await fetch(`http://127.0.0.1:${match[1]}/v1/customer`, { keepalive: true });
      await keptAlive.text();
      assert.deepEqual(await stopChild(child, signal), { code: 0, signal: null });
      await assert.rejects(fetch(`http://127.0.0.1:${match[1]}/v1/customer`), 'the port is closed');
    });
  }
});

describe('bad arguments exit with 2 and one line on stderr', () => {
  /** @type {Array<[string, () => string[]]>} */
  const cases = [
    ['missing --port', () => ['--config', configFile]],
    ['a port that is not a number', () => ['--port', 'eighty', '--config', configFile]],
    ['a port out of range', () => ['--port', '70000', '--config', configFile]],
    ['an unknown flag', () => ['--port', '0', '--config', configFile, '--verbose']],
    ['an unexpected word', () => ['start', '--port', '0', '--config', configFile]],
    ['missing --config', () => ['--port', '0']],
    ['an unreadable config file', () => ['--port', '0', '--config', join(scratch, 'missing.json')]],
    ['a config file that is not JSON', () => ['--port', '0', '--config', join(scratch, 'broken.json')]],
    ['a config file the engine refuses', () => ['--port', '0', '--config', join(scratch, 'refused.json')]],
  ];

  before(async () => {
    await writeFile(join(scratch, 'broken.json'), '{"arrigoo": ');
    await writeFile(join(scratch, 'refused.json'), JSON.stringify({ arrigoo: { apiKeys: [{ key: 'k' }] } }));
  });

  for (const [name, args] of cases) {
    test(name, async () => {
      const result = await runNode([serveJs, ...args()]);
      assert.equal(result.code, 2, `exit code (stderr: ${result.stderr})`);
      assert.equal(result.stdout, '');
      assert.match(result.stderr, /^cdp-engine-serve: [^\n]+\n$/);
    });
  }
});
