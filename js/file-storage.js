/**
 * Node only: the engine's log and snapshots in files, for `serve --data DIR`. The engine
 * (src/storage/js.rs) encodes every record exactly as it does for IndexedDB; this file only
 * keeps the bytes, durably:
 *
 *     DIR/log                  appended records: u32 length | u32 CRC-32 | body, where the
 *                              body is u32 count, then per frame f64 first offset | u32 length | frame
 *     DIR/snapshot-<offset>    u32 length | manifest frame | u32 count | (u32 length | chunk)*
 *     DIR/owner                the pid of the process using the directory, removed when its
 *                              last storage on the directory closes
 *
 * An append is one record, written and fdatasync'ed before its promise resolves. A record cut
 * short by a crash (SIGKILL, power loss) fails its length or CRC check on the next open and is
 * cut off: it was never acknowledged. Snapshots and the compacted log are written to a
 * temporary file, synced and renamed into place, so a crash leaves the old or the new file.
 */
import { closeSync, fsyncSync, openSync, readFileSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { crc32 } from 'node:zlib';

const LOG = 'log';
const OWNER = 'owner';
const SNAPSHOT = /^snapshot-(\d{20})$/;

/** How many storages of this process have each directory (resolved) open. */
const openHere = new Map();

/**
 * A storage error the engine understands (src/storage/js.rs maps `code`).
 * @param {string} code
 * @param {string} message
 */
function storageError(code, message) {
  return Object.assign(new Error(message), { code });
}

/**
 * The storage error for a failure: a storage error already made here as it is, a file
 * system error by its code.
 * @param {unknown} error
 */
function fromFsError(error) {
  const code = /** @type {{ code?: string }} */ (error).code;
  if (code?.startsWith('storage.')) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'ENOSPC' || code === 'EDQUOT') return storageError('storage.quota_exceeded', message);
  return storageError('storage.failed', message);
}

/** @param {number} offset */
function snapshotName(offset) {
  return `snapshot-${String(offset).padStart(20, '0')}`;
}

/** @param {string} directory */
function syncDirectory(directory) {
  const fd = openSync(directory, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes `bytes` to `path` so that a crash leaves either the old file or the new one.
 * @param {string} directory
 * @param {string} name
 * @param {Uint8Array[]} parts
 */
async function replaceFile(directory, name, parts) {
  const temporary = join(directory, `${name}.tmp`);
  const handle = await open(temporary, 'w');
  try {
    await handle.writev(parts);
    await handle.datasync();
  } finally {
    await handle.close();
  }
  await rename(temporary, join(directory, name));
  syncDirectory(directory);
}

/** @param {number} value */
function u32(value) {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32LE(value);
  return bytes;
}

/**
 * Splits the log file into its whole records; stops at the first torn or corrupt one.
 * `position` is where a record starts in `bytes`.
 * @param {Buffer} bytes
 * @returns {{ records: Array<{ first: number, position: number, frames: Array<{ offset: number, frame: Buffer }>, bytes: Buffer }>, end: number }}
 */
function parseLog(bytes) {
  const records = [];
  let position = 0;
  while (position + 8 <= bytes.length) {
    const length = bytes.readUInt32LE(position);
    const checksum = bytes.readUInt32LE(position + 4);
    const bodyStart = position + 8;
    if (bodyStart + length > bytes.length) break;
    const body = bytes.subarray(bodyStart, bodyStart + length);
    if (crc32(body) !== checksum || body.length < 4) break;
    const count = body.readUInt32LE(0);
    const frames = [];
    let cursor = 4;
    let whole = true;
    for (let index = 0; index < count; index += 1) {
      if (cursor + 12 > body.length) {
        whole = false;
        break;
      }
      const offset = body.readDoubleLE(cursor);
      const frameLength = body.readUInt32LE(cursor + 8);
      const frame = body.subarray(cursor + 12, cursor + 12 + frameLength);
      if (frame.length !== frameLength) {
        whole = false;
        break;
      }
      frames.push({ offset, frame });
      cursor += 12 + frameLength;
    }
    if (!whole || frames.length === 0) break;
    records.push({ first: frames[0].offset, position, frames, bytes: bytes.subarray(position, bodyStart + length) });
    position = bodyStart + length;
  }
  return { records, end: position };
}

/**
 * Parses a snapshot file.
 * @param {Buffer} bytes
 * @returns {{ manifest: Buffer, chunks: Buffer[] }}
 */
function parseSnapshot(bytes) {
  const corrupt = () => storageError('storage.corrupt', 'a snapshot file is truncated');
  if (bytes.length < 8) throw corrupt();
  const manifestLength = bytes.readUInt32LE(0);
  const manifest = bytes.subarray(4, 4 + manifestLength);
  let position = 4 + manifestLength;
  if (manifest.length !== manifestLength || position + 4 > bytes.length) throw corrupt();
  const count = bytes.readUInt32LE(position);
  position += 4;
  const chunks = [];
  for (let index = 0; index < count; index += 1) {
    if (position + 4 > bytes.length) throw corrupt();
    const length = bytes.readUInt32LE(position);
    const chunk = bytes.subarray(position + 4, position + 4 + length);
    if (chunk.length !== length) throw corrupt();
    chunks.push(chunk);
    position += 4 + length;
  }
  return { manifest, chunks };
}

/**
 * Reads only the manifest at the head of a snapshot file.
 * @param {string} path
 * @returns {Promise<Uint8Array | undefined>}
 */
async function readManifest(path) {
  let handle;
  try {
    handle = await open(path, 'r');
    const length = Buffer.alloc(4);
    if ((await handle.read(length, 0, 4, 0)).bytesRead !== 4) return undefined;
    const manifest = Buffer.alloc(length.readUInt32LE(0));
    const { bytesRead } = await handle.read(manifest, 0, manifest.length, 4);
    return bytesRead === manifest.length ? new Uint8Array(manifest) : undefined;
  } catch {
    return undefined;
  } finally {
    await handle?.close();
  }
}

/**
 * @param {number} pid
 * @returns {boolean} whether a process with this pid is running
 */
function alive(pid) {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return /** @type {{ code?: string }} */ (error).code === 'EPERM';
  }
  // A process killed but not yet reaped by its parent (a zombie, state Z in Linux's
  // /proc/PID/stat) still answers signal 0, yet holds nothing any more.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/**
 * Opens (creating) the data directory and repairs a log cut short by a crash.
 * @param {string} directory
 * @returns {Promise<object>} the backend object src/storage/js.rs calls
 * @throws {Error} with `code` `storage.blocked` when another running process owns the directory
 */
export async function openFileStorage(directory) {
  await mkdir(directory, { recursive: true });
  const ownerFile = join(directory, OWNER);
  const owner = Number((await readFile(ownerFile, 'utf8').catch(() => '')).trim());
  if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
    throw storageError('storage.blocked', `${directory} is in use by process ${owner}`);
  }
  await writeFile(ownerFile, `${process.pid}\n`);
  for (const name of await readdir(directory)) {
    if (name.endsWith('.tmp')) await rm(join(directory, name), { force: true });
  }
  const logPath = join(directory, LOG);
  const existing = await readFile(logPath).catch(() => Buffer.alloc(0));
  const parsed = parseLog(existing);
  let log = await open(logPath, 'a+');
  if (parsed.end !== existing.length) {
    await log.truncate(parsed.end);
    await log.datasync();
  }
  let size = parsed.end;
  /**
   * Where each whole record of the log starts and the offset of its first change, kept from
   * the check above and updated by every append and compaction: reading the log from an
   * offset reads only the records at or after it (none, on a restart right after a
   * snapshot) instead of the whole file again.
   * @type {Array<{ first: number, position: number }>}
   */
  let records = parsed.records.map(({ first, position }) => ({ first, position }));
  /** Serializes writes: one append or snapshot at a time. */
  let writing = Promise.resolve();
  /**
   * @template T
   * @param {() => Promise<T>} task
   * @returns {Promise<T>}
   */
  const exclusive = (task) => {
    const result = writing.then(task);
    writing = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  };

  /**
   * The bytes of the log's records from the first whose offset is `from` or later to the end
   * (whole records only), and where they start in the file.
   * @param {number} from
   */
  async function logFrom(from) {
    const first = records.find((record) => record.first >= from);
    if (first === undefined) return { bytes: Buffer.alloc(0), position: size };
    const bytes = Buffer.alloc(size - first.position);
    const { bytesRead } = await log.read(bytes, 0, bytes.length, first.position);
    if (bytesRead !== bytes.length) throw storageError('storage.failed', 'the log file is shorter than written');
    return { bytes, position: first.position };
  }

  async function snapshotOffsets() {
    const offsets = [];
    for (const name of await readdir(directory)) {
      const match = SNAPSHOT.exec(name);
      if (match !== null) offsets.push(Number(match[1]));
    }
    return offsets.sort((a, b) => a - b);
  }

  // Counted once the storage is ready: a failed open leaves the count as it was.
  const held = resolve(directory);
  openHere.set(held, (openHere.get(held) ?? 0) + 1);
  let closed = false;
  return {
    async manifests() {
      const manifests = [];
      for (const offset of await snapshotOffsets()) {
        const manifest = await readManifest(join(directory, snapshotName(offset)));
        // A snapshot file without a whole manifest is left out, like one that does not decode.
        if (manifest !== undefined) manifests.push(manifest);
      }
      return manifests;
    },

    /** @param {number} offset */
    async readSnapshot(offset) {
      const bytes = await readFile(join(directory, snapshotName(offset))).catch((error) => {
        throw fromFsError(error);
      });
      // Views of the file's bytes: the engine copies each into its own memory as it decodes it.
      return parseSnapshot(bytes).chunks;
    },

    /** @param {number} from */
    readLog(from) {
      return exclusive(async () => {
        const frames = [];
        const tail = await logFrom(from).catch((error) => {
          throw fromFsError(error);
        });
        for (const record of parseLog(tail.bytes).records) {
          for (const { frame } of record.frames) frames.push(new Uint8Array(frame));
        }
        return frames;
      });
    },

    /**
     * @param {number[]} offsets
     * @param {Uint8Array[]} frames
     */
    append(offsets, frames) {
      return exclusive(async () => {
        /** @type {Uint8Array[]} */
        const parts = [u32(frames.length)];
        frames.forEach((frame, index) => {
          const header = Buffer.alloc(12);
          header.writeDoubleLE(offsets[index] ?? 0, 0);
          header.writeUInt32LE(frame.length, 8);
          parts.push(header, frame);
        });
        const body = Buffer.concat(parts);
        const record = Buffer.concat([u32(body.length), u32(crc32(body)), body]);
        try {
          await log.write(record, 0, record.length, size);
          await log.datasync();
          records.push({ first: offsets[0] ?? 0, position: size });
          size += record.length;
        } catch (error) {
          // Cut off whatever part of the record reached the file: it was not acknowledged.
          await log.truncate(size).catch(() => undefined);
          throw fromFsError(error);
        }
      });
    },

    /**
     * @param {number} offset
     * @param {number} logStart
     * @param {Uint8Array} manifest
     * @param {Uint8Array[]} chunks
     */
    writeSnapshot(offset, logStart, manifest, chunks) {
      return exclusive(async () => {
        try {
          const parts = [u32(manifest.length), manifest, u32(chunks.length)];
          for (const chunk of chunks) parts.push(u32(chunk.length), chunk);
          await replaceFile(directory, snapshotName(offset), parts);
          if (logStart <= 0) return;
          for (const older of await snapshotOffsets()) {
            if (older < logStart) await rm(join(directory, snapshotName(older)), { force: true });
          }
          const kept = await logFrom(logStart);
          await replaceFile(directory, LOG, [kept.bytes]);
          await log.close();
          log = await open(logPath, 'a+');
          size = kept.bytes.length;
          records = records
            .filter((record) => record.position >= kept.position)
            .map((record) => ({ first: record.first, position: record.position - kept.position }));
        } catch (error) {
          throw fromFsError(error);
        }
      });
    },

    /** Closes the log file and, when no other storage of this process has the directory open, gives it up. */
    async close() {
      if (closed) return;
      closed = true;
      await writing;
      await log.close();
      const others = (openHere.get(held) ?? 1) - 1;
      if (others > 0) {
        openHere.set(held, others);
        return;
      }
      openHere.delete(held);
      const owner = (await readFile(ownerFile, 'utf8').catch(() => '')).trim();
      if (owner === String(process.pid)) await rm(ownerFile, { force: true });
    },
  };
}
