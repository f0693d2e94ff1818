#!/usr/bin/env node
/**
 * Where one scenario step spends its time: runs the steps of one engine's repetition as the
 * suite does (each in a freshly loaded page), records a CPU profile of the page during the
 * chosen step with Chromium's DevTools profiler, and prints the functions with the most
 * self time, with the callers of the heaviest. A profile, not a measurement: sampling slows
 * the step, so its time here is not a figure to quote.
 *
 *     make build-names   # wasm with function names, else wasm frames print as numbers
 *     node bench/profile.mjs --scenario persist --engine cdp --steps persist,reload --profile reload
 *
 * Options: `--options '{"profiles":100000}'` (the scenario's options; default: the full
 * run's), `--top N` (rows, default 30), `--out FILE` (the `.cpuprofile`, for DevTools).
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { launchChromium, startStaticServer } from '../tests/js/helpers/browser.mjs';
import { runStep, scenarioOptions, stepPage } from './lib/steps.mjs';

const { values } = parseArgs({
  options: {
    scenario: { type: 'string' },
    engine: { type: 'string', default: 'cdp' },
    steps: { type: 'string' },
    profile: { type: 'string' },
    options: { type: 'string' },
    top: { type: 'string', default: '30' },
    out: { type: 'string' },
  },
});
const { scenario, options } = scenarioOptions(values.scenario, values.options);
const steps = (values.steps ?? values.profile ?? '').split(',').filter(Boolean);
const profiled = values.profile ?? steps[steps.length - 1];
if (!steps.includes(profiled)) throw new Error('--profile names one of --steps');

const server = await startStaticServer('bench', ['/pkg=pkg', '/node_modules=node_modules']);
const { context } = await launchChromium();
try {
  /** @type {unknown} */
  let state;
  for (const step of steps) {
    const page = await stepPage(context, server.origin);
    const session = step === profiled ? await context.newCDPSession(page) : undefined;
    if (session !== undefined) {
      await session.send('Profiler.enable');
      await session.send('Profiler.setSamplingInterval', { interval: 100 });
      await session.send('Profiler.start');
    }
    const result = await runStep(page, { scenario, engine: values.engine ?? 'cdp', step, options, state });
    state = result.state ?? state;
    if (session !== undefined) {
      const { profile } = await session.send('Profiler.stop');
      console.log(`${step}: ${JSON.stringify(result.metrics)} (slowed by sampling)`);
      report(profile, Number(values.top));
      if (values.out !== undefined) await writeFile(values.out, JSON.stringify(profile));
    }
    await page.close();
  }
} finally {
  await server.stop();
}
process.exit(0);

/**
 * Prints self time per function and the callers of the five heaviest.
 * @param {{ nodes: { id: number, callFrame: { functionName: string, url: string }, children?: number[] }[], samples: number[], timeDeltas: number[] }} profile
 * @param {number} top
 */
function report(profile, top) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const name = (/** @type {number} */ id) => {
    const { functionName, url } = nodes.get(id)?.callFrame ?? { functionName: '?', url: '' };
    return (functionName || `(${url.split('/').pop()})`).replace(/::h[0-9a-f]{16}$/, '');
  };
  /** @type {Map<number, number>} microseconds of self time per node */
  const selfTime = new Map();
  profile.samples.forEach((id, index) => selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)));
  /** @type {Map<string, number>} */
  const byName = new Map();
  for (const [id, time] of selfTime) byName.set(name(id), (byName.get(name(id)) ?? 0) + time);
  const total = [...byName.values()].reduce((sum, time) => sum + time, 0);
  const ranked = [...byName.entries()].sort((a, b) => b[1] - a[1]);
  const ms = (/** @type {number} */ time) => `${(time / 1000).toFixed(1).padStart(8)} ms`;
  console.log(`${ms(total)} sampled`);
  for (const [label, time] of ranked.slice(0, top)) console.log(`${ms(time)}  ${label.slice(0, 160)}`);
  for (const [label] of ranked.filter(([label]) => !label.startsWith('(')).slice(0, 5)) {
    /** @type {Map<string, number>} */
    const callers = new Map();
    for (const [id, time] of selfTime) {
      if (name(id) !== label) continue;
      const chain = [];
      for (let parent = parents.get(id); parent !== undefined && chain.length < 3; parent = parents.get(parent)) {
        chain.push(name(parent).slice(0, 80));
      }
      callers.set(chain.join(' <- '), (callers.get(chain.join(' <- ')) ?? 0) + time);
    }
    console.log(`callers of ${label.slice(0, 100)}:`);
    for (const [chain, time] of [...callers.entries()].sort((a, b) => b[1] - a[1]).slice(0, 4)) {
      console.log(`${ms(time)}  <- ${chain}`);
    }
  }
}
