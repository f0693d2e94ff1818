/**
 * Several tabs on one IndexedDB database. The wasm engine lives per tab; this keeps the
 * tabs' engines consistent:
 *
 * - one writer at a time: every write runs inside a Web Lock named after the database, and
 *   first applies whatever other tabs committed (read from IndexedDB, by offset, gap-free);
 * - after a write is durable, its changes (one batch frame, as IndexedDB stores it) are
 *   posted on a BroadcastChannel; the other tabs apply them in offset order, skipping what
 *   they have and filling a gap from IndexedDB. Large batches are announced without their
 *   changes and the others read them from IndexedDB;
 * - before every read, a tab applies what IndexedDB holds past its offset, so a read never
 *   misses a write another tab has acknowledged.
 *
 * Even without the lock (a browser with no `navigator.locks`), two writers cannot store one
 * offset twice: IndexedDB refuses the second (`storage.conflict`) and that write is retried.
 *
 * This lives in the facade rather than in Rust: locks and channels are plain JS APIs whose
 * callbacks must hold the call queue, which the facade owns.
 */

/** Batches larger than this are announced without their changes. */
const LARGEST_ANNOUNCED_BYTES = 1 << 20;

export class TabSync {
  #lockName;
  /** @type {BroadcastChannel} */
  #channel;

  /**
   * @param {string} name the database name
   * @param {(message: { frame?: Uint8Array }) => void} onAnnounce called with each other tab's announcement
   */
  constructor(name, onAnnounce) {
    this.#lockName = `cdp-engine:${name}`;
    this.#channel = new BroadcastChannel(`cdp-engine:${name}`);
    this.#channel.onmessage = (event) => onAnnounce(event.data ?? {});
  }

  /**
   * @param {string} name
   * @param {(message: { frame?: Uint8Array }) => void} onAnnounce
   * @returns {TabSync | undefined} undefined where there is no BroadcastChannel
   */
  static create(name, onAnnounce) {
    return typeof globalThis.BroadcastChannel === 'function' ? new TabSync(name, onAnnounce) : undefined;
  }

  /**
   * Runs `task` holding the database's writer lock.
   * @template T
   * @param {() => Promise<T>} task
   * @returns {Promise<T>}
   */
  exclusive(task) {
    const locks = globalThis.navigator?.locks;
    return locks === undefined ? task() : locks.request(this.#lockName, { mode: 'exclusive' }, task);
  }

  /**
   * Tells the other tabs about a durable write.
   * @param {Uint8Array} frame the write's changes
   */
  announce(frame) {
    this.#channel.postMessage(frame.byteLength <= LARGEST_ANNOUNCED_BYTES ? { frame } : {});
  }

  close() {
    this.#channel.close();
  }
}
