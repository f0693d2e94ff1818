/**
 * Loaders of the peer engines, all from the local node_modules (served by the static
 * server), never from a CDN. Each returns the library's entry point.
 */

const NODE_MODULES = '/node_modules';

/** @returns {Promise<typeof import('dexie').default>} */
export async function loadDexie() {
  return (await import(`${NODE_MODULES}/dexie/dist/dexie.mjs`)).default;
}

/** @returns {Promise<typeof import('@electric-sql/pglite').PGlite>} */
export async function loadPGlite() {
  return (await import(`${NODE_MODULES}/@electric-sql/pglite/dist/index.js`)).PGlite;
}

/**
 * SQLite's official wasm build, initialised on the main thread (in-memory databases only:
 * its persistent OPFS backend needs a worker).
 * @returns {Promise<any>} the `sqlite3` namespace
 */
export async function loadSqlite() {
  const init = (await import(`${NODE_MODULES}/@sqlite.org/sqlite-wasm/index.mjs`)).default;
  return init({ print: () => undefined, printErr: () => undefined });
}

/**
 * DuckDB-wasm's single-threaded "eh" bundle (no pthreads, no COI bundle) in its worker.
 * @returns {Promise<{ db: any, duckdb: any, arrow: any }>} an instantiated AsyncDuckDB
 */
export async function openDuckDb() {
  const base = `${NODE_MODULES}/@duckdb/duckdb-wasm/dist`;
  const duckdb = await import(`${base}/duckdb-browser.mjs`);
  const arrow = await import('apache-arrow');
  const worker = new Worker(`${base}/duckdb-browser-eh.worker.js`);
  const db = new duckdb.AsyncDuckDB(new duckdb.VoidLogger(), worker);
  await db.instantiate(`${base}/duckdb-eh.wasm`);
  return { db, duckdb, arrow };
}

/**
 * What DuckDB-wasm's worker fetches (invisible to the page's resource timings).
 */
export const DUCKDB_WORKER_FILES = [
  `${NODE_MODULES}/@duckdb/duckdb-wasm/dist/duckdb-browser-eh.worker.js`,
  `${NODE_MODULES}/@duckdb/duckdb-wasm/dist/duckdb-eh.wasm`,
];
