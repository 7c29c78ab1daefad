// PDF text extraction (src/content/documents/pdf-text.ts): PDFs built here object by object (zlib for
// Flate, our own ASCII85 encoder) and two made with Ghostscript (test/fixtures/documents/README.md).
// Asserts what a data-leak check needs: a card number drawn in pieces reads as one run, fonts with
// ToUnicode CMaps decode, every budget stops with `truncated` set, and nothing throws on broken input.
import test from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Readable, Writable } from 'node:stream';
import { pdfText, type PdfTextLimits } from '../../src/content/documents/pdf-text.js';
import { buildPdf, flate, HELVETICA, pagesPdf, type Obj } from '../harness/pdf.js';

const LIMITS: PdfTextLimits = { maxChars: 1_000_000, maxInflatedBytes: 64 * 2 ** 20, maxStreams: 1000 };
const CARD = '4111 1111 1111 1111';

const textOf = (pdf: Buffer, limits: PdfTextLimits = LIMITS): string => {
  const r = pdfText(pdf, limits);
  assert.ok(r, 'a PDF');
  assert.equal(r.truncated, undefined, `nothing missing, got: ${r.truncated}`);
  return r.text;
};

/** Digits of a card with the usual spacing, or collapsed, found in `text`. */
const hasCard = (text: string, card = CARD): boolean => text.includes(card);

function ascii85(data: Buffer): string {
  let out = '';
  for (let i = 0; i < data.length; i += 4) {
    const chunk = Buffer.alloc(4);
    data.copy(chunk, 0, i, Math.min(i + 4, data.length));
    const n = Math.min(4, data.length - i);
    let v = chunk.readUInt32BE(0);
    if (v === 0 && n === 4) {
      out += 'z';
      continue;
    }
    const digits: string[] = [];
    for (let k = 0; k < 5; k++) {
      digits.unshift(String.fromCharCode((v % 85) + 33));
      v = Math.floor(v / 85);
    }
    out += digits.slice(0, n + 1).join('');
  }
  return `${out}~>`;
}

/** A seeded PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---- text operators --------------------------------------------------------------------------

test('a card number split over TJ array elements comes out as one run; a big TJ gap is a space', () => {
  const pdf = pagesPdf([flate(`BT /F1 12 Tf 72 700 Td [(Card: 41) -12 (11 11) 30 (11 1111 1) (111)] TJ ET\nBT /F1 12 Tf 72 680 Td [(Total) -250 (due)] TJ ET`)]);
  const t = textOf(pdf);
  assert.ok(hasCard(t), t);
  assert.match(t, /Card: 4111 1111 1111 1111\nTotal due/);
});

test('a card number over two Tj operators on one line, and over text objects placed side by side, is one run', () => {
  // "4111 11" is 7 glyphs: 6 digits (556) and a space (278) = 3614 thousandths, at 12 pt 43.368
  const adjacent = pagesPdf([flate('BT /F1 12 Tf 72 700 Td (4111 11) Tj (11 1111 1111) Tj ET')]);
  assert.ok(hasCard(textOf(adjacent)), textOf(adjacent));
  const placed = pagesPdf([
    flate('BT /F1 12 Tf 72 700 Td (4111 11) Tj ET\nBT /F1 12 Tf 1 0 0 1 115.368 700 Tm (11 1111) Tj ET\nBT /F1 12 Tf 1 0 0 1 158.736 700 Tm ( 1111) Tj ET'),
  ]);
  assert.ok(hasCard(textOf(placed)), textOf(placed));
  // groups placed with a space-wide gap between them read with a space, not glued
  const gapped = pagesPdf([
    flate('BT /F1 10 Tf 100 500 Td (4111) Tj 25 0 Td (1111) Tj 25 0 Td (1111) Tj 25 0 Td (1111) Tj ET'),
  ]);
  assert.ok(hasCard(textOf(gapped)), textOf(gapped));
});

test("line moves: Td down, T*, ' and \" start new lines; pages are separated", () => {
  const pdf = pagesPdf([
    flate(`BT /F1 12 Tf 14 TL 72 700 Td (one) Tj 0 -14 Td (two) Tj T* (three) Tj (four) ' 1 0 (five) " ET`),
    flate('BT /F1 12 Tf 72 700 Td (second page) Tj ET'),
  ]);
  assert.equal(textOf(pdf).trim(), 'one\ntwo\nthree\nfour\nfive\nsecond page');
});

test('literal string escapes, octal, balanced parentheses and line continuation', () => {
  const pdf = pagesPdf([flate('BT /F1 12 Tf 72 700 Td (a\\(b\\)c\\\\d \\101\\60\\61\\0621 (x(y)z) con\\\ntinued \\t|\\r\\n) Tj ET')]);
  assert.equal(textOf(pdf).trim(), 'a(b)c\\d A0121 (x(y)z) continued \t|');
});

test('hex strings, odd digit padded; WinAnsi bytes read as Windows-1252', () => {
  const pdf = pagesPdf([flate('BT /F1 12 Tf 72 700 Td <34313131 2031 3131312031313131 20313131 3> Tj 0 -20 Td (\x80 \xe9t\xe9) Tj ET')]);
  const t = textOf(pdf);
  assert.ok(t.startsWith('4111 1111 1111 1110'), t); // the lone last digit 3 reads as 0x30
  assert.ok(t.includes('€ été'), t);
});

// ---- fonts -----------------------------------------------------------------------------------

const TO_UNICODE = `/CIDInit /ProcSet findresource begin
12 dict begin
begincmap
/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def
/CMapName /Adobe-Identity-UCS def
1 begincodespacerange
<0000> <FFFF>
endcodespacerange
2 beginbfchar
<0003> <0020>
<0050> <00E9>
endbfchar
2 beginbfrange
<0010> <0019> <0030>
<0020> <0022> [<0043> <0061> <0072006400>]
endbfrange
endcmap
CMapName currentdict /CMap defineresource pop
end
end`;

function type0Pdf(content: string, toUnicode: string | null = TO_UNICODE): Buffer {
  const font = `<< /Type /Font /Subtype /Type0 /BaseFont /ABCDEF+Arial /Encoding /Identity-H /DescendantFonts [6 0 R]${toUnicode ? ' /ToUnicode 7 0 R' : ''} >>`;
  return pagesPdf([flate(content)], font, [
    '<< /Type /Font /Subtype /CIDFontType2 /BaseFont /ABCDEF+Arial /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /DW 1000 /W [3 [278] 16 25 556] >>',
    flate(toUnicode ?? ''),
  ]);
}

/** The 2-byte codes our ToUnicode maps: digits at 0x10.., space 0x03, 'C' 'a' 'r' at 0x20.. */
const codes = (s: string): string =>
  [...s]
    .map((c) => (c === ' ' ? '0003' : c === 'C' ? '0020' : c === 'a' ? '0021' : c === 'r' ? '0022' : c === 'é' ? '0050' : (0x10 + Number(c)).toString(16).padStart(4, '0')))
    .join('');

test('hex strings through a ToUnicode CMap (Identity-H, 2-byte codes, bfchar, bfrange and its array form)', () => {
  const pdf = type0Pdf(`BT /F1 11 Tf 72 700 Td <${codes('Car')}> Tj [<${codes('é 4111 11')}> -30 <${codes('11 1111 1111')}>] TJ ET`);
  const t = textOf(pdf);
  // <0022> maps to two characters ("rd") through the array form of bfrange
  assert.equal(t.trim(), `Cardé ${CARD}`);
});

test('a Type0 font without a ToUnicode map: its text is not readable, and that is said', () => {
  const r = pdfText(type0Pdf(`BT /F1 11 Tf 72 700 Td <${codes('4111')}> Tj ET`, null), LIMITS);
  assert.ok(r?.truncated?.includes('no ToUnicode'), r?.truncated);
});

test('a simple font with /Differences glyph names; font dictionaries inside an object stream', () => {
  // codes 1-5 renamed to digits and space, as subset fonts do
  const fontInStream = '<< /Type /Font /Subtype /Type1 /BaseFont /XYZ+Times /Encoding << /Differences [1 /four /one /space /uni0031 /zero.sc] >> >>';
  const header = '3 0 ';
  const objstm = Buffer.from(header + fontInStream);
  const objs: Obj[] = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [4 0 R] /Count 1 >>',
    // object 3 lives only in the object stream (object 6)
    '<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R >>',
    flate('BT /F1 12 Tf 72 700 Td <01020202030404040403040404040304040405> Tj ET'),
    { dict: `/Type /ObjStm /N 1 /First ${header.length} /Filter /FlateDecode`, data: zlib.deflateSync(objstm) },
  ];
  // renumber: catalog 1, pages 2, page 4, content 5, objstm 6; object 3 is absent from the file
  const pdf = buildPdf([objs[0]!, objs[1]!, 'null', objs[2]!, objs[3]!, objs[4]!]).toString('latin1').replace('3 0 obj\nnull\nendobj\n', '');
  const t = textOf(Buffer.from(pdf, 'latin1'));
  assert.equal(t.trim(), `${CARD.slice(0, -1)}0`);
});

test('a form XObject drawn by a page is read, with its own resources; inline images are skipped', () => {
  const pdf = buildPdf([
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /Resources << /XObject << /Fm1 4 0 R >> >> /Contents 5 0 R >>',
    { dict: '/Type /XObject /Subtype /Form /BBox [0 0 500 500] /Resources << /Font << /F9 6 0 R >> >> /Filter /FlateDecode', data: zlib.deflateSync(`BT /F9 12 Tf 10 10 Td (${CARD}) Tj ET`) },
    flate('q BI /W 4 /H 1 /BPC 8 /CS /G ID \x01EI\x02\xff(\x10 EI Q q 1 0 0 1 50 50 cm /Fm1 Do Q BT /F9 12 Tf 1 0 0 1 10 300 Tm (after) Tj ET'),
    HELVETICA,
  ]);
  const r = pdfText(pdf, LIMITS)!;
  assert.ok(hasCard(r.text), r.text);
  assert.ok(r.text.includes('after'), r.text);
  assert.ok(!r.text.includes('EI'), r.text);
});

test('text in a stream no page draws (an annotation appearance) is read too', () => {
  const pdf = pagesPdf([flate('BT /F1 12 Tf 72 700 Td (page text) Tj ET')], HELVETICA, [
    { dict: '/Type /XObject /Subtype /Form /BBox [0 0 100 20] /Filter /FlateDecode', data: zlib.deflateSync(`BT /F1 9 Tf 2 5 Td (${CARD}) Tj ET`) },
  ]);
  const t = textOf(pdf);
  assert.ok(t.includes('page text') && hasCard(t), t);
});

// ---- filters ---------------------------------------------------------------------------------

test('filter chains: ASCII85 then Flate (abbreviated names), ASCIIHex, LZW-free raw deflate', () => {
  const content = `BT /F1 12 Tf 72 700 Td (${CARD}) Tj ET`;
  const a85 = pagesPdf([{ dict: '/Filter [/A85 /Fl]', data: ascii85(zlib.deflateSync(Buffer.from(content))) }]);
  assert.ok(hasCard(textOf(a85)));
  const a85long = pagesPdf([{ dict: '/Filter [/ASCII85Decode /FlateDecode]', data: ascii85(zlib.deflateSync(Buffer.from(content))) }]);
  assert.ok(hasCard(textOf(a85long)));
  const hex = pagesPdf([{ dict: '/Filter /AHx', data: `${Buffer.from(content).toString('hex')}>` }]);
  assert.ok(hasCard(textOf(hex)));
  const raw = pagesPdf([{ dict: '/Filter /FlateDecode', data: zlib.deflateRawSync(Buffer.from(content)) }]);
  assert.ok(hasCard(textOf(raw)));
  const none = pagesPdf([{ dict: '', data: content }]);
  assert.ok(hasCard(textOf(none)));
});

test('a wrong or indirect /Length does not lose the stream', () => {
  const content = zlib.deflateSync(Buffer.from(`BT /F1 12 Tf 72 700 Td (${CARD}) Tj ET`));
  const pdf = buildPdf([
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>',
    HELVETICA,
    'placeholder',
    '99',
  ]);
  const s = pdf
    .toString('latin1')
    .replace('5 0 obj\nplaceholder\nendobj\n', `5 0 obj\n<< /Length 6 0 R /Filter /FlateDecode >>\nstream\r\n${content.toString('latin1')}\r\nendstream\nendobj\n`);
  assert.ok(hasCard(textOf(Buffer.from(s, 'latin1'))));
  const wrong = s.replace('/Length 6 0 R', '/Length 3');
  assert.ok(hasCard(textOf(Buffer.from(wrong, 'latin1'))));
});

test('images are skipped: no decode, no text, no note', () => {
  const img = { dict: '/Type /XObject /Subtype /Image /Width 10 /Height 10 /BitsPerComponent 8 /ColorSpace /DeviceRGB /Filter /DCTDecode', data: Buffer.alloc(300, 7) };
  const pdf = pagesPdf([flate('BT /F1 12 Tf 72 700 Td (caption) Tj ET')], HELVETICA, [img]);
  assert.equal(textOf(pdf).trim(), 'caption');
});

// ---- encryption, budgets, broken input -----------------------------------------------------------

test('an encrypted PDF the empty password does not open (its /U does not match) says its text is not readable', () => {
  const pdf = pagesPdf([flate('BT /F1 12 Tf 72 700 Td (garbled) Tj ET')], HELVETICA, ['<< /Filter /Standard /V 2 /R 3 /O <00> /U <00> /P -4 /Length 128 >>'], {
    trailer: '/Encrypt 6 0 R /ID [<0102> <0102>]',
  });
  const r = pdfText(pdf, LIMITS);
  assert.ok(r);
  assert.match(r.truncated ?? '', /^encrypted PDF/);
  assert.equal(r.text, '');
});

async function deflatedZeros(megabytes: number): Promise<Buffer> {
  const chunk = Buffer.alloc(2 ** 20);
  const parts: Buffer[] = [];
  await pipeline(
    Readable.from((function* () {
      for (let i = 0; i < megabytes; i++) yield chunk;
    })()),
    zlib.createDeflate({ level: 9 }),
    new Writable({
      write(c: Buffer, _e, cb) {
        parts.push(c);
        cb();
      },
    }),
  );
  return Buffer.concat(parts);
}

test('a flate bomb (200 MB of zeros) stops at the inflated-bytes budget, quickly and without holding the bomb', async () => {
  const bomb = await deflatedZeros(200);
  const pdf = pagesPdf([flate(`BT /F1 12 Tf 72 700 Td (${CARD}) Tj ET`), { dict: '/Filter /FlateDecode', data: bomb }]);
  const limits = { ...LIMITS, maxInflatedBytes: 8 * 2 ** 20 };
  const rssBefore = process.resourceUsage().maxRSS;
  const t0 = performance.now();
  const r = pdfText(pdf, limits)!;
  const ms = performance.now() - t0;
  const grewKb = process.resourceUsage().maxRSS - rssBefore;
  assert.ok(hasCard(r.text), 'the page before the bomb is read');
  assert.match(r.truncated ?? '', /more than 8388608 inflated bytes/);
  assert.ok(r.spent.inflatedBytes <= limits.maxInflatedBytes, `inflated ${r.spent.inflatedBytes} bytes: never more than the budget`);
  // figures only (speed and memory goals live in bench/)
  process.stdout.write(`# bomb: ${bomb.length} bytes deflated, ${ms.toFixed(0)} ms, peak RSS +${(grewKb / 1024).toFixed(1)} MiB\n`);
});

test('the stream and character budgets stop with truncated set', () => {
  const pages = Array.from({ length: 5 }, (_, i) => flate(`BT /F1 12 Tf 72 700 Td (page ${i}) Tj ET`));
  const pdf = pagesPdf(pages);
  const streams = pdfText(pdf, { ...LIMITS, maxStreams: 2 })!;
  assert.equal(streams.text.trim(), 'page 0\npage 1');
  assert.match(streams.truncated ?? '', /more than 2 streams/);
  const chars = pdfText(pdf, { ...LIMITS, maxChars: 10 })!;
  assert.equal(chars.text.length, 10);
  assert.match(chars.truncated ?? '', /output cut at 10 characters/);
  const all = pdfText(pdf, LIMITS)!;
  assert.equal(all.truncated, undefined);
});

test('a file cut short keeps what it holds and remarks on it, without calling it incomplete (no reader sees more)', () => {
  const words = Array.from({ length: 400 }, (_, i) => `(word${i}) Tj T*`).join(' ');
  const pdf = pagesPdf([flate(`BT /F1 12 Tf 14 TL 72 700 Td ${words} ET`)]);
  const cut = pdf.subarray(0, Math.floor(pdf.length * 0.6));
  const r = pdfText(cut, LIMITS)!;
  assert.ok(r.text.includes('word0\nword1\n'), r.text.slice(0, 100));
  assert.equal(r.truncated, undefined, 'nothing hidden: the bytes that would hold more text are not in the file');
  assert.match(r.remarks ?? '', /cut short/);
  for (let n = 0; n < pdf.length; n += 13) {
    const part = pdfText(pdf.subarray(0, n), LIMITS);
    if (n >= 16) assert.ok(part && typeof part.text === 'string');
  }
});

test('a stream corrupted part-way gives the text before the damage and a note', () => {
  const words = Array.from({ length: 3000 }, (_, i) => `(w${i}) Tj T*`).join(' ');
  const data = zlib.deflateSync(Buffer.from(`BT /F1 12 Tf 14 TL 72 700 Td ${words} ET`));
  for (let i = Math.floor(data.length * 0.7); i < Math.floor(data.length * 0.7) + 40; i++) data[i] = 0xff - data[i]!;
  const r = pdfText(pagesPdf([{ dict: '/Filter /FlateDecode', data }]), LIMITS)!;
  assert.ok(r.text.includes('w0\nw1\nw2'), r.text.slice(0, 50));
  assert.match(r.truncated ?? '', /stream 5 could not be decoded/);
});

test('random bytes and random mutations of a valid PDF never throw (seeded)', () => {
  const random = rng(0x5eed);
  const valid = type0Pdf(`BT /F1 11 Tf 72 700 Td <${codes('4111 1111')}> Tj ET`);
  const page = pagesPdf([flate(`BT /F1 12 Tf 72 700 Td [(${CARD}) -300 (x)] TJ (y) ' ET`), `BT (a) Tj <41> Tj [(b)] TJ ET`]);
  const small: PdfTextLimits = { maxChars: 10_000, maxInflatedBytes: 1 << 20, maxStreams: 50 };
  for (let iter = 0; iter < 400; iter++) {
    let input: Buffer;
    if (iter % 4 === 0) {
      input = Buffer.alloc(Math.floor(random() * 4000));
      for (let i = 0; i < input.length; i++) input[i] = Math.floor(random() * 256);
      Buffer.from('%PDF-1.4\n').copy(input);
    } else {
      const base = Buffer.from(iter % 2 ? valid : page);
      const edits = 1 + Math.floor(random() * 8);
      let b = base;
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(random() * b.length);
        const kind = random();
        if (kind < 0.5) b[at] = Math.floor(random() * 256);
        else if (kind < 0.7) b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + Math.floor(random() * 50)))]);
        else if (kind < 0.85) b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + Math.floor(random() * 200)), b.subarray(at)]);
        else b = Buffer.concat([b.subarray(0, at), Buffer.from(['(', ')', '<', '>', '[', ']', '<<', '>>', '\\', ' obj ', 'stream\n', 'endstream', '%'][Math.floor(random() * 13)]!), b.subarray(at)]);
      }
      input = b;
    }
    let r;
    assert.doesNotThrow(() => (r = pdfText(input, small)), `iteration ${iter}`);
    if (r !== undefined) assert.equal(typeof (r as { text: string }).text, 'string');
  }
});

test('hostile shapes stay linear: deep nesting, unterminated strings, many obj keywords', () => {
  const deep = Buffer.from(`%PDF-1.4\n1 0 obj\n${'['.repeat(200_000)}\nendobj\n2 0 obj << /A ${'<<'.repeat(100_000)} >>\nendobj\n`);
  const unterminated = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.from('1 0 obj (abc '.repeat(100_000))]);
  const objs = Buffer.from(`%PDF-1.4\n${'1 0 obj 2 0 obj '.repeat(200_000)}`);
  const content = pagesPdf([flate(`BT ${'('.repeat(50_000)} Tj ${'<'.repeat(50_000)} ${'['.repeat(50_000)} TJ ET`)]);
  // linear: a quadratic reader would run past the test timeout on these; figures are printed, not asserted
  for (const b of [deep, unterminated, objs, content]) {
    const t0 = performance.now();
    const r = pdfText(b, LIMITS);
    assert.ok(r && typeof r.text === 'string');
    process.stdout.write(`# hostile shape, ${b.length} bytes: ${(performance.now() - t0).toFixed(0)} ms, work ${r.spent.work}\n`);
  }
});

test('not a PDF: undefined', () => {
  assert.equal(pdfText(Buffer.from('PK\x03\x04 not a pdf'), LIMITS), undefined);
  assert.equal(pdfText(Buffer.alloc(0), LIMITS), undefined);
  assert.equal(pdfText(Buffer.from(`hello ${CARD}`), LIMITS), undefined);
});

test('size: a 20 MB PDF of images and 10 MB of page text read whole (figures printed)', () => {
  const random = rng(7);
  const img = Buffer.alloc(2 * 2 ** 20);
  for (let i = 0; i < img.length; i++) img[i] = Math.floor(random() * 256);
  const images: Obj[] = Array.from({ length: 10 }, () => ({ dict: '/Type /XObject /Subtype /Image /Width 1000 /Height 1000 /BitsPerComponent 8 /ColorSpace /DeviceRGB /Filter /DCTDecode', data: img }));
  const imagePdf = pagesPdf([flate('BT /F1 12 Tf 72 700 Td (scan) Tj ET')], HELVETICA, images);
  let t0 = performance.now();
  assert.equal(textOf(imagePdf).trim(), 'scan');
  const imgMs = performance.now() - t0;

  const line = (i: number): string => `(Line ${i}: card ${CARD} and some words of text) Tj T*`;
  const pages: Obj[] = [];
  for (let p = 0; p < 200; p++) pages.push(flate(`BT /F1 10 Tf 12 TL 72 750 Td ${Array.from({ length: 60 }, (_, i) => line(p * 60 + i)).join('\n')} ET`));
  const textPdf = pagesPdf(pages);
  // pad with an uncompressed stream to 10 MB (no page draws it; it holds no text operators)
  const pad = 10 * 2 ** 20 - textPdf.length;
  const padded = pagesPdf(pages, HELVETICA, [{ dict: '/Type /XObject /Subtype /Image /Width 1 /Height 1', data: Buffer.alloc(Math.max(0, pad), 0x41) }]);
  t0 = performance.now();
  const r = pdfText(padded, { ...LIMITS, maxChars: 10_000_000 })!;
  const textMs = performance.now() - t0;
  assert.equal(r.truncated, undefined, r.truncated);
  assert.ok(r.text.includes(`Line 11999: card ${CARD}`));
  process.stdout.write(`# images: ${(imagePdf.length / 2 ** 20).toFixed(1)} MiB in ${imgMs.toFixed(0)} ms; text: ${(padded.length / 2 ** 20).toFixed(1)} MiB, ${r.text.length} chars in ${textMs.toFixed(0)} ms\n`);
});

// ---- real PDFs made with Ghostscript ---------------------------------------------------------------

test('PDFs made by Ghostscript (ps2pdf): the card numbers are found', () => {
  const dir = 'test/fixtures/documents';
  const files = readdirSync(dir).filter((f) => f.endsWith('.pdf') && existsSync(`${dir}/${f.replace(/\.pdf$/, '.ps')}`));
  assert.ok(files.length >= 2, 'fixtures present');
  for (const f of files) {
    const r = pdfText(readFileSync(`${dir}/${f}`), LIMITS)!;
    assert.equal(r.truncated, undefined, `${f}: ${r.truncated}`);
    const expected = readFileSync(`${dir}/${f.replace(/\.pdf$/, '.expected.txt')}`, 'utf8').split('\n').filter(Boolean);
    for (const line of expected) assert.ok(r.text.includes(line), `${f}: "${line}" in\n${r.text}`);
  }
});

test('encrypted PDFs open with the empty user password: RC4 40/128, AES-128, AES-256 (R5, R6), encrypted object streams', () => {
  const dir = 'test/fixtures/documents';
  const files = readdirSync(dir).filter((f) => /-(rc4|aes)[\w-]*\.pdf$/.test(f) && !f.includes('password'));
  assert.ok(files.length >= 6, `fixtures present: ${files.join(', ')}`);
  for (const f of files) {
    const r = pdfText(readFileSync(`${dir}/${f}`), LIMITS)!;
    assert.equal(r.encrypted, false, f);
    assert.equal(r.truncated, undefined, `${f}: ${r.truncated}`);
    const source = f.split('-')[0]!;
    const expected = readFileSync(`${dir}/${source}.expected.txt`, 'utf8').split('\n').filter(Boolean);
    for (const line of expected) assert.ok(r.text.includes(line), `${f}: "${line}" in\n${r.text}`);
  }
});

test('a PDF that needs a real password to open is reported as encrypted, with no text', () => {
  for (const f of ['invoice-password-aes256.pdf', 'invoice-password-rc4-128.pdf']) {
    const r = pdfText(readFileSync(`test/fixtures/documents/${f}`), LIMITS)!;
    assert.equal(r.encrypted, true, f);
    assert.match(r.truncated ?? '', /^encrypted PDF: a password is needed/, f);
    assert.equal(r.text, '');
  }
});

test('another security handler (certificate encryption) is reported as not readable', () => {
  const pdf = pagesPdf([flate('BT /F1 12 Tf 72 700 Td (sealed) Tj ET')], HELVETICA, ['<< /Filter /Adobe.PubSec /SubFilter /adbe.pkcs7.s5 /V 4 /R 4 >>'], {
    trailer: '/Encrypt 6 0 R /ID [<0102> <0102>]',
  });
  const r = pdfText(pdf, LIMITS)!;
  assert.equal(r.encrypted, true);
  assert.match(r.truncated ?? '', /Adobe\.PubSec/);
});
