// Data-leak check, known gaps closed: card numbers split by "+", the fraction slash, combining marks after
// digits (overline, macron, low line), NUL bytes, and literal "&nbsp;" / "&#160;" / "&#32;" in plain text;
// lower-case and mixed-separator IBANs; dataleak.incomplete's own SMTP reply text. Each attack has a
// benign counterpart (Luhn/IIN/mod-97 still required, no over-counting, no new false positives).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createDataLeakCheck } from '../../src/policy/outbound/dataleak/check.js';
import { foldForScan, foldLatin1ForScan } from '../../src/policy/outbound/dataleak/normalize.js';
import { scanCards, scanIbans } from '../../src/policy/outbound/dataleak/scan.js';
import { ibanCheckDigits, luhnCheckDigit, luhnValid } from '../../src/policy/outbound/dataleak/validators.js';
import { parseMessage } from '../../src/content/mime/parse.js';
import { replyFor } from '../../src/policy/verdict.js';
import type { ContentPart, ParsedMessage } from '../../src/content/types.js';
import { config, cardList as sharedCardList } from '../fixtures/outbound/helpers.js';

const cards = (t: string): string[] => {
  const out: string[] = [];
  scanCards(foldForScan(t), (v) => out.push(v));
  return out;
};
const ibans = (t: string): string[] => {
  const out: string[] = [];
  scanIbans(foldForScan(t), (v) => out.push(v));
  return out;
};
const env = { direction: 'outbound' as const, sender: 'a@example.com', recipients: ['b@example.org'], raw: Buffer.alloc(0) };
const textPart = (text: string): ContentPart => ({
  path: '1', origin: 'mime', contentType: 'text/plain', names: [], content: Buffer.from(text), text, isAttachment: false, depth: 0,
});
const msg = (parts: ContentPart[]): ParsedMessage => ({ headers: [], subject: '', parts, hits: [], encrypted: false, signed: false });

const cardList = (n: number): string[] => sharedCardList(n, '4', 300000000000000, 104729);
const groups = (c: string): string[] => c.match(/.{1,4}/g)!;
const perDigit = (c: string, mark: string): string => [...c].map((d) => d + mark).join('');

const V = '4111111111111111';
const SPLITS: Record<string, (c: string) => string> = {
  plus: (c) => groups(c).join('+'),
  plusSpaced: (c) => groups(c).join(' + '),
  fractionSlash: (c) => groups(c).join('\u2044'),
  divisionSlash: (c) => groups(c).join('\u2215'),
  overline: (c) => perDigit(c, '\u0305'),
  macron: (c) => perDigit(c, '\u0304'),
  lowLine: (c) => perDigit(c, '\u0332'),
  overlineAndLowLine: (c) => perDigit(c, '\u0305\u0332'),
  overlineGroups: (c) => groups(c).map((g) => perDigit(g, '\u0305')).join(' '),
  keycap: (c) => perDigit(c, '\ufe0f\u20e3'),
  nulDigits: (c) => [...c].join('\0'),
  nulGroups: (c) => groups(c).join('\0\0'),
  nulAndSpace: (c) => groups(c).join('\0 '),
  nbsp: (c) => groups(c).join('&nbsp;'),
  nbspSpaced: (c) => groups(c).join(' &nbsp; '),
  dec160: (c) => groups(c).join('&#160;'),
  dec32: (c) => groups(c).join('&#32;'),
  hexA0: (c) => groups(c).join('&#xA0;'),
  zwsp: (c) => groups(c).join('&ZeroWidthSpace;'),
  ndash: (c) => groups(c).join('&ndash;'),
};

test('attack: cards split by +, fraction slash, combining marks, NUL, literal &nbsp; / &#160; / &#32; are found', () => {
  for (const [name, split] of Object.entries(SPLITS)) {
    assert.deepEqual(cards(`Customer 3: ${split(V)} end`), [V], name);
    assert.deepEqual(cards(split(V)), [V], `${name} alone`);
    assert.deepEqual(cards(`${split(V)}\n${split('378282246310005')}`), [V, '378282246310005'], `${name}, two cards`);
  }
});

test('benign: the same separators around numbers that fail Luhn or have no card prefix are not cards', () => {
  const notLuhn = '4111111111111112';
  const noIin = '1234567812345670'; // Luhn-valid, no issuer starts with 1
  assert.ok(!luhnValid(notLuhn) && luhnValid(noIin));
  for (const [name, split] of Object.entries(SPLITS)) {
    assert.deepEqual(cards(`x ${split(notLuhn)} y`), [], `${name}: Luhn`);
    assert.deepEqual(cards(`x ${split(noIin)} y`), [], `${name}: IIN`);
  }
  // sums and rows of numbers joined by "+": no window cut out of them
  assert.deepEqual(cards('total 2019+4111+1111+1111+1111+2020'), [], 'a window cut from a sum');
  assert.deepEqual(cards('+44 20 7946 0958 +44 20 7946 0000 +1 212 555 0199'), [], 'phone numbers joined by " +"');
  assert.deepEqual(cards('1+2+3+4+5+6+7+8+9+10+11+12+13+14+15+16'), [], 'a long sum of small numbers');
  // fractions stay fractions, and references that stand for digits or markup are not decoded
  assert.deepEqual(cards('3\u20444111111111111111'), [], 'a fraction');
  assert.equal(foldForScan('&#52;&#49; &amp; &lt;b&gt; &#x26; &foo; &#1114112;'), '&#52;&#49; &amp; &lt;b&gt; &#x26; &foo; &#1114112;');
  assert.equal(foldForScan('&constructor; &toString;'), '&constructor; &toString;', 'not looked up on the prototype');
  // marks stay where they belong to letters; controls go
  assert.equal(foldForScan('x\u0305 y\u0332 1\u0305'), 'x\u0305 y\u0332 1');
  assert.equal(foldForScan('a\0b\x01c\x7fd\x9fe\tf\r\n'), 'abcde\tf\r\n');
  // not over-counted: the same card written plainly and obfuscated three ways counts once
  assert.deepEqual(new Set(cards(`${V}\n${SPLITS.overline!(V)}\n${SPLITS.nbsp!(V)}\n${SPLITS.plus!(V)}`)), new Set([V]));
});

test('attack through a real text/plain message: NUL bytes and &nbsp; between groups, ten cards quarantined', async () => {
  const list = cardList(10);
  const body = list.map((c, i) => (i % 2 ? groups(c).join('&nbsp;') : [...c].join('\0'))).join('\r\n');
  const raw = Buffer.from(
    ['From: alice@example.com', 'To: carol@example.org', 'Subject: list', 'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8', '', body, ''].join('\r\n'),
  );
  const parsed = await parseMessage(raw);
  assert.ok(parsed.parts[0]!.text!.includes('\0'), 'the parser keeps the NUL bytes');
  const hits = await createDataLeakCheck(config()).run(parsed, env);
  assert.deepEqual(hits.map((h) => [h.rule, h.action, h.detail]), [['dataleak.card', 'quarantine', '10 valid card numbers (threshold 10)']]);
  // nine of them: under the threshold
  const nine = await createDataLeakCheck(config()).run(msg([textPart(body.split('\r\n').slice(1).join('\n'))]), env);
  assert.deepEqual(nine, []);
});

const validCard = fc
  .tuple(fc.constantFrom('4', '51', '37', '6011', '3528', '36', '62'), fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 18, maxLength: 18 }), fc.constantFrom(13, 15, 16, 19))
  .map(([prefix, body, len]) => {
    const n = prefix === '37' ? 15 : prefix === '4' ? (len === 19 ? 19 : 16) : 16;
    const partial = (prefix + body.join('')).slice(0, n - 1);
    return partial + luhnCheckDigit(partial);
  });
const split = fc.constantFrom(...Object.keys(SPLITS));

test('property: random valid cards under the new obfuscations are found; the same digits failing Luhn are not', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(validCard, split), { minLength: 1, maxLength: 6 }), (list) => {
      const text = list.map(([c, s], i) => `line ${i}: ${SPLITS[s]!(c)} ok`).join('\n');
      assert.deepEqual(cards(text), list.map(([c]) => c));
      const broken = list.map(([c, s], i) => `line ${i}: ${SPLITS[s]!(c.slice(0, -1) + String((Number(c.at(-1)) + 1) % 10))} ok`).join('\n');
      assert.deepEqual(cards(broken), []);
    }),
    { numRuns: 300 },
  );
});

test('property: binary bytes folded from the table read the same as folding their latin1 text', () => {
  // controls and references are kept in binary (they are structure there), so leave them out here
  const byte = fc.integer({ min: 0, max: 255 }).filter((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127 && b !== 38) || b >= 0xa0 || b === 0x85);
  fc.assert(
    fc.property(fc.array(byte, { maxLength: 300 }), (list) => {
      const bytes = Uint8Array.from(list);
      assert.equal(foldLatin1ForScan(bytes), foldForScan(Buffer.from(bytes).toString('latin1')));
    }),
    { numRuns: 500 },
  );
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  const folded = foldLatin1ForScan(all);
  assert.ok(folded.includes('\0\x01'), 'controls stay in binary');
  assert.ok(folded.includes('1/4'), 'the fraction ¼ reads 1/4');
});

const IBAN = 'DE89370400440532013000';
const GB = `GB${ibanCheckDigits('GB', 'WEST12345698765432')}WEST12345698765432`;

test('attack: lower-case IBANs and IBANs with mixed separators are found (checksum still required)', () => {
  assert.equal(GB, 'GB82WEST12345698765432');
  const found: Record<string, [string, string]> = {
    lowerGrouped: ['iban: de89 3704 0044 0532 0130 00', IBAN],
    lowerCompact: ['iban de89370400440532013000.', IBAN],
    capitalised: ['De89 3704 0044 0532 0130 00', IBAN],
    lowerLetters: ['gb82 west 1234 5698 7654 32', GB],
    mixed: ['DE89 3704-0044.0532 0130/00', IBAN],
    mixedLower: ['de89-3704 0044_0532.0130 00', IBAN],
    spacedDash: ['DE89 - 3704 - 0044 - 0532 - 0130 - 00', IBAN],
    doubleSpace: ['DE89  3704  0044\t0532 0130 00', IBAN],
    nbspLiteral: ['de89&nbsp;3704&nbsp;0044&nbsp;0532&nbsp;0130&nbsp;00', IBAN],
    gbMixed: ['GB82.WEST 1234-5698 7654 32', GB],
  };
  for (const [name, [text, want]] of Object.entries(found)) assert.deepEqual(ibans(text), [want], name);
  // a trailing unrelated group is still cut off at the country length
  assert.deepEqual(ibans('de89 3704 0044 0532 0130 0012 3456'), []);
  assert.deepEqual(ibans('gb82 west 1234 5698 7654 32 99'), [GB]);
});

test('benign: wrong checksums, mixed-case tokens and runs of words are not IBANs', () => {
  assert.deepEqual(ibans('de88 3704 0044 0532 0130 00'), [], 'check digits wrong, lower case');
  assert.deepEqual(ibans('DE89 3704-0044.0532 0130/01'), [], 'mixed separators, checksum wrong');
  assert.deepEqual(ibans('gB82wEsT12345698765432'), [], 'a mixed-case token (base62 id) with a valid checksum');
  assert.deepEqual(ibans('gb82 WeSt 1234 5698 7654 32'), [], 'mixed case inside');
  assert.deepEqual(ibans('de89,3704,0044,0532,0130,00'), [], 'commas join list items, not IBAN groups');
  assert.deepEqual(ibans('DE89 3704 0044 0532 0130 00 and de89 3704 0044 0532 0130 00'), [IBAN, IBAN], 'found in both cases');
  // through the check: upper- and lower-case forms of one IBAN count once
  const counts = createDataLeakCheck(config()).scanner.count(msg([textPart(`IBAN ${IBAN}\niban de89 3704 0044 0532 0130 00\n`)]));
  assert.equal(counts.iban, 1);
});

test('dataleak.incomplete has its own reply: 5.7.x when rejected, 4.x.x when tempfailed, none when quarantined', async () => {
  const parsed = msg([{ ...textPart('x'), textTruncated: 'text cut at 4096 of 9000 bytes (content.mime.maxTextBytes)' }]);
  const run = (dataLeak: Record<string, unknown>, signal?: AbortSignal) =>
    createDataLeakCheck(config({ dataLeak })).run(parsed, signal ? { ...env, signal } : env);

  const [rejected] = await run({ incompleteAction: 'reject' });
  assert.equal(rejected!.rule, 'dataleak.incomplete');
  assert.equal(rejected!.action, 'reject');
  assert.equal(rejected!.reply?.code, 550);
  assert.match(rejected!.reply!.enhanced, /^5\.7\.\d+$/);
  assert.match(String(rejected!.reply!.text), /could not be fully scanned for sensitive data/);
  const smtp = replyFor(rejected!);
  assert.match(String(smtp.text), /could not be fully scanned for sensitive data \(dataleak\.incomplete\)$/);
  assert.doesNotMatch(String(smtp.text), /appears to contain sensitive data/, 'not the text of a finding');

  const [tempfailed] = await run({ incompleteAction: 'tempfail' });
  assert.equal(tempfailed!.reply?.code, 451);
  assert.match(tempfailed!.reply!.enhanced, /^4\.\d+\.\d+$/);
  assert.match(String(tempfailed!.reply!.text), /could not be fully scanned for sensitive data/);

  const [held] = await run({});
  assert.equal(held!.action, 'quarantine');
  assert.equal(held!.reply, undefined);

  // the scan stopped by its time budget: failAction, with the same kind of reply
  const aborted = AbortSignal.abort();
  const [budget] = await run({ failAction: 'reject' }, aborted);
  assert.deepEqual([budget!.rule, budget!.action, budget!.detail], ['dataleak.incomplete', 'reject', 'data-leak scan incomplete: time budget exhausted']);
  assert.match(String(budget!.reply!.text), /could not be fully scanned for sensitive data/);
  const [budgetTemp] = await run({}, aborted);
  assert.equal(budgetTemp!.action, 'tempfail');
  assert.equal(replyFor(budgetTemp!).code, 451);
});

test('order-number lists (3-7-7, Amazon style) are not card numbers; 14- and 16-digit Diners cards still are', () => {
  const orders: string[] = [];
  for (let i = 0; i < 200; i++) {
    const a = String(1000000 + ((i * 7919) % 9000000)).padStart(7, '0');
    const b = String(1000000 + ((i * 104729) % 9000000)).padStart(7, '0');
    orders.push(`30${i % 6}-${a}-${b}`);
  }
  assert.deepEqual(cards(orders.join('\n')), []);
  const diners14 = `3056930902590${luhnCheckDigit('3056930902590')}`;
  const diners16 = `360000000000000${luhnCheckDigit('360000000000000')}`;
  assert.deepEqual(cards(`card ${diners14} and ${diners16}`), [diners14, diners16]);
});

// --- false positives from ordinary outbound mail (third attack trial) ---

const eanCheckDigit = (twelve: string): string => {
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += Number(twelve[i]) * (i % 2 === 0 ? 1 : 3);
  return String((10 - (sum % 10)) % 10);
};

test('not cards: German EAN-13 barcodes, "+44 (0)" / "+49 (0)" phone numbers, 15-digit decimal measurements', () => {
  const random = (seed: number) => () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const r = random(42);
  const digits = (n: number): string => Array.from({ length: n }, () => Math.floor(r() * 10)).join('');
  const eans = Array.from({ length: 300 }, () => {
    const twelve = `4${String(Math.floor(r() * 41)).padStart(2, '0')}${digits(9)}`;
    return twelve + eanCheckDigit(twelve);
  });
  const phones = Array.from({ length: 300 }, (_, i) =>
    i % 3 === 0 ? `+44 (0)20 ${digits(4)} ${digits(4)}` : i % 3 === 1 ? `+49 (0)89 ${digits(8)}` : `+44 (0)7${digits(3)} ${digits(6)}`);
  const measures = Array.from({ length: 300 }, () => `${(3.7 + r() * 0.1).toPrecision(15)}`);
  const commas = measures.map((m) => m.replace('.', ','));
  for (const [what, list] of [['EAN-13', eans], ['phones', phones], ['decimals', measures], ['decimal commas', commas]] as const) {
    const text = list.map((v, i) => `Item ${i}; ${v}; 12,50 EUR`).join('\n');
    assert.deepEqual(cards(text), [], `${what}: ${list.slice(0, 3).join(' | ')}`);
  }
  // while the real 16-digit card beside them is still found
  assert.deepEqual(cards('Artikel 4006381333931; Karte 4111 1111 1111 1111'), ['4111111111111111']);
});
