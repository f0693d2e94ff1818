/**
 * Node loader: Node's fetch cannot read file: URLs, so the wasm bytes are read from disk.
 */
import { readFile } from 'node:fs/promises';

/**
 * @returns {Promise<Uint8Array>} the bytes of cdp_engine_bg.wasm next to this file
 */
export function wasmSource() {
  return readFile(new URL('./cdp_engine_bg.wasm', import.meta.url));
}
