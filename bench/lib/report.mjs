/**
 * Renders a result file (bench/run.mjs's JSON) as markdown: run metadata, then one table per
 * scenario. Used for bench/results/*.md and for the README's table.
 */

/**
 * A figure with three significant digits and thousands separators.
 * @param {number | undefined} value
 * @returns {string}
 */
export function formatNumber(value) {
  if (value === undefined || !Number.isFinite(value)) return '—';
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : Math.abs(value) >= 1 ? 2 : 3;
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

/**
 * "×2.4 ahead" / "×0.31 (behind)": how many times better our figure is than the peer's.
 * @param {number | null | undefined} ratio
 * @returns {string}
 */
export function formatRatio(ratio) {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return '—';
  return ratio >= 1 ? `×${formatNumber(ratio)} ahead` : `×${formatNumber(ratio)} (behind)`;
}

/**
 * @param {string} text
 * @returns {string} safe inside a markdown table cell
 */
function cell(text) {
  return String(text).replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/**
 * One scenario's table.
 * @param {any[]} rows that scenario's rows
 * @returns {string[]} markdown lines
 */
export function scenarioTable(rows) {
  const cases = [...new Set(rows.map((row) => row.case))];
  const ours = (/** @type {any} */ row) => (String(row.engine).startsWith('cdp-engine') ? 0 : 1);
  const ordered = [...rows].sort((a, b) => cases.indexOf(a.case) - cases.indexOf(b.case) || ours(a) - ours(b));
  const lines = [
    '| case | engine | median | p95 | samples | unit | cdp-engine vs this | note |',
    '|---|---|---:|---:|---:|---|---|---|',
  ];
  for (const row of ordered) {
    const status = row.pending !== undefined ? `pending: ${row.pending}` : row.failed !== undefined ? `failed: ${row.failed}` : '';
    const note = [status, row.note ?? ''].filter((part) => part !== '').join('; ');
    lines.push(`| ${cell(row.case)} | ${cell(row.engine)} | ${formatNumber(row.median)} | ${formatNumber(row.p95)} | ${row.samples?.length ?? 0} | ${cell(row.unit)} | ${formatRatio(row.ratio)} | ${cell(note)} |`);
  }
  return lines;
}

/**
 * Which run each scenario's rows come from: the original run, or the last re-run that named
 * it (`run.mjs --only N --merge`). Groups scenarios that share a run, in the order the runs
 * happened, each with its date, engine commit, browser and load.
 * @param {any} result
 * @returns {{ scenarios: number[], finished: string, commit: string, browser: string, loadAverage: number[] }[]}
 */
export function provenance(result) {
  const commitOf = (/** @type {any} */ ours) => `${ours.engineCommit ?? ours.commit}${ours.dirty ? ' (with uncommitted changes)' : ''}`;
  const runs = [
    { finished: result.finished, commit: commitOf(result.ours), browser: result.browser.version, loadAverage: result.machine.loadAverage },
    ...(result.reruns ?? []).map((/** @type {any} */ rerun) => ({
      finished: rerun.finished, commit: commitOf(rerun.ours), browser: rerun.browser, loadAverage: rerun.loadAverage,
    })),
  ];
  /** @type {Map<number, number>} scenario → index in runs */
  const from = new Map(result.scenarios.map((/** @type {any} */ scenario) => [scenario.id, 0]));
  (result.reruns ?? []).forEach((/** @type {any} */ rerun, index) => {
    for (const id of rerun.scenarios) from.set(id, index + 1);
  });
  return runs
    .map((run, index) => ({ ...run, scenarios: [...from].filter(([, run]) => run === index).map(([id]) => id).sort((a, b) => a - b) }))
    .filter((run) => run.scenarios.length > 0);
}

/**
 * The run's metadata as a short list.
 * @param {any} result
 * @returns {string[]}
 */
export function metadataLines(result) {
  const { machine, browser, peers, ours } = result;
  const peerList = Object.entries(peers).map(([name, version]) => `${name} ${version}`).join(', ');
  return [
    `- run: ${result.mode}, ${result.started} → ${result.finished}, seed ${result.seed}`,
    `- machine: ${machine.cpu}, ${machine.nproc} cores (nproc), ${machine.memoryGiB} GiB, ${machine.os}; load average ${machine.loadAverage.join(' / ')} before, ${machine.loadAverageAfter.join(' / ')} after`,
    `- browser: Chromium ${browser.version} headless, cross-origin isolated: ${browser.crossOriginIsolated}; Node ${machine.node}`,
    `- cdp-engine ${ours.version}, engine sources at ${ours.engineCommit ?? ours.commit}${ours.dirty ? ' (with uncommitted changes)' : ''}, suite at ${ours.commit}`,
    `- peers: ${peerList}`,
    ...(result.reruns ?? []).map((/** @type {any} */ rerun) =>
      `- scenario ${rerun.scenarios.join(', ')} re-run alone: ${rerun.started} → ${rerun.finished}, engine sources at ${rerun.ours?.engineCommit ?? rerun.ours?.commit ?? 'unknown'}, load average ${rerun.loadAverage.join(' / ')}, Chromium ${rerun.browser}`),
    `- ${result.noise}`,
    '- "cdp-engine vs this" is how many times better our median is than this row\'s median (higher throughput or lower time); > 1 means we are ahead. p95 is over repetitions (nearest rank; with few repetitions it is the slowest one).',
  ];
}

/**
 * The whole result file as a markdown page.
 * @param {any} result
 * @returns {string}
 */
export function renderMarkdown(result) {
  const lines = [`# cdp-engine benchmarks (${result.mode} run)`, '', ...metadataLines(result), ''];
  for (const scenario of result.scenarios) {
    lines.push(`## ${scenario.id}. ${scenario.title}`, '');
    lines.push(...scenarioTable(result.rows.filter((/** @type {any} */ row) => row.scenario === scenario.id)), '');
  }
  return `${lines.join('\n')}\n`;
}
