// Extractors for content hidden inside a decoded part: uuencoded blocks in text, TNEF (winmail.dat)
// attachments, true-type detection from magic bytes, and HTML → text. Bounded work, never throws.
import { decodeUuLines } from './decode.js';
import { uuencodedFiles } from './embedded.js';
import { htmlToPlainText } from './html-text.js';

export interface Extracted {
  name: string;
  content: Buffer;
}

/**
 * Decodes a body that is declared x-uuencode: its begin/end blocks, each with the file name of its
 * "begin 644 NAME" line (the caller adds it to the part's names), or every line (no name) when none.
 */
export function decodeUuBody(body: Buffer): Extracted[] {
  const found = uuencodedFiles(body);
  if (found.length) return found.map((f) => ({ name: f.names[0] ?? '', content: f.content }));
  return [{ name: '', content: decodeUuLines(body.toString('latin1').split(/\r?\n/)) }];
}

const TNEF_SIGNATURE = 0x223e9f78;

/** Attachments of a TNEF stream: file name (attAttachTitle / MAPI long name) and data (attAttachData). */
export function parseTnef(buf: Buffer, max = 500): Extracted[] | null {
  if (buf.length < 6 || buf.readUInt32LE(0) !== TNEF_SIGNATURE) return null;
  const out: Extracted[] = [];
  let pos = 6;
  let cur: { name: string; content: Buffer } | null = null;
  const push = (): void => {
    if (cur && (cur.name || cur.content.length) && out.length < max) out.push(cur);
    cur = null;
  };
  while (pos + 9 <= buf.length) {
    const level = buf[pos]!;
    const id = buf.readUInt32LE(pos + 1);
    const len = buf.readUInt32LE(pos + 5);
    const dataStart = pos + 9;
    if (dataStart + len > buf.length) break;
    const data = buf.subarray(dataStart, dataStart + len);
    if (level === 2) {
      if (id === 0x00069002) {
        // attAttachRendData: starts a new attachment
        push();
        cur = { name: '', content: Buffer.alloc(0) };
      } else if (id === 0x00018010) {
        cur ??= { name: '', content: Buffer.alloc(0) };
        cur.name = data.toString('latin1', 0, data.length).replace(/\0+$/, '');
      } else if (id === 0x0006800f) {
        cur ??= { name: '', content: Buffer.alloc(0) };
        cur.content = Buffer.from(data);
      } else if (id === 0x00069005 && cur) {
        const long = mapiLongFilename(data);
        if (long) cur.name = long;
      }
    }
    pos = dataStart + len + 2;
  }
  push();
  return out;
}

/** Looks for PR_ATTACH_LONG_FILENAME (0x3707, PT_STRING8 0x001e or PT_UNICODE 0x001f) in a MAPI blob. */
function mapiLongFilename(data: Buffer): string | undefined {
  for (const [type, enc] of [[0x001f, 'utf16le'], [0x001e, 'latin1']] as const) {
    const tag = Buffer.alloc(4);
    tag.writeUInt16LE(type, 0);
    tag.writeUInt16LE(0x3707, 2);
    const at = data.indexOf(tag);
    if (at < 0 || at + 16 > data.length) continue;
    // tag, count (u32), length (u32), bytes
    const len = data.readUInt32LE(at + 8);
    if (len <= 0 || at + 12 + len > data.length || len > 4096) continue;
    return data.subarray(at + 12, at + 12 + len).toString(enc).replace(/\0+$/, '');
  }
  return undefined;
}

/** True type from magic bytes, or undefined. */
export function detectTrueType(b: Buffer): string | undefined {
  if (b.length < 4) return undefined;
  const u32 = b.readUInt32BE(0);
  if (u32 === 0x504b0304 || u32 === 0x504b0506 || u32 === 0x504b0708) return 'zip';
  if (b[0] === 0x4d && b[1] === 0x5a) return 'pe';
  if (u32 === 0x7f454c46) return 'elf';
  if (u32 === 0x25504446) return 'pdf';
  if (b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
  if (u32 === 0x52617221) return 'rar';
  if (u32 === 0x377abcaf) return '7z';
  if (u32 === 0xd0cf11e0) return 'ole';
  if (u32 === 0x89504e47) return 'png';
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (u32 === 0x47494638) return 'gif';
  if (b.readUInt32LE(0) === TNEF_SIGNATURE) return 'tnef';
  if (u32 === 0x4d534346) return 'cab';
  if (b[0] === 0x42 && b[1] === 0x5a && b[2] === 0x68) return 'bzip2';
  if (u32 === 0xfd377a58) return 'xz';
  if (u32 === 0xcafebabe) return 'macho-fat';
  if (u32 === 0xcffaedfe || u32 === 0xcefaedfe) return 'macho';
  if (b.length > 0x8006 && b.toString('latin1', 0x8001, 0x8006) === 'CD001') return 'iso';
  return undefined;
}

const HTML_MAX_INPUT = 4 * 1024 * 1024;

/** htmlToText, and `cut` naming the limit that dropped part of the HTML (if any). */
export function htmlToTextReport(html: string): { text: string; cut?: string } {
  if (html.length > HTML_MAX_INPUT) {
    return { text: htmlToPlainText(html.slice(0, HTML_MAX_INPUT)), cut: `HTML longer than ${HTML_MAX_INPUT} characters` };
  }
  return { text: htmlToPlainText(html) };
}
