/**
 * Scenario 3: persist N profiles, then reload them cold (a freshly loaded page, engine code
 * already loaded, data only in IndexedDB). Ours: one `cdp.profiles.upsertMany` of every
 * profile (one durable IndexedDB transaction), then `Cdp.open` loading what is stored. Dexie: one `bulkPut`, then `toArray`,
 * with strict and with relaxed durability. PGlite on `idb://`: one INSERT of all rows, then
 * `SELECT *`.
 */
import { profileRecords } from '../../lib/data.mjs';
import { loadDexie } from '../peers.mjs';
import { deleteDatabase, freshName } from '../runner.mjs';
import {
  asRow, asUpsert, loadCdp, openDexie, openPGliteIdb, pgliteAssets, pgliteDatabaseName, pgliteInsertAll,
} from '../stores.mjs';

const OURS = 'cdp-engine (IndexedDB)';
const ms = { unit: 'ms', better: /** @type {const} */ ('lower') };

/**
 * @param {{ profiles: number, reps: number }} options
 */
export function plan(options) {
  const scenario = 3;
  const persist = `persist ${options.profiles.toLocaleString('en')} profiles`;
  const reload = `cold reload of ${options.profiles.toLocaleString('en')} profiles`;
  const rows = (/** @type {string} */ engine, /** @type {string} */ persistNote, /** @type {string} */ reloadNote) => {
    const versus = engine === OURS ? {} : { versus: OURS };
    return {
      persist: { scenario, case: persist, engine, ...ms, ...versus, note: persistNote },
      reload: { scenario, case: reload, engine, ...ms, ...versus, note: reloadNote },
    };
  };
  const task = (/** @type {string} */ engine, /** @type {Record<string, object>} */ taskRows) =>
    ({ engine, steps: ['persist', 'reload'], reps: options.reps, rows: taskRows });
  return {
    scenario,
    title: `Persist and cold reload (${options.profiles.toLocaleString('en')} profiles)`,
    tasks: [
      task('cdp', rows(OURS, 'one cdp.profiles.upsertMany of all profiles, durable in one IndexedDB transaction (strict)', 'Cdp.open loads the snapshot written after the batch (and any log after it); profiles are then in memory (count() answers)')),
      task('dexie-strict', rows('Dexie (strict durability)', 'one bulkPut', 'open + toArray')),
      task('dexie-relaxed', rows('Dexie (relaxed durability)', 'one bulkPut; relaxed: may be lost on power failure', 'open + toArray')),
      task('pglite-idb', rows('PGlite (idb://)', 'one INSERT … SELECT FROM json_populate_recordset, synced to IndexedDB (relaxedDurability: false)', 'PGlite.create (wasm precompiled) + SELECT *')),
    ],
    pending: [],
  };
}

export const steps = {
  /**
   * Writes every profile to a fresh database; times the writes only (opening is not timed).
   * @param {string} engine
   * @param {{ profiles: number }} options
   */
  async persist(engine, options) {
    const records = profileRecords(options.profiles);
    const name = freshName(`bench-persist-${engine}`);
    let start = 0;
    if (engine === 'cdp') {
      const Cdp = await loadCdp();
      const cdp = await Cdp.open({ name, storage: 'indexeddb' });
      start = performance.now();
      await cdp.profiles.upsertMany(records.map(asUpsert));
      const persist = performance.now() - start;
      await cdp.close();
      return { metrics: { persist }, state: { name } };
    }
    if (engine === 'dexie-strict' || engine === 'dexie-relaxed') {
      const db = await openDexie(name, engine === 'dexie-strict' ? 'strict' : 'relaxed');
      start = performance.now();
      await db.table('profiles').bulkPut(records.map(asRow));
      const persist = performance.now() - start;
      db.close();
      return { metrics: { persist }, state: { name } };
    }
    if (engine === 'pglite-idb') {
      const db = await openPGliteIdb(name, await pgliteAssets(), true);
      start = performance.now();
      await pgliteInsertAll(db, records);
      const persist = performance.now() - start;
      await db.close();
      return { metrics: { persist }, state: { name } };
    }
    throw new Error(`unknown engine ${engine}`);
  },

  /**
   * In a fresh page: opens the database written by `persist` and reads every profile back.
   * @param {string} engine
   * @param {{ profiles: number }} options
   * @param {{ name: string }} state
   */
  async reload(engine, options, state) {
    const { name } = state;
    if (engine === 'cdp') {
      const Cdp = await loadCdp();
      const start = performance.now();
      const cdp = await Cdp.open({ name, storage: 'indexeddb' });
      const profiles = await cdp.profiles.count();
      const reload = performance.now() - start;
      await cdp.close();
      await deleteDatabase(name);
      return { metrics: { reload }, checks: { profiles } };
    }
    if (engine === 'dexie-strict' || engine === 'dexie-relaxed') {
      await loadDexie();
      const start = performance.now();
      const db = await openDexie(name, engine === 'dexie-strict' ? 'strict' : 'relaxed');
      const rows = await db.table('profiles').toArray();
      const reload = performance.now() - start;
      db.close();
      await deleteDatabase(name);
      return { metrics: { reload }, checks: { profiles: rows.length } };
    }
    if (engine === 'pglite-idb') {
      const assets = await pgliteAssets();
      const start = performance.now();
      const db = await openPGliteIdb(name, assets, false);
      const { rows } = await db.query('SELECT * FROM profiles');
      const reload = performance.now() - start;
      await db.close();
      await deleteDatabase(pgliteDatabaseName(name));
      return { metrics: { reload }, checks: { profiles: rows.length } };
    }
    throw new Error(`unknown engine ${engine}`);
  },
};
