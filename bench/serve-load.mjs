/**
 * Scenario 7 through `serve`: starts `node pkg/serve.js`, creates the profiles over HTTP, then
 * drives `GET /v1/customer/{id}` with autocannon and reports requests per second.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { startNode, stopChild } from '../tests/js/helpers/processes.mjs';
import { arrigooSetup } from './pages/scenarios/rest.mjs';

const root = new URL('..', import.meta.url).pathname;

/**
 * One repetition: a fresh server, its profiles, one autocannon run.
 * @param {{ profiles: number, serveSeconds: number, connections: number }} options
 * @param {object} config the engine config (`serve --config`)
 * @returns {Promise<{ metrics: { perSecond: number, p99: number }, checks: object }>}
 */
export async function serveLoad(options, config) {
  const scratch = await mkdtemp(join(tmpdir(), 'cdp-bench-serve-'));
  const configPath = join(scratch, 'config.json');
  await writeFile(configPath, JSON.stringify(config));
  const { child, match } = await startNode(
    [join(root, 'pkg', 'serve.js'), '--port', '0', '--config', configPath],
    /^cdp-engine listening on (http:\/\/\S+)$/,
  );
  try {
    const origin = match[1];
    const { token, ids } = await arrigooSetup((url, init) => fetch(`${origin}${url}`, init), options.profiles);
    let next = 0;
    const result = await autocannon({
      url: origin,
      connections: options.connections,
      duration: options.serveSeconds,
      requests: [{
        method: 'GET',
        headers: { authorization: `Bearer ${token}` },
        setupRequest: (/** @type {any} */ request) => {
          next = (next + 1) % ids.length;
          return { ...request, path: `/v1/customer/${ids[next]}` };
        },
      }],
    });
    return {
      metrics: { perSecond: result.requests.average, p99: result.latency.p99 },
      checks: { ok: result['2xx'], non2xx: result.non2xx, errors: result.errors, timeouts: result.timeouts },
    };
  } finally {
    await stopChild(child);
    await rm(scratch, { recursive: true, force: true });
  }
}
