/**
 * Scenario 7: REST round trips, in the page through `cdp.fetch` and over HTTP through
 * `serve` (autocannon, 50 connections). The PrimeData profile search and the ChartMogul
 * customer page are not served yet, so their rows are pending; meanwhile the Arrigoo
 * `GET /v1/customer/{id}` is measured in the same places, labelled as the stand-in it is.
 */
import { profileRecords } from '../../lib/data.mjs';
import { pending } from '../../lib/stats.mjs';
import { freshName } from '../runner.mjs';

/** The Arrigoo key the scenario logs in with, in the page and in `serve`. */
export const CONFIG = { arrigoo: { apiKeys: [{ key: 'bench', secret: 'bench-secret', role: 'admin' }] } };
const STAND_IN = 'Arrigoo GET /v1/customer/{id} (stand-in, not the PrimeData/ChartMogul calls)';

/**
 * @param {{ profiles: number, requests: number, reps: number, serveSeconds: number, connections: number }} options
 */
export function plan(options) {
  const scenario = 7;
  const base = { scenario, unit: 'requests/s', better: /** @type {const} */ ('higher') };
  const inPage = 'cdp-engine, in the page (cdp.fetch)';
  const serve = `cdp-engine, serve (${options.connections} connections)`;
  const pendingRows = [];
  for (const what of ['PrimeData profile search', 'ChartMogul customer page']) {
    const missing = `${what.split(' ')[0]} dialect (dialects branch)`;
    pendingRows.push(pending({ ...base, case: what, engine: inPage }, missing));
    pendingRows.push(pending({ ...base, case: what, engine: serve }, missing));
  }
  return {
    scenario,
    title: `REST round trips (${options.profiles.toLocaleString('en')} profiles)`,
    tasks: [
      {
        engine: 'cdp', steps: ['fetch'], reps: options.reps,
        rows: { perSecond: { ...base, case: STAND_IN, engine: inPage, note: `${options.requests.toLocaleString('en')} sequential requests over ${options.profiles} profiles` } },
      },
      {
        engine: 'serve', reps: options.reps,
        node: async (/** @type {any} */ runOptions) => (await import('../../serve-load.mjs')).serveLoad(runOptions, CONFIG),
        rows: {
          perSecond: { ...base, case: STAND_IN, engine: serve, note: `autocannon for ${options.serveSeconds} s per repetition, load generator on the same machine` },
          p99: { scenario, case: `${STAND_IN}, p99 latency`, engine: serve, unit: 'ms', better: 'lower', note: 'autocannon latency p99' },
        },
      },
    ],
    pending: pendingRows,
  };
}

/**
 * Logs in through `fetchLike` and creates the profiles; returns the token and the ids.
 * @param {(url: string, init?: RequestInit) => Promise<Response>} fetchLike
 * @param {number} count
 * @returns {Promise<{ token: string, ids: string[] }>}
 */
export async function arrigooSetup(fetchLike, count) {
  const { key, secret } = CONFIG.arrigoo.apiKeys[0];
  const login = await fetchLike('/auth/api', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key, secret }),
  });
  const token = (await login.json()).access_token;
  const ids = [];
  for (const record of profileRecords(count)) {
    const response = await fetchLike('/v1/customer', {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ident: [{ id_type: 'email', id_value: record.email }], properties: { name: record.attributes.name } }),
    });
    if (!response.ok) throw new Error(`PUT /v1/customer answered ${response.status}`);
    ids.push((await response.json()).cid);
  }
  return { token, ids };
}

export const steps = {
  /**
   * Sequential `cdp.fetch` GETs, cycling over the profiles; every answer is read and checked.
   * @param {string} engine
   * @param {{ profiles: number, requests: number }} options
   */
  async fetch(engine, options) {
    const { Cdp } = await import('/pkg/index.js');
    const cdp = await Cdp.open({ name: freshName('bench-rest'), storage: 'memory', config: CONFIG });
    const { token, ids } = await arrigooSetup((url, init) => cdp.fetch(url, init), options.profiles);
    const headers = { authorization: `Bearer ${token}` };
    let failures = 0;
    const start = performance.now();
    for (let i = 0; i < options.requests; i += 1) {
      const response = await cdp.fetch(`/v1/customer/${ids[i % ids.length]}`, { headers });
      await response.text();
      if (response.status !== 200) failures += 1;
    }
    const perSecond = options.requests / ((performance.now() - start) / 1000);
    await cdp.close();
    return { metrics: { perSecond }, checks: { failures } };
  },
};
