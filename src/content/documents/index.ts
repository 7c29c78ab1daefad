// Gives the documents in a message the text a reader of them would see, as part.documentText, for the
// checks that look for sensitive text (the data-leak check): PDFs (pdf-text.ts); every XML file —
// the members of office files (OOXML, OpenDocument: zips the archive stage has already opened, whatever
// their names or the zip's other members), XML in any other archive, and MIME parts that are XML (flat
// OpenDocument .fodt/.fods, XML attachments) — read by xml-text.ts; HTML archive members (a Word
// altChunk) through the mail HTML converter; RTF anywhere (rtf-text.ts). Text cut by a limit or not
// readable is marked (documentTextTruncated) so the data-leak check reports an
// incomplete scan instead of passing silently. Never throws.
import type { ContentPart } from '../types.js';
import { asBuffer } from '../bytes.js';
import { looksLikePdf, pdfText, pdfWorkFor } from './pdf-text.js';
import { markupString, sniffMarkup, xmlTextOf } from './xml-text.js';
import { odfLiteralFormatsOf } from './odf-styles.js';
import { looksLikeRtf, rtfText } from './rtf-text.js';
import { literalFormatsOf } from './xlsx-styles.js';
import type { LiteralFormat } from './cell-values.js';
import { htmlToTextReport } from '../mime/extract.js';
import type { DocumentText } from './types.js';

export interface DocumentTextLimits {
  /** Characters of document text read for one message, all documents together. */
  maxChars: number;
  /** Bytes inflated from PDF streams for one message. */
  pdfMaxInflatedBytes: number;
  /** PDF streams decoded for one message. */
  pdfMaxStreams: number;
  /**
   * What a PDF that needs a password to open counts as: 'incomplete' marks its text as missing,
   * 'ignore' leaves it unread without a note. (One locked only against printing or copying is read.)
   */
  encryptedPdf: 'ignore' | 'incomplete';
  /** Work all PDFs of the message may spend together (default PDF_WORK_PER_MESSAGE; tests set it small). */
  pdfMaxWork?: number;
}

/**
 * Work (tokens lexed, glyphs shown, CMap entries: pdf-text.ts) all PDFs of one message may spend
 * together, on top of each file's own limit: a few seconds of CPU at most, where a 200-page text PDF spends
 * under a million. Past it a PDF's text is marked as missing (incomplete scan).
 */
const PDF_WORK_PER_MESSAGE = 20_000_000;

const parentPath = (path: string): string | undefined => {
  const i = path.lastIndexOf('/archive:');
  return i > 0 ? path.slice(0, i) : undefined;
};

type Kind = 'xml' | 'html' | 'rtf';

/** How a part other than a PDF is read as a document, if it is one. */
function documentKind(part: ContentPart, bytes: Buffer): Kind | undefined {
  if (looksLikeRtf(bytes)) return 'rtf';
  const markup = sniffMarkup(bytes);
  if (!markup) return undefined;
  if (part.origin === 'archive') {
    // any member of any zip (an office file's main part may have any name, its zip no mimetype)
    return markup.kind === 'html' || part.names.some((n) => /\.x?html?$/i.test(n)) ? 'html' : 'xml';
  }
  // MIME parts: HTML ones already have their text (part.text) from the MIME stage
  if (markup.kind === 'html') return part.text === undefined ? 'html' : undefined;
  if (markup.declared || /xml/i.test(part.contentType) || part.names.some((n) => /\.(?:xml|fod[tspgb])$/i.test(n))) return 'xml';
  return undefined;
}

/**
 * What `read` makes of the member named `member` (case-insensitive) of each archive, by the archive's
 * path; archives whose member reads as empty are left out.
 */
function byArchive<K>(parts: readonly ContentPart[], member: string, read: (bytes: Buffer) => Map<K, LiteralFormat>): Map<string, Map<K, LiteralFormat>> {
  const out = new Map<string, Map<K, LiteralFormat>>();
  for (const p of parts) {
    const parent = p.origin === 'archive' ? parentPath(p.path) : undefined;
    if (parent === undefined || out.has(parent) || !p.names.some((n) => n.toLowerCase() === member)) continue;
    const content = p.content as unknown as Uint8Array | undefined;
    if (!(content instanceof Uint8Array) || content.length === 0) continue;
    const formats = read(asBuffer(content));
    if (formats.size > 0) out.set(parent, formats);
  }
  return out;
}

/** Each workbook's number formats with literal text (xl/styles.xml), by cell style index. */
const workbookFormats = (parts: readonly ContentPart[]): Map<string, Map<number, LiteralFormat>> => byArchive(parts, 'xl/styles.xml', literalFormatsOf);

/** Each OpenDocument file's number styles with literal text (styles.xml), by cell style name. */
const openDocumentFormats = (parts: readonly ContentPart[]): Map<string, Map<string, LiteralFormat>> =>
  byArchive(parts, 'styles.xml', (bytes) => odfLiteralFormatsOf(markupString(bytes)));

/** The OpenDocument cell formats an XML part uses: its archive's styles.xml ones, then its own (automatic styles). */
function odfFormatsFor(xml: string, inherited: ReadonlyMap<string, LiteralFormat> | undefined): ReadonlyMap<string, LiteralFormat> | undefined {
  const own = odfLiteralFormatsOf(xml);
  if (own.size === 0) return inherited;
  return inherited ? new Map([...inherited, ...own]) : own;
}

/** An HTML file's text (the mail HTML converter), at most maxChars characters. */
function htmlText(bytes: Buffer, maxChars: number): DocumentText {
  const r = htmlToTextReport(markupString(bytes));
  const notes = r.cut ? [r.cut] : [];
  let text = r.text;
  if (text.length > maxChars) {
    text = text.slice(0, maxChars);
    notes.unshift(`document text cut at ${maxChars} characters`);
  }
  return notes.length > 0 ? { text, truncated: notes.join('; ') } : { text };
}

/** Fill documentText (and documentTextTruncated) of every document part, in place. */
export function readDocumentTexts(parts: ContentPart[], limits: DocumentTextLimits): void {
  const formats = workbookFormats(parts);
  const odfFormats = openDocumentFormats(parts);
  let charsLeft = limits.maxChars;
  let inflateLeft = limits.pdfMaxInflatedBytes;
  let streamsLeft = limits.pdfMaxStreams;
  let workLeft = limits.pdfMaxWork ?? PDF_WORK_PER_MESSAGE;
  for (const part of parts) {
    const content = part.content as unknown as Uint8Array | undefined;
    if (!(content instanceof Uint8Array) || content.length === 0) continue;
    const bytes = asBuffer(content);
    // a PDF by its header, where readers look for it (a part typed 'pdf' has it too)
    const pdf = looksLikePdf(bytes);
    const kind = pdf ? undefined : documentKind(part, bytes);
    if (!pdf && !kind) continue;
    if (charsLeft <= 0) {
      part.documentText = '';
      part.documentTextTruncated = `not read: more than ${limits.maxChars} characters of document text in the message`;
      continue;
    }
    let got: DocumentText | undefined;
    try {
      if (pdf) {
        const maxWork = Math.max(0, Math.min(workLeft, pdfWorkFor(bytes.length)));
        const r = pdfText(bytes, { maxChars: charsLeft, maxInflatedBytes: Math.max(0, inflateLeft), maxStreams: Math.max(0, streamsLeft), maxWork });
        if (r) {
          inflateLeft -= r.spent.inflatedBytes;
          streamsLeft -= r.spent.streams;
          workLeft -= r.spent.work;
          got = r.encrypted && limits.encryptedPdf === 'ignore' ? { text: r.text } : r;
        }
      } else if (kind === 'rtf') {
        got = rtfText(bytes, charsLeft);
      } else if (kind === 'html') {
        got = htmlText(bytes, charsLeft);
      } else {
        const parent = part.origin === 'archive' ? parentPath(part.path) : undefined;
        const cellFormats = parent !== undefined ? formats.get(parent) : undefined;
        const xml = markupString(bytes); // decoded once: for its own number styles and for its text
        const odfCellFormats = odfFormatsFor(xml, parent !== undefined ? odfFormats.get(parent) : undefined);
        got = xmlTextOf(xml, charsLeft, { ...(cellFormats ? { cellFormats } : {}), ...(odfCellFormats ? { odfCellFormats } : {}) });
      }
    } catch (err) {
      got = { text: '', truncated: `could not be read: ${(err as Error).message}` };
    }
    if (!got) continue;
    part.documentText = got.text;
    if (got.truncated) part.documentTextTruncated = got.truncated;
    charsLeft -= got.text.length;
  }
}
