// Unit tests for the RFC-conformance rules of the MIME parser: each rule id fires with its default
// action, a detail carrying the measured value, and a `where`; limits come from config.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mimeConfigSchema } from '../../src/content/mime/config.js';
import { parseMessage } from '../../src/content/mime/parse.js';
import type { ParsedMessage } from '../../src/content/types.js';
import type { RuleHit } from '../../src/policy/types.js';

/** Joins lines with CRLF into a Buffer (latin1, so tests can place raw 8-bit bytes). */
const msg = (...lines: string[]): Buffer => Buffer.from(lines.join('\r\n'), 'latin1');
/** A minimal valid top-level header. */
const HDR = ['From: a@example.com', 'To: b@example.com', 'Date: Thu, 3 Dec 2026 10:00:00 +0000', 'Subject: t', 'MIME-Version: 1.0'];
const hit = (m: ParsedMessage, rule: string): RuleHit | undefined => m.hits.find((h) => h.rule === rule);

test('line over 998 octets scores; over the hard limit rejects 5.6.0', async () => {
  const soft = await parseMessage(msg(...HDR, '', 'x'.repeat(1200), ''));
  const s = hit(soft, 'rfc.line-length');
  assert.equal(s?.action, 'score');
  assert.equal(s?.score, 1);
  assert.match(s!.detail, /1200 octets/);
  assert.ok(s!.where);
  const hard = await parseMessage(msg(...HDR, '', 'x'.repeat(12000), ''));
  const h = hit(hard, 'rfc.line-length-hard');
  assert.equal(h?.action, 'reject');
  assert.equal(h?.reply?.enhanced, '5.6.0');
  assert.match(h!.detail, /12000 octets/);
  assert.equal(hit(hard, 'rfc.line-length'), undefined);
});

test('Content-Type / Content-Disposition over 1024 octets and any header over 64 KB reject', async () => {
  const ct = await parseMessage(msg(...HDR, `Content-Type: text/plain; x="${'a'.repeat(1100)}"`, '', 'x', ''));
  const h = hit(ct, 'rfc.mime-header-length');
  assert.equal(h?.action, 'reject');
  assert.match(h!.detail, /Content-Type is \d+ octets/);
  const folded = Array.from({ length: 1000 }, () => ` ${'b'.repeat(70)}`);
  const big = await parseMessage(msg(...HDR, 'X-Big: a', ...folded, '', 'x', ''));
  assert.equal(hit(big, 'rfc.header-length')?.action, 'reject');
  assert.match(hit(big, 'rfc.header-length')!.detail, /X-Big is \d+ octets unfolded/);
});

test('header count, MIME part count and nesting depth limits reject', async () => {
  const many = Array.from({ length: 1001 }, (_, i) => `X-H${i}: v`);
  const hc = await parseMessage(msg(...HDR, ...many, '', 'x', ''));
  assert.equal(hit(hc, 'rfc.header-count')?.action, 'reject');
  assert.match(hit(hc, 'rfc.header-count')!.detail, /1006 header fields/);
  const parts: string[] = [];
  for (let i = 0; i < 1100; i++) parts.push('--b', '', `p${i}`);
  const mp = await parseMessage(msg(...HDR, 'Content-Type: multipart/mixed; boundary=b', '', ...parts, '--b--', ''));
  assert.equal(hit(mp, 'rfc.mime-parts')?.action, 'reject');
  assert.ok(mp.parts.length <= 1000);
  const open: string[] = [];
  const close: string[] = [];
  for (let i = 0; i < 30; i++) {
    open.push(`--n${i}`, `Content-Type: multipart/mixed; boundary=n${i + 1}`, '');
    close.unshift(`--n${i}--`);
  }
  const deep = await parseMessage(msg(...HDR, 'Content-Type: multipart/mixed; boundary=n0', '', ...open, '--n30', '', 'leaf', ...close, ''));
  assert.equal(hit(deep, 'rfc.mime-depth')?.action, 'reject');
  const limited = mimeConfigSchema.parse({ mimeDepth: { limit: 40 } });
  const deep2 = await parseMessage(msg(...HDR, 'Content-Type: multipart/mixed; boundary=n0', '', ...open, '--n30', '', 'leaf', ...close, ''), { config: limited });
  assert.equal(hit(deep2, 'rfc.mime-depth'), undefined);
});

test('NUL, bare CR and 8-bit header bytes score; 8-bit is fine with SMTPUTF8', async () => {
  const nul = await parseMessage(Buffer.concat([msg(...HDR, '', 'a'), Buffer.from([0]), Buffer.from('b\r\n')]));
  assert.equal(hit(nul, 'rfc.nul')?.action, 'score');
  assert.match(hit(nul, 'rfc.nul')!.detail, /1 NUL byte/);
  assert.equal(hit(nul, 'rfc.nul')?.where, 'body');
  const cr = await parseMessage(msg(...HDR, '', 'a\rb', ''));
  assert.equal(hit(cr, 'rfc.bare-cr')?.action, 'score');
  const eight = msg('From: J\xc3\xb6rg <j@example.com>', 'Date: Thu, 3 Dec 2026 10:00:00 +0000', '', 'x', '');
  const e = await parseMessage(eight);
  assert.equal(hit(e, 'rfc.8bit-header')?.action, 'score');
  assert.equal(hit(e, 'rfc.8bit-header')?.where, 'header From');
  assert.equal(e.headers[0]!.value, 'Jörg <j@example.com>');
  const u = await parseMessage(eight, { smtputf8: true });
  assert.equal(hit(u, 'rfc.8bit-header'), undefined);
});

test('duplicate single-instance headers: differing values get the ambiguity verdict, identical ones score', async () => {
  const d = await parseMessage(msg(...HDR, 'From: evil@example.net', '', 'x', ''));
  const h = hit(d, 'rfc.duplicate-header');
  assert.equal(h?.action, 'reject');
  assert.equal(h?.reply?.text, 'message refused: ambiguous MIME structure');
  assert.equal(h?.where, 'header From');
  const same = await parseMessage(msg(...HDR, 'Subject: t', '', 'x', ''));
  assert.equal(hit(same, 'rfc.duplicate-header'), undefined);
  assert.equal(hit(same, 'rfc.duplicate-header-same')?.action, 'score');
  const q = await parseMessage(msg(...HDR, 'To: c@example.com', '', 'x', ''), { config: mimeConfigSchema.parse({ ambiguity: { action: 'quarantine' } }) });
  assert.equal(hit(q, 'rfc.duplicate-header')?.action, 'quarantine');
});

test('missing From or Date scores', async () => {
  const m = await parseMessage(msg('Subject: x', '', 'x', ''));
  assert.equal(hit(m, 'rfc.missing-from')?.action, 'score');
  assert.equal(hit(m, 'rfc.missing-date')?.action, 'score');
  const ok = await parseMessage(msg(...HDR, '', 'x', ''));
  assert.deepEqual(ok.hits, []);
});

test('every hit carries detail and where; limits are configurable', async () => {
  const config = mimeConfigSchema.parse({ lineLength: { limit: 10, action: 'log' } });
  const m = await parseMessage(msg(...HDR, '', 'x'.repeat(20), ''), { config });
  assert.equal(hit(m, 'rfc.line-length')?.action, 'log');
  for (const h of m.hits) assert.ok(h.detail && h.where);
});
