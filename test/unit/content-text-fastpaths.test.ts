// Fast paths of the content pipeline must give the same text as the slow ones: Latin-1 NFKC without
// ICU, undecodable bytes read as spaces, and the parser decoding only the characters the content
// rules read (inbound) — with a fall back to the full window when that gave too few characters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { latin1Nfkc, prepareText } from '../../src/content/rules/text.js';
import { parseMessageSync } from '../../src/content/mime/parse.js';
import { mimeConfigSchema } from '../../src/content/mime/config.js';

const INVISIBLE = /[\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\u3164\uFEFF\uFFA0]/g;

test('latin1Nfkc equals ICU NFKC + invisible removal on every Latin-1 string', () => {
  for (let c = 0; c < 256; c++) {
    const s = `x${String.fromCharCode(c)}y`;
    assert.equal(latin1Nfkc(s), s.normalize('NFKC').replace(INVISIBLE, ''), `U+${c.toString(16)}`);
  }
  fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 60 }), (codes) => {
    const s = String.fromCharCode(...codes);
    return latin1Nfkc(s) === s.normalize('NFKC').replace(INVISIBLE, '');
  }), { numRuns: 2000 });
});

test('prepareText: undecodable bytes and controls read as one space; other text as before', () => {
  assert.equal(prepareText('buy\uFFFD\uFFFD\x01now', 100), 'buy now');
  assert.equal(prepareText('caf\u00e9 \uFB01ne \u00BD', 100), 'café fine 1⁄2');
  assert.equal(prepareText('v\u200Biagra \u0416', 100), 'viagra Ж');
  assert.equal(prepareText('tab\tand\nline', 100), 'tab\tand\nline');
});

const mime = mimeConfigSchema.parse({});
const msg = (charset: string, body: Buffer) => Buffer.concat([
  Buffer.from(`From: a@example.com\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=${charset}\r\n\r\n`), body,
]);

test('parser: inbound decodes only what the rules read, same first characters; short decode falls back', () => {
  const body = Buffer.from('word '.repeat(400_000)); // 2 MB of ASCII
  const full = parseMessageSync(msg('us-ascii', body), mime).parts[0]!.text!;
  const lean = parseMessageSync(msg('us-ascii', body), mime, false, 100_000).parts[0]!.text!;
  assert.ok(lean.length >= 100_000 && lean.length < full.length, `${lean.length}`);
  assert.equal(lean.slice(0, 100_000), full.slice(0, 100_000));
  // ISO-2022-JP escapes cost bytes without giving characters: the 3-bytes-per-character window gives
  // too few, so the parser decodes the full window and the rules see the text after the escapes
  const escapes = Buffer.from('\x1b(B'.repeat(200_000));
  const tail = Buffer.from('viagra '.repeat(10));
  const jp = parseMessageSync(msg('iso-2022-jp', Buffer.concat([escapes, tail])), mime, false, 100_000).parts[0]!.text!;
  assert.match(jp, /viagra/);
});
