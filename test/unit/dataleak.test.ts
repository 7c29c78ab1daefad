// The data-leak ContentCheck: thresholds (one card is not a leak, fifty are), per-rule actions, the
// encrypted-message allowance, user dictionaries (RE2), binary parts, direction limits, counts-only
// details, scan budget, and real MIME through parseMessage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDataLeakCheck } from '../../src/policy/outbound/dataleak/check.js';
import { luhnCheckDigit } from '../../src/policy/outbound/dataleak/validators.js';
import { parseMessage } from '../../src/content/mime/parse.js';
import type { ContentEnvironment, ContentPart, ParsedMessage } from '../../src/content/types.js';
import type { Direction, RuleHit } from '../../src/policy/types.js';
import { config } from '../fixtures/outbound/helpers.js';

function cardNumbers(n: number, seed = 1): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const partial = `4${String(100000000000000 + i * 7919 + seed).padStart(14, '0')}`.slice(0, 15);
    out.push(partial + luhnCheckDigit(partial));
  }
  return out;
}

function part(path: string, text: string | undefined, content?: Buffer): ContentPart {
  return {
    path,
    origin: 'mime',
    contentType: text === undefined ? 'application/octet-stream' : 'text/plain',
    names: [],
    content: content ?? Buffer.from(text ?? ''),
    ...(text === undefined ? {} : { text }),
    isAttachment: text === undefined,
    depth: 1,
  };
}

function parsed(parts: ContentPart[], extra: Partial<ParsedMessage> = {}): ParsedMessage {
  return { headers: [], subject: '', parts, hits: [], encrypted: false, signed: false, ...extra };
}

const env = (direction: Direction = 'outbound'): ContentEnvironment => ({
  direction,
  sender: 'alice@example.com',
  recipients: ['carol@example.org'],
  raw: Buffer.alloc(0),
});

async function run(msg: ParsedMessage, cfg: unknown = {}, direction: Direction = 'outbound'): Promise<RuleHit[]> {
  return createDataLeakCheck(config(cfg)).run(msg, env(direction));
}

test('one card number (a signature) is not a leak; ten are quarantined; fifty are', async () => {
  assert.deepEqual(await run(parsed([part('1', `pay with ${cardNumbers(1)[0]}`)])), []);
  assert.deepEqual(await run(parsed([part('1', cardNumbers(9).join('\n'))])), []);
  const ten = await run(parsed([part('1', cardNumbers(10).join('\n'))]));
  assert.equal(ten.length, 1);
  assert.deepEqual(ten[0], { rule: 'dataleak.card', action: 'quarantine', detail: '10 valid card numbers (threshold 10)', where: 'message' });
  const fifty = await run(parsed([part('1', cardNumbers(50).join(', '))]));
  assert.equal(fifty[0]!.detail, '50 valid card numbers (threshold 10)');
});

test('distinct values: the same card quoted 20 times in a thread counts once', async () => {
  const one = cardNumbers(1)[0]!;
  assert.deepEqual(await run(parsed([part('1', Array(20).fill(`> ${one}`).join('\n'))])), []);
});

test('details carry counts, never the data', async () => {
  const cards = cardNumbers(12);
  const hits = await run(parsed([part('1', cards.join('\n'))]));
  const s = JSON.stringify(hits);
  for (const c of cards) {
    assert.ok(!s.includes(c));
    assert.ok(!s.includes(c.slice(-4) + '"'));
  }
});

test('SSN and IBAN thresholds and actions per rule', async () => {
  const ssns = Array.from({ length: 10 }, (_, i) => `536-22-${String(8900 + i)}`).join('\n');
  const hits = await run(parsed([part('1', ssns)]), { dataLeak: { ssn: { action: 'reject' } } });
  assert.equal(hits[0]!.rule, 'dataleak.ssn');
  assert.equal(hits[0]!.action, 'reject');
  assert.equal(hits[0]!.reply?.code, 550);
  assert.equal(hits[0]!.detail, '10 valid SSNs (threshold 10)');
  const iban = await run(parsed([part('1', 'IBAN DE89 3704 0044 0532 0130 00')]), { dataLeak: { iban: { threshold: 1 } } });
  assert.deepEqual(iban.map((h) => [h.rule, h.detail]), [['dataleak.iban', '1 valid IBAN (threshold 1)']]);
  const off = await run(parsed([part('1', ssns)]), { dataLeak: { ssn: { action: 'off' } } });
  assert.deepEqual(off, []);
});

test('encrypted message: enforced by default (a fake encrypted part must not exempt cleartext), logged when allowEncrypted is true', async () => {
  const msg = parsed([part('1', cardNumbers(10).join('\n'))], { encrypted: true });
  const strict = await run(msg);
  assert.equal(strict[0]!.action, 'quarantine');
  const hits = await run(msg, { dataLeak: { card: { allowEncrypted: true } } });
  assert.equal(hits[0]!.action, 'log');
  assert.match(hits[0]!.detail, /allowed: message is encrypted/);
});

test('user dictionaries: RE2 patterns and whole words, counts and thresholds, rule id dataleak.<id>', async () => {
  const cfg = {
    dataLeak: {
      dictionaries: [
        { id: 'mrn', patterns: ['\\bMRN[:# ]*\\d{7}\\b'], threshold: 3 },
        { id: 'codenames', words: ['Bluebird', 'Project Nightjar'], action: 'reject' },
      ],
    },
  };
  const text = 'MRN 1234567, mrn:2345678 and MRN#3456789. Also about project  nightjar and bluebirds.';
  const hits = await run(parsed([part('1', text)]), cfg);
  assert.deepEqual(
    hits.map((h) => [h.rule, h.action, h.detail]),
    [
      ['dataleak.mrn', 'quarantine', '3 matches of dictionary mrn (threshold 3)'],
      ['dataleak.codenames', 'reject', '1 match of dictionary codenames (threshold 1)'],
    ],
  );
  assert.deepEqual(await run(parsed([part('1', 'the Bluebirds sang; MRN 1234567')]), cfg), []);
  assert.throws(() => createDataLeakCheck(config({ dataLeak: { dictionaries: [{ id: 'x', patterns: ['(a)\\1'] }] } })), /invalid RE2/);
  assert.throws(() => createDataLeakCheck(config({ dataLeak: { dictionaries: [{ id: 'card', words: ['x'] }] } })), /reserved/);
});

test('shipped rules/dataleak.yaml loads (examples are commented out)', () => {
  const c = createDataLeakCheck(config({ dataLeak: { dictionaryFile: 'rules/dataleak.yaml' } }));
  assert.equal(c.scanner.dictionaries.length, 0);
});

test('direction limits: outbound by default; configurable', async () => {
  const msg = parsed([part('1', cardNumbers(20).join('\n'))]);
  assert.deepEqual(await run(msg, {}, 'inbound'), []);
  assert.deepEqual(await run(msg, {}, 'internal'), []);
  assert.equal((await run(msg, { dataLeak: { directions: ['outbound', 'internal'] } }, 'internal')).length, 1);
  assert.deepEqual(await run(msg, { enabled: false }), []);
});

test('binary part without text: raw bytes scanned (CSV sent as octet-stream); pure binary gives no crash', async () => {
  const csv = Buffer.from(cardNumbers(15).map((c, i) => `${i},${c},12/29`).join('\r\n'));
  const hits = await run(parsed([part('2', undefined, csv)]));
  assert.equal(hits[0]?.detail, '15 valid card numbers (threshold 10)');
  assert.deepEqual(await run(parsed([part('2', undefined, csv)]), { dataLeak: { scanBinaryParts: false } }), []);
  const noise = Buffer.alloc(1 << 20);
  for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
  assert.ok(Array.isArray(await run(parsed([part('3', undefined, noise)]))));
});

test('scan budget exceeded: incomplete action (quarantine), never accept-unchecked; abort signal: fail action', async () => {
  const hits = await run(parsed([part('1', 'x'.repeat(2000))]), { dataLeak: { maxScanBytes: 1000 } });
  assert.deepEqual(hits.map((h) => [h.rule, h.action]), [['dataleak.incomplete', 'quarantine']]);
  assert.match(hits[0]!.detail, /maxScanBytes/);
  const ac = new AbortController();
  ac.abort();
  const c = createDataLeakCheck(config());
  const aborted = await c.run(parsed([part('1', 'text')]), { ...env(), signal: ac.signal });
  assert.equal(aborted[0]?.rule, 'dataleak.incomplete');
  assert.equal(aborted[0]?.action, 'tempfail');
});

test('real MIME through parseMessage: 50 cards in a base64 attachment quarantined, a plain letter passes', async () => {
  const csv = Buffer.from(`name,card\r\n${cardNumbers(50).map((c, i) => `n${i},${c.match(/.{4}/g)!.join(' ')}`).join('\r\n')}\r\n`).toString('base64');
  const raw = Buffer.from(
    [
      'From: alice@example.com',
      'To: carol@example.org',
      'Subject: export',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'See attached. My card for the hotel: 4111 1111 1111 1111',
      '--b1',
      'Content-Type: text/csv; name="cards.csv"',
      'Content-Disposition: attachment; filename="cards.csv"',
      'Content-Transfer-Encoding: base64',
      '',
      ...csv.match(/.{1,76}/g)!,
      '--b1--',
      '',
    ].join('\r\n'),
  );
  const msg = await parseMessage(raw);
  const hits = await createDataLeakCheck(config()).run(msg, env());
  assert.equal(hits.length, 1);
  assert.equal(hits[0]!.rule, 'dataleak.card');
  assert.equal(hits[0]!.detail, '51 valid card numbers (threshold 10)');
  const letter = await parseMessage(Buffer.from('From: a@example.com\r\nSubject: hi\r\n\r\nCall me at 555 1234 5678.\r\n'));
  assert.deepEqual(await createDataLeakCheck(config()).run(letter, env()), []);
});

test('20 MB of text with numbers everywhere: scanned completely (linear scanner), correct count', async () => {
  const cards = cardNumbers(25);
  const filler = '0123 4567 8901 2345 6789 1234-5678-9012 98765432109876543210 536-22-000 ';
  const chunks: string[] = [];
  let size = 0;
  let k = 0;
  while (size < 20 * 1024 * 1024) {
    const line = k < cards.length && size > k * 700_000 ? `${cards[k++]} ${filler}` : filler;
    chunks.push(line);
    size += line.length;
  }
  const hits = await run(parsed([part('1', chunks.join('\n'))]));
  assert.deepEqual(hits.map((h) => h.detail), [`${k} valid card numbers (threshold 10)`]);
  assert.ok(k >= 20);
});
