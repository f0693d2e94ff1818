/**
 * `cdp.profiles`: typed helpers over the engine's commands and reads.
 */
import { CdpError, codes, isPlainObject, utf8, withJsonText } from './cdp-error.js';

/** @typedef {import('./index.js').Profile} Profile */
/** @typedef {import('./index.js').ProfileInput} ProfileInput */
/** @typedef {import('./index.js').UpsertOutcome} UpsertOutcome */

/**
 * @typedef {object} Core the wasm-bindgen `CdpCore` instance (src/wasm/mod.rs)
 * @property {(method: string, target: string, headers: string[], body: string) => Promise<unknown>} handle
 * @property {(method: string, target: string, body: string) => Promise<unknown>} handleOwn
 * @property {(watching: boolean) => Promise<void>} watchMembership
 * @property {() => Promise<string>} takeMembershipEvents
 * @property {(command: Uint8Array) => Promise<string>} execute the command as UTF-8 JSON text ({@link utf8})
 * @property {(id: string) => Profile | undefined} profile
 * @property {() => number} profileCount
 * @property {(credentials: string) => void} setCredentials
 * @property {() => void} close
 * @property {() => void} free
 * @property {() => Promise<number>} catchUp
 * @property {(frame: Uint8Array) => Promise<void>} applyRemote
 * @property {() => Uint8Array | undefined} takeCommitted
 * @property {() => Promise<void>} snapshot
 * @property {() => boolean} snapshotDue
 * @property {() => any} info
 * @property {() => string} exportHeader
 * @property {(start: number, limit: number) => string} exportProfiles
 * @property {(text: Uint8Array) => void} importLines whole lines as UTF-8 ({@link utf8})
 * @property {() => Promise<number>} importCommit
 * @property {() => void} importAbort
 */
/** @typedef {'read' | 'write' | 'remote'} Mode */
/** @typedef {<T>(task: (core: Core) => T | Promise<T>, mode?: Mode) => Promise<T>} Runner */

/** Typed helpers for profiles; every call is queued like `fetch`. */
export class Profiles {
  /** @type {Runner} */
  #run;

  /** @param {Runner} run queues a call behind every earlier call on the engine */
  constructor(run) {
    this.#run = run;
    Object.freeze(this);
  }

  /**
   * Creates a profile, or updates the one its identities resolve to.
   * @param {ProfileInput} input
   * @returns {Promise<UpsertOutcome>} the profile id and whether it was created
   * @throws {CdpError} e.g. `identity.conflict` when the identities belong to two profiles
   */
  upsert(input) {
    if (!isPlainObject(input)) {
      return Promise.reject(new CdpError(codes.invalidArgument, 'upsert takes { identities, attributes }'));
    }
    const { identities, attributes = {} } = input;
    return withJsonText({ upsertProfile: { identities, attributes } }, 'the profile', (command) =>
      this.#run(async (core) => {
        const outcome = JSON.parse(await core.execute(utf8(command)));
        return { id: outcome.profile, created: outcome.created };
      }, 'write'));
  }

  /**
   * Creates or updates many profiles as one write: the records apply in order (a record sees
   * the profiles earlier ones created), all of them or none, and the promise resolves once
   * they are durable together (one IndexedDB transaction).
   * @param {ProfileInput[]} records
   * @returns {Promise<UpsertOutcome[]>} one outcome per record, in order
   * @throws {CdpError} the refused record's code (e.g. `identity.conflict`) with its `index`;
   *   nothing of the batch is stored then
   */
  upsertMany(records) {
    if (!Array.isArray(records)) {
      return Promise.reject(new CdpError(codes.invalidArgument, 'upsertMany takes an array of { identities, attributes }'));
    }
    const batch = new Array(records.length);
    for (let index = 0; index < records.length; index += 1) {
      const input = records[index];
      if (!isPlainObject(input)) {
        return Promise.reject(new CdpError(codes.invalidArgument, `record ${index}: upsertMany takes { identities, attributes }`, { index }));
      }
      const { identities, attributes = {} } = input;
      batch[index] = { upsertProfile: { identities, attributes } };
    }
    return withJsonText({ batch }, 'the records', (command) =>
      this.#run(async (core) => {
        const { results } = JSON.parse(await core.execute(utf8(command)));
        return results.map((/** @type {{ profile: string, created: boolean }} */ outcome) => ({ id: outcome.profile, created: outcome.created }));
      }, 'write'));
  }

  /**
   * Reads one profile.
   * @param {string} id the profile's uuid
   * @returns {Promise<Profile | null>} the canonical profile, or null when the id is unknown
   * @throws {CdpError} when `id` is not a uuid
   */
  get(id) {
    if (typeof id !== 'string') {
      return Promise.reject(new CdpError(codes.invalidArgument, 'a profile id is a uuid string'));
    }
    return this.#run((core) => {
      const profile = core.profile(id);
      return profile === undefined ? null : profile;
    });
  }

  /**
   * Counts the stored profiles.
   * @returns {Promise<number>}
   */
  count() {
    return this.#run((core) => core.profileCount());
  }
}
