/**
 * Scenario 6: ingesting N events (the scenario 2 data set's first N events, each naming its
 * profile by email, so the first event of a profile creates it) into a fresh engine on memory
 * storage, four ways:
 *
 * - as JS objects, one call per event: the core reads each `{ recordEvent }` object without
 *   JSON text (`CdpCore.executeObject`, serde-wasm-bindgen);
 * - as JSON text, one call per event: each command as JSON text (`CdpCore.execute`), which is
 *   what `cdp.execute` sends;
 * - as one batch: `cdp.execute({ batch })` of all events (JSON text, one write);
 * - as one batch of JS objects: the same batch through `executeObject`;
 * - through the typed helper: `cdp.events.recordMany` of arrays of 1,000 events (the most
 *   `POST /cdp/v1/events` takes), one durable write each.
 *
 * The package uses JSON text (`cdp.execute`, `cdp.profiles.upsertMany`); these rows show
 * whether that is the fastest crossing. Checks: events recorded and profiles created, equal
 * on every path.
 */
import { segmentColumns } from '../../lib/data.mjs';
import { freshName } from '../runner.mjs';

const OURS = 'cdp-engine';

/** @type {Record<string, string>} */
const PATHS = {
  objects: 'as JS objects, one call per event',
  text: 'as JSON text, one call per event',
  batch: 'as one batch (JSON text, cdp.execute)',
  objectBatch: 'as one batch of JS objects',
  recordMany: 'with cdp.events.recordMany, 1,000 a call',
};

/**
 * @param {{ events: number }} options
 */
export function plan(options) {
  const scenario = 6;
  const count = options.events.toLocaleString('en');
  const row = (/** @type {string} */ path, /** @type {string} */ note) =>
    ({ scenario, case: `ingest ${count} events ${PATHS[path]}`, engine: OURS, unit: 'events/s', better: /** @type {const} */ ('higher'), note });
  return {
    scenario,
    title: `Event ingest (${count} events)`,
    tasks: [
      { engine: 'objects', steps: ['ingest'], reps: 1, rows: { perSecond: row('objects', 'CdpCore.executeObject per event, awaited; memory storage') } },
      { engine: 'text', steps: ['ingest'], reps: 1, rows: { perSecond: row('text', 'CdpCore.execute(JSON.stringify(command)) per event, awaited (what cdp.execute does); memory storage') } },
      { engine: 'batch', steps: ['ingest'], reps: 1, rows: { perSecond: row('batch', 'one cdp.execute({ batch }) of every event; memory storage') } },
      { engine: 'objectBatch', steps: ['ingest'], reps: 1, rows: { perSecond: row('objectBatch', 'one CdpCore.executeObject({ batch }); memory storage') } },
      { engine: 'recordMany', steps: ['ingest'], reps: 1, rows: { perSecond: row('recordMany', 'cdp.events.recordMany of 1,000 events a call, awaited (POST /cdp/v1/events); memory storage') } },
    ],
    pending: [],
  };
}

/**
 * The first `count` events of the scenario 2 data set, as `recordEvent` bodies.
 * @param {number} count
 */
export function eventCommands(count) {
  const columns = segmentColumns(Math.ceil(count / 2));
  const events = [];
  for (let e = 0; e < count && e < columns.eventProfile.length; e += 1) {
    events.push({
      identities: { email: [`s${columns.eventProfile[e]}@example.com`] },
      name: columns.eventName[e],
      happened: new Date(columns.eventTime[e]).toISOString(),
      properties: { sequence: e },
    });
  }
  if (events.length !== count) throw new Error(`the data set has ${events.length} events, not ${count}`);
  return events;
}

export const steps = {
  /**
   * Ingests every event one way; times the ingest only.
   * @param {string} engine the path
   * @param {{ events: number }} options
   */
  async ingest(engine, options) {
    const events = eventCommands(options.events);
    const { Cdp } = await import('/pkg/index.js');
    const cdp = await Cdp.open({ name: 'warm-up', storage: 'memory' });
    await cdp.close();
    // The core itself, for the per-call paths: the glue module `Cdp.open` has just loaded.
    const { CdpCore } = await import('/pkg/cdp_engine.js');
    const core = await CdpCore.open({}, 'memory', {});
    const ours = engine === 'batch' || engine === 'recordMany' ? await Cdp.open({ name: freshName('bench-ingest'), storage: 'memory' }) : undefined;
    let recorded = 0;
    const start = performance.now();
    if (engine === 'objects') {
      for (const event of events) if ('event' in JSON.parse(await core.executeObject({ recordEvent: event }))) recorded += 1;
    } else if (engine === 'text') {
      // As the package hands text over: its UTF-8 bytes, encoded natively.
      const encoder = new TextEncoder();
      for (const event of events) if ('event' in JSON.parse(await core.execute(encoder.encode(JSON.stringify({ recordEvent: event }))))) recorded += 1;
    } else if (ours !== undefined) {
      if (engine === 'batch') {
        const { results } = await ours.execute({ batch: events.map((event) => ({ recordEvent: event })) });
        recorded = results.filter((/** @type {object} */ result) => 'event' in result).length;
      } else {
        for (let first = 0; first < events.length; first += 1000) {
          const outcomes = await ours.events.recordMany(events.slice(first, first + 1000));
          recorded += outcomes.filter((outcome) => 'event' in outcome).length;
        }
      }
      const perSecond = events.length / ((performance.now() - start) / 1000);
      const profiles = await ours.profiles.count();
      await ours.close();
      core.close();
      core.free();
      return { metrics: { perSecond }, checks: { events: recorded, profiles } };
    } else if (engine === 'objectBatch') {
      const { results } = JSON.parse(await core.executeObject({ batch: events.map((event) => ({ recordEvent: event })) }));
      recorded = results.filter((/** @type {object} */ result) => 'event' in result).length;
    } else throw new Error(`unknown path ${engine}`);
    const perSecond = events.length / ((performance.now() - start) / 1000);
    const profiles = core.profileCount();
    core.close();
    core.free();
    return { metrics: { perSecond }, checks: { events: recorded, profiles } };
  },
};
