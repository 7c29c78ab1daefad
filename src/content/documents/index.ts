// Gives the documents in a message — PDFs and the XML members of office files (OOXML, OpenDocument),
// wherever they sit (MIME parts, archive members) — the text a reader of them would see, as
// part.documentText, for the checks that look for sensitive text (the data-leak check). Office files
// are zips the archive stage has already opened, so their XML members are read here; PDFs are read by
// pdf-text.ts. Text cut by a limit is marked (documentTextTruncated) so the data-leak check reports an
// incomplete scan instead of passing silently. Never throws.
import type { ContentPart } from '../types.js';
import { looksLikePdf, pdfText } from './pdf-text.js';
import { looksLikeXml, officeXmlText } from './xml-text.js';
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
}

const parentPath = (path: string): string | undefined => {
  const i = path.lastIndexOf('/archive:');
  return i > 0 ? path.slice(0, i) : undefined;
};

/**
 * Archive parts that are office documents, told by their members' names (a part's trueType may be
 * the quick "zip"): OOXML has [Content_Types].xml, OpenDocument a mimetype plus content.xml or a manifest.
 */
function officeContainers(parts: readonly ContentPart[]): Set<string> {
  const names = new Map<string, Set<string>>();
  for (const p of parts) {
    const parent = p.origin === 'archive' ? parentPath(p.path) : undefined;
    if (parent === undefined) continue;
    let set = names.get(parent);
    if (!set) names.set(parent, (set = new Set()));
    for (const n of p.names) set.add(n.toLowerCase());
  }
  const out = new Set<string>();
  for (const [parent, set] of names) {
    if (set.has('[content_types].xml') || (set.has('mimetype') && (set.has('content.xml') || set.has('meta-inf/manifest.xml')))) out.add(parent);
  }
  return out;
}

function isOfficeXmlMember(part: ContentPart, containers: ReadonlySet<string>): boolean {
  const parent = part.origin === 'archive' ? parentPath(part.path) : undefined;
  if (parent === undefined || !containers.has(parent)) return false;
  return part.names.some((n) => /\.xml$/i.test(n)) && looksLikeXml(part.content);
}

/** A PDF: by its true type, or by its header where readers look for it (pdf-text.ts decides). */
const isPdf = (part: ContentPart, bytes: Buffer): boolean => part.trueType === 'pdf' || looksLikePdf(bytes);

/** Fill documentText (and documentTextTruncated) of every document part, in place. */
export function readDocumentTexts(parts: ContentPart[], limits: DocumentTextLimits): void {
  const containers = officeContainers(parts);
  let charsLeft = limits.maxChars;
  let inflateLeft = limits.pdfMaxInflatedBytes;
  let streamsLeft = limits.pdfMaxStreams;
  for (const part of parts) {
    // a part that crossed a worker boundary holds a Uint8Array: view it as a Buffer (no copy)
    const content = part.content as unknown as Uint8Array | undefined;
    if (!(content instanceof Uint8Array) || content.length === 0) continue;
    const bytes = Buffer.isBuffer(content) ? content : Buffer.from(content.buffer, content.byteOffset, content.byteLength);
    const pdf = isPdf(part, bytes);
    if (!pdf && !isOfficeXmlMember(part, containers)) continue;
    if (charsLeft <= 0) {
      part.documentText = '';
      part.documentTextTruncated = `not read: more than ${limits.maxChars} characters of document text in the message`;
      continue;
    }
    let got: DocumentText | undefined;
    try {
      if (pdf) {
        const r = pdfText(bytes, { maxChars: charsLeft, maxInflatedBytes: Math.max(0, inflateLeft), maxStreams: Math.max(0, streamsLeft) });
        if (r) {
          inflateLeft -= r.spent.inflatedBytes;
          streamsLeft -= r.spent.streams;
          got = r.encrypted && limits.encryptedPdf === 'ignore' ? { text: r.text } : { text: r.text, ...(r.truncated ? { truncated: r.truncated } : {}) };
        }
      } else {
        got = officeXmlText(bytes, charsLeft);
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
