/**
 * The bytes the package hands the core for a text (`utf8` in js/cdp-error.js) are the text's
 * UTF-8, as `TextEncoder.encode` gives it, whatever the mix of characters and wherever the
 * first one beyond ASCII falls.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { utf8 } from '../../js/cdp-error.js';

const encoder = new TextEncoder();

test('utf8 gives the UTF-8 of any text', () => {
  const pieces = ['a', '{"k":1}', 'é', 'ß', '€', '中', '😀', '\u{10FFFF}', '\uD800', '\uDFFF', '\0', '\n'];
  const texts = ['', ...pieces];
  for (const first of pieces) {
    for (const second of pieces) {
      for (const at of [0, 1, 7, 64]) texts.push('x'.repeat(at) + first + 'y'.repeat(at) + second);
    }
  }
  texts.push('a'.repeat(100_000), `${'a'.repeat(99_999)}😀`, '😀'.repeat(10_000), 'é'.repeat(50_001));
  for (const text of texts) {
    assert.deepEqual(utf8(text), encoder.encode(text), JSON.stringify(text.slice(0, 40)));
  }
});
