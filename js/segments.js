/**
 * `cdp.segments`: segments (rule trees over attributes, identities, tags, computed traits and
 * events, with membership kept up to date on every change), through the engine's `/cdp/v1`
 * surface, and subscriptions to profiles entering and leaving them. Each write resolves once
 * durable.
 */
import { CdpError, codes, isPlainObject } from './cdp-error.js';
import { badArgument, pageQuery, profilePart, request, segment, withQuery } from './own-api.js';

/** @typedef {import('./profiles.js').Core} Core */
/** @typedef {import('./profiles.js').Runner} Runner */
/** @typedef {import('./index.js').MembershipEvent} MembershipEvent */
/** @typedef {(event: MembershipEvent) => void} MembershipListener */

/**
 * Hands a listener's exception to the host's error reporting, so one broken listener neither
 * stops the others nor fails the write that fed them.
 * @param {unknown} error
 */
function report(error) {
  if (typeof globalThis.reportError === 'function') globalThis.reportError(error);
  else console.error(error);
}

/**
 * The subscribers to entries and exits. The facade calls `drain` after every call on the
 * engine (its own writes, reads that applied other tabs' changes, and other tabs'
 * announcements), inside that call's place in the queue, so a listener has seen every entry
 * and exit a write caused by the time the write's promise resolves.
 */
export class MembershipFeed {
  /** @type {Set<{ title: string | undefined, listener: MembershipListener }>} */
  #subscribers = new Set();

  /** Whether anyone listens (and the engine should collect entries and exits). */
  get listening() {
    return this.#subscribers.size > 0;
  }

  /**
   * @param {string | undefined} title
   * @param {MembershipListener} listener
   * @returns {{ entry: object, first: boolean }}
   */
  add(title, listener) {
    const entry = { title, listener };
    this.#subscribers.add(entry);
    return { entry, first: this.#subscribers.size === 1 };
  }

  /**
   * @param {object} entry
   * @returns {boolean} whether that was the last subscriber
   */
  remove(entry) {
    const removed = this.#subscribers.delete(/** @type {any} */ (entry));
    return removed && this.#subscribers.size === 0;
  }

  /**
   * Takes the entries and exits the engine collected and calls the listeners of each.
   * @param {Core} core
   */
  async drain(core) {
    if (!this.listening) return;
    const events = /** @type {MembershipEvent[]} */ (JSON.parse(await core.takeMembershipEvents()));
    for (const event of events) {
      for (const { title, listener } of [...this.#subscribers]) {
        if (title !== undefined && title !== event.segment) continue;
        try {
          listener(event);
        } catch (error) {
          report(error);
        }
      }
    }
  }
}

/**
 * @param {string} title
 * @param {string} [suffix]
 * @returns {string}
 */
function segmentPath(title, suffix = '') {
  return `/cdp/v1/segments/${segment(title, 'a segment system title')}${suffix}`;
}

/** Typed helpers for segments; every call is queued like `fetch`. */
export class Segments {
  /** @type {Runner} */
  #run;
  /** @type {MembershipFeed} */
  #feed;

  /**
   * @param {Runner} run
   * @param {MembershipFeed} feed
   */
  constructor(run, feed) {
    this.#run = run;
    this.#feed = feed;
    Object.freeze(this);
  }

  /**
   * Sends one request for a segment named by its system title.
   * @param {string} method
   * @param {string} title
   * @param {string} suffix
   * @param {'read' | 'write'} mode
   * @param {URLSearchParams} [query]
   * @returns {Promise<any>}
   */
  #about(method, title, suffix, mode, query = new URLSearchParams()) {
    let target;
    try {
      target = withQuery(segmentPath(title, suffix), query);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#run(async (core) => (await request(core, method, target)).body, mode);
  }

  /**
   * Adds a segment, or replaces the one with that system title, and evaluates it over every
   * profile.
   * @param {import('./index.js').SegmentDefinition} definition the `defineSegment` command's body
   * @returns {Promise<import('./index.js').DefinitionOutcome>}
   * @throws {CdpError} `segments.invalid_rule` with the `path` of the bad rule node
   */
  define(definition) {
    if (!isPlainObject(definition)) return badArgument('define takes a segment definition object');
    return this.#run(async (core) => (await request(core, 'POST', '/cdp/v1/segments', definition)).body, 'write');
  }

  /**
   * Every segment with its member count, in system-title order.
   * @returns {Promise<import('./index.js').Segment[]>}
   */
  list() {
    return this.#run(async (core) => (await request(core, 'GET', '/cdp/v1/segments')).body.data);
  }

  /**
   * One segment with its member count and history counts, or null when there is none.
   * @param {string} title
   * @returns {Promise<import('./index.js').Segment | null>}
   */
  get(title) {
    return this.#about('GET', title, '', 'read').catch((error) => {
      if (error instanceof CdpError && error.code === 'segments.unknown') return null;
      throw error;
    });
  }

  /**
   * The system titles of the segments a profile is a member of now.
   * @param {string} profileId
   * @returns {Promise<string[]>}
   * @throws {CdpError} `api.not_found` for an unknown profile, `model.invalid_id` for a malformed id
   */
  of(profileId) {
    return profilePart(this.#run, profileId, 'segments');
  }

  /**
   * Turns a segment on: its members are evaluated again and kept up to date.
   * @param {string} title
   * @returns {Promise<import('./index.js').DefinitionOutcome>} `changed` is false when it was on
   */
  activate(title) {
    return this.#about('POST', title, '/activate', 'write');
  }

  /**
   * Turns a segment off: it has no members while off.
   * @param {string} title
   * @returns {Promise<import('./index.js').DefinitionOutcome>} `changed` is false when it was off
   */
  deactivate(title) {
    return this.#about('POST', title, '/deactivate', 'write');
  }

  /**
   * Removes a segment.
   * @param {string} title
   * @returns {Promise<import('./index.js').DefinitionOutcome>}
   */
  delete(title) {
    return this.#about('DELETE', title, '', 'write');
  }

  /**
   * One page of a segment's member profile ids, in profile creation order.
   * @param {string} title
   * @param {{ limit?: number, cursor?: string | null }} [options] `limit` 1 to 100 (25 by default)
   * @returns {Promise<import('./index.js').Page<string>>}
   */
  members(title, options) {
    return this.#about('GET', title, '/members', 'read', pageQuery(options));
  }

  /**
   * One page of a segment's entries and exits, oldest first.
   * @param {string} title
   * @param {{ limit?: number, cursor?: string | null }} [options]
   * @returns {Promise<import('./index.js').Page<MembershipEvent>>}
   */
  history(title, options) {
    return this.#about('GET', title, '/history', 'read', pageQuery(options));
  }

  /**
   * Calls `listener` with every profile entering or leaving a segment (the one titled
   * `title`, or any), from the writes of this engine and, with IndexedDB, those other tabs
   * make on the same database, once they are durable. Returns the function that ends the
   * subscription.
   * @param {string | MembershipListener} titleOrListener
   * @param {MembershipListener} [maybeListener]
   * @returns {() => void}
   */
  subscribe(titleOrListener, maybeListener) {
    const [title, listener] =
      typeof titleOrListener === 'function' ? [undefined, titleOrListener] : [titleOrListener, maybeListener];
    if (typeof listener !== 'function' || (title !== undefined && (typeof title !== 'string' || title === ''))) {
      throw new CdpError(codes.invalidArgument, 'subscribe takes an optional system title and a listener');
    }
    const { entry, first } = this.#feed.add(title, listener);
    if (first) this.#run((core) => core.watchMembership(true)).catch(() => undefined);
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      if (this.#feed.remove(entry)) {
        this.#run((core) => core.watchMembership(false)).catch(() => undefined);
      }
    };
  }
}
