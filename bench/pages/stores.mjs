/**
 * One profile per record in each persistent store, for scenarios 3 and 4: our engine on
 * IndexedDB, Dexie (IndexedDB) and PGlite on `idb://`. Every write here resolves only once it
 * is durable: ours after its IndexedDB transaction completed, Dexie after its transaction
 * completed, PGlite after the query and its sync to IndexedDB (relaxedDurability: false).
 */
import { loadDexie, loadPGlite } from './peers.mjs';

/** @typedef {import('../lib/data.mjs').ProfileRecord} ProfileRecord */

const PGLITE_DIST = '/node_modules/@electric-sql/pglite/dist';
const PROFILE_COLUMNS = 'email TEXT PRIMARY KEY, name TEXT, age INT, country TEXT, plan TEXT, spend FLOAT8, "optIn" BOOLEAN';

/**
 * Loads our wasm before any timer starts: `Cdp.open` instantiates it on first use.
 * @returns {Promise<typeof import('../../pkg/index.js').Cdp>}
 */
export async function loadCdp() {
  const { Cdp } = await import('/pkg/index.js');
  await (await Cdp.open({ name: 'warm-up', storage: 'memory' })).close();
  return Cdp;
}

/**
 * @param {ProfileRecord} record
 * @returns {{ identities: { email: string[] }, attributes: object }}
 */
export function asUpsert(record) {
  return { identities: { email: [record.email] }, attributes: record.attributes };
}

/**
 * @param {ProfileRecord} record
 * @returns {object} the Dexie row: the email as key, the attributes beside it
 */
export function asRow(record) {
  return { email: record.email, ...record.attributes };
}

/**
 * Opens (or creates) a Dexie database with one `profiles` table keyed by email.
 * @param {string} name
 * @param {'strict' | 'relaxed'} durability Chromium's IndexedDB transaction durability
 */
export async function openDexie(name, durability) {
  const Dexie = await loadDexie();
  const db = new Dexie(name, { chromeTransactionDurability: durability });
  db.version(1).stores({ profiles: 'email' });
  await db.open();
  return db;
}

/**
 * PGlite's wasm modules and file-system bundle, fetched and compiled up front, so a timed
 * `PGlite.create` measures opening the database, not downloading and compiling Postgres.
 * @returns {Promise<{ pgliteWasmModule: WebAssembly.Module, initdbWasmModule: WebAssembly.Module, fsBundle: Blob }>}
 */
export async function pgliteAssets() {
  const [pgliteWasmModule, initdbWasmModule, fsBundle] = await Promise.all([
    WebAssembly.compileStreaming(fetch(`${PGLITE_DIST}/pglite.wasm`)),
    WebAssembly.compileStreaming(fetch(`${PGLITE_DIST}/initdb.wasm`)),
    fetch(`${PGLITE_DIST}/pglite.data`).then((response) => response.blob()),
  ]);
  return { pgliteWasmModule, initdbWasmModule, fsBundle };
}

/**
 * Opens PGlite on IndexedDB (`idb://name`) with strict durability.
 * @param {string} name
 * @param {Awaited<ReturnType<typeof pgliteAssets>>} assets
 * @param {boolean} createTable
 */
export async function openPGliteIdb(name, assets, createTable) {
  const PGlite = await loadPGlite();
  const db = await PGlite.create(`idb://${name}`, { relaxedDurability: false, ...assets });
  if (createTable) await db.exec(`CREATE TABLE profiles (${PROFILE_COLUMNS})`);
  return db;
}

/**
 * Inserts many profiles in one statement (a JSON array expanded by Postgres); resolves after
 * the sync to IndexedDB.
 * @param {any} db
 * @param {ProfileRecord[]} records
 */
export async function pgliteInsertAll(db, records) {
  await db.query('INSERT INTO profiles SELECT * FROM json_populate_recordset(NULL::profiles, $1)', [
    JSON.stringify(records.map(asRow)),
  ]);
}

/**
 * Inserts one profile; resolves after the sync to IndexedDB.
 * @param {any} db
 * @param {ProfileRecord} record
 */
export async function pgliteInsertOne(db, record) {
  const { name, age, country, plan, spend, optIn } = record.attributes;
  await db.query('INSERT INTO profiles VALUES ($1, $2, $3, $4, $5, $6, $7)', [record.email, name, age, country, plan, spend, optIn]);
}

/**
 * The IndexedDB database PGlite keeps `idb://name` in.
 * @param {string} name
 * @returns {string}
 */
export function pgliteDatabaseName(name) {
  return `/pglite/${name}`;
}
