// Files hidden inside parts (uuencode past the text cut, yEnc, BinHex 4.0) and attached messages sent
// under another type or name: each attack message is built here, parsed, and run through the
// attachment check to show it is caught; a benign variant of each passes. Messages are built in the
// test (no fixtures); the BinHex writer below is the test's own, from the format description.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { createAttachmentCheck } from '../../src/content/attachments/check.js';
import { decodeBinHex } from '../../src/content/mime/binhex.js';
import { mimeConfigSchema, type MimeConfigInput } from '../../src/content/mime/config.js';
import { parseMessage } from '../../src/content/mime/parse.js';
import type { ParsedMessage } from '../../src/content/types.js';
import type { RuleHit } from '../../src/policy/types.js';
import * as B from '../fixtures/attachments/build.js';
import { ENV } from '../fixtures/attachments/parts.js';
import { SHARED_CORPUS } from '../harness/paths.js';
import { uuencode } from '../fixtures/uuencode.js';

const msg = (...lines: string[]): Buffer => Buffer.from(lines.join('\r\n'), 'latin1');
const HDR = ['From: a@example.com', 'To: b@example.com', 'Date: Thu, 3 Dec 2026 10:00:00 +0000', 'Subject: t', 'MIME-Version: 1.0'];
const hit = (m: ParsedMessage, rule: string): RuleHit | undefined => m.hits.find((h) => h.rule === rule);
const check = createAttachmentCheck();
/** Rule ids of attachment hits over the whole parsed message. */
const attachmentRules = (m: ParsedMessage): string[] => [...new Set((check.run(m, ENV) as RuleHit[]).map((h) => h.rule))].sort();
const config = (c: MimeConfigInput) => mimeConfigSchema.parse(c);
/** base64 folded at 76 columns. */
const b64 = (b: Buffer): string[] => b.toString('base64').match(/.{1,76}/g) ?? [];


/** yEnc-encodes `data` ("=ybegin" … "=yend"), escaping NUL, LF, CR and "=". */
function yenc(name: string, data: Buffer): string[] {
  let body = '';
  for (const byte of data) {
    const v = (byte + 42) & 255;
    body += v === 0 || v === 10 || v === 13 || v === 61 ? `=${String.fromCharCode((v + 64) & 255)}` : String.fromCharCode(v);
  }
  return [`=ybegin line=128 size=${data.length} name=${name}`, ...(body.match(/[\s\S]{1,128}/g) ?? []), `=yend size=${data.length}`];
}

/** CRC-16/CCITT as BinHex uses it (polynomial 0x1021, initial 0). */
function crc16(b: Buffer): number {
  let crc = 0;
  for (const byte of b) {
    for (let bit = 7; bit >= 0; bit--) {
      const top = (crc >> 15) & 1;
      crc = ((crc << 1) & 0xffff) | ((byte >> bit) & 1);
      if (top) crc ^= 0x1021;
    }
  }
  // two zero bytes pushed through, as the original algorithm does
  for (let k = 0; k < 16; k++) {
    const top = (crc >> 15) & 1;
    crc = (crc << 1) & 0xffff;
    if (top) crc ^= 0x1021;
  }
  return crc;
}

/** A BinHex 4.0 text (marker line, ":"-framed 64-column lines); `rle` run-length encodes runs. */
function binhex(name: string, data: Buffer, opts: { rle?: boolean; badCrc?: boolean; marker?: boolean } = {}): string[] {
  const nm = Buffer.from(name, 'latin1');
  const head = Buffer.alloc(1 + nm.length + 1 + 4 + 4 + 2 + 4 + 4);
  head[0] = nm.length;
  nm.copy(head, 1);
  let o = 1 + nm.length + 1;
  head.write('APPL', o, 'latin1');
  head.write('Mrkt', o + 4, 'latin1');
  o += 10;
  head.writeUInt32BE(data.length, o);
  head.writeUInt32BE(0, o + 4);
  const u16 = (n: number): Buffer => Buffer.from([n >> 8, n & 255]);
  const plain = Buffer.concat([head, u16(crc16(head)), data, u16(crc16(data) ^ (opts.badCrc ? 0x5555 : 0)), u16(0)]);
  const bytes: number[] = [];
  for (let i = 0; i < plain.length; ) {
    const b = plain[i]!;
    let run = 1;
    while (opts.rle && i + run < plain.length && plain[i + run] === b && run < 255) run++;
    bytes.push(b);
    if (b === 0x90) bytes.push(0);
    if (run >= 3) {
      bytes.push(0x90, run);
      i += run;
    } else i++;
  }
  const A = '!"#$%&\'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr';
  let text = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = i + 2 < bytes.length ? 4 : i + 1 < bytes.length ? 3 : 2;
    for (let k = 0; k < chars; k++) text += A[(n >> (18 - 6 * k)) & 63];
  }
  const lines = `:${text}:`.match(/.{1,64}/g) ?? [];
  return opts.marker === false ? lines : ['(This file must be converted with BinHex 4.0)', '', ...lines];
}

// ---- finding 1: uuencode after the text cut ----

test('uuencoded executable after the first 4 MB of a text part is extracted and blocked', async () => {
  const filler = Buffer.from(`${'lorem ipsum dolor sit amet '.repeat(40)}\n`.repeat(4200), 'latin1'); // > 4 MiB
  assert.ok(filler.length > mimeConfigSchema.parse({}).maxTextBytes);
  const attack = Buffer.concat([filler, Buffer.from(`${uuencode('setup.exe', B.pe()).join('\n')}\n`, 'latin1')]);
  const m = await parseMessage(msg(...HDR, 'Content-Type: text/plain', 'Content-Transfer-Encoding: base64', '', ...b64(attack), ''));
  const uu = m.parts.find((p) => p.origin === 'uuencode');
  assert.ok(uu, 'uuencoded block found past maxTextBytes');
  assert.deepEqual(uu.names, ['setup.exe']);
  assert.equal(uu.trueType, 'pe');
  const rules = attachmentRules(m);
  assert.ok(rules.includes('attachment.blocked-name') && rules.includes('attachment.blocked-type'), rules.join(','));
  assert.equal(hit(m, 'mime.unchecked'), undefined);
  // benign: the same long text without a hidden file
  const ok = await parseMessage(msg(...HDR, 'Content-Type: text/plain', 'Content-Transfer-Encoding: base64', '', ...b64(filler), ''));
  assert.equal(ok.parts.length, 1);
  assert.deepEqual(attachmentRules(ok), []);
  assert.deepEqual(ok.hits, []);
});

test('embedded-file search bounds: bytes or file count over the limit give mime.unchecked (quarantine), not silence', async () => {
  const text = `${'x'.repeat(3000)}\n${uuencode('a.exe', B.pe()).join('\n')}\n`;
  const over = await parseMessage(msg(...HDR, 'Content-Type: text/plain', '', text, ''), { config: config({ maxEmbeddedScanBytes: 1024 }) });
  assert.equal(hit(over, 'mime.unchecked')?.action, 'quarantine');
  assert.match(hit(over, 'mime.unchecked')!.detail, /first 1024 of/);
  const within = await parseMessage(msg(...HDR, 'Content-Type: text/plain', '', 'short text', ''), { config: config({ maxEmbeddedScanBytes: 1024 }) });
  assert.equal(hit(within, 'mime.unchecked'), undefined);
  const three = [...uuencode('a.txt', Buffer.from('a')), ...uuencode('b.txt', Buffer.from('b')), ...uuencode('c.exe', B.pe())];
  const many = await parseMessage(msg(...HDR, 'Content-Type: text/plain', '', ...three, ''), { config: config({ maxEmbeddedFiles: 2 }) });
  assert.equal(hit(many, 'mime.unchecked')?.action, 'quarantine');
  assert.equal(many.parts.filter((p) => p.origin === 'uuencode').length, 2);
  const two = await parseMessage(msg(...HDR, 'Content-Type: text/plain', '', ...three.slice(0, 8), ''), { config: config({ maxEmbeddedFiles: 2 }) });
  assert.equal(hit(two, 'mime.unchecked'), undefined);
});

test('yEnc and begin-base64 blocks in text become parts with their names', async () => {
  const m = await parseMessage(msg(...HDR, 'Content-Type: text/plain; charset=iso-8859-1', 'Content-Transfer-Encoding: 8bit', '',
    'see attached', ...yenc('invoice.scr', B.pe()), 'and', 'begin-base64 644 tool.js', Buffer.from('WScript.Echo(1)').toString('base64'), '====', ''));
  const y = m.parts.find((p) => p.origin === 'yenc');
  assert.ok(y);
  assert.deepEqual(y.names, ['invoice.scr']);
  assert.ok(y.content.equals(B.pe()), 'yEnc decoded byte for byte');
  const b = m.parts.find((p) => p.names.includes('tool.js'));
  assert.equal(b?.content.toString(), 'WScript.Echo(1)');
  const rules = attachmentRules(m);
  assert.ok(rules.includes('attachment.blocked-name'), rules.join(','));
  // benign: prose that mentions "begin" and "=ybegin" without a block
  const ok = await parseMessage(msg(...HDR, 'Content-Type: text/plain', '', 'begin here: 644 lines follow', 'we begin now', '=ybeginner', ''));
  assert.equal(ok.parts.length, 1);
});

// ---- finding 2: attached messages under another type or name ----

const INNER = [
  'From: c@example.com', 'To: d@example.com', 'Subject: inner', 'Date: Thu, 3 Dec 2026 09:00:00 +0000', 'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary=in', '',
  '--in', 'Content-Type: text/plain', '', 'open the file', '--in',
  'Content-Type: application/octet-stream; name=payload.exe', 'Content-Disposition: attachment; filename=payload.exe',
  'Content-Transfer-Encoding: base64', '', ...b64(B.pe()), '--in--', ''];

async function outer(partHeaders: string[], body: string[]): Promise<ParsedMessage> {
  return parseMessage(msg(...HDR, 'Content-Type: multipart/mixed; boundary=out', '',
    '--out', 'Content-Type: text/plain', '', 'fwd', '--out', ...partHeaders, '', ...body, '--out--', ''));
}

test('attached message sent as application/octet-stream (base64, no name) is parsed and its attachment blocked', async () => {
  const m = await outer(['Content-Type: application/octet-stream', 'Content-Transfer-Encoding: base64'], b64(Buffer.from(INNER.join('\r\n'), 'latin1')));
  const inner = m.parts.find((p) => p.names.includes('payload.exe'));
  assert.ok(inner, m.parts.map((p) => p.path).join(' '));
  assert.equal(inner.path, '2/msg.2');
  assert.equal(inner.trueType, 'pe');
  assert.equal(inner.depth, 4);
  assert.ok(attachmentRules(m).includes('attachment.blocked-name'));
});

test('attached message as text/plain attachment, with no Content-Type, or named .eml under another type', async () => {
  for (const headers of [
    ['Content-Type: text/plain', 'Content-Disposition: attachment; filename=forward.txt'],
    ['Content-Disposition: attachment'],
    ['Content-Type: image/png; name=scan.eml', 'Content-Disposition: attachment; filename=scan.eml'],
    ['Content-Type: application/pdf', 'Content-Disposition: attachment; filename="mail.msg"'],
  ]) {
    const m = await outer(headers, INNER);
    assert.ok(m.parts.some((p) => p.names.includes('payload.exe')), `${headers.join(' | ')}: ${m.parts.map((p) => p.path).join(' ')}`);
    assert.ok(attachmentRules(m).includes('attachment.blocked-name'), headers.join(' | '));
  }
});

test('sniffed attached messages obey the depth limit', async () => {
  const raw = msg(...HDR, 'Content-Type: multipart/mixed; boundary=out', '', '--out', 'Content-Type: application/octet-stream', '', ...INNER, '--out--', '');
  const m = await parseMessage(raw, { config: config({ mimeDepth: { limit: 3 } }) });
  assert.equal(hit(m, 'rfc.mime-depth')?.action, 'reject');
});

test('benign: binary data, a text attachment starting with one header-like line, and a pasted header block are not messages', async () => {
  const bin = await outer(['Content-Type: application/octet-stream; name=data.bin', 'Content-Transfer-Encoding: base64'], b64(Buffer.from('From: x\r\n\r\n\x00\x01\x02', 'latin1')));
  assert.ok(!bin.parts.some((p) => p.path.includes('/msg')));
  const notes = await outer(['Content-Type: text/plain; name=notes.txt'], ['Subject: meeting notes', '', 'we met']);
  assert.ok(!notes.parts.some((p) => p.path.includes('/msg')));
  const html = await outer(['Content-Type: text/html'], ['From: a@example.com', 'Subject: x', 'MIME-Version: 1.0', '', '<p>hi</p>']);
  assert.ok(!html.parts.some((p) => p.path.includes('/msg')));
  for (const m of [bin, notes, html]) assert.deepEqual(attachmentRules(m), []);
});

// ---- attacker finding 7: attached message padded past a fixed sniff window, or starting with a BOM ----

/** INNER with `pad` extra header lines inserted after its first field. */
const padded = (pad: string[]): string[] => [INNER[0]!, ...pad, ...INNER.slice(1)];

test('attached message with a header block over 64 KiB, or a leading UTF-8 BOM, is still opened and its attachment blocked', async () => {
  const pad = Array.from({ length: 900 }, (_, i) => `X-Pad-${i}: ${'a'.repeat(70)}`);
  const big = Buffer.from(padded(pad).join('\r\n'), 'latin1');
  assert.ok(big.indexOf('\r\n\r\n') > 64 * 1024);
  const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(INNER.join('\r\n'), 'latin1')]);
  for (const [label, data] of [['padded', big], ['bom', bom]] as const) {
    const m = await outer(['Content-Type: application/octet-stream; name=forwarded.eml', 'Content-Transfer-Encoding: base64'], b64(data));
    const inner = m.parts.find((p) => p.names.includes('payload.exe'));
    assert.ok(inner, `${label}: ${m.parts.map((p) => p.path).join(' ')}`);
    assert.equal(inner.trueType, 'pe', label);
    assert.ok(attachmentRules(m).includes('attachment.blocked-name'), label);
    assert.equal(hit(m, 'rfc.header-count'), undefined, label); // 900 + a few fields: under the 1000 limit
  }
  // past the header-count limit it is still read as a message, and the limit rule refuses it
  const over = Buffer.from(padded(Array.from({ length: 1100 }, (_, i) => `X-Pad-${i}: x`)).join('\r\n'), 'latin1');
  const m = await outer(['Content-Type: application/octet-stream', 'Content-Transfer-Encoding: base64'], b64(over));
  assert.ok(m.parts.some((p) => p.names.includes('payload.exe')));
  assert.equal(hit(m, 'rfc.header-count')?.action, 'reject');
});

test('benign: a long header-like data file, a one-line JSON over 64 KiB and a BOM text note are not messages', async () => {
  // many "key: value" lines but no message and MIME fields
  const kv = Array.from({ length: 2000 }, (_, i) => `key${i}: value ${i}`).join('\r\n');
  const json = `{"a":"${'x'.repeat(70 * 1024)}"}`;
  const note = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('Subject: meeting notes\r\n\r\nwe met\r\n')]);
  for (const [name, data] of [['settings.yml', Buffer.from(kv)], ['data.json', Buffer.from(json)], ['notes.txt', note]] as const) {
    const m = await outer([`Content-Type: application/octet-stream; name=${name}`, 'Content-Transfer-Encoding: base64'], b64(data));
    assert.ok(!m.parts.some((p) => p.path.includes('/msg')), name);
    assert.deepEqual(m.hits, [], name);
    assert.deepEqual(attachmentRules(m), [], name);
  }
});

// ---- finding 4: BinHex 4.0 ----

test('BinHex 4.0 (transfer encoding or mac-binhex40 type): data fork decoded, true-typed and name-checked', async () => {
  for (const headers of [
    ['Content-Type: application/octet-stream', 'Content-Transfer-Encoding: x-binhex40'],
    ['Content-Type: application/mac-binhex40; name="game.hqx"'],
  ]) {
    const m = await parseMessage(msg(...HDR, 'Content-Type: multipart/mixed; boundary=b', '', '--b', 'Content-Type: text/plain', '', 'hi',
      '--b', ...headers, '', ...binhex('setup.exe', B.pe(), { rle: true }), '--b--', ''));
    const f = m.parts.find((p) => p.origin === 'binhex');
    assert.ok(f, headers.join(' | '));
    assert.deepEqual(f.names, ['setup.exe']);
    assert.ok(f.content.equals(B.pe()), 'data fork decoded byte for byte (RLE undone)');
    assert.equal(f.trueType, 'pe');
    assert.equal(hit(m, 'mime.undecodable'), undefined);
    const rules = attachmentRules(m);
    assert.ok(rules.includes('attachment.blocked-name') && rules.includes('attachment.blocked-type'), rules.join(','));
  }
  // benign: a harmless file in BinHex passes without parser or attachment hits
  const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(40, 0x90), Buffer.from('IEND')]);
  const ok = await parseMessage(msg(...HDR, 'Content-Type: application/mac-binhex40; name="ball.hqx"', '', ...binhex('ball.png', png, { rle: true }), ''));
  const f = ok.parts.find((p) => p.origin === 'binhex');
  assert.ok(f?.content.equals(png), 'literal 0x90 bytes survive');
  assert.equal(f!.trueType, 'png');
  assert.deepEqual(ok.hits, []);
  assert.deepEqual(attachmentRules(ok), []);
});

test('BinHex inside a plain text part is found by its marker line; a bad CRC or garbage is mime.undecodable', async () => {
  const m = await parseMessage(msg(...HDR, 'Content-Type: text/plain', '', 'here it is:', ...binhex('run.com', B.pe()), 'bye', ''));
  assert.deepEqual(m.parts.find((p) => p.origin === 'binhex')?.names, ['run.com']);
  assert.ok(attachmentRules(m).includes('attachment.blocked-name'));
  const bad = await parseMessage(msg(...HDR, 'Content-Type: application/mac-binhex40', '', ...binhex('a.txt', Buffer.from('hello'), { badCrc: true }), ''));
  assert.equal(hit(bad, 'mime.undecodable')?.action, 'reject');
  assert.ok(bad.parts.some((p) => p.origin === 'binhex' && p.content.toString() === 'hello'), 'still scanned');
  const junk = await parseMessage(msg(...HDR, 'Content-Type: application/octet-stream', 'Content-Transfer-Encoding: binhex40', '', ':not binhex at all:', ''));
  assert.equal(hit(junk, 'mime.undecodable')?.action, 'reject');
});

test('BinHex run-length bomb: expansion past the budget is mime.unchecked, not memory or a silent pass', async () => {
  const text = binhex('big.bin', Buffer.alloc(200_000, 0x41), { rle: true });
  assert.ok(text.join('').length < 5000, 'small on the wire');
  const m = await parseMessage(msg(...HDR, 'Content-Type: application/mac-binhex40', '', ...text, ''), { config: config({ maxEmbeddedScanBytes: 50_000 }) });
  assert.equal(hit(m, 'mime.unchecked')?.action, 'quarantine');
  assert.ok(m.parts.every((p) => p.content.length <= 50_000));
  const ok = await parseMessage(msg(...HDR, 'Content-Type: application/mac-binhex40', '', ...text, ''));
  assert.equal(hit(ok, 'mime.unchecked'), undefined);
  assert.equal(ok.parts.find((p) => p.origin === 'binhex')?.content.length, 200_000);
});

test('decodeBinHex reads header fields and the resource-less data fork; null without a stream', () => {
  const f = decodeBinHex(Buffer.from(binhex('Read Me', Buffer.from('aaaaaaaaaab'), { rle: true, marker: false }).join('\n'), 'latin1'));
  assert.ok(f);
  assert.equal(f.name, 'Read Me');
  assert.equal(f.fileType, 'APPL');
  assert.equal(f.creator, 'Mrkt');
  assert.equal(f.data.toString(), 'aaaaaaaaaab');
  assert.equal(f.crcOk, true);
  assert.equal(f.truncated, false);
  assert.equal(decodeBinHex(Buffer.from('no colon here')), null);
});

const M2011 = path.join(SHARED_CORPUS, 'zbateson-mail-mime-parser', 'm2011.txt');
test('corpus: a real BinHex mail (Eudora sample) decodes with valid CRCs', { skip: existsSync(M2011) ? false : 'shared corpus absent' }, async () => {
  const m = await parseMessage(readFileSync(M2011));
  const files = m.parts.filter((p) => p.origin === 'binhex');
  assert.equal(files.length, 2);
  assert.equal(files[0]!.trueType, 'png');
  assert.ok(files[0]!.names.includes('blueball.png'));
  assert.equal(hit(m, 'mime.undecodable'), undefined);
});
