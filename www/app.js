/**
 * The cdp-engine demo: one engine in IndexedDB, a form that writes profiles through
 * cdp.profiles, purchases recorded through cdp.events with two computed traits and a segment
 * kept up to date (cdp.traits, cdp.segments), and a REST console that talks Arrigoo through
 * cdp.fetch.
 */
import { Cdp } from '/pkg/index.js';

const DEMO_KEY = { key: 'demo', secret: 'demo-secret' };
const CONFIG = { arrigoo: { apiKeys: [{ ...DEMO_KEY, role: 'admin' }] } };
const RECENT_KEY = 'cdp-demo.recent-profiles';
const RECENT_LIMIT = 8;
/** How many entries and exits the segment's feed lists. */
const FEED_LIMIT = 6;
/** What the demo computes from purchase events. */
const TRAITS = [
  { name: 'spent', aggregate: 'sum', event: 'purchase', property: 'amount' },
  { name: 'purchases', aggregate: 'count', event: 'purchase' },
];
const SEGMENT = { systemTitle: 'big-spenders', name: 'Big spenders', rule: { op: 'range', trait: 'spent', min: 100 } };

/**
 * @param {string} id
 * @returns {HTMLElement}
 */
function byId(id) {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`the page has no #${id}`);
  return element;
}

/**
 * Creates an element with text content and classes.
 * @param {string} tag
 * @param {{ text?: string, className?: string }} [props]
 * @param {...Node} children
 */
function element(tag, { text, className } = {}, ...children) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className !== undefined) node.className = className;
  node.append(...children);
  return node;
}

/** @returns {string[]} ids of the profiles added here, newest first */
function recentIds() {
  try {
    const ids = JSON.parse(localStorage.getItem(RECENT_KEY) ?? '[]');
    return Array.isArray(ids) ? ids.filter((id) => typeof id === 'string') : [];
  } catch {
    return [];
  }
}

/** @param {string} id */
function remember(id) {
  const ids = [id, ...recentIds().filter((known) => known !== id)].slice(0, RECENT_LIMIT);
  localStorage.setItem(RECENT_KEY, JSON.stringify(ids));
}

/** @param {unknown} error */
function explain(error) {
  if (error instanceof Error && 'code' in error) return `${error.message} (${error.code})`;
  return error instanceof Error ? error.message : String(error);
}

/**
 * Defines the demo's traits and segment on a database that has them not yet.
 * @param {Cdp} cdp
 */
async function defineOnce(cdp) {
  const traits = new Set((await cdp.traits.list()).map((trait) => trait.name));
  for (const trait of TRAITS) {
    if (!traits.has(trait.name)) await cdp.traits.define(trait);
  }
  if ((await cdp.segments.get(SEGMENT.systemTitle)) === null) await cdp.segments.define(SEGMENT);
}

/**
 * @param {import('/pkg/index.js').JsonValue | undefined} value
 * @returns {number}
 */
function numberOf(value) {
  return typeof value === 'number' ? value : 0;
}

/**
 * Shows the counts, the recent profiles with their traits and segments, and the customers
 * a purchase can be recorded for.
 * @param {Cdp} cdp
 */
async function refresh(cdp) {
  // Everything is read first and shown at once, so the page never shows a count that its
  // list does not match yet.
  const count = await cdp.profiles.count();
  const members = (await cdp.segments.get(SEGMENT.systemTitle))?.members ?? 0;
  const items = [];
  const options = [];
  for (const id of recentIds()) {
    const profile = await cdp.profiles.get(id);
    if (profile === null) continue;
    const name = typeof profile.attributes.name === 'string' ? profile.attributes.name : 'No name';
    const email = profile.identities.email?.[0] ?? '';
    const traits = await cdp.traits.valuesOf(profile.id);
    const count = numberOf(traits.purchases);
    const spent = `spent ${numberOf(traits.spent).toLocaleString('en', { maximumFractionDigits: 2 })} · ${count} purchase${count === 1 ? '' : 's'}`;
    const button = element(
      'button',
      { className: 'profile' },
      element('span', { text: name, className: 'who' }),
      element('span', { text: email, className: 'email' }),
      element('span', { text: spent, className: 'traits' }),
      element('code', { text: profile.id, className: 'id' }),
    );
    if ((await cdp.segments.of(profile.id)).includes(SEGMENT.systemTitle)) {
      button.append(element('span', { text: SEGMENT.name, className: 'badge' }));
    }
    button.type = 'button';
    button.addEventListener('click', () => {
      /** @type {HTMLInputElement} */ (byId('console-id')).value = profile.id;
      byId('console-id').focus();
    });
    items.push(element('li', {}, button));
    if (email !== '') {
      const option = /** @type {HTMLOptionElement} */ (element('option', { text: `${name} <${email}>` }));
      option.value = email;
      options.push(option);
    }
  }
  if (items.length === 0) items.push(element('li', { text: 'No profiles added yet.', className: 'empty' }));
  byId('profile-count').textContent = String(count);
  byId('segment-count').textContent = String(members);
  byId('recent-list').replaceChildren(...items);
  const select = /** @type {HTMLSelectElement} */ (byId('purchase-email'));
  const chosen = select.value;
  select.replaceChildren(...options);
  if (options.some((option) => option.value === chosen)) select.value = chosen;
}

/**
 * Records the form's purchase.
 * @param {Cdp} cdp
 * @param {HTMLFormElement} form
 */
async function recordPurchase(cdp, form) {
  const data = new FormData(form);
  const email = String(data.get('email') ?? '');
  const amount = Number(data.get('amount'));
  await submitting(cdp, form, byId('purchase-status'), async () => {
    await cdp.events.record({ identities: { email }, name: 'purchase', properties: { amount } });
    /** @type {HTMLInputElement} */ (byId('amount')).value = '';
    return `Recorded a purchase of ${amount} for ${email}.`;
  });
}

/**
 * Runs a form's write with its button disabled, shows what it did or why it failed, then
 * refreshes the page.
 * @param {Cdp} cdp
 * @param {HTMLFormElement} form
 * @param {HTMLElement} status
 * @param {() => Promise<string>} write resolves to what to tell the user
 */
async function submitting(cdp, form, status, write) {
  const submit = /** @type {HTMLButtonElement} */ (form.querySelector('button'));
  submit.disabled = true;
  try {
    status.textContent = await write();
    status.className = 'hint ok';
    await refresh(cdp);
  } catch (error) {
    status.textContent = explain(error);
    status.className = 'hint error';
  } finally {
    submit.disabled = false;
  }
}

/**
 * Lists an entry into or an exit from the segment, newest first.
 * @param {Cdp} cdp
 * @param {import('/pkg/index.js').MembershipEvent} event
 */
async function showMembership(cdp, event) {
  const profile = await cdp.profiles.get(event.profile);
  const who = profile?.identities.email?.[0] ?? event.profile;
  const verb = event.type === 'enter' ? 'entered' : 'left';
  const time = new Date(event.at).toLocaleTimeString('en-GB');
  const feed = byId('segment-feed');
  feed.prepend(element('li', { text: `${time} ${who} ${verb} ${SEGMENT.name}`, className: event.type }));
  while (feed.children.length > FEED_LIMIT) feed.lastElementChild?.remove();
}

/**
 * Lists the latest entries and exits the segment's stored history holds.
 * @param {Cdp} cdp
 */
async function showHistory(cdp) {
  /** @type {import('/pkg/index.js').MembershipEvent[]} */
  let latest = [];
  /** @type {string | null} */
  let cursor = null;
  do {
    const page = await cdp.segments.history(SEGMENT.systemTitle, { limit: 100, cursor });
    latest = [...latest, ...page.data].slice(-FEED_LIMIT);
    cursor = page.next;
  } while (cursor !== null);
  for (const event of latest) await showMembership(cdp, event);
}

/**
 * Writes the form's profile.
 * @param {Cdp} cdp
 * @param {HTMLFormElement} form
 */
async function addProfile(cdp, form) {
  const data = new FormData(form);
  const email = String(data.get('email') ?? '').trim();
  const name = String(data.get('name') ?? '').trim();
  await submitting(cdp, form, byId('add-status'), async () => {
    const { id, created } = await cdp.profiles.upsert({
      identities: { email: [email] },
      attributes: name === '' ? {} : { name },
    });
    remember(id);
    /** @type {HTMLInputElement} */ (byId('console-id')).value = id;
    form.reset();
    return `${created ? 'Created' : 'Updated'} profile ${id}.`;
  });
}

/**
 * Renders one request and its answer.
 * @param {string} requestLine
 * @param {Response} response
 */
async function exchange(requestLine, response) {
  const text = await response.text();
  let shown = text;
  try {
    shown = JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    shown = text;
  }
  const status = element('span', { text: String(response.status), className: response.ok ? 'status ok' : 'status error' });
  return element(
    'article',
    { className: 'exchange' },
    element('header', {}, element('code', { text: requestLine }), status),
    element('pre', { text: shown }),
  );
}

/**
 * Logs in with the demo key, then reads one customer, all through cdp.fetch.
 * @param {Cdp} cdp
 * @param {string} id
 */
async function runConsole(cdp, id) {
  const output = byId('console-output');
  output.replaceChildren();
  try {
    const login = await cdp.fetch('/auth/api', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(DEMO_KEY),
    });
    const tokens = await login.clone().json();
    output.append(await exchange('POST /auth/api', login));
    if (!login.ok) return;
    const path = `/v1/customer/${encodeURIComponent(id)}`;
    const customer = await cdp.fetch(path, {
      headers: { authorization: `Bearer ${tokens.access_token}`, accept: 'application/json' },
    });
    output.append(await exchange(`GET ${path}`, customer));
  } catch (error) {
    output.append(element('p', { text: explain(error), className: 'hint error' }));
  }
}

async function main() {
  const cdp = await Cdp.open({ name: 'cdp-demo', config: CONFIG });
  byId('storage').textContent = cdp.storage === 'indexeddb' ? 'IndexedDB' : 'memory only';
  await defineOnce(cdp);
  await showHistory(cdp);
  // Called once the write that caused the entry or exit is durable, before it resolves.
  cdp.segments.subscribe(SEGMENT.systemTitle, (event) => {
    showMembership(cdp, event).catch(() => undefined);
  });
  await refresh(cdp);
  const latest = recentIds()[0];
  if (latest !== undefined) /** @type {HTMLInputElement} */ (byId('console-id')).value = latest;

  byId('add-form').addEventListener('submit', (event) => {
    event.preventDefault();
    addProfile(cdp, /** @type {HTMLFormElement} */ (event.currentTarget));
  });
  byId('purchase-form').addEventListener('submit', (event) => {
    event.preventDefault();
    recordPurchase(cdp, /** @type {HTMLFormElement} */ (event.currentTarget));
  });
  byId('console-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const id = /** @type {HTMLInputElement} */ (byId('console-id')).value.trim();
    runConsole(cdp, id);
  });
  document.body.dataset.ready = 'true';
}

main().catch((error) => {
  byId('profile-count').textContent = '—';
  byId('segment-count').textContent = '—';
  byId('storage').textContent = 'no storage yet';
  for (const control of document.querySelectorAll('input, select, button')) {
    /** @type {HTMLInputElement | HTMLSelectElement | HTMLButtonElement} */ (control).disabled = true;
  }
  document.querySelector('main')?.prepend(
    element('p', { text: `The engine could not start: ${explain(error)}`, className: 'card wide error' }),
  );
  document.body.dataset.error = 'true';
});
