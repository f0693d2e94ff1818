/**
 * The page side of the driver: runs one step of one scenario for one engine and hands back
 * its figures. bench/run.mjs calls `runStep` through `page.evaluate`, each step in a freshly
 * navigated page so no engine inherits another's heap.
 */

/**
 * @param {string} scenario file name under /pages/scenarios/ (without .mjs)
 * @param {string} engine engine key of that scenario's plan
 * @param {string} step name of an exported step function
 * @param {Record<string, unknown>} options sizes and repetitions chosen by the driver
 * @param {unknown} state what the previous step of the same repetition returned as `state`
 * @returns {Promise<{ metrics: Record<string, number | number[]>, checks?: Record<string, unknown>, state?: unknown }>}
 */
export async function runStep(scenario, engine, step, options, state) {
  const module = await import(`/pages/scenarios/${scenario}.mjs`);
  const run = module.steps?.[step];
  if (typeof run !== 'function') throw new Error(`scenario ${scenario} has no step ${step}`);
  return run(engine, options, state);
}

/**
 * Asks IndexedDB to delete a database. Resolves once it is deleted, or once the deletion is
 * queued behind a connection still closing (Chromium reports "blocked" for a connection closed
 * a moment ago; the deletion completes when it is gone, at the latest when the page closes).
 * @param {string} name
 * @returns {Promise<void>}
 */
export function deleteDatabase(name) {
  return new Promise((resolve, reject) => {
    const request = indexedDB.deleteDatabase(name);
    request.onsuccess = () => resolve();
    request.onerror = () => reject(request.error);
    request.onblocked = () => resolve();
  });
}

/**
 * A name no earlier step used, so every repetition starts from an empty database.
 * @param {string} prefix
 * @returns {string}
 */
export function freshName(prefix) {
  return `${prefix}-${Date.now().toString(36)}-${Math.floor(performance.now() * 1000).toString(36)}`;
}
