/**
 * Opening the engine's IndexedDB database: the one place that knows its schema version and
 * what an upgrade creates. The package starts it as soon as `Cdp.open` is called, so the
 * database opens while the wasm is still compiling; the engine's IndexedDB storage
 * (src/storage/indexeddb.rs) calls it too when it opens a database itself.
 *
 * Schema version 2: stores `log`, `snapshots` and `manifests`. Version 1, the first stored
 * format, had only `log`; upgrading adds the others and leaves its records as they are.
 */

/** The schema version of the database this build creates. */
export const SCHEMA_VERSION = 2;

/** What a version-2 database holds; an upgrade creates whichever are missing. */
const STORES = ['log', 'snapshots', 'manifests'];

/**
 * Opens (creating or upgrading as needed) the database called `name`. Rejects with the
 * request's DOMException (`VersionError` for a database written by a newer build, …), with
 * a DOMException named `BlockedError` when an old connection in another tab keeps the
 * upgrade from running (the connection that may still arrive later is closed at once), or
 * one named `UnavailableError` where there is no IndexedDB.
 *
 * The connection closes itself when another one asks for a version change (an upgrade or a
 * delete, in this tab or another), so it never blocks it. That handler is plain JS bound to
 * the connection, not engine code: it still runs once the engine is gone or has trapped.
 * @param {string} name
 * @returns {Promise<{ database: IDBDatabase, created: boolean }>} `created`: this open
 *   made the database (there is nothing to read in it)
 */
export function openDatabase(name) {
  return new Promise((resolve, reject) => {
    const factory = globalThis.indexedDB;
    if (typeof factory !== 'object' || factory === null) {
      reject(new DOMException('this environment has no IndexedDB', 'UnavailableError'));
      return;
    }
    /** @type {IDBOpenDBRequest} */
    let request;
    try {
      request = factory.open(name, SCHEMA_VERSION);
    } catch (error) {
      reject(error);
      return;
    }
    let created = false;
    let blocked = false;
    request.onupgradeneeded = (event) => {
      created = event.oldVersion === 0;
      const database = request.result;
      // A store that cannot be created throws here, which aborts the upgrade and fails the open.
      for (const store of STORES) {
        if (!database.objectStoreNames.contains(store)) database.createObjectStore(store);
      }
    };
    request.onsuccess = () => {
      const database = request.result;
      if (blocked) {
        database.close();
        return;
      }
      database.onversionchange = () => database.close();
      resolve({ database, created });
    };
    request.onerror = () => reject(request.error);
    request.onblocked = () => {
      blocked = true;
      reject(new DOMException(`${name} is held open by an older connection`, 'BlockedError'));
    };
  });
}
