/**
 * Sizes of what each engine fetches to start: raw, gzip (level 9) and brotli (quality 11 in
 * the full run, lower in the quick run), computed in Node on the files the page fetched
 * during its cold start. Brotli at quality 11 takes minutes on DuckDB's 34 MB wasm, so sizes
 * are cached in build/bench-sizes.json by path, size, modification time and quality.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

/**
 * @param {string} file
 * @param {number} quality brotli quality, 0 to 11
 * @returns {{ raw: number, gzip: number, brotli: number }} bytes
 */
export function fileSizes(file, quality) {
  const bytes = readFileSync(file);
  return {
    raw: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, {
      params: { [constants.BROTLI_PARAM_QUALITY]: quality, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
    }).length,
  };
}

/**
 * `fileSizes` through the cache in build/bench-sizes.json.
 * @param {string} file
 * @param {number} quality
 * @param {string} root repository root
 * @returns {{ raw: number, gzip: number, brotli: number }}
 */
function cachedSizes(file, quality, root) {
  const cacheFile = join(root, 'build', 'bench-sizes.json');
  /** @type {Record<string, { raw: number, gzip: number, brotli: number }>} */
  let cache = {};
  try {
    cache = JSON.parse(readFileSync(cacheFile, 'utf8'));
  } catch {
    cache = {};
  }
  const info = statSync(file);
  const key = `${file}:${info.size}:${info.mtimeMs}:q${quality}`;
  if (cache[key] === undefined) {
    cache[key] = fileSizes(file, quality);
    mkdirSync(dirname(cacheFile), { recursive: true });
    writeFileSync(cacheFile, `${JSON.stringify(cache, null, 1)}\n`);
  }
  return cache[key];
}

/**
 * @param {string[]} paths URL paths under /pkg/ or /node_modules/
 * @param {number} quality brotli quality
 * @param {string} root repository root
 * @returns {{ raw: number, gzip: number, brotli: number }} summed bytes
 */
function summed(paths, quality, root) {
  const total = { raw: 0, gzip: 0, brotli: 0 };
  for (const path of paths) {
    const sizes = cachedSizes(join(root, decodeURIComponent(path)), quality, root);
    total.raw += sizes.raw;
    total.gzip += sizes.gzip;
    total.brotli += sizes.brotli;
  }
  return total;
}

/**
 * @param {number} bytes
 * @returns {number} kilobytes (1000 bytes), one decimal
 */
function kilobytes(bytes) {
  return Math.round(bytes / 100) / 10;
}

/**
 * Size rows for every engine whose cold-start row lists the files it fetched.
 * @param {any[]} coldRows rows carrying `checks.resources`
 * @param {string} root repository root
 * @param {string} ours the engine label of our rows
 * @param {number} quality brotli quality
 * @returns {any[]}
 */
export function sizeRows(coldRows, root, ours, quality) {
  const seen = new Set();
  const rows = [];
  for (const cold of coldRows) {
    if (seen.has(cold.engine)) continue;
    seen.add(cold.engine);
    const files = /** @type {string[]} */ (cold.checks.resources);
    const wasmFiles = files.filter((path) => path.endsWith('.wasm'));
    const wasm = summed(wasmFiles, quality, root);
    const all = summed(files, quality, root);
    const base = {
      scenario: cold.scenario, engine: cold.engine, unit: 'kB', better: 'lower',
      ...(cold.engine === ours ? {} : { versus: ours }),
    };
    const wasmNames = wasmFiles.map((path) => path.split('/').pop()).join(', ');
    for (const kind of /** @type {const} */ (['raw', 'gzip', 'brotli'])) {
      if (wasmFiles.length === 0) continue;
      const what = kind === 'brotli' ? `brotli (quality ${quality})` : kind;
      rows.push({ ...base, case: `size: wasm, ${what}`, samples: [kilobytes(wasm[kind])], median: kilobytes(wasm[kind]), p95: kilobytes(wasm[kind]), note: wasmNames });
    }
    rows.push({
      ...base, case: 'size: everything fetched to start, gzip', samples: [kilobytes(all.gzip)], median: kilobytes(all.gzip), p95: kilobytes(all.gzip),
      note: `${files.length} files; raw ${kilobytes(all.raw)} kB, brotli (quality ${quality}) ${kilobytes(all.brotli)} kB`, files,
    });
  }
  return rows;
}
