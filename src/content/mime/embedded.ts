// Finds files encoded inside a decoded part's bytes — uuencode ("begin 644 name" … "end", and
// "begin-base64"), yEnc ("=ybegin … name=" … "=yend") and BinHex 4.0 — over the whole part, not just
// the text cut used for content rules. Markers are found with Buffer.indexOf (no whole-part string).
// Work is bounded by `maxScanBytes` and `maxFiles`; hitting a bound is reported, never silent.
// Never throws on bad input.
import { BINHEX_MARKER, decodeBinHex } from './binhex.js';
import { decodeBase64, decodeUuLines } from './decode.js';

export interface EmbeddedFile {
  kind: 'uuencode' | 'yenc' | 'binhex';
  /** File names the block carries (empty when none). */
  names: string[];
  content: Buffer;
  /** True when the block had no end line, a bad CRC or was cut by a bound. */
  damaged: boolean;
}

export interface EmbeddedScan {
  files: EmbeddedFile[];
  /** Why the scan did not cover everything (bytes or file count bound), or undefined. */
  unchecked?: string;
  /** BinHex markers/data found that could not be decoded. */
  undecodableBinHex: number;
  /** Bytes BinHex expansion used (to charge against the message's budget). */
  expandedBytes: number;
}

export interface EmbeddedOptions {
  maxScanBytes: number;
  maxFiles: number;
  /** Also accept a BinHex stream with no marker line (body declared mac-binhex40). */
  binhexWithoutMarker?: boolean;
  /** Most bytes BinHex run-length expansion may produce (it can grow ~100x): the message's remaining budget. */
  maxExpandBytes: number;
}

const UU_BEGIN = /^begin(-base64)?[ \t]+([0-7]{3,4})[ \t]+([^\r\n]+?)[ \t]*$/;

/** The line at `pos` (ended by LF, CRLF or a bare CR) and the offset after its line end. */
function lineAt(buf: Buffer, pos: number, end: number): { text: string; next: number } {
  let nl = buf.indexOf(10, pos);
  if (nl < 0 || nl >= end) nl = end;
  let le = nl;
  const cr = buf.subarray(pos, nl).indexOf(13);
  if (cr >= 0 && pos + cr + 1 < nl) {
    le = pos + cr; // bare CR ends the line
    nl = le;
  } else if (le > pos && buf[le - 1] === 13) le--;
  return { text: buf.toString('latin1', pos, Math.min(le, pos + 2048)), next: Math.min(end, nl + 1) };
}

/**
 * Offsets where `needle` starts a line in buf[from, end), in order. Searches "\n" + needle (and "\r" +
 * needle only when the part has such a bare-CR line start), so words inside lines cost nothing.
 */
function* lineStarts(buf: Buffer, needle: string, end: number, from = 0): Generator<number> {
  if (from === 0 && buf.toString('latin1', 0, needle.length) === needle) yield 0;
  const lf = Buffer.from(`\n${needle}`, 'latin1');
  const cr = Buffer.from(`\r${needle}`, 'latin1');
  const start = Math.max(0, from - 1);
  let a = buf.indexOf(lf, start);
  let b = buf.indexOf(cr, start);
  while ((a >= 0 && a + 1 < end) || (b >= 0 && b + 1 < end)) {
    const takeA = a >= 0 && a + 1 < end && (b < 0 || b + 1 >= end || a < b);
    const at = takeA ? a : b;
    if (at + 1 >= from) yield at + 1;
    if (takeA) a = buf.indexOf(lf, a + 1);
    else b = buf.indexOf(cr, b + 1);
  }
}

/** Offset of the first line at or after `from` equal to `word` (trailing whitespace allowed), or -1. */
function findEndLine(buf: Buffer, from: number, end: number, word: string, prefixOnly = false): number {
  for (const i of lineStarts(buf, word, end, from)) {
    if (prefixOnly) return i;
    const { text } = lineAt(buf, i, end);
    if (text.slice(word.length).trim() === '') return i;
  }
  return -1;
}

function uuBlocks(buf: Buffer, end: number, out: EmbeddedFile[], max: number): boolean {
  let resumeAt = 0;
  for (const i of lineStarts(buf, 'begin', end)) {
    if (i < resumeAt) continue;
    const head = lineAt(buf, i, end);
    const m = UU_BEGIN.exec(head.text);
    if (!m) continue;
    if (out.length >= max) return true;
    const base64 = m[1] !== undefined;
    const stop = findEndLine(buf, head.next, end, base64 ? '====' : 'end');
    const bodyEnd = stop < 0 ? end : stop;
    let content: Buffer;
    if (base64) content = Buffer.from(decodeBase64(buf.subarray(head.next, bodyEnd)).data);
    else content = decodeUuLines(buf.toString('latin1', head.next, bodyEnd).split(/\r\n|\r|\n/));
    out.push({ kind: 'uuencode', names: [m[3]!], content, damaged: stop < 0 });
    resumeAt = stop < 0 ? end : stop + 1;
  }
  return false;
}

/** The uuencoded ("begin" … "end") and "begin-base64" files in `buf`, at most `max` of them. */
export function uuencodedFiles(buf: Buffer, max = 100): EmbeddedFile[] {
  const out: EmbeddedFile[] = [];
  uuBlocks(buf, buf.length, out, max);
  return out;
}

/** Decodes yEnc data lines in buf[start, end): "=" escapes (value - 64), every byte - 42. */
function yDecode(buf: Buffer, start: number, end: number): Buffer {
  const out = Buffer.allocUnsafe(Math.max(0, end - start));
  let o = 0;
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c === 10 || c === 13) continue;
    if (c === 61) {
      const n = buf[++i];
      if (n === undefined || i >= end) break;
      out[o++] = (n - 64 - 42) & 255;
    } else out[o++] = (c - 42) & 255;
  }
  return out.subarray(0, o);
}

function yencBlocks(buf: Buffer, end: number, out: EmbeddedFile[], max: number): boolean {
  let resumeAt = 0;
  for (const i of lineStarts(buf, '=ybegin ', end)) {
    if (i < resumeAt) continue;
    if (out.length >= max) return true;
    const head = lineAt(buf, i, end);
    // "name=" is the last keyword and runs to the end of the line (spaces included)
    const name = /[ \t]name=(.*)$/.exec(head.text)?.[1]?.trim() ?? '';
    let dataStart = head.next;
    const part = lineAt(buf, dataStart, end);
    if (part.text.startsWith('=ypart ')) dataStart = part.next;
    const stop = findEndLine(buf, dataStart, end, '=yend', true);
    const bodyEnd = stop < 0 ? end : stop;
    let content = yDecode(buf, dataStart, bodyEnd);
    const size = /[ \t]size=(\d+)/.exec(head.text)?.[1];
    const damaged = stop < 0 || (size !== undefined && !part.text.startsWith('=ypart ') && Number(size) !== content.length);
    content = Buffer.from(content);
    out.push({ kind: 'yenc', names: name ? [name] : [], content, damaged });
    resumeAt = stop < 0 ? end : stop + 1;
  }
  return false;
}

function binhexBlocks(buf: Buffer, end: number, out: EmbeddedFile[], max: number, noMarker: boolean, scan: EmbeddedScan, budget: number): boolean {
  const starts: number[] = [];
  for (let i = buf.indexOf(BINHEX_MARKER, 0, 'latin1'); i >= 0 && i < end; i = buf.indexOf(BINHEX_MARKER, i + 1, 'latin1')) starts.push(i);
  if (!starts.length && noMarker) starts.push(0);
  for (let k = 0; k < starts.length; k++) {
    if (out.length >= max) return true;
    const from = starts[k]!;
    const to = starts[k + 1] ?? end;
    if (budget - scan.expandedBytes <= 0) {
      scan.unchecked = `BinHex data expands beyond the ${budget}-byte budget; the rest was not decoded`;
      break;
    }
    const f = decodeBinHex(buf, from, to, budget - scan.expandedBytes);
    if (!f) {
      scan.undecodableBinHex++;
      continue;
    }
    scan.expandedBytes += f.expandedBytes;
    if (f.capped) scan.unchecked = `BinHex data expands beyond the ${budget}-byte budget; the rest was not decoded`;
    const names = [...new Set([f.name, f.altName])].filter((n) => n !== '');
    out.push({ kind: 'binhex', names, content: Buffer.from(f.data), damaged: !f.capped && (!f.crcOk || f.truncated) });
  }
  return false;
}

/** Scans buf (a decoded part) for embedded encoded files. */
export function findEmbedded(buf: Buffer, opts: EmbeddedOptions): EmbeddedScan {
  const scan: EmbeddedScan = { files: [], undecodableBinHex: 0, expandedBytes: 0 };
  const end = Math.min(buf.length, opts.maxScanBytes);
  const view = end < buf.length ? buf.subarray(0, end) : buf;
  let full = false;
  full = uuBlocks(view, end, scan.files, opts.maxFiles) || full;
  full = yencBlocks(view, end, scan.files, opts.maxFiles) || full;
  full = binhexBlocks(view, end, scan.files, opts.maxFiles, opts.binhexWithoutMarker ?? false, scan, opts.maxExpandBytes) || full;
  if (scan.unchecked) {
    // BinHex budget reached (set above)
  } else if (end < buf.length) {
    scan.unchecked = `only the first ${end} of ${buf.length} bytes were searched for uuencoded/yEnc/BinHex files`;
  } else if (full) {
    scan.unchecked = `more than ${opts.maxFiles} uuencoded/yEnc/BinHex files in one part; the rest were not extracted`;
  }
  return scan;
}
