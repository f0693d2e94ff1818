/**
 * `serve --data DIR` owns its directory: another running process that owns it blocks
 * opening it; a process that has died, or was killed and not yet reaped, does not.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pkgDir } from './helpers/paths.mjs';

const { openFileStorage } = await import(join(pkgDir, 'file-storage.js'));

/** @type {string} */
let scratch;
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'cdp-file-storage-'));
});
after(() => rm(scratch, { recursive: true, force: true }));

/**
 * A data directory whose owner file names `pid`.
 * @param {string} name
 * @param {number} pid
 */
async function ownedBy(name, pid) {
  const directory = join(scratch, name);
  await (await openFileStorage(directory)).close();
  await writeFile(join(directory, 'owner'), `${pid}\n`);
  return directory;
}

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls until `check` holds.
 * @param {() => Promise<boolean>} check
 */
async function until(check) {
  for (let tries = 0; tries < 200; tries += 1) {
    if (await check()) return;
    await sleep(10);
  }
  throw new Error('timed out');
}

test('a directory owned by a running process is blocked; a dead owner is not', async () => {
  const sleeper = spawn('sleep', ['30']);
  try {
    const directory = await ownedBy('live', sleeper.pid ?? 0);
    await assert.rejects(openFileStorage(directory), (error) => {
      assert.equal(/** @type {{ code?: string }} */ (error).code, 'storage.blocked');
      return true;
    });
  } finally {
    sleeper.kill('SIGKILL');
  }
  await new Promise((resolve) => sleeper.once('exit', resolve));
  const directory = join(scratch, 'live');
  await (await openFileStorage(directory)).close();
  assert.equal((await readFile(join(directory, 'owner'), 'utf8')).trim(), String(process.pid));
});

test('an owner killed but not yet reaped by its parent (a zombie) does not block', { skip: process.platform !== 'linux' }, async () => {
  // sh starts a background sleep, prints its pid, then becomes a process that never reaps it.
  const parent = spawn('sh', ['-c', 'sleep 30 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const pid = Number((await new Promise((resolve) => parent.stdout.once('data', resolve))).toString().trim());
    // Killed only once sh has become the sleep that never reaps (sh itself might).
    await until(async () => (await readFile(`/proc/${parent.pid}/comm`, 'utf8')).trim() === 'sleep');
    process.kill(pid, 'SIGKILL');
    await until(async () => (await readFile(`/proc/${pid}/stat`, 'utf8')).includes(') Z '));
    const directory = await ownedBy('zombie', pid);
    await (await openFileStorage(directory)).close();
    assert.equal((await readFile(join(directory, 'owner'), 'utf8')).trim(), String(process.pid));
  } finally {
    parent.kill('SIGKILL');
  }
});
