// Luhn / IIN, SSN and IBAN validators and the linear scanners, with property tests (fast-check):
// generated valid numbers are found, numbers failing their checksum are not counted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  IBAN_LENGTHS,
  cardBrand,
  ibanCheckDigits,
  isValidCard,
  isValidIban,
  isValidSsn,
  luhnCheckDigit,
  luhnValid,
} from '../../src/policy/outbound/dataleak/validators.js';
import { scanCards, scanIbans, scanSsns } from '../../src/policy/outbound/dataleak/scan.js';

const collect = (scan: (t: string, f: (v: string) => void) => void, text: string): string[] => {
  const out: string[] = [];
  scan(text, (v) => out.push(v));
  return out;
};
const cards = (t: string) => collect(scanCards, t);
const ibans = (t: string) => collect(scanIbans, t);
const ssns = (t: string, bare = false) => collect((x, f) => scanSsns(x, f, bare), t);

test('Luhn and IIN on published test numbers', () => {
  for (const n of ['4111111111111111', '5555555555554444', '378282246310005', '6011111111111117', '3530111333300000', '30569309025904', '2223003122003222', '4012888888881881']) {
    assert.ok(isValidCard(n), n);
  }
  assert.equal(cardBrand('378282246310005'), 'amex');
  assert.equal(cardBrand('2223003122003222'), 'mastercard');
  assert.ok(!isValidCard('4111111111111112'), 'Luhn fails');
  assert.ok(!isValidCard('1234567812345670'), 'Luhn ok but unknown IIN');
  assert.ok(luhnValid('1234567812345670'));
  assert.ok(!isValidCard('411111111111'), 'too short');
});

test('card scanner: formats, boundaries, lists', () => {
  assert.deepEqual(cards('card 4111 1111 1111 1111 exp 12/29'), ['4111111111111111']);
  assert.deepEqual(cards('4111-1111-1111-1111'), ['4111111111111111']);
  assert.deepEqual(cards('amex 3782 822463 10005.'), ['378282246310005']);
  assert.deepEqual(cards('4111111111111111,5555555555554444;6011111111111117'), ['4111111111111111', '5555555555554444', '6011111111111117']);
  assert.deepEqual(cards('4111 1111 1111 1111 4012 8888 8888 1881'), ['4111111111111111', '4012888888881881'], 'space-separated list');
  assert.deepEqual(cards('4111 1111-1111 1111'), ['4111111111111111'], 'mixed separators (an obfuscation, attack finding 9)');
  assert.deepEqual(cards('ID4111111111111111'), [], 'glued to letters');
  assert.deepEqual(cards('41111111111111110'), [], 'longer digit run (17 digits, Luhn fails)');
  assert.deepEqual(cards('x 123456789012345678904111111111111111 y'), [], 'inside a longer run');
  assert.deepEqual(cards('3.4111111111111111'), [], 'decimal fraction');
  assert.deepEqual(cards('4111  1111  1111  1111'), ['4111111111111111'], 'double spaces (an obfuscation, attack finding 9)');
  assert.deepEqual(cards('2019  4111  1111  1111  1111  2020'), [], 'a window cut out of a row of numbers with double spaces');
  assert.deepEqual(cards(''), []);
});

const digitString = (min: number, max: number) =>
  fc.array(fc.integer({ min: 0, max: 9 }), { minLength: min, maxLength: max }).map((a) => a.join(''));

const validCard = fc
  .record({
    kind: fc.constantFrom(
      { prefix: '4', len: 16 },
      { prefix: '6759', len: 13 },
      { prefix: '4', len: 19 },
      { prefix: '51', len: 16 },
      { prefix: '55', len: 16 },
      { prefix: '2221', len: 16 },
      { prefix: '34', len: 15 },
      { prefix: '37', len: 15 },
      { prefix: '6011', len: 16 },
      { prefix: '3528', len: 16 },
      { prefix: '36', len: 14 },
      { prefix: '62', len: 17 },
    ),
    body: digitString(18, 18),
  })
  .map(({ kind, body }) => {
    const partial = (kind.prefix + body).slice(0, kind.len - 1);
    return partial + luhnCheckDigit(partial);
  });

function format(card: string, style: number): string {
  if (style === 0 || card.length === 13 || card.length > 16) return card;
  if (card.length === 15) return `${card.slice(0, 4)} ${card.slice(4, 10)} ${card.slice(10)}`;
  if (card.length === 14) return `${card.slice(0, 4)} ${card.slice(4, 10)} ${card.slice(10)}`;
  const sep = style === 1 ? ' ' : '-';
  return card.match(/.{1,4}/g)!.join(sep);
}

test('property: generated valid card numbers are found, in any accepted format, among words', () => {
  fc.assert(
    fc.property(fc.array(validCard, { minLength: 1, maxLength: 8 }), fc.integer({ min: 0, max: 2 }), (list, style) => {
      const text = list.map((c, i) => `line ${i}: ${format(c, style)} ok`).join('\n');
      assert.deepEqual(cards(text), list);
    }),
    { numRuns: 300 },
  );
});

test('property: digit strings failing Luhn are never counted', () => {
  fc.assert(
    fc.property(fc.array(digitString(13, 19), { minLength: 1, maxLength: 10 }), (list) => {
      const bad = list.filter((d) => !luhnValid(d));
      const text = bad.join(' x ');
      assert.equal(cards(text).length, 0);
    }),
    { numRuns: 500 },
  );
});

test('property: a single digit changed in a valid card is not counted', () => {
  fc.assert(
    fc.property(validCard, fc.nat(), fc.integer({ min: 1, max: 9 }), (card, pos, delta) => {
      const i = pos % card.length;
      const d = (Number(card[i]) + delta) % 10;
      const mutated = card.slice(0, i) + String(d) + card.slice(i + 1);
      assert.ok(!luhnValid(mutated));
      assert.equal(cards(` ${mutated} `).length, 0);
    }),
    { numRuns: 300 },
  );
});

test('SSN ranges and scanner', () => {
  assert.ok(isValidSsn('123', '45', '6788'));
  for (const [a, g, s] of [['000', '12', '3456'], ['666', '12', '3456'], ['900', '12', '3456'], ['999', '12', '3456'], ['123', '00', '3456'], ['123', '45', '0000'], ['078', '05', '1120'], ['219', '09', '9999']]) {
    assert.ok(!isValidSsn(a!, g!, s!), `${a}-${g}-${s}`);
  }
  assert.deepEqual(ssns('SSN 536-22-8901 and 536 22 8902'), ['536228901', '536228902']);
  assert.deepEqual(ssns('536-22 8901'), [], 'mixed separators');
  assert.deepEqual(ssns('tel 1-536-22-8901'), [], 'part of a longer dashed number');
  assert.deepEqual(ssns('666-22-8901 900-22-8901'), []);
  assert.deepEqual(ssns('536228901'), [], 'bare 9 digits off by default');
  assert.deepEqual(ssns('536228901', true), ['536228901']);
});

test('property: valid SSNs are found, invalid areas are not', () => {
  const area = fc.integer({ min: 1, max: 899 }).filter((a) => a !== 666);
  fc.assert(
    fc.property(area, fc.integer({ min: 1, max: 99 }), fc.integer({ min: 1, max: 9999 }), (a, g, s) => {
      const ssn = `${String(a).padStart(3, '0')}-${String(g).padStart(2, '0')}-${String(s).padStart(4, '0')}`;
      if (['078-05-1120', '219-09-9999', '123-45-6789'].includes(ssn)) return;
      assert.equal(ssns(`id: ${ssn}.`).length, 1);
      assert.equal(ssns(`id: 9${ssn.slice(1)}.`).length, 0);
    }),
    { numRuns: 300 },
  );
});

test('IBAN checksum and scanner (compact and grouped, trailing group cut)', () => {
  for (const iban of ['DE89370400440532013000', 'GB82WEST12345698765432', 'FR1420041010050500013M02606', 'NL91ABNA0417164300', 'BE68539007547034']) {
    assert.ok(isValidIban(iban), iban);
  }
  assert.ok(!isValidIban('DE89370400440532013001'));
  assert.ok(!isValidIban('XX89370400440532013000'));
  assert.deepEqual(ibans('IBAN: DE89 3704 0044 0532 0130 00, BIC COBADEFFXXX'), ['DE89370400440532013000']);
  assert.deepEqual(ibans('pay to GB82WEST12345698765432 today'), ['GB82WEST12345698765432']);
  assert.deepEqual(ibans('BE68 5390 0754 7034 1234'), ['BE68539007547034']);
  assert.deepEqual(ibans('DE89 3704 0044 0532 0130 01'), []);
  assert.deepEqual(ibans('xDE89370400440532013000'), []);
});

test('property: generated IBANs are found; one changed digit is not', () => {
  const countries = Object.keys(IBAN_LENGTHS);
  fc.assert(
    fc.property(fc.constantFrom(...countries), digitString(30, 30), fc.boolean(), fc.nat(), (cc, digits, grouped, pos) => {
      const bban = digits.slice(0, IBAN_LENGTHS[cc]! - 4);
      const iban = `${cc}${ibanCheckDigits(cc, bban)}${bban}`;
      assert.ok(isValidIban(iban), iban);
      const shown = grouped ? iban.match(/.{1,4}/g)!.join(' ') : iban;
      assert.deepEqual(ibans(`Account: ${shown}.`), [iban]);
      const i = 4 + (pos % bban.length);
      const bad = iban.slice(0, i) + String((Number(iban[i]) + 1) % 10) + iban.slice(i + 1);
      assert.deepEqual(ibans(`Account: ${bad}.`), []);
    }),
    { numRuns: 300 },
  );
});
