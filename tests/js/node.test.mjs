/**
 * The built package in Node: memory storage, the profile helpers, cdp.fetch speaking Arrigoo,
 * call ordering, and errors as CdpError with a code.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Cdp, CdpError } from '../../pkg/index.js';
import { assertCustomer, assertJsonError, assertTokens, readAnswer, unknownUuid } from './helpers/arrigoo.mjs';
import { adminConfig, adminLogin, repoRoot } from './helpers/paths.mjs';
import { runNode } from './helpers/processes.mjs';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Asserts that `promise` rejects with a CdpError carrying `code`.
 * @param {Promise<unknown>} promise
 * @param {string} code
 */
async function rejectsWithCode(promise, code) {
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof CdpError, `expected a CdpError, got ${error}`);
    assert.ok(error instanceof Error);
    assert.equal(error.name, 'CdpError');
    assert.equal(error.code, code);
    assert.equal(typeof error.message, 'string');
    return true;
  });
}

/** @param {Cdp} cdp */
async function login(cdp) {
  const response = await cdp.fetch('/auth/api', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(adminLogin),
  });
  assert.equal(response.status, 200);
  const body = await response.json();
  assertTokens(body);
  return /** @type {string} */ (body.access_token);
}

describe('opening', () => {
  test('opens in Node with memory storage when no storage is asked for', async () => {
    const cdp = await Cdp.open({ name: 'node-open', config: adminConfig });
    assert.equal(cdp.storage, 'memory');
    assert.equal(cdp.name, 'node-open');
    assert.equal(await cdp.profiles.count(), 0);
    await cdp.close();
  });

  test('asking for indexeddb where there is none rejects with cdp.storage_unavailable', async () => {
    await rejectsWithCode(Cdp.open({ storage: 'indexeddb' }), 'cdp.storage_unavailable');
  });

  test('an unknown storage kind rejects with cdp.invalid_argument', async () => {
    await rejectsWithCode(Cdp.open({ storage: /** @type {any} */ ('disk') }), 'cdp.invalid_argument');
  });

  test('a config the engine refuses rejects with its code config.invalid', async () => {
    await rejectsWithCode(Cdp.open({ config: /** @type {any} */ ({ arigoo: {} }) }), 'config.invalid');
  });

  test('the constructor cannot be called directly', () => {
    assert.throws(() => new /** @type {any} */ (Cdp)(), CdpError);
  });
});

describe('profiles', () => {
  /** @type {Cdp} */
  let cdp;
  before(async () => {
    cdp = await Cdp.open({ name: 'node-profiles', config: adminConfig });
  });
  after(() => cdp.close());

  test('upsert creates a profile that get reads back in canonical shape', async () => {
    const outcome = await cdp.profiles.upsert({
      identities: { email: ['  Bob@Bib.dk '] },
      attributes: { name: 'Bob' },
    });
    assert.equal(outcome.created, true);
    assert.match(outcome.id, UUID);
    const profile = await cdp.profiles.get(outcome.id);
    assert.ok(profile !== null);
    assert.deepEqual(Object.keys(profile).sort(), [
      'aliases', 'attributes', 'consents', 'created', 'id', 'identities', 'tags', 'updated', 'version',
    ]);
    assert.equal(profile.id, outcome.id);
    assert.deepEqual(profile.identities, { email: ['bob@bib.dk'] });
    assert.deepEqual(profile.attributes, { name: 'Bob' });
    assert.deepEqual(profile.tags, { auto: [], manual: [] });
    assert.deepEqual(profile.consents, {});
    assert.deepEqual(profile.aliases, []);
    assert.ok(!Number.isNaN(Date.parse(profile.created)) && !Number.isNaN(Date.parse(profile.updated)));
    assert.ok(Number.isInteger(profile.version) && profile.version >= 1);
  });

  test('upsert with a known identity updates that profile instead of creating one', async () => {
    const first = await cdp.profiles.upsert({ identities: { email: ['ann@example.com'] }, attributes: { name: 'Ann' } });
    const before = await cdp.profiles.count();
    const versionBefore = (await cdp.profiles.get(first.id))?.version ?? Infinity;
    const second = await cdp.profiles.upsert({ identities: { email: ['ANN@example.com'] }, attributes: { name: 'Anne' } });
    assert.deepEqual(second, { id: first.id, created: false });
    assert.equal(await cdp.profiles.count(), before);
    const profile = await cdp.profiles.get(first.id);
    assert.equal(profile?.attributes.name, 'Anne');
    assert.ok((profile?.version ?? 0) > versionBefore, 'the version grows with each change');
  });

  test('text beyond ASCII reaches the engine intact through every write path', async () => {
    // Two-, three- and four-byte UTF-8 (a surrogate pair in JS), mixed with ASCII.
    const name = 'Søren Ærø · 東京 · 😀 ok';
    const one = await cdp.profiles.upsert({ identities: { email: ['søren@ærø.dk'] }, attributes: { name } });
    const many = await cdp.profiles.upsertMany([{ identities: { email: ['zoë@example.com'] }, attributes: { name: `${name} 2` } }]);
    const { results } = await cdp.execute({ batch: [{ upsertProfile: { identities: { email: ['😀@example.com'] }, attributes: { name: `${name} 3` } } }] });
    assert.equal((await cdp.profiles.get(one.id))?.attributes.name, name);
    assert.deepEqual((await cdp.profiles.get(one.id))?.identities, { email: ['søren@ærø.dk'] });
    assert.equal((await cdp.profiles.get(many[0].id))?.attributes.name, `${name} 2`);
    assert.equal((await cdp.profiles.get(/** @type {any} */ (results[0]).profile))?.attributes.name, `${name} 3`);
    const copy = await Cdp.open({ name: 'node-profiles-utf8-copy' });
    let text = '';
    for await (const piece of cdp.export()) text += piece;
    assert.ok((await copy.import(text)).profiles >= 3);
    assert.equal((await copy.profiles.get(one.id))?.attributes.name, name);
    await copy.close();
  });

  test('calls run in call order, so a read issued right after a write sees it', async () => {
    const countBefore = await cdp.profiles.count();
    const first = cdp.profiles.upsert({ identities: { email: ['order@example.com'] }, attributes: { n: 1 } });
    const second = cdp.profiles.upsert({ identities: { email: ['order@example.com'] }, attributes: { n: 2 } });
    const count = cdp.profiles.count();
    const [a, b, counted] = await Promise.all([first, second, count]);
    assert.equal(a.created, true);
    assert.deepEqual(b, { id: a.id, created: false });
    assert.equal(counted, countBefore + 1);
    assert.equal((await cdp.profiles.get(a.id))?.attributes.n, 2);
  });

  test('get answers null for an unknown uuid and rejects a malformed id with a CdpError', async () => {
    assert.equal(await cdp.profiles.get(unknownUuid), null);
    await assert.rejects(cdp.profiles.get('not-a-uuid'), (error) => {
      assert.ok(error instanceof CdpError);
      assert.match(error.code, /^[a-z_]+\.[a-z_]+$/);
      return true;
    });
  });

  test('an upsert without identities is rejected with identity.missing and changes nothing', async () => {
    const before = await cdp.profiles.count();
    await rejectsWithCode(cdp.profiles.upsert({ identities: {}, attributes: { name: 'Nobody' } }), 'identity.missing');
    assert.equal(await cdp.profiles.count(), before);
  });

  test('identities of two profiles in one upsert reject with identity.conflict and change nothing', async () => {
    const left = await cdp.profiles.upsert({ identities: { email: ['left@example.com'] } });
    await cdp.profiles.upsert({ identities: { email: ['right@example.com'] } });
    const before = await cdp.profiles.count();
    const leftBefore = await cdp.profiles.get(left.id);
    await rejectsWithCode(
      cdp.profiles.upsert({ identities: { email: ['left@example.com', 'right@example.com'] }, attributes: { x: 1 } }),
      'identity.conflict',
    );
    assert.equal(await cdp.profiles.count(), before);
    assert.deepEqual(await cdp.profiles.get(left.id), leftBefore);
  });

  test('an engine refusal reaches the caller as one CdpError, its message the engine\'s', async () => {
    const one = await cdp.profiles.upsert({ identities: { email: ['one@example.com'] } });
    const two = await cdp.profiles.upsert({ identities: { email: ['two@example.com'] } });
    await assert.rejects(
      cdp.profiles.upsert({ identities: { email: ['one@example.com', 'two@example.com'] } }),
      (error) => {
        assert.ok(error instanceof CdpError);
        assert.equal(error.code, 'identity.conflict');
        assert.match(error.message, new RegExp(`two different profiles: (${one.id} and ${two.id}|${two.id} and ${one.id})`));
        // The engine's answer is the whole error: no inner Error built (and stack captured)
        // only to be wrapped.
        assert.equal(error.cause, undefined);
        assert.match(String(error.stack), /^CdpError: the identifiers match two different profiles/);
        return true;
      },
    );
  });
});

describe('fetch speaks Arrigoo', () => {
  /** @type {Cdp} */
  let cdp;
  /** @type {{ id: string, email: string, name: string }} */
  let bob;
  before(async () => {
    cdp = await Cdp.open({ name: 'node-fetch', config: adminConfig });
    const { id } = await cdp.profiles.upsert({ identities: { email: ['bob@bib.dk'] }, attributes: { name: 'Bib Bobsen' } });
    bob = { id, email: 'bob@bib.dk', name: 'Bib Bobsen' };
  });
  after(() => cdp.close());

  test('login then GET /v1/customer/{uuid} answers 200 with the documented shape', async () => {
    const token = await login(cdp);
    const response = await cdp.fetch(`/v1/customer/${bob.id}`, { headers: { authorization: `Bearer ${token}` } });
    assert.ok(response instanceof Response);
    const answer = await readAnswer(response);
    assert.equal(answer.status, 200);
    assert.match(answer.contentType ?? '', /^application\/json/);
    assertCustomer(answer.body, bob);
  });

  test('GET without a token answers 401 with a JSON body', async () => {
    assertJsonError(await readAnswer(await cdp.fetch(`/v1/customer/${bob.id}`)), 401, 'api.unauthenticated');
  });

  test('GET with a bogus token answers 401 with a JSON body', async () => {
    const response = await cdp.fetch(`/v1/customer/${bob.id}`, { headers: { Authorization: 'Bearer bogus' } });
    assertJsonError(await readAnswer(response), 401, 'api.unauthenticated');
  });

  test('a wrong secret is refused with 401', async () => {
    const response = await cdp.fetch('/auth/api', { method: 'POST', body: JSON.stringify({ ...adminLogin, secret: 'wrong' }) });
    assertJsonError(await readAnswer(response), 401, 'api.unauthenticated');
  });

  test('GET of an unknown uuid answers 404 with a JSON body', async () => {
    const token = await login(cdp);
    const response = await cdp.fetch(`/v1/customer/${unknownUuid}`, { headers: { authorization: `Bearer ${token}` } });
    assertJsonError(await readAnswer(response), 404, 'api.not_found');
  });

  test('a body reads alike whether it is a string, bytes or a stream, in init or in a Request', async () => {
    const text = JSON.stringify(adminLogin);
    const bodies = [
      { body: text },
      { body: new TextEncoder().encode(text) },
      { body: new Blob([text]) },
      { body: new Response(text).body, duplex: 'half' },
    ];
    for (const init of bodies) {
      const response = await cdp.fetch('/auth/api', { method: 'POST', headers: { 'content-type': 'application/json' }, ...init });
      assert.equal(response.status, 200, `a ${init.body?.constructor?.name} body`);
      assertTokens(await response.json());
    }
    const request = new Request('https://x.example/auth/api', { method: 'POST', body: text });
    const again = request.clone();
    assert.equal((await cdp.fetch(request)).status, 200, 'a Request carrying the body');
    const wrong = JSON.stringify({ ...adminLogin, secret: 'wrong' });
    assert.equal((await cdp.fetch(again, { body: wrong, method: 'POST' })).status, 401, "init's body wins over the Request's");
  });

  test('handle answers as fetch does, with plain strings in and out', async () => {
    const token = await login(cdp);
    const target = `/v1/customer/${bob.id}`;
    const [status, headers, body] = await cdp.handle('GET', target, ['Authorization', `Bearer ${token}`]);
    const viaFetch = await cdp.fetch(target, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(status, 200);
    assert.equal(body, await viaFetch.text());
    assert.equal(headers[headers.indexOf('content-type') + 1], viaFetch.headers.get('content-type'));
    assertCustomer(JSON.parse(body), bob);
    const twice = ['Authorization', `Bearer ${token}`, 'authorization', ' Bearer bogus '];
    const combined = new Headers();
    for (let index = 0; index < twice.length; index += 2) combined.append(twice[index], twice[index + 1]);
    const [both, , bothBody] = await cdp.handle('GET', target, twice);
    const bothViaFetch = await cdp.fetch(target, { headers: combined });
    assert.deepEqual([both, bothBody], [bothViaFetch.status, await bothViaFetch.text()], 'a repeated header reads as fetch reads it');
    assert.equal(both, 401, 'two tokens joined are no token');
    const [refused, , error] = await cdp.handle('GET', `/v1/./x/../customer/${bob.id}`);
    assert.equal(refused, 401, 'the dot segments resolve to the customer route, which wants a token');
    assert.equal(error, await (await cdp.fetch(target)).text());
  });

  test('handle reads a target starting with // as a path, as an HTTP server does', async () => {
    const token = await login(cdp);
    const auth = ['Authorization', `Bearer ${token}`];
    const [found] = await cdp.handle('GET', `/v1/customer/${bob.id}`, auth);
    assert.equal(found, 200);
    const [other] = await cdp.handle('GET', `//crm.example.com/v1/customer/${bob.id}`, auth);
    assert.equal(other, 404, 'the path //crm.example.com/v1/customer/… is no route (not /v1/customer/… on another host)');
    for (const target of ['//%zz/x', '// /x', '//[::1/x', '//281474976710656/v1/traits', '//urn:uuid:0/v1/traits']) {
      const [status] = await cdp.handle('GET', target, auth);
      assert.equal(status, 404, target);
    }
  });

  test('handle writes once durable and takes a body; bad arguments reject with cdp.invalid_request', async () => {
    const [status, , body] = await cdp.handle('POST', '/auth/api', ['content-type', 'application/json'], JSON.stringify(adminLogin));
    assert.equal(status, 200);
    assert.ok(JSON.parse(body).access_token);
    for (const args of [[1, '/'], ['GET', 7], ['GET', '/', ['odd']], ['GET', '/', [], 5]]) {
      // @ts-expect-error arguments of the wrong kinds on purpose
      await rejectsWithCode(cdp.handle(...args), 'cdp.invalid_request');
    }
  });

  test('fetch takes a URL object, an absolute URL string and a Request alike', async () => {
    const token = await login(cdp);
    const headers = { authorization: `Bearer ${token}` };
    const inputs = [
      new URL(`https://crm.example.com/v1/customer/${bob.id}`),
      `http://localhost:9/v1/customer/${bob.id}?unused=1`,
      new Request(`https://crm.example.com/v1/customer/${bob.id}`, { headers }),
    ];
    for (const input of inputs) {
      const response = await cdp.fetch(input, input instanceof Request ? undefined : { headers });
      const answer = await readAnswer(response);
      assert.equal(answer.status, 200, `for ${input}`);
      assertCustomer(answer.body, bob);
    }
  });

  test('PUT /v1/customer writes a profile the typed helpers then see', async () => {
    const token = await login(cdp);
    const before = await cdp.profiles.count();
    const response = await cdp.fetch('/v1/customer', {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ident: [{ id_type: 'email', id_value: 'put@example.com' }], properties: { name: 'Put' } }),
    });
    assert.ok(response.ok, `PUT answered ${response.status}`);
    const { cid } = await response.json();
    assert.equal(await cdp.profiles.count(), before + 1);
    assert.equal((await cdp.profiles.get(cid))?.attributes.name, 'Put');
  });

  test('setCredentials replaces keys at run time: the old key and its tokens stop working', async () => {
    const own = await Cdp.open({ name: 'node-credentials', config: adminConfig });
    try {
      const oldToken = await login(own);
      await own.setCredentials({ arrigoo: { apiKeys: [{ key: 'rotated', secret: 'new-secret', role: 'viewer' }] } });
      const oldLogin = await own.fetch('/auth/api', { method: 'POST', body: JSON.stringify(adminLogin) });
      assertJsonError(await readAnswer(oldLogin), 401, 'api.unauthenticated');
      const stale = await own.fetch(`/v1/customer/${unknownUuid}`, { headers: { authorization: `Bearer ${oldToken}` } });
      assertJsonError(await readAnswer(stale), 401, 'api.unauthenticated');
      const fresh = await own.fetch('/auth/api', {
        method: 'POST',
        body: JSON.stringify({ key: 'rotated', secret: 'new-secret' }),
      });
      assert.equal(fresh.status, 200);
      assert.equal((await fresh.json()).scope, 'api_viewer');
      await rejectsWithCode(own.setCredentials({ arigoo: {} }), 'config.invalid');
    } finally {
      await own.close();
    }
  });

  test('a request fetch itself would refuse rejects with cdp.invalid_request', async () => {
    await rejectsWithCode(cdp.fetch('/v1/customer', { method: 'GET', body: 'x' }), 'cdp.invalid_request');
  });
});

describe('engine commands', () => {
  test('execute records events, defines a segment and the dialects see its members', async () => {
    const cdp = await Cdp.open({ name: 'node-execute', config: adminConfig });
    try {
      const recorded = await cdp.execute({
        recordEvent: { identities: { email: ['buyer@example.com'] }, name: 'purchase', properties: { amount: 30 } },
      });
      assert.equal(recorded.created, true);
      assert.match(String(recorded.event), UUID);
      await cdp.profiles.upsert({ identities: { email: ['browser@example.com'] } });
      const defined = await cdp.execute({
        defineSegment: { systemTitle: 'buyers', name: 'Buyers', rule: { op: 'didEvent', name: 'purchase' } },
      });
      assert.deepEqual(defined, { name: 'buyers', changed: true });
      const token = await login(cdp);
      const members = await cdp.fetch('/v1/customer/segment/buyers', { headers: { authorization: `Bearer ${token}` } });
      assert.equal(members.status, 200);
      const body = await members.json();
      assert.deepEqual(body.map((/** @type {any} */ entry) => entry.cid), [recorded.profile]);
      assert.deepEqual(body[0].s, ['buyers']);
      await rejectsWithCode(
        cdp.execute({ defineSegment: { systemTitle: 'bad', name: 'Bad', rule: { op: 'nope' } } }),
        'segments.invalid_rule',
      );
      await rejectsWithCode(cdp.execute({ a: {}, b: {} }), 'cdp.invalid_argument');
    } finally {
      await cdp.close();
    }
  });
});

describe('arguments JSON cannot hold', () => {
  test('cyclic arguments reject with cdp.invalid_argument, commands nested past JSON\'s depth with engine.invalid_command, and nothing is stored', async () => {
    const cdp = await Cdp.open({ storage: 'memory' });
    try {
      /** @type {any} */
      const cyclic = { plan: 'pro' };
      cyclic.self = cyclic;
      const identities = { email: ['loop@example.com'] };
      await rejectsWithCode(cdp.execute({ upsertProfile: { identities, attributes: cyclic } }), 'cdp.invalid_argument');
      await rejectsWithCode(cdp.profiles.upsert({ identities, attributes: cyclic }), 'cdp.invalid_argument');
      await rejectsWithCode(cdp.profiles.upsertMany([{ identities, attributes: cyclic }]), 'cdp.invalid_argument');
      await rejectsWithCode(cdp.events.record({ identities, name: 'viewed', properties: cyclic }), 'cdp.invalid_argument');
      await rejectsWithCode(cdp.execute({ upsertProfile: { identities, attributes: { big: 1n } } }), 'cdp.invalid_argument');
      /** @type {unknown} */
      let deep = 1;
      for (let level = 0; level < 130; level += 1) deep = [deep];
      await assert.rejects(cdp.profiles.upsert({ identities, attributes: { deep } }), (/** @type {any} */ error) => {
        assert.equal(error.code, 'engine.invalid_command');
        assert.match(error.message, /recursion limit exceeded/);
        return true;
      });
      assert.equal(await cdp.profiles.count(), 0);
      const stored = await cdp.profiles.upsert({ identities, attributes: { plan: 'pro' } });
      assert.equal(stored.created, true);
    } finally {
      await cdp.close();
    }
  });
});

describe('closing', () => {
  test('calls issued before close finish; calls after it reject with cdp.closed', async () => {
    const cdp = await Cdp.open({ name: 'node-close', config: adminConfig });
    const pending = cdp.profiles.upsert({ identities: { email: ['late@example.com'] } });
    const closed = cdp.close();
    assert.equal((await pending).created, true);
    await closed;
    assert.equal(cdp.close(), closed, 'closing again returns the same promise');
    await rejectsWithCode(cdp.profiles.count(), 'cdp.closed');
    await rejectsWithCode(cdp.profiles.get(unknownUuid), 'cdp.closed');
    await rejectsWithCode(cdp.profiles.upsert({ identities: { email: ['x@example.com'] } }), 'cdp.closed');
    await rejectsWithCode(cdp.fetch('/auth/api', { method: 'POST', body: '{}' }), 'cdp.closed');
  });

  test('a real out-of-memory trap inside a write rejects that call, and the next open works', async () => {
    // Under a 100-page (6.4 MB) wasm memory limit, one body of 20,000 attributes cannot be
    // held. The trap must reach the caller (the call's work runs inside the call), not escape
    // from a microtask, which would end the process and leave the promise pending.
    const script = join(repoRoot, 'tests/js/fixtures/trap/write.mjs');
    const { code, stdout, stderr } = await runNode(['--wasm-max-mem-pages=100', script]);
    assert.equal(code, 0, stderr);
    assert.deepEqual(JSON.parse(stdout), { small: true, huge: 'cdp.trapped', afterTrap: 'cdp.closed', reopened: true, count: 1 });
  });

  test('a trap while an open reads the stored data back rejects the open, and the data is intact', async () => {
    // 20,000 profiles need more than a 100-page (6.4 MB) wasm memory once read back. The
    // trap comes after the open's first wait (the files are read first), where every later
    // step of a call must still reject the caller's promise.
    const directory = await mkdtemp(join(tmpdir(), 'cdp-trap-open-'));
    try {
      const filled = await Cdp.open({ directory });
      const bio = 'x'.repeat(200);
      for (let first = 0; first < 20_000; first += 1_000) {
        await filled.profiles.upsertMany(Array.from({ length: 1_000 }, (_, index) => ({
          identities: { email: [`p${first + index}@example.com`] },
          attributes: { bio: `${bio}${first + index}` },
        })));
      }
      await filled.close();
      const script = join(repoRoot, 'tests/js/fixtures/trap/open.mjs');
      const { code, stdout, stderr } = await runNode(['--wasm-max-mem-pages=100', script, directory]);
      assert.equal(code, 0, stderr);
      assert.deepEqual(JSON.parse(stdout), { opened: 'cdp.trapped', next: true });
      const reopened = await Cdp.open({ directory });
      assert.equal(await reopened.profiles.count(), 20_000);
      await reopened.close();
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  test('a wasm trap closes the instance and the next open gets a fresh engine', async () => {
    const glue = await import('../../pkg/cdp_engine.js');
    const cdp = await Cdp.open({ name: 'node-trap', config: adminConfig });
    const sibling = await Cdp.open({ name: 'node-trap-sibling', config: adminConfig });
    const original = glue.CdpCore.prototype.profileCount;
    glue.CdpCore.prototype.profileCount = () => {
      throw new WebAssembly.RuntimeError('unreachable');
    };
    try {
      await rejectsWithCode(cdp.profiles.count(), 'cdp.trapped');
      await rejectsWithCode(cdp.profiles.get(unknownUuid), 'cdp.closed');
      await rejectsWithCode(sibling.profiles.get(unknownUuid), 'cdp.closed');
      await cdp.close();
      const reopened = await Cdp.open({ name: 'node-trap', config: adminConfig });
      assert.equal(await reopened.profiles.count(), 0);
      await reopened.close();
    } finally {
      glue.CdpCore.prototype.profileCount = original;
    }
  });
});
