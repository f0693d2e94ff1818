/**
 * Scenario 6: ingesting events three ways — JS objects one call each, JSON text, one batch —
 * so the package can use the fastest. The engine records no events yet, so every row is
 * pending; nothing else is timed in its place.
 */
import { pending } from '../../lib/stats.mjs';

/**
 * @param {{ events: number }} options
 */
export function plan(options) {
  const scenario = 6;
  const count = options.events.toLocaleString('en');
  const paths = ['as JS objects, one call per event', 'as JSON text', 'as one batch'];
  return {
    scenario,
    title: `Event ingest (${count} events)`,
    tasks: [],
    pending: paths.map((path) => pending(
      { scenario, case: `ingest ${count} events ${path}`, engine: 'cdp-engine', unit: 'events/s', better: 'higher' },
      'events (segments branch)',
    )),
  };
}

export const steps = {};
