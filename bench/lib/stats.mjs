/**
 * Summary statistics and result rows, shared by the page and the Node driver.
 */

/**
 * The q-quantile by nearest rank (q = 0.5 is the median, 0.95 the p95). With few samples the
 * p95 is the largest sample, which is what it should be.
 * @param {number[]} samples
 * @param {number} q in (0, 1]
 * @returns {number}
 */
export function quantile(samples, q) {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((x, y) => x - y);
  if (q === 0.5 && sorted.length % 2 === 0) {
    const middle = sorted.length / 2;
    return (sorted[middle - 1] + sorted[middle]) / 2;
  }
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/**
 * @typedef {object} Row one line of the results: one engine on one case of one scenario
 * @property {number} scenario 1 to 7
 * @property {string} case what is measured, e.g. "upsert, one call per record"
 * @property {string} engine e.g. "cdp-engine (IndexedDB)", "PGlite (memory)"
 * @property {string} unit e.g. "upserts/s", "ms"
 * @property {'higher' | 'lower'} better which direction is good
 * @property {number[]} [samples] one figure per repetition
 * @property {number} [median]
 * @property {number} [p95]
 * @property {string} [pending] why there is no figure yet
 * @property {string} [versus] for a peer: the engine label of our row it is compared with
 * @property {string} [note] anything a reader needs to interpret the figure
 */

/**
 * A measured row: samples plus their median and p95.
 * @param {Omit<Row, 'samples' | 'median' | 'p95' | 'pending'>} fields
 * @param {number[]} samples
 * @returns {Row}
 */
export function measured(fields, samples) {
  return { ...fields, samples, median: quantile(samples, 0.5), p95: quantile(samples, 0.95) };
}

/**
 * A row whose figure cannot be measured yet, saying what is missing.
 * @param {Omit<Row, 'samples' | 'median' | 'p95' | 'pending'>} fields
 * @param {string} missing
 * @returns {Row}
 */
export function pending(fields, missing) {
  return { ...fields, pending: missing };
}

/**
 * How many times better our row is than a peer's (> 1: we are ahead), by medians.
 * @param {Row} ours
 * @param {Row} peer
 * @returns {number | null} null when either side has no figure
 */
export function advantage(ours, peer) {
  if (ours.median === undefined || peer.median === undefined) return null;
  if (!(ours.median > 0) || !(peer.median > 0)) return null;
  return ours.better === 'higher' ? ours.median / peer.median : peer.median / ours.median;
}

/**
 * Fills `ratio` on every peer row that names the row it is compared with.
 * @param {Row[]} rows
 * @returns {Array<Row & { ratio?: number | null }>}
 */
export function withRatios(rows) {
  return rows.map((row) => {
    if (row.versus === undefined) return row;
    const ours = rows.find(
      (other) => other.scenario === row.scenario && other.case === row.case && other.engine === row.versus,
    );
    return { ...row, ratio: ours === undefined ? null : advantage(ours, row) };
  });
}
