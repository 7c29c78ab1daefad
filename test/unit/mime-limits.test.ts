// Pathological inputs stay bounded: thousands of boundaries, huge headers, broken base64, deep nesting,
// many alternative readings. Asserts outcomes (limits hit, parse completes), not timings.
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

test('3,000 delimiter lines: parsing stops at the part limit', async () => {
  const lines: string[] = [];
  for (let i = 0; i < 3000; i++) lines.push('--b', 'Content-Type: text/plain', '', `p${i}`);
  const m = await parseMessage(msg(...HDR, 'Content-Type: multipart/mixed; boundary=b', '', ...lines, ''));
  assert.ok(hit(m, 'rfc.mime-parts'));
  assert.ok(m.parts.length <= 1000);
});

test('a 2 MB folded header is measured, capped and rejected', async () => {
  const folded = Array.from({ length: 30000 }, () => ` ${'x'.repeat(70)}`);
  const m = await parseMessage(msg(...HDR, 'X-Huge: a', ...folded, '', 'body', ''));
  assert.ok(hit(m, 'rfc.header-length'));
  assert.equal(m.parts.length, 1);
});

test('broken base64 of several MB decodes in one pass', async () => {
  const junk = Buffer.alloc(4 * 1024 * 1024, '!@#A=');
  const m = await parseMessage(Buffer.concat([msg(...HDR, 'Content-Type: application/octet-stream', 'Content-Transfer-Encoding: base64', '', ''), junk]));
  assert.ok(m.parts.length >= 1);
  assert.ok(hit(m, 'mime.ambiguous.base64'));
});

test('many competing readings are bounded by maxAlternatives', async () => {
  const params = Array.from({ length: 10 }, (_, i) => `boundary=b${i}`).join('; ');
  const part = (i: number): string[] => [`--b${i}`, 'Content-Type: multipart/mixed; ' + params, '', '--b0', '', 'x'];
  const lines: string[] = [];
  for (let i = 0; i < 10; i++) lines.push(...part(i));
  const m = await parseMessage(msg(...HDR, `Content-Type: multipart/mixed; ${params}`, '', ...lines, ''));
  assert.ok(hit(m, 'mime.ambiguous.duplicate-boundary'));
  assert.ok(m.parts.length <= 1000);
});
