/**
 * Several tabs on one IndexedDB database. The wasm engine lives per tab; this keeps the
 * tabs' engines consistent:
 *
 * - one writer at a time: every write runs inside a Web Lock named after the database. A
 *   write planned on a state that misses another tab's changes cannot be stored: log records
 *   are keyed by offset and only ever added, so IndexedDB refuses it, the engine reloads the
 *   missing changes (by offset, gap-free) and runs the write again on the fresh state.
 *   Because that re-run reloads the engine, a tab that knows other tabs are open first
 *   applies what they committed; a tab alone (the common case) writes without that read;
 * - after a write is durable, its changes (one batch frame, as IndexedDB stores it) are
 *   posted on a BroadcastChannel; the other tabs apply them in offset order, skipping what
 *   they have and filling a gap from IndexedDB. Large batches are announced without their
 *   changes and the others read them from IndexedDB;
 * - before every read, a tab applies what IndexedDB holds past its offset, so a read never
 *   misses a write another tab has acknowledged.
 *
 * Even without the lock (a browser with no `navigator.locks`), two writers cannot store one
 * offset twice: IndexedDB refuses the second and that write is re-run (after three lost races
 * it fails with `storage.conflict`). The lock only spares those re-runs, so a tab that has
 * seen no other tab on its database does not take it.
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
  /** Whether another tab has shown up on this database. */
  #othersSeen = false;

  /**
   * @param {string} name the database name
   * @param {(message: { frame?: Uint8Array }) => void} onAnnounce called with each other tab's announcement
   */
  constructor(name, onAnnounce) {
    this.#lockName = `cdp-engine:${name}`;
    this.#channel = new BroadcastChannel(`cdp-engine:${name}`);
    this.#channel.onmessage = (event) => {
      const message = event.data ?? {};
      this.#othersSeen = true;
      if (message.hello === true) this.#channel.postMessage({ here: true });
      if (message.hello === true || message.here === true) return;
      onAnnounce(message);
    };
    this.#channel.postMessage({ hello: true });
  }

  /**
   * Whether another tab has been seen on this database. Until one has, a write need not
   * read what others committed first (it would find nothing); a tab that opens announces
   * itself before it can write, and a write that still races it is refused and re-run.
   * @returns {boolean}
   */
  get othersSeen() {
    return this.#othersSeen;
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
   * Runs `task` holding the database's writer lock once other tabs are open.
   * @template T
   * @param {() => Promise<T>} task
   * @returns {Promise<T>}
   */
  exclusive(task) {
    const locks = globalThis.navigator?.locks;
    // Alone, a tab skips the lock: it only spares re-runs of writes that raced another tab.
    if (locks === undefined || !this.#othersSeen) return task();
    // The lock's promise settles with the task's own result (a promise returned by the
    // callback is awaited), which the DOM typings do not flatten.
    return /** @type {Promise<T>} */ (locks.request(this.#lockName, { mode: 'exclusive' }, task));
  }

  /**
   * Tells the other tabs about a durable write.
   * @param {Uint8Array} frame the write's changes; empty when the core left them out (a
   *   large batch), so the other tabs read them from IndexedDB
   */
  announce(frame) {
    const small = frame.byteLength > 0 && frame.byteLength <= LARGEST_ANNOUNCED_BYTES;
    this.#channel.postMessage(small ? { frame } : {});
  }

  close() {
    this.#channel.close();
  }
}
