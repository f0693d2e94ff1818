/**
 * Scenario 2: segment evaluation over N profiles with their events. DuckDB-wasm runs each of
 * five rules as SQL over the same columns; only the query is timed (after one untimed
 * warm-up run), not loading the data. Our engine has no segments yet: its rows are pending.
 * The incremental case changes one profile and times what each side does to bring every
 * segment up to date: DuckDB has no incremental maintenance, so it re-runs the five queries.
 */
import { DATA_NOW, segmentColumns } from '../../lib/data.mjs';
import { pending } from '../../lib/stats.mjs';
import { openDuckDb } from '../peers.mjs';

const OURS = 'cdp-engine';
const MISSING = 'segments and events (segments branch)';
const WINDOW_START = DATA_NOW - 30 * 86_400_000;

/** The five rules: what they say, and the same filter in SQL (profiles p, events e). */
export const RULES = [
  { name: 'range', description: 'age between 30 and 45', where: 'age BETWEEN 30 AND 45' },
  { name: 'equality', description: "country = 'DK'", where: "country = 'DK'" },
  {
    name: 'and/or',
    description: "(plan = 'pro' and spend > 500) or (country = 'SE' and optIn)",
    where: "(plan = 'pro' AND spend > 500) OR (country = 'SE' AND opt_in = 1)",
  },
  {
    name: 'event count in window',
    description: "'purchase' at least 2 times in the last 30 days",
    where: `id IN (SELECT profile FROM events WHERE name = 'purchase' AND ts >= ${WINDOW_START} GROUP BY profile HAVING count(*) >= 2)`,
  },
  {
    name: 'nested',
    description: "age >= 25 and (country in (DK, NO, SE) or (plan = 'enterprise' and not optIn)) and 'page_view' in the last 30 days",
    where: `age >= 25 AND (country IN ('DK', 'NO', 'SE') OR (plan = 'enterprise' AND opt_in = 0))
      AND id IN (SELECT profile FROM events WHERE name = 'page_view' AND ts >= ${WINDOW_START})`,
  },
];

/**
 * @param {{ sizes: number[], reps: number }} options
 */
export function plan(options) {
  const scenario = 2;
  const tasks = [];
  const pendingRows = [];
  for (const size of options.sizes) {
    const count = size.toLocaleString('en');
    /** @type {Record<string, object>} */
    const rows = {};
    RULES.forEach((rule, index) => {
      const fields = { scenario, case: `rule ${index + 1} (${rule.name}), ${count} profiles`, unit: 'ms', better: /** @type {const} */ ('lower') };
      rows[`rule${index + 1}`] = { ...fields, engine: 'DuckDB-wasm (eh)', versus: OURS, note: `SELECT count(*) WHERE ${rule.description}` };
      pendingRows.push(pending({ ...fields, engine: OURS }, MISSING));
    });
    const full = { scenario, case: `full evaluation of the five rules, ${count} profiles`, unit: 'ms', better: /** @type {const} */ ('lower') };
    rows.full = { ...full, engine: 'DuckDB-wasm (eh)', versus: OURS, note: 'the five queries one after another' };
    pendingRows.push(pending({ ...full, engine: OURS, note: 'target: no slower than DuckDB-wasm at 1M profiles' }, MISSING));
    const update = { scenario, case: `update all five segments after one change, ${count} profiles`, unit: 'ms', better: /** @type {const} */ ('lower') };
    rows.rerun = { ...update, engine: 'DuckDB-wasm (eh)', versus: OURS, note: 'one UPDATE (not timed), then the five queries re-run (DuckDB has no incremental maintenance)' };
    pendingRows.push(pending({ ...update, engine: OURS, note: 'target: at least 1000x faster than re-running the queries' }, MISSING));
    tasks.push({ engine: `duckdb:${size}`, steps: ['evaluate'], reps: 1, rows });
  }
  return { scenario, title: 'Segment evaluation', tasks, pending: pendingRows };
}

/**
 * Loads the data set into DuckDB through Arrow (not timed).
 * @param {any} connection
 * @param {any} arrow the apache-arrow module
 * @param {ReturnType<typeof segmentColumns>} columns
 */
async function loadColumns(connection, arrow, columns) {
  const size = columns.age.length;
  const profiles = arrow.tableFromArrays({
    id: Int32Array.from({ length: size }, (_, i) => i),
    age: columns.age,
    country: columns.country,
    plan: columns.plan,
    spend: columns.spend,
    opt_in: columns.optIn,
  });
  await connection.insertArrowTable(profiles, { name: 'profiles' });
  const events = arrow.tableFromArrays({
    profile: columns.eventProfile,
    name: columns.eventName,
    ts: columns.eventTime,
  });
  await connection.insertArrowTable(events, { name: 'events' });
}

/**
 * @param {any} connection
 * @param {string} where
 * @returns {Promise<{ ms: number, members: number }>}
 */
async function timeQuery(connection, where) {
  const start = performance.now();
  const result = await connection.query(`SELECT count(*)::INTEGER AS members FROM profiles WHERE ${where}`);
  const ms = performance.now() - start;
  return { ms, members: result.toArray()[0].members };
}

export const steps = {
  /**
   * Loads one size, then times each rule `reps` times and the re-run after one change.
   * @param {string} engine `duckdb:<size>`
   * @param {{ reps: number }} options
   */
  async evaluate(engine, options) {
    const size = Number(engine.split(':')[1]);
    const columns = segmentColumns(size);
    const { db, arrow } = await openDuckDb();
    const connection = await db.connect();
    await loadColumns(connection, arrow, columns);
    /** @type {Record<string, number[]>} */
    const metrics = {};
    /** @type {Record<string, number>} */
    const members = {};
    for (const [index, rule] of RULES.entries()) {
      members[`rule${index + 1}`] = (await timeQuery(connection, rule.where)).members;
      metrics[`rule${index + 1}`] = [];
      for (let rep = 0; rep < options.reps; rep += 1) metrics[`rule${index + 1}`].push((await timeQuery(connection, rule.where)).ms);
    }
    metrics.full = [];
    for (let rep = 0; rep < options.reps; rep += 1) {
      const start = performance.now();
      for (const rule of RULES) await timeQuery(connection, rule.where);
      metrics.full.push(performance.now() - start);
    }
    metrics.rerun = [];
    for (let rep = 0; rep < options.reps; rep += 1) {
      await connection.query(`UPDATE profiles SET age = ${30 + rep}, country = 'DK' WHERE id = ${rep}`);
      const start = performance.now();
      for (const rule of RULES) await timeQuery(connection, rule.where);
      metrics.rerun.push(performance.now() - start);
    }
    await connection.close();
    await db.terminate();
    return { metrics, checks: { profiles: size, events: columns.eventProfile.length, members } };
  },
};
