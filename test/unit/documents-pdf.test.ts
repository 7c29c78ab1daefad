// PDFs in the document-text stage (src/content/documents/index.ts) and through the content pipeline:
// card numbers drawn on PDF pages are counted by the outbound data-leak check although the file holds
// them compressed; the PDF budgets are shared by every PDF of a message; a PDF locked only against
// printing or copying is read; one that needs a password is an incomplete scan (or, configured so,
// left unread).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readDocumentTexts, type DocumentTextLimits } from '../../src/content/documents/index.js';
import { createContentPipeline } from '../../src/content/pipeline.js';
import { configSchema } from '../../src/config/schema.js';
import type { ContentPart } from '../../src/content/types.js';
import { cardList } from '../fixtures/outbound/helpers.js';
import { FIXTURES } from '../harness/paths.js';
import { flate, HELVETICA, pagesPdf } from '../harness/pdf.js';

const LIMITS: DocumentTextLimits = { maxChars: 1_000_000, pdfMaxInflatedBytes: 1 << 24, pdfMaxStreams: 1000, encryptedPdf: 'ignore' };

/** A one-page PDF drawing each card as two strings (so the digits never sit together in the file). */
function pdfWithCards(cards: string[]): Buffer {
  const lines = cards.map((c) => `(${c.slice(0, 7)}) Tj (${c.slice(7)}) Tj T*`).join('\n');
  return pagesPdf([flate(`BT /F1 10 Tf 12 TL 72 760 Td\n${lines}\nET`)]);
}

/** Encrypted with a /U no empty password gives: needs a password to open. */
const encryptedPdf = (): Buffer =>
  pagesPdf([flate('BT /F1 12 Tf 72 700 Td (unreadable) Tj ET')], HELVETICA, ['<< /Filter /Standard /V 2 /R 3 /O <00> /U <00> /P -4 /Length 128 >>'], {
    trailer: '/Encrypt 6 0 R /ID [<0102> <0102>]',
  });

const part = (p: string, content: Buffer, trueType?: string): ContentPart => ({
  path: p,
  origin: 'mime',
  contentType: 'application/pdf',
  names: [`${p}.pdf`],
  content,
  isAttachment: true,
  depth: 1,
  ...(trueType ? { trueType } : {}),
});

test('a PDF part gets the text its pages show; the compressed file itself does not hold the numbers', () => {
  const cards = cardList(3);
  const pdf = pdfWithCards(cards);
  for (const c of cards) assert.ok(!pdf.includes(c), 'the digits are not in the file bytes');
  const p = part('2', pdf, 'pdf');
  readDocumentTexts([p], LIMITS);
  for (const c of cards) assert.ok(p.documentText?.includes(c), `card ${c} read as one run`);
  assert.equal(p.documentTextTruncated, undefined);
});

test('a PDF is told by its header even when named and typed as something else', () => {
  const p = { ...part('2', pdfWithCards(cardList(1))), names: ['notes.txt'], contentType: 'text/plain' };
  readDocumentTexts([p], LIMITS);
  assert.ok(p.documentText?.includes(cardList(1)[0]!));
});

test('the PDF stream budget is shared by every PDF of the message, not granted again to each', () => {
  // each PDF decodes one content stream: with a budget of 2, the third PDF is not read and says so
  const parts = [1, 2, 3].map((i) => part(String(i), pdfWithCards(cardList(1, '4', 300000000000000 + i * 7919)), 'pdf'));
  readDocumentTexts(parts, { ...LIMITS, pdfMaxStreams: 2 });
  assert.equal(parts[0]!.documentTextTruncated, undefined);
  assert.equal(parts[1]!.documentTextTruncated, undefined);
  assert.match(parts[2]!.documentTextTruncated ?? '', /more than 0 streams|streams/);
  assert.ok(!parts[2]!.documentText?.includes('4'), 'nothing read past the budget');
});

test('the inflate budget is shared too: a second PDF gets only what the first left', () => {
  const big = pagesPdf([flate(`BT /F1 10 Tf 72 760 Td (${'x'.repeat(200_000)}) Tj ET`)]);
  const small = pdfWithCards(cardList(1));
  const parts = [part('1', big, 'pdf'), part('2', small, 'pdf')];
  readDocumentTexts(parts, { ...LIMITS, pdfMaxInflatedBytes: 200_050 });
  assert.equal(parts[0]!.documentTextTruncated, undefined, 'the first PDF fits');
  assert.match(parts[1]!.documentTextTruncated ?? '', /inflated bytes/, 'the second is cut by what is left');
  // alone, the second PDF reads whole under the same limit
  const alone = part('3', small, 'pdf');
  readDocumentTexts([alone], { ...LIMITS, pdfMaxInflatedBytes: 200_050 });
  assert.equal(alone.documentTextTruncated, undefined);
});

test('the PDF work budget is shared by the message: once spent, later PDFs are marked as not read whole', () => {
  // each PDF lexes about 100,000 tokens; the message may spend 250,000
  const heavy = (): Buffer => pagesPdf([flate(`BT /F1 10 Tf 72 760 Td ${'1 '.repeat(100_000)} (x) Tj ET`)]);
  const parts = [1, 2, 3, 4].map((i) => part(String(i), heavy(), 'pdf'));
  readDocumentTexts(parts, { ...LIMITS, pdfMaxWork: 250_000 });
  assert.equal(parts[0]!.documentTextTruncated, undefined);
  assert.equal(parts[1]!.documentTextTruncated, undefined);
  assert.match(parts[2]!.documentTextTruncated ?? '', /work budget/, 'the third runs out part-way');
  assert.match(parts[3]!.documentTextTruncated ?? '', /work budget/, 'the fourth gets nothing');
});

test('a PDF that needs a password is marked as missing text with encryptedPdf: incomplete, left unread with ignore', () => {
  const strict = part('1', encryptedPdf(), 'pdf');
  readDocumentTexts([strict], { ...LIMITS, encryptedPdf: 'incomplete' });
  assert.match(strict.documentTextTruncated ?? '', /^encrypted PDF/);
  const quiet = part('1', encryptedPdf(), 'pdf');
  readDocumentTexts([quiet], { ...LIMITS, encryptedPdf: 'ignore' });
  assert.equal(quiet.documentText, '');
  assert.equal(quiet.documentTextTruncated, undefined);
});

// --- through the pipeline ---

function mailWith(attachment: Buffer, name: string): Buffer {
  const b64 = attachment.toString('base64').replace(/.{76}/g, '$&\r\n');
  return Buffer.from(
    'From: alice@example.com\r\nTo: bob@example.org\r\nSubject: report\r\nDate: Thu, 03 Dec 2026 10:00:00 +0000\r\nMessage-ID: <p1@example.com>\r\n' +
      'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n' +
      `--b1\r\nContent-Type: application/pdf; name="${name}"\r\nContent-Disposition: attachment; filename="${name}"\r\n` +
      `Content-Transfer-Encoding: base64\r\n\r\n${b64}\r\n--b1--\r\n`,
  );
}

const input = { direction: 'outbound' as const, sender: 'alice@example.com', recipients: ['bob@example.org'], smtputf8: false };
const noClamd = { content: { clamd: { enabled: false } } };

test('pipeline: twelve card numbers on a PDF page are dataleak.card outbound; without document text they are not seen', async () => {
  const raw = mailWith(pdfWithCards(cardList(12)), 'cards.pdf');
  const report = await createContentPipeline(configSchema.parse(noClamd)).analyze(raw, input);
  const card = report.hits.find((h) => h.rule === 'dataleak.card');
  assert.ok(card, `dataleak.card expected, got ${report.hits.map((h) => h.rule).join(', ')}`);
  assert.match(card.detail ?? '', /12/);

  const off = createContentPipeline(configSchema.parse({ ...noClamd, outbound: { dataLeak: { documents: { enabled: false } } } }));
  const without = await off.analyze(raw, input);
  assert.equal(without.hits.find((h) => h.rule === 'dataleak.card'), undefined);
});

test('pipeline: the Ghostscript-made statement PDF (embedded subset fonts) reads its card numbers', async () => {
  const pdf = readFileSync(path.join(FIXTURES, 'documents', 'statement.pdf'));
  const raw = mailWith(pdf, 'statement.pdf');
  const strict = configSchema.parse({ ...noClamd, outbound: { dataLeak: { card: { threshold: 2 } } } });
  const report = await createContentPipeline(strict).analyze(raw, input);
  const card = report.hits.find((h) => h.rule === 'dataleak.card');
  assert.ok(card, `dataleak.card expected at threshold 2, got ${report.hits.map((h) => `${h.rule}: ${h.detail}`).join('; ')}`);
});

test('pipeline: an outbound PDF that needs a password is dataleak.incomplete (quarantine) by default; ignore lets it pass', async () => {
  const raw = mailWith(encryptedPdf(), 'locked.pdf');
  const report = await createContentPipeline(configSchema.parse(noClamd)).analyze(raw, input);
  const incomplete = report.hits.find((h) => h.rule === 'dataleak.incomplete');
  assert.ok(incomplete, `dataleak.incomplete expected, got ${report.hits.map((h) => h.rule).join(', ')}`);
  assert.match(incomplete.detail ?? '', /encrypted PDF: a password is needed/);
  assert.equal(incomplete.action, 'quarantine');
  const ignore = createContentPipeline(configSchema.parse({ ...noClamd, outbound: { dataLeak: { documents: { encryptedPdf: 'ignore' } } } }));
  const quiet = await ignore.analyze(raw, input);
  assert.equal(quiet.hits.find((h) => h.rule.startsWith('dataleak.')), undefined, quiet.hits.map((h) => h.rule).join(', '));
});

test('pipeline: a PDF locked only against printing and copying (AES-256, empty user password) is read; its cards count', async () => {
  const pdf = readFileSync(path.join(FIXTURES, 'documents', 'invoice-aes256.pdf'));
  const raw = mailWith(pdf, 'invoice.pdf');
  const strict = configSchema.parse({ ...noClamd, outbound: { dataLeak: { card: { threshold: 3 } } } });
  const report = await createContentPipeline(strict).analyze(raw, input);
  const card = report.hits.find((h) => h.rule === 'dataleak.card');
  assert.ok(card, `dataleak.card expected, got ${report.hits.map((h) => `${h.rule}: ${h.detail}`).join('; ')}`);
  assert.match(card.detail ?? '', /3/);
});
