// Unit tests for the MIME decoders: base64 (lenient and its alternative readings), quoted-printable,
// uuencode, RFC 2047 words, RFC 2231 parameters, charsets.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodeBase64, decodeBase64PerLine, decodeBase64Quanta, decodeCharset, decodeQuotedPrintable,
  decodeQuotedPrintableDrop, decodeUuLines, decodeWords,
} from '../../src/content/mime/decode.js';
import { paramValues, parseNaive, parseStructured } from '../../src/content/mime/headers.js';

test('base64: plain, whitespace and junk skipped, data after padding reported with the stopped reading', () => {
  assert.equal(decodeBase64(Buffer.from('aGVsbG8g\r\nd29ybGQ=')).data.toString(), 'hello world');
  const j = decodeBase64(Buffer.from('aGVs:bG8='));
  assert.equal(j.data.toString(), 'hello');
  assert.equal(j.junk, 1);
  const p = decodeBase64(Buffer.from('aGk=aGk='));
  assert.equal(p.dataAfterPad, true);
  assert.equal(p.data.toString(), 'hihi');
  assert.equal(p.stopped?.toString(), 'hi');
});

test('base64: per-line and per-group readings', () => {
  // "A" alone on a line, then real data: per-line decoding drops the stray character
  const pl = decodeBase64PerLine(Buffer.from('A\r\n\r\naGVsbG8=\r\n'));
  assert.equal(pl.data.toString(), 'hello');
  assert.equal(pl.oddLines, 1);
  assert.equal(decodeBase64Quanta(Buffer.from('a=Gk')).toString(), 'hi');
});

test('quoted-printable: escapes, soft breaks, lower-case hex counted, drop reading', () => {
  const q = decodeQuotedPrintable(Buffer.from('caf=C3=A9 =\r\nx=3d=ZZ'));
  assert.equal(q.data.toString('utf8'), 'café x==ZZ');
  assert.equal(q.invalid, 2);
  assert.equal(decodeQuotedPrintableDrop(Buffer.from('=0a=41= =42=\r\n')).toString(), 'AB');
});

test('uuencode lines decode', () => {
  // "hi\n" uuencoded
  assert.equal(decodeUuLines(['#:&D*', '`']).toString(), 'hi\n');
});

test('RFC 2047: B and Q words, adjacent words joined, charsets', () => {
  assert.equal(decodeWords('=?utf-8?B?aW52b2ljZS5leGU=?='), 'invoice.exe');
  assert.equal(decodeWords('=?iso-8859-1?Q?caf=E9_au_lait?= ok'), 'café au lait ok');
  assert.equal(decodeWords('=?utf-8?Q?a?= =?utf-8?Q?b?='), 'ab');
  assert.equal(decodeWords('=?iso-2022-jp?B?GyRCJF4kXyRgJGEkYhsoQg==?='), 'まみむめも');
});

test('charsets: WHATWG names, aliases and unknown names fall back', () => {
  assert.equal(decodeCharset(Buffer.from([0xe9]), 'ISO-8859-1'), 'é');
  assert.equal(decodeCharset(Buffer.from([0xbd, 0xba]), 'ks_c_5601-1987'), '스');
  assert.equal(decodeCharset(Buffer.from('héllo'), 'x-no-such-charset'), 'héllo');
  assert.equal(decodeCharset(Buffer.from([0x80]), 'cp437'), 'Ç');
});

test('RFC 2231 parameters: continuations, charset, out-of-order and duplicate sections give every reading', () => {
  const s = parseStructured("attachment; filename*0*=utf-8''inv%6F; filename*1=ice.exe");
  assert.equal(s.value, 'attachment');
  assert.deepEqual(paramValues(s.params, 'filename')[0], 'invoice.exe');
  const ooo = parseStructured("x/y; name*1*=''b; name*0*=a");
  assert.ok(paramValues(ooo.params, 'name').includes('ab') || paramValues(ooo.params, 'name').includes("a''b"));
  assert.ok(paramValues(ooo.params, 'name').includes('ba'));
  const nonExt = parseStructured('multipart/mixed; boundary*0=b%5F; boundary*1=1');
  assert.deepEqual(paramValues(nonExt.params, 'boundary').slice(0, 2).sort(), ['b%5F1', 'b_1']);
});

test('strict and naive parameter readings differ on quoting tricks', () => {
  const v = 'multipart/mixed; foo="x;boundary=evil"; boundary=good';
  assert.deepEqual(paramValues(parseStructured(v).params, 'boundary'), ['good']);
  assert.ok(paramValues(parseNaive(v).params, 'boundary').includes('evil'));
  assert.equal(parseStructured('multipart/mixed (comment); boundary="a b"').value, 'multipart/mixed');
});

test('unknown charset label: UTF-8 cut inside a character (a decode window) is still read as UTF-8', () => {
  const text = 'ｖｅｒｉｆｙ ｙｏｕｒ ａｃｃｏｕｎｔ é';
  const bytes = Buffer.from(text, 'utf8');
  for (let cut = 1; cut <= 2; cut++) {
    const window = bytes.subarray(0, bytes.length - cut); // ends inside "é"
    assert.ok(decodeCharset(window, 'x-mac-utf8').startsWith('ｖｅｒｉｆｙ ｙｏｕｒ ａｃｃｏｕｎｔ'), `cut ${cut}`);
  }
  // bytes that are not UTF-8 anywhere still read as windows-1252
  assert.equal(decodeCharset(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0x78]), 'x-unknown'), 'café x');
});

test('windows-1252 (and the latin1 labels mail means by it): 0x80-0x9F are “ ” € …, not C1 controls', () => {
  const bytes = Buffer.from([0x93, 0x80, 0x20, 0x31, 0x30, 0x94, 0x85, 0xe9, 0x81]);
  for (const label of ['windows-1252', 'ISO-8859-1', 'latin1', 'cp1252']) assert.equal(decodeCharset(bytes, label), '“€ 10”…é\x81', label);
  // unknown label, not UTF-8: the windows-1252 guess maps them too
  assert.equal(decodeCharset(Buffer.from([0x93, 0x68, 0x69, 0x94]), 'x-unknown'), '“hi”');
});
