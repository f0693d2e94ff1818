/**
 * Scenario 5: startup and size. Cold: in a freshly loaded page (the server sends
 * `cache-control: no-store`, so nothing comes from the HTTP cache and no compiled code is
 * reused), the time from `import()` to the first answered query. Warm: right after, in the
 * same page, a second database opened and queried (whatever each library does again then).
 * Size: every file each engine fetched to answer that first query, raw, gzip and brotli.
 * Opening an empty database (the IndexedDB engines, ours and Dexie): in another fresh page,
 * with the library loaded (ours: its wasm compiled and instantiated by a memory engine
 * opened and closed first), the time of the first open of a new IndexedDB database there,
 * its creation included.
 */
import { DUCKDB_WORKER_FILES, loadDexie, loadPGlite, loadSqlite, openDuckDb } from '../peers.mjs';
import { freshName } from '../runner.mjs';

const OURS = 'cdp-engine';

/** @type {Record<string, { label: string, note: string }>} */
const ENGINES = {
  cdp: { label: OURS, note: 'Cdp.open on IndexedDB + profiles.count()' },
  dexie: { label: 'Dexie', note: 'open + count() on IndexedDB' },
  pglite: { label: 'PGlite', note: 'PGlite.create() in memory + SELECT 1; warm: a second PGlite instance' },
  sqlite: { label: 'SQLite-wasm', note: 'module init + in-memory DB + SELECT 1; warm: a second DB, module reused' },
  duckdb: { label: 'DuckDB-wasm (eh)', note: 'worker + instantiate + connect + SELECT 1; warm: a second worker and instance' },
};

/** What the `open` step times, per IndexedDB engine. */
const OPEN_NOTES = {
  cdp: 'Cdp.open of a new IndexedDB database; the wasm instantiated first (a memory engine opened and closed)',
  dexie: 'new Dexie(name), version(1).stores(…), open(): a new IndexedDB database',
};

/**
 * @param {{ reps: number, brotliQuality: number }} options
 */
export function plan(options) {
  const scenario = 5;
  const row = (/** @type {string} */ key, /** @type {string} */ what) => ({
    scenario, case: what, engine: ENGINES[key].label, unit: 'ms', better: /** @type {const} */ ('lower'),
    note: ENGINES[key].note, ...(key === 'cdp' ? {} : { versus: OURS }),
  });
  return {
    scenario,
    title: 'Startup (import to first answered query) and size',
    tasks: Object.keys(ENGINES).map((key) => {
      const indexedDb = key === 'cdp' || key === 'dexie';
      return {
        engine: key,
        steps: indexedDb ? ['start', 'open'] : ['start'],
        reps: options.reps,
        rows: {
          cold: row(key, 'startup, cold page'),
          warm: row(key, 'startup, warm (second open in the page)'),
          ...(indexedDb ? { open: { ...row(key, 'open an empty IndexedDB database, first in a page (library loaded)'), note: OPEN_NOTES[key] } } : {}),
        },
      };
    }),
    pending: [],
    /**
     * Adds the size rows, measured in Node on the files the cold starts fetched.
     * @param {any[]} rows
     * @param {string} root repository root
     */
    async summarize(rows, root) {
      const { sizeRows } = await import('../../lib/sizes.mjs');
      return sizeRows(rows.filter((measuredRow) => measuredRow.scenario === scenario && measuredRow.checks?.resources), root, OURS, options.brotliQuality);
    },
  };
}

/**
 * Opens one engine and answers one query.
 * @param {string} engine
 * @returns {Promise<unknown>} the answer
 */
async function openAndQuery(engine) {
  if (engine === 'cdp') {
    const { Cdp } = await import('/pkg/index.js');
    const cdp = await Cdp.open({ name: freshName('bench-startup'), storage: 'indexeddb' });
    return cdp.profiles.count();
  }
  if (engine === 'dexie') {
    const Dexie = await loadDexie();
    const db = new Dexie(freshName('bench-startup'));
    db.version(1).stores({ profiles: 'email' });
    await db.open();
    return db.table('profiles').count();
  }
  if (engine === 'pglite') {
    const PGlite = await loadPGlite();
    const db = await PGlite.create();
    return (await db.query('SELECT 1 AS one')).rows[0].one;
  }
  if (engine === 'sqlite') {
    const sqlite3 = await loadSqlite();
    return new sqlite3.oo1.DB(':memory:').selectValue('SELECT 1');
  }
  if (engine === 'duckdb') {
    const { db } = await openDuckDb();
    const connection = await db.connect();
    return (await connection.query('SELECT 1 AS one')).toArray()[0].one;
  }
  throw new Error(`unknown engine ${engine}`);
}

export const steps = {
  /**
   * The first open of a new IndexedDB database in this fresh page, the library loaded.
   * @param {string} engine
   */
  async open(engine) {
    const name = freshName('bench-open');
    if (engine === 'cdp') {
      const { Cdp } = await import('/pkg/index.js');
      await (await Cdp.open({ name: 'bench-open-memory', storage: 'memory' })).close();
      const start = performance.now();
      const cdp = await Cdp.open({ name, storage: 'indexeddb' });
      const open = performance.now() - start;
      await cdp.close();
      return { metrics: { open } };
    }
    if (engine === 'dexie') {
      const Dexie = await loadDexie();
      const start = performance.now();
      const db = new Dexie(name);
      db.version(1).stores({ profiles: 'email' });
      await db.open();
      const open = performance.now() - start;
      db.close();
      return { metrics: { open } };
    }
    throw new Error(`no open step for ${engine}`);
  },
  /**
   * A cold start, then a warm one, in this fresh page.
   * @param {string} engine
   */
  async start(engine) {
    performance.clearResourceTimings();
    let start = performance.now();
    const answer = await openAndQuery(engine);
    const cold = performance.now() - start;
    const resources = performance.getEntriesByType('resource')
      .map((entry) => new URL(entry.name).pathname)
      .filter((path) => path.startsWith('/pkg/') || path.startsWith('/node_modules/'));
    if (engine === 'duckdb') resources.push(...DUCKDB_WORKER_FILES);
    start = performance.now();
    await openAndQuery(engine);
    const warm = performance.now() - start;
    return { metrics: { cold, warm }, checks: { answer: String(answer), resources: [...new Set(resources)].sort() } };
  },
};
