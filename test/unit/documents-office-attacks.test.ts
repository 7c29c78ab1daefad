// Office documents built to hide card numbers from the data-leak check while a reader (LibreOffice,
// Word) still shows them: symbol characters, a main part not named .xml, markup that sends a naive
// tag scanner astray, UTF-16 without a byte order mark, spreadsheet values in scientific notation,
// formulas without a cached value, prefix number formats, OpenDocument values in attributes, zips
// without their usual marker members, flat XML, HTML members, RTF. Each must read as the cards (or be
// marked incomplete); hostile input stays linear and never throws.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mailWithAttachment, odfContentXml, wordDocumentXml, xlsxOf, zipOf } from '../harness/office.js';
import { officeXmlText, sniffMarkup } from '../../src/content/documents/xml-text.js';
import { applyLiteralFormat, evaluateConcatenation, expandScientific, literalFormat } from '../../src/content/documents/cell-values.js';
import { looksLikeRtf, rtfText } from '../../src/content/documents/rtf-text.js';
import { literalFormatsOf } from '../../src/content/documents/xlsx-styles.js';
import { readDocumentTexts } from '../../src/content/documents/index.js';
import { createContentPipeline } from '../../src/content/pipeline.js';
import { configSchema } from '../../src/config/schema.js';
import type { ContentPart } from '../../src/content/types.js';
import { luhnCheckDigit } from '../../src/policy/outbound/dataleak/validators.js';
import { cardList } from '../fixtures/outbound/helpers.js';

const cards = cardList(12);
const amex = Array.from({ length: 12 }, (_, i) => {
  const partial = `37${String(1234567 + i * 7331).padStart(12, '0')}`;
  return partial + luhnCheckDigit(partial);
});
const text = (xml: string | Buffer, max = 1_000_000): string => officeXmlText(Buffer.isBuffer(xml) ? xml : Buffer.from(xml), max).text;
const squeeze = (s: string): string => s.replace(/\s/g, '');
const split = (c: string): string => `<w:r><w:t>${c.slice(0, 7)}</w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>${c.slice(7)}</w:t></w:r>`;
const cardParagraphs = cards.map((c) => `<w:p>${split(c)}</w:p>`).join('');
const LIMITS = { maxChars: 1_000_000, pdfMaxInflatedBytes: 1 << 20, pdfMaxStreams: 10, encryptedPdf: 'ignore' as const };

function timed<T>(f: () => T): { value: T; ms: number } {
  const t0 = performance.now();
  const value = f();
  return { value, ms: performance.now() - t0 };
}

// --- 1. w:sym

test('Word symbol characters (<w:sym w:char>) read as their characters, symbol-font F0xx codes too', () => {
  const digits = (c: string, base: number): string =>
    c.split('').map((d) => `<w:sym w:font="Symbol" w:char="${(base + Number(d)).toString(16).toUpperCase().padStart(4, '0')}"/>`).join('');
  assert.equal(text(wordDocumentXml(`<w:p><w:r>${digits(cards[0]!, 0x30)}</w:r></w:p>`)), `${cards[0]}\n`);
  assert.equal(text(wordDocumentXml(`<w:p><w:r>${digits(cards[1]!, 0xf030)}</w:r></w:p>`)), `${cards[1]}\n`);
  assert.equal(text('<w:p><w:sym w:char="zz"/><w:sym w:char="0000"/><w:sym/></w:p>'), '\n', 'bad codes show nothing');
});

// --- 3. leading white space, 5. encodings

test('white space of any length before the root element, in UTF-8 or UTF-16, still reads as XML', () => {
  const xml = ' '.repeat(100_000) + '\n' + wordDocumentXml(cardParagraphs);
  assert.ok(sniffMarkup(Buffer.from(xml)) !== undefined);
  assert.ok(squeeze(text(xml)).includes(cards.join('')));
  assert.ok(sniffMarkup(Buffer.from(xml, 'utf16le')) !== undefined);
  assert.ok(squeeze(text(Buffer.from(xml, 'utf16le'))).includes(cards.join('')));
  assert.equal(sniffMarkup(Buffer.from(' '.repeat(5000) + 'plain text')), undefined);
  assert.equal(sniffMarkup(Buffer.from('<3 plain text')), undefined);
});

test('UTF-16 LE and BE without a byte order mark (told by the NUL bytes), with one, and a UTF-8 BOM', () => {
  const xml = wordDocumentXml(cardParagraphs).replace('encoding="UTF-8"', 'encoding="UTF-16"');
  const le = Buffer.from(xml, 'utf16le');
  const be = Buffer.from(le).swap16();
  const variants = {
    le,
    be,
    leBom: Buffer.concat([Buffer.from([0xff, 0xfe]), le]),
    beBom: Buffer.concat([Buffer.from([0xfe, 0xff]), be]),
    utf8Bom: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(wordDocumentXml(cardParagraphs))]),
    leNoDecl: Buffer.from(`<w:document>${cardParagraphs}</w:document>`, 'utf16le'),
  };
  for (const [name, bytes] of Object.entries(variants)) {
    assert.ok(sniffMarkup(bytes) !== undefined, name);
    assert.ok(squeeze(text(bytes)).includes(cards.join('')), name);
  }
  // latin1 declared: read as latin1
  assert.equal(text(Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?><p>caf\xe9</p>', 'latin1')), 'caf\u00e9\n');
});

// --- 4. processing instructions, comments, CDATA, declarations

test('processing instructions end at ?>, comments at -->, CDATA at ]]>, declarations at their own > (quotes in them do not matter)', () => {
  const body = cards.map((c) => `<w:p>${split(c)}</w:p>`).join('');
  const cases = [
    `<?postern-test don't stop ?>${body}`,
    `<!-- it's a "comment" > -->${body}`,
    `<!DOCTYPE w:document [ <!-- don't --> <!ENTITY x "a>b"> <?pi it's?> ]>${body}`,
    `<![CDATA[ it's <not> a tag ]]>${body}`,
  ];
  for (const c of cases) {
    const r = officeXmlText(Buffer.from(wordDocumentXml(c)), 1_000_000);
    assert.ok(squeeze(r.text).includes(cards.join('')), c.slice(0, 30));
    assert.equal(r.truncated, undefined, c.slice(0, 30));
  }
});

test('after an unfinished construct the rest is still read (so the file is not marked incomplete)', () => {
  const body = cards.map((c) => `<w:p>${split(c)}</w:p>`).join('');
  const cases = ['<?pi never ends ', '<!-- never ends ', '<![CDATA[ never ends ', '<!DOCTYPE x [ "never ', '<w:r attr="never closed>'];
  for (const c of cases) {
    const r = officeXmlText(Buffer.from(wordDocumentXml(c + body)), 1_000_000);
    assert.equal(r.truncated, undefined, c);
    assert.ok(squeeze(r.text).includes(cards.join('')), c);
  }
});

test('hostile markup stays linear: thousands of unfinished openers, quotes and brackets', () => {
  const n = 400_000;
  const inputs = [
    '<?'.repeat(n), '<!--'.repeat(n), '<![CDATA['.repeat(n), '<!DOCTYPE ['.repeat(n), "<a '".repeat(n), '<a "x>'.repeat(n),
    '<'.repeat(n * 2), '<a b="'.repeat(n) + '>', '<!x "'.repeat(n) + '>', '<w:sym w:char="'.repeat(n), `<c s="1"><v>${'1'.repeat(n)}e+5</v>`,
    `<f>${'"a"&'.repeat(n)}"b"</f>`, `<f>${'CONCATENATE('.repeat(n)}</f>`, `<x office:value="${'&#52;'.repeat(n)}"/>`,
  ];
  for (const input of inputs) {
    const { value, ms } = timed(() => officeXmlText(Buffer.from(input), 1_000_000));
    assert.equal(typeof value.text, 'string');
    process.stdout.write(`# ${JSON.stringify(input.slice(0, 16))}... ${input.length} chars: ${ms.toFixed(0)} ms\n`); // figures only: linearity is what the test timeout guards
  }
});

// --- 6. spreadsheets

test('scientific notation of integers is expanded; formulas of literals are evaluated; literal formats applied', () => {
  assert.equal(expandScientific('3.70000012345676e+14'), '370000012345676');
  assert.equal(expandScientific('4.1111111111111E+15'), undefined, '16 digits: more than a spreadsheet number holds exactly');
  assert.equal(expandScientific('4.32059443718483E+15'), undefined, 'a measured value Excel shows as 4.32059E+15');
  assert.equal(expandScientific('1E3'), '1000');
  assert.equal(expandScientific('-2.5e1'), '-25');
  assert.equal(expandScientific('1.25e1'), undefined, 'not an integer');
  assert.equal(expandScientific('1e999'), undefined, 'exponent bounded');
  assert.equal(expandScientific('12345'), undefined);
  assert.equal(evaluateConcatenation('"40000000"&"12345676"'), '4000000012345676');
  assert.equal(evaluateConcatenation('=CONCATENATE("4000", 1234, "5678")&"9"'), '4000123456789');
  assert.equal(evaluateConcatenation('of:=CONCATENATE("a";"b")&("c"&"d")'), 'abcd');
  assert.equal(evaluateConcatenation('_xlfn.CONCAT("say ""hi""","!")'), 'say "hi"!');
  assert.equal(evaluateConcatenation('"4000"&A1'), undefined, 'a reference: not evaluated');
  assert.equal(evaluateConcatenation('SUM(1,2)'), undefined);
  assert.equal(evaluateConcatenation('"plain"'), undefined, 'nothing joined');
  assert.equal(evaluateConcatenation('"a"&'), undefined);
  assert.deepEqual(literalFormat('"40000000"00000000'), { prefix: '40000000', suffix: '', minDigits: 8 });
  assert.deepEqual(literalFormat('\\4\\1000'), { prefix: '41', suffix: '', minDigits: 3 });
  assert.deepEqual(literalFormat('00000000"12345676"'), { prefix: '', suffix: '12345676', minDigits: 8 });
  assert.deepEqual(literalFormat('[Blue]"4000"#0000\\1'), { prefix: '4000', suffix: '1', minDigits: 4 });
  assert.equal(literalFormat('0000'), undefined, 'no literal text');
  assert.equal(literalFormat('"a"00"b"00'), undefined, 'two digit runs');
  assert.equal(literalFormat('0.00'), undefined);
  assert.equal(literalFormat('"x"0.00'), undefined);
  assert.equal(applyLiteralFormat('12345676', { prefix: '40000000', suffix: '', minDigits: 8 }), '4000000012345676');
  assert.equal(applyLiteralFormat('40000000', { prefix: '', suffix: '12345676', minDigits: 8 }), '4000000012345676');
  assert.equal(applyLiteralFormat('1.5', { prefix: '4', suffix: '', minDigits: 1 }), undefined);

  const sheet = (cells: string): string => `<worksheet><sheetData><row r="1">${cells}</row></sheetData></worksheet>`;
  assert.match(text(sheet(`<c r="A1"><v>${Number(amex[0]).toExponential()}</v></c>`)), new RegExp(amex[0]!));
  assert.match(text(sheet(`<c r="A1" t="str"><f>"${cards[0]!.slice(0, 8)}"&amp;"${cards[0]!.slice(8)}"</f></c>`)), new RegExp(cards[0]!));
  const formats = new Map([[1, { prefix: cards[0]!.slice(0, 8), suffix: '', minDigits: 8 }]]);
  const formatted = officeXmlText(Buffer.from(sheet(`<c r="A1" s="1"><v>${Number(cards[0]!.slice(8))}</v></c><c r="B1"><v>5</v></c>`)), 1000, { cellFormats: formats });
  assert.match(formatted.text, new RegExp(cards[0]!));
  assert.ok(!formatted.text.includes(`${cards[0]!.slice(0, 8)}00000005`), 'only cells of that style');
});

// --- 7. OpenDocument attribute values

test('OpenDocument cell values and formulas in attributes are read (entity-encoded too), beside the shown text', () => {
  const enc = (c: string): string => c.split('').map((d) => `&#${d.charCodeAt(0)};`).join('');
  const xml = odfContentXml(
    '<office:spreadsheet><table:table>' +
      `<table:table-row><table:table-cell office:value-type="float" office:value="${enc(amex[0]!)}"><text:p>x</text:p></table:table-cell></table:table-row>` +
      `<table:table-row><table:table-cell table:formula="of:=&quot;${amex[1]!.slice(0, 6)}&quot;&amp;&quot;${amex[1]!.slice(6)}&quot;"><text:p>y</text:p></table:table-cell></table:table-row>` +
      `<table:table-row><table:table-cell office:value-type="string" office:string-value="${amex[2]}"/></table:table-row>` +
      '</table:table></office:spreadsheet>',
  );
  const t = text(xml);
  for (const c of amex.slice(0, 3)) assert.ok(t.includes(c), c);
});

// --- 10. RTF

test('RTF: groups joined, skipped destinations, \\\'hh in the code page, \\uN with \\ucN, breaks', () => {
  assert.ok(looksLikeRtf(Buffer.from('{\\rtf1 x}')));
  assert.ok(!looksLikeRtf(Buffer.from('{\\rt x}')));
  const body = cards.map((c) => `{${c.slice(0, 6)}}{\\b0 ${c.slice(6, 11)}}{${c.slice(11)}}\\par `).join('');
  const rtf = `{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0 Arial 4111111111111111;}}{\\colortbl;\\red255;}{\\*\\generator hidden 1234;}{\\info{\\title T 5555}}\\f0 ${body}}`;
  const t = rtfText(Buffer.from(rtf), 1_000_000);
  assert.equal(t.text, cards.map((c) => `${c}\n`).join(''));
  assert.equal(t.truncated, undefined);
  const special = rtfText(Buffer.from("{\\rtf1\\ansi\\ansicpg1251 \\'cf\\'f0\\'e8 caf\\u233?e\\tab a\\cell b\\line {\\uc2\\u8364 XYc}\\~\\{x\\}\\\\ {\\pict 0123456789abcdef}{\\*\\unknown 9999}end}"), 1000);
  assert.equal(special.text, 'При caf\u00e9e\ta\tb\n\u20acc\u00a0{x}\\ end');
  assert.match(rtfText(Buffer.from('{\\rtf1\\ansi {\\object{\\*\\objdata 4111}}\\bin5 {{{{{after}'), 100).text, /after$/);
});

test('RTF hostile input: deep groups, a huge \\binN, control words without end, random bytes: never throws, linear, bounded', () => {
  const inputs = [
    '{\\rtf1 ' + '{'.repeat(500_000) + 'deep 4111' + '}'.repeat(500_000) + '}',
    '{\\rtf1 \\bin999999999999 secret}',
    '{\\rtf1 \\bin-5 shown}',
    '{\\rtf1 ' + '\\'.repeat(1_000_000),
    '{\\rtf1 ' + "\\'".repeat(500_000),
    '{\\rtf1 ' + 'a'.repeat(1_000_000) + '\\u' + '9'.repeat(100),
    '{\\rtf1 ' + '{\\*'.repeat(300_000) + 'x',
    '{\\rtf1 ' + '\\uc99999999 \\u65 ABC'.repeat(100_000),
  ];
  for (const input of inputs) {
    const { value, ms } = timed(() => rtfText(Buffer.from(input, 'latin1'), 100_000));
    assert.equal(typeof value.text, 'string');
    assert.ok(value.text.length <= 100_000);
    process.stdout.write(`# ${JSON.stringify(input.slice(0, 16))}... ${input.length} chars: ${ms.toFixed(0)} ms\n`); // figures only: linearity is what the test timeout guards
  }
  assert.match(rtfText(Buffer.from(inputs[0]!), 1000).text, /deep 4111/);
  assert.match(rtfText(Buffer.from(inputs[1]!), 1000).truncated ?? '', /bin/);
  const cut = rtfText(Buffer.from('{\\rtf1 ' + 'x'.repeat(100) + '}'), 10);
  assert.equal(cut.text.length, 10);
  assert.match(cut.truncated ?? '', /cut at 10/);
  let seed = 7;
  const random = Buffer.alloc(200_000, 0).map(() => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) >> 16) & 0xff);
  for (const prefix of ['{\\rtf1 ', '']) assert.equal(typeof rtfText(Buffer.concat([Buffer.from(prefix), random]), 1_000_000).text, 'string');
});

// --- 2, 8, 9: which parts are read (readDocumentTexts)

const member = (parent: string, name: string, content: Buffer | string): ContentPart => ({
  path: `${parent}/archive:${name}`, origin: 'archive', contentType: 'application/octet-stream', names: [name],
  content: Buffer.isBuffer(content) ? content : Buffer.from(content), isAttachment: true, depth: 2,
});
const mimePart = (path: string, contentType: string, name: string | undefined, content: string, extra: Partial<ContentPart> = {}): ContentPart => ({
  path, origin: 'mime', contentType, names: name ? [name] : [], content: Buffer.from(content), isAttachment: true, depth: 1, ...extra,
});

test('readDocumentTexts: XML members of any name in any zip, HTML members through the HTML converter, XML and RTF MIME parts', () => {
  const html = '<html><body>' + cards.map((c) => '<p>' + c.split('').map((d) => `&#${d.charCodeAt(0)};`).join('') + '</p>').join('') + '</body></html>';
  const parts: ContentPart[] = [
    member('2', 'word/document.bin', wordDocumentXml(cardParagraphs)),
    member('2', 'word/afchunk.htm', html),
    member('3', 'notes', `<?xml version="1.0"?>${odfContentXml(`<office:text><text:p>${cards[0]}</text:p></office:text>`)}`),
    member('3', 'page.dat', `<!DOCTYPE html><p>${cards[1]}</p>`),
    member('3', 'binary.bin', Buffer.from([0x3c, 0x00, 0xff, 0xfe, 0x00])),
    mimePart('4', 'application/vnd.oasis.opendocument.text-flat-xml', 'r.fodt', odfContentXml(`<office:text><text:p>${cards[2]}</text:p></office:text>`)),
    mimePart('5', 'application/octet-stream', 'data', `<?xml version="1.0"?><r>${cards[3]}</r>`),
    mimePart('6', 'text/plain', undefined, `<b>not xml</b> ${cards[4]}`, { text: `<b>not xml</b> ${cards[4]}` }),
    mimePart('7', 'text/html', undefined, `<html><p>${cards[5]}</p></html>`, { text: cards[5] }),
    mimePart('8', 'application/rtf', 'r.rtf', `{\\rtf1 {${cards[6]!.slice(0, 8)}}{\\b ${cards[6]!.slice(8)}}}`),
  ];
  readDocumentTexts(parts, LIMITS);
  const doc = (path: string): string | undefined => parts.find((p) => p.path === path)!.documentText;
  assert.ok(squeeze(doc('2/archive:word/document.bin') ?? '').includes(cards.join('')), 'main part of any name');
  assert.ok(squeeze(doc('2/archive:word/afchunk.htm') ?? '').includes(cards.join('')), 'HTML member, character references decoded');
  assert.match(doc('3/archive:notes') ?? '', new RegExp(cards[0]!), 'XML in a plain zip');
  assert.match(doc('3/archive:page.dat') ?? '', new RegExp(cards[1]!), 'HTML by content');
  assert.equal(doc('3/archive:binary.bin'), undefined);
  assert.match(doc('4') ?? '', new RegExp(cards[2]!), 'flat OpenDocument');
  assert.match(doc('5') ?? '', new RegExp(cards[3]!), 'XML by its declaration');
  assert.equal(doc('6'), undefined, 'plain text is not XML');
  assert.equal(doc('7'), undefined, 'HTML body parts have their text already');
  assert.match(doc('8') ?? '', new RegExp(cards[6]!), 'RTF');
});

test('readDocumentTexts: xl/styles.xml prefix formats apply to the cells of that workbook only', () => {
  const styles = {
    numFmts: `<numFmts count="1"><numFmt numFmtId="164" formatCode="&quot;${cards[0]!.slice(0, 8)}&quot;00000000"/></numFmts>`,
    xf1: '<xf numFmtId="164" applyNumberFormat="1"/>',
  };
  const sheetXml = `<worksheet><sheetData><row r="1"><c r="A1" s="1"><v>${Number(cards[0]!.slice(8))}</v></c></row></sheetData></worksheet>`;
  const parts = [
    member('2', 'xl/styles.xml', `<styleSheet>${styles.numFmts}<cellXfs count="2"><xf numFmtId="0"/>${styles.xf1}</cellXfs></styleSheet>`),
    member('2', 'xl/worksheets/sheet1.xml', sheetXml),
    member('3', 'xl/worksheets/sheet1.xml', sheetXml),
  ];
  readDocumentTexts(parts, LIMITS);
  assert.match(parts[1]!.documentText ?? '', new RegExp(cards[0]!));
  assert.ok(!(parts[2]!.documentText ?? '').includes(cards[0]!), 'another archive: not its styles');
});

test('readDocumentTexts: the per-message character limit is shared by all the new readers, and marked', () => {
  const big = wordDocumentXml(Array.from({ length: 2000 }, (_, i) => `<w:p><w:r><w:t>paragraph ${i}</w:t></w:r></w:p>`).join(''));
  const parts = [
    member('2', 'a.xml', big),
    member('2', 'b.htm', `<html>${'<p>text</p>'.repeat(5000)}</html>`),
    mimePart('3', 'application/rtf', 'r.rtf', `{\\rtf1 ${'word '.repeat(5000)}}`),
  ];
  readDocumentTexts(parts, { ...LIMITS, maxChars: 10_000 });
  assert.ok(parts.reduce((n, p) => n + (p.documentText?.length ?? 0), 0) <= 10_000);
  assert.ok(parts.every((p) => p.documentTextTruncated), parts.map((p) => p.documentTextTruncated).join(' | '));
});

// --- through the pipeline: every bypass gives dataleak.card

const input = { direction: 'outbound' as const, sender: 'alice@example.com', recipients: ['bob@example.org'], smtputf8: false };

test('pipeline: each hiding place of the attack gives dataleak.card for 12 cards', async () => {
  const W = 'http://schemas.openxmlformats.org/wordprocessingml/2006/main';
  const docXml = (body: string, pre = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'): string => `${pre}<w:document xmlns:w="${W}"><w:body>${body}</w:body></w:document>`;
  const ct = (main: string): string =>
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/>' +
    `<Override PartName="/${main}" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`;
  const docxWith = (files: Record<string, string | Buffer>): Buffer => zipOf({ '[Content_Types].xml': ct(Object.keys(files)[0]!), ...files });
  const html = '<html><body>' + cards.map((c) => '<p>' + c.split('').map((d) => `&#${d.charCodeAt(0)};`).join('') + '</p>').join('') + '</body></html>';
  const odt = (files: Record<string, string>): Buffer => zipOf(files);
  const content = odfContentXml(`<office:text>${cards.map((c) => `<text:p>${c.slice(0, 6)}<text:span>${c.slice(6, 11)}</text:span>${c.slice(11)}</text:p>`).join('')}</office:text>`);
  const samples: Record<string, [string, Buffer, string?]> = {
    wSym: ['a.docx', docxWith({ 'word/document.xml': docXml(cards.map((c) => `<w:p><w:r>${c.split('').map((d) => `<w:sym w:char="F03${d}"/>`).join('')}</w:r></w:p>`).join('')) })],
    mainPartNotXml: ['a.docx', docxWith({ 'word/document.bin': docXml(cardParagraphs) })],
    piApostrophe: ['a.docx', docxWith({ 'word/document.xml': docXml(`<?x don't ?>${cardParagraphs}`) })],
    leadingWhitespace: ['a.docx', docxWith({ 'word/document.xml': docXml(cardParagraphs, ' '.repeat(1100) + '\n') })],
    utf16beNoBom: ['a.docx', docxWith({ 'word/document.xml': Buffer.from(docXml(cardParagraphs), 'utf16le').swap16() })],
    altChunkHtml: ['a.docx', docxWith({ 'word/document.xml': docXml('<w:altChunk/><w:p/>'), 'word/afchunk.htm': html })],
    xlsxSciAmex: ['a.xlsx', xlsxOf(amex.map((c) => `<c r="A1" s="1"><v>${Number(c).toExponential()}</v></c>`))],
    xlsxFormulaNoCache: ['a.xlsx', xlsxOf(cards.map((c) => `<c r="A1" t="str"><f>"${c.slice(0, 8)}"&amp;"${c.slice(8)}"</f></c>`))],
    xlsxNumFmtPrefix: ['a.xlsx', xlsxOf(cards.map((c) => `<c r="A1" s="1"><v>${Number(c.slice(8))}</v></c>`), {
      numFmts: `<numFmts count="1"><numFmt numFmtId="164" formatCode="&quot;${cards[0]!.slice(0, 8)}&quot;00000000"/></numFmts>`, xf1: '<xf numFmtId="164" applyNumberFormat="1"/>',
    })],
    odtNoMimetype: ['a.odt', odt({ 'content.xml': content })],
    flatOdt: ['a.fodt', Buffer.from(content), 'application/vnd.oasis.opendocument.text-flat-xml'],
    rtf: ['a.rtf', Buffer.from('{\\rtf1\\ansi{\\fonttbl{\\f0 Arial;}}' + cards.map((c) => `{${c.slice(0, 6)}}{\\b0 ${c.slice(6, 11)}}{${c.slice(11)}}\\par `).join('') + '}'), 'application/rtf'],
  };
  // (xlsxNumFmtPrefix: the twelve cards share their first 8 digits, the format's prefix)
  assert.ok(cards.every((c) => c.startsWith(cards[0]!.slice(0, 8))));
  const pipeline = createContentPipeline(configSchema.parse({ content: { clamd: { enabled: false } } }));
  for (const [name, [file, data, type]] of Object.entries(samples)) {
    const report = await pipeline.analyze(mailWithAttachment(data, file, type), input);
    const rules = report.hits.map((h) => `${h.rule} ${h.detail ?? ''}`);
    assert.ok(report.hits.some((h) => h.rule === 'dataleak.card' && /\b12\b/.test(h.detail ?? '')), `${name}: ${rules.join(' | ')}`);
  }
});

// --- second attack trial

test('RTF: a text box (\\*\\shpinst ... \\shptxt) is read; its shape properties are not', () => {
  const boxes = cards.map((c) => `{\\shp{\\*\\shpinst{\\sp{\\sn shapeType}{\\sv 202}}{\\shptxt ${c.slice(0, 6)}{\\b ${c.slice(6)}}\\par}}}`).join('');
  const t = rtfText(Buffer.from(`{\\rtf1\\ansi ${boxes}}`), 1_000_000);
  for (const c of cards) assert.ok(t.text.includes(c), c);
  assert.ok(!t.text.includes('shapeType') && !t.text.includes('202'), t.text.slice(0, 80));
  assert.ok(!rtfText(Buffer.from('{\\rtf1 {\\*\\unknowndest 4111111111111111}shown}'), 1000).text.includes('4111'), 'other optional destinations stay unread');
});

test('xlsx styles: literal suffix formats apply; a styles part of unclosed numFmt/xf tags is read in one linear pass', () => {
  const formats = literalFormatsOf(Buffer.from('<styleSheet><numFmts><numFmt numFmtId="170" formatCode="00000000&quot;12345676&quot;"/></numFmts><cellXfs><xf numFmtId="0"/><xf numFmtId="170"/></cellXfs></styleSheet>'));
  assert.deepEqual(formats.get(1), { prefix: '', suffix: '12345676', minDigits: 8 });
  // 200,000 tags without `>`: a quadratic scan would take many minutes (the test timeout), a linear one milliseconds
  assert.equal(literalFormatsOf(Buffer.from(`<styleSheet>${'<numFmt '.repeat(200_000)}`)).size, 0);
  assert.equal(literalFormatsOf(Buffer.from(`<styleSheet><numFmt numFmtId="1" formatCode="&quot;4&quot;0"/><cellXfs>${'<xf '.repeat(200_000)}`)).size, 0);
});

test('spreadsheet values of 16+ digits in scientific notation (measurements Excel shows as 4.32059E+15) are not expanded into card-like numbers', async () => {
  const values = Array.from({ length: 150 }, (_, i) => (4.32059443718483e15 + i * 7.919e11).toExponential(14).toUpperCase());
  const raw = mailWithAttachment(xlsxOf(values.map((v) => `<c r="A1"><v>${v}</v></c>`)), 'measure.xlsx');
  const report = await createContentPipeline(configSchema.parse({ content: { clamd: { enabled: false } } })).analyze(raw, input);
  assert.equal(report.hits.find((h) => h.rule.startsWith('dataleak.')), undefined, report.hits.map((h) => `${h.rule} ${h.detail}`).join('; '));
});

test('OpenDocument number styles with literal text: a cell shown only from office:value and its style reads as shown (flat .fods)', async () => {
  const styles = cards
    .map((c, i) => `<number:number-style style:name="N${i}"><number:text>${c.slice(0, 4)}</number:text><number:number number:decimal-places="0" number:min-integer-digits="4"/><number:text>${c.slice(8)}</number:text></number:number-style>` +
      `<style:style style:name="ce${i}" style:family="table-cell" style:data-style-name="N${i}"/>`)
    .join('');
  const rows = cards.map((c, i) => `<table:table-row><table:table-cell table:style-name="ce${i}" office:value-type="float" office:value="${Number(c.slice(4, 8))}"/></table:table-row>`).join('');
  const fods =
    '<?xml version="1.0" encoding="UTF-8"?><office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" ' +
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:number="urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0">' +
    `<office:automatic-styles>${styles}</office:automatic-styles><office:body><office:spreadsheet><table:table table:name="S">${rows}</table:table></office:spreadsheet></office:body></office:document>`;
  const raw = mailWithAttachment(Buffer.from(fods), 'sheet.fods', 'application/vnd.oasis.opendocument.spreadsheet');
  const report = await createContentPipeline(configSchema.parse({ content: { clamd: { enabled: false } } })).analyze(raw, input);
  const card = report.hits.find((h) => h.rule === 'dataleak.card');
  assert.ok(card, `dataleak.card expected, got ${report.hits.map((h) => `${h.rule} ${h.detail}`).join('; ')}`);
  assert.match(card.detail ?? '', /12/);
});
