#!/usr/bin/env node
/**
 * A tiny static file server for the demo and the browser tests.
 *
 *     node scripts/static-server.mjs --port 8080 --root www --mount /pkg=pkg [--host H]
 *
 * Serves files with their content type (application/wasm for .wasm), sends the COOP/COEP
 * headers that make the page cross-origin isolated, never caches, and prints
 * `demo: http://localhost:PORT/` once listening. `--port 0` picks a free port. `--mount`
 * may be repeated; paths are resolved against the current directory.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';

const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.ts': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

const HEADERS = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
};

/**
 * @param {string[]} argv
 * @returns {{ port: number, host: string, mounts: Array<{ prefix: string, dir: string }> }}
 */
function parseCommandLine(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '8080' },
      host: { type: 'string', default: '127.0.0.1' },
      root: { type: 'string', default: '.' },
      mount: { type: 'string', multiple: true, default: [] },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad --port ${values.port}`);
  const mounts = values.mount.map((spec) => {
    const match = /^(\/[^=]*)=(.+)$/.exec(spec);
    if (match === null) throw new Error(`--mount takes /prefix=dir, not ${spec}`);
    return { prefix: match[1].replace(/\/+$/, ''), dir: resolve(match[2]) };
  });
  mounts.sort((a, b) => b.prefix.length - a.prefix.length);
  mounts.push({ prefix: '', dir: resolve(values.root) });
  return { port, host: values.host, mounts };
}

/**
 * Maps a URL path onto a file, or null when it falls outside every mounted directory.
 * @param {string} pathname decoded URL path
 * @param {Array<{ prefix: string, dir: string }>} mounts longest prefix first
 * @returns {string | null}
 */
function locate(pathname, mounts) {
  for (const { prefix, dir } of mounts) {
    if (pathname !== prefix && !pathname.startsWith(`${prefix}/`)) continue;
    const file = resolve(join(dir, pathname.slice(prefix.length)));
    return file === dir || file.startsWith(dir + sep) ? file : null;
  }
  return null;
}

/**
 * @param {import('node:http').ServerResponse} response
 * @param {number} status
 * @param {string} text
 */
function sendText(response, status, text) {
  response.writeHead(status, { ...HEADERS, 'content-type': 'text/plain; charset=utf-8' });
  response.end(text);
}

/**
 * @param {import('node:http').IncomingMessage} request
 * @param {import('node:http').ServerResponse} response
 * @param {Array<{ prefix: string, dir: string }>} mounts
 */
async function serveFile(request, response, mounts) {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    sendText(response, 405, 'method not allowed\n');
    return;
  }
  let pathname;
  try {
    pathname = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
  } catch {
    sendText(response, 400, 'bad path\n');
    return;
  }
  let file = locate(pathname, mounts);
  let info = file === null ? null : await stat(file).catch(() => null);
  if (file !== null && info?.isDirectory()) {
    file = join(file, 'index.html');
    info = await stat(file).catch(() => null);
  }
  if (file === null || info === null || !info.isFile()) {
    sendText(response, 404, 'not found\n');
    return;
  }
  const type = CONTENT_TYPES[/** @type {keyof CONTENT_TYPES} */ (extname(file))] ?? 'application/octet-stream';
  response.writeHead(200, { ...HEADERS, 'content-type': type, 'content-length': info.size });
  if (request.method === 'HEAD') {
    response.end();
    return;
  }
  createReadStream(file).on('error', () => response.destroy()).pipe(response);
}

function main() {
  let options;
  try {
    options = parseCommandLine(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`static-server: ${error instanceof Error ? error.message : error}\n`);
    process.exit(2);
  }
  const { mounts } = options;
  const server = createServer((request, response) => {
    serveFile(request, response, mounts).catch(() => {
      if (response.headersSent) response.destroy();
      else sendText(response, 500, 'internal error\n');
    });
  });
  server.listen(options.port, options.host, () => {
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : options.port;
    process.stdout.write(`demo: http://localhost:${port}/\n`);
  });
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main();
