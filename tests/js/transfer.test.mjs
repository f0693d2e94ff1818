/**
 * Export to NDJSON and import back, and the files storage `serve --data` uses, in Node.
 */
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Cdp, CdpError } from '../../pkg/index.js';

/** @type {string} */
let scratch;
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'cdp-transfer-'));
});
after(() => rm(scratch, { recursive: true, force: true }));

/**
 * @param {ReadableStream<string>} stream
 * @returns {Promise<string>}
 */
async function readAll(stream) {
  let text = '';
  for await (const piece of stream) text += piece;
  return text;
}

/**
 * An export document of `count` generated profiles.
 * @param {number} count
 * @param {string} prefix
 */
async function documentOf(count, prefix) {
  const source = await Cdp.open({ name: `source-${prefix}`, storage: 'memory' });
  for (let index = 0; index < count; index += 1) {
    await source.profiles.upsert({ identities: { email: [`${prefix}${index}@x.dk`] }, attributes: { n: index, tier: 'gold' } });
  }
  const text = await readAll(source.export({ profilesPerPiece: 7 }));
  await source.close();
  return text;
}

/**
 * @param {Promise<unknown>} promise
 * @param {string} code
 * @param {number} [line]
 */
async function rejectsWith(promise, code, line) {
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof CdpError);
    assert.equal(error.code, code);
    if (line !== undefined) assert.equal(error.line, line);
    return true;
  });
}

describe('export and import', () => {
  test('export is a header line then one profile line each, and import restores them exactly', async () => {
    const text = await documentOf(20, 'round');
    const lines = text.trimEnd().split('\n');
    assert.equal(lines.length, 21);
    assert.deepEqual(JSON.parse(lines[0]), { type: 'header', format: 1, profiles: 20, offset: 80 });
    assert.ok(lines.slice(1).every((line) => JSON.parse(line).type === 'profile'));

    const target = await Cdp.open({ name: 'target', storage: 'memory' });
    assert.deepEqual(await target.import(text), { profiles: 20 });
    const again = await readAll(target.export());
    assert.deepEqual(again.split('\n').slice(1), lines.slice(1).concat(''), 'every profile line is identical');
    const first = JSON.parse(lines[1]);
    const profile = await target.profiles.get(first.id);
    assert.equal(profile?.attributes.tier, 'gold');
    await target.close();
  });

  test('import reads a stream of bytes cut in the middle of lines', async () => {
    const bytes = new TextEncoder().encode(await documentOf(5, 'bytes'));
    const stream = new ReadableStream({
      start(controller) {
        for (let start = 0; start < bytes.length; start += 13) controller.enqueue(bytes.slice(start, start + 13));
        controller.close();
      },
    });
    const target = await Cdp.open({ name: 'stream-target', storage: 'memory' });
    assert.deepEqual(await target.import(stream), { profiles: 5 });
    assert.equal(await target.profiles.count(), 5);
    await target.close();
  });

  test('a malformed line is refused with its line number and nothing is imported', async () => {
    const lines = (await documentOf(3, 'bad')).trimEnd().split('\n');
    lines.splice(2, 0, '{"type":"profile","id":"nope"');
    const target = await Cdp.open({ name: 'bad-target', storage: 'memory' });
    await rejectsWith(target.import(lines.join('\n')), 'import.malformed_line', 3);
    await rejectsWith(target.import('{"type":"header","format":9,"profiles":0,"offset":0}\n'), 'import.unsupported_format', 1);
    assert.equal(await target.profiles.count(), 0);
    assert.equal((await target.storageInfo()).offset, 0);
    await target.close();
  });

  test('an import colliding with stored profiles changes nothing', async () => {
    const text = await documentOf(3, 'dup');
    const target = await Cdp.open({ name: 'dup-target', storage: 'memory' });
    await target.profiles.upsert({ identities: { email: ['dup2@x.dk'] } });
    await rejectsWith(target.import(text), 'import.conflict', 4);
    assert.equal(await target.profiles.count(), 1);
    await target.close();
  });
});

describe('files storage (serve --data)', () => {
  test('data in a directory survives closing and reopening, snapshot and tail alike', async () => {
    const directory = join(scratch, 'reopen');
    const cdp = await Cdp.open({ name: 'files', directory });
    assert.equal(cdp.storage, 'files');
    await cdp.import(await documentOf(30, 'files'));
    await cdp.snapshot();
    await cdp.profiles.upsert({ identities: { email: ['tail@x.dk'] }, attributes: { late: true } });
    const before = await readAll(cdp.export());
    await cdp.close();
    assert.ok((await readdir(directory)).some((name) => name.startsWith('snapshot-')));

    const reopened = await Cdp.open({ name: 'files', directory });
    assert.equal(await readAll(reopened.export()), before);
    await reopened.close();
  });

  test('a torn last log record is cut off on open, never replayed, and writing goes on', async () => {
    const directory = join(scratch, 'torn');
    const cdp = await Cdp.open({ name: 'files', directory });
    await cdp.profiles.upsert({ identities: { email: ['one@x.dk'] } });
    await cdp.profiles.upsert({ identities: { email: ['two@x.dk'] } });
    await cdp.close();
    const log = join(directory, 'log');
    const whole = await readFile(log);
    await appendFile(log, whole.subarray(0, Math.floor(whole.length / 3)));

    const reopened = await Cdp.open({ name: 'files', directory });
    assert.equal(await reopened.profiles.count(), 2);
    await reopened.profiles.upsert({ identities: { email: ['three@x.dk'] } });
    await reopened.close();
    const third = await Cdp.open({ name: 'files', directory });
    assert.equal(await third.profiles.count(), 3);
    assert.equal((await third.storageInfo()).offset, 6);
    await third.close();
  });

  test('a corrupt snapshot file falls back to the previous snapshot plus the log', async () => {
    const directory = join(scratch, 'corrupt');
    const cdp = await Cdp.open({ name: 'files', directory });
    await cdp.import(await documentOf(10, 'corrupt'));
    await cdp.snapshot();
    await cdp.profiles.upsert({ identities: { email: ['later@x.dk'] } });
    await cdp.snapshot();
    const before = await readAll(cdp.export());
    await cdp.close();
    const snapshots = (await readdir(directory)).filter((name) => name.startsWith('snapshot-')).sort();
    assert.equal(snapshots.length, 2);
    const newest = join(directory, snapshots[1]);
    const bytes = await readFile(newest);
    bytes[bytes.length - 3] ^= 0xff;
    await writeFile(newest, bytes);

    const reopened = await Cdp.open({ name: 'files', directory });
    const info = await reopened.storageInfo();
    assert.deepEqual(info.skippedSnapshots.map((entry) => entry.code), ['storage.corrupt']);
    assert.equal(await readAll(reopened.export()), before);
    await reopened.close();
  });

  test('deleteDatabase with a directory removes the data', async () => {
    const directory = join(scratch, 'deleted');
    const cdp = await Cdp.open({ name: 'files', directory });
    await cdp.profiles.upsert({ identities: { email: ['gone@x.dk'] } });
    await cdp.close();
    await Cdp.deleteDatabase('files', { directory });
    const fresh = await Cdp.open({ name: 'files', directory });
    assert.equal(await fresh.profiles.count(), 0);
    await fresh.close();
  });
});
