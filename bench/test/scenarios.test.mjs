/**
 * The scenarios' own logic that runs outside the timed code: the rows they fill, the data
 * scenario 2 relies on, and the checks scenario 7 applies to every answer.
 *
 *     node --test bench/test/
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DATA_NOW, segmentColumns } from '../lib/data.mjs';
import { OPTIONS } from '../options.mjs';
import * as identity from '../pages/scenarios/identity.mjs';
import * as ingest from '../pages/scenarios/ingest.mjs';
import * as latency from '../pages/scenarios/latency.mjs';
import * as persist from '../pages/scenarios/persist.mjs';
import * as rest from '../pages/scenarios/rest.mjs';
import * as segments from '../pages/scenarios/segments.mjs';
import * as startup from '../pages/scenarios/startup.mjs';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

test('scenarios 1, 2, 3, 4, 6 and 7 have no pending rows, and every side of a case reports the same metric', () => {
  for (const [module, options] of [
    [identity, OPTIONS.full.s1], [segments, OPTIONS.full.s2], [persist, OPTIONS.full.s3], [latency, OPTIONS.full.s4],
    [ingest, OPTIONS.full.s6], [rest, OPTIONS.full.s7],
  ]) {
    const planned = /** @type {any} */ (module).plan(options);
    assert.deepEqual(planned.pending, [], `scenario ${planned.scenario}`);
    /** @type {Map<string, string>} */
    const units = new Map();
    for (const task of planned.tasks) {
      for (const row of Object.values(task.rows)) {
        const { case: what, unit } = /** @type {any} */ (row);
        assert.equal(units.get(what) ?? unit, unit, `${what}: one unit on every side`);
        units.set(what, unit);
      }
    }
  }
  const scenario4 = latency.plan(OPTIONS.full.s4);
  for (const task of scenario4.tasks) {
    assert.deepEqual(Object.keys(task.rows), ['p50', 'p99', 'readP50', 'readP99'], `scenario 4 ${task.engine}: writes and reads`);
  }
  const scenario2 = segments.plan({ sizes: [100, 200], reps: 1 });
  assert.deepEqual(scenario2.tasks.map((task) => task.engine), ['duckdb:100', 'cdp:100', 'duckdb:200', 'cdp:200']);
  assert.deepEqual(Object.keys(scenario2.tasks[0].rows), Object.keys(scenario2.tasks[1].rows), 'ours fills every row DuckDB fills');
});

test('scenario 5 times opening an empty database on the IndexedDB engines only, ours and Dexie alike', () => {
  const planned = startup.plan({ reps: 1, brotliQuality: 11 });
  const opening = planned.tasks.filter((task) => 'open' in task.rows);
  assert.deepEqual(opening.map((task) => task.engine), ['cdp', 'dexie']);
  for (const task of opening) assert.deepEqual(task.steps, ['start', 'open'], task.engine);
  const [ours, dexie] = opening.map((task) => /** @type {any} */ (task.rows.open));
  assert.equal(ours.case, dexie.case);
  assert.equal(ours.unit, dexie.unit);
  assert.equal(dexie.versus, 'cdp-engine');
  for (const task of planned.tasks.filter((task) => !('open' in task.rows))) {
    assert.deepEqual(task.steps, ['start'], task.engine);
  }
});

test("scenario 2's shifted event window selects exactly DuckDB's events for half an hour", () => {
  const { eventTime } = segmentColumns(2_000);
  const windowStart = DATA_NOW - 30 * DAY;
  for (const time of eventTime) {
    assert.equal(time % HOUR, DATA_NOW % HOUR, 'on whole hours');
    assert.ok(time <= DATA_NOW - HOUR && time >= DATA_NOW - 90 * DAY, 'between one hour and 90 days before DATA_NOW');
  }
  const duckdb = eventTime.filter((time) => time >= windowStart).length;
  assert.ok(duckdb > 0 && duckdb < eventTime.length);
  const loaded = Date.UTC(2030, 0, 1);
  const shift = loaded - DATA_NOW + HOUR / 2;
  for (const later of [0, 1, 60_000, 29 * 60_000]) {
    const now = loaded + later;
    // The engine's didEvent window: happened > now − 30 days.
    const ours = eventTime.filter((time) => time + shift > now - 30 * DAY).length;
    assert.equal(ours, duckdb, `evaluated ${later} ms after loading`);
    assert.ok(Math.max(...eventTime) + shift < now, 'no event lies in the future');
  }
});

test('scenario 2 rules read only attributes the data has', () => {
  const text = JSON.stringify(segments.RULES.map((rule) => rule.rule));
  for (const attribute of text.matchAll(/"attribute":"(\w+)"/g)) {
    assert.ok(['age', 'country', 'plan', 'spend', 'optIn'].includes(attribute[1]), attribute[1]);
  }
  assert.equal(segments.RULES.length, 5);
});

test('scenario 6 ingests the requested number of events, each naming its profile', () => {
  const events = ingest.eventCommands(1_000);
  assert.equal(events.length, 1_000);
  for (const event of events) {
    assert.match(event.identities.email[0], /^s\d+@example\.com$/);
    assert.ok(!Number.isNaN(Date.parse(event.happened)));
  }
});

test('scenario 7 cycles over the profiles and pages and accepts only the right answer', () => {
  const setup = { token: 't', ids: Array.from({ length: 45 }, (_, i) => `id${i}`), emails: Array.from({ length: 45 }, (_, i) => `e${i}@x.dk`) };
  assert.equal(rest.requestOf('chartmogul', 0, setup).path, `/v1/customers?page=1&per_page=${rest.PER_PAGE}`);
  assert.equal(rest.requestOf('chartmogul', 3, setup).path, `/v1/customers?page=1&per_page=${rest.PER_PAGE}`, 'three pages of 20 for 45 customers');
  assert.ok(rest.answerIsRight('chartmogul', 2, setup, 200, { entries: Array(5) }), 'the last page holds the rest');
  assert.ok(!rest.answerIsRight('chartmogul', 2, setup, 200, { entries: Array(20) }));
  const search = rest.requestOf('primedata', 46, setup);
  assert.equal(JSON.parse(search.body ?? '').identities.email[0], 'e1@x.dk');
  assert.ok(rest.answerIsRight('primedata', 46, setup, 200, { data: { profile_id: 'id1' } }));
  assert.ok(!rest.answerIsRight('primedata', 46, setup, 200, { data: { profile_id: 'id2' } }));
  assert.ok(!rest.answerIsRight('arrigoo', 0, setup, 404, { cid: 'id0' }));
  assert.ok(rest.answerIsRight('arrigoo', 0, setup, 200, { cid: 'id0' }));
});
