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

/**
 * @param {{ preload: number, writes: number, reps: number }} options
 */
/** What the read rows time, per engine (each reads by its own key, the written records in order). */
const readNotes = {
  [OURS]: 'profiles.get(id) of each written profile, the tab alone on the database',
  'Dexie (strict durability)': 'get(email) of each written record',
  'PGlite (idb://)': 'SELECT * … WHERE email = $1 of each written row',
};

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
 * Times each write in turn.
 * @param {import('../../lib/data.mjs').ProfileRecord[]} records
 * @param {(record: import('../../lib/data.mjs').ProfileRecord) => Promise<unknown>} write
 * @returns {Promise<{ p50: number, p99: number }>}
 */
async function timeWrites(records, write) {
  const latencies = [];
  for (const record of records) {
    const start = performance.now();
    await write(record);
    latencies.push(performance.now() - start);
  }
  return { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) };
}

/**
 * Times reading each key in turn.
 * @template K
 * @param {K[]} keys
 * @param {(key: K) => Promise<unknown>} read resolves with the record, or something falsy when missing
 * @returns {Promise<{ readP50: number, readP99: number }>}
 */
async function timeReads(keys, read) {
  const latencies = [];
  for (const key of keys) {
    const start = performance.now();
    const found = await read(key);
    latencies.push(performance.now() - start);
    if (!found) throw new Error(`read of ${String(key)} found nothing`);
  }
  return { readP50: quantile(latencies, 0.5), readP99: quantile(latencies, 0.99) };
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
      /** @type {string[]} */
      const ids = [];
      const metrics = await timeWrites(writes, async (record) => ids.push((await cdp.profiles.upsert(asUpsert(record))).id));
      Object.assign(metrics, await timeReads(ids, (id) => cdp.profiles.get(id)));
      const profiles = await cdp.profiles.count();
      await cdp.close();
      await deleteDatabase(name);
      return { metrics, checks: { profiles } };
    }
    if (engine === 'dexie') {
      const db = await openDexie(name, 'strict');
      const table = db.table('profiles');
      await table.bulkPut(preload.map(asRow));
      const metrics = await timeWrites(writes, (record) => table.put(asRow(record)));
      Object.assign(metrics, await timeReads(writes.map((record) => record.email), (email) => table.get(email)));
      const profiles = await table.count();
      db.close();
      await deleteDatabase(name);
      return { metrics, checks: { profiles } };
    }
    if (engine === 'pglite-idb') {
      const db = await openPGliteIdb(name, await pgliteAssets(), true);
      await pgliteInsertAll(db, preload);
      const metrics = await timeWrites(writes, (record) => pgliteInsertOne(db, record));
      Object.assign(metrics, await timeReads(writes.map((record) => record.email),
        async (email) => (await db.query('SELECT * FROM profiles WHERE email = $1', [email])).rows[0]));
      const profiles = (await db.query('SELECT count(*)::int AS n FROM profiles')).rows[0].n;
      await db.close();
      await deleteDatabase(pgliteDatabaseName(name));
      return { metrics, checks: { profiles } };
    }
    throw new Error(`unknown engine ${engine}`);
  },
};
