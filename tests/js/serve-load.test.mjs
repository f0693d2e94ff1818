/**
 * `serve` under load stays correct: 50 concurrent clients on loopback for 60 s, mixing writes
 * through four dialects (Arrigoo upserts, ChartMogul tag adds and removals, FollowAnalytics
 * uploads) with reads (PrimeData searches, Arrigoo and ChartMogul reads), get no 5xx and no
 * transport error, and every acknowledged write is read back afterwards.
 *
 * Each client owns the profiles it writes, and writes them one request at a time, so the final
 * state of every profile is known exactly: the test compares it with what the server holds.
 *
 *     CDP_LOAD_SECONDS=5 node --test tests/js/serve-load.test.mjs   # a shorter run (default 60)
 *     CDP_LOAD_CLIENTS=10 …                                          # fewer clients (default 50)
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pkgDir } from './helpers/paths.mjs';
import { startNode, stopChild } from './helpers/processes.mjs';

const serveJs = join(pkgDir, 'serve.js');
const LISTENING = /^cdp-engine listening on http:\/\/127\.0\.0\.1:(\d+)$/;

/**
 * A positive whole number from the environment, or `fallback`.
 * @param {string} name
 * @param {number} fallback
 */
function fromEnvironment(name, fallback) {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const number = Number(text);
  if (!Number.isInteger(number) || number < 1) throw new Error(`${name} must be a positive whole number, not ${text}`);
  return number;
}

const SECONDS = fromEnvironment('CDP_LOAD_SECONDS', 60);
const CLIENTS = fromEnvironment('CDP_LOAD_CLIENTS', 50);
/** Requests one client sends at most, so the run is bounded in count as well as in time. */
const MAX_REQUESTS_PER_CLIENT = 50_000;
/** A request not answered within this long counts as a transport error. */
const REQUEST_TIMEOUT_MS = 30_000;

const SOR = 'SOR_LOAD';
const config = {
  arrigoo: { apiKeys: [{ key: 'load', secret: 'load-secret', role: 'admin' }] },
  chartmogul: { apiKeys: ['cm-key'] },
  primedata: { apiKeys: ['pk1'] },
  followanalytics: { apiKeys: ['fk1'], sources: [{ identifier: SOR, apiKeys: ['sor-key'] }] },
};
const CHARTMOGUL_AUTH = `Basic ${Buffer.from('cm-key:').toString('base64')}`;
const JSON_TYPE = { 'content-type': 'application/json' };

/** @type {import('node:child_process').ChildProcess} */
let server;
/** @type {string} */
let origin;
/** @type {string} */
let scratch;

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'cdp-serve-load-'));
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

/**
 * What the run saw: every answer's status by kind of request, and everything that went wrong.
 */
class Tally {
  constructor() {
    /** @type {Map<string, Map<number, number>>} */
    this.statuses = new Map();
    /** @type {string[]} */
    this.serverErrors = [];
    /** @type {string[]} */
    this.transportErrors = [];
    /** @type {string[]} */
    this.unexpected = [];
    this.requests = 0;
  }

  /**
   * @param {string} kind
   * @param {number} status
   */
  count(kind, status) {
    this.requests += 1;
    const byStatus = this.statuses.get(kind) ?? new Map();
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
    this.statuses.set(kind, byStatus);
  }
}

/**
 * Records a wrong answer without stopping the run: every client keeps going to the deadline,
 * and the test reports all that went wrong at the end.
 * @param {Tally} tally
 * @param {boolean} holds
 * @param {string} message
 */
function check(tally, holds, message) {
  if (!holds) tally.unexpected.push(message);
}

/**
 * Sends one request and checks its status. Resolves with the parsed body when the status is
 * `expected`, and with `undefined` (recording why) otherwise, so an unacknowledged write is
 * never counted as written.
 * @param {Tally} tally
 * @param {string} kind a label for the kind of request
 * @param {string} path
 * @param {RequestInit} init
 * @param {number} [expected]
 * @returns {Promise<any>}
 */
async function send(tally, kind, path, init, expected = 200) {
  let response;
  let text;
  try {
    response = await fetch(`${origin}${path}`, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    text = await response.text();
  } catch (error) {
    tally.requests += 1;
    const cause = /** @type {any} */ (error).cause;
    tally.transportErrors.push(`${kind} ${path}: ${error}${cause ? ` (${cause.code ?? cause})` : ''}`);
    return undefined;
  }
  tally.count(kind, response.status);
  if (response.status >= 500) {
    tally.serverErrors.push(`${kind} ${path}: ${response.status} ${text.slice(0, 200)}`);
    return undefined;
  }
  if (response.status !== expected) {
    tally.unexpected.push(`${kind} ${path}: ${response.status} ${text.slice(0, 200)}`);
    return undefined;
  }
  return JSON.parse(text);
}

/**
 * The state one client's acknowledged writes leave behind.
 * @typedef {object} Written
 * @property {Map<string, { email: string, step: number, tags: Set<string> }>} profiles by Arrigoo cid
 * @property {Map<string, number>} uploads FollowAnalytics customer id → last uploaded `step`
 */

/**
 * One client: logs in, then loops over a fixed mix of writes and reads until `deadline` or
 * its request cap, one request at a time.
 * @param {number} client
 * @param {number} deadline `performance.now()` value to stop at
 * @param {Tally} tally
 * @returns {Promise<Written>}
 */
async function runClient(client, deadline, tally) {
  /** @type {Written} */
  const written = { profiles: new Map(), uploads: new Map() };
  const login = await send(tally, 'arrigoo login', '/auth/api', {
    method: 'POST',
    headers: JSON_TYPE,
    body: JSON.stringify({ key: 'load', secret: 'load-secret' }),
  });
  if (login === undefined) return written;
  const bearer = { authorization: `Bearer ${login.access_token}` };
  const cids = () => [...written.profiles.keys()];
  /** @param {number} step */
  const pick = (step) => {
    const all = cids();
    return all[step % all.length];
  };

  /** @param {number} step */
  async function upsertNew(step) {
    const email = `client${client}-step${step}@load.test`;
    const body = await send(tally, 'arrigoo put (new)', '/v1/customer', {
      method: 'PUT',
      headers: { ...bearer, ...JSON_TYPE },
      body: JSON.stringify({ ident: [{ id_type: 'email', id_value: email }], properties: { client, step } }),
    });
    if (body !== undefined) written.profiles.set(body.cid, { email, step, tags: new Set() });
  }

  /** @param {number} step */
  async function upsertExisting(step) {
    const cid = pick(step);
    const profile = written.profiles.get(cid);
    if (profile === undefined) return upsertNew(step);
    const body = await send(tally, 'arrigoo put (update)', '/v1/customer', {
      method: 'PUT',
      headers: { ...bearer, ...JSON_TYPE },
      body: JSON.stringify({ ident: [{ id_type: 'email', id_value: profile.email }], properties: { step } }),
    });
    if (body !== undefined) {
      check(tally, body.cid === cid, `an upsert by ${profile.email} answered ${body.cid}, not ${cid}`);
      profile.step = step;
    }
  }

  /** @param {number} step */
  async function addTag(step) {
    const cid = pick(step);
    const profile = written.profiles.get(cid);
    if (profile === undefined) return upsertNew(step);
    const tag = `tag-${step}`;
    const body = await send(tally, 'chartmogul tag add', `/v1/customers/cus_${cid}/attributes/tags`, {
      method: 'POST',
      headers: { authorization: CHARTMOGUL_AUTH, ...JSON_TYPE },
      body: JSON.stringify({ tags: [tag] }),
    });
    if (body !== undefined) profile.tags.add(tag);
  }

  /** @param {number} step */
  async function addTagByEmail(step) {
    const cid = pick(step);
    const profile = written.profiles.get(cid);
    if (profile === undefined) return upsertNew(step);
    const tag = `email-tag-${step}`;
    const body = await send(tally, 'chartmogul tag add by email', '/v1/customers/attributes/tags', {
      method: 'POST',
      headers: { authorization: CHARTMOGUL_AUTH, ...JSON_TYPE },
      body: JSON.stringify({ email: profile.email, tags: [tag] }),
    });
    if (body !== undefined) profile.tags.add(tag);
  }

  /** @param {number} step */
  async function removeTag(step) {
    const cid = pick(step);
    const profile = written.profiles.get(cid);
    const tag = profile === undefined ? undefined : [...profile.tags][0];
    if (profile === undefined || tag === undefined) return addTag(step);
    const body = await send(tally, 'chartmogul tag remove', `/v1/customers/cus_${cid}/attributes/tags`, {
      method: 'DELETE',
      headers: { authorization: CHARTMOGUL_AUTH, ...JSON_TYPE },
      body: JSON.stringify({ tags: [tag] }),
    });
    if (body !== undefined) profile.tags.delete(tag);
  }

  /** @param {number} step */
  async function upload(step) {
    const uploads = [...written.uploads.keys()];
    const customerId = step % 3 === 0 && uploads.length > 0 ? uploads[step % uploads.length] : `fa-${client}-${step}`;
    const body = await send(tally, 'followanalytics upload', '/api/attribute_values', {
      method: 'POST',
      headers: JSON_TYPE,
      body: JSON.stringify({
        sor: SOR,
        api_key: 'sor-key',
        customer_attribute_values: [{ customer_id: customerId, attribute_key: 'step', attribute_value: step }],
      }),
    });
    if (body !== undefined) {
      check(tally, body.result?.uploaded === 1, `upload for ${customerId}: ${JSON.stringify(body)}`);
      written.uploads.set(customerId, step);
    }
  }

  /** @param {number} step */
  async function searchPrimeData(step) {
    const cid = pick(step);
    const profile = written.profiles.get(cid);
    if (profile === undefined) return upsertNew(step);
    const body = await send(tally, 'primedata search', '/pub/profiles/advanced-search', {
      method: 'POST',
      headers: { 'x-api-key': 'pk1', ...JSON_TYPE },
      body: JSON.stringify({ identities: { email: [profile.email] }, type: ['trait'] }),
    });
    if (body !== undefined) {
      check(tally, body.data?.profile_id === cid, `search for ${profile.email} found ${body.data?.profile_id}, not ${cid}`);
      check(tally, body.data?.trait?.step === profile.step, `search for ${profile.email} saw step ${body.data?.trait?.step}, not ${profile.step}`);
    }
  }

  /** @param {number} step */
  async function readArrigoo(step) {
    const cid = pick(step);
    if (cid === undefined) return upsertNew(step);
    const body = await send(tally, 'arrigoo get', `/v1/customer/${cid}`, { headers: bearer });
    if (body !== undefined) check(tally, body.cid === cid, `GET /v1/customer/${cid} answered ${body.cid}`);
  }

  /** @param {number} step */
  async function readChartMogul(step) {
    const path = step % 2 === 0 ? '/v1/customers?per_page=20' : `/v1/customers/cus_${pick(step) ?? ''}`;
    if (path.endsWith('cus_')) return upsertNew(step);
    await send(tally, 'chartmogul read', path, { headers: { authorization: CHARTMOGUL_AUTH } });
  }

  /** @param {number} step */
  async function readFollowAnalytics(step) {
    const uploads = [...written.uploads.keys()];
    if (uploads.length === 0) return upload(step);
    const customerId = uploads[step % uploads.length];
    const body = await send(tally, 'followanalytics get', `/api/customer_profiles/${customerId}`, {
      headers: { authorization: 'Token token=fk1' },
    });
    if (body !== undefined) {
      const seen = body.result?.[0]?.attributes?.[SOR]?.step;
      check(tally, seen === written.uploads.get(customerId), `${customerId} read step ${seen}, not ${written.uploads.get(customerId)}`);
    }
  }

  const mix = [
    upsertNew,
    addTag,
    upload,
    searchPrimeData,
    upsertExisting,
    addTagByEmail,
    readArrigoo,
    removeTag,
    upsertNew,
    readChartMogul,
    addTag,
    readFollowAnalytics,
  ];
  for (let step = 0; step < MAX_REQUESTS_PER_CLIENT && performance.now() < deadline; step += 1) {
    const operation = mix[(step + client) % mix.length];
    await operation(step);
  }
  return written;
}

/**
 * Every ChartMogul customer, walking the cursor.
 * @returns {Promise<any[]>}
 */
async function allChartMogulCustomers() {
  const tally = new Tally();
  const customers = [];
  let path = '/v1/customers?per_page=200';
  for (;;) {
    const page = await send(tally, 'verify', path, { headers: { authorization: CHARTMOGUL_AUTH } });
    assert.ok(page !== undefined, `listing failed: ${[...tally.unexpected, ...tally.serverErrors, ...tally.transportErrors]}`);
    customers.push(...page.entries);
    if (!page.has_more) return customers;
    path = `/v1/customers?per_page=200&cursor=${encodeURIComponent(page.cursor)}`;
  }
}

/**
 * Every FollowAnalytics customer's attributes in the load SOR, by customer id.
 * @returns {Promise<Map<string, any>>}
 */
async function allFollowAnalyticsUploads() {
  const tally = new Tally();
  /** @type {Map<string, any>} */
  const byCustomer = new Map();
  for (let page = 1; ; page += 1) {
    const path = `/api/customer_profiles?num_per_page=2000&page=${page}&sor_identifiers=${SOR}`;
    const body = await send(tally, 'verify', path, { headers: { authorization: 'Token token=fk1' } });
    assert.ok(body !== undefined, `listing failed: ${[...tally.unexpected, ...tally.serverErrors, ...tally.transportErrors]}`);
    for (const profile of body.result.profiles) byCustomer.set(profile.customer_id, profile.attributes[SOR]);
    if (page >= body.result.total_pages) return byCustomer;
  }
}

test(
  `${CLIENTS} concurrent clients for ${SECONDS} s get no 5xx, no transport error, and lose no write`,
  { timeout: (SECONDS + 180) * 1000 },
  async (t) => {
    const tally = new Tally();
    const started = performance.now();
    const deadline = started + SECONDS * 1000;
    const clients = await Promise.all(Array.from({ length: CLIENTS }, (_, client) => runClient(client, deadline, tally)));
    const elapsedSeconds = (performance.now() - started) / 1000;
    assert.deepEqual({ code: server.exitCode, signal: server.signalCode }, { code: null, signal: null }, 'serve is still up');

    const rate = Math.round(tally.requests / elapsedSeconds);
    t.diagnostic(`${tally.requests} requests in ${elapsedSeconds.toFixed(1)} s: ${rate} requests/s`);
    for (const [kind, byStatus] of tally.statuses) {
      t.diagnostic(`${kind}: ${[...byStatus].map(([status, count]) => `${count} × ${status}`).join(', ')}`);
    }
    assert.deepEqual(tally.serverErrors.slice(0, 10), [], `${tally.serverErrors.length} answers were 5xx`);
    assert.deepEqual(tally.transportErrors.slice(0, 10), [], `${tally.transportErrors.length} transport errors`);
    assert.deepEqual(tally.unexpected.slice(0, 10), [], `${tally.unexpected.length} answers had another status`);

    const profiles = clients.flatMap((written) => [...written.profiles]);
    const uploads = clients.flatMap((written) => [...written.uploads]);
    const tags = profiles.reduce((sum, [, profile]) => sum + profile.tags.size, 0);
    t.diagnostic(`acknowledged: ${profiles.length} Arrigoo profiles holding ${tags} tags, ${uploads.length} FollowAnalytics customers`);
    assert.ok(clients.every((written) => written.profiles.size + written.uploads.size > 0), 'every client wrote');
    assert.ok(profiles.length > 0 && uploads.length > 0, 'through Arrigoo and FollowAnalytics');

    const customers = await allChartMogulCustomers();
    assert.equal(customers.length, profiles.length + uploads.length, 'one profile per acknowledged creation, no more');
    const byUuid = new Map(customers.map((customer) => [customer.uuid, customer]));
    for (const [cid, expected] of profiles) {
      const customer = byUuid.get(`cus_${cid}`);
      assert.ok(customer !== undefined, `profile ${cid} (${expected.email}) is listed`);
      assert.equal(customer.email, expected.email);
      assert.equal(customer.attributes.custom.step, expected.step, `${expected.email}: the last acknowledged update`);
      assert.deepEqual(customer.attributes.tags, [...expected.tags].sort(), `${expected.email}: tags`);
    }

    const stored = await allFollowAnalyticsUploads();
    assert.equal(stored.size, uploads.length);
    for (const [customerId, step] of uploads) {
      assert.deepEqual(stored.get(customerId), { step }, `FollowAnalytics customer ${customerId}`);
    }
  },
);
