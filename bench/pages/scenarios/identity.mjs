/**
 * Scenario 1: identity upserts. The same records (one to three identifiers each, one in five
 * naming two different people) go through our engine and through PGlite and SQLite-wasm with
 * an identifiers table and INSERT … ON CONFLICT:
 *
 * - one call (one transaction) per record under the reject policy: the one record in five that
 *   would merge is refused (and counted) on every side;
 * - one call per record under the merge policy: those records merge two profiles everywhere;
 * - batches of 1,000 under the merge policy: ours one `cdp.profiles.upsertMany` per batch (all
 *   or nothing, so under the reject policy one conflicting record would refuse its whole batch;
 *   hence merge), the peers one transaction per batch.
 *
 * Checks: profiles left and records refused are equal on every side for the same policy.
 */
import { fingerprint, identityRecords } from '../../lib/data.mjs';
import { loadPGlite, loadSqlite } from '../peers.mjs';
import { pgliteSide, sqliteSide, upsertRecord } from '../sql-identity.mjs';

const BATCH = 1000;
const PER_RECORD = 'upsert, one call per record (reject policy)';
const PER_RECORD_MERGE = 'upsert, one call per record (merge policy)';
const BATCHED = `upsert, batches of ${BATCH.toLocaleString('en')} (merge policy)`;
const OURS_MEMORY = 'cdp-engine (memory)';
const unit = { unit: 'upserts/s', better: /** @type {const} */ ('higher') };
const rejectNote = 'the 1 in 5 merging records are refused on every side';

/**
 * The tasks of this scenario for the driver.
 * @param {{ records: number, reps: number }} options
 */
export function plan(options) {
  const scenario = 1;
  const fields = (/** @type {string} */ label, /** @type {string} */ what, /** @type {string} */ note) =>
    ({ scenario, case: what, engine: label, ...unit, note, ...(label.startsWith('cdp-engine') ? {} : { versus: OURS_MEMORY }) });
  const idb = 'cdp-engine (IndexedDB)';
  return {
    scenario,
    title: `Identity upserts (${options.records.toLocaleString('en')} records)`,
    tasks: [
      { engine: 'cdp-memory', steps: ['upsert'], reps: options.reps,
        rows: {
          perRecord: fields(OURS_MEMORY, PER_RECORD, rejectNote),
          perRecordMerge: fields(OURS_MEMORY, PER_RECORD_MERGE, 'identity.policy "merge": the 1 in 5 merge two profiles'),
          batch: fields(OURS_MEMORY, BATCHED, 'one cdp.profiles.upsertMany per batch'),
        } },
      { engine: 'cdp-indexeddb', steps: ['upsert'], reps: options.reps,
        rows: {
          perRecord: fields(idb, PER_RECORD, 'each upsert resolves after its IndexedDB transaction completed (strict durability)'),
          batch: fields(idb, BATCHED, 'one upsertMany per batch, each durable in one IndexedDB transaction (strict)'),
        } },
      { engine: 'pglite', steps: ['upsert'], reps: options.reps,
        rows: {
          perRecord: fields('PGlite (memory)', PER_RECORD, 'one transaction per record'),
          perRecordMerge: fields('PGlite (memory)', PER_RECORD_MERGE, 'one transaction per record'),
          batch: fields('PGlite (memory)', BATCHED, 'one transaction per batch'),
        } },
      { engine: 'sqlite', steps: ['upsert'], reps: options.reps,
        rows: {
          perRecord: fields('SQLite-wasm (memory)', PER_RECORD, 'in-memory database on the main thread; one transaction per record'),
          perRecordMerge: fields('SQLite-wasm (memory)', PER_RECORD_MERGE, 'in-memory database on the main thread; one transaction per record'),
          batch: fields('SQLite-wasm (memory)', BATCHED, 'in-memory database on the main thread; one transaction per batch'),
        } },
    ],
    pending: [],
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
 * Ours, from an empty database each time: one `cdp.profiles.upsert` per record, awaited,
 * under the reject policy; then (memory only) the same under the merge policy; then batches
 * of `upsertMany` under the merge policy.
 * @param {'memory' | 'indexeddb'} storage
 * @param {ReturnType<typeof identityRecords>} records
 */
async function upsertOurs(storage, records) {
  const { Cdp } = await import('/pkg/index.js');
  const { deleteDatabase, freshName } = await import('../runner.mjs');
  const open = async (/** @type {'reject' | 'merge'} */ policy) => {
    const name = freshName('bench-identity');
    return { name, cdp: await Cdp.open({ name, storage, config: { identity: { policy } } }) };
  };
  const done = async (/** @type {{ name: string, cdp: any }} */ side) => {
    const profiles = await side.cdp.profiles.count();
    await side.cdp.close();
    if (storage === 'indexeddb') await deleteDatabase(side.name);
    return profiles;
  };
  /** @type {Record<string, number>} */
  const metrics = {};
  /** @type {Record<string, number>} */
  const checks = {};

  let side = await open('reject');
  let rejected = 0;
  let start = performance.now();
  for (const { identities, attributes } of records) {
    try {
      await side.cdp.profiles.upsert({ identities, attributes });
    } catch (error) {
      if (/** @type {any} */ (error).code !== 'identity.conflict') throw error;
      rejected += 1;
    }
  }
  metrics.perRecord = rate(records.length, start);
  checks.profiles = await done(side);
  checks.rejected = rejected;

  if (storage === 'memory') {
    side = await open('merge');
    start = performance.now();
    for (const { identities, attributes } of records) await side.cdp.profiles.upsert({ identities, attributes });
    metrics.perRecordMerge = rate(records.length, start);
    checks.mergeProfiles = await done(side);
  }

  side = await open('merge');
  const batches = [];
  for (let first = 0; first < records.length; first += BATCH) {
    batches.push(records.slice(first, first + BATCH).map(({ identities, attributes }) => ({ identities, attributes })));
  }
  start = performance.now();
  for (const batch of batches) await side.cdp.profiles.upsertMany(batch);
  metrics.batch = rate(records.length, start);
  checks.batchProfiles = await done(side);
  return { metrics, checks };
}

/**
 * A SQL peer, each pass from empty tables: per record under the reject policy (one
 * transaction each), per record under the merge policy, then batches under the merge policy.
 * @param {() => Promise<import('../sql-identity.mjs').SqlSide>} open fresh, empty tables
 * @param {ReturnType<typeof identityRecords>} records
 */
async function upsertSql(open, records) {
  let side = await open();
  let rejected = 0;
  let start = performance.now();
  for (const record of records) {
    if (!(await side.transaction(() => upsertRecord(side, record, 'reject')))) rejected += 1;
  }
  const perRecord = rate(records.length, start);
  const profiles = await side.countProfiles();
  side = await open();
  start = performance.now();
  for (const record of records) await side.transaction(() => upsertRecord(side, record, 'merge'));
  const perRecordMerge = rate(records.length, start);
  const mergeProfiles = await side.countProfiles();
  side = await open();
  start = performance.now();
  for (let first = 0; first < records.length; first += BATCH) {
    await side.transaction(async () => {
      for (const record of records.slice(first, first + BATCH)) await upsertRecord(side, record, 'merge');
    });
  }
  const batch = rate(records.length, start);
  return {
    metrics: { perRecord, perRecordMerge, batch },
    checks: { profiles, rejected, mergeProfiles, batchProfiles: await side.countProfiles() },
  };
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
