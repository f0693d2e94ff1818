/**
 * How the typed helpers reach the engine: one `/cdp/v1` request in process, past the
 * `/cdp/v1` key check (the helpers run inside the page that holds the engine). A refusal
 * becomes a CdpError with the engine's code, the HTTP status and, for a refused JSON
 * document, the path of the bad node.
 */
import { CdpError, codes, jsonText } from './cdp-error.js';

/** @typedef {import('./profiles.js').Core} Core */
/** @typedef {import('./profiles.js').Runner} Runner */

/**
 * Sends one request and parses its JSON answer.
 * @param {Core} core
 * @param {string} method
 * @param {string} target path and query under `/cdp/v1`
 * @param {unknown} [body] sent as JSON when given
 * @returns {Promise<{ status: number, body: any }>}
 * @throws {CdpError} the engine's code for any answer of 400 or above
 */
export async function request(core, method, target, body) {
  const text = body === undefined ? '' : jsonText(body, 'the request body');
  const [status, , answer] = /** @type {[number, string[], string]} */ (await core.handleOwn(method, target, text));
  /** @type {any} */
  let parsed;
  try {
    parsed = answer === '' ? null : JSON.parse(answer);
  } catch (error) {
    throw new CdpError(codes.internal, `the engine answered ${status} with a body that is not JSON`, { cause: error });
  }
  if (status >= 400) {
    const error = parsed?.error ?? {};
    throw new CdpError(
      typeof error.code === 'string' ? error.code : codes.internal,
      typeof error.message === 'string' ? error.message : `the engine answered ${status}`,
      {
        status,
        path: typeof error.path === 'string' ? error.path : undefined,
        index: typeof error.index === 'number' ? error.index : undefined,
      },
    );
  }
  return { status, body: parsed };
}

/**
 * A path segment, percent-encoded.
 * @param {string} value
 * @param {string} what what the value names, for the error
 * @returns {string}
 */
export function segment(value, what) {
  if (typeof value !== 'string' || value === '') {
    throw new CdpError(codes.invalidArgument, `${what} must be a non-empty string`);
  }
  return encodeURIComponent(value);
}

/**
 * Reads `/cdp/v1/profiles/{id}/{part}` and answers its `part` field (a profile's `traits`,
 * its `segments`); a malformed id rejects before anything is queued.
 * @param {Runner} run
 * @param {string} profileId
 * @param {'traits' | 'segments'} part
 * @returns {Promise<any>}
 */
export function profilePart(run, profileId, part) {
  let path;
  try {
    path = `/cdp/v1/profiles/${segment(profileId, 'a profile id')}/${part}`;
  } catch (error) {
    return Promise.reject(error);
  }
  return run(async (core) => (await request(core, 'GET', path)).body[part]);
}

/**
 * `?limit=…&cursor=…` from paging options.
 * @param {{ limit?: number, cursor?: string | null } | undefined} options
 * @returns {URLSearchParams}
 */
export function pageQuery(options = {}) {
  const query = new URLSearchParams();
  if (options.limit !== undefined) query.set('limit', String(options.limit));
  if (options.cursor !== undefined && options.cursor !== null) query.set('cursor', options.cursor);
  return query;
}

/**
 * A target with its query, when the query has any parameter.
 * @param {string} path
 * @param {URLSearchParams} query
 * @returns {string}
 */
export function withQuery(path, query) {
  const text = query.toString();
  return text === '' ? path : `${path}?${text}`;
}

/**
 * Runs a rejected promise for a bad argument, the way every helper reports one.
 * @param {string} message
 * @returns {Promise<never>}
 */
export function badArgument(message) {
  return Promise.reject(new CdpError(codes.invalidArgument, message));
}
