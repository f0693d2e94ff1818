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
  const first = await openFileStorage(directory);
  assert.equal((await readFile(join(directory, 'owner'), 'utf8')).trim(), String(process.pid));
  const second = await openFileStorage(directory);
  await first.close();
  assert.equal((await readFile(join(directory, 'owner'), 'utf8')).trim(), String(process.pid), 'still open here');
  await second.close();
  await assert.rejects(readFile(join(directory, 'owner')), { code: 'ENOENT' }, 'given up once closed');
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
    const storage = await openFileStorage(directory);
    assert.equal((await readFile(join(directory, 'owner'), 'utf8')).trim(), String(process.pid));
    await storage.close();
  } finally {
    parent.kill('SIGKILL');
  }
});

/**
 * The frames `readLog(from)` gives, as text.
 * @param {{ readLog(from: number): Promise<Uint8Array[]> }} storage
 * @param {number} from
 */
async function framesFrom(storage, from) {
  return (await storage.readLog(from)).map((frame) => Buffer.from(frame).toString());
}

/**
 * Appends one record of frames named after their offsets.
 * @param {{ append(offsets: number[], frames: Uint8Array[]): Promise<void> }} storage
 * @param {number[]} offsets
 */
function appendAt(storage, offsets) {
  return storage.append(offsets, offsets.map((offset) => Buffer.from(`frame ${offset}`)));
}

test('the log reads back from any offset across appends, compaction, a torn tail and a reopen', async () => {
  const directory = join(scratch, 'log');
  let storage = await openFileStorage(directory);
  await appendAt(storage, [1, 2]);
  await appendAt(storage, [3]);
  await appendAt(storage, [4, 5, 6]);
  const all = ['frame 1', 'frame 2', 'frame 3', 'frame 4', 'frame 5', 'frame 6'];
  assert.deepEqual(await framesFrom(storage, 0), all);
  assert.deepEqual(await framesFrom(storage, 3), all.slice(2));
  assert.deepEqual(await framesFrom(storage, 4), all.slice(3));
  assert.deepEqual(await framesFrom(storage, 7), []);
  // A snapshot at 6 keeping the log from 3 drops the first record only.
  await storage.writeSnapshot(6, 3, Buffer.from('manifest'), [Buffer.from('chunk')]);
  assert.deepEqual(await framesFrom(storage, 0), all.slice(2));
  await appendAt(storage, [7]);
  assert.deepEqual(await framesFrom(storage, 4), ['frame 4', 'frame 5', 'frame 6', 'frame 7']);
  assert.deepEqual(await framesFrom(storage, 7), ['frame 7']);
  await storage.close();
  // Half a record at the end (a write cut short) is dropped on the next open.
  const log = join(directory, 'log');
  await writeFile(log, Buffer.concat([await readFile(log), Buffer.from([40, 0, 0, 0, 1, 2, 3])]));
  storage = await openFileStorage(directory);
  assert.deepEqual(await framesFrom(storage, 0), [...all.slice(2), 'frame 7']);
  await appendAt(storage, [8, 9]);
  assert.deepEqual(await framesFrom(storage, 8), ['frame 8', 'frame 9']);
  // Compaction past every record leaves an empty log that still takes appends.
  await storage.writeSnapshot(9, 10, Buffer.from('manifest'), [Buffer.from('chunk')]);
  assert.deepEqual(await framesFrom(storage, 0), []);
  await appendAt(storage, [10]);
  assert.deepEqual(await framesFrom(storage, 0), ['frame 10']);
  await storage.close();
  storage = await openFileStorage(directory);
  assert.deepEqual(await framesFrom(storage, 0), ['frame 10']);
  await storage.close();
});
