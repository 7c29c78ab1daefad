// Office document text (OOXML and OpenDocument XML members): runs joined as a reader shows them,
// structure kept as lines and tabs, limits marked; and through the content pipeline, card numbers Word
// split into runs inside a .docx are counted by the outbound data-leak check (and are not without it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import AdmZip from 'adm-zip';
import { cardsInRuns, docx, wordDocumentXml, wordParagraph } from '../harness/office.js';
import { officeXmlText } from '../../src/content/documents/xml-text.js';
import { readDocumentTexts } from '../../src/content/documents/index.js';
import { createContentPipeline } from '../../src/content/pipeline.js';
import { configSchema } from '../../src/config/schema.js';
import type { ContentPart } from '../../src/content/types.js';
import { cardList } from '../fixtures/outbound/helpers.js';

const text = (xml: string, max = 1_000_000): string => officeXmlText(Buffer.from(xml), max).text;
const para = (...pieces: string[]): string => wordParagraph(pieces);
const docxXml = wordDocumentXml;

test('Word runs of one paragraph are joined; paragraphs are lines; indentation is not text', () => {
  const t = text(docxXml(`${para('4111 11', '11 1111 ', '1111')}\n    ${para('Second ', 'line')}`));
  assert.equal(t, '4111 1111 1111 1111\nSecond line\n');
});

test('a run holding only a space keeps it; tabs, breaks, entities, CDATA and comments read as a reader shows them', () => {
  assert.equal(text(docxXml(para('alpha', ' ', 'beta'))), 'alpha beta\n');
  const xml = docxXml(
    '<w:p><w:r><w:t>a&amp;b &lt;c&gt; &#x41;&#66;</w:t><w:tab/><w:t>x</w:t><w:br/><w:t>y</w:t><w:noBreakHyphen/><w:t>z</w:t></w:r></w:p>' +
      '<!-- <w:p><w:r><w:t>hidden comment</w:t></w:r></w:p> --><w:p><w:r><w:t><![CDATA[raw <text>]]></w:t></w:r></w:p>',
  );
  assert.equal(text(xml), 'a&b <c> AB\tx\ny-z\nraw <text>\n');
});

test('tracked deletions and field codes are read too (they are in the file the recipient gets)', () => {
  const xml = docxXml('<w:p><w:del><w:r><w:delText>deleted 123</w:delText></w:r></w:del><w:r><w:instrText> HYPERLINK "x" </w:instrText></w:r></w:p>');
  assert.match(text(xml), /deleted 123/);
  assert.match(text(xml), /HYPERLINK/);
});

test('Excel shared strings and cells, Word tables: cells are tab-separated, rows are lines', () => {
  const shared = '<sst xmlns="x"><si><t>Name</t></si><si><r><t>Card </t></r><r><t>number</t></r></si></sst>';
  assert.equal(text(shared), 'Name\nCard number\n');
  const sheet = '<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1"><v>4111111111111111</v></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>inline</t></is></c></row></sheetData></worksheet>';
  assert.equal(text(sheet), '0\t4111111111111111\t\ninline\t\n');
  const table = docxXml('<w:tbl><w:tr><w:tc><w:p><w:r><w:t>a</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>b</w:t></w:r></w:p></w:tc></w:tr></w:tbl>');
  assert.equal(text(table), 'a\n\tb\n\t\n');
});

test('OpenDocument: spans joined, <text:s text:c="N"/> is N spaces, attributes with ">" inside quotes do not end the tag', () => {
  const xml =
    '<office:document-content xmlns:text="t"><office:body><office:text>' +
    '<text:p text:style-name="P1">4111<text:s text:c="2"/>1111 <text:span text:style-name="a>b">1111</text:span> 1111</text:p>' +
    '<text:h>Heading</text:h></office:text></office:body></office:document-content>';
  assert.equal(text(xml), '4111  1111 1111 1111\nHeading\n');
});

test('UTF-16 XML (with BOM) is read; a cut at maxChars is marked', () => {
  const xml = docxXml(para('caf\u00e9 ', 'na\u00efve'));
  const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(xml, 'utf16le')]);
  assert.equal(officeXmlText(utf16, 1000).text, 'caf\u00e9 na\u00efve\n');
  const long = docxXml(Array.from({ length: 100 }, (_, i) => para(`paragraph ${i}`)).join(''));
  const cut = officeXmlText(Buffer.from(long), 50);
  assert.equal(cut.text.length, 50);
  assert.match(cut.truncated ?? '', /cut at 50 characters/);
  assert.equal(officeXmlText(Buffer.from(long), 1_000_000).truncated, undefined, 'nothing cut: no mark');
});

test('hostile XML never throws: unclosed tags, deep nesting, lone "<", quotes that never close', () => {
  const inputs = [
    '<'.repeat(100_000),
    '<a>'.repeat(50_000) + 'deep text' + '</a>'.repeat(50_000),
    `<w:t attr="never closed>${'x'.repeat(100_000)}`,
    '<w:t>open text without end',
    '<!-- comment without end',
    '<![CDATA[cdata without end',
    '\u0000\uffff<\u0000>',
  ];
  for (const input of inputs) {
    const r = officeXmlText(Buffer.from(input), 1_000_000);
    assert.equal(typeof r.text, 'string');
  }
  assert.match(text('<a>'.repeat(50_000) + 'deep text' + '</a>'.repeat(50_000)), /deep text/);
  assert.equal(text('<w:t>open text without end'), 'open text without end');
});

// --- through the archive stage and the pipeline ---

/** Twelve card numbers as printed (4-4-4-4), each split by Word into runs at different places. */
const printed = cardList(12).map((c) => c.match(/.{4}/g)!.join(' '));
const docxWithCards = (): Buffer => docx(cardsInRuns(cardList(12)));

function mailWith(attachment: Buffer, name: string): Buffer {
  const b64 = attachment.toString('base64').replace(/.{76}/g, '$&\r\n');
  return Buffer.from(
    'From: alice@example.com\r\nTo: bob@example.org\r\nSubject: report\r\nDate: Thu, 03 Dec 2026 10:00:00 +0000\r\nMessage-ID: <d1@example.com>\r\n' +
      'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n' +
      `--b1\r\nContent-Type: application/vnd.openxmlformats-officedocument.wordprocessingml.document; name="${name}"\r\n` +
      `Content-Disposition: attachment; filename="${name}"\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64}\r\n--b1--\r\n`,
  );
}

const input = { direction: 'outbound' as const, sender: 'alice@example.com', recipients: ['bob@example.org'], smtputf8: false };

test('every XML member of a zip gets document text: office zip or plain zip, whatever the member is named', () => {
  const file = docxWithCards();
  const zipPart: ContentPart = { path: '2', origin: 'mime', contentType: 'application/octet-stream', names: ['r.docx'], content: file, isAttachment: true, depth: 1, trueType: 'ooxml' };
  const membersUnder = (parent: string): ContentPart[] => new AdmZip(file).getEntries().map((e) => ({
    path: `${parent}/archive:${e.entryName}`, origin: 'archive', contentType: 'application/octet-stream', names: [e.entryName], content: e.getData(), isAttachment: true, depth: 2,
  }));
  const members = membersUnder('2');
  const parts = [zipPart, ...members];
  readDocumentTexts(parts, { maxChars: 1_000_000, pdfMaxInflatedBytes: 1 << 20, pdfMaxStreams: 10, encryptedPdf: 'ignore' });
  const doc = parts.find((p) => p.path === '2/archive:word/document.xml')!;
  for (const c of printed) assert.ok(doc.documentText?.includes(`${c}\n`), `card ${c} is one readable run`);
  assert.equal(parts.find((p) => p.path === '2/archive:_rels/.rels')!.documentText, '', 'XML whatever its name: read (no shown text)');
  assert.equal(zipPart.documentText, undefined, 'the zip itself is not text');
  // the same member in a plain zip (no [Content_Types].xml beside it) is read too
  const plain = membersUnder('3').filter((m) => !m.names.includes('[Content_Types].xml'));
  readDocumentTexts([{ ...zipPart, path: '3', trueType: 'zip' }, ...plain], { maxChars: 1_000_000, pdfMaxInflatedBytes: 1 << 20, pdfMaxStreams: 10, encryptedPdf: 'ignore' });
  assert.ok(plain.find((p) => p.path === '3/archive:word/document.xml')!.documentText?.includes(printed[0]!));
});

test('pipeline: cards split into Word runs inside a .docx are counted outbound; without document text they are not', async () => {
  const raw = mailWith(docxWithCards(), 'cards.docx');
  const on = createContentPipeline(configSchema.parse({ content: { clamd: { enabled: false } } }));
  const report = await on.analyze(raw, input);
  const card = report.hits.find((h) => h.rule === 'dataleak.card');
  assert.ok(card, `dataleak.card expected, got ${report.hits.map((h) => h.rule).join(', ')}`);
  assert.match(card.detail ?? '', /12/);
  assert.ok('documents' in report.timings);

  const off = createContentPipeline(configSchema.parse({ content: { clamd: { enabled: false } }, outbound: { dataLeak: { documents: { enabled: false } } } }));
  const without = await off.analyze(raw, input);
  assert.equal(without.hits.find((h) => h.rule === 'dataleak.card'), undefined, 'the raw XML alone does not show the split numbers');

  const inbound = await on.analyze(raw, { ...input, direction: 'inbound' });
  assert.ok(!('documents' in inbound.timings), 'inbound mail (no data-leak scan) does not pay for document text');
});

test('pipeline: document text over the per-message limit is an incomplete scan, never a silent pass', async () => {
  const raw = mailWith(docxWithCards(), 'cards.docx');
  const small = createContentPipeline(configSchema.parse({ content: { clamd: { enabled: false } }, outbound: { dataLeak: { documents: { maxChars: 100 } } } }));
  const report = await small.analyze(raw, input);
  const incomplete = report.hits.find((h) => h.rule === 'dataleak.incomplete');
  assert.ok(incomplete, `dataleak.incomplete expected, got ${report.hits.map((h) => h.rule).join(', ')}`);
  assert.match(incomplete.detail ?? '', /document\.xml/);
  assert.equal(incomplete.action, 'quarantine');
});
