// PDF text extraction against an attacker's tricks (src/content/documents/pdf-text.ts): each test is one
// finding of a red-team test — a PDF whose card numbers a reader shows but which we read wrongly, or a
// small PDF that cost us minutes and gigabytes. DoS tests assert the work spent (spent.work), not time.
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { pdfText, pdfWorkFor, looksLikePdf, type PdfTextLimits } from '../../src/content/documents/pdf-text.js';
import { parseCMap } from '../../src/content/documents/pdf-fonts.js';
import { Meter } from '../../src/content/documents/pdf-lexer.js';
import { rc4 } from '../../src/content/documents/pdf-crypt.js';
import { unpredict } from '../../src/content/documents/pdf-predictor.js';
import { buildPdf, chunk, flate, HELVETICA, luhnCards, pagesPdf, rawPdf, type Obj } from '../harness/pdf.js';

const LIMITS: PdfTextLimits = { maxChars: 1_000_000, maxInflatedBytes: 64 * 2 ** 20, maxStreams: 1000 };
const CARDS = luhnCards(12);

const read = (pdf: Buffer, limits: PdfTextLimits = LIMITS) => {
  const r = pdfText(pdf, limits);
  assert.ok(r, 'a PDF');
  return r;
};
/** How many of the cards the text holds (whitespace ignored, as the card check groups digits). */
const found = (text: string, cs = CARDS): number => cs.filter((c) => text.replace(/\s/g, '').includes(c)).length;
const allCards = (pdf: Buffer): void => {
  const r = read(pdf);
  assert.equal(found(r.text), 12, `all cards, got: ${r.text.slice(0, 400)} (${r.truncated})`);
};
/** Content drawing every card on its own line. */
const cardsContent = (cs = CARDS): string => `BT /F1 10 Tf 14 TL 72 740 Td ${cs.map((c) => `(${c}) '`).join(' ')} ET`;
const CATALOG = '<< /Type /Catalog /Pages 2 0 R >>';
const PAGES = '<< /Type /Pages /Kids [4 0 R] /Count 1 >>';
const PAGE = '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R >>';

// ---- C: denial of service --------------------------------------------------------------------

test('C1 an object stream whose objects all start at one big array parses it once', () => {
  const N = 4000;
  let heads = '';
  for (let i = 0; i < N; i++) heads += `${100 + i} 0 `;
  const data = `${heads}[${'1 '.repeat(100_000)}]`;
  const pdf = pagesPdf([flate(cardsContent())], HELVETICA, [{ ...flate(data), dict: `/Filter /FlateDecode /Type /ObjStm /N ${N} /First ${heads.length}` }]);
  const r = read(pdf);
  assert.equal(found(r.text), 12);
  assert.ok(r.spent.work < 1_000_000, `work ${r.spent.work}`); // was N × 100,000 tokens
});

test('C2 one ToUnicode stream shared by many fonts is parsed once; CMap entries are capped per document', () => {
  const cmap = 'begincmap 1 begincodespacerange <0000> <FFFF> endcodespacerange 1 beginbfrange <00000000> <000493DF> <0041> endbfrange endcmap';
  const F = 150;
  const fonts: Obj[] = [];
  let res = '';
  let content = 'BT ';
  for (let i = 0; i < F; i++) {
    fonts.push('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 6 0 R >>');
    res += `/G${i} ${7 + i} 0 R `;
    content += `/G${i} 10 Tf (a) Tj `;
  }
  const pdf = buildPdf([CATALOG, PAGES, HELVETICA, `<< /Type /Page /Parent 2 0 R /Resources << /Font << ${res} >> >> /Contents 5 0 R >>`, flate(`${content}ET`), flate(cmap), ...fonts]);
  const r = read(pdf);
  assert.ok(r.spent.work < 1_000_000, `work ${r.spent.work}`); // was 150 × 300,000 entries
});

test('C3 a thousand `trailer<<` before a huge dictionary: each trailer parse is bounded', () => {
  const base = pagesPdf([flate(cardsContent())]);
  const pdf = Buffer.concat([base, Buffer.from(`${'trailer<< '.repeat(1000)}<< /A [${'1 '.repeat(500_000)}] >>`)]);
  const r = read(pdf);
  assert.equal(found(r.text), 12);
  assert.ok(r.spent.work < 3 * pdf.length, `work ${r.spent.work} for ${pdf.length} bytes`);
});

test('C4 a work budget ends any long parse with a note', () => {
  const pdf = pagesPdf([flate(`${'1 2 3 4 5 6 7 8 9 10 '.repeat(10_000)}${cardsContent()}`)]);
  const r = read(pdf, { ...LIMITS, maxWork: 5_000 });
  assert.match(r.truncated ?? '', /work budget/);
  assert.ok(r.spent.work <= 5_100);
  assert.equal(read(pdf).truncated, undefined);
});

// ---- A: text a reader shows ------------------------------------------------------------------

test('A1 an /Encrypt in a comment, or one that names no dictionary, is no encryption', () => {
  const pdf = pagesPdf([flate(cardsContent())]);
  const withComment = Buffer.concat([pdf.subarray(0, 15), Buffer.from('%trailer<</Encrypt 0>>\n'), pdf.subarray(15)]);
  const r = read(withComment);
  assert.equal(r.encrypted, false);
  assert.equal(found(r.text), 12);
  const dangling = pagesPdf([flate(cardsContent())], HELVETICA, [], { trailer: '/Encrypt 99 0 R' });
  assert.equal(found(read(dangling).text), 12);
});

test('A3 a later copy of an object outside the xref does not hide the xref version', () => {
  const pdf = rawPdf([chunk(1, CATALOG), chunk(2, PAGES), chunk(3, HELVETICA), chunk(4, PAGE), chunk(5, flate(cardsContent()))], {
    tail: '5 0 obj\n<< /Length 0 >>\nstream\n\nendstream\nendobj\n',
  });
  allCards(pdf);
  // and the reverse: the xref names an empty version, the real one is read as a stream no page drew
  const pdf2 = rawPdf([chunk(1, CATALOG), chunk(2, PAGES), chunk(3, HELVETICA), chunk(4, PAGE), chunk(5, flate(cardsContent())), { num: 5, text: '5 0 obj\n<< /Length 0 >>\nstream\n\nendstream\nendobj' }]);
  allCards(pdf2);
});

test('A4 odd object headers are found: leading zeros, a comment, long gaps', () => {
  for (const head of ['5 0000000 obj', '0000000005 0 obj', '5 0 %x\nobj', `5${' '.repeat(100)}0${' '.repeat(100)}obj`]) {
    const c = chunk(5, flate(cardsContent()));
    const text = Buffer.concat([Buffer.from(head), c.text.subarray('5 0 obj'.length)]);
    allCards(rawPdf([chunk(1, CATALOG), chunk(2, PAGES), chunk(3, HELVETICA), chunk(4, PAGE), { num: 5, text }]));
  }
});

test('A4 an xref stream (/W, /Index, PNG Up predictor) locates the objects', () => {
  const objs = [chunk(1, CATALOG), chunk(2, PAGES), chunk(3, HELVETICA), chunk(4, PAGE), { num: 5, text: Buffer.concat([Buffer.from('5 0 %c\nobj'), chunk(5, flate(cardsContent())).text.subarray(7)]) }];
  const head = Buffer.from('%PDF-1.7\n');
  const parts: Buffer[] = [head];
  let size = head.length;
  const offs: number[] = [];
  for (const o of objs) {
    offs.push(size);
    parts.push(o.text, Buffer.from('\n'));
    size += o.text.length + 1;
  }
  // rows of [type 1][offset 4 bytes][gen 1], PNG Up filtered
  const rows: Buffer[] = [];
  let prev = Buffer.alloc(6);
  for (const off of offs) {
    const row = Buffer.from([1, off >>> 24, (off >>> 16) & 255, (off >>> 8) & 255, off & 255, 0]);
    rows.push(Buffer.concat([Buffer.from([2]), Buffer.from(row.map((b, k) => (b - prev[k]!) & 255))]));
    prev = row;
  }
  const data = zlib.deflateSync(Buffer.concat(rows));
  parts.push(Buffer.from(`6 0 obj\n<< /Type /XRef /Size 7 /Root 1 0 R /W [1 4 1] /Index [1 5] /Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns 6 >> /Length ${data.length} >>\nstream\n`), data, Buffer.from(`\nendstream\nendobj\nstartxref\n${size}\n%%EOF\n`));
  allCards(Buffer.concat(parts));
});

test('A5 `(endobj)` inside a dictionary string does not cut the object', () => {
  const c = flate(cardsContent());
  allCards(pagesPdf([{ dict: `${c.dict} /Note (endobj) /N2 (endobj 7 0 obj)`, data: c.data }]));
});

test('A6 a page content stream marked /Subtype /Image is still read', () => {
  const c = flate(cardsContent());
  allCards(pagesPdf([{ dict: `${c.dict} /Subtype /Image /Width 1 /Height 1`, data: c.data }]));
});

test('A7 Flate with PNG (10-15) and TIFF (2) predictors', () => {
  const raw = Buffer.from(cardsContent(), 'latin1');
  const cols = 16;
  // PNG Sub on every row
  const rows: Buffer[] = [];
  for (let i = 0; i < raw.length; i += cols) {
    const row = Buffer.alloc(cols);
    raw.copy(row, 0, i, Math.min(raw.length, i + cols));
    rows.push(Buffer.concat([Buffer.from([1]), Buffer.from(row.map((b, k) => (k === 0 ? b : b - row[k - 1]!) & 255))]));
  }
  const png = zlib.deflateSync(Buffer.concat(rows));
  const r = read(pagesPdf([{ dict: `/Filter /FlateDecode /DecodeParms << /Predictor 15 /Columns ${cols} >>`, data: png }]));
  assert.equal(found(r.text), 12);
  const padded = Buffer.alloc(Math.ceil(raw.length / cols) * cols, 32);
  raw.copy(padded);
  const tiff = Buffer.from(padded.map((b, i) => (i % cols === 0 ? b : b - padded[i - 1]!) & 255));
  const r2 = read(pagesPdf([{ dict: `/Filter /FlateDecode /DecodeParms << /Predictor 2 /Columns ${cols} >>`, data: zlib.deflateSync(tiff) }]));
  assert.equal(found(r2.text), 12);
  assert.deepEqual(unpredict(Buffer.from([2, 1, 2, 2, 1, 1]), { predictor: 12, columns: 2 }), Buffer.from([1, 2, 2, 3]));
});

test('A8 inline image data running straight into EI does not lose the rest of the stream', () => {
  const content = Buffer.concat([Buffer.from('q BI /W 4 /H 1 /BPC 8 /CS /G ID '), Buffer.from([0xff, 0x00, 0x45, 0x49, 0x80]), Buffer.from(`EI Q\n${cardsContent()}`)]);
  allCards(pagesPdf([flate(content)]));
  // no plausible EI at all: the rest is still read
  const noEi = Buffer.concat([Buffer.from('BI /W 4 /H 1 /BPC 8 /CS /G ID \x01\x02'), Buffer.from(`\n${cardsContent()}`)]);
  allCards(pagesPdf([flate(noEi)]));
});

test('A9 groups drawn right to left at their places read in place too', () => {
  let content = 'BT /F1 10 Tf ';
  CARDS.forEach((c, i) => {
    for (let g = 3; g >= 0; g--) content += `1 0 0 1 ${72 + g * 30} ${740 - i * 14} Tm (${c.slice(g * 4, g * 4 + 4)}) Tj `;
  });
  const r = read(pagesPdf([flate(`${content}ET`)]));
  assert.equal(found(r.text.replace(/ /g, '')), 12);
});

test('A10 a decoy catalog in a stray XRef dictionary, and content with /Length1: every catalog is walked', () => {
  const c = flate(cardsContent());
  const pdf = buildPdf([CATALOG, PAGES, HELVETICA, PAGE, { dict: `${c.dict} /Length1 100`, data: c.data }, '<< /Type /Catalog /Pages 7 0 R >>', '<< /Type /Pages /Kids [] /Count 0 >>', '<< /Type /XRef /Root 6 0 R >>'], { trailer: '' });
  allCards(Buffer.from(pdf.toString('latin1').replace('/Root 1 0 R', '/Root 6 0 R'), 'latin1'));
  // the same stream not drawn by any page (the page tree lost) is still read: /Length1 alone does not make it a font
  const lost = buildPdf(['<< /Type /Catalog >>', PAGES, HELVETICA, '<< /Font << /F1 3 0 R >> >>', { dict: `${c.dict} /Length1 100`, data: c.data }]);
  assert.equal(found(read(lost).text), 12);
});

test('A11 strings split across the streams of a Contents array read joined', () => {
  const parts: string[] = [];
  let cur = 'BT /F1 10 Tf 14 TL 72 754 Td ';
  for (const c of CARDS) {
    cur += `T* (${c.slice(0, 8)}`;
    parts.push(cur);
    cur = `${c.slice(8)}) Tj `;
  }
  parts.push(`${cur}ET`);
  const refs = parts.map((_, i) => `${5 + i} 0 R`).join(' ');
  const pdf = buildPdf([CATALOG, PAGES, HELVETICA, `<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 3 0 R >> >> /Contents [${refs}] >>`, ...parts.map((p) => flate(p))]);
  const r = read(pdf);
  assert.equal(CARDS.filter((c) => r.text.includes(c)).length, 12);
});

test('A12 one form drawn under two fonts is read under each', () => {
  // the form shows letters a-j; font F2 maps them to digits by /Differences
  const letters = (c: string): string => [...c].map((d) => String.fromCharCode(97 + +d)).join('');
  const names = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
  const digitsFont = `<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding << /Differences [97 ${names.map((n) => `/${n}`).join(' ')}] >> >>`;
  const form = flate(`BT 14 TL 72 740 Td ${CARDS.map((c) => `(${letters(c)}) '`).join(' ')} ET`);
  const pdf = buildPdf([
    CATALOG, PAGES, HELVETICA,
    '<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 3 0 R /F2 6 0 R >> /XObject << /X 7 0 R >> >> /Contents 5 0 R >>',
    flate('BT /F1 10 Tf ET /X Do BT /F2 10 Tf ET /X Do'),
    digitsFont,
    { dict: `${form.dict} /Type /XObject /Subtype /Form /BBox [0 0 612 792]`, data: form.data },
  ]);
  // Tf inside BT/ET carries over: the font state is the graphics state's
  assert.equal(found(read(pdf).text), 12);
});

test('A13 a non-embedded font whose ToUnicode lies: the encoding reading is kept too', () => {
  let bf = '';
  for (let d = 0; d < 10; d++) bf += `<${(48 + d).toString(16)}> <00${(65 + d).toString(16)}>\n`;
  const cmap = `begincmap 1 begincodespacerange <00> <FF> endcodespacerange 10 beginbfchar\n${bf}endbfchar endcmap`;
  const font = '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding /ToUnicode 6 0 R >>';
  const r = read(pagesPdf([flate(cardsContent())], font, [flate(cmap)]));
  assert.equal(found(r.text), 12);
  assert.match(r.text, /EBAAAA/); // the ToUnicode reading is there too
});

test('A15 attached files, outline titles and form field values are read', () => {
  const csv = `name,card\n${CARDS.map((c) => `x,${c}`).join('\n')}\n`;
  const ef = flate(csv);
  const withFile = buildPdf([CATALOG, '<< /Type /Pages /Kids [] /Count 0 >>', { dict: `${ef.dict} /Type /EmbeddedFile`, data: ef.data }]);
  assert.equal(found(read(withFile).text), 12);
  const utf16 = Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(csv, 'utf16le').swap16()]);
  assert.equal(found(read(buildPdf([CATALOG, '<< /Type /Pages /Kids [] /Count 0 >>', { dict: '/Type /EmbeddedFile', data: utf16 }])).text), 12);
  // outline: items 4.. linked by /Next; one title UTF-16BE
  const items: Obj[] = CARDS.map((c, i) => {
    const title = i === 0 ? `<feff${Buffer.from(c, 'utf16le').swap16().toString('hex')}>` : `(${c})`;
    return `<< /Title ${title} /Parent 3 0 R ${i + 1 < CARDS.length ? `/Next ${5 + i} 0 R` : ''} >>`;
  });
  const outline = buildPdf(['<< /Type /Catalog /Pages 2 0 R /Outlines 3 0 R >>', '<< /Type /Pages /Kids [] /Count 0 >>', '<< /Type /Outlines /First 4 0 R >>', ...items]);
  assert.equal(found(read(outline).text), 12);
  const fields: Obj[] = CARDS.map((c) => `<< /FT /Tx /T (f) /V (${c}) >>`);
  const refs = CARDS.map((_, i) => `${4 + i} 0 R`).join(' ');
  const form = buildPdf(['<< /Type /Catalog /Pages 2 0 R /AcroForm 3 0 R >>', '<< /Type /Pages /Kids [] /Count 0 >>', `<< /Fields [${refs}] >>`, ...fields]);
  assert.equal(found(read(form).text), 12);
});

/** A 40-bit RC4 (revision 2) encryption with the empty user password: its /O, /ID, /U and per-object keys. */
function rc4Encryption(): { o: Buffer; id: Buffer; u: Buffer; objKey: (num: number) => Buffer } {
  const PAD = Buffer.from('28bf4e5e4e758a4164004e56fffa01082e2e00b6d0683e802f0ca9fe6453697a', 'hex');
  const o = crypto.randomBytes(32);
  const id = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');
  const p = Buffer.alloc(4);
  p.writeInt32LE(-4);
  const key = crypto.createHash('md5').update(Buffer.concat([PAD, o, p, id])).digest().subarray(0, 5);
  const objKey = (num: number): Buffer => crypto.createHash('md5').update(Buffer.concat([key, Buffer.from([num & 255, num >> 8, 0, 0, 0])])).digest().subarray(0, 10);
  return { o, id, u: rc4(key, PAD), objKey };
}

test('A15 form field values of an RC4-encrypted file (empty user password) are decrypted with their object key', () => {
  const { o, id, u, objKey } = rc4Encryption();
  const fields: Obj[] = CARDS.map((c, i) => `<< /FT /Tx /V <${rc4(objKey(5 + i), Buffer.from(c)).toString('hex')}> >>`);
  const refs = CARDS.map((_, i) => `${5 + i} 0 R`).join(' ');
  const pdf = buildPdf(
    ['<< /Type /Catalog /Pages 2 0 R /AcroForm 3 0 R >>', '<< /Type /Pages /Kids [] /Count 0 >>', `<< /Fields [${refs}] >>`, `<< /Filter /Standard /V 1 /R 2 /O <${o.toString('hex')}> /U <${u.toString('hex')}> /P -4 >>`, ...fields],
    { trailer: `/Encrypt 4 0 R /ID [<${id.toString('hex')}> <${id.toString('hex')}>]` },
  );
  const r = read(pdf);
  assert.equal(r.encrypted, false);
  assert.equal(found(r.text), 12);
});

test('A16 junk before %PDF- (within 64 KiB) is still a PDF', () => {
  const pdf = Buffer.concat([Buffer.alloc(2048, 0x41), pagesPdf([flate(cardsContent())])]);
  assert.ok(looksLikePdf(pdf));
  allCards(pdf);
  assert.equal(looksLikePdf(Buffer.concat([Buffer.alloc(70_000, 0x41), Buffer.from('%PDF-1.7')])), false);
});

test('A14 a Type3 font with glyph names that say nothing reads as what its glyph procedures draw', () => {
  const procs: Obj[] = [];
  let cp = '';
  let diffs = '[97';
  for (let d = 0; d < 10; d++) {
    procs.push(flate(`556 0 d0 BT /H 1000 Tf 0 0 Td (${d}) Tj ET`));
    cp += `/g${d} ${7 + d} 0 R `;
    diffs += ` /g${d}`;
  }
  const t3 = `<< /Type /Font /Subtype /Type3 /FontBBox [0 0 1000 1000] /FontMatrix [0.001 0 0 0.001 0 0] /CharProcs 6 0 R /Encoding << /Type /Encoding /Differences ${diffs}] >> /FirstChar 97 /LastChar 106 /Widths [${'556 '.repeat(10)}] /Resources << /Font << /H 17 0 R >> >> >>`;
  const enc = (c: string): string => [...c].map((d) => String.fromCharCode(97 + +d)).join('');
  const content = `BT /F1 10 Tf ${CARDS.map((c, i) => `1 0 0 1 72 ${740 - i * 14} Tm (${enc(c)}) Tj`).join(' ')} ET`;
  const pdf = buildPdf([CATALOG, PAGES, t3, PAGE, flate(content), `<< ${cp} >>`, ...procs, HELVETICA]);
  const r = read(pdf);
  assert.equal(CARDS.filter((c) => r.text.includes(c)).length, 12);
});

test('C4 xref entries pointing at headers nested inside one long string stay linear', () => {
  // `1 0 obj (1 0 obj (1 0 obj ( ... ) ) )`: every header starts a string running to the end
  const n = 20_000;
  const heads: number[] = [];
  let body = '%PDF-1.7\n';
  for (let i = 0; i < n; i++) {
    heads.push(body.length);
    body += `${i + 1} 0 obj (`;
  }
  body += `${')'.repeat(n)}\n`;
  const xrefAt = body.length;
  body += `xref\n0 ${n + 1}\n0000000000 65535 f \n${heads.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}trailer\n<< /Size ${n + 1} >>\nstartxref\n${xrefAt}\n%%EOF\n`;
  const pdf = Buffer.from(body, 'latin1');
  const r = read(pdf);
  assert.ok(r.spent.work <= pdfWorkFor(pdf.length), `work ${r.spent.work}`);
});

// ---- second red-team test ---------------------------------------------------------------------

test('D1 `ID EIx` repeated: the search for an inline image end is linear and charged to the meter', () => {
  const junk = 'ID EIx '.repeat(50_000);
  const content = `${junk}\n${cardsContent()}`;
  const pdf = pagesPdf([flate(content)]);
  const r = read(pdf, { ...LIMITS, maxWork: 5_000_000 });
  assert.equal(found(r.text), 12, `${r.truncated}`);
  // every byte searched is charged (was: 10,000 candidates per ID, unmetered), and no more than a few times
  assert.ok(r.spent.work >= content.length && r.spent.work < 6 * content.length, `work ${r.spent.work}`);
  assert.equal(r.truncated, undefined);
});

test('D3 big content streams split cleanly are read in turn, not copied; an explicit maxWork is never raised', () => {
  const big = '1 '.repeat(1_000_000);
  const pdf = buildPdf([CATALOG, PAGES, HELVETICA, '<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 3 0 R >> >> /Contents [5 0 R 6 0 R 7 0 R] >>', flate(big), flate(big), flate(cardsContent())]);
  const r = read(pdf);
  assert.equal(found(r.text), 12);
  // two million tokens read once (was: joined and concatenated copies, each read: four million and more)
  assert.ok(r.spent.work < 2_600_000, `work ${r.spent.work}`);
  const capped = read(pdf, { ...LIMITS, maxWork: 1_000_000 });
  assert.ok(capped.spent.work <= 1_000_000, `work ${capped.spent.work}`);
  assert.match(capped.truncated ?? '', /work budget/);
  // a stream ending inside a string still gets the joined reading (A11), charged for the copy
  const split = buildPdf([CATALOG, PAGES, HELVETICA, '<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 3 0 R >> >> /Contents [5 0 R 6 0 R] >>', flate(`BT /F1 10 Tf 72 700 Td (${CARDS[0]!.slice(0, 8)}`), flate(`${CARDS[0]!.slice(8)}) Tj ET`)]);
  const rs = read(split);
  assert.equal(found(rs.text, [CARDS[0]!]), 1);
});

test('D5 many Type0 fonts sharing one descendant with /W [0 65535 500]: widths read once, kept as a range', () => {
  const N = 3000;
  let fonts = '';
  let content = 'BT ';
  for (let i = 0; i < N; i++) {
    fonts += `/F${i} << /Type /Font /Subtype /Type0 /BaseFont /X /Encoding /Identity-H /DescendantFonts [4 0 R] /ToUnicode 6 0 R >>\n`;
    content += `/F${i} 1 Tf <0031> Tj `;
  }
  const cmap = 'begincmap 1 begincodespacerange <0000> <FFFF> endcodespacerange 1 beginbfrange <0030> <0039> <0030> endbfrange endcmap';
  content += `/F0 10 Tf 72 600 Td <${[...CARDS[0]!].map((d) => `003${d}`).join('')}> Tj ET`;
  const pdf = buildPdf([CATALOG, PAGES, `<< /Type /Page /Parent 2 0 R /Resources << /Font << ${fonts} >> >> /Contents 5 0 R >>`,
    '<< /Type /Font /Subtype /CIDFontType2 /BaseFont /X /W [0 65535 500 48 [600 600]] >>', flate(content), flate(cmap)]);
  const r = read(pdf);
  assert.equal(found(r.text, [CARDS[0]!]), 1, r.text.slice(-200));
  assert.ok(r.spent.work < 1_000_000, `work ${r.spent.work}`); // was 3000 maps of 65,536 widths (2 GB; OOM at 4000)
});

test('D partial: bfchar entries count against the document-wide CMap entry cap', () => {
  const entries: { left: number; dropped?: number } = { left: 5 };
  const chars = [...Array(10).keys()].map((i) => `<${(0x41 + i).toString(16)}> <00${(0x30 + i).toString(16)}>`).join(' ');
  const cm = parseCMap(Buffer.from(`1 begincodespacerange <00> <FF> endcodespacerange 10 beginbfchar ${chars} endbfchar`), new Meter(1_000_000), entries);
  assert.equal(cm.map.size, 5);
  assert.equal(entries.left, 0);
  assert.ok((entries.dropped ?? 0) >= 5);
  // in a PDF: past the cap the file is marked as possibly missing text
  const big = `1 begincodespacerange <0000> <FFFF> endcodespacerange 60000 beginbfchar ${[...Array(60_000).keys()].map((i) => `<${i.toString(16).padStart(4, '0')}> <0041>`).join(' ')} endbfchar`;
  const fonts: Obj[] = [];
  let res = '';
  for (let i = 0; i < 6; i++) {
    fonts.push(flate(big));
    fonts.push(`<< /Type /Font /Subtype /Type0 /BaseFont /X /Encoding /Identity-H /ToUnicode ${6 + 2 * i} 0 R >>`);
    res += `/G${i} ${7 + 2 * i} 0 R `;
  }
  const content = `BT ${[...Array(6).keys()].map((i) => `/G${i} 10 Tf <0001> Tj`).join(' ')} ET`;
  const r = read(buildPdf([CATALOG, PAGES, HELVETICA, `<< /Type /Page /Parent 2 0 R /Resources << /Font << ${res} >> >> /Contents 5 0 R >>`, flate(content), ...fonts]));
  assert.match(r.truncated ?? '', /CMap entries/);
});

const type3Pdf = (mode: 'names' | 'tounicode'): Buffer => {
  // the procedure of code 0x41+d draws digit d with Helvetica; names or ToUnicode say digit d+1
  const lie = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
  const names = [...Array(10).keys()].map((d) => (mode === 'names' ? `/${lie[(d + 1) % 10]}` : `/g${d}`));
  const procs: Obj[] = [...Array(10).keys()].map((d) => flate(`600 0 0 0 600 1000 d1 BT /H 900 Tf 0 0 Td (${d}) Tj ET`));
  const tu = `1 begincodespacerange <00> <FF> endcodespacerange 10 beginbfchar ${[...Array(10).keys()].map((d) => `<${(65 + d).toString(16)}> <003${(d + 1) % 10}>`).join(' ')} endbfchar`;
  const t3 = `<< /Type /Font /Subtype /Type3 /FontBBox [0 0 1000 1000] /FontMatrix [0.001 0 0 0.001 0 0] /FirstChar 65 /LastChar 74 /Widths [${'600 '.repeat(10)}]
    /Encoding << /Type /Encoding /Differences [65 ${names.join(' ')}] >> /CharProcs << ${names.map((n, d) => `${n} ${7 + d} 0 R`).join(' ')} >>
    /Resources << /Font << /H 6 0 R >> >> ${mode === 'tounicode' ? '/ToUnicode 17 0 R' : ''} >>`;
  const content = `BT /F1 12 Tf ${CARDS.map((c, i) => `1 0 0 1 72 ${740 - i * 20} Tm (${[...c].map((x) => String.fromCharCode(65 + +x)).join('')}) Tj`).join(' ')} ET`;
  return buildPdf([CATALOG, PAGES, t3, PAGE, flate(content), HELVETICA, ...procs, flate(tu)]);
};

test('Leak 1 Type3 glyph procedures that draw other digits than the glyph names or ToUnicode say: both read', () => {
  for (const mode of ['names', 'tounicode'] as const) {
    const r = read(type3Pdf(mode));
    assert.equal(found(r.text), 12, `${mode}: ${r.text.slice(0, 300)}`);
    assert.ok(r.spent.work < 200_000, `work ${r.spent.work}`); // each procedure read once
  }
});

test('Leak 2 annotation /Contents and /RC (no appearance stream) are read, decrypted in an encrypted file', () => {
  const annots: Obj[] = CARDS.map((c, i) =>
    i % 2 === 0
      ? `<< /Type /Annot /Subtype /FreeText /Rect [72 700 300 716] /DA (/Helv 10 Tf 0 g) /Contents (${c.slice(0, 8)}\\${c.charCodeAt(8).toString(8).padStart(3, '0')}${c.slice(9)}) >>`
      : `<< /Type /Annot /Subtype /Text /Rect [72 700 300 716] /RC (<?xml version="1.0"?><body xmlns="http://www.w3.org/1999/xhtml"><p>${c.slice(0, 4)}<span>${c.slice(4, 8)}</span>&#${c.charCodeAt(8)};${c.slice(9)}</p></body>) >>`,
  );
  const page = `<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R /Annots [${CARDS.map((_, i) => `${6 + i} 0 R`).join(' ')}] >>`;
  const r = read(buildPdf([CATALOG, PAGES, HELVETICA, page, flate('BT /F1 12 Tf 72 740 Td (Notes) Tj ET'), ...annots]));
  assert.equal(found(r.text), 12, r.text);
  assert.match(r.text, /\[PDF outline and form fields\]/);
  // RC4 (empty user password): each /Contents decrypted with its object's key; a direct annotation with the page's
  const { o, id, u, objKey } = rc4Encryption();
  const enc = (num: number, c: string): string => `<${rc4(objKey(num), Buffer.from(c)).toString('hex')}>`;
  const encAnnots: Obj[] = CARDS.slice(1).map((c, i) => `<< /Type /Annot /Subtype /FreeText /Rect [0 0 1 1] /Contents ${enc(7 + i, c)} >>`);
  const encPage = `<< /Type /Page /Parent 2 0 R /Annots [<< /Subtype /FreeText /Contents ${enc(3, CARDS[0]!)} >> ${encAnnots.map((_, i) => `${7 + i} 0 R`).join(' ')}] >>`;
  const pdf = buildPdf(
    [CATALOG, '<< /Type /Pages /Kids [3 0 R] /Count 1 >>', encPage, '<< /Type /Pages /Kids [] /Count 0 >>', '<< >>', `<< /Filter /Standard /V 1 /R 2 /O <${o.toString('hex')}> /U <${u.toString('hex')}> /P -4 >>`, ...encAnnots],
    { trailer: `/Encrypt 6 0 R /ID [<${id.toString('hex')}> <${id.toString('hex')}>]` },
  );
  const re = read(pdf);
  assert.equal(re.encrypted, false);
  assert.equal(found(re.text), 12, re.text);
});

// ---- review mends ---------------------------------------------------------------------------------

test('an attached file named by a file specification\'s /EF, without /Type /EmbeddedFile, is read', () => {
  const ef = flate(`name,card\n${CARDS.map((c) => `x,${c}`).join('\n')}\n`);
  const pdf = buildPdf([
    '<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles << /Names [(cards.csv) 3 0 R] >> >> >>',
    '<< /Type /Pages /Kids [] /Count 0 >>',
    '<< /Type /Filespec /F (cards.csv) /EF << /F 4 0 R >> >>',
    ef,
  ]);
  assert.equal(found(read(pdf).text), 12);
});

test('an embedded font program is not decoded as page content (it would spend the shared inflate budget)', () => {
  const program = flate(Buffer.alloc(200_000, 0x41));
  const font = '<< /Type /Font /Subtype /TrueType /BaseFont /X /FirstChar 32 /LastChar 57 /FontDescriptor 6 0 R >>';
  const pdf = buildPdf([CATALOG, PAGES, font, `<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R >>`, flate('BT /F1 12 Tf 72 700 Td (hello) Tj ET'),
    '<< /Type /FontDescriptor /FontName /X /FontFile2 7 0 R >>', { dict: `${program.dict} /Length1 200000`, data: program.data }]);
  const r = read(pdf);
  assert.match(r.text, /hello/);
  assert.ok(r.spent.inflatedBytes < 1000, `inflated ${r.spent.inflatedBytes} bytes`);
});

test('a page cut by the character limit reports the output limit once', () => {
  const r = read(pagesPdf([flate(cardsContent())]), { ...LIMITS, maxChars: 20 });
  assert.equal(r.text.length, 20);
  assert.equal(r.truncated, 'output cut at 20 characters');
});
