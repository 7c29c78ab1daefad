// Decides whether a leaf part is really an attached message sent under another type or name
// (application/octet-stream, text/plain, no Content-Type, "*.eml" / "*.msg"), so the parser can read
// it as message/rfc822 and its attachments get checked too. Looks at the first header block only
// (bounded); never throws.
import { readHeaderBlock, type RawHeader } from './headers.js';

/** Extensions of files that mail programs open as a message. */
const MESSAGE_EXT = /\.(eml|emlx|msg|mbox|mbx|mail|nws|rfc822)[.\s]*$/i;
/** Header fields of an RFC 5322 message. */
const RFC5322 = new Set(['from', 'to', 'cc', 'subject', 'date', 'message-id', 'received', 'return-path', 'sender', 'reply-to']);
/** Header fields that make it a MIME message. */
const MIME = new Set(['mime-version', 'content-type', 'content-transfer-encoding', 'content-disposition']);
/** Types that hold message headers but are not messages (bounce reports), or that we read otherwise. */
const NOT_MESSAGES = /^(message\/(rfc822|global|news|partial|external-body|delivery-status|global-delivery-status|disposition-notification|global-disposition-notification|feedback-report)|(text|message)\/rfc822-headers|text\/html|text\/enriched|text\/calendar)$/;
/** Most header bytes looked at. */
const SNIFF_BYTES = 64 * 1024;

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
 * True when `data` begins with a header block that reads as an RFC 5322 message with MIME headers
 * (at least one message field and one MIME field, no junk lines, ended by a blank line). A message
 * name (`*.eml`) only needs the message fields.
 */
export function looksLikeMessage(data: Buffer, names: readonly string[] = []): boolean {
  if (data.length < 10) return false;
  // cheap pre-check: the first line must be a header field (or an mbox "From " line)
  const head = data.toString('latin1', 0, Math.min(data.length, 200));
  if (!/^([!-9;-~]+[ \t]*:|From )/.test(head)) return false;
  const end = Math.min(data.length, SNIFF_BYTES);
  const hb = readHeaderBlock(data, 0, end);
  if (hb.noBlankLine || hb.junkLines > 0 || (hb.bodyStart >= end && end < data.length)) return false;
  const keys = new Set(hb.headers.map((h) => h.key));
  const msg = [...keys].filter((k) => RFC5322.has(k)).length;
  const mime = [...keys].some((k) => MIME.has(k));
  if (names.some((n) => MESSAGE_EXT.test(n))) return msg >= 1 && hb.headers.length >= 2;
  return msg >= 1 && mime && hb.headers.length >= 3;
}
