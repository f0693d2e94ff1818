/**
 * Export and import of NDJSON documents: the document is moved in pieces of whole lines, so
 * a million profiles never become one giant string.
 */
import { CdpError, codes } from './cdp-error.js';

/** Size at which a piece of an import is handed to the engine. */
const PIECE_CHARS = 1 << 20;

/**
 * Yields `source` as pieces of whole lines (the last piece may lack its newline).
 * @param {string | ReadableStream<string | Uint8Array> | AsyncIterable<string | Uint8Array> | Iterable<string>} source
 * @returns {AsyncGenerator<string>}
 */
export async function* wholeLines(source) {
  if (typeof source === 'string') {
    let start = 0;
    while (start < source.length) {
      let end = source.indexOf('\n', Math.min(source.length, start + PIECE_CHARS));
      end = end === -1 ? source.length : end + 1;
      yield source.slice(start, end);
      start = end;
    }
    return;
  }
  const iterable = toAsyncIterable(source);
  const decoder = new TextDecoder();
  let pending = '';
  for await (const part of iterable) {
    pending += typeof part === 'string' ? part : decoder.decode(part, { stream: true });
    if (pending.length >= PIECE_CHARS) {
      const cut = pending.lastIndexOf('\n') + 1;
      if (cut > 0) {
        yield pending.slice(0, cut);
        pending = pending.slice(cut);
      }
    }
  }
  pending += decoder.decode();
  if (pending !== '') yield pending;
}

/**
 * @param {unknown} source
 * @returns {AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>}
 */
function toAsyncIterable(source) {
  if (typeof ReadableStream === 'function' && source instanceof ReadableStream) {
    const reader = source.getReader();
    return {
      async *[Symbol.asyncIterator]() {
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) return;
            yield value;
          }
        } finally {
          reader.releaseLock();
        }
      },
    };
  }
  const candidate = /** @type {any} */ (source);
  if (candidate !== null && typeof candidate === 'object' && (Symbol.asyncIterator in candidate || Symbol.iterator in candidate)) {
    return candidate;
  }
  throw new CdpError(codes.invalidArgument, 'import takes a string, a ReadableStream or an (async) iterable of text or bytes');
}

/**
 * A ReadableStream of an export document: the header line, then pieces of profile lines.
 * @param {<T>(task: (core: any) => T | Promise<T>) => Promise<T>} read queues a read on the engine
 * @param {number} profilesPerPiece
 * @returns {ReadableStream<string>}
 */
export function exportStream(read, profilesPerPiece) {
  let position = -1;
  let total = 0;
  return new ReadableStream(
    {
      async pull(controller) {
        if (position < 0) {
          const header = await read((core) => core.exportHeader());
          total = JSON.parse(header).profiles;
          position = 0;
          controller.enqueue(header);
          return;
        }
        if (position >= total) {
          controller.close();
          return;
        }
        const count = Math.min(profilesPerPiece, total - position);
        const text = await read((core) => core.exportProfiles(position, count));
        position += count;
        if (text === '') controller.close();
        else controller.enqueue(text);
      },
    },
    { highWaterMark: 1 },
  );
}
