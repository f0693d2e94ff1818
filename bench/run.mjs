#!/usr/bin/env node
/**
 * The benchmark suite: one headless Chromium (pages served with COOP/COEP headers, so the page
 * is cross-origin isolated and `performance.now()` is precise), one seeded data set, every
 * scenario on our engine and on its peers.
 *
 *     node bench/run.mjs [--quick] [--only 1,3 [--merge]] [--out bench/results]
 *
 * Writes `<out>/<full|quick>.json` (every sample, median, p95, ratios, browser, machine, peer
 * versions) and `<out>/<full|quick>.md` (the table). Needs `make build` first (pkg/).
 * `--merge` replaces only the scenarios named by `--only` in the existing result file and
 * records that re-run (time, load) in the file, for a scenario whose run broke.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { launchChromium, startStaticServer } from '../tests/js/helpers/browser.mjs';
import { machineInfo, ourVersion, peerVersions } from './lib/machine.mjs';
import { renderMarkdown } from './lib/report.mjs';
import { measured, withRatios } from './lib/stats.mjs';
import { SEED } from './lib/data.mjs';
import { OPTIONS } from './options.mjs';

const root = new URL('..', import.meta.url).pathname;

/** The scenario modules in order; page scenarios live in bench/pages/scenarios/. */
const SCENARIOS = [
  { id: 1, module: './pages/scenarios/identity.mjs', page: 'identity' },
  { id: 2, module: './pages/scenarios/segments.mjs', page: 'segments' },
  { id: 3, module: './pages/scenarios/persist.mjs', page: 'persist' },
  { id: 4, module: './pages/scenarios/latency.mjs', page: 'latency' },
  { id: 5, module: './pages/scenarios/startup.mjs', page: 'startup' },
  { id: 6, module: './pages/scenarios/ingest.mjs', page: 'ingest' },
  { id: 7, module: './pages/scenarios/rest.mjs', page: 'rest' },
];

/**
 * @typedef {object} Task one engine's share of a scenario
 * @property {string} engine key the scenario's steps understand
 * @property {string[]} [steps] page steps of one repetition, each in a freshly loaded page
 * @property {(options: object) => Promise<{ metrics: Record<string, number | number[]>, checks?: object }>} [node]
 *   a repetition run in Node instead of the page
 * @property {number} reps
 * @property {Record<string, object>} rows metric name → row fields
 */

/**
 * @param {string[]} argv
 * @returns {{ quick: boolean, only: Set<number> | null, merge: boolean, out: string }}
 */
function parseCommandLine(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      merge: { type: 'boolean', default: false },
      out: { type: 'string', default: join(root, 'bench', 'results') },
    },
  });
  const only = values.only === undefined ? null : new Set(values.only.split(',').map(Number));
  if (values.merge && only === null) throw new Error('--merge needs --only');
  return { quick: values.quick, only, merge: values.merge, out: values.out };
}

/**
 * Runs one page step in a freshly navigated page, so no step inherits another's heap.
 * @param {import('playwright-core').BrowserContext} context
 * @param {string} origin
 * @param {[string, string, string, object, unknown]} args runStep's arguments
 */
async function pageStep(context, origin, args) {
  const page = await context.newPage();
  /** @type {string[]} */
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  try {
    await page.goto(`${origin}/pages/index.html`);
    return await page.evaluate(
      async ([scenario, engine, step, options, state]) =>
        (await import('/pages/runner.mjs')).runStep(scenario, engine, step, options, state),
      args,
    );
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new Error([message, ...errors].join('; '));
  } finally {
    await page.close();
  }
}

/**
 * Runs every repetition of one task and turns its figures into rows.
 * @param {Task} task
 * @param {{ page: string, options: object, context: import('playwright-core').BrowserContext, origin: string }} where
 * @returns {Promise<object[]>}
 */
async function runTask(task, where) {
  /** @type {Record<string, number[]>} */
  const samples = {};
  /** @type {object[]} */
  const checks = [];
  for (let rep = 0; rep < task.reps; rep += 1) {
    /** @type {unknown} */
    let state;
    for (const step of task.steps ?? ['node']) {
      const result = task.node !== undefined
        ? await task.node(where.options)
        : await pageStep(where.context, where.origin, [where.page, task.engine, step, where.options, state]);
      state = result.state;
      if (result.checks !== undefined) checks.push(result.checks);
      for (const [metric, value] of Object.entries(result.metrics)) {
        (samples[metric] ??= []).push(...(Array.isArray(value) ? value : [value]));
      }
    }
  }
  return Object.entries(task.rows).map(([metric, fields]) => {
    const row = measured(/** @type {any} */ (fields), samples[metric] ?? []);
    return checks.length > 0 ? { ...row, checks: checks[0] } : row;
  });
}

/**
 * The browser's own description of itself, from a page of the suite.
 * @param {import('playwright-core').BrowserContext} context
 * @param {string} origin
 */
async function browserInfo(context, origin) {
  const page = await context.newPage();
  await page.goto(`${origin}/pages/index.html`);
  const info = await page.evaluate(() => ({
    userAgent: navigator.userAgent,
    crossOriginIsolated: globalThis.crossOriginIsolated,
    hardwareConcurrency: navigator.hardwareConcurrency,
  }));
  await page.close();
  return { version: context.browser()?.version() ?? 'unknown', ...info };
}

/**
 * An earlier result file with the scenarios in `only` replaced by this run's, and the re-run
 * recorded (when, on what load, which browser) so the file says it was not one run.
 * @param {any} earlier
 * @param {any} rerun
 * @param {Set<number>} only
 * @returns {any}
 */
function mergeInto(earlier, rerun, only) {
  const keep = (/** @type {any} */ item) => !only.has(item.scenario ?? item.id);
  return {
    ...earlier,
    reruns: [...(earlier.reruns ?? []), {
      scenarios: [...only].sort(), started: rerun.started, finished: rerun.finished,
      loadAverage: rerun.machine.loadAverage, browser: rerun.browser.version, ours: rerun.ours,
    }],
    scenarios: [...earlier.scenarios.filter(keep), ...rerun.scenarios].sort((a, b) => a.id - b.id),
    rows: [...earlier.rows.filter(keep), ...rerun.rows].sort((a, b) => a.scenario - b.scenario),
  };
}

async function main() {
  const { quick, only, merge, out } = parseCommandLine(process.argv.slice(2));
  if (!existsSync(join(root, 'pkg', 'cdp_engine_bg.wasm'))) {
    process.stderr.write('bench: pkg/ is missing; run `make build` first\n');
    process.exit(2);
  }
  const options = quick ? OPTIONS.quick : OPTIONS.full;
  const started = new Date();
  const machine = machineInfo();
  const server = await startStaticServer('bench', ['/pkg=pkg', '/node_modules=node_modules']);
  const browser = await launchChromium();
  /** @type {object[]} */
  const rows = [];
  /** @type {object[]} */
  const scenarios = [];
  try {
    const browserDetails = await browserInfo(browser.context, server.origin);
    if (!browserDetails.crossOriginIsolated) throw new Error('the bench page is not cross-origin isolated');
    for (const { id, module, page } of SCENARIOS) {
      if (only !== null && !only.has(id)) continue;
      const scenarioOptions = /** @type {any} */ (options)[`s${id}`];
      const plan = (await import(module)).plan(scenarioOptions);
      scenarios.push({ id, title: plan.title, options: scenarioOptions });
      for (const task of plan.tasks) {
        const begun = performance.now();
        try {
          rows.push(...(await runTask(task, { page, options: scenarioOptions, context: browser.context, origin: server.origin })));
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error);
          for (const fields of Object.values(task.rows)) rows.push({ ...fields, failed: reason });
        }
        process.stderr.write(`bench: scenario ${id} ${task.engine}: ${((performance.now() - begun) / 1000).toFixed(1)} s\n`);
      }
      rows.push(...plan.pending);
      if (plan.summarize !== undefined) rows.push(...(await plan.summarize(rows, root)));
    }
    const finished = new Date();
    const result = {
      mode: quick ? 'quick' : 'full',
      started: started.toISOString(),
      finished: finished.toISOString(),
      seed: SEED,
      noise: 'Measured on a shared machine where other builds may run at the same time: figures are noisy; compare medians.',
      machine: { ...machine, loadAverageAfter: machineInfo().loadAverage },
      browser: browserDetails,
      ours: ourVersion(root),
      peers: peerVersions(root),
      scenarios,
      rows: withRatios(/** @type {any} */ (rows)).sort((a, b) => a.scenario - b.scenario),
    };
    await mkdir(out, { recursive: true });
    const base = join(out, result.mode);
    const written = merge && only !== null ? mergeInto(JSON.parse(await readFile(`${base}.json`, 'utf8')), result, only) : result;
    await writeFile(`${base}.json`, `${JSON.stringify(written, null, 2)}\n`);
    await writeFile(`${base}.md`, renderMarkdown(written));
    process.stderr.write(`bench: wrote ${relative(process.cwd(), base)}.json and .md in ${((finished - started) / 1000).toFixed(0)} s\n`);
  } finally {
    await browser.close();
    await server.stop();
  }
}

await main();
