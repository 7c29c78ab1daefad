// Unit tests for ambiguity detection: each kind fires with its configured action, and every plausible
// reading of the structure ends up in `parts` (union scanning).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseMessage } from '../../src/content/mime/parse.js';
import type { ParsedMessage } from '../../src/content/types.js';
import type { RuleHit } from '../../src/policy/types.js';

/** Joins lines with CRLF into a Buffer (latin1, so tests can place raw 8-bit bytes). */
const msg = (...lines: string[]): Buffer => Buffer.from(lines.join('\r\n'), 'latin1');
/** A minimal valid top-level header. */
const HDR = ['From: a@example.com', 'To: b@example.com', 'Date: Thu, 3 Dec 2026 10:00:00 +0000', 'Subject: t', 'MIME-Version: 1.0'];
const hit = (m: ParsedMessage, rule: string): RuleHit | undefined => m.hits.find((h) => h.rule === rule);
const b64 = (s: string | Buffer): string => (typeof s === 'string' ? Buffer.from(s, 'latin1') : s).toString('base64');

const ZIP = b64('PK\x03\x04evil');

test('duplicate boundary parameters that both delimit parts: reject, parts of both readings kept', async () => {
  const m = await parseMessage(msg(...HDR, 'Content-Type: multipart/mixed; boundary=good; boundary=bad', '',
    '--bad', 'Content-Type: application/zip; name=e.zip', 'Content-Transfer-Encoding: base64', '', ZIP,
    '--good', 'Content-Type: text/plain', '', 'hello', '--good--', '--bad--', ''));
  const h = hit(m, 'mime.ambiguous.duplicate-boundary');
  assert.equal(h?.action, 'reject');
  assert.deepEqual(h?.reply, { code: 554, enhanced: '5.6.0', text: 'message refused: ambiguous MIME structure' });
  assert.match(h!.detail, /"good".*"bad"/);
  assert.equal(h!.where, 'message');
  assert.ok(m.parts.some((p) => p.names.includes('e.zip') && p.content.subarray(0, 2).toString() === 'PK'));
  assert.ok(m.parts.some((p) => p.text?.includes('hello')));
});

test('RFC 2231 boundary vs plain boundary (CVE-2024-28054 style)', async () => {
  const m = await parseMessage(msg(...HDR, "Content-Type: multipart/mixed; boundary=aaa; boundary*=''bbb", '',
    '--aaa', 'Content-Type: text/plain', '', 'one', '--bbb', 'Content-Type: text/plain', '', 'two', '--bbb--', '--aaa--', ''));
  assert.equal(hit(m, 'mime.ambiguous.duplicate-boundary')?.action, 'reject');
});

test('boundary only a lenient reading finds: scores, the lenient parts are scanned', async () => {
  const m = await parseMessage(msg(...HDR, 'Content-Type: multipart/mixed; foo="x;boundary=hidden"', '',
    '--hidden', 'Content-Type: application/zip; name=e.zip', 'Content-Transfer-Encoding: base64', '', ZIP, '--hidden--', ''));
  assert.equal(hit(m, 'mime.ambiguous.boundary')?.action, 'score');
  assert.ok(m.parts.some((p) => p.names.includes('e.zip')));
});

test('nested boundary extending the enclosing one scores; equal nested boundary rejects', async () => {
  const prefix = await parseMessage(msg(...HDR, 'Content-Type: multipart/mixed; boundary=X', '',
    '--X', 'Content-Type: multipart/alternative; boundary=X_alt', '', '--X_alt', 'Content-Type: text/plain', '', 'a', '--X_alt--',
    '--X', 'Content-Type: text/plain', '', 'b', '--X--', ''));
  assert.equal(hit(prefix, 'mime.ambiguous.boundary-prefix')?.action, 'score');
  assert.ok(prefix.parts.some((p) => p.text?.trim() === 'a') && prefix.parts.some((p) => p.text?.trim() === 'b'));
  const equal = await parseMessage(msg(...HDR, 'Content-Type: multipart/mixed; boundary=X', '',
    '--X', 'Content-Type: multipart/mixed; boundary=X', '', 'inner', '--X', 'Content-Type: text/plain', '', 'b', '--X--', ''));
  assert.equal(hit(equal, 'mime.ambiguous.boundary-equal')?.action, 'reject');
});

test('reused boundary with parts after the close delimiter (real malspam shape): reject, late parts scanned', async () => {
  const B = '----=Part_1';
  const m = await parseMessage(msg(...HDR, `Content-Type: multipart/mixed; boundary="${B}"`, '',
    `--${B}`, `Content-Type: multipart/alternative; boundary="${B}"`, '',
    `--${B}`, 'Content-Type: text/plain', '', 'hi', `--${B}`, 'Content-Type: text/html', '', '<p>hi</p>', `--${B}--`, '',
    `--${B}`, 'Content-Type: application/zip; name="a.jpg_.zip"', 'Content-Transfer-Encoding: base64', '', ZIP, `--${B}--`, ''));
  assert.equal(hit(m, 'mime.ambiguous.boundary-equal')?.action, 'reject');
  assert.ok(m.parts.some((p) => p.names.includes('a.jpg_.zip') && p.content.subarray(0, 2).toString() === 'PK'));
});

test('delimiter lines that match only by prefix: scored and the prefix reading is scanned', async () => {
  const m = await parseMessage(msg(...HDR, 'Content-Type: multipart/mixed; boundary=b1', '',
    '--b1', 'Content-Type: text/plain', '', 'x', '--b1 junk', 'Content-Type: application/zip; name=e.zip', 'Content-Transfer-Encoding: base64', '', ZIP, '--b1--', ''));
  assert.equal(hit(m, 'mime.ambiguous.boundary-prefix')?.action, 'score');
  assert.ok(m.parts.some((p) => p.names.includes('e.zip') && p.content.subarray(0, 2).toString() === 'PK'));
});

test('missing closing boundary scores; multipart without boundary scores and is scanned as text', async () => {
  const m = await parseMessage(msg(...HDR, 'Content-Type: multipart/mixed; boundary=b', '', '--b', 'Content-Type: text/plain', '', 'x', ''));
  const h = hit(m, 'mime.missing-close-boundary');
  assert.equal(h?.action, 'score');
  assert.match(h!.detail, /--b--/);
  const n = await parseMessage(msg(...HDR, 'Content-Type: multipart/mixed', '', 'just text', ''));
  assert.equal(hit(n, 'mime.no-boundary')?.action, 'score');
  assert.equal(n.parts[0]?.text?.trim(), 'just text');
});

test('two Content-Type headers that disagree: ambiguity; odd type with boundary split leniently: scores', async () => {
  const m = await parseMessage(msg(...HDR, 'Content-Type: multipart/mixed; boundary=b', 'Content-Type: text/plain', '',
    '--b', 'Content-Type: text/plain', '', 'x', '--b--', ''));
  assert.equal(hit(m, 'mime.ambiguous.content-type')?.action, 'reject');
  assert.equal(hit(m, 'rfc.duplicate-header')?.action, 'reject');
  const l = await parseMessage(msg(...HDR, 'Content-Type: singlepart/mixed; boundary=b', '',
    '--b', 'Content-Type: application/zip; name=e.zip', 'Content-Transfer-Encoding: base64', '', ZIP, '--b--', ''));
  assert.equal(hit(l, 'mime.lenient-multipart')?.action, 'score');
  assert.ok(l.parts.some((p) => p.names.includes('e.zip')));
});

test('Content-Transfer-Encoding: duplicates that disagree reject; non-standard values score and every decoding is kept', async () => {
  const d = await parseMessage(msg(...HDR, 'Content-Type: application/octet-stream', 'Content-Transfer-Encoding: base64',
    'Content-Transfer-Encoding: quoted-printable', '', ZIP, ''));
  assert.equal(hit(d, 'mime.ambiguous.encoding')?.action, 'reject');
  assert.ok(d.parts.some((p) => p.content.subarray(0, 2).toString() === 'PK'));
  const n = await parseMessage(msg(...HDR, 'Content-Type: application/octet-stream', 'Content-Transfer-Encoding: base64, qp', '', ZIP, ''));
  assert.equal(hit(n, 'mime.nonstandard-encoding')?.action, 'score');
  assert.ok(n.parts.some((p) => p.content.subarray(0, 2).toString() === 'PK'));
  const u = await parseMessage(msg(...HDR, 'Content-Type: text/plain', 'Content-Transfer-Encoding: 8-bit', '', 'x', ''));
  assert.equal(hit(u, 'mime.unknown-encoding')?.action, 'score');
  const bh = await parseMessage(msg(...HDR, 'Content-Type: application/octet-stream', 'Content-Transfer-Encoding: binhex40', '', 'x', ''));
  assert.equal(hit(bh, 'mime.undecodable')?.action, 'reject');
});

test('base64 readings: junk, data after padding, odd lines and blank-line blocks score and add readings', async () => {
  const m = await parseMessage(msg(...HDR, 'Content-Type: application/octet-stream', 'Content-Transfer-Encoding: base64', '',
    'A', '', ZIP, ''));
  const h = hit(m, 'mime.ambiguous.base64');
  assert.equal(h?.action, 'score');
  assert.ok(m.parts.some((p) => p.content.subarray(0, 4).toString('latin1') === 'PK\x03\x04'));
  const pad = await parseMessage(msg(...HDR, 'Content-Type: application/octet-stream', 'Content-Transfer-Encoding: base64', '', 'aGk=UEsDBA==', ''));
  assert.ok(pad.parts.some((p) => p.content.toString('latin1') === 'hi'));
  assert.ok(pad.parts.some((p) => p.content.toString('latin1').includes('PK')));
});

test('file names: different extensions are ambiguous, same extension only scores, all names kept', async () => {
  const m = await parseMessage(msg(...HDR, 'Content-Type: multipart/mixed; boundary=b', '', '--b',
    'Content-Type: application/octet-stream; name="invoice.pdf"', 'Content-Disposition: attachment; filename="invoice.exe"', '', 'x', '--b--', ''));
  const h = hit(m, 'mime.ambiguous.filename');
  assert.equal(h?.action, 'reject');
  assert.equal(h?.where, 'part 1');
  assert.deepEqual(m.parts[0]!.names, ['invoice.pdf', 'invoice.exe']);
  const r = await parseMessage(msg(...HDR, 'Content-Type: application/octet-stream', "Content-Disposition: attachment; filename=file.png; filename*=''file.exe", '', 'x', ''));
  assert.equal(hit(r, 'mime.ambiguous.filename')?.action, 'reject');
  assert.deepEqual([...r.parts[0]!.names].sort(), ['file.exe', 'file.png']);
  const same = await parseMessage(msg(...HDR, 'Content-Type: image/png; name="a.png"', 'Content-Disposition: attachment; filename="b.png"', '', 'x', ''));
  assert.equal(hit(same, 'mime.filename-mismatch')?.action, 'score');
  assert.equal(hit(same, 'mime.ambiguous.filename'), undefined);
  const lenient = await parseMessage(msg(...HDR, 'Content-Type: application/octet-stream', 'Content-Disposition: attachment; filename="a.txt;.exe"', '', 'x', ''));
  assert.equal(hit(lenient, 'mime.ambiguous.filename')?.action, 'reject');
  const pct = await parseMessage(msg(...HDR, 'Content-Type: application/octet-stream; name=attached%2E%62at', '', 'x', ''));
  assert.ok(pct.parts[0]!.names.includes('attached.bat'));
});

test('part header with a junk line or a leading blank line: both readings are scanned', async () => {
  const m = await parseMessage(msg(...HDR, 'Content-Type: multipart/mixed; boundary=b', '', '--b',
    'Content-Type: application/zip; name=e.zip', 'XXXXXXXX', 'Content-Transfer-Encoding: base64', '', ZIP, '--b', '',
    'Content-Type: application/zip; name=f.zip', 'Content-Transfer-Encoding: base64', '', ZIP, '--b--', ''));
  assert.equal(hit(m, 'mime.ambiguous.header-end')?.action, 'score');
  const zips = m.parts.filter((p) => p.content.subarray(0, 2).toString() === 'PK');
  assert.equal(zips.length, 2);
});

test('bare CR that hides structure: the CR reading is scanned too', async () => {
  const raw = Buffer.from(['From: a@example.com', 'Date: Thu, 3 Dec 2026 10:00:00 +0000', 'Content-Type: multipart/mixed; boundary=b', '',
    'preamble\r--b', 'Content-Type: application/zip; name=e.zip', 'Content-Transfer-Encoding: base64', '', ZIP, '--b--', ''].join('\r\n'), 'latin1');
  const m = await parseMessage(raw);
  assert.equal(hit(m, 'rfc.bare-cr')?.action, 'score');
  assert.equal(hit(m, 'mime.ambiguous.bare-cr')?.action, 'score');
  assert.ok(m.parts.some((p) => p.path.startsWith('cr:') && p.content.subarray(0, 2).toString() === 'PK'));
});

test('bare CR that hides a file name: the CR reading keeps it as a part, even with the same bytes', async () => {
  const js = Buffer.from('var x = 1;').toString('base64');
  for (const body of [`${js}`, 'hello\rworld\rtext']) {
    const base64 = body === js;
    const raw = Buffer.from(['From: a@example.com', 'Date: Thu, 3 Dec 2026 10:00:00 +0000', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary=b', '',
      '--b', 'Content-Type: application/octet-stream', 'X-Note: x\rContent-Disposition: attachment; filename="invoice.js"',
      ...(base64 ? ['Content-Transfer-Encoding: base64'] : []), '', body, '--b--', ''].join('\r\n'), 'latin1');
    const m = await parseMessage(raw);
    assert.equal(hit(m, 'mime.ambiguous.bare-cr')?.action, 'score', base64 ? 'base64' : 'bare-CR body');
    assert.ok(m.parts.some((p) => p.path.startsWith('cr:') && p.names.includes('invoice.js')), base64 ? 'base64' : 'bare-CR body');
  }
  // same names and bytes but for CR read as LF: one part, no ambiguity
  const same = Buffer.from(['From: a@example.com', 'Date: Thu, 3 Dec 2026 10:00:00 +0000', 'MIME-Version: 1.0', 'Content-Type: text/plain', '', 'a\rb\rc', ''].join('\r\n'), 'latin1');
  const m = await parseMessage(same);
  assert.equal(hit(m, 'mime.ambiguous.bare-cr'), undefined);
  assert.equal(m.parts.length, 1);
});

test('message/partial and message/external-body use the ambiguity verdict', async () => {
  const p = await parseMessage(msg(...HDR, 'Content-Type: message/partial; id="a@b"; number=1; total=2', '', 'x', ''));
  assert.equal(hit(p, 'mime.partial')?.action, 'reject');
  const e = await parseMessage(msg(...HDR, 'Content-Type: message/external-body; access-type=URL; URL="http://x/y"', '', 'Content-Type: application/zip', '', ''));
  assert.equal(hit(e, 'mime.external-body')?.action, 'reject');
});

test('ordinary mail with nested multiparts raises no hit', async () => {
  const m = await parseMessage(msg(...HDR, 'Message-ID: <1@example.com>', 'Content-Type: multipart/mixed; boundary="----=_Part_1"', '', 'preamble',
    '------=_Part_1', 'Content-Type: multipart/alternative; boundary="----=_Part_2"', '',
    '------=_Part_2', 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: quoted-printable', '', 'hi=20there', '',
    '------=_Part_2', 'Content-Type: text/html; charset=utf-8', '', '<p>hi</p>', '------=_Part_2--', '',
    '------=_Part_1', 'Content-Type: application/pdf; name="a.pdf"', 'Content-Disposition: attachment; filename="a.pdf"',
    'Content-Transfer-Encoding: base64', '', b64('%PDF-1.7'), '------=_Part_1--', ''));
  assert.deepEqual(m.hits, []);
  assert.deepEqual(m.parts.map((p) => p.path), ['1.1', '1.2', '2']);
});

test('bare CR that hides a charset: the CR reading keeps its part (its text differs)', async () => {
  const raw = Buffer.from(['From: a@example.com', 'Date: Thu, 3 Dec 2026 10:00:00 +0000', 'MIME-Version: 1.0',
    'X-A: b\rContent-Type: text/plain; charset=utf-7', 'Content-Type: text/plain; charset=us-ascii', '', '+AHYAaQBhAGcAcgBh- now', ''].join('\r\n'), 'latin1');
  const m = await parseMessage(raw);
  assert.equal(hit(m, 'mime.ambiguous.bare-cr')?.action, 'score');
  assert.ok(m.parts.some((p) => p.path.startsWith('cr:') && /viagra now/.test(p.text ?? '')), JSON.stringify(m.parts.map((p) => [p.path, p.text])));
});

test('a text remembered from a short part is not reused for a longer part that starts the same', async () => {
  const { parseMessageSync } = await import('../../src/content/mime/parse.js');
  const { mimeConfigSchema } = await import('../../src/content/mime/config.js');
  const a = `${'ж'.repeat(64)}x`; // 129 bytes: exactly the first decode window for 100 characters
  const raw = Buffer.from(['From: a@example.com', 'Date: Thu, 3 Dec 2026 10:00:00 +0000', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary=b', '',
    '--b', 'Content-Type: text/plain; charset=utf-8', '', a, '--b', 'Content-Type: text/plain; charset=utf-8', '', `${a} buy viagra now`, '--b--', ''].join('\r\n'), 'utf8');
  const m = parseMessageSync(raw, mimeConfigSchema.parse(undefined), false, 100);
  assert.ok(m.parts.some((p) => /buy viagra now/.test(p.text ?? '')), JSON.stringify(m.parts.map((p) => p.text)));
});
