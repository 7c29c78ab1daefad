// Decides whether a file found in a folder given to `postern scan` is a message at all, so that
// archives, executables and images lying beside the mail are reported as skipped instead of being
// parsed as broken messages. Looks only at the name and the first bytes; never reads more.
import path from 'node:path';

/** Bytes of each file looked at (the caller reads no more to decide). */
export const SNIFF_BYTES = 4096;

/** Outlook item files (.msg) are OLE compound files, not RFC 5322 text. */
const CFB_SIGNATURE = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);

/**
 * True when `raw` (the content of `file`, not an mbox: the caller splits those) should be scanned as
 * a message: named .eml (or .msg that is not an Outlook compound file), or starting with an RFC 5322
 * header field ("Name: value", the name printable ASCII without spaces) with no NUL byte in that line.
 */
export function looksLikeMessage(file: string, raw: Buffer): boolean {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.eml') return true;
  if (ext === '.msg' && !raw.subarray(0, CFB_SIGNATURE.length).equals(CFB_SIGNATURE)) return true;
  return startsWithHeaderField(raw);
}

/**
 * The first line is a header field: a field name (RFC 5322 ftext, 0x21-0x7e but ':') then ':', or
 * an mbox "From " line. A UTF-8 byte order mark and leading white space (blank lines, an indented
 * first field) are passed over: saved and malformed messages have them, and are still messages.
 */
export function startsWithHeaderField(raw: Buffer): boolean {
  const head = raw.subarray(0, SNIFF_BYTES);
  let start = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
  while (start < head.length && (head[start] === 0x20 || head[start] === 0x09 || head[start] === 0x0d || head[start] === 0x0a)) start++;
  const nl = head.indexOf(0x0a, start);
  const line = head.subarray(start, nl < 0 ? head.length : nl);
  if (line.includes(0)) return false;
  if (line.subarray(0, 5).toString('latin1') === 'From ') return true;
  const colon = line.indexOf(0x3a);
  if (colon <= 0) return false;
  // whitespace before the colon is obsolete syntax (RFC 5322 4.5.8) some saved messages still have
  let nameEnd = colon;
  while (nameEnd > 0 && (line[nameEnd - 1] === 0x20 || line[nameEnd - 1] === 0x09)) nameEnd--;
  if (nameEnd === 0) return false;
  for (let i = 0; i < nameEnd; i++) {
    const b = line[i]!;
    if (b < 0x21 || b > 0x7e) return false;
  }
  return true;
}
