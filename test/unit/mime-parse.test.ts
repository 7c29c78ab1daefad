// Unit tests for parseMessage: decoding of parts, names, text, nesting, uuencode, TNEF, S/MIME/PGP
// flags, and copied fixtures (test/fixtures/mime, MIT/Apache sources with their licences).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { mimeConfigSchema } from '../../src/content/mime/config.js';
import { parseMessage } from '../../src/content/mime/parse.js';
import { FIXTURES } from '../harness/paths.js';
import type { ParsedMessage } from '../../src/content/types.js';
import type { RuleHit } from '../../src/policy/types.js';

/** Joins lines with CRLF into a Buffer (latin1, so tests can place raw 8-bit bytes). */
const msg = (...lines: string[]): Buffer => Buffer.from(lines.join('\r\n'), 'latin1');
/** A minimal valid top-level header. */
const HDR = ['From: a@example.com', 'To: b@example.com', 'Date: Thu, 3 Dec 2026 10:00:00 +0000', 'Subject: t', 'MIME-Version: 1.0'];
const hit = (m: ParsedMessage, rule: string): RuleHit | undefined => m.hits.find((h) => h.rule === rule);
const rules = (m: ParsedMessage): string[] => m.hits.map((h) => h.rule);
const b64 = (s: string | Buffer): string => (typeof s === 'string' ? Buffer.from(s, 'latin1') : s).toString('base64');

const fixture = (p: string): Buffer => readFileSync(path.join(FIXTURES, 'mime', p));

test('single text part: QP decoded, charset converted, NFKC text, subject decoded', async () => {
  const m = await parseMessage(msg(
    'From: a@example.com', 'Date: Thu, 3 Dec 2026 10:00:00 +0000', 'Subject: =?utf-8?B?77yh77yi77yj?= x',
    'Content-Type: text/plain; charset=iso-8859-1', 'Content-Transfer-Encoding: quoted-printable', '',
    'caf=E9 =EF=AC=81', ''));
  assert.equal(m.subject, 'ABC x'); // fullwidth letters NFKC-normalised
  assert.equal(m.parts.length, 1);
  const p = m.parts[0]!;
  assert.equal(p.path, '1');
  assert.equal(p.contentType, 'text/plain');
  assert.equal(p.isAttachment, false);
  assert.ok(p.text!.startsWith('café ï'), p.text); // latin-1 bytes read as latin-1
  assert.deepEqual(m.hits, []);
  assert.equal(m.headers.find((h) => h.name === 'Subject')?.value, 'ＡＢＣ x');
});

test('multipart: base64 attachment with RFC 2231 name, RFC 2047 name, HTML to text, true type', async () => {
  const m = await parseMessage(msg(...HDR,
    'Content-Type: multipart/mixed; boundary="XX"', '',
    '--XX', 'Content-Type: text/html; charset=utf-8', '', '<p>Hello <b>&#xFB01;ne</b> world</p>',
    '--XX', "Content-Type: application/octet-stream; name*=utf-8''r%C3%A9sum%C3%A9.pdf",
    "Content-Disposition: attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf", 'Content-Transfer-Encoding: base64', '',
    b64('%PDF-1.4 test'),
    '--XX', 'Content-Type: application/x-msdownload; name="=?utf-8?Q?a=2Eexe?="', 'Content-Transfer-Encoding: base64', '',
    b64('MZ\x90\x00'), '--XX--', ''));
  assert.deepEqual(m.parts.map((p) => p.path), ['1', '2', '3']);
  // part text is not NFKC-normalised by the parser (each check normalises what it scans): the ligature stays
  assert.equal(m.parts[0]!.text, 'Hello \ufb01ne world');
  assert.deepEqual(m.parts[1]!.names, ['résumé.pdf']);
  assert.equal(m.parts[1]!.trueType, 'pdf');
  assert.equal(m.parts[1]!.disposition, 'attachment');
  assert.equal(m.parts[1]!.isAttachment, true);
  assert.deepEqual(m.parts[2]!.names, ['a.exe']);
  assert.equal(m.parts[2]!.trueType, 'pe');
  assert.equal(m.parts[2]!.depth, 2);
  assert.deepEqual(rules(m), []);
});

test('nested message/rfc822: the inner parts become parts too', async () => {
  const inner = ['From: c@example.com', 'Subject: inner', 'Content-Type: multipart/mixed; boundary=in', '',
    '--in', 'Content-Type: text/plain', '', 'inner text', '--in',
    'Content-Type: application/zip; name=x.zip', 'Content-Transfer-Encoding: base64', '', b64('PK\x03\x04rest'), '--in--'];
  const m = await parseMessage(msg(...HDR, 'Content-Type: multipart/mixed; boundary=out', '',
    '--out', 'Content-Type: text/plain', '', 'outer', '--out', 'Content-Type: message/rfc822', '', ...inner, '--out--', ''));
  const paths = m.parts.map((p) => `${p.path}:${p.contentType}`);
  assert.deepEqual(paths, ['1:text/plain', '2:message/rfc822', '2.1.1:text/plain', '2.1.2:application/zip']);
  assert.equal(m.parts[3]!.trueType, 'zip');
  assert.deepEqual(m.parts[3]!.names, ['x.zip']);
  assert.equal(m.parts[3]!.depth, 4);
  assert.equal(m.parts[2]!.text?.trim(), 'inner text');
});

test('uuencoded block inside a text part becomes a part with origin uuencode', async () => {
  const m = await parseMessage(msg(...HDR, 'Content-Type: text/plain', '', 'see file', 'begin 644 evil.exe', '#:&D*', '`', 'end', 'bye', ''));
  const uu = m.parts.find((p) => p.origin === 'uuencode');
  assert.ok(uu);
  assert.deepEqual(uu.names, ['evil.exe']);
  assert.equal(uu.content.toString(), 'hi\n');
  assert.equal(uu.path, '1/uu:1');
});

test('Content-Transfer-Encoding x-uuencode decodes the body', async () => {
  const m = await parseMessage(msg(...HDR, 'Content-Type: application/octet-stream; name=f.bin', 'Content-Transfer-Encoding: x-uuencode', '',
    'begin 600 f.bin', '#:&D*', '`', 'end', ''));
  assert.equal(m.parts[0]!.content.toString(), 'hi\n');
  assert.deepEqual(rules(m), []);
});

function tnef(files: { name: string; data: Buffer }[]): Buffer {
  const attr = (level: number, id: number, data: Buffer): Buffer => {
    const h = Buffer.alloc(9);
    h[0] = level;
    h.writeUInt32LE(id, 1);
    h.writeUInt32LE(data.length, 5);
    let sum = 0;
    for (const b of data) sum = (sum + b) & 0xffff;
    const c = Buffer.alloc(2);
    c.writeUInt16LE(sum);
    return Buffer.concat([h, data, c]);
  };
  const chunks: Buffer[] = [Buffer.from([0x78, 0x9f, 0x3e, 0x22, 0x01, 0x00])];
  for (const f of files) {
    chunks.push(attr(2, 0x00069002, Buffer.alloc(14)), attr(2, 0x00018010, Buffer.from(`${f.name}\0`, 'latin1')), attr(2, 0x0006800f, f.data));
  }
  return Buffer.concat(chunks);
}

test('TNEF winmail.dat: attachment names and data become parts with origin tnef', async () => {
  const t = tnef([{ name: 'report.exe', data: Buffer.from('MZ fake') }, { name: 'a.txt', data: Buffer.from('hello') }]);
  const m = await parseMessage(msg(...HDR, 'Content-Type: multipart/mixed; boundary=b', '', '--b', 'Content-Type: text/plain', '', 'x', '--b',
    'Content-Type: application/ms-tnef; name="winmail.dat"', 'Content-Transfer-Encoding: base64', '', b64(t), '--b--', ''));
  const tn = m.parts.filter((p) => p.origin === 'tnef');
  assert.deepEqual(tn.map((p) => p.names[0]), ['report.exe', 'a.txt']);
  assert.equal(tn[0]!.trueType, 'pe');
  assert.equal(tn[1]!.content.toString(), 'hello');
  assert.equal(tn[0]!.path, '2/tnef:1');
});

test('S/MIME and PGP flags', async () => {
  const enc = await parseMessage(msg(...HDR, 'Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m', 'Content-Transfer-Encoding: base64', '', b64('xx'), ''));
  assert.equal(enc.encrypted, true);
  assert.equal(enc.signed, false);
  const signed = await parseMessage(fixture('ruby-mail/raw_email_with_nested_attachment.eml'));
  assert.equal(signed.signed, true);
  assert.equal(signed.encrypted, false);
  const pgp = await parseMessage(msg(...HDR, 'Content-Type: text/plain', '', '-----BEGIN PGP MESSAGE-----', 'hQEMA', '-----END PGP MESSAGE-----', ''));
  assert.equal(pgp.encrypted, true);
  const pgpMime = await parseMessage(msg(...HDR, 'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary=e', '',
    '--e', 'Content-Type: application/pgp-encrypted', '', 'Version: 1', '--e', 'Content-Type: application/octet-stream', '', 'xx', '--e--', ''));
  assert.equal(pgpMime.encrypted, true);
  const clear = await parseMessage(msg(...HDR, 'Content-Type: text/plain', '', '-----BEGIN PGP SIGNED MESSAGE-----', 'Hash: SHA256', '', 'hi', ''));
  assert.equal(clear.signed, true);
});

test('fixture: ISO-2022-JP text is converted to UTF-8', async () => {
  const m = await parseMessage(fixture('ruby-mail/japanese_iso_2022.eml'));
  assert.equal(m.subject, 'まみむめも');
  assert.match(m.parts[0]!.text!, /すみません/);
});

test('fixture: message/partial and message/external-body are refused by default', async () => {
  const p = await parseMessage(fixture('mimekit/rfc2046.0.eml'));
  assert.equal(hit(p, 'mime.partial')?.action, 'reject');
  assert.equal(hit(p, 'mime.partial')?.reply?.enhanced, '5.6.0');
  const e = await parseMessage(fixture('mailgun-flanker/message-external-body.eml'));
  assert.equal(hit(e, 'mime.external-body')?.action, 'reject');
});

test('fixture: a lone missing final boundary scores and the parts are still read', async () => {
  const m = await parseMessage(fixture('enmime/bad-final-boundary.raw'));
  const h = hit(m, 'mime.missing-close-boundary');
  assert.equal(h?.action, 'score');
  assert.equal(h?.score, 1);
  assert.ok(m.parts.length >= 1);
  assert.ok(!m.hits.some((x) => x.action === 'reject'));
});

test('config: ambiguity verdict can be switched to quarantine in one key', async () => {
  const config = mimeConfigSchema.parse({ ambiguity: { action: 'quarantine' } });
  const m = await parseMessage(msg(...HDR, 'Content-Type: message/partial; id=x; number=1; total=2', '', 'frag', ''), { config });
  assert.equal(hit(m, 'mime.partial')?.action, 'quarantine');
  assert.equal(hit(m, 'mime.partial')?.reply, undefined);
  const off = mimeConfigSchema.parse({ partial: { action: 'off' } });
  const m2 = await parseMessage(msg(...HDR, 'Content-Type: message/partial; id=x; number=1; total=2', '', 'frag', ''), { config: off });
  assert.equal(hit(m2, 'mime.partial'), undefined);
});

test('never throws on garbage input', async () => {
  for (const raw of [Buffer.alloc(0), Buffer.from('\r\n\r\n'), Buffer.from([0, 255, 13, 10, 58, 58]), Buffer.from('Content-Type: multipart/mixed; boundary=\r\n\r\n--\r\n--\r\n'),
    Buffer.from('Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!!\r\n')]) {
    const m = await parseMessage(raw);
    assert.ok(Array.isArray(m.parts));
    assert.ok(!m.hits.some((h) => h.rule === 'mime.parse-error'));
  }
});

test('optional mailparser view: off by default; when on, attachments only it decodes are added', async () => {
  const raw = msg(...HDR, 'Content-Type: multipart/mixed; boundary=b', '', '--b', 'Content-Type: application/octet-stream; name=a.bin',
    'Content-Transfer-Encoding: base64', '', b64('abc'), '--b--', '');
  const off = await parseMessage(raw);
  assert.equal(off.parts.length, 1);
  const on = await parseMessage(raw, { config: mimeConfigSchema.parse({ mailparserView: true }) });
  assert.equal(on.parts.length, 1); // mailparser agrees: nothing added
  assert.equal(hit(on, 'mime.ambiguous.parser-views'), undefined);
});
