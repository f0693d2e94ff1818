#!/usr/bin/env node
/**
 * cdp-engine-serve: the same wasm engine behind a local HTTP server, so vendor SDKs, curl and
 * other languages' test suites can talk to it.
 *
 *     cdp-engine-serve [serve] --port N --config FILE [--host H] [--data DIR]
 *
 * Storage is in memory, or with `--data DIR` in that directory: the same snapshot + log
 * records as IndexedDB, each write fsync'ed before it is answered, so a restart (even after
 * SIGKILL) loses nothing acknowledged. Every request is answered by `cdp.handle` (what
 * `cdp.fetch` does, with plain strings), so the server answers exactly what the in-page
 * engine answers, plus CORS for pages on other
 * origins: a preflight is answered 204 here, and every answer allows any origin (credentials
 * travel in headers, never cookies). `cdp.fetch` itself needs no CORS, so it lives here. A
 * request body is read only up to the config's `maxBodyBytes`: past it the server stops
 * reading and answers the dialect's 413 at once (the rest is dropped unread for at most
 * `LINGER_MS`, then the connection is closed). Bad arguments or an
 * unusable config file print one line on stderr and exit with code 2; SIGTERM and SIGINT stop
 * the server and exit with 0.
 */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { Cdp, CdpError } from './index.js';

const PROGRAM = 'cdp-engine-serve';
const USAGE = `usage: ${PROGRAM} [serve] --port N --config FILE [--host H] [--data DIR]`;
const EXIT_USAGE = 2;
const EXIT_FAILURE = 1;

/**
 * Headers on every answer: any origin may read it, and PrimeData's `Retry-After` is readable
 * by page scripts too.
 */
const CORS_HEADERS = Object.freeze({
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'Retry-After',
});

/** Headers of a preflight answer, beside `CORS_HEADERS`. */
const PREFLIGHT_HEADERS = Object.freeze({
  'access-control-allow-methods': 'GET, HEAD, POST, PUT, PATCH, DELETE',
  'access-control-allow-headers': 'Authorization, Content-Type, x-api-key',
  'access-control-max-age': '600',
});

/** The engine's body limit when the config names none (`maxBodyBytes`). */
const DEFAULT_MAX_BODY_BYTES = 1_000_000;

/**
 * How long the rest of a refused body is read and dropped after the 413, before the
 * connection is closed. Closing at once would reset it under a client still sending, and
 * clients such as undici's `fetch` then report a broken connection instead of the 413.
 */
const LINGER_MS = 1_000;

/** A problem with the command line or the config file: exit code 2. */
class UsageError extends Error {}

/**
 * The engine the server answers with. A wasm trap (an allocation the memory could not grow
 * for) ends an engine instance; with `--data` the server opens the directory again, which
 * holds every acknowledged write, and requests wait for it. In memory nothing survives the
 * instance, so the server answers the request and exits with a failure instead of serving
 * an empty engine as if it were the old one.
 */
class Engine {
  /** @type {Promise<Cdp>} */
  #current;

  /**
   * @param {() => Promise<Cdp>} open
   * @param {boolean} durable whether `open` finds the acknowledged writes again
   */
  constructor(open, durable) {
    this.open = open;
    this.durable = durable;
    this.#current = open();
  }

  /** @returns {Promise<Cdp>} */
  get cdp() {
    return this.#current;
  }

  /**
   * Answers through `cdp.handle`; after a trap, opens the engine again (`--data`) or
   * exits once the answer is sent (memory).
   * @param {Parameters<Cdp['handle']>} request
   * @param {import('node:http').ServerResponse} response
   */
  async handle(request, response) {
    const current = this.#current;
    const cdp = await current;
    try {
      return await cdp.handle(...request);
    } catch (error) {
      if (error instanceof CdpError && error.code === 'cdp.trapped') this.#trapped(current, response);
      throw error;
    }
  }

  /**
   * @param {Promise<Cdp>} dead
   * @param {import('node:http').ServerResponse} response
   */
  #trapped(dead, response) {
    if (this.#current !== dead) return;
    if (!this.durable) {
      response.once('close', () => quit('the engine stopped on an internal error (a wasm trap); memory storage kept nothing to reopen', EXIT_FAILURE));
      return;
    }
    process.stderr.write(`${PROGRAM}: the engine stopped on an internal error (a wasm trap); opening the data directory again\n`);
    this.#current = this.open();
    this.#current.catch((error) => quit(`cannot open the data directory again: ${error.message}`, EXIT_FAILURE));
  }
}

/**
 * @typedef {object} ServeOptions
 * @property {number} port 0 picks a free port
 * @property {string} host
 * @property {string} configPath
 * @property {string | undefined} dataDirectory
 */

/**
 * @param {string[]} argv the arguments after the script name
 * @returns {ServeOptions}
 * @throws {UsageError}
 */
function parseCommandLine(argv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        port: { type: 'string' },
        config: { type: 'string' },
        host: { type: 'string', default: '127.0.0.1' },
        data: { type: 'string' },
      },
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const flag = /'(-[^' ]*)/.exec(message)?.[1];
    const code = /** @type {{ code?: string }} */ (error).code;
    throw new UsageError(code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? `unknown flag ${flag}` : message);
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1 || (positionals.length === 1 && positionals[0] !== 'serve')) {
    throw new UsageError(`unexpected argument ${JSON.stringify(positionals.at(-1))}`);
  }
  if (values.port === undefined) throw new UsageError('missing --port');
  if (!/^\d{1,5}$/.test(values.port) || Number(values.port) > 65535) {
    throw new UsageError(`--port must be a number from 0 to 65535, not ${JSON.stringify(values.port)}`);
  }
  if (values.config === undefined) throw new UsageError('missing --config');
  if (values.host === undefined || values.host === '') throw new UsageError('--host must not be empty');
  if (values.data === '') throw new UsageError('--data must not be empty');
  return { port: Number(values.port), host: values.host, configPath: values.config, dataDirectory: values.data };
}

/**
 * Reads the engine config: a JSON object such as `{"arrigoo": {"apiKeys": [...]}}`.
 * @param {string} path
 * @returns {Promise<Record<string, unknown>>}
 * @throws {UsageError}
 */
async function readConfig(path) {
  let text;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const reason = /** @type {{ code?: string }} */ (error).code ?? String(error);
    throw new UsageError(`cannot read config file ${path} (${reason})`);
  }
  let config;
  try {
    config = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`config file ${path} is not valid JSON: ${/** @type {Error} */ (error).message}`);
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new UsageError(`config file ${path} must hold a JSON object`);
  }
  return config;
}

/**
 * Whether a request is a CORS preflight: `OPTIONS` naming the method the page wants to send.
 * Other `OPTIONS` requests go to the engine like any request.
 * @param {import('node:http').IncomingMessage} request
 */
function isPreflight(request) {
  return request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined;
}

/**
 * Whether the config leaves `/cdp/v1` open: no `cdp.apiKeys` (or only empty ones).
 * @param {any} config
 * @returns {boolean}
 */
function cdpSurfaceIsOpen(config) {
  const keys = config?.cdp?.apiKeys;
  return !(Array.isArray(keys) && keys.some((key) => typeof key === 'string' && key !== ''));
}

/**
 * Whether a request's path is under `/cdp/v1`, read the way the engine's router reads it:
 * percent-escapes decoded first (`%2F` included), then empty segments dropped.
 * @param {string} url
 * @returns {boolean}
 */
function isCdpPath(url) {
  const path = url.split('?')[0].replace(/%([0-9a-fA-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
  const [first, second] = path.split('/').filter((part) => part !== '');
  return first === 'cdp' && second === 'v1';
}

/**
 * An open `/cdp/v1` answers only clients that are not web pages: a browser sends `Origin` on
 * every cross-origin request, and with `Access-Control-Allow-Origin: *` any page the user
 * visits could otherwise read and change every profile through this port.
 * @param {import('node:http').IncomingMessage} request
 * @param {boolean} cdpOpen
 * @returns {Answer | undefined} the refusal, if refused
 */
function refuseOpenCdpToPages(request, cdpOpen) {
  if (!cdpOpen || request.headers.origin === undefined || !isCdpPath(request.url ?? '/')) return undefined;
  const error = {
    code: 'api.unauthenticated',
    message: 'an open /cdp/v1 (no cdp.apiKeys configured) answers no web page; configure cdp.apiKeys and send Authorization: Bearer <key>',
  };
  return [401, ['content-type', 'application/json', 'www-authenticate', 'Bearer'], JSON.stringify({ error })];
}

/** @typedef {[number, string[], string]} Answer status, flat header name/value pairs, body */

/** Request bodies as `fetch` reads them: UTF-8, a leading byte order mark dropped. */
const UTF8 = new TextDecoder();

/**
 * Reads a request body, keeping at most `limit + 1` bytes: once the body is past `limit` the
 * request is paused and nothing more is read. `GET` and `HEAD` bodies, which the engine
 * ignores, are read and dropped.
 * @param {import('node:http').IncomingMessage} request
 * @param {number} limit
 * @returns {Promise<{ body: Buffer, complete: boolean }>}
 */
function readBody(request, limit) {
  const keep = request.method !== 'GET' && request.method !== 'HEAD';
  return new Promise((resolve, reject) => {
    /** @type {Buffer[]} */
    const chunks = [];
    let size = 0;
    /** @param {Buffer} chunk */
    const onData = (chunk) => {
      if (!keep) return;
      chunks.push(chunk);
      size += chunk.length;
      if (size > limit) {
        request.off('data', onData);
        request.off('end', onEnd);
        request.pause();
        resolve({ body: Buffer.concat(chunks).subarray(0, limit + 1), complete: false });
      }
    };
    const onEnd = () => resolve({ body: Buffer.concat(chunks), complete: true });
    request.on('data', onData);
    request.once('end', onEnd);
    request.once('error', reject);
  });
}

/**
 * After the 413 for a body that was not read to its end: drops what the client still sends,
 * and closes the connection unless the body ends within `LINGER_MS`.
 * @param {import('node:http').IncomingMessage} request
 */
function linger(request) {
  const timer = setTimeout(() => request.socket.destroy(), LINGER_MS);
  timer.unref();
  request.once('end', () => clearTimeout(timer));
  request.resume();
}

/**
 * Answers one HTTP request: a CORS preflight here, anything else through `cdp.handle` (what
 * `cdp.fetch` does, without building Request and Response objects for it). A body
 * past `maxBodyBytes` reaches the engine cut to `maxBodyBytes + 1` bytes, which it refuses
 * with the dialect's 413; the rest is never kept (see `linger`).
 * @param {Engine} engine
 * @param {number} maxBodyBytes
 * @param {import('node:http').IncomingMessage} request
 * @param {import('node:http').ServerResponse} response
 * @param {boolean} cdpOpen whether `/cdp/v1` needs no key
 */
async function answer(engine, maxBodyBytes, request, response, cdpOpen) {
  const { body, complete } = await readBody(request, maxBodyBytes);
  if (!complete) response.once('finish', () => linger(request));
  const method = request.method ?? 'GET';
  if (isPreflight(request)) {
    response.writeHead(204, { ...CORS_HEADERS, ...PREFLIGHT_HEADERS });
    response.end();
    return;
  }
  const [status, headers, text] = refuseOpenCdpToPages(request, cdpOpen) ?? (await viaEngine(engine, request, response, method, body));
  response.statusCode = status;
  for (let index = 0; index + 1 < headers.length; index += 2) response.appendHeader(headers[index], headers[index + 1]);
  for (const [name, value] of Object.entries(CORS_HEADERS)) response.setHeader(name, value);
  response.end(method === 'HEAD' ? undefined : text);
}

/**
 * The engine's answer to a request, through `cdp.handle`.
 * @param {Engine} engine
 * @param {import('node:http').IncomingMessage} request
 * @param {import('node:http').ServerResponse} response
 * @param {string} method
 * @param {Buffer} body
 * @returns {Promise<Answer>}
 */
async function viaEngine(engine, request, response, method, body) {
  try {
    return await engine.handle([method, request.url ?? '/', request.rawHeaders, UTF8.decode(body)], response);
  } catch (error) {
    return errorReply(error);
  }
}

/**
 * The answer when `cdp.handle` itself rejects (a request it cannot read, or an engine
 * failure): a JSON body with the error's code.
 * @param {unknown} error
 * @returns {Answer}
 */
function errorReply(error) {
  const code = error instanceof CdpError ? error.code : 'cdp.internal';
  const message = error instanceof Error ? error.message : String(error);
  const status = code === 'cdp.invalid_request' ? 400 : 500;
  return [status, ['content-type', 'application/json'], JSON.stringify({ error: code, message })];
}

/**
 * @param {string} message
 * @param {number} exitCode
 */
function quit(message, exitCode) {
  process.stderr.write(`${PROGRAM}: ${message.split('\n')[0]}\n`);
  process.exit(exitCode);
}

async function main() {
  const options = parseCommandLine(process.argv.slice(2));
  const config = await readConfig(options.configPath);
  const durable = options.dataDirectory !== undefined;
  const engine = new Engine(
    () =>
      Cdp.open(
        durable
          ? { name: 'cdp-engine-serve', config, directory: options.dataDirectory }
          : { name: 'cdp-engine-serve', config, storage: 'memory' },
      ),
    durable,
  );
  try {
    await engine.cdp;
  } catch (error) {
    if (error instanceof CdpError && error.code.startsWith('config.')) {
      throw new UsageError(`config file ${options.configPath} was rejected: ${error.message} (${error.code})`);
    }
    throw error;
  }
  const cdpOpen = cdpSurfaceIsOpen(config);
  const limit = config.maxBodyBytes;
  const maxBodyBytes = typeof limit === 'number' && Number.isSafeInteger(limit) ? limit : DEFAULT_MAX_BODY_BYTES;
  const server = createServer((request, response) => {
    answer(engine, maxBodyBytes, request, response, cdpOpen).catch((error) => {
      response.destroy(error instanceof Error ? error : undefined);
    });
  });
  server.on('error', (error) => quit(`cannot listen on ${options.host}:${options.port}: ${error.message}`, EXIT_FAILURE));
  await new Promise((resolve) => server.listen(options.port, options.host, () => resolve(undefined)));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  process.stdout.write(`cdp-engine listening on http://${host}:${port}\n`);
  if (cdpOpen) {
    process.stderr.write(
      `${PROGRAM}: warning: /cdp/v1 is open (no cdp.apiKeys in ${options.configPath}): any program that can reach ` +
        `http://${host}:${port} may read and change every profile; requests from web pages (with an Origin header) are refused\n`,
    );
  }

  const stop = () => {
    server.close();
    server.closeAllConnections();
    engine.cdp.then((cdp) => cdp.close()).then(
      () => process.exit(0),
      (error) => quit(`failed to close the engine: ${error.message}`, EXIT_FAILURE),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error) => {
  if (error instanceof UsageError) quit(`${error.message} (${USAGE})`, EXIT_USAGE);
  quit(error instanceof Error ? error.message : String(error), EXIT_FAILURE);
});
