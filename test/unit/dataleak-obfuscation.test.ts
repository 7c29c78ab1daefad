// Data-leak check against obfuscated numbers: zero-width and other default-ignorable characters between
// digits, dots and other separators (whitespace runs, punctuation, mixed), irregular digit groups,
// non-ASCII decimal digits (every Unicode Nd script), UTF-16 text attachments and UTF-16 text inside
// binary files. Property tests: random valid cards under random obfuscation are found; random digit
// strings failing Luhn, obfuscated the same way, are not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createDataLeakCheck } from '../../src/policy/outbound/dataleak/check.js';
import { decodeUtf16, digitValue, foldForScan, utf16Encoding, utf16TextRuns } from '../../src/policy/outbound/dataleak/normalize.js';
import { scanCards, scanIbans, scanSsns } from '../../src/policy/outbound/dataleak/scan.js';
import { ibanCheckDigits, luhnCheckDigit, luhnValid } from '../../src/policy/outbound/dataleak/validators.js';
import type { ContentPart, ParsedMessage } from '../../src/content/types.js';
import { config, cardList as sharedCardList } from '../fixtures/outbound/helpers.js';

/** What the check does: fold, then scan. */
function found(scan: (t: string, f: (v: string) => void) => void, text: string): string[] {
  const out: string[] = [];
  scan(foldForScan(text), (v) => out.push(v));
  return out;
}
const cards = (t: string) => found(scanCards, t);

// Zero of each digit script used (code points); Nd sets are 0..9 in order from these.
const ZEROS = [0x30, 0x660, 0x6f0, 0x966, 0x9e6, 0xe50, 0xff10, 0x1d7ce, 0x1d7f6, 0x1040, 0x11066];
const ZW = ['\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u00ad'];
const SEPS = [' ', '-', '.', '/', '_', ' - ', ' . ', '\u00a0', '\u2013', '\u2014', '\u2212', '\u00b7', '\u3000', '\u2009'];

test('every Unicode decimal digit folds to its value', () => {
  let sets = 0;
  for (let cp = 0; cp <= 0x10ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const ch = String.fromCodePoint(cp);
    if (!/\p{Nd}/u.test(ch)) continue;
    const v = Number(digitValue(cp));
    if (v === 0) {
      sets++;
      for (let k = 0; k < 10; k++) assert.equal(foldForScan(`x${String.fromCodePoint(cp + k)}`), `x${k}`, `U+${(cp + k).toString(16)}`);
    }
  }
  assert.ok(sets >= 60, `${sets} digit sets`);
  assert.equal(foldForScan('٤١١١ ۴۱۱۱ ४१११ ４１１１ 𝟒𝟏𝟏𝟏'), '4111 4111 4111 4111 4111');
  assert.equal(foldForScan('4\u200b1\u200c1\u200d1\u20601\ufeff1'), '411111');
  assert.equal(foldForScan('a\u00a0b\u2013c\u00b7d'), 'a b-c.d');
  assert.equal(foldForScan('plain ascii 4111-1111'), 'plain ascii 4111-1111');
});

test('obfuscated card numbers: zero-width, dots, Unicode dashes and spaces, other scripts, one digit per group', () => {
  const v = '4111111111111111';
  assert.deepEqual(cards('card 4\u200b111\u200b1111\u200d1111\u20601111 ok'), [v]);
  assert.deepEqual(cards('card 4\u200b1\u200b1\u200b1\u200b1\u200b1\u200b1\u200b1\u200b1\u200b1\u200b1\u200b1\u200b1\u200b1\u200b1\u200b1'), [v]);
  assert.deepEqual(cards('card 4111.1111.1111.1111.'), [v]);
  assert.deepEqual(cards('card 4111\u20131111\u20131111\u20131111'), [v]);
  assert.deepEqual(cards('card 4111\u00a01111\u00a01111\u00a01111'), [v]);
  assert.deepEqual(cards('card 4111 - 1111 - 1111 - 1111'), [v]);
  assert.deepEqual(cards('بطاقة ٤١١١ ١١١١ ١١١١ ١١١١'), [v]);
  assert.deepEqual(cards('card ४१११-१११११-१११-१११११'), [], 'odd grouping is not a card shape');
  assert.deepEqual(cards('card 4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 end'), [v]);
  assert.deepEqual(cards('card 4.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1'), [v]);
  // false-positive guards still hold after folding
  assert.deepEqual(cards('3.4111111111111111'), [], 'decimal fraction');
  assert.deepEqual(cards('1 4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1'), [], 'a run of single digits longer than the card');
  assert.deepEqual(cards('ID\u200b4111111111111111'), [], 'glued to letters once the zero-width space is gone');
  assert.deepEqual(cards('4111 1111.1111-1111'), [v], 'mixed separators');
});

test('obfuscated SSNs and IBANs', () => {
  const ssns = (t: string) => found((x, f) => scanSsns(x, f), t);
  const ibans = (t: string) => found(scanIbans, t);
  assert.deepEqual(ssns('SSN 536.22.8901'), ['536228901']);
  assert.deepEqual(ssns('SSN ٥٣٦-٢٢-٨٩٠١'), ['536228901']);
  assert.deepEqual(ssns('SSN 5\u200b36\u201322\u20138901'), ['536228901']);
  assert.deepEqual(ssns('SSN 536 - 22 - 8901'), ['536228901']);
  assert.deepEqual(ssns('version 1.536.22.8901'), [], 'inside a dotted version');
  const iban = `DE${ibanCheckDigits('DE', '370400440532013000')}370400440532013000`;
  assert.equal(iban, 'DE89370400440532013000');
  assert.deepEqual(ibans('IBAN DE89.3704.0044.0532.0130.00'), [iban]);
  assert.deepEqual(ibans('IBAN DE89-3704-0044-0532-0130-00'), [iban]);
  assert.deepEqual(ibans('IBAN DE\u200b89\u00a03704\u00a00044\u00a00532\u00a00130\u00a000'), [iban]);
  assert.deepEqual(ibans('IBAN DE٨٩٣٧٠٤٠٠٤٤٠٥٣٢٠١٣٠٠٠'), [iban]);
  assert.deepEqual(ibans('IBAN DE88.3704.0044.0532.0130.00'), [], 'check digits wrong');
});

const digits = (min: number, max: number) =>
  fc.array(fc.integer({ min: 0, max: 9 }), { minLength: min, maxLength: max }).map((a) => a.join(''));

const validCard = fc
  .record({
    kind: fc.constantFrom(
      { prefix: '4', len: 16 }, { prefix: '6759', len: 13 }, { prefix: '4', len: 19 }, { prefix: '51', len: 16 },
      { prefix: '2221', len: 16 }, { prefix: '37', len: 15 }, { prefix: '6011', len: 16 }, { prefix: '3528', len: 17 },
      { prefix: '36', len: 14 }, { prefix: '62', len: 18 },
    ),
    body: digits(18, 18),
  })
  .map(({ kind, body }) => {
    const partial = (kind.prefix + body).slice(0, kind.len - 1);
    return partial + luhnCheckDigit(partial);
  });

interface Obfuscation {
  style: 'block' | 'groups' | 'singles';
  sep: string;
  scripts: number[]; // per digit: index into ZEROS
  zw: number[]; // per digit: 0 = none, else index+1 into ZW
}
const obfuscation = fc.record({
  style: fc.constantFrom('block' as const, 'groups' as const, 'singles' as const),
  sep: fc.constantFrom(...SEPS),
  scripts: fc.array(fc.nat(ZEROS.length - 1), { minLength: 19, maxLength: 19 }),
  zw: fc.array(fc.nat(ZW.length), { minLength: 19, maxLength: 19 }),
});

/** Write a digit string obfuscated: per-digit script and zero-width characters, grouping, separators. */
function obfuscate(num: string, o: Obfuscation): string {
  const ch = [...num].map((d, i) => String.fromCodePoint(ZEROS[o.scripts[i]!]! + Number(d)) + (o.zw[i] ? ZW[o.zw[i]! - 1] : ''));
  if (o.style === 'singles') return ch.join(o.sep);
  if (o.style === 'block') return ch.join('');
  const groups: string[] = [];
  for (let i = 0; i < ch.length; i += 4) groups.push(ch.slice(i, i + 4).join(''));
  return groups.join(o.sep);
}

test('property: random valid cards under random obfuscation are found', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(validCard, obfuscation), { minLength: 1, maxLength: 6 }), (list) => {
      const text = list.map(([c, o], i) => `line ${i}: ${obfuscate(c, o)} ok`).join('\n');
      assert.deepEqual(cards(text), list.map(([c]) => c));
    }),
    { numRuns: 400 },
  );
});

test('property: random digit strings failing Luhn are not found, however written', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(digits(13, 16).filter((d) => !luhnValid(d)), obfuscation), { minLength: 1, maxLength: 8 }),
      (list) => {
        const text = list.map(([d, o]) => `x ${obfuscate(d, o)} y`).join('\n');
        assert.deepEqual(cards(text), []);
      },
    ),
    { numRuns: 400 },
  );
});

// ---------------------------------------------------------------- through the check, UTF-16 files

const cardList = (n: number): string[] => sharedCardList(n, '4', 200000000000000, 104729);

function attachment(path: string, content: Buffer, extra: Partial<ContentPart> = {}): ContentPart {
  return { path, origin: 'mime', contentType: 'application/octet-stream', names: ['cards.csv'], content, isAttachment: true, depth: 1, ...extra };
}
const msg = (parts: ContentPart[]): ParsedMessage => ({ headers: [], subject: '', parts, hits: [], encrypted: false, signed: false });
const env = { direction: 'outbound' as const, sender: 'a@example.com', recipients: ['b@example.org'], raw: Buffer.alloc(0) };

function utf16(text: string, order: 'le' | 'be', bom: boolean): Buffer {
  const le = Buffer.from(text, 'utf16le');
  const body = order === 'le' ? le : Buffer.from(le.map((_, i) => le[i ^ 1]!));
  return bom ? Buffer.concat([Buffer.from(order === 'le' ? [0xff, 0xfe] : [0xfe, 0xff]), body]) : body;
}

test('UTF-16 csv/txt attachments (LE/BE, with and without BOM, as text part or binary) are decoded and scanned', async () => {
  const csv = `name,card\r\n${cardList(12).map((c, i) => `n${i},${c}`).join('\r\n')}\r\n`;
  const check = createDataLeakCheck(config());
  for (const order of ['le', 'be'] as const) {
    for (const bom of [true, false]) {
      const bytes = utf16(csv, order, bom);
      assert.equal(utf16Encoding(bytes), `utf-16${order}`);
      assert.equal(decodeUtf16(bytes, `utf-16${order}`), csv);
      const asBinary = await check.run(msg([attachment('2', bytes)]), env);
      assert.deepEqual(asBinary.map((h) => [h.rule, h.detail]), [['dataleak.card', '12 valid card numbers (threshold 10)']], `${order} bom=${bom}`);
      // a text/csv part whose charset label was wrong: the parser's text is garbage, the bytes are not
      const mislabelled = attachment('2', bytes, { contentType: 'text/csv', text: bytes.toString('utf8') });
      const asText = await check.run(msg([mislabelled]), env);
      assert.equal(asText[0]?.detail, '12 valid card numbers (threshold 10)');
    }
  }
  // plain binary and ASCII are not taken for UTF-16
  assert.equal(utf16Encoding(Buffer.from(csv)), undefined);
  const noise = Buffer.alloc(8192);
  for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
  assert.equal(utf16Encoding(noise), undefined);
});

test('obfuscated numbers through the check: ten Arabic-Indic cards with zero-width spaces are quarantined', async () => {
  const text = cardList(10)
    .map((c) => [...c].map((d) => String.fromCodePoint(0x660 + Number(d))).join('\u200b'))
    .join('\n');
  const hits = await createDataLeakCheck(config()).run(msg([attachment('1', Buffer.from(text), { contentType: 'text/plain', text, isAttachment: false })]), env);
  assert.deepEqual(hits.map((h) => [h.rule, h.action, h.detail]), [['dataleak.card', 'quarantine', '10 valid card numbers (threshold 10)']]);
});

// ---------------------------------------------------------------- attack finding 9: wider obfuscation

test('attack finding 9: whitespace runs, punctuation, mixed separators, irregular groups, ignorable fillers', () => {
  const v = '4111111111111111';
  const forms: Record<string, string> = {
    tab: '4111\t1111\t1111\t1111',
    twoSpaces: '4111  1111  1111  1111',
    newline: '4111\n1111\n1111\n1111',
    crlf: '4111\r\n1111\r\n1111\r\n1111',
    blankLines: '4111\r\n\r\n1111\r\n\r\n1111\r\n\r\n1111',
    lineSeparator: '4111\u20281111\u20281111\u20281111',
    paragraphSeparator: '4111\u20291111\u20291111\u20291111',
    braille: '4111\u28001111\u28001111\u28001111',
    comma: '4111,1111,1111,1111',
    colon: '4111:1111:1111:1111',
    pipe: '4111|1111|1111|1111',
    parens: '(4111) (1111) (1111) (1111)',
    quoted: '"4111" "1111" "1111" "1111"',
    csvQuoted: "'4111', '1111', '1111', '1111'",
    mixedDashSpace: '4111-1111 1111-1111',
    mixedMany: '4111,1111\t1111|1111',
    g664: '411111 111111 1111',
    g2: '41 11 11 11 11 11 11 11',
    g3334: '411 111 111 111 1111',
    g465: '4111 111111 11111 1',
    g5551: '41111-11111-11111-1',
    cgj: '4111\u034f1111\u034f1111\u034f1111',
    hangulFiller: '4111\u31641111\u31641111\u31641111',
    halfwidthFiller: '4111\uffa01111\uffa01111\uffa01111',
    vs16: [...v].join('\ufe0f'),
    tag: [...v].join('\u{E0031}'),
    mongolianFvs: '4111\u180b1111\u180b1111\u180b1111',
  };
  for (const [name, t] of Object.entries(forms)) {
    assert.deepEqual(cards(`Customer 3: ${t} end`), [v], name);
    assert.deepEqual(cards(t), [v], `${name} alone`);
  }
  assert.equal(foldForScan('a\u034fb\u3164c\ufe0fd\u2028e\u2800f'), 'abcd\ne f');
  // labels before the card do not change which number is counted
  assert.deepEqual(cards('Customer 2: 3782 822463 10005'), ['378282246310005']);
  assert.deepEqual(cards('Customer 2:\t3782\t822463\t10005'), ['378282246310005']);
  // one separator list and card-with-expiry still work
  assert.deepEqual(cards('4111 1111 1111 1111 4012 8888 8888 1881'), [v, '4012888888881881']);
  assert.deepEqual(cards('card 4111 1111 1111 1111 12/29'), [v]);
});

test('wider separators: no card cut out of columns, tables or rows of numbers', () => {
  // 4-digit numbers one per line, tab/comma tables: every 4-4-4-4 window in them would be a "card"
  const nums: string[] = [];
  let x = 12345;
  for (let i = 0; i < 400; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    nums.push(String(2000 + (x % 7000)));
  }
  assert.deepEqual(cards(nums.join('\n')), [], 'column, LF');
  assert.deepEqual(cards(nums.join('\r\n')), [], 'column, CRLF');
  const rows = (sep: string, width: number) =>
    Array.from({ length: nums.length / width }, (_, r) => nums.slice(r * width, r * width + width).join(sep)).join('\n');
  for (const sep of ['\t', ',', '  ', ' | ', ';']) assert.deepEqual(cards(rows(sep, 8)), [], `8-column table "${sep}"`);
  assert.deepEqual(cards('1 4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1'), [], 'single digits: a longer run');
  assert.deepEqual(cards('2019  4111  1111  1111  1111  2020'), [], 'a window cut from a row');
  assert.deepEqual(cards('12:34:56 4111:1111:1111:1111:22'), [], 'a window cut from colon-joined numbers');
  assert.deepEqual(cards('name="6295066_782_01042023_4.txt"'), [], 'underscore-joined identifier (corpus file name, Luhn-valid)');
  assert.deepEqual(cards('4_1_1_1_1_1_1_1_1_1_1_1_1_1_1_1 4111_1111_1111_1111'), ['4111111111111111', '4111111111111111']);
});

// Separators joining groups of one number: whitespace runs, punctuation, Unicode spaces and line separators.
// "_" is left out: with groups other than 4-4-4-4 shapes or single digits it joins identifier parts (see scan.ts).
const FREE_SEPS = [...SEPS.filter((x) => x !== '_'), '\t', '  ', '\n', '\r\n', ',', ':', '|', ') (', '" "', "', '", '\u2028', '\u2800', ' \t '];
const DI = ['\u034f', '\u3164', '\ufe0f', '\u115f', '\u{E0031}', '\u180b'];
const freeObfuscationWith = (seps: string[]) => fc.record({
  sizes: fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 19, maxLength: 19 }),
  seps: fc.array(fc.constantFrom(...seps), { minLength: 19, maxLength: 19 }),
  mixed: fc.boolean(),
  scripts: fc.array(fc.nat(ZEROS.length - 1), { minLength: 19, maxLength: 19 }),
  junk: fc.array(fc.nat(ZW.length + DI.length), { minLength: 19, maxLength: 19 }),
});
const freeObfuscation = freeObfuscationWith(FREE_SEPS);
type FreeObfuscation = typeof freeObfuscation extends fc.Arbitrary<infer T> ? T : never;

/** A digit string in random group sizes, joined by one separator (or a different one per gap when mixed). */
function freeObfuscate(num: string, o: FreeObfuscation): string {
  const junk = [...ZW, ...DI];
  const ch = [...num].map((d, i) => String.fromCodePoint(ZEROS[o.scripts[i]!]! + Number(d)) + (o.junk[i] ? junk[o.junk[i]! - 1] : ''));
  let out = '';
  let g = 0;
  for (let i = 0, left = o.sizes[0]!; i < ch.length; i++, left--) {
    if (left === 0) {
      out += o.mixed ? o.seps[g]! : o.seps[0]!;
      left = o.sizes[++g]!;
    }
    out += ch[i];
  }
  return out;
}

test('property: random valid cards in random groups with random (mixed) separators are found', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(validCard, freeObfuscation), { minLength: 1, maxLength: 6 }), (list) => {
      // one to three digits, a decimal point or comma, then the rest is a decimal number by rule (scan.ts)
      fc.pre(!list.some(([c, o]) => o.sizes[0]! <= 3 && o.sizes[0]! + o.sizes[1]! >= c.length && (o.seps[0] === '.' || o.seps[0] === ',')));
      const text = list.map(([c, o], i) => `line ${i}: ${freeObfuscate(c, o)} ok`).join('\n');
      const got = cards(text);
      // Every card counts once. With mixed separators a short first group may read as a label of the rest
      // ("line 3: 485 31 47388 2053 - 0 3 0 3"), so which digits are counted may differ — the count cannot.
      assert.equal(got.length, list.length);
      list.forEach(([c, o], i) => {
        if (!o.mixed) assert.equal(got[i], c);
      });
    }),
    { numRuns: 500 },
  );
});

test('property: random digit runs failing Luhn are never counted, in any grouping and separator', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(digits(13, 19).filter((d) => !luhnValid(d)), freeObfuscationWith([...FREE_SEPS, '_'])), { minLength: 1, maxLength: 8 }),
      (list) => {
        // one number per line, one separator within it (mixed separators split it into several numbers)
        const text = list.map(([d, o]) => `x ${freeObfuscate(d, { ...o, mixed: false })} y`).join('\n');
        assert.deepEqual(cards(text), []);
        // through the whole check as well
        const counts = createDataLeakCheck(config()).scanner.count(msg([attachment('1', Buffer.from(text), { contentType: 'text/plain', text, isAttachment: false })]));
        assert.equal(counts.card, 0);
      },
    ),
    { numRuns: 500 },
  );
});

test('UTF-16 text anywhere in a binary part (after 8 KiB of binary) is found; binary noise gives no runs', async () => {
  const lines = cardList(12).map((c, i) => `Customer ${i}: ${c.match(/.{4}/g)!.join(' ')}`).join('\r\n');
  const head = Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), Buffer.alloc(8192, 0xff)]);
  const check = createDataLeakCheck(config());
  for (const order of ['le', 'be'] as const) {
    for (const pad of [0, 1, 3 * 65536 + 1]) {
      const doc = Buffer.concat([head, Buffer.alloc(pad, 0xee), utf16(lines, order, false), Buffer.alloc(4096, 0xff)]);
      assert.equal(utf16Encoding(doc), undefined, 'not UTF-16 as a whole');
      assert.ok(utf16TextRuns(doc).includes(lines), `${order} pad ${pad}`);
      const hits = await check.run(msg([attachment('2', doc, { names: ['customers.doc'], contentType: 'application/msword' })]), env);
      assert.deepEqual(hits.map((h) => [h.rule, h.detail]), [['dataleak.card', '12 valid card numbers (threshold 10)']], `${order} pad ${pad}`);
    }
  }
  const noise = Buffer.alloc(1 << 20);
  for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
  assert.equal(utf16TextRuns(noise), '');
  assert.equal(utf16TextRuns(Buffer.from('short\0', 'utf16le')), '', 'runs under 8 characters are ignored');
});
