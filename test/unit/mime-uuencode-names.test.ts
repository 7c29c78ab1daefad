// A part declared uuencoded (Content-Transfer-Encoding x-uuencode, or type application/x-uuencode)
// holds a file whose name is on its "begin 644 NAME" line: that name joins the part's names, so the
// attachment check blocks "evil.exe" inside a part named "notes.txt" by name, and by true type too.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseMessage } from '../../src/content/mime/parse.js';
import { decodeUuBody } from '../../src/content/mime/extract.js';
import { createAttachmentCheck } from '../../src/content/attachments/check.js';
import type { ParsedMessage } from '../../src/content/types.js';
import * as B from '../fixtures/attachments/build.js';
import { ENV } from '../fixtures/attachments/parts.js';
import { uuencode } from '../fixtures/uuencode.js';

const msg = (...lines: string[]): Buffer => Buffer.from(lines.join('\r\n'), 'latin1');
const HDR = ['From: a@example.com', 'To: b@example.com', 'Date: Thu, 3 Dec 2026 10:00:00 +0000', 'Subject: t', 'MIME-Version: 1.0'];


async function attachmentHits(m: ParsedMessage): Promise<Array<{ rule: string; where?: string; detail: string }>> {
  return (await createAttachmentCheck().run(m, ENV)) as Array<{ rule: string; where?: string; detail: string }>;
}

const TEXT = Buffer.from('just some harmless words\n');

test('x-uuencode: "begin 644 evil.exe" in a part named notes.txt adds evil.exe to its names and is blocked by name', async () => {
  const m = await parseMessage(msg(...HDR, 'Content-Type: multipart/mixed; boundary=b', '', '--b', 'Content-Type: text/plain', '', 'hi', '--b',
    'Content-Type: application/octet-stream; name="notes.txt"', 'Content-Disposition: attachment; filename="notes.txt"',
    'Content-Transfer-Encoding: x-uuencode', '', ...uuencode('evil.exe', TEXT), '--b--', ''));
  const p = m.parts.find((x) => x.path === '2')!;
  assert.deepEqual(p.names, ['notes.txt', 'evil.exe']);
  assert.deepEqual(p.content, TEXT);
  // no other reading and no ambiguity hit: the begin-line name is simply checked too
  assert.deepEqual(m.parts.map((x) => x.path), ['1', '2']);
  const hits = await attachmentHits(m);
  assert.ok(hits.some((h) => h.rule === 'attachment.blocked-name' && /evil\.exe/.test(`${h.where ?? ''} ${h.detail}`)), JSON.stringify(hits));
  assert.ok(!hits.some((h) => h.rule === 'attachment.blocked-type'), 'the content is text');
});

test('x-uuencode: a PE under harmless names on both the part and the begin line is still blocked by true type', async () => {
  const m = await parseMessage(msg(...HDR, 'Content-Type: application/octet-stream; name="notes.txt"', 'Content-Transfer-Encoding: x-uuencode', '',
    ...uuencode('notes.txt', B.pe()), ''));
  assert.deepEqual(m.parts[0]!.names, ['notes.txt']); // same name: not repeated
  assert.equal(m.parts[0]!.trueType, 'pe');
  const hits = await attachmentHits(m);
  assert.ok(hits.some((h) => h.rule === 'attachment.blocked-type'), JSON.stringify(hits));
  assert.ok(!hits.some((h) => h.rule === 'attachment.blocked-name'));
});

test('x-uuencode in a text/plain part without a MIME name: the begin-line name makes it an attachment', async () => {
  const m = await parseMessage(msg(...HDR, 'Content-Type: text/plain', 'Content-Transfer-Encoding: x-uuencode', '', ...uuencode('run.exe', TEXT), ''));
  assert.deepEqual(m.parts[0]!.names, ['run.exe']);
  assert.equal(m.parts[0]!.isAttachment, true);
  assert.ok((await attachmentHits(m)).some((h) => h.rule === 'attachment.blocked-name'));
});

test('x-uuencode with two begin blocks: each decoded file carries its own name', async () => {
  const m = await parseMessage(msg(...HDR, 'Content-Type: application/octet-stream; name="a.txt"', 'Content-Transfer-Encoding: x-uuencode', '',
    ...uuencode('a.txt', TEXT), ...uuencode('b.scr', Buffer.from('second file\n')), ''));
  assert.deepEqual(m.parts.map((x) => [x.path, x.names]), [['1', ['a.txt']], ['1~uuencode-2', ['a.txt', 'b.scr']]]);
  const hits = await attachmentHits(m);
  assert.ok(hits.some((h) => h.rule === 'attachment.blocked-name' && /b\.scr/.test(`${h.where ?? ''} ${h.detail}`)), JSON.stringify(hits));
});

test('Content-Type application/x-uuencode (7bit): the file inside is decoded too, named by its begin line; name and type both checked', async () => {
  for (const cte of ['Content-Transfer-Encoding: 7bit', undefined]) {
    const named = await parseMessage(msg(...HDR, 'Content-Type: application/x-uuencode; name="notes.txt"', ...(cte ? [cte] : []), '',
      ...uuencode('evil.exe', TEXT), ''));
    const decoded = named.parts.find((x) => x.content.equals(TEXT));
    assert.ok(decoded, JSON.stringify(named.parts.map((x) => x.path)));
    assert.deepEqual(decoded.names, ['notes.txt', 'evil.exe']);
    assert.ok((await attachmentHits(named)).some((h) => h.rule === 'attachment.blocked-name'));
    // the undecoded reading is still there (a program that does not decode it sees that)
    assert.ok(named.parts.some((x) => x.path === '1' && x.content.toString('latin1').startsWith('begin 644 evil.exe')));

    const typed = await parseMessage(msg(...HDR, 'Content-Type: application/x-uuencode; name="notes.txt"', ...(cte ? [cte] : []), '',
      ...uuencode('notes.txt', B.pe()), ''));
    assert.ok(typed.parts.some((x) => x.trueType === 'pe'));
    assert.ok((await attachmentHits(typed)).some((h) => h.rule === 'attachment.blocked-type'));
  }
});

test('decodeUuBody: begin-base64 blocks (uuencode -m) decode as base64 up to "===="; names come from the begin lines', () => {
  const body = Buffer.from(['begin-base64 644 tool.exe', B.pe().toString('base64'), '====', ''].join('\n'), 'latin1');
  const [f] = decodeUuBody(body);
  assert.equal(f!.name, 'tool.exe');
  assert.deepEqual(f!.content, B.pe());
  // no begin line: every line decoded, no name
  const plain = decodeUuBody(Buffer.from(uuencode('x', TEXT).slice(1, -1).join('\n'), 'latin1'));
  assert.deepEqual(plain, [{ name: '', content: TEXT }]);
});
