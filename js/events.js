/**
 * `cdp.events`: record events and read a profile's events, through the engine's `/cdp/v1`
 * surface. Each write resolves once durable.
 */
import { isPlainObject } from './cdp-error.js';
import { badArgument, request, withQuery } from './own-api.js';

/** @typedef {import('./profiles.js').Runner} Runner */

/**
 * An event in the `recordEvent` command's shape, with `Date` times turned into ISO text.
 * @param {Record<string, unknown>} event
 * @returns {Record<string, unknown>}
 */
function eventBody(event) {
  const body = { ...event };
  for (const key of ['happened', 'sent']) {
    if (body[key] instanceof Date) body[key] = /** @type {Date} */ (body[key]).toISOString();
  }
  return body;
}

/**
 * @param {unknown} value
 * @returns {string | undefined}
 */
function timeText(value) {
  if (value === undefined) return undefined;
  return value instanceof Date ? value.toISOString() : String(value);
}

/** Typed helpers for events; every call is queued like `fetch`. */
export class Events {
  /** @type {Runner} */
  #run;

  /** @param {Runner} run */
  constructor(run) {
    this.#run = run;
    Object.freeze(this);
  }

  /**
   * Records one event for a profile named by `profileId` or found (or created) by
   * `identities`. Resolves once durable.
   * @param {import('./index.js').EventInput} event
   * @returns {Promise<import('./index.js').EventOutcome>}
   * @throws {CdpError} e.g. `events.invalid_event` (with `path`), `events.unknown_profile`
   */
  record(event) {
    if (!isPlainObject(event)) return badArgument('record takes one event object');
    const body = eventBody(event);
    return this.#run(async (core) => (await request(core, 'POST', '/cdp/v1/events', body)).body, 'write');
  }

  /**
   * Records several events in one durable write, all or nothing. They are all checked first
   * (a malformed one rejects the call naming its `path`, e.g. `$[1].mode`); an event the
   * engine refuses while recording (an identity conflict the earlier events made) rejects the
   * call with its `index`. Either way nothing is recorded. One call takes 1 to 1,000 events
   * within the body limit (`maxBodyBytes`, 1 MB by default), as `POST /cdp/v1/events` does;
   * more is `api.invalid_request` (or `api.body_too_large`): split them, or send one
   * `cdp.execute({ batch })` of `recordEvent` commands.
   * @param {import('./index.js').EventInput[]} events
   * @returns {Promise<import('./index.js').EventOutcome[]>}
   */
  recordMany(events) {
    if (!Array.isArray(events) || !events.every(isPlainObject)) {
      return badArgument('recordMany takes an array of event objects');
    }
    const body = events.map(eventBody);
    return this.#run(async (core) => (await request(core, 'POST', '/cdp/v1/events', body)).body.data, 'write');
  }

  /**
   * One page of a profile's events: by `profileId` or `identity`, only `names` if given,
   * strictly between `start` and `end`, newest first unless `sort: 'asc'`, `limit` 1 to 100
   * (25 by default), from the `cursor` a previous page gave as `next`.
   * @param {import('./index.js').EventQuery} query
   * @returns {Promise<import('./index.js').Page<import('./index.js').CdpEvent>>}
   */
  query(query) {
    if (!isPlainObject(query)) return badArgument('query takes { profileId } or { identity }');
    const params = new URLSearchParams();
    if (query.profileId !== undefined) params.set('profileId', String(query.profileId));
    if (query.identity !== undefined) {
      const identity = /** @type {{ type?: unknown, value?: unknown }} */ (query.identity);
      if (!isPlainObject(identity) || typeof identity.type !== 'string' || typeof identity.value !== 'string') {
        return badArgument('identity is { type, value }');
      }
      params.set('identity', `${identity.type}:${identity.value}`);
    }
    for (const name of /** @type {string[]} */ (query.names ?? [])) params.append('name', name);
    const start = timeText(query.start);
    const end = timeText(query.end);
    if (start !== undefined) params.set('start', start);
    if (end !== undefined) params.set('end', end);
    if (query.sort !== undefined) params.set('sort', String(query.sort));
    if (query.limit !== undefined) params.set('limit', String(query.limit));
    if (query.cursor !== undefined && query.cursor !== null) params.set('cursor', String(query.cursor));
    const target = withQuery('/cdp/v1/events', params);
    return this.#run(async (core) => (await request(core, 'GET', target)).body);
  }
}
