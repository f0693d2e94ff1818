#!/usr/bin/env node
/**
 * Regenerates the README's benchmark table from the JSON of the last full run, between the
 * markers `<!-- bench:start -->` and `<!-- bench:end -->`. Every figure in that table comes
 * from the file; nothing is typed by hand.
 *
 *     node bench/readme-table.mjs [--from bench/results/full.json] [--readme README.md]
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { formatNumber, formatRatio, provenance } from './lib/report.mjs';

const root = new URL('..', import.meta.url).pathname;
const START = '<!-- bench:start -->';
const END = '<!-- bench:end -->';

/**
 * @param {any} row
 * @returns {string} the median with its unit, or why there is none
 */
function figure(row) {
  if (row.pending !== undefined) return `pending (${row.pending})`;
  if (row.failed !== undefined) return 'failed (see the results file)';
  return `${formatNumber(row.median)} ${row.unit}`;
}

/**
 * One line per case: our figure, then each peer's with how we compare.
 * @param {any} result a full run's JSON
 * @param {string} resultsLink where the full results page is, relative to the README
 * @returns {string} the markdown between the markers
 */
function readmeTable(result, resultsLink) {
  const { machine } = result;
  const page = resultsLink.replace(/\.json$/, '.md');
  const runs = provenance(result);
  const describe = (/** @type {ReturnType<typeof provenance>[number]} */ run) =>
    `${run.finished.slice(0, 10)}, cdp-engine ${result.ours.version} at ${run.commit}, Chromium ${run.browser} headless, load average ${run.loadAverage[0]}`;
  const when = runs.length === 1
    ? `Last full run: ${describe(runs[0])}`
    : `Full-size runs, one scenario set each: ${runs.map((run) => `scenario${run.scenarios.length > 1 ? 's' : ''} ${run.scenarios.join(', ')} on ${describe(run)}`).join('; ')}`;
  const lines = [
    `${when}; on ${machine.cpu} (${machine.nproc} cores, ${machine.memoryGiB} GiB). Medians over repetitions; every sample, p95, peer version and note in [${page}](${page}). The machine was shared with other builds, so figures are noisy. "×N ahead" means our median is N times better than that peer's.`,
    '',
    '| # | case | cdp-engine | peers (median, how we compare) |',
    '|---|---|---|---|',
  ];
  /** @type {Map<string, any[]>} */
  const cases = new Map();
  for (const row of result.rows) {
    const key = `${row.scenario}\u0000${row.case}`;
    cases.set(key, [...(cases.get(key) ?? []), row]);
  }
  for (const rows of cases.values()) {
    const ours = rows.filter((row) => String(row.engine).startsWith('cdp-engine'));
    const peers = rows.filter((row) => !String(row.engine).startsWith('cdp-engine'));
    const ourText = ours.map((row) => (row.engine === 'cdp-engine' ? figure(row) : `${row.engine.replace(/^cdp-engine,? ?/, '')}: ${figure(row)}`)).join('<br>') || '—';
    const peerText = peers.map((row) => `${row.engine}: ${figure(row)}${row.ratio != null ? `, ${formatRatio(row.ratio)}` : ''}`).join('<br>') || '—';
    lines.push(`| ${rows[0].scenario} | ${rows[0].case.replace(/\|/g, '\\|')} | ${ourText.replace(/\|/g, '\\|')} | ${peerText.replace(/\|/g, '\\|')} |`);
  }
  return lines.join('\n');
}

async function main() {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      from: { type: 'string', default: join(root, 'bench', 'results', 'full.json') },
      readme: { type: 'string', default: join(root, 'README.md') },
    },
  });
  const result = JSON.parse(await readFile(values.from, 'utf8'));
  if (result.mode !== 'full') throw new Error(`${values.from} is a ${result.mode} run; the README shows full runs only`);
  const readme = await readFile(values.readme, 'utf8');
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${values.readme} has no ${START} … ${END} block`);
  const link = relative(join(values.readme, '..'), values.from);
  const table = readmeTable(result, link);
  await writeFile(values.readme, `${readme.slice(0, start + START.length)}\n${table}\n${readme.slice(end)}`);
  process.stdout.write(`readme-table: ${values.readme} updated from ${values.from}\n`);
}

await main();
