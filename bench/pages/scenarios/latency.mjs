/**
 * Scenario 4: latency of one durable write, and of one read, in a database already holding
 * some profiles.
 * Ours: `cdp.profiles.upsert` (resolves after its IndexedDB transaction completed). Dexie:
 * `put` with strict durability. PGlite on `idb://`: one INSERT, which syncs to IndexedDB
 * before it resolves (relaxedDurability: false). Then each written record is read back once
 * by its key (ours: `cdp.profiles.get(id)`; Dexie: `get(email)`; PGlite: a SELECT by email).
 * Each repetition gives one p50 and one p99 over its writes and over its reads; the table
 * shows the median and p95 of those across repetitions.
 */
import { profileRecords } from '../../lib/data.mjs';
import { quantile } from '../../lib/stats.mjs';
import { deleteDatabase, freshName } from '../runner.mjs';
import {
  asRow, asUpsert, loadCdp, openDexie, openPGliteIdb, pgliteAssets, pgliteDatabaseName, pgliteInsertAll, pgliteInsertOne,
} from '../stores.mjs';

const OURS = 'cdp-engine (IndexedDB)';

/** What the read rows time, per engine (each reads by its own key, the written records in order). */
const readNotes = {
  [OURS]: 'profiles.get(id) of each written profile, the tab alone on the database',
  'Dexie (strict durability)': 'get(email) of each written record',
  'PGlite (idb://)': 'SELECT * … WHERE email = $1 of each written row',
};

/**
 * @param {{ preload: number, writes: number, reps: number }} options
 */
export function plan(options) {
  const scenario = 4;
  const rows = (/** @type {string} */ engine, /** @type {string} */ note) => {
    const shared = { scenario, engine, unit: 'ms', better: /** @type {const} */ ('lower'), note, ...(engine === OURS ? {} : { versus: OURS }) };
    return {
      p50: { ...shared, case: 'durable write, p50' },
      p99: { ...shared, case: 'durable write, p99' },
      readP50: { ...shared, case: 'read one profile by its key, p50', note: readNotes[engine] },
      readP99: { ...shared, case: 'read one profile by its key, p99', note: readNotes[engine] },
    };
  };
  return {
    scenario,
    title: `Single durable write and read latency (${options.writes.toLocaleString('en')} writes after ${options.preload.toLocaleString('en')} profiles)`,
    tasks: [
      { engine: 'cdp', steps: ['write'], reps: options.reps, rows: rows(OURS, 'profiles.upsert of a new profile') },
      { engine: 'dexie', steps: ['write'], reps: options.reps, rows: rows('Dexie (strict durability)', 'put of a new record') },
      { engine: 'pglite-idb', steps: ['write'], reps: options.reps, rows: rows('PGlite (idb://)', 'INSERT of a new row, synced to IndexedDB') },
    ],
    pending: [],
  };
}

/**
 * Runs `operation` on each item in turn, timing each call.
 * @template T, R
 * @param {T[]} items
 * @param {(item: T) => Promise<R>} operation
 * @returns {Promise<{ p50: number, p99: number, results: R[] }>}
 */
async function timeEach(items, operation) {
  const latencies = [];
  const results = [];
  for (const item of items) {
    const start = performance.now();
    results.push(await operation(item));
    latencies.push(performance.now() - start);
  }
  return { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), results };
}

/**
 * Times each write in turn, then reading each written record back by its key.
 * @template K
 * @param {import('../../lib/data.mjs').ProfileRecord[]} records
 * @param {(record: import('../../lib/data.mjs').ProfileRecord) => Promise<unknown>} write
 * @param {(record: import('../../lib/data.mjs').ProfileRecord, written: any) => K} keyOf the
 *   record's key, given what its write resolved with
 * @param {(key: K) => Promise<unknown>} read resolves with the record, or something falsy when missing
 * @returns {Promise<{ p50: number, p99: number, readP50: number, readP99: number }>}
 */
async function timeWritesThenReads(records, write, keyOf, read) {
  const writes = await timeEach(records, write);
  const keys = records.map((record, index) => keyOf(record, writes.results[index]));
  const reads = await timeEach(keys, read);
  const missing = keys.find((_, index) => !reads.results[index]);
  if (missing !== undefined) throw new Error(`read of ${String(missing)} found nothing`);
  return { p50: writes.p50, p99: writes.p99, readP50: reads.p50, readP99: reads.p99 };
}

export const steps = {
  /**
   * Preloads a fresh database, then times single writes of new profiles.
   * @param {string} engine
   * @param {{ preload: number, writes: number }} options
   */
  async write(engine, options) {
    const preload = profileRecords(options.preload);
    const writes = profileRecords(options.writes, undefined, options.preload);
    const name = freshName(`bench-latency-${engine}`);
    if (engine === 'cdp') {
      const Cdp = await loadCdp();
      const cdp = await Cdp.open({ name, storage: 'indexeddb' });
      for (const record of preload) await cdp.profiles.upsert(asUpsert(record));
      const metrics = await timeWritesThenReads(writes, (record) => cdp.profiles.upsert(asUpsert(record)),
        (_, written) => written.id, (id) => cdp.profiles.get(id));
      const profiles = await cdp.profiles.count();
      await cdp.close();
      await deleteDatabase(name);
      return { metrics, checks: { profiles } };
    }
    if (engine === 'dexie') {
      const db = await openDexie(name, 'strict');
      const table = db.table('profiles');
      await table.bulkPut(preload.map(asRow));
      const metrics = await timeWritesThenReads(writes, (record) => table.put(asRow(record)),
        (record) => record.email, (email) => table.get(email));
      const profiles = await table.count();
      db.close();
      await deleteDatabase(name);
      return { metrics, checks: { profiles } };
    }
    if (engine === 'pglite-idb') {
      const db = await openPGliteIdb(name, await pgliteAssets(), true);
      await pgliteInsertAll(db, preload);
      const metrics = await timeWritesThenReads(writes, (record) => pgliteInsertOne(db, record),
        (record) => record.email, async (email) => (await db.query('SELECT * FROM profiles WHERE email = $1', [email])).rows[0]);
      const profiles = (await db.query('SELECT count(*)::int AS n FROM profiles')).rows[0].n;
      await db.close();
      await deleteDatabase(pgliteDatabaseName(name));
      return { metrics, checks: { profiles } };
    }
    throw new Error(`unknown engine ${engine}`);
  },
};
