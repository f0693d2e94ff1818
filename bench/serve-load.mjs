/**
 * Scenario 7 through `serve`: starts `node pkg/serve.js`, creates the profiles over HTTP, then
 * drives each case's requests with autocannon and reports requests per second and p99 latency.
 * A sample of the answers is checked the way the page checks every answer.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { startNode, stopChild } from '../tests/js/helpers/processes.mjs';
import { CASES, answerIsRight, arrigooSetup, requestOf } from './pages/scenarios/rest.mjs';

const root = new URL('..', import.meta.url).pathname;
/** Answers checked per case before the load (every one in the page). */
const CHECKED = 50;

/**
 * One repetition: a fresh server, its profiles, one autocannon run per case.
 * @param {{ profiles: number, serveSeconds: number, connections: number }} options
 * @param {object} config the engine config (`serve --config`)
 * @returns {Promise<{ metrics: Record<string, number>, checks: object }>}
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
    const setup = await arrigooSetup((url, init) => fetch(`${origin}${url}`, init), options.profiles);
    /** @type {Record<string, number>} */
    const metrics = {};
    /** @type {Record<string, object>} */
    const checks = {};
    for (const key of Object.keys(CASES)) {
      let wrong = 0;
      for (let i = 0; i < CHECKED; i += 1) {
        const { method, path, headers, body } = requestOf(key, i, setup);
        const response = await fetch(`${origin}${path}`, { method, headers, body });
        if (!answerIsRight(key, i, setup, response.status, await response.json())) wrong += 1;
      }
      let next = 0;
      const result = await autocannon({
        url: origin,
        connections: options.connections,
        duration: options.serveSeconds,
        requests: [{
          setupRequest: (/** @type {any} */ request) => {
            const { method, path, headers, body } = requestOf(key, next, setup);
            next += 1;
            return { ...request, method, path, headers, body };
          },
        }],
      });
      metrics[key] = result.requests.average;
      metrics[`${key}P99`] = result.latency.p99;
      checks[key] = { wrongOfChecked: wrong, ok: result['2xx'], non2xx: result.non2xx, errors: result.errors, timeouts: result.timeouts };
    }
    return { metrics, checks };
  } finally {
    await stopChild(child);
    await rm(scratch, { recursive: true, force: true });
  }
}
