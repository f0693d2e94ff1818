/**
 * cdp-engine: a Customer Data Platform that runs in the page (or in Node).
 *
 *     import { Cdp } from 'cdp-engine';
 *     const cdp = await Cdp.open({ name: 'shop', config });
 *     const { id } = await cdp.profiles.upsert({ identities: { email: ['bob@bib.dk'] } });
 *     const response = await cdp.fetch(`/v1/customer/${id}`, { headers });
 *
 * This file is the one facade. Only the wasm bytes are found differently per environment,
 * in `load-browser.js` and `load-node.js`.
 */
import { CdpError, codes, isPlainObject, isTrap, toCdpError } from './cdp-error.js';
import { readRequest, toRequest, toResponse } from './http.js';
import { Profiles } from './profiles.js';

export { CdpError } from './cdp-error.js';

/** @typedef {import('./index.js').CdpOptions} CdpOptions */

/** @typedef {import('./profiles.js').Core} Core */
/** @typedef {{ open(name: string, config: object, storage: string): Promise<Core> }} CoreClass */

const inNode = typeof globalThis.process?.versions?.node === 'string';

/** Bumped when a trap kills the wasm instance: the next open instantiates a fresh one. */
let generation = 0;
/** @type {Promise<{ CdpCore: CoreClass, loaded: number }> | undefined} */
let loadedCore;
const constructionKey = Symbol('Cdp.open');

/**
 * Instantiates the wasm module. A fresh generation imports the glue under a new URL, which
 * gives a fresh module with its own memory.
 * @param {number} wanted
 * @returns {Promise<CoreClass>}
 */
async function instantiate(wanted) {
  const loader = await (inNode ? import('./load-node.js') : import('./load-browser.js'));
  const glue = await import(wanted === 0 ? './cdp_engine.js' : `./cdp_engine.js?generation=${wanted}`);
  await glue.default({ module_or_path: await loader.wasmSource() });
  return glue.CdpCore;
}

/**
 * The engine class, loaded once per realm (and again only after a trap or a failed load).
 * @returns {Promise<{ CdpCore: CoreClass, loaded: number }>} the class and its generation
 */
function loadCore() {
  if (loadedCore === undefined) {
    const wanted = generation;
    loadedCore = instantiate(wanted).then(
      (CdpCore) => ({ CdpCore, loaded: wanted }),
      (error) => {
        discardCore(wanted);
        const reason = error instanceof Error ? error.message : String(error);
        throw new CdpError(codes.loadFailed, `could not load the cdp-engine wasm: ${reason}`, {
          cause: error,
        });
      },
    );
  }
  return loadedCore;
}

/**
 * Forgets a wasm instance that trapped or failed to start, so that no call reaches it again
 * and the next open instantiates a fresh one.
 * @param {number} dead the generation that failed
 */
function discardCore(dead) {
  if (dead !== generation) return;
  generation += 1;
  loadedCore = undefined;
}

/**
 * @param {unknown} storage the `storage` option
 * @returns {'indexeddb' | 'memory'}
 */
function chooseStorage(storage) {
  const hasIndexedDb = typeof globalThis.indexedDB === 'object' && globalThis.indexedDB !== null;
  if (storage === undefined) return hasIndexedDb ? 'indexeddb' : 'memory';
  if (storage === 'memory') return storage;
  if (storage !== 'indexeddb') {
    throw new CdpError(codes.invalidArgument, `storage must be 'indexeddb' or 'memory', not ${JSON.stringify(storage)}`);
  }
  if (!hasIndexedDb) {
    throw new CdpError(codes.storageUnavailable, 'IndexedDB is not available here; use storage: \'memory\'');
  }
  return storage;
}


function closedError() {
  return new CdpError(codes.closed, 'this Cdp instance is closed; open a new one');
}

/** An open engine: REST dialects through `fetch`, typed helpers, persistence. */
export class Cdp {
  /** @type {Core} */
  #core;
  /** @type {number} */
  #generation;
  /** Tail of the call queue: every call runs after the one issued before it. */
  #tail = Promise.resolve();
  #closed = false;
  /** @type {Promise<void> | undefined} */
  #closing;

  /**
   * Use `Cdp.open()`.
   * @param {symbol} key
   * @param {Core} core
   * @param {number} coreGeneration
   * @param {string} name
   * @param {'indexeddb' | 'memory'} storage
   */
  constructor(key, core, coreGeneration, name, storage) {
    if (key !== constructionKey) {
      throw new CdpError(codes.invalidArgument, 'use Cdp.open() to create a Cdp instance');
    }
    this.#core = core;
    this.#generation = coreGeneration;
    /** The database name this instance was opened with. */
    this.name = name;
    /** Where the data lives: `'indexeddb'` (persistent) or `'memory'`. */
    this.storage = storage;
    /** Typed helpers for profiles. */
    this.profiles = new Profiles((task) => this.#run(task));
    Object.freeze(this);
  }

  /**
   * Loads the engine (once per page or process), opens the named database and replays it.
   * @param {CdpOptions} [options]
   * @returns {Promise<Cdp>}
   * @throws {CdpError} `cdp.invalid_argument`, `cdp.storage_unavailable`, `cdp.load_failed`,
   *   or the engine's own code (e.g. `config.invalid`, `storage.failed`)
   */
  static async open(options = {}) {
    if (!isPlainObject(options)) throw new CdpError(codes.invalidArgument, 'options must be an object');
    const { name = 'cdp', config = {}, storage } = options;
    if (typeof name !== 'string' || name === '') {
      throw new CdpError(codes.invalidArgument, 'name must be a non-empty string');
    }
    if (!isPlainObject(config)) throw new CdpError(codes.invalidArgument, 'config must be an object');
    const kind = chooseStorage(storage);
    const { CdpCore, loaded } = await loadCore();
    try {
      const core = await CdpCore.open(name, config, kind, {});
      return new Cdp(constructionKey, core, loaded, name, kind);
    } catch (error) {
      if (isTrap(error)) discardCore(loaded);
      throw toCdpError(error);
    }
  }

  /**
   * Sends one REST request to the engine. Takes exactly what `fetch` takes; only the path
   * and query of the URL matter. Resolves with a real Response once any write is durable.
   * HTTP errors (401, 404, …) resolve like fetch does; only a broken call rejects.
   * @param {RequestInfo | URL} input
   * @param {RequestInit} [init]
   * @returns {Promise<Response>}
   */
  fetch(input, init) {
    /** @type {Request} */
    let request;
    try {
      request = toRequest(input, init);
    } catch (error) {
      return Promise.reject(toCdpError(error));
    }
    if (request.signal.aborted) {
      return Promise.reject(new CdpError(codes.aborted, 'the request was aborted', { cause: request.signal.reason }));
    }
    const parts = readRequest(request);
    parts.catch(() => undefined);
    return this.#run(async (core) => {
      const { method, target, headers, body } = await parts;
      return toResponse(await core.handle(method, target, headers, body));
    });
  }

  /**
   * Closes the database once the calls already issued have finished. Later calls reject
   * with `cdp.closed`. Calling it again returns the same promise.
   * @returns {Promise<void>}
   */
  close() {
    if (this.#closing === undefined) {
      this.#closed = true;
      this.#closing = this.#tail.then(() => {
        if (this.#generation !== generation) return;
        try {
          this.#core.close();
        } catch (error) {
          throw this.#fail(error);
        } finally {
          if (this.#generation === generation) this.#core.free();
        }
      });
    }
    return this.#closing;
  }

  /**
   * Queues a call into the core behind every call issued before it.
   * @template T
   * @param {(core: Core) => T | Promise<T>} task
   * @returns {Promise<T>}
   */
  #run(task) {
    if (this.#closed || this.#generation !== generation) return Promise.reject(closedError());
    const result = this.#tail
      .then(() => {
        if (this.#generation !== generation) throw closedError();
        return task(this.#core);
      })
      .catch((error) => {
        throw this.#fail(error);
      });
    this.#tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /**
   * @param {unknown} error
   * @returns {CdpError}
   */
  #fail(error) {
    if (isTrap(error)) {
      this.#closed = true;
      discardCore(this.#generation);
    }
    return toCdpError(error);
  }
}
