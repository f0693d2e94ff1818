/**
 * Translation between WHATWG fetch objects and the engine's `handle()` call, which takes and
 * answers plain strings: `[method, target, headers, body]` in, `[status, headers, body]` out,
 * headers as flat `[name, value, name, value, …]` arrays with lower-case names.
 */
import { CdpError, codes } from './cdp-error.js';

/** Base for relative inputs: only the path and query of a request reach the engine. */
const RELATIVE_BASE = 'http://cdp-engine.invalid';

/** Statuses whose Response must not have a body (the Response constructor rejects one). */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/**
 * Builds a Request from exactly what `fetch(input, init)` accepts: a string or URL, absolute
 * or relative (`'/v1/customer/x'`), or a Request.
 * @param {RequestInfo | URL} input
 * @param {RequestInit | undefined} init
 * @returns {Request}
 * @throws {CdpError} `cdp.invalid_request` when fetch itself would reject the arguments
 */
export function toRequest(input, init) {
  try {
    if (input instanceof Request) return init === undefined ? input : new Request(input, init);
    return new Request(new URL(String(input), RELATIVE_BASE), init);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CdpError(codes.invalidRequest, `invalid request: ${reason}`, { cause: error });
  }
}

/**
 * @typedef {object} CoreRequest
 * @property {string} method upper-case HTTP method
 * @property {string} target path plus optional `?query`
 * @property {string[]} headers flat name/value pairs, names lower-case
 * @property {string} body request body as text, `''` when there is none
 */

/**
 * Reads a Request into the plain strings `handle()` takes.
 * @param {Request} request
 * @param {RequestInit} [init] what it was built with, if a string body may be taken as is
 * @returns {Promise<CoreRequest>}
 */
export async function readRequest(request, init) {
  /** @type {string[]} */
  const headers = [];
  for (const [name, value] of request.headers) headers.push(name, value);
  // A string body is the text the Request would give back; reading its stream takes tasks.
  const text = typeof init?.body === 'string' ? init.body : undefined;
  const body = text ?? (request.body === null ? '' : await request.text());
  return coreRequest(request.method, request.url, headers, body);
}

/**
 * The plain strings `handle()` takes, from a request given as strings (`Cdp.handle`) or read
 * from a Request: the target reduced to its path and query as a URL parser reads it (dot
 * segments resolved, characters escaped), the headers as a `Headers` object holds them, no
 * body on `GET` and `HEAD`.
 * @param {string} method
 * @param {string} target a path with an optional query (read as a path even when it starts
 *   with `//`), or an absolute URL
 * @param {string[]} headers flat name/value pairs
 * @param {string} body
 * @returns {CoreRequest}
 * @throws {CdpError} `cdp.invalid_request` for arguments of another kind or a target that
 *   is no URL
 */
export function coreRequest(method, target, headers, body) {
  if (
    typeof method !== 'string' ||
    typeof target !== 'string' ||
    !Array.isArray(headers) ||
    headers.length % 2 !== 0 ||
    !headers.every((item) => typeof item === 'string') ||
    typeof body !== 'string'
  ) {
    throw new CdpError(codes.invalidRequest, 'handle takes a method, a target, flat header name/value strings and a body string');
  }
  /** @type {URL} */
  let url;
  try {
    // A target starting with `/` is a path, as an HTTP server reads it (`//a/b` is the path
    // `//a/b`, not the host `a`): it is parsed after the base's origin, never against it.
    url = target.startsWith('/') ? new URL(`${RELATIVE_BASE}${target}`) : new URL(target, RELATIVE_BASE);
  } catch (error) {
    throw new CdpError(codes.invalidRequest, `invalid request target: ${target}`, { cause: error });
  }
  return { method, target: url.pathname + url.search, headers: combined(headers), body: readsOnly(method) ? '' : body };
}

/**
 * Whether requests of `method` carry no body and change nothing (`GET`, `HEAD`): they run as
 * reads.
 * @param {string} method
 * @returns {boolean}
 */
export function readsOnly(method) {
  return method === 'GET' || method === 'HEAD';
}

/**
 * Header pairs as a `Headers` object lists them: names lower-cased, values trimmed of HTTP
 * whitespace, the values of a repeated name joined with `, ` in its first place.
 * @param {string[]} headers flat name/value pairs
 * @returns {string[]}
 */
function combined(headers) {
  /** @type {Map<string, string>} */
  const values = new Map();
  for (let index = 0; index + 1 < headers.length; index += 2) {
    const name = headers[index].toLowerCase();
    const value = headers[index + 1].replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '');
    const seen = values.get(name);
    values.set(name, seen === undefined ? value : `${seen}, ${value}`);
  }
  return [...values].flat();
}

/**
 * Builds a real Response from the `[status, headers, body]` triple `handle()` resolves to.
 * @param {unknown} answer
 * @returns {Response}
 * @throws {CdpError} `cdp.internal` when the engine's answer is not such a triple
 */
export function toResponse(answer) {
  const [status, pairs, body] = checkedAnswer(answer);
  const headers = new Headers();
  for (let index = 0; index + 1 < pairs.length; index += 2) {
    headers.append(pairs[index], pairs[index + 1]);
  }
  return new Response(NULL_BODY_STATUSES.has(status) ? null : body, { status, headers });
}

/**
 * The `[status, headers, body]` triple `handle()` resolves to, checked, with no body for the
 * statuses that have none (as a Response would have it).
 * @param {unknown} answer
 * @returns {[number, string[], string]}
 * @throws {CdpError} `cdp.internal` when the engine's answer is not such a triple
 */
export function checkedAnswer(answer) {
  if (!isAnswer(answer)) {
    throw new CdpError(codes.internal, 'the engine answered with a malformed response');
  }
  const [status, headers, body] = answer;
  return [status, headers, NULL_BODY_STATUSES.has(status) ? '' : body];
}

/**
 * @param {unknown} answer
 * @returns {answer is [number, string[], string]}
 */
function isAnswer(answer) {
  return (
    Array.isArray(answer) &&
    answer.length === 3 &&
    Number.isInteger(answer[0]) &&
    Array.isArray(answer[1]) &&
    answer[1].length % 2 === 0 &&
    answer[1].every((item) => typeof item === 'string') &&
    typeof answer[2] === 'string'
  );
}
