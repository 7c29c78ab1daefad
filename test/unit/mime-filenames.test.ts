// File-name readings other mail programs make (EVASION.md 5.2 #7, #9, #10): an unquoted ";" inside a
// name, RFC 822 comments in parameter values and names, RFC 2231 continuations mixed with plain and
// "name*" forms, whitespace around "=", and names taken from Content-Description / Content-Location.
// Each attack part is built here and must end blocked by the attachment check (every reading is a
// candidate name); a benign variant of each gets no extra names and no hits.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createAttachmentCheck } from '../../src/content/attachments/check.js';
import { parseLenientReadings, stripComments } from '../../src/content/mime/headers.js';
import { mimeConfigSchema } from '../../src/content/mime/config.js';
import { parseMessage } from '../../src/content/mime/parse.js';
import type { ContentPart, ParsedMessage } from '../../src/content/types.js';
import type { RuleHit } from '../../src/policy/types.js';
import { ENV } from '../fixtures/attachments/parts.js';

const HDR = ['From: a@example.com', 'To: b@example.com', 'Date: Thu, 3 Dec 2026 10:00:00 +0000', 'Subject: t', 'MIME-Version: 1.0'];
const check = createAttachmentCheck();
const rules = (m: ParsedMessage): string[] => [...new Set(m.hits.map((h) => h.rule))].sort();
const blocked = (m: ParsedMessage): boolean =>
  (check.run(m, ENV) as RuleHit[]).some((h) => h.rule === 'attachment.blocked-name' && h.action === 'reject');

/** A one-part message with these part headers and a harmless body. */
async function single(...headers: string[]): Promise<{ m: ParsedMessage; part: ContentPart }> {
  const m = await parseMessage(Buffer.from([...HDR, ...headers, '', 'data', ''].join('\r\n'), 'latin1'));
  return { m, part: m.parts[0]! };
}

test('unquoted ";" inside a name: "a;.exe" is a candidate name and is blocked', async () => {
  for (const cd of ['attachment; filename=a;.exe', 'attachment; filename=a;.exe; size=3']) {
    const { m, part } = await single('Content-Type: application/octet-stream', `Content-Disposition: ${cd}`);
    assert.ok(part.names.includes('a;.exe'), JSON.stringify(part.names));
    assert.ok(blocked(m), cd);
  }
  const ok = await single('Content-Type: application/octet-stream', 'Content-Disposition: attachment; filename=report.pdf; size=100');
  assert.deepEqual(ok.part.names, ['report.pdf']);
  assert.deepEqual(ok.m.hits, []);
  assert.equal(blocked(ok.m), false);
});

test('RFC 822 comments in parameter values and names: every reading is a name; disagreeing extensions are ambiguous', async () => {
  const v = await single('Content-Type: application/octet-stream', 'Content-Disposition: attachment; filename=file.e(.gif)xe');
  assert.ok(v.part.names.includes('file.exe'), JSON.stringify(v.part.names));
  assert.equal(v.m.hits.find((h) => h.rule === 'mime.ambiguous.filename')?.action, 'reject');
  assert.ok(blocked(v.m));
  for (const ct of ['application/octet-stream; na()me=evil.exe', 'application/octet-stream; name(x)=evil.exe', 'application/octet-stream; (c)name=evil.exe']) {
    const n = await single(`Content-Type: ${ct}`);
    assert.ok(n.part.names.includes('evil.exe'), `${ct}: ${JSON.stringify(n.part.names)}`);
    assert.ok(blocked(n.m), ct);
  }
  // benign: parentheses inside a quoted name are text, not a comment
  const ok = await single('Content-Type: image/jpeg', 'Content-Disposition: attachment; filename="photo (1).jpg"');
  assert.deepEqual(ok.part.names, ['photo (1).jpg']);
  assert.deepEqual(ok.m.hits, []);
});

test('RFC 2231 continuations mixed with "name*" and plain forms: each combination is a candidate', async () => {
  // a client reading only filename* sees "a.exe"; one joining the sections sees "a.exe.pdf"
  const star = await single('Content-Type: application/octet-stream', "Content-Disposition: attachment; filename*=''a.exe; filename*1=.pdf");
  assert.ok(star.part.names.includes('a.exe') && star.part.names.includes('a.exe.pdf'), JSON.stringify(star.part.names));
  assert.ok(blocked(star.m));
  assert.ok(rules(star.m).includes('mime.ambiguous.filename'));
  // plain value taken as section 0 by some decoders
  const plain = await single('Content-Type: application/octet-stream', 'Content-Disposition: attachment; filename="invoice"; filename*1=".exe"');
  assert.ok(plain.part.names.includes('invoice.exe'), JSON.stringify(plain.part.names));
  assert.ok(blocked(plain.m));
  // extended section 0, plain section 1 (percent-decoded only where extended)
  const mixed = await single('Content-Type: application/octet-stream', "Content-Disposition: attachment; filename*0*=''inv%6F; filename*1=ice.exe");
  assert.ok(mixed.part.names.includes('invoice.exe'));
  assert.ok(blocked(mixed.m));
  // benign: a well-formed continuation has exactly one reading
  const ok = await single('Content-Type: application/pdf', "Content-Disposition: attachment; filename*0*=utf-8''annual%20; filename*1*=report.pdf");
  assert.deepEqual(ok.part.names, ['annual report.pdf']);
  assert.deepEqual(ok.m.hits, []);
});

test('attacker finding 8: readings past the per-parameter cap or the per-header parameter limit are the ambiguity verdict', async () => {
  // "evil.j" + 15 more plain names, then a section that joins the first plain value into "evil.js"
  const plains = ['filename="evil.j"', ...Array.from({ length: 15 }, (_, i) => `filename="a${i}"`)].join('; ');
  const cap = await single('Content-Type: application/octet-stream', `Content-Disposition: attachment; ${plains}; filename*1="s"`);
  assert.equal(cap.m.hits.find((h) => h.rule === 'mime.ambiguous.filename')?.action, 'reject', JSON.stringify(cap.m.hits));
  // the name after more parameters than are read (header length limit raised so only this bound applies)
  const many = `attachment; ${Array.from({ length: 210 }, (_, i) => `x${i}=1`).join('; ')}; filename=evil.exe`;
  const raw = Buffer.from([...HDR, 'Content-Type: application/octet-stream', `Content-Disposition: ${many}`, '', 'data', ''].join('\r\n'));
  const m = await parseMessage(raw, { config: mimeConfigSchema.parse({ mimeHeaderLength: { limit: 65536 } }) });
  assert.equal(m.hits.find((h) => h.rule === 'mime.ambiguous.filename')?.action, 'reject', JSON.stringify(m.hits));
  // benign: a long name split into 20 RFC 2231 sections, and one name repeated 20 times, have one reading
  const sections = Array.from({ length: 20 }, (_, i) => `filename*${i}*=${i === 0 ? "utf-8''" : ''}part${i}`).join('; ');
  const long = await single('Content-Type: application/pdf', `Content-Disposition: attachment; ${sections}.pdf`);
  assert.deepEqual(long.part.names, [`${Array.from({ length: 20 }, (_, i) => `part${i}`).join('')}.pdf`]);
  assert.deepEqual(long.m.hits, []);
  const same = await single('Content-Type: application/pdf', `Content-Disposition: attachment; ${Array(20).fill('filename="a.pdf"').join('; ')}`);
  assert.deepEqual(same.part.names, ['a.pdf']);
  assert.equal(same.m.hits.some((h) => h.rule === 'mime.ambiguous.filename'), false);
});

test('whitespace and folding around "=" still yields the name', async () => {
  for (const cd of [['Content-Disposition: attachment; filename = "x.exe"'], ['Content-Disposition: attachment;', ' filename', ' = x.exe'],
    ['Content-Disposition: attachment; filename\t=\tx.exe']]) {
    const { m, part } = await single('Content-Type: application/octet-stream', ...cd);
    assert.ok(part.names.includes('x.exe'), `${cd.join('')}: ${JSON.stringify(part.names)}`);
    assert.ok(blocked(m));
  }
});

test('Content-Description and Content-Location names are checked (not compared as ambiguity)', async () => {
  const d = await single('Content-Type: application/octet-stream; name=readme.txt', 'Content-Description: setup.exe');
  assert.deepEqual(d.part.names, ['readme.txt', 'setup.exe']);
  assert.ok(blocked(d.m));
  assert.ok(!rules(d.m).some((r) => r.startsWith('mime.ambiguous')));
  const alone = await single('Content-Type: application/octet-stream', 'Content-Description: "Run setup.exe"');
  assert.ok(alone.part.names.includes('Run setup.exe'));
  assert.ok(blocked(alone.m));
  const l = await single('Content-Type: application/octet-stream', 'Content-Location: http://example.com/a/run.exe?x=1#y');
  assert.deepEqual(l.part.names, ['run.exe']);
  assert.ok(blocked(l.m));
  // benign: descriptions that are sentences, versions or web addresses, and a body part's location
  for (const desc of ['Version 1.0 of the report', 'Sent from www.example.com', 'A PNG graphic file']) {
    const ok = await single('Content-Type: application/pdf; name=report.pdf', `Content-Description: ${desc}`);
    assert.deepEqual(ok.part.names, ['report.pdf'], desc);
    assert.equal(blocked(ok.m), false);
  }
  const html = await single('Content-Type: text/html', 'Content-Location: http://example.com/news/page.html');
  assert.deepEqual(html.part.names, []);
  assert.equal(html.part.isAttachment, false);
});

test('stripComments keeps quoted text; parseLenientReadings adds nothing for plain values', () => {
  assert.equal(stripComments('attachment (x); filename="a (b).pdf" (c)'), 'attachment ; filename="a (b).pdf" ');
  assert.equal(stripComments('a(b(c)d)e'), 'ae');
  assert.deepEqual(parseLenientReadings('attachment; filename="report.pdf"; size=3'), []);
  const r = parseLenientReadings('attachment; filename=a;b;.exe');
  assert.equal(r.length, 1);
  assert.deepEqual(r[0]!.params.map((p) => [p.name, p.value]), [['filename', 'a;b;.exe']]);
});
