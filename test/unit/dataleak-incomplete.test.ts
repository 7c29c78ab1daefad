// The data-leak check never passes silently over text it could not see: a part whose text the MIME
// parser cut (content.mime.maxTextBytes), HTML longer than the converter reads, the check's own
// maxScanBytes. Each gives dataleak.incomplete (incompleteAction, default
// quarantine) naming what was cut; numbers in the part of the text that was seen still count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDataLeakCheck } from '../../src/policy/outbound/dataleak/check.js';
import { parseMessage } from '../../src/content/mime/parse.js';
import { htmlToTextReport } from '../../src/content/mime/extract.js';
import { mimeConfigSchema } from '../../src/content/mime/config.js';
import type { ContentPart, ParsedMessage } from '../../src/content/types.js';
import { config, cardList as sharedCardList } from '../fixtures/outbound/helpers.js';

const env = { direction: 'outbound' as const, sender: 'a@example.com', recipients: ['b@example.org'], raw: Buffer.alloc(0) };

const cardList = (n: number): string[] => sharedCardList(n, '5', 100000000000000, 7919);

function message(contentType: string, body: string): Buffer {
  return Buffer.from(
    ['From: alice@example.com', 'To: carol@example.org', 'Subject: report', 'MIME-Version: 1.0',
      `Content-Type: ${contentType}; charset=utf-8`, '', body, ''].join('\r\n'),
  );
}

test('text cut by content.mime.maxTextBytes: dataleak.incomplete names the part and the limit', async () => {
  const cards = cardList(12);
  // padding first, the numbers past the cut
  const body = `${'lorem ipsum dolor sit amet\r\n'.repeat(200)}${cards.join('\r\n')}`;
  const mime = mimeConfigSchema.parse({ maxTextBytes: 4096 });
  const parsed = await parseMessage(message('text/plain', body), { config: mime });
  const leaf = parsed.parts.find((p) => p.contentType === 'text/plain')!;
  assert.match(leaf.textTruncated ?? '', /text cut at 4096 of \d+ bytes \(content\.mime\.maxTextBytes\)/);
  const hits = await createDataLeakCheck(config()).run(parsed, env);
  assert.deepEqual(hits.map((h) => [h.rule, h.action]), [['dataleak.incomplete', 'quarantine']]);
  assert.match(hits[0]!.detail, /^data-leak scan incomplete, not scanned: part 1: text cut at 4096/);
  // configurable
  const rejecting = await createDataLeakCheck(config({ dataLeak: { incompleteAction: 'reject' } })).run(parsed, env);
  assert.equal(rejecting[0]?.action, 'reject');
  // the same message under the default limit: every card counted, nothing incomplete
  const whole = await parseMessage(message('text/plain', body));
  assert.equal(whole.parts[0]!.textTruncated, undefined);
  const full = await createDataLeakCheck(config()).run(whole, env);
  assert.deepEqual(full.map((h) => [h.rule, h.detail]), [['dataleak.card', '12 valid card numbers (threshold 10)']]);
  // not outbound: not scanned, nothing reported
  assert.deepEqual(await createDataLeakCheck(config()).run(parsed, { ...env, direction: 'inbound' }), []);
});

test('findings in the part that was seen still count, marked "at least"', async () => {
  const cards = cardList(11);
  const body = `${cards.join('\r\n')}\r\n${'x'.repeat(8000)}`;
  const parsed = await parseMessage(message('text/plain', body), { config: mimeConfigSchema.parse({ maxTextBytes: 4096 }) });
  const hits = await createDataLeakCheck(config()).run(parsed, env);
  assert.deepEqual(hits.map((h) => h.rule), ['dataleak.card', 'dataleak.incomplete']);
  assert.equal(hits[0]!.detail, 'at least 11 valid card numbers (threshold 10)');
});

test('HTML nested 300 deep or with 20,001 child nodes is converted whole: nothing hidden, nothing cut', async () => {
  const cards = cardList(12).join('<br>');
  const deep = `<html><body>${'<div>'.repeat(300)}${cards}${'</div>'.repeat(300)}</body></html>`;
  const wide = `<html><body>${'<span>a</span>'.repeat(20001)}<p>${cards}</p></body></html>`;
  for (const html of [deep, wide]) {
    assert.equal(htmlToTextReport(html).cut, undefined);
    const parsed = await parseMessage(message('text/html', html));
    const leaf = parsed.parts.find((p) => p.contentType === 'text/html')!;
    assert.equal(leaf.textTruncated, undefined);
    const hits = await createDataLeakCheck(config()).run(parsed, env);
    assert.deepEqual(hits.map((h) => [h.rule, h.detail]), [['dataleak.card', '12 valid card numbers (threshold 10)']]);
  }
});

test('HTML longer than the converter input limit is reported as cut', async () => {
  const html = `<p>${'lorem ipsum '.repeat(400_000)}</p>`;
  assert.match(htmlToTextReport(html).cut ?? '', /HTML longer than 4194304 characters/);
  assert.equal(htmlToTextReport('<p>hello <b>world</b></p>').cut, undefined);
});

test('many cut parts: the detail names three and counts the rest', async () => {
  const part = (i: number): ContentPart => ({
    path: String(i), origin: 'mime', contentType: 'text/plain', names: [], content: Buffer.from('x'), text: 'x',
    textTruncated: 'text cut at 10 of 20 bytes (content.mime.maxTextBytes)', isAttachment: false, depth: 1,
  });
  const msg: ParsedMessage = { headers: [], subject: '', parts: [1, 2, 3, 4, 5].map(part), hits: [], encrypted: false, signed: false };
  const hits = await createDataLeakCheck(config()).run(msg, env);
  assert.equal(hits.length, 1);
  assert.match(hits[0]!.detail, /part 1: .*; part 2: .*; part 3: .*; and 2 more$/);
});
