/**
 * The suite's own arithmetic and data: if these break, every figure it prints is suspect.
 *
 *     node --test bench/test/
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fingerprint, identityRecords, profileRecords, segmentColumns } from '../lib/data.mjs';
import { formatRatio, provenance, renderMarkdown } from '../lib/report.mjs';
import { advantage, measured, pending, quantile, withRatios } from '../lib/stats.mjs';

test('quantile gives the median of odd and even samples and a nearest-rank p95', () => {
  assert.equal(quantile([3, 1, 2], 0.5), 2);
  assert.equal(quantile([4, 1, 3, 2], 0.5), 2.5);
  assert.equal(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.95), 10);
  assert.equal(quantile(Array.from({ length: 100 }, (_, i) => i + 1), 0.95), 95);
  assert.ok(Number.isNaN(quantile([], 0.5)));
});

test('advantage is above 1 when we are ahead, for throughputs and for times', () => {
  const fields = { scenario: 1, case: 'c', engine: 'cdp-engine', unit: 'x' };
  assert.equal(advantage(measured({ ...fields, better: 'higher' }, [200]), measured({ ...fields, better: 'higher' }, [100])), 2);
  assert.equal(advantage(measured({ ...fields, better: 'lower' }, [50]), measured({ ...fields, better: 'lower' }, [100])), 2);
  assert.equal(advantage(pending({ ...fields, better: 'lower' }, 'not yet'), measured({ ...fields, better: 'lower' }, [1])), null);
});

test('ratios are filled only on rows that name the row they compare with', () => {
  const base = { scenario: 3, case: 'persist', unit: 'ms', better: /** @type {const} */ ('lower') };
  const rows = withRatios([
    measured({ ...base, engine: 'cdp-engine' }, [10]),
    measured({ ...base, engine: 'Dexie', versus: 'cdp-engine' }, [40]),
  ]);
  assert.equal(/** @type {any} */ (rows[0]).ratio, undefined);
  assert.equal(/** @type {any} */ (rows[1]).ratio, 4);
  assert.equal(formatRatio(4), '×4 ahead');
  assert.equal(formatRatio(0.25), '×0.25 (behind)');
});

test('the data set is the same on every call and one record in five merges', () => {
  const records = identityRecords(5000);
  assert.equal(fingerprint(records), fingerprint(identityRecords(5000)));
  const merges = records.filter((record) => record.kind === 'merge').length;
  assert.ok(merges > 900 && merges < 1100, `${merges} merges in 5000`);
  for (const record of records) {
    const identifiers = Object.values(record.identities).flat().length;
    assert.ok(identifiers >= 1 && identifiers <= 3, `${identifiers} identifiers`);
  }
  assert.notEqual(profileRecords(3)[0].email, profileRecords(3, undefined, 3)[0].email);
  assert.equal(fingerprint(segmentColumns(100)), fingerprint(segmentColumns(100)));
});

test('the markdown shows pending rows with what they wait for', () => {
  const result = {
    mode: 'quick', started: 's', finished: 'f', seed: 1, noise: 'noisy',
    machine: { cpu: 'cpu', nproc: 2, memoryGiB: 1, os: 'os', node: 'v20', loadAverage: [1], loadAverageAfter: [1] },
    browser: { version: '1', crossOriginIsolated: true },
    ours: { version: '0.1.0', commit: 'abc', dirty: false },
    peers: { dexie: '4' },
    scenarios: [{ id: 6, title: 'Event ingest' }],
    rows: [pending({ scenario: 6, case: 'ingest', engine: 'cdp-engine', unit: 'events/s', better: 'higher' }, 'events')],
  };
  assert.match(renderMarkdown(result), /\| ingest \| cdp-engine \| — \| — \| 0 \| events\/s \| — \| pending: events \|/);
});

test('provenance says which run each scenario comes from after re-runs merged in', () => {
  const ours = (/** @type {string} */ commit) => ({ version: '0.1.0', commit, dirty: false });
  const result = {
    finished: '2026-11-01T10:00:00Z', ours: ours('aaa'), browser: { version: '1' }, machine: { loadAverage: [1, 1, 1] },
    scenarios: [1, 2, 3].map((id) => ({ id })),
    reruns: [
      { scenarios: [2, 3], finished: '2026-11-02T10:00:00Z', ours: { ...ours('bbb'), engineCommit: 'bbb' }, browser: '2', loadAverage: [2, 2, 2] },
      { scenarios: [3], finished: '2026-11-03T10:00:00Z', ours: ours('ccc'), browser: '3', loadAverage: [3, 3, 3] },
    ],
  };
  assert.deepEqual(provenance(result).map(({ scenarios, commit, browser }) => ({ scenarios, commit, browser })), [
    { scenarios: [1], commit: 'aaa', browser: '1' },
    { scenarios: [2], commit: 'bbb', browser: '2' },
    { scenarios: [3], commit: 'ccc', browser: '3' },
  ]);
  const whole = { ...result, reruns: [{ ...result.reruns[0], scenarios: [1, 2, 3] }] };
  assert.deepEqual(provenance(whole).map(({ scenarios, commit }) => ({ scenarios, commit })), [{ scenarios: [1, 2, 3], commit: 'bbb' }]);
  assert.deepEqual(provenance({ ...result, reruns: undefined }).map(({ scenarios }) => scenarios), [[1, 2, 3]]);
});
