/**
 * Checks of the Arrigoo answers, shared by the Node, serve and browser suites so that all three
 * hold the engine to the same shapes.
 */
import assert from 'node:assert/strict';

/** A well-formed uuid that no test ever creates. */
export const unknownUuid = '00000000-0000-4000-8000-000000000000';

/**
 * Asserts the body of `GET /v1/customer/{uuid}`: exactly the keys p, s, cid, i, ctime, mtime,
 * with their documented types, holding the profile that was written.
 * @param {any} body parsed JSON
 * @param {{ id: string, email: string, name: string }} expected
 */
export function assertCustomer(body, expected) {
  assert.deepEqual(Object.keys(body).sort(), ['cid', 'ctime', 'i', 'mtime', 'p', 's']);
  assert.equal(body.cid, expected.id);
  assert.ok(Array.isArray(body.p), 'p is an array');
  for (const property of body.p) {
    assert.deepEqual(Object.keys(property).sort(), ['lab', 'val']);
    assert.equal(typeof property.lab, 'string');
  }
  assert.deepEqual(body.p.find((/** @type {any} */ property) => property.lab === 'name'), { lab: 'name', val: expected.name });
  assert.ok(Array.isArray(body.s) && body.s.every((/** @type {unknown} */ segment) => typeof segment === 'string'), 's is an array of strings');
  assert.ok(Array.isArray(body.i), 'i is an array');
  for (const identifier of body.i) {
    assert.deepEqual(Object.keys(identifier).sort(), ['id_type', 'id_value']);
    assert.equal(typeof identifier.id_type, 'string');
    assert.equal(typeof identifier.id_value, 'string');
  }
  assert.ok(body.i.some((/** @type {any} */ identifier) => identifier.id_type === 'email' && identifier.id_value === expected.email));
  for (const time of [body.ctime, body.mtime]) {
    assert.equal(typeof time, 'string');
    assert.ok(!Number.isNaN(Date.parse(time)), `${time} is a timestamp`);
  }
}

/**
 * Asserts the login answer of `POST /auth/api`.
 * @param {any} body parsed JSON
 */
export function assertTokens(body) {
  for (const key of ['refresh_token', 'access_token', 'scope', 'expiry']) {
    assert.equal(typeof body[key], 'string', `${key} is a string`);
  }
  assert.notEqual(body.access_token, '');
  assert.ok(!Number.isNaN(Date.parse(body.expiry)), 'expiry is a timestamp');
}

/**
 * Asserts an error answer: a JSON object naming the error's code.
 * @param {{ status: number, contentType: string | null, body: any }} answer
 * @param {number} status
 * @param {string} code
 */
export function assertJsonError(answer, status, code) {
  assert.equal(answer.status, status);
  assert.match(answer.contentType ?? '', /^application\/json/);
  assert.equal(answer.body.error, code);
  assert.equal(typeof answer.body.message, 'string');
}

/**
 * Reads a Response into plain data the assertions take.
 * @param {Response} response
 * @returns {Promise<{ status: number, contentType: string | null, body: any }>}
 */
export async function readAnswer(response) {
  const text = await response.text();
  return { status: response.status, contentType: response.headers.get('content-type'), body: JSON.parse(text) };
}
