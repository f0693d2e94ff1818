/**
 * Run metadata: the machine, the browser, and the exact version of every peer package.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

/** The peer packages whose versions every result file records. */
export const PEER_PACKAGES = [
  '@duckdb/duckdb-wasm',
  '@electric-sql/pglite',
  'dexie',
  '@sqlite.org/sqlite-wasm',
  'autocannon',
  'apache-arrow',
  'playwright-core',
];

/**
 * @param {string} command
 * @param {string[]} args
 * @returns {string} its stdout, or '' when it cannot run
 */
function output(command, args) {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

/**
 * CPU model, core count, memory, OS and load, as `nproc`, `lscpu` and Node see them.
 * @returns {Record<string, unknown>}
 */
export function machineInfo() {
  const model = /^Model name:\s*(.+)$/m.exec(output('lscpu', []))?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  return {
    cpu: model,
    nproc: Number(output('nproc', [])) || os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAverage: os.loadavg().map((load) => Math.round(load * 100) / 100),
  };
}

/**
 * Installed versions of the peer packages, read from node_modules.
 * @param {string} root repository root
 * @returns {Record<string, string>}
 */
export function peerVersions(root) {
  /** @type {Record<string, string>} */
  const versions = {};
  for (const name of PEER_PACKAGES) {
    try {
      versions[name] = JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).version;
    } catch {
      versions[name] = 'not installed';
    }
  }
  return versions;
}

const ENGINE_SOURCES = ['src', 'js', 'pkg.json', 'Cargo.toml', 'Cargo.lock'];

/**
 * The version of our package, the last commit that changed the engine's sources (what was
 * measured), the checked-out commit (the suite), and whether the sources had local changes.
 * @param {string} root repository root
 * @returns {{ version: string, engineCommit: string, commit: string, dirty: boolean }}
 */
export function ourVersion(root) {
  const version = JSON.parse(readFileSync(join(root, 'pkg.json'), 'utf8')).version;
  const engineCommit = output('git', ['-C', root, 'log', '-1', '--format=%h', '--', ...ENGINE_SOURCES]);
  const commit = output('git', ['-C', root, 'rev-parse', '--short', 'HEAD']);
  const dirty = output('git', ['-C', root, 'status', '--porcelain', '--', ...ENGINE_SOURCES]) !== '';
  return { version, engineCommit, commit, dirty };
}
