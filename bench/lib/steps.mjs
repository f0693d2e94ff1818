/**
 * Running one engine's scenario steps from Node, one freshly loaded page per step, as the
 * suite does: shared by the tools that run steps by hand (`profile.mjs`, `ab.mjs`).
 */
import { OPTIONS } from '../options.mjs';

/** The full run's options of each scenario, by the name its page module has. */
export const SCENARIO_OPTIONS = {
  identity: OPTIONS.full.s1,
  segments: OPTIONS.full.s2,
  persist: OPTIONS.full.s3,
  latency: OPTIONS.full.s4,
  startup: OPTIONS.full.s5,
  ingest: OPTIONS.full.s6,
  rest: OPTIONS.full.s7,
};

/**
 * The scenario a tool was asked for and its options: `--options` JSON if given, else the
 * full run's. Throws on an unknown scenario.
 * @param {string | undefined} scenario
 * @param {string | undefined} optionsJson
 * @returns {{ scenario: string, options: object }}
 */
export function scenarioOptions(scenario, optionsJson) {
  const name = scenario ?? '';
  if (!(name in SCENARIO_OPTIONS)) {
    throw new Error(`--scenario is one of ${Object.keys(SCENARIO_OPTIONS).join(', ')}`);
  }
  const options = optionsJson === undefined
    ? SCENARIO_OPTIONS[/** @type {keyof typeof SCENARIO_OPTIONS} */ (name)]
    : JSON.parse(optionsJson);
  return { scenario: name, options };
}

/**
 * A fresh page of the suite at `origin`, ready to run a step.
 * @param {import('playwright-core').BrowserContext} context
 * @param {string} origin
 */
export async function stepPage(context, origin) {
  const page = await context.newPage();
  await page.goto(`${origin}/pages/index.html`);
  return page;
}

/**
 * Runs one step of `scenario` for `engine` in `page`; gives its `{ metrics, checks, state }`.
 * @param {import('playwright-core').Page} page
 * @param {{ scenario: string, engine: string, step: string, options: object, state: unknown }} step
 * @returns {Promise<{ metrics?: Record<string, number | number[]>, checks?: unknown, state?: unknown }>}
 */
export function runStep(page, { scenario, engine, step, options, state }) {
  return page.evaluate(
    async ([name, engineName, stepName, stepOptions, stepState]) =>
      (await import('/pages/runner.mjs')).runStep(name, engineName, stepName, stepOptions, stepState),
    /** @type {[string, string, string, object, unknown]} */ ([scenario, engine, step, options, state]),
  );
}
