#!/usr/bin/env node
/**
 * Two builds of the package side by side: runs one engine's steps of one scenario as the
 * suite does (each step in a freshly loaded page), alternating between the package
 * directories given, and prints each metric's median and minimum per directory. For
 * comparing code on a machine whose speed drifts: alternated runs in one process see the
 * same host; figures for the README still come from `run.mjs`.
 *
 *     cp -r pkg /tmp/pkg-before   # build the other version, then:
 *     node bench/ab.mjs --scenario persist --steps persist,reload --reps 8 /tmp/pkg-before pkg
 *
 * Options: `--engine` (default `cdp`), `--options '{"profiles":100000}'` (the scenario's
 * options; default: the full run's), `--reps N` (rounds, default 5; the order within a
 * round alternates).
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { launchChromium, startStaticServer } from '../tests/js/helpers/browser.mjs';
import { quantile } from './lib/stats.mjs';
import { runStep, scenarioOptions, stepPage } from './lib/steps.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    scenario: { type: 'string' },
    engine: { type: 'string', default: 'cdp' },
    steps: { type: 'string' },
    options: { type: 'string' },
    reps: { type: 'string', default: '5' },
  },
});
const { scenario, options } = scenarioOptions(values.scenario, values.options);
const steps = (values.steps ?? '').split(',').filter(Boolean);
if (steps.length === 0) throw new Error('--steps names the steps to run, in order');
if (positionals.length < 2) throw new Error('give two or more package directories');
const reps = Number(values.reps);

const servers = await Promise.all(positionals.map((directory) =>
  startStaticServer('bench', [`/pkg=${resolve(directory)}`, '/node_modules=node_modules'])));
const { context } = await launchChromium();
/** @type {Map<string, number[]>[]} metric name -> samples, per directory */
const samples = positionals.map(() => new Map());
try {
  for (let rep = 0; rep < reps; rep += 1) {
    const order = positionals.map((_, index) => index);
    if (rep % 2 === 1) order.reverse();
    for (const index of order) {
      /** @type {unknown} */
      let state;
      for (const step of steps) {
        const page = await stepPage(context, servers[index].origin);
        const result = await runStep(page, { scenario, engine: values.engine ?? 'cdp', step, options, state });
        state = result.state ?? state;
        for (const [metric, value] of Object.entries(result.metrics ?? {})) {
          const list = samples[index].get(metric) ?? [];
          list.push(...(Array.isArray(value) ? value : [value]));
          samples[index].set(metric, list);
        }
        await page.close();
      }
    }
  }
} finally {
  await Promise.all(servers.map((server) => server.stop()));
}
positionals.forEach((directory, index) => {
  for (const [metric, list] of samples[index]) {
    const figure = (/** @type {number} */ value) => String(Number(value.toPrecision(4)));
    const shown = list.map(figure).join(' ');
    console.log(`${directory}  ${metric}: median ${figure(quantile(list, 0.5))}, min ${figure(Math.min(...list))}  (${shown})`);
  }
});
process.exit(0);
