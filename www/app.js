/**
 * The cdp-engine demo: one engine in IndexedDB, a form that writes profiles through
 * cdp.profiles, and a REST console that talks Arrigoo through cdp.fetch.
 */
import { Cdp } from '/pkg/index.js';

const DEMO_KEY = { key: 'demo', secret: 'demo-secret' };
const CONFIG = { arrigoo: { apiKeys: [{ ...DEMO_KEY, role: 'admin' }] } };
const RECENT_KEY = 'cdp-demo.recent-profiles';
const RECENT_LIMIT = 8;

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
 * Shows the profile count and the recent profiles.
 * @param {Cdp} cdp
 */
async function refresh(cdp) {
  byId('profile-count').textContent = String(await cdp.profiles.count());
  const list = byId('recent-list');
  const items = [];
  for (const id of recentIds()) {
    const profile = await cdp.profiles.get(id);
    if (profile === null) continue;
    const name = typeof profile.attributes.name === 'string' ? profile.attributes.name : 'No name';
    const email = profile.identities.email?.[0] ?? '';
    const button = element(
      'button',
      { className: 'profile' },
      element('span', { text: name, className: 'who' }),
      element('span', { text: email, className: 'email' }),
      element('code', { text: profile.id, className: 'id' }),
    );
    button.type = 'button';
    button.addEventListener('click', () => {
      /** @type {HTMLInputElement} */ (byId('console-id')).value = profile.id;
      byId('console-id').focus();
    });
    items.push(element('li', {}, button));
  }
  if (items.length === 0) items.push(element('li', { text: 'No profiles added yet.', className: 'empty' }));
  list.replaceChildren(...items);
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
  const status = byId('add-status');
  const submit = /** @type {HTMLButtonElement} */ (form.querySelector('button'));
  submit.disabled = true;
  try {
    const { id, created } = await cdp.profiles.upsert({
      identities: { email: [email] },
      attributes: name === '' ? {} : { name },
    });
    remember(id);
    status.textContent = `${created ? 'Created' : 'Updated'} profile ${id}.`;
    status.className = 'hint ok';
    /** @type {HTMLInputElement} */ (byId('console-id')).value = id;
    form.reset();
    await refresh(cdp);
  } catch (error) {
    status.textContent = explain(error);
    status.className = 'hint error';
  } finally {
    submit.disabled = false;
  }
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
  await refresh(cdp);
  const latest = recentIds()[0];
  if (latest !== undefined) /** @type {HTMLInputElement} */ (byId('console-id')).value = latest;

  byId('add-form').addEventListener('submit', (event) => {
    event.preventDefault();
    addProfile(cdp, /** @type {HTMLFormElement} */ (event.currentTarget));
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
  byId('storage').textContent = 'no storage yet';
  for (const control of document.querySelectorAll('input, button')) {
    /** @type {HTMLInputElement | HTMLButtonElement} */ (control).disabled = true;
  }
  document.querySelector('main')?.prepend(
    element('p', { text: `The engine could not start: ${explain(error)}`, className: 'card wide error' }),
  );
  document.body.dataset.error = 'true';
});
