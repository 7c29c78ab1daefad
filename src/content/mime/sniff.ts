// Decides whether a leaf part is really an attached message sent under another type or name
// (application/octet-stream, text/plain, no Content-Type, "*.eml" / "*.msg"), so the parser can read
// it as message/rfc822 and its attachments get checked too. Looks at the first header block only:
// one pass over it whatever its size (no copies, work linear in its bytes, so a block padded past
// any fixed window is still recognised; its size limits are enforced when it is parsed); never throws.
import type { RawHeader } from './headers.js';

/** Extensions of files that mail programs open as a message. */
const MESSAGE_EXT = /\.(eml|emlx|msg|mbox|mbx|mail|nws|rfc822)[.\s]*$/i;
/** Header fields of an RFC 5322 message. */
const RFC5322 = new Set(['from', 'to', 'cc', 'subject', 'date', 'message-id', 'received', 'return-path', 'sender', 'reply-to']);
/** Header fields that make it a MIME message. */
const MIME = new Set(['mime-version', 'content-type', 'content-transfer-encoding', 'content-disposition']);
/** Types that hold message headers but are not messages (bounce reports), or that we read otherwise. */
const NOT_MESSAGES = /^(message\/(rfc822|global|news|partial|external-body|delivery-status|global-delivery-status|disposition-notification|global-disposition-notification|feedback-report)|(text|message)\/rfc822-headers|text\/html|text\/enriched|text\/calendar)$/;
/** The names above grouped by length, for comparing bytes without making strings. */
const KNOWN_BY_LENGTH = new Map<number, string[]>();
for (const k of [...RFC5322, ...MIME]) KNOWN_BY_LENGTH.set(k.length, [...(KNOWN_BY_LENGTH.get(k.length) ?? []), k]);

/** True when a leaf of this type/name may hold a message a mail program would open as one. */
export function mayHoldMessage(type: string, names: readonly string[], hs: readonly RawHeader[], depth: number, isAttachment: boolean): boolean {
  if (depth < 2) return false; // the top-level body is shown as text, not opened as a message
  if (names.some((n) => MESSAGE_EXT.test(n))) return true;
  if (NOT_MESSAGES.test(type)) return false;
  if (!hs.some((h) => h.key === 'content-type')) return true;
  if (type === 'application/octet-stream' || type.startsWith('message/') || /rfc822|(^|[/.+-])eml$/.test(type)) return true;
  return type === 'text/plain' && isAttachment;
}

/**
 * Offset where the attached message's header begins (after a UTF-8 BOM), or -1 when it is not one: `data`
 * must begin with a header block that reads as an RFC 5322 message with MIME headers
 * (at least one message field and one MIME field, no junk lines, ended by a blank line or the end of
 * the data). A message name (`*.eml`) only needs the message fields. A leading UTF-8 BOM is skipped.
 */
export function messageStart(data: Buffer, names: readonly string[] = []): number {
  const start = data.length >= 3 && data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf ? 3 : 0;
  if (data.length - start < 10) return -1;
  // cheap pre-check: the first line must be a header field (or an mbox "From " line)
  const head = data.toString('latin1', start, Math.min(data.length, start + 200));
  if (!/^([!-9;-~]+[ \t]*:|From )/.test(head)) return -1;
  const hb = scanHeaderBlock(data, start);
  if (!hb) return -1;
  const msg = [...hb.keys].filter((k) => RFC5322.has(k)).length;
  const mime = [...hb.keys].some((k) => MIME.has(k));
  if (names.some((n) => MESSAGE_EXT.test(n))) return msg >= 1 && hb.fields >= 2 ? start : -1;
  return msg >= 1 && mime && hb.fields >= 3 ? start : -1;
}

/**
 * Walks a header block the way readHeaderBlock reads it (same field / continuation / junk rules), keeping
 * only the field count and the message/MIME field names seen. Null when a line is neither a field nor a
 * continuation (parsers end the header there: not a clean message header).
 */
function scanHeaderBlock(buf: Buffer, start: number): { fields: number; keys: Set<string> } | null {
  const keys = new Set<string>();
  let fields = 0;
  let pos = start;
  while (pos < buf.length) {
    const nl = lineFeed(buf, pos);
    let lineEnd = nl;
    if (lineEnd > pos && buf[lineEnd - 1] === 13) lineEnd--;
    const next = nl < buf.length ? nl + 1 : buf.length;
    if (lineEnd === pos) break; // blank line: end of the header
    const c0 = buf[pos]!;
    if (c0 === 32 || c0 === 9) {
      if (fields === 0) return null; // continuation without a field
    } else if (pos === start && lineEnd - pos > 5 && buf.toString('latin1', pos, pos + 5) === 'From ') {
      // mbox "From " line at the very start
    } else {
      // field name: bytes before ":", surrounding blanks trimmed, no blank or control byte inside
      let i = pos;
      while (i < lineEnd && isTrimmed(buf[i]!)) i++;
      const nameStart = i;
      let nameEnd = i;
      let blank = false;
      for (; i < lineEnd; i++) {
        const b = buf[i]!;
        if (b === 58) break;
        if (isTrimmed(b)) blank = true;
        else if (b < 32 || blank) return null;
        else nameEnd = i + 1;
      }
      if (i === lineEnd || nameEnd === nameStart) return null;
      fields++;
      const key = knownName(buf, nameStart, nameEnd);
      if (key !== undefined) keys.add(key);
    }
    pos = next;
  }
  return { fields, keys };
}

/** Bytes String.prototype.trim removes from a latin1 field name (blank, tab, VT, FF, CR, NBSP). */
function isTrimmed(b: number): boolean {
  return b === 32 || b === 9 || b === 11 || b === 12 || b === 13 || b === 0xa0;
}

/** Offset of the next LF at or after `from` (buf.length when none): short lines looked at in JS, long ones natively. */
function lineFeed(buf: Buffer, from: number): number {
  const stop = Math.min(buf.length, from + 256);
  for (let i = from; i < stop; i++) if (buf[i] === 10) return i;
  if (stop === buf.length) return stop;
  const nl = buf.indexOf(10, stop);
  return nl < 0 ? buf.length : nl;
}

/** The message/MIME field name buf[start, end) spells (ASCII case-insensitive), if any. */
function knownName(buf: Buffer, start: number, end: number): string | undefined {
  const list = KNOWN_BY_LENGTH.get(end - start);
  if (!list) return undefined;
  next: for (const k of list) {
    for (let i = 0; i < k.length; i++) {
      const b = buf[start + i]!;
      if ((b >= 65 && b <= 90 ? b | 0x20 : b) !== k.charCodeAt(i)) continue next;
    }
    return k;
  }
  return undefined;
}
