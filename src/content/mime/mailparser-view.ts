// Optional second view of a message through mailparser (the library Node mail programs use): any
// attachment it decodes that our own reading did not produce is added to the parts (path "mp:N") and
// reported, so checks scan the union of both parsers' views. Never throws; never replaces our parts.
import { createHash } from 'node:crypto';
import type { ContentPart } from '../types.js';
import { detectTrueType } from './extract.js';

const sha1 = (b: Buffer): string => createHash('sha1').update(b).digest('hex');

/** Returns the attachments only mailparser saw (empty on error or when it agrees). */
export async function mailparserExtraParts(raw: Buffer, ours: readonly ContentPart[], maxParts: number): Promise<ContentPart[]> {
  let parsed;
  try {
    // loaded on first use: mailparser and its charset tables cost ~25 MB per thread, and this view is opt-in
    const { simpleParser } = await import('mailparser');
    parsed = await simpleParser(raw, { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true });
  } catch {
    return [];
  }
  const known = new Set(ours.map((p) => sha1(p.content)));
  const extra: ContentPart[] = [];
  parsed.attachments.forEach((a, i) => {
    if (extra.length >= maxParts || !a.content || a.content.length === 0) return;
    if (known.has(sha1(a.content))) return;
    const part: ContentPart = {
      path: `mp:${i + 1}`, origin: 'mime', contentType: (a.contentType || 'application/octet-stream').toLowerCase(),
      names: a.filename ? [a.filename.normalize('NFC')] : [], content: a.content, isAttachment: true, depth: 1,
    };
    if (a.contentDisposition) part.disposition = a.contentDisposition;
    const tt = detectTrueType(a.content);
    if (tt) part.trueType = tt;
    extra.push(part);
  });
  return extra;
}
