/**
 * cdp-engine: a Customer Data Platform that runs in the page (or in Node).
 *
 *     import { Cdp } from 'cdp-engine';
 *     const cdp = await Cdp.open({ name: 'shop', config });
 *     const { id } = await cdp.profiles.upsert({ identities: { email: ['bob@bib.dk'] } });
 *     const response = await cdp.fetch(`/v1/customer/${id}`, { headers });
 *     const off = cdp.segments.subscribe('vip', ({ type, profile }) => console.log(type, profile));
 *
 * This file is the one facade. Only the wasm bytes are found differently per environment,
 * in `load-browser.js` and `load-node.js`.
 */
import { CdpError, codes, isPlainObject, isTrap, toCdpError, utf8, withJsonText } from './cdp-error.js';
import { checkedAnswer, coreRequest, readRequest, readsOnly, toRequest, toResponse } from './http.js';
import { Events } from './events.js';
import { Profiles } from './profiles.js';
import { MembershipFeed, Segments } from './segments.js';
import { Traits } from './traits.js';
import { TabSync } from './tab-sync.js';
import { exportStream, wholeLines } from './transfer.js';
import { wasmSource as browserWasmSource } from './load-browser.js';
import { openDatabase } from './idb-open.js';

export { CdpError } from './cdp-error.js';

/** @typedef {import('./index.js').CdpOptions} CdpOptions */

/** @typedef {import('./profiles.js').Core} Core */
/** @typedef {import('./profiles.js').Mode} Mode */
/** @typedef {{ open(config: object, storage: string, options: object): Promise<Core> }} CoreClass */
/** @typedef {'indexeddb' | 'memory' | 'files'} Kind */

const inNode = typeof globalThis.process?.versions?.node === 'string';

/**
 * What the first open needs, asked for as soon as this module is evaluated and side by
 * side: the wasm-bindgen glue, and in a browser the wasm, compiled while it downloads. An
 * open then finds them on the way or done, instead of fetching the glue, then the wasm.
 */
const early = {
  // @ts-expect-error: wasm-bindgen writes the glue into pkg/ when the package is built
  glue: /** @type {Promise<any>} */ (import('./cdp_engine.js')),
  /** @type {Promise<WebAssembly.Module | undefined>} */
  module: inNode || typeof WebAssembly?.compileStreaming !== 'function'
    ? Promise.resolve(undefined)
    // A server that does not send application/wasm fails this; the open then fetches the
    // wasm itself, through the glue's fallback.
    : WebAssembly.compileStreaming(fetch(browserWasmSource())).catch(() => undefined),
};
// A glue that fails to load is reported by the first open, not as an unhandled rejection.
early.glue.catch(() => undefined);

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
  // A compiled module instantiates again with fresh memory, so a new generation reuses it.
  const compiled = await early.module;
  const source = compiled ?? (inNode ? await (await import('./load-node.js')).wasmSource() : browserWasmSource());
  const glue = wanted === 0
    ? await early.glue
    // A URL the bundler of the package leaves alone: each generation is a module of its own.
    : await import(new URL(`./cdp_engine.js?generation=${wanted}`, import.meta.url).href);
  await glue.default({ module_or_path: source });
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
 * @param {unknown} directory the `directory` option
 * @returns {Kind}
 */
function chooseStorage(storage, directory) {
  const hasIndexedDb = typeof globalThis.indexedDB === 'object' && globalThis.indexedDB !== null;
  if (directory !== undefined) {
    if (typeof directory !== 'string' || directory === '') {
      throw new CdpError(codes.invalidArgument, 'directory must be a non-empty path');
    }
    if (!inNode) throw new CdpError(codes.storageUnavailable, 'files storage needs Node.js');
    if (storage !== undefined && storage !== 'files') {
      throw new CdpError(codes.invalidArgument, `directory goes with storage 'files', not ${JSON.stringify(storage)}`);
    }
    return 'files';
  }
  if (storage === undefined) return hasIndexedDb ? 'indexeddb' : 'memory';
  if (storage === 'memory') return storage;
  if (storage === 'files') throw new CdpError(codes.invalidArgument, "storage 'files' needs a directory");
  if (storage !== 'indexeddb') {
    throw new CdpError(codes.invalidArgument, `storage must be 'indexeddb', 'memory' or 'files', not ${JSON.stringify(storage)}`);
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
  /** @type {Promise<unknown>} the snapshot being committed, if any: writes go on meanwhile; `close` waits for it */
  #snapshotting = Promise.resolve();
  #closed = false;
  /** @type {Promise<void> | undefined} */
  #closing;
  /** @type {TabSync | undefined} */
  #sync;
  /**
   * Whether a read has caught up on the stored log since this tab's channel was made: from
   * then on every other tab's commit is announced to it, so a tab that has seen no other
   * reads from memory. Once another tab has shown up, every read catches up first, so it
   * sees each write acknowledged anywhere before it.
   */
  #readCaughtUp = false;
  /** @type {{ close(): Promise<void> } | undefined} */
  #files;
  /** Subscribers to segment entries and exits, fed after every call. */
  #membership = new MembershipFeed();

  /**
   * Use `Cdp.open()`.
   * @param {symbol} key
   * @param {Core} core
   * @param {number} coreGeneration
   * @param {string} name
   * @param {Kind} storage
   * @param {{ close(): Promise<void> } | undefined} files
   */
  constructor(key, core, coreGeneration, name, storage, files) {
    if (key !== constructionKey) {
      throw new CdpError(codes.invalidArgument, 'use Cdp.open() to create a Cdp instance');
    }
    this.#core = core;
    this.#generation = coreGeneration;
    this.#files = files;
    if (storage === 'indexeddb') {
      this.#sync = TabSync.create(name, (message) => {
        const { frame } = message;
        const apply = async (/** @type {Core} */ remote) => {
          if (frame instanceof Uint8Array) await remote.applyRemote(frame);
          else await remote.catchUp();
        };
        this.#run(apply, 'remote').catch(() => undefined);
      });
    }
    /** The database name this instance was opened with. */
    this.name = name;
    /** Where the data lives: `'indexeddb'` or `'files'` (persistent), or `'memory'`. */
    this.storage = storage;
    /** @type {import('./profiles.js').Runner} */
    const run = (task, mode) => this.#run(task, mode);
    /** Typed helpers for profiles. */
    this.profiles = new Profiles(run);
    /** Typed helpers for events. */
    this.events = new Events(run);
    /** Typed helpers for computed traits. */
    this.traits = new Traits(run);
    /** Typed helpers for segments, and subscriptions to their entries and exits. */
    this.segments = new Segments(run, this.#membership);
    Object.freeze(this);
  }

  /**
   * Loads the engine (once per page or process), opens the named database and replays it.
   * @param {CdpOptions} [options]
   * @returns {Promise<Cdp>}
   * @throws {CdpError} `cdp.invalid_argument`, `cdp.storage_unavailable`, `cdp.load_failed`,
   *   or the engine's own code (e.g. `config.invalid`, `storage.blocked`, `storage.corrupt`)
   */
  static async open(options = {}) {
    if (!isPlainObject(options)) throw new CdpError(codes.invalidArgument, 'options must be an object');
    const { name = 'cdp', config = {}, storage, durability = 'strict', directory } = options;
    if (typeof name !== 'string' || name === '') {
      throw new CdpError(codes.invalidArgument, 'name must be a non-empty string');
    }
    if (!isPlainObject(config)) throw new CdpError(codes.invalidArgument, 'config must be an object');
    if (durability !== 'strict' && durability !== 'relaxed') {
      throw new CdpError(codes.invalidArgument, `durability must be 'strict' or 'relaxed', not ${JSON.stringify(durability)}`);
    }
    const kind = chooseStorage(storage, directory);
    // The database opens while the wasm compiles; the engine takes the connection over, and
    // reports a failed open as its own error.
    const opening = kind === 'indexeddb' ? openDatabase(name) : undefined;
    opening?.catch(() => undefined);
    /** @type {any} */
    let files;
    /** @type {number | undefined} */
    let loaded;
    try {
      const core = await loadCore();
      loaded = core.loaded;
      if (kind === 'files') {
        const { openFileStorage } = await import('./file-storage.js');
        files = await openFileStorage(/** @type {string} */ (directory));
      }
      const opened = await core.CdpCore.open(config, kind === 'files' ? 'js' : kind, {
        durability,
        opening,
        backend: files,
        announce: kind === 'indexeddb',
      });
      return new Cdp(constructionKey, opened, core.loaded, name, kind, files);
    } catch (error) {
      // An engine that failed to open has closed the connection already, or never took it.
      opening?.then(({ database }) => database.close(), () => undefined);
      await files?.close().catch(() => undefined);
      if (loaded !== undefined && isTrap(error)) discardCore(loaded);
      throw toCdpError(error);
    }
  }

  /**
   * Deletes a database and everything in it. Engines open on it in any tab close themselves
   * (their later calls fail with `storage.closed`).
   * @param {string} name the database name (IndexedDB)
   * @param {{ directory?: string }} [options] `directory`: delete that data directory instead (Node)
   * @returns {Promise<void>}
   * @throws {CdpError} `storage.blocked` when a connection that is not an engine keeps it open
   */
  static async deleteDatabase(name, options = {}) {
    if (typeof name !== 'string' || name === '') {
      throw new CdpError(codes.invalidArgument, 'name must be a non-empty string');
    }
    if (options.directory !== undefined) {
      const { rm } = await import('node:fs/promises');
      await rm(options.directory, { recursive: true, force: true });
      return;
    }
    if (typeof globalThis.indexedDB !== 'object' || globalThis.indexedDB === null) {
      throw new CdpError(codes.storageUnavailable, 'IndexedDB is not available here');
    }
    await new Promise((resolve, reject) => {
      const request = globalThis.indexedDB.deleteDatabase(name);
      request.onsuccess = () => resolve(undefined);
      request.onerror = () => reject(new CdpError('storage.failed', `could not delete ${name}: ${request.error?.message}`));
      request.onblocked = () => reject(new CdpError('storage.blocked', `${name} is held open by another connection; it is deleted once that closes`));
    });
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
    const parts = readRequest(request, init);
    parts.catch(() => undefined);
    const mode = readsOnly(request.method) ? 'read' : 'write';
    return this.#run(async (core) => {
      const { method, target, headers, body } = await parts;
      return toResponse(await core.handle(method, target, headers, body));
    }, mode);
  }

  /**
   * Answers one REST request given as plain strings: what `fetch` does without building
   * WHATWG Request and Response objects, for code that speaks HTTP itself (`serve` answers
   * every request this way). The target is a path with an optional query; the headers are
   * flat name/value pairs. Resolves once any write is durable with `[status, headers, body]`,
   * headers as flat pairs with lower-case names; HTTP errors resolve like `fetch`'s.
   * @param {string} method e.g. `'GET'`
   * @param {string} target e.g. `'/v1/customers?page=2'`
   * @param {string[]} [headers] e.g. `['authorization', 'Basic …']`
   * @param {string} [body] `''` when there is none
   * @returns {Promise<[number, string[], string]>}
   */
  handle(method, target, headers = [], body = '') {
    /** @type {import('./http.js').CoreRequest} */
    let parts;
    try {
      parts = coreRequest(method, target, headers, body);
    } catch (error) {
      return Promise.reject(toCdpError(error));
    }
    const mode = readsOnly(parts.method) ? 'read' : 'write';
    return this.#run(
      async (core) => checkedAnswer(await core.handle(parts.method, parts.target, parts.headers, parts.body)),
      mode,
    );
  }

  /**
   * Runs one engine command given as its JSON object (`{ recordEvent: {...} }`,
   * `{ defineSegment: {...} }`, `{ mergeProfiles: {...} }`, … as docs/config.md lists them),
   * or a batch `{ batch: [command, …] }` applied as one write, all or nothing; resolves with
   * the outcome once the changes it made are durable.
   * @param {Record<string, unknown>} command an object with exactly one key, the command's name
   * @returns {Promise<Record<string, unknown>>} the outcome, e.g. `{ event, profile, created }`,
   *   or `{ results: [outcome, …] }` for a batch
   * @throws {CdpError} the engine's code, e.g. `segments.invalid_rule` naming the JSON path;
   *   for a batch, the refused record's code with its `index`
   */
  execute(command) {
    if (!isPlainObject(command) || Object.keys(command).length !== 1) {
      return Promise.reject(new CdpError(codes.invalidArgument, 'execute takes an object with one key, the command'));
    }
    return withJsonText(command, 'the command', (text) =>
      this.#run(async (core) => JSON.parse(await core.execute(utf8(text))), 'write'));
  }

  /**
   * Replaces, at run time, the credentials of each dialect named (the config's own shape,
   * limited to credentials). Tokens issued to removed or changed keys stop working.
   * @param {import('./index.js').Credentials} credentials
   * @returns {Promise<void>}
   * @throws {CdpError} `config.invalid` for an unknown key or a wrong shape
   */
  setCredentials(credentials) {
    if (!isPlainObject(credentials)) {
      return Promise.reject(new CdpError(codes.invalidArgument, 'setCredentials takes an object'));
    }
    return withJsonText(credentials, 'the credentials', (text) => this.#run((core) => {
      core.setCredentials(text);
    }));
  }

  /**
   * Exports all data as one NDJSON document, streamed in pieces of whole lines: a header
   * line, then one `{"type":"profile", …}` line per profile. Each piece is read when the
   * consumer pulls it, behind the calls issued before.
   * @param {{ profilesPerPiece?: number }} [options] default 1000
   * @returns {ReadableStream<string>}
   */
  export(options = {}) {
    const { profilesPerPiece = 1000 } = options;
    if (!Number.isInteger(profilesPerPiece) || profilesPerPiece < 1) {
      throw new CdpError(codes.invalidArgument, 'profilesPerPiece must be a positive integer');
    }
    return exportStream((task) => this.#run(task), profilesPerPiece);
  }

  /**
   * Imports an NDJSON document as `export()` writes it, all or nothing: every line is read
   * and checked first, then all profiles are written in one durable transaction.
   * @param {string | ReadableStream<string | Uint8Array> | AsyncIterable<string | Uint8Array>} source
   * @returns {Promise<{ profiles: number }>}
   * @throws {CdpError} `import.malformed_line` / `import.unsupported_format` /
   *   `import.conflict` with the `line` number; nothing is imported then
   */
  import(source) {
    return this.#run(async (core) => {
      core.importAbort();
      try {
        for await (const piece of wholeLines(source)) core.importLines(utf8(piece));
        if (this.#sync !== undefined) await core.catchUp();
        return { profiles: await core.importCommit() };
      } finally {
        core.importAbort();
      }
    }, 'write');
  }

  /**
   * Where the stored data stands: the log offset, the newest snapshot, and any snapshot the
   * last load skipped as corrupt (it fell back to an older one plus the log).
   * @returns {Promise<{ offset: number, snapshotOffset: number | null, skippedSnapshots: Array<{ code: string, message: string }> }>}
   */
  storageInfo() {
    return this.#run((core) => core.info());
  }

  /**
   * Writes a snapshot now and compacts the log (it also happens on its own as the log grows).
   * @returns {Promise<void>}
   */
  snapshot() {
    return this.#run(async (core) => {
      // One started on its own may not hold the latest writes: it commits first.
      await this.#snapshotting;
      await core.snapshot();
    }, 'write');
  }

  /**
   * Closes the database once the calls already issued have finished, writing a snapshot
   * first if the log has grown enough for one. Later calls reject with `cdp.closed`.
   * Calling it again returns the same promise.
   * @returns {Promise<void>}
   */
  close() {
    if (this.#closing === undefined) {
      this.#closed = true;
      const sync = this.#sync;
      this.#closing = this.#tail
        .then(() => this.#snapshotting)
        .then(async () => {
          if (this.#generation !== generation) return;
          try {
            // A snapshot the last writes made due is written now, so the next open is fast.
            if (this.#core.snapshotDue()) {
              const core = this.#core;
              await (sync === undefined
                ? core.snapshot()
                : sync.exclusive(async () => {
                    await core.catchUp();
                    await core.snapshot();
                  }));
            }
          } catch {
            // The writes are durable in the log; the next open replays them instead.
          }
          sync?.close();
          try {
            this.#core.close();
          } catch (error) {
            throw this.#fail(error);
          } finally {
            if (this.#generation === generation) this.#core.free();
          }
        })
        .finally(() => this.#files?.close());
    }
    return this.#closing;
  }

  /**
   * Queues a call into the core behind every call issued before it. With IndexedDB, a read
   * first applies what other tabs committed; a write holds the writer lock, catches up when
   * other tabs are open (a stale write would be refused by IndexedDB and re-run by the engine
   * anyway; see tab-sync.js) and announces its changes; `remote` applies an announcement.
   * @template T
   * @param {(core: Core) => T | Promise<T>} task
   * @param {Mode} [mode]
   * @returns {Promise<T>}
   */
  #run(task, mode = 'read') {
    if (this.#closed || this.#generation !== generation) return Promise.reject(closedError());
    const sync = this.#sync;
    const membership = this.#membership;
    const run = task;
    /** @param {Core} core */
    task = async (core) => {
      const value = await run(core);
      await membership.drain(core);
      return value;
    };
    const result = this.#tail
      .then(() => {
        if (this.#generation !== generation) throw closedError();
        const core = this.#core;
        if (mode === 'write') this.#snapshotWhenDue();
        if (sync === undefined || mode === 'remote') return task(core);
        if (mode === 'read') {
          if (this.#readCaughtUp && !sync.othersSeen) return task(core);
          return core.catchUp().then(() => {
            this.#readCaughtUp = true;
            return task(core);
          });
        }
        return sync.exclusive(async () => {
          if (sync.othersSeen) await core.catchUp();
          const value = await task(core);
          const frame = core.takeCommitted();
          if (frame !== undefined) sync.announce(frame);
          return value;
        });
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
   * Queues a snapshot behind the write now running, if that write makes one due: a write is
   * acknowledged once its changes are durable in the log, and the snapshot (which speeds up
   * the next open and compacts the log) follows as its own step (`#snapshotBeside`).
   */
  #snapshotWhenDue() {
    const written = this.#tail;
    written.then(() => {
      if (this.#closed || this.#generation !== generation) return;
      let due = false;
      try {
        due = this.#core.snapshotDue();
      } catch {
        return;
      }
      if (due) this.#run((core) => this.#snapshotBeside(core), 'write').catch(() => undefined);
    });
  }

  /**
   * Starts a due snapshot as a step of the queue and lets the queue go on: the engine's state
   * is read and handed to storage within the call, and the commit (IndexedDB's transaction
   * over the snapshot stores, beside the log's) completes on its own, so a write that comes
   * meanwhile does not wait for it.
   * @param {Core} core
   */
  #snapshotBeside(core) {
    if (!core.snapshotDue()) return;
    // A failed snapshot costs only a longer replay; an instance that trapped is forgotten.
    this.#snapshotting = core.snapshot().catch((error) => this.#fail(error));
  }

  /**
   * @param {unknown} error
   * @returns {CdpError}
   */
  #fail(error) {
    if (isTrap(error)) {
      this.#closed = true;
      this.#sync?.close();
      discardCore(this.#generation);
    }
    return toCdpError(error);
  }
}
