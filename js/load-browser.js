/**
 * Browser (and Web Worker) loader: the wasm sits next to this file and is fetched, and
 * compiled while streaming, by the wasm-bindgen glue.
 * @returns {URL}
 */
export function wasmSource() {
  return new URL('./cdp_engine_bg.wasm', import.meta.url);
}
