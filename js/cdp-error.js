/**
 * The one error type the cdp-engine package throws and rejects with.
 *
 * Every failure carries a stable machine `code` (`config.invalid`, `identity.conflict`,
 * `cdp.closed`, …): match on the code, never on the message. Errors that describe an HTTP
 * answer also carry its `status`. Also here: the small checks that decide when to raise one.
 */
export class CdpError extends Error {
  /**
   * @param {string} code stable machine code, e.g. `storage.failed`
   * @param {string} message human-readable explanation; may change between releases
   * @param {{ status?: number, line?: number, path?: string, index?: number, cause?: unknown }} [details]
   */
  constructor(code, message, details = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'CdpError';
    /** @type {string} */
    this.code = code;
    if (details.status !== undefined) {
      /** @type {number | undefined} */
      this.status = details.status;
    }
    if (details.line !== undefined) {
      /** The line of an import document the error is about. @type {number | undefined} */
      this.line = details.line;
    }
    if (details.path !== undefined) {
      /** The JSON path of the node a refused document was refused at. @type {string | undefined} */
      this.path = details.path;
    }
    if (details.index !== undefined) {
      /** The record of a batch the error is about, from 0. @type {number | undefined} */
      this.index = details.index;
    }
  }
}

/** Codes the facade itself uses; the engine's own codes pass through unchanged. */
export const codes = Object.freeze({
  closed: 'cdp.closed',
  trapped: 'cdp.trapped',
  invalidArgument: 'cdp.invalid_argument',
  storageUnavailable: 'cdp.storage_unavailable',
  invalidRequest: 'cdp.invalid_request',
  aborted: 'cdp.aborted',
  loadFailed: 'cdp.load_failed',
  internal: 'cdp.internal',
});

/**
 * True when `error` is a WebAssembly trap (a Rust panic or an `unreachable`): the wasm
 * instance is dead from then on.
 * @param {unknown} error
 * @returns {boolean}
 */
export function isTrap(error) {
  return typeof WebAssembly !== 'undefined' && error instanceof WebAssembly.RuntimeError;
}

/**
 * Turns anything the core threw or rejected with into a CdpError, keeping the engine's code
 * and, when present, its HTTP status.
 * @param {unknown} error
 * @returns {CdpError}
 */
export function toCdpError(error) {
  if (error instanceof CdpError) return error;
  if (isTrap(error)) {
    return new CdpError(codes.trapped, 'the engine stopped on an internal error; open it again', {
      cause: error,
    });
  }
  if (typeof error === 'object' && error !== null) {
    const { code, message, status, line, index } = /** @type {{ code?: unknown, message?: unknown, status?: unknown, line?: unknown, index?: unknown }} */ (error);
    return new CdpError(
      typeof code === 'string' && code !== '' ? code : codes.internal,
      typeof message === 'string' && message !== '' ? message : String(error),
      {
        status: typeof status === 'number' ? status : undefined,
        line: typeof line === 'number' ? line : undefined,
        index: typeof index === 'number' ? index : undefined,
        // The core's own errors are plain `{ code, message }` objects with nothing more to
        // tell; anything else (a JS exception from a storage callback) stays the cause.
        cause: error instanceof Error ? error : undefined,
      },
    );
  }
  return new CdpError(codes.internal, String(error), { cause: error });
}

/**
 * @param {unknown} value
 * @returns {value is Record<string, unknown>} true for an object that is not an array
 */
export function isPlainObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const encoder = new TextEncoder();

/**
 * Text for the core, as the UTF-8 bytes it takes it in: TextEncoder encodes natively,
 * where a string argument would cross through wasm-bindgen's glue, which copies ASCII into
 * the wasm memory one character at a time in JS (17.6 MB of commands: 85–175 ms that way,
 * 4–6 ms encoded natively). Encoded into a buffer of one byte per UTF-16 unit, which holds
 * all of an ASCII text, rather than by `encode`, which sizes its buffer for the worst case
 * (Chromium, 17.6 MB of commands: 65–75 ms against 140–165); the rest of a text with other
 * characters goes into a buffer grown for it.
 * @param {string} text
 * @returns {Uint8Array}
 */
export function utf8(text) {
  let bytes = new Uint8Array(text.length);
  const { read = 0, written = 0 } = encoder.encodeInto(text, bytes);
  if (read === text.length) return bytes.subarray(0, written);
  // At most three bytes a UTF-16 unit (a surrogate pair: two units, four bytes).
  const grown = new Uint8Array(written + 3 * (text.length - read));
  grown.set(bytes.subarray(0, written));
  bytes = grown;
  const rest = encoder.encodeInto(text.slice(read), bytes.subarray(written));
  return bytes.subarray(0, written + (rest.written ?? 0));
}

/**
 * The JSON text of what a caller passed, or a `cdp.invalid_argument` CdpError for a value
 * JSON cannot hold (a cyclic object, a BigInt), instead of JSON.stringify's TypeError.
 * @param {unknown} value
 * @param {string} what names the argument in the message, e.g. 'the command'
 * @returns {string}
 */
export function jsonText(value, what) {
  try {
    return JSON.stringify(value);
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new CdpError(codes.invalidArgument, `${what} cannot be sent as JSON: ${reason}`, { cause: error });
  }
}

/**
 * Calls `use` with the JSON text of `value` (see {@link jsonText}), or rejects with the
 * CdpError: for methods that return a promise and take the text at call time.
 * @template T
 * @param {unknown} value
 * @param {string} what
 * @param {(text: string) => Promise<T>} use
 * @returns {Promise<T>}
 */
export function withJsonText(value, what, use) {
  let text;
  try {
    text = jsonText(value, what);
  } catch (error) {
    return Promise.reject(error);
  }
  return use(text);
}
