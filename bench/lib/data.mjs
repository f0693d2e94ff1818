/**
 * The synthetic data set of the benchmark suite: one seeded generator, imported by the page
 * (every engine and peer) and by Node (the `serve` load test), so every side gets exactly the
 * same records. Nothing here reads the clock or Math.random.
 */

/** The seed of every data set in the suite. */
export const SEED = 20261124;

/** "Now" of the data set: event windows are relative to this instant, not the wall clock. */
export const DATA_NOW = Date.UTC(2026, 10, 1);

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const COUNTRIES = ['DK', 'SE', 'NO', 'DE', 'FR', 'NL', 'GB', 'US', 'ES', 'IT'];
const PLANS = ['free', 'basic', 'pro', 'enterprise'];
const EVENT_NAMES = ['page_view', 'purchase', 'signup', 'email_open'];

/**
 * A small, fast, seeded PRNG (mulberry32).
 * @param {number} seed
 * @returns {() => number} uniform in [0, 1)
 */
export function prng(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * @param {() => number} random
 * @param {number} n
 * @returns {number} an integer in [0, n)
 */
function pick(random, n) {
  return Math.floor(random() * n);
}

/**
 * The typed attributes of profile number `i` (the same for every engine).
 * @param {() => number} random
 * @param {number} i
 * @returns {{ name: string, age: number, country: string, plan: string, spend: number, optIn: boolean }}
 */
function attributesFor(random, i) {
  return {
    name: `Person ${i}`,
    age: 18 + pick(random, 63),
    country: COUNTRIES[pick(random, COUNTRIES.length)],
    plan: PLANS[pick(random, PLANS.length)],
    spend: Math.round(random() * 100_000) / 100,
    optIn: random() < 0.7,
  };
}

/**
 * @typedef {object} IdentityRecord one upsert, as `cdp.profiles.upsert` takes it
 * @property {{ email?: string[], phone?: string[], crm_user_id?: string[] }} identities
 *   already normalized (lower-case emails, `+` and digits), so peers need no normalization
 * @property {ReturnType<typeof attributesFor>} attributes
 * @property {'new' | 'update' | 'merge'} kind what the record does under the merge policy
 */

/**
 * Scenario 1's records: one to three identifiers each; two in five create a person, two in
 * five update one, and one in five names identifiers of two different people (a merge under
 * the merge policy, a conflict under the reject policy). "Different" is tracked with a
 * union-find as if every earlier merge had happened, so the count of merges is exact under the
 * merge policy and the same records are conflicts under the reject policy.
 * @param {number} count
 * @param {number} [seed]
 * @returns {IdentityRecord[]}
 */
export function identityRecords(count, seed = SEED) {
  const random = prng(seed);
  /** @type {Array<Array<[string, string]>>} identifiers of each person */
  const people = [];
  /** @type {number[]} union-find parents over people */
  const parent = [];
  const root = (/** @type {number} */ x) => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]];
      x = parent[x];
    }
    return x;
  };
  let fresh = 0;
  const newIdentifier = () => {
    fresh += 1;
    const kind = pick(random, 3);
    if (kind === 0) return /** @type {[string, string]} */ (['email', `user${fresh}@example.com`]);
    if (kind === 1) return /** @type {[string, string]} */ (['phone', `+45${String(10_000_000 + fresh)}`]);
    return /** @type {[string, string]} */ (['crm_user_id', `CRM-${fresh}`]);
  };
  /** @type {IdentityRecord[]} */
  const records = [];
  for (let i = 0; i < count; i += 1) {
    const roll = random();
    /** @type {Array<[string, string]>} */
    let identifiers;
    /** @type {IdentityRecord['kind']} */
    let kind = 'new';
    const a = pick(random, Math.max(people.length, 1));
    let b = a;
    for (let tries = 0; roll < 0.2 && tries < 16 && root(b) === root(a); tries += 1) {
      b = pick(random, people.length);
    }
    if (roll < 0.2 && people.length > 1 && root(a) !== root(b)) {
      kind = 'merge';
      identifiers = [people[a][0], people[b][0]];
      if (random() < 0.5) identifiers.push(newIdentifier());
      parent[root(b)] = root(a);
    } else if (roll < 0.6 && people.length > 0) {
      kind = 'update';
      identifiers = [people[a][pick(random, people[a].length)]];
      if (random() < 0.3) {
        identifiers.push(newIdentifier());
        people[a].push(identifiers[1]);
      }
    } else {
      identifiers = Array.from({ length: 1 + pick(random, 3) }, newIdentifier);
      people.push(identifiers);
      parent.push(parent.length);
    }
    /** @type {IdentityRecord['identities']} */
    const identities = {};
    for (const [type, value] of identifiers) {
      const key = /** @type {keyof IdentityRecord['identities']} */ (type);
      (identities[key] ??= []).push(value);
    }
    records.push({ identities, attributes: attributesFor(random, i), kind });
  }
  return records;
}

/**
 * @typedef {object} ProfileRecord one profile of scenarios 3 and 4: one email, typed attributes
 * @property {string} email
 * @property {ReturnType<typeof attributesFor>} attributes
 */

/**
 * Distinct profiles with one email each, for persistence and latency scenarios.
 * @param {number} count
 * @param {number} [seed]
 * @param {number} [offset] numbering offset, so two calls can produce disjoint emails
 * @returns {ProfileRecord[]}
 */
export function profileRecords(count, seed = SEED, offset = 0) {
  const random = prng(seed ^ 0x5eed);
  return Array.from({ length: count }, (_, i) => ({
    email: `profile${offset + i}@example.com`,
    attributes: attributesFor(random, offset + i),
  }));
}

/**
 * @typedef {object} SegmentColumns scenario 2's data in columns (profile number = row index)
 * @property {Int32Array} age
 * @property {string[]} country
 * @property {string[]} plan
 * @property {Float64Array} spend
 * @property {Uint8Array} optIn 1 or 0
 * @property {Int32Array} eventProfile profile number of each event
 * @property {string[]} eventName
 * @property {Float64Array} eventTime epoch milliseconds on whole hours, 1 hour to 90 days before
 *   DATA_NOW: an engine that windows by its own clock shifts them by (its now − DATA_NOW + 30
 *   minutes), so the 30-day window starts half-way between two hours and evaluates the same
 *   as `ts >= DATA_NOW − 30 days` for the half hour after the shift (scenario 2)
 */

/**
 * Scenario 2's profiles and events, in columns so that loading 1M profiles stays cheap.
 * Each profile has 0 to 6 events (3 on average).
 * @param {number} count
 * @param {number} [seed]
 * @returns {SegmentColumns}
 */
export function segmentColumns(count, seed = SEED) {
  const random = prng(seed ^ 0xc01);
  const age = new Int32Array(count);
  const spend = new Float64Array(count);
  const optIn = new Uint8Array(count);
  const country = new Array(count);
  const plan = new Array(count);
  const eventProfile = [];
  const eventName = [];
  const eventTime = [];
  for (let i = 0; i < count; i += 1) {
    const attributes = attributesFor(random, i);
    age[i] = attributes.age;
    country[i] = attributes.country;
    plan[i] = attributes.plan;
    spend[i] = attributes.spend;
    optIn[i] = attributes.optIn ? 1 : 0;
    const events = pick(random, 7);
    for (let e = 0; e < events; e += 1) {
      eventProfile.push(i);
      eventName.push(EVENT_NAMES[pick(random, EVENT_NAMES.length)]);
      eventTime.push(DATA_NOW - (1 + pick(random, 90 * 24)) * HOUR);
    }
  }
  return {
    age,
    country,
    plan,
    spend,
    optIn,
    eventProfile: Int32Array.from(eventProfile),
    eventName,
    eventTime: Float64Array.from(eventTime),
  };
}

/**
 * A short fingerprint of any JSON-able data, so the results can show that every side got the
 * same records (FNV-1a over the JSON text).
 * @param {unknown} data
 * @returns {string} 8 hex digits
 */
export function fingerprint(data) {
  const text = JSON.stringify(data, (_, value) => (ArrayBuffer.isView(value) ? Array.from(/** @type {any} */ (value)) : value));
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, '0');
}
