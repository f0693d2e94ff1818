/**
 * The typed helpers over the engine's own surface in Node (memory storage unless said):
 * `cdp.events`, `cdp.traits`, `cdp.segments` and the enter/exit subscription, the same data
 * through `cdp.fetch('/cdp/v1/…')`, errors as CdpError with code, status and path, and
 * durability across a reopen of a data directory.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Cdp, CdpError } from '../../pkg/index.js';

/**
 * Asserts that `promise` rejects with a CdpError carrying `code` (and `status`, `path`, `index`).
 * @param {Promise<unknown>} promise
 * @param {string} code
 * @param {{ status?: number, path?: string, index?: number }} [details]
 */
async function rejectsWith(promise, code, details = {}) {
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof CdpError, `expected a CdpError, got ${error}`);
    assert.equal(error.code, code, error.message);
    if (details.status !== undefined) assert.equal(error.status, details.status);
    if (details.path !== undefined) assert.equal(error.path, details.path);
    if (details.index !== undefined) assert.equal(error.index, details.index);
    return true;
  });
}

const spent = { name: 'spent', aggregate: 'sum', event: 'purchase', property: 'amount' };
const big = { systemTitle: 'big', name: 'Big spenders', rule: { op: 'range', trait: 'spent', min: 100 } };

describe('cdp.events', () => {
  test('records one event or many, each resolving with where it landed', async () => {
    const cdp = await Cdp.open({ name: 'events-record' });
    const one = await cdp.events.record({ identities: { email: 'A@x.y' }, name: 'purchase', properties: { amount: 30 } });
    assert.equal(one.created, true);
    assert.equal(typeof one.event, 'string');
    const many = await cdp.events.recordMany([
      { profileId: one.profile, name: 'view', happened: new Date('2025-03-01T10:00:00Z') },
      { identities: { email: 'a@x.y' }, name: 'view', context: 'WEB' },
    ]);
    assert.deepEqual(many.map((outcome) => outcome.profile), [one.profile, one.profile]);
    const views = await cdp.events.query({ profileId: one.profile, names: ['view'], sort: 'asc' });
    assert.deepEqual(
      views.data.map((event) => [event.happened.slice(0, 19), event.context]),
      [['2025-03-01T10:00:00', 'OTHER'], [views.data[1].happened.slice(0, 19), 'WEB']],
    );
    await cdp.close();
  });

  test("an event without a time happened and was received at the host clock's time", async () => {
    const cdp = await Cdp.open({ name: 'events-clock' });
    const before = Date.now();
    const { profile } = await cdp.events.record({ identities: { email: 'now@x.y' }, name: 'tick' });
    const after = Date.now();
    const [event] = (await cdp.events.query({ profileId: profile })).data;
    for (const field of ['happened', 'received']) {
      const at = Date.parse(event[field]);
      assert.ok(at >= before && at <= after, `${field} ${event[field]} between ${before} and ${after}`);
    }
    await cdp.close();
  });

  test('a malformed event of a batch rejects the call and records nothing', async () => {
    const cdp = await Cdp.open({ name: 'events-refused' });
    const { profile } = await cdp.events.record({ identities: { email: 'a@x.y' }, name: 'first' });
    await rejectsWith(
      cdp.events.recordMany([{ profileId: profile, name: 'ok' }, /** @type {any} */ ({ profileId: profile, name: 'x', mode: 'LOUD' })]),
      'events.invalid_event',
      { status: 400, path: '$[1].mode' },
    );
    await rejectsWith(cdp.events.record({ profileId: '6f1c9a8e-3b1d-4c8e-9f0a-1b2c3d4e5f60', name: 'x' }), 'events.unknown_profile', { status: 404 });
    await rejectsWith(cdp.events.record(/** @type {any} */ ('purchase')), 'cdp.invalid_argument');
    const page = await cdp.events.query({ identity: { type: 'email', value: 'a@x.y' } });
    assert.deepEqual(page.data.map((event) => event.name), ['first']);
    await cdp.close();
  });

  test('one recordMany call takes 1 to 1,000 events, as POST /cdp/v1/events does', async () => {
    const cdp = await Cdp.open({ name: 'events-limit' });
    const { profile } = await cdp.events.record({ identities: { email: 'a@x.y' }, name: 'first' });
    const tooMany = Array.from({ length: 1_001 }, () => ({ profileId: profile, name: 'many' }));
    await rejectsWith(cdp.events.recordMany(tooMany), 'api.invalid_request', { status: 400 });
    await rejectsWith(cdp.events.recordMany([]), 'api.invalid_request', { status: 400 });
    // Nothing of them was recorded: the name is still unknown.
    await rejectsWith(cdp.events.query({ profileId: profile, names: ['many'] }), 'events.unknown_name');
    assert.equal((await cdp.events.recordMany(tooMany.slice(1))).length, 1_000);
    await cdp.close();
  });

  test('an event refused because of the events before it refuses the whole batch', async () => {
    const cdp = await Cdp.open({ name: 'events-batch-conflict' });
    await cdp.events.record({ identities: { email: 'kept@x.y' }, name: 'before' });
    // Each of the first two creates a profile; the third names both: a conflict only the
    // batch itself makes, so only the engine's batch can refuse it.
    await rejectsWith(
      cdp.events.recordMany([
        { identities: { email: 'a@x.y' }, name: 'first' },
        { identities: { phone: '+4511' }, name: 'second' },
        { identities: { email: 'a@x.y', phone: '+4511' }, name: 'third' },
      ]),
      'identity.conflict',
      { status: 409, index: 2 },
    );
    assert.equal(await cdp.profiles.count(), 1, 'the profiles the batch created are gone');
    const page = await cdp.events.query({ identity: { type: 'email', value: 'kept@x.y' } });
    assert.deepEqual(page.data.map((event) => event.name), ['before']);
    const after = await cdp.events.record({ identities: { email: 'a@x.y' }, name: 'later' });
    assert.equal(after.created, true, 'the engine works on after the refused batch');
    await cdp.close();
  });

  test('query walks a profile\'s events page by page within an exclusive window', async () => {
    const cdp = await Cdp.open({ name: 'events-query' });
    const base = Date.parse('2025-03-01T00:00:00Z');
    const events = Array.from({ length: 30 }, (_, minute) => ({
      identities: { email: 'a@x.y' },
      name: 'view',
      happened: new Date(base + minute * 60_000),
      properties: { minute },
    }));
    await cdp.events.recordMany(events);
    const seen = [];
    /** @type {string | null} */
    let cursor = null;
    do {
      const page = await cdp.events.query({ identity: { type: 'email', value: 'a@x.y' }, limit: 7, cursor });
      assert.ok(page.data.length <= 7);
      seen.push(...page.data.map((event) => event.properties.minute));
      cursor = page.next;
    } while (cursor !== null);
    assert.deepEqual(seen, Array.from({ length: 30 }, (_, minute) => 29 - minute), 'newest first, each once');
    const window = await cdp.events.query({
      identity: { type: 'email', value: 'a@x.y' },
      start: new Date(base + 5 * 60_000),
      end: '2025-03-01T00:08:00Z',
      sort: 'asc',
    });
    assert.deepEqual(window.data.map((event) => event.properties.minute), [6, 7]);
    await rejectsWith(cdp.events.query({ identity: { type: 'email', value: 'a@x.y' }, limit: 101 }), 'events.limit_out_of_range', { status: 400 });
    await rejectsWith(cdp.events.query({ identity: { type: 'email', value: 'a@x.y' }, names: ['never'] }), 'events.unknown_name');
    await cdp.close();
  });
});

describe('cdp.traits', () => {
  test('defines, lists, reads, values and deletes computed traits', async () => {
    const cdp = await Cdp.open({ name: 'traits' });
    const { profile } = await cdp.events.record({ identities: { email: 'a@x.y' }, name: 'purchase', properties: { amount: 30 } });
    assert.deepEqual(await cdp.traits.define(spent), { name: 'spent', changed: true });
    assert.deepEqual(await cdp.traits.valuesOf(profile), { spent: 30 });
    await cdp.events.record({ profileId: profile, name: 'purchase', properties: { amount: 12 } });
    assert.deepEqual(await cdp.traits.valuesOf(profile), { spent: 42 });
    assert.deepEqual((await cdp.traits.list()).map((definition) => definition.name), ['spent']);
    assert.equal((await cdp.traits.get('spent'))?.property, 'amount');
    assert.equal(await cdp.traits.get('nothing'), null);
    await rejectsWith(cdp.traits.define(/** @type {any} */ ({ ...spent, aggregate: 'median' })), 'traits.invalid_definition', {
      status: 400,
      path: '$.aggregate',
    });
    await cdp.traits.delete('spent');
    assert.deepEqual(await cdp.traits.list(), []);
    await rejectsWith(cdp.traits.delete('spent'), 'traits.unknown', { status: 404 });
    await rejectsWith(cdp.traits.valuesOf('not-a-uuid'), 'model.invalid_id', { status: 400 });
    await cdp.close();
  });
});

describe('cdp.segments', () => {
  test('defines, lists, reads, pages members and history, switches and deletes segments', async () => {
    const cdp = await Cdp.open({ name: 'segments' });
    await cdp.traits.define(spent);
    assert.deepEqual(await cdp.segments.define(big), { name: 'big', changed: true });
    const a = await cdp.events.record({ identities: { email: 'a@x.y' }, name: 'purchase', properties: { amount: 150 } });
    const b = await cdp.events.record({ identities: { email: 'b@x.y' }, name: 'purchase', properties: { amount: 120 } });
    const listed = await cdp.segments.list();
    assert.deepEqual(listed.map((segment) => [segment.systemTitle, segment.name, segment.members]), [['big', 'Big spenders', 2]]);
    assert.deepEqual(await cdp.segments.of(a.profile), ['big']);
    const small = await cdp.events.record({ identities: { email: 'c@x.y' }, name: 'purchase', properties: { amount: 5 } });
    assert.deepEqual(await cdp.segments.of(small.profile), []);
    await rejectsWith(cdp.segments.of('not-a-uuid'), 'model.invalid_id', { status: 400 });
    const first = await cdp.segments.members('big', { limit: 1 });
    assert.deepEqual([first.data, first.total], [[a.profile], 2]);
    const second = await cdp.segments.members('big', { limit: 1, cursor: first.next });
    assert.deepEqual([second.data, second.next], [[b.profile], null]);
    assert.deepEqual((await cdp.segments.deactivate('big')).changed, true);
    assert.equal((await cdp.segments.get('big'))?.members, 0);
    await cdp.segments.activate('big');
    const history = await cdp.segments.history('big');
    assert.deepEqual(
      history.data.map((entry) => [entry.type, entry.profile]),
      [['enter', a.profile], ['enter', b.profile], ['exit', a.profile], ['exit', b.profile], ['enter', a.profile], ['enter', b.profile]],
    );
    assert.deepEqual((await cdp.segments.get('big'))?.counts, { members: 2, formerMembers: 0, entries: 4, exits: 2 });
    await cdp.segments.delete('big');
    assert.equal(await cdp.segments.get('big'), null);
    await rejectsWith(cdp.segments.members('big'), 'segments.unknown', { status: 404 });
    await cdp.close();
  });

  test('an invalid rule rejects with segments.invalid_rule naming the bad node', async () => {
    const cdp = await Cdp.open({ name: 'segments-invalid' });
    const rule = { op: 'and', rules: [{ op: 'exists', attribute: 'plan' }, { op: 'equals', attribute: 'plan' }] };
    await rejectsWith(cdp.segments.define({ systemTitle: 'x', rule }), 'segments.invalid_rule', { status: 400, path: '$.rule.rules[1].value' });
    assert.deepEqual(await cdp.segments.list(), []);
    await cdp.close();
  });

  test('subscribers see entries and exits of their segment by the time the write resolves', async () => {
    const cdp = await Cdp.open({ name: 'segments-subscribe' });
    await cdp.segments.define({ systemTitle: 'gold', rule: { op: 'equals', attribute: 'plan', value: 'gold' } });
    await cdp.segments.define({ systemTitle: 'named', rule: { op: 'exists', attribute: 'name' } });
    /** @type {import('../../pkg/index.js').MembershipEvent[]} */
    const gold = [];
    /** @type {string[]} */
    const all = [];
    const offGold = cdp.segments.subscribe('gold', (event) => gold.push(event));
    const offAll = cdp.segments.subscribe((event) => all.push(`${event.type} ${event.segment}`));
    const broken = cdp.segments.subscribe(() => {
      throw new Error('a broken listener');
    });
    /** @type {unknown[]} */
    const reported = [];
    const consoleError = console.error;
    console.error = (error) => reported.push(error);
    /** @type {{ id: string }} */
    let written;
    try {
      written = await cdp.profiles.upsert({ identities: { email: ['a@x.y'] }, attributes: { plan: 'gold', name: 'A' } });
    } finally {
      console.error = consoleError;
    }
    const { id } = written;
    assert.equal(reported.length, 2, 'the broken listener\'s errors are reported, and the write still resolves');
    assert.deepEqual(gold.map((event) => [event.type, event.segment, event.profile]), [['enter', 'gold', id]]);
    assert.match(gold[0].at, /^\d{4}-\d\d-\d\dT/);
    assert.deepEqual(all.sort(), ['enter gold', 'enter named']);
    broken();
    await cdp.execute({ upsertProfile: { identities: { email: ['a@x.y'] }, attributes: { plan: 'silver' } } });
    assert.deepEqual(gold.map((event) => event.type), ['enter', 'exit']);
    offGold();
    offGold();
    const response = await cdp.fetch('/cdp/v1/profiles', {
      method: 'POST',
      body: JSON.stringify({ identities: { email: 'a@x.y' }, attributes: { plan: 'gold' } }),
    });
    assert.equal(response.status, 200);
    assert.equal(gold.length, 2, 'no calls after unsubscribing');
    assert.deepEqual(all.slice(2), ['exit gold', 'enter gold'], 'writes through cdp.fetch feed subscribers too');
    offAll();
    await cdp.close();
  });
});

describe('the helpers and /cdp/v1', () => {
  test('the helpers need no key while cdp.fetch needs the configured bearer', async () => {
    const cdp = await Cdp.open({ name: 'keyed', config: { cdp: { apiKeys: ['secret-key'] } } });
    const { profile } = await cdp.events.record({ identities: { email: 'a@x.y' }, name: 'signup' });
    const refused = await cdp.fetch(`/cdp/v1/profiles/${profile}`);
    assert.equal(refused.status, 401);
    assert.equal((await refused.json()).error.code, 'api.unauthenticated');
    const answered = await cdp.fetch(`/cdp/v1/events?profileId=${profile}`, { headers: { authorization: 'Bearer secret-key' } });
    assert.equal(answered.status, 200);
    const page = await answered.json();
    assert.deepEqual(page, await cdp.events.query({ profileId: profile }), 'one shape over HTTP and in the helpers');
    await cdp.close();
  });

  test('helper writes are durable: a reopened data directory holds them', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'cdp-helpers-'));
    try {
      const cdp = await Cdp.open({ name: 'durable-helpers', directory });
      await cdp.traits.define(spent);
      await cdp.segments.define(big);
      const { profile } = await cdp.events.record({ identities: { email: 'a@x.y' }, name: 'purchase', properties: { amount: 500 } });
      await cdp.close();
      const reopened = await Cdp.open({ name: 'durable-helpers', directory });
      assert.deepEqual(await reopened.traits.valuesOf(profile), { spent: 500 });
      assert.deepEqual((await reopened.segments.members('big')).data, [profile]);
      assert.equal((await reopened.events.query({ profileId: profile })).data.length, 1);
      await reopened.close();
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
