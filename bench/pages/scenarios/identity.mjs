/**
 * Scenario 1: identity upserts. The same records (one to three identifiers each, one in five
 * naming two different people) go through our engine one call per record, and through PGlite
 * and SQLite-wasm with an identifiers table and INSERT … ON CONFLICT, one transaction per record
 * and one per batch of 1,000.
 *
 * Our engine has only the reject policy today, so every side runs the reject policy: the one
 * record in five that would merge is refused (and counted) everywhere.
 */
import { fingerprint, identityRecords } from '../../lib/data.mjs';
import { pending } from '../../lib/stats.mjs';
import { loadPGlite, loadSqlite } from '../peers.mjs';
import { pgliteSide, sqliteSide, upsertRecord } from '../sql-identity.mjs';

const POLICY = 'reject';
const BATCH = 1000;
const PER_RECORD = 'upsert, one call per record';
const BATCHED = `upsert, batches of ${BATCH.toLocaleString('en')}`;
const OURS_MEMORY = 'cdp-engine (memory)';
const unit = { unit: 'upserts/s', better: /** @type {const} */ ('higher') };
const policyNote = 'reject policy on every side (merge policy pending): the 1 in 5 merging records are refused';

/**
 * The tasks of this scenario for the driver.
 * @param {{ records: number, reps: number }} options
 */
export function plan(options) {
  const scenario = 1;
  const fields = (/** @type {string} */ label, /** @type {string} */ what, /** @type {string} */ note) =>
    ({ scenario, case: what, engine: label, ...unit, note, ...(label.startsWith('cdp-engine') ? {} : { versus: OURS_MEMORY }) });
  return {
    scenario,
    title: `Identity upserts (${options.records.toLocaleString('en')} records)`,
    tasks: [
      { engine: 'cdp-memory', steps: ['upsert'], reps: options.reps,
        rows: { perRecord: fields(OURS_MEMORY, PER_RECORD, policyNote) } },
      { engine: 'cdp-indexeddb', steps: ['upsert'], reps: options.reps,
        rows: { perRecord: fields('cdp-engine (IndexedDB)', PER_RECORD, 'each upsert resolves after its IndexedDB transaction completed (strict durability)') } },
      { engine: 'pglite', steps: ['upsert'], reps: options.reps,
        rows: {
          perRecord: fields('PGlite (memory)', PER_RECORD, 'one transaction per record'),
          batch: fields('PGlite (memory)', BATCHED, 'one transaction per batch'),
        } },
      { engine: 'sqlite', steps: ['upsert'], reps: options.reps,
        rows: {
          perRecord: fields('SQLite-wasm (memory)', PER_RECORD, 'in-memory database on the main thread; one transaction per record'),
          batch: fields('SQLite-wasm (memory)', BATCHED, 'in-memory database on the main thread; one transaction per batch'),
        } },
    ],
    pending: [
      pending(fields(OURS_MEMORY, BATCHED, ''), 'batched upsert command (identity branch)'),
      pending(fields('cdp-engine (merge policy)', PER_RECORD, ''), 'merge policy (identity branch); every side runs the reject policy meanwhile'),
    ],
  };
}

/**
 * @param {number} count
 * @param {number} start performance.now() before the loop
 * @returns {number} per second
 */
function rate(count, start) {
  return count / ((performance.now() - start) / 1000);
}

/**
 * Ours: one `cdp.profiles.upsert` per record, awaited.
 * @param {'memory' | 'indexeddb'} storage
 * @param {ReturnType<typeof identityRecords>} records
 */
async function upsertOurs(storage, records) {
  const { Cdp } = await import('/pkg/index.js');
  const name = `bench-identity-${Date.now()}`;
  const cdp = await Cdp.open({ name, storage, config: { identity: { policy: POLICY } } });
  let rejected = 0;
  const start = performance.now();
  for (const { identities, attributes } of records) {
    try {
      await cdp.profiles.upsert({ identities, attributes });
    } catch (error) {
      if (/** @type {any} */ (error).code !== 'identity.conflict') throw error;
      rejected += 1;
    }
  }
  const perRecord = rate(records.length, start);
  const profiles = await cdp.profiles.count();
  await cdp.close();
  if (storage === 'indexeddb') await (await import('../runner.mjs')).deleteDatabase(name);
  return { metrics: { perRecord }, checks: { profiles, rejected } };
}

/**
 * A SQL peer: per record (one transaction each), then again from empty tables in batches.
 * @param {() => Promise<import('../sql-identity.mjs').SqlSide>} open fresh, empty tables
 * @param {ReturnType<typeof identityRecords>} records
 */
async function upsertSql(open, records) {
  let side = await open();
  let rejected = 0;
  let start = performance.now();
  for (const record of records) {
    if (!(await side.transaction(() => upsertRecord(side, record, POLICY)))) rejected += 1;
  }
  const perRecord = rate(records.length, start);
  const profiles = await side.countProfiles();
  side = await open();
  start = performance.now();
  for (let first = 0; first < records.length; first += BATCH) {
    await side.transaction(async () => {
      for (const record of records.slice(first, first + BATCH)) await upsertRecord(side, record, POLICY);
    });
  }
  const batch = rate(records.length, start);
  return { metrics: { perRecord, batch }, checks: { profiles, rejected, batchProfiles: await side.countProfiles() } };
}

export const steps = {
  /**
   * One repetition on a fresh, empty database.
   * @param {string} engine
   * @param {{ records: number }} options
   */
  async upsert(engine, options) {
    const records = identityRecords(options.records);
    const data = fingerprint(records);
    /** @type {{ metrics: Record<string, number>, checks: Record<string, unknown> }} */
    let result;
    if (engine === 'cdp-memory') result = await upsertOurs('memory', records);
    else if (engine === 'cdp-indexeddb') result = await upsertOurs('indexeddb', records);
    else if (engine === 'pglite') {
      const db = await (await loadPGlite()).create();
      result = await upsertSql(() => pgliteSide(db), records);
    } else if (engine === 'sqlite') {
      const db = new (await loadSqlite()).oo1.DB(':memory:');
      result = await upsertSql(() => sqliteSide(db), records);
    } else throw new Error(`unknown engine ${engine}`);
    return { metrics: result.metrics, checks: { ...result.checks, data } };
  },
};
