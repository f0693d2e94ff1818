/**
 * Scenario 7: REST round trips, in the page through `cdp.fetch` and over HTTP through `serve`
 * (autocannon, 50 connections), on the same profiles:
 *
 * - PrimeData `POST /pub/profiles/advanced-search` by email (`x-api-key`), cycling over the
 *   profiles; every answer must name the profile the email belongs to;
 * - ChartMogul `GET /v1/customers?page=N&per_page=20` (HTTP Basic), cycling over the pages;
 *   every answer must hold a full page (or the rest, on the last);
 * - Arrigoo `GET /v1/customer/{id}` (Bearer token), cycling over the profiles.
 *
 * The profiles are created through Arrigoo `PUT /v1/customer` (not timed).
 */
import { profileRecords } from '../../lib/data.mjs';
import { freshName } from '../runner.mjs';

/** The credentials the scenario uses, in the page and in `serve`. */
export const CONFIG = {
  arrigoo: { apiKeys: [{ key: 'bench', secret: 'bench-secret', role: 'admin' }] },
  chartmogul: { accounts: [{ token: 'bench', secret: 'bench-secret' }] },
  primedata: { apiKeys: ['bench-key'] },
};
/** Customers per ChartMogul page. */
export const PER_PAGE = 20;

/** @type {Record<string, string>} */
export const CASES = {
  primedata: 'PrimeData profile search (POST /pub/profiles/advanced-search by email)',
  chartmogul: `ChartMogul customer page (GET /v1/customers, ${PER_PAGE} per page)`,
  arrigoo: 'Arrigoo GET /v1/customer/{id}',
};

/**
 * @param {{ profiles: number, requests: number, reps: number, serveSeconds: number, connections: number }} options
 */
export function plan(options) {
  const scenario = 7;
  const base = { scenario, unit: 'requests/s', better: /** @type {const} */ ('higher') };
  const inPage = 'cdp-engine, in the page (cdp.fetch)';
  const serve = `cdp-engine, serve (${options.connections} connections)`;
  /** @type {Record<string, object>} */
  const pageRows = {};
  /** @type {Record<string, object>} */
  const serveRows = {};
  for (const [key, what] of Object.entries(CASES)) {
    pageRows[key] = { ...base, case: what, engine: inPage, note: `${options.requests.toLocaleString('en')} sequential requests over ${options.profiles} profiles; every answer read and checked` };
    serveRows[key] = { ...base, case: what, engine: serve, note: `autocannon for ${options.serveSeconds} s per repetition, load generator on the same machine` };
    serveRows[`${key}P99`] = { scenario, case: `${what}, p99 latency`, engine: serve, unit: 'ms', better: 'lower', note: 'autocannon latency p99' };
  }
  return {
    scenario,
    title: `REST round trips (${options.profiles.toLocaleString('en')} profiles)`,
    tasks: [
      { engine: 'cdp', steps: ['fetch'], reps: options.reps, rows: pageRows },
      {
        engine: 'serve', reps: options.reps,
        node: async (/** @type {any} */ runOptions) => (await import('../../serve-load.mjs')).serveLoad(runOptions, CONFIG),
        rows: serveRows,
      },
    ],
    pending: [],
  };
}

/**
 * Logs in through `fetchLike` and creates the profiles; returns the token, ids and emails.
 * @param {(url: string, init?: RequestInit) => Promise<Response>} fetchLike
 * @param {number} count
 * @returns {Promise<{ token: string, ids: string[], emails: string[] }>}
 */
export async function arrigooSetup(fetchLike, count) {
  const { key, secret } = CONFIG.arrigoo.apiKeys[0];
  const login = await fetchLike('/auth/api', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key, secret }),
  });
  const token = (await login.json()).access_token;
  const ids = [];
  const emails = [];
  for (const record of profileRecords(count)) {
    const response = await fetchLike('/v1/customer', {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ident: [{ id_type: 'email', id_value: record.email }], properties: { name: record.attributes.name } }),
    });
    if (!response.ok) throw new Error(`PUT /v1/customer answered ${response.status}`);
    ids.push((await response.json()).cid);
    emails.push(record.email);
  }
  return { token, ids, emails };
}

/** The ChartMogul `Authorization` header. */
export function chartMogulAuthorization() {
  const { token, secret } = CONFIG.chartmogul.accounts[0];
  return `Basic ${btoa(`${token}:${secret}`)}`;
}

/**
 * The request of number `i` of a case, as `{ method, path, headers, body }`.
 * @param {string} key the case
 * @param {number} i
 * @param {{ token: string, ids: string[], emails: string[] }} setup
 */
export function requestOf(key, i, setup) {
  if (key === 'primedata') {
    return {
      method: 'POST',
      path: '/pub/profiles/advanced-search',
      headers: { 'x-api-key': CONFIG.primedata.apiKeys[0], 'content-type': 'application/json' },
      body: JSON.stringify({ identities: { email: [setup.emails[i % setup.emails.length]] } }),
    };
  }
  if (key === 'chartmogul') {
    const pages = Math.ceil(setup.ids.length / PER_PAGE);
    return { method: 'GET', path: `/v1/customers?page=${(i % pages) + 1}&per_page=${PER_PAGE}`, headers: { authorization: chartMogulAuthorization() } };
  }
  return { method: 'GET', path: `/v1/customer/${setup.ids[i % setup.ids.length]}`, headers: { authorization: `Bearer ${setup.token}` } };
}

/**
 * Whether the answer to request `i` of a case is the right one.
 * @param {string} key
 * @param {number} i
 * @param {{ ids: string[], emails: string[] }} setup
 * @param {number} status
 * @param {any} body parsed JSON
 */
export function answerIsRight(key, i, setup, status, body) {
  if (status !== 200) return false;
  if (key === 'primedata') return body.data?.profile_id === setup.ids[i % setup.ids.length];
  if (key === 'chartmogul') {
    const pages = Math.ceil(setup.ids.length / PER_PAGE);
    const page = (i % pages) + 1;
    return body.entries?.length === Math.min(PER_PAGE, setup.ids.length - (page - 1) * PER_PAGE);
  }
  return body.cid === setup.ids[i % setup.ids.length];
}

export const steps = {
  /**
   * Sequential `cdp.fetch` requests of each case, cycling over the profiles; every answer is
   * read and checked.
   * @param {string} engine
   * @param {{ profiles: number, requests: number }} options
   */
  async fetch(engine, options) {
    const { Cdp } = await import('/pkg/index.js');
    const cdp = await Cdp.open({ name: freshName('bench-rest'), storage: 'memory', config: CONFIG });
    const setup = await arrigooSetup((url, init) => cdp.fetch(url, init), options.profiles);
    /** @type {Record<string, number>} */
    const metrics = {};
    /** @type {Record<string, number>} */
    const wrong = {};
    for (const key of Object.keys(CASES)) {
      wrong[key] = 0;
      const start = performance.now();
      for (let i = 0; i < options.requests; i += 1) {
        const { method, path, headers, body } = requestOf(key, i, setup);
        const response = await cdp.fetch(path, { method, headers, body });
        if (!answerIsRight(key, i, setup, response.status, await response.json())) wrong[key] += 1;
      }
      metrics[key] = options.requests / ((performance.now() - start) / 1000);
    }
    await cdp.close();
    return { metrics, checks: { profiles: setup.ids.length, wrongAnswers: wrong } };
  },
};
