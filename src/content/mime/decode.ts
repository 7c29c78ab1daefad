// Transfer-encoding and charset decoders for the MIME parser: lenient base64 (reports what a strict
// decoder would disagree on), quoted-printable, uuencode, RFC 2047 words and charset → UTF-8.
// Pure functions over buffers/strings; they must never throw on bad input.
import { isAscii } from 'node:buffer';
import iconv from 'iconv-lite';

const B64 = new Int16Array(256).fill(-1);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.split('').forEach((c, i) => {
  B64[c.charCodeAt(0)] = i;
});
// base64url alphabet is accepted too by some decoders
B64['-'.charCodeAt(0)] = 62;
B64['_'.charCodeAt(0)] = 63;

export interface Base64Result {
  /** Bytes decoded skipping junk and continuing after "=" padding. */
  data: Buffer;
  /** Bytes a decoder that stops at the first "=" produces (only when it differs). */
  stopped?: Buffer;
  /** Count of bytes that are neither alphabet, padding nor whitespace. */
  junk: number;
  /** True when alphabet data follows "=" padding. */
  dataAfterPad: boolean;
}

// Standard alphabet only (base64url's "-" and "_" take the general path).
const STD = new Uint8Array(256);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.split('').forEach((c) => {
  STD[c.charCodeAt(0)] = 1;
});
const CLEAN_CHUNK = 64 * 1024;
/** Buffers found clean by decodeCleanBase64 (decodeBase64PerLine usually follows on the same one). A
 *  WeakSet, not a WeakRef: a WeakRef keeps its target alive to the end of the job (a whole message). */
const cleanBodies = new WeakSet<Buffer>();

/**
 * Fast path for the common case — standard alphabet, LF or CRLF line ends, "=" padding only at the
 * end: decoded by Node's native decoder 64 KB at a time (short-lived strings, no whole-body copy).
 * Null for anything else, which takes the general path: both give the same bytes on clean input.
 */
function decodeCleanBase64(src: Buffer): Base64Result | null {
  const n = src.length;
  let alpha = 0;
  let last = 0;
  const cuts: number[] = [];
  let i = 0;
  for (; i < n; i++) {
    const c = src[i]!;
    if (STD[c] === 1) {
      alpha++;
      if ((alpha & 3) === 0 && i + 1 - last >= CLEAN_CHUNK) {
        cuts.push(i + 1);
        last = i + 1;
      }
      continue;
    }
    if (c === 10) continue;
    if (c === 13 && src[i + 1] === 10) continue;
    if (c === 61) break;
    return null;
  }
  if (i < n) {
    // padding: at most two "=", then only line ends
    let pads = 0;
    for (let j = i; j < n; j++) {
      const c = src[j]!;
      if (c === 61) {
        if (++pads > 2) return null;
      } else if (c === 10 || (c === 13 && src[j + 1] === 10)) continue;
      else return null;
    }
  }
  const out = Buffer.allocUnsafe(Math.floor((alpha * 3) / 4) + 3);
  let o = 0;
  let from = 0;
  cuts.push(n);
  for (const to of cuts) {
    if (to > from) o += out.write(src.toString('latin1', from, to), o, 'base64');
    from = to;
  }
  cleanBodies.add(src);
  return { data: out.subarray(0, o), junk: 0, dataAfterPad: false };
}

/** Lenient base64: skips whitespace and junk, resumes after padding (and reports both). */
export function decodeBase64(src: Buffer): Base64Result {
  if (src.length >= 4096) {
    const fast = decodeCleanBase64(src);
    if (fast) return fast;
  }
  const out = Buffer.allocUnsafe(Math.floor((src.length * 3) / 4) + 3);
  let o = 0;
  let acc = 0;
  let n = 0;
  let junk = 0;
  let padSeen = false;
  let stopAt = -1;
  let dataAfterPad = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    const v = B64[c]!;
    if (v >= 0) {
      if (padSeen) {
        dataAfterPad = true;
        padSeen = false;
      }
      acc = (acc << 6) | v;
      n++;
      if (n === 4) {
        out[o++] = (acc >> 16) & 255;
        out[o++] = (acc >> 8) & 255;
        out[o++] = acc & 255;
        acc = 0;
        n = 0;
      }
    } else if (c === 61) {
      // '=': flush a partial quantum
      if (n === 2) out[o++] = (acc >> 4) & 255;
      else if (n === 3) {
        out[o++] = (acc >> 10) & 255;
        out[o++] = (acc >> 2) & 255;
      }
      if (stopAt < 0) stopAt = o;
      acc = 0;
      n = 0;
      padSeen = true;
    } else if (c === 32 || c === 9 || c === 10 || c === 13) {
      // whitespace
    } else {
      junk++;
    }
  }
  if (n === 2) out[o++] = (acc >> 4) & 255;
  else if (n === 3) {
    out[o++] = (acc >> 10) & 255;
    out[o++] = (acc >> 2) & 255;
  }
  const data = out.subarray(0, o);
  const res: Base64Result = { data, junk, dataAfterPad };
  if (dataAfterPad && stopAt >= 0 && stopAt < o) res.stopped = Buffer.from(out.subarray(0, stopAt));
  return res;
}

/**
 * Base64 read in 4-character groups that count "=" as a position: a group holding "=" anywhere is a
 * short quantum of its other characters (decoders that pad per group read "U=Es" as "UEs=").
 */
export function decodeBase64Quanta(src: Buffer): Buffer {
  const out = Buffer.allocUnsafe(Math.floor((src.length * 3) / 4) + 3);
  let o = 0;
  const q: number[] = [];
  let inGroup = 0;
  const flush = (): void => {
    if (q.length >= 2) {
      const acc = (q[0]! << 18) | (q[1]! << 12) | ((q[2] ?? 0) << 6) | (q[3] ?? 0);
      out[o++] = (acc >> 16) & 255;
      if (q.length >= 3) out[o++] = (acc >> 8) & 255;
      if (q.length >= 4) out[o++] = acc & 255;
    }
    q.length = 0;
    inGroup = 0;
  };
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    const v = B64[c]!;
    if (v >= 0) q.push(v);
    else if (c !== 61) continue;
    if (++inGroup === 4) flush();
  }
  flush();
  return out.subarray(0, o);
}

/** Lines (before the last data line) whose base64 length is not a multiple of 4; no allocation. */
function countOddBase64Lines(src: Buffer): number {
  if (cleanBodies.has(src)) {
    // clean body (decodeCleanBase64): every byte of a line counts but a CR before its LF
    let odd = 0;
    let lastOdd = false;
    let start = 0;
    for (;;) {
      const lf = src.indexOf(10, start);
      const end = lf < 0 ? src.length : lf;
      const k = end - start - (end > start && src[end - 1] === 13 ? 1 : 0);
      if (k % 4 !== 0) {
        odd++;
        lastOdd = true;
      } else if (k) lastOdd = false;
      if (lf < 0) break;
      start = lf + 1;
    }
    return lastOdd ? odd - 1 : odd;
  }
  let odd = 0;
  let lastOdd = false;
  let n = 0;
  for (let i = 0; i <= src.length; i++) {
    const c = i < src.length ? src[i]! : 10;
    if (c === 10) {
      if (n % 4 !== 0) {
        odd++;
        lastOdd = true;
      } else if (n) lastOdd = false;
      n = 0;
    } else if (B64[c]! >= 0 || c === 61) n++;
  }
  return lastOdd ? odd - 1 : odd;
}

/**
 * Base64 decoded line by line, each line on its own, dropping an incomplete quantum at a line end
 * (what decoders that restart per line do). `oddLines` counts lines (before the last) whose alphabet
 * length is not a multiple of 4: only then does this reading differ from the stream reading.
 */
export function decodeBase64PerLine(src: Buffer): { data: Buffer; oddLines: number } {
  if (countOddBase64Lines(src) === 0) return { data: Buffer.alloc(0), oddLines: 0 };
  const chunks: Buffer[] = [];
  let oddLines = 0;
  let start = 0;
  let lastOdd = false;
  while (start < src.length) {
    let end = src.indexOf(10, start);
    if (end < 0) end = src.length;
    let n = 0;
    for (let i = start; i < end; i++) if (B64[src[i]!]! >= 0 || src[i] === 61) n++;
    if (n % 4 !== 0) {
      oddLines++;
      lastOdd = true;
      // keep only whole quanta of this line
      let keep = n - (n % 4);
      let stop = start;
      while (stop < end && keep > 0) {
        if (B64[src[stop]!]! >= 0 || src[stop] === 61) keep--;
        stop++;
      }
      chunks.push(decodeBase64(src.subarray(start, stop)).data);
    } else {
      if (n) lastOdd = false;
      chunks.push(decodeBase64(src.subarray(start, end)).data);
    }
    start = end + 1;
  }
  // a short last line is normal (padding may be missing)
  if (lastOdd) oddLines--;
  return { data: Buffer.concat(chunks), oddLines };
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/**
 * The strict reading of quoted-printable: only "=" + two upper-case hex digits is an escape; any other
 * "=" sequence is dropped (with the whitespace or two characters after it) as some decoders do.
 */
export function decodeQuotedPrintableDrop(src: Buffer): Buffer {
  const out = Buffer.allocUnsafe(src.length);
  let o = 0;
  const len = src.length;
  const upHex = (c: number | undefined): boolean => c !== undefined && ((c >= 48 && c <= 57) || (c >= 65 && c <= 70));
  for (let i = 0; i < len; i++) {
    const c = src[i]!;
    if (c !== 61) {
      out[o++] = c;
      continue;
    }
    let j = i + 1;
    while (j < len && (src[j] === 32 || src[j] === 9)) j++;
    if (j < len && src[j] === 13 && src[j + 1] === 10) {
      i = j + 1;
      continue;
    }
    if (j >= len || src[j] === 10) {
      i = j;
      continue;
    }
    if (j > i + 1) {
      i = j - 1; // "=" + whitespace: dropped
      continue;
    }
    if (upHex(src[i + 1]) && upHex(src[i + 2])) {
      out[o++] = (hexVal(src[i + 1]!) << 4) | hexVal(src[i + 2]!);
      i += 2;
      continue;
    }
    if (hexVal(src[i + 1]!) >= 0 && i + 2 < len && hexVal(src[i + 2]!) >= 0) {
      i += 2; // lower-case escape: invalid, dropped
      continue;
    }
    // lone "=": dropped
  }
  return out.subarray(0, o);
}

export interface QpResult {
  data: Buffer;
  /** "=" sequences that are not a soft break or two upper-case hex digits (lower-case ones are decoded). */
  invalid: number;
}

/** Quoted-printable (RFC 2045 6.7), lenient: lower-case hex accepted, invalid "=" kept literally. */
export function decodeQuotedPrintable(src: Buffer): QpResult {
  const out = Buffer.allocUnsafe(src.length);
  let o = 0;
  let invalid = 0;
  const len = src.length;
  for (let i = 0; i < len; i++) {
    const c = src[i]!;
    if (c === 61) {
      // soft line break: "=" then optional whitespace then (CR)LF
      let j = i + 1;
      while (j < len && (src[j] === 32 || src[j] === 9)) j++;
      if (j < len && src[j] === 13 && src[j + 1] === 10) {
        i = j + 1;
        continue;
      }
      if (j < len && src[j] === 10) {
        i = j;
        continue;
      }
      if (j >= len) break;
      const h = i + 2 < len ? hexVal(src[i + 1]!) : -1;
      const l = i + 2 < len + 1 && i + 2 < len ? hexVal(src[i + 2]!) : -1;
      if (h >= 0 && l >= 0) {
        if (src[i + 1]! >= 97 || src[i + 2]! >= 97) invalid++; // lower-case hex: decoded, but not RFC
        out[o++] = (h << 4) | l;
        i += 2;
        continue;
      }
      invalid++;
      out[o++] = c;
      continue;
    }
    if (c === 13 && src[i + 1] === 10) {
      // strip trailing whitespace before a hard break (RFC 2045)
      while (o > 0 && (out[o - 1] === 32 || out[o - 1] === 9)) o--;
      out[o++] = 13;
      out[o++] = 10;
      i++;
      continue;
    }
    out[o++] = c;
  }
  return { data: out.subarray(0, o), invalid };
}

/** Decodes the body of one uuencoded block (lines between "begin" and "end"). */
export function decodeUuLines(lines: string[]): Buffer {
  const chunks: number[] = [];
  for (const line of lines) {
    if (line.length === 0) continue;
    const n = (line.charCodeAt(0) - 32) & 63;
    if (n === 0) continue;
    const bytes: number[] = [];
    for (let i = 1; i + 3 < line.length + 3 && bytes.length < n; i += 4) {
      const c = [0, 1, 2, 3].map((k) => ((line.charCodeAt(i + k) || 32) - 32) & 63);
      bytes.push(((c[0]! << 2) | (c[1]! >> 4)) & 255, ((c[1]! << 4) | (c[2]! >> 2)) & 255, ((c[2]! << 6) | c[3]!) & 255);
    }
    for (let k = 0; k < n && k < bytes.length; k++) chunks.push(bytes[k]!);
  }
  return Buffer.from(chunks);
}

const CHARSET_ALIASES: Record<string, string> = {
  'ks_c_5601-1987': 'euc-kr',
  ks_c_5601: 'euc-kr',
  'x-unknown': 'windows-1252',
  unknown: 'windows-1252',
  'unknown-8bit': 'windows-1252',
  'us-ascii': 'windows-1252',
  ascii: 'windows-1252',
  'ansi_x3.4-1968': 'windows-1252',
  default: 'windows-1252',
  'x-user-defined': 'windows-1252',
  utf8: 'utf-8',
  'iso-8859-8-i': 'iso-8859-8',
  cp1252: 'windows-1252',
  latin1: 'windows-1252',
};

/** "UTF-16" without a byte order: BOM if present, else whichever half holds the zero bytes (RFC 2781: BE). */
function utf16Order(buf: Uint8Array): string {
  if (buf[0] === 0xff && buf[1] === 0xfe) return 'utf-16le';
  if (buf[0] === 0xfe && buf[1] === 0xff) return 'utf-16be';
  let even = 0;
  let odd = 0;
  for (let i = 0; i + 1 < buf.length && i < 512; i += 2) {
    if (buf[i] === 0) even++;
    if (buf[i + 1] === 0) odd++;
  }
  return odd > even ? 'utf-16le' : 'utf-16be';
}

const decoderCache = new Map<string, InstanceType<typeof TextDecoder> | null>();
/** TextDecoder encodings that do not read ASCII bytes as ASCII (escape sequences, 16-bit units, replacement). */
const ASCII_SAFE_SKIP = new Set(['iso-2022-jp', 'utf-16le', 'utf-16be', 'replacement']);

/** Converts bytes in `charset` to a JS string. Unknown charsets fall back to UTF-8 / windows-1252. */
export function decodeCharset(buf: Uint8Array, charset: string | undefined): string {
  let cs = (charset ?? 'utf-8').trim().toLowerCase().replace(/^["']|["']$/g, '');
  if (!cs) cs = 'utf-8';
  cs = CHARSET_ALIASES[cs] ?? cs;
  if (cs === 'utf-16' || cs === 'ucs-2' || cs === 'utf16') cs = utf16Order(buf);
  let dec = decoderCache.get(cs);
  if (dec === undefined) {
    try {
      dec = new TextDecoder(cs, { fatal: false });
    } catch {
      dec = null;
    }
    if (decoderCache.size < 256) decoderCache.set(cs, dec);
  }
  if (dec) {
    // pure ASCII in an ASCII-compatible charset decodes to the same characters: skip the decoder
    if (dec.encoding === 'windows-1252') return decodeWindows1252(buf);
    if (ASCII_SAFE_SKIP.has(dec.encoding) || !isAscii(buf)) return dec.decode(buf);
    return Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString('latin1');
  }
  if (iconv.encodingExists(cs)) {
    try {
      return iconv.decode(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength), cs);
    } catch {
      /* fall through */
    }
  }
  return decodeUtf8OrLatin1(buf);
}

const utf8Fatal = new TextDecoder('utf-8', { fatal: true });
/**
 * windows-1252 (also what the labels latin1 / iso-8859-1 / us-ascii mean in mail, per WHATWG). Node 20's
 * TextDecoder reads its 0x80-0x9F bytes as C1 controls (latin1), losing “ ” € and friends: decode as
 * latin1 natively and map that range by the table.
 */
const CP1252_HIGH = '\u20ac\x81\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\x8d\u017d\x8f' +
  '\x90\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\x9d\u017e\u0178';
const C1 = /[\x80-\x9f]/g;
function decodeWindows1252(buf: Uint8Array): string {
  const latin1 = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString('latin1');
  C1.lastIndex = 0;
  return C1.test(latin1) ? latin1.replace(C1, (c) => CP1252_HIGH[c.charCodeAt(0) - 0x80]!) : latin1;
}
const win1252 = { decode: decodeWindows1252 };

/** UTF-8 when the bytes are valid UTF-8, otherwise windows-1252 (what mail programs guess). */
export function decodeUtf8OrLatin1(buf: Uint8Array): string {
  if (isAscii(buf)) return Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString('latin1');
  try {
    return utf8Fatal.decode(buf);
  } catch {
    // bytes cut from a longer text (a decode window) may end inside a character: valid UTF-8 before it
    // is still UTF-8, not windows-1252
    const cut = incompleteUtf8Tail(buf);
    if (cut > 0) {
      try {
        return utf8Fatal.decode(buf.subarray(0, buf.length - cut));
      } catch {
        /* not UTF-8 after all */
      }
    }
    return win1252.decode(buf);
  }
}

/** Bytes at the end of `buf` that begin a UTF-8 sequence the buffer cuts short (0 when none). */
function incompleteUtf8Tail(buf: Uint8Array): number {
  let i = buf.length - 1;
  let continuation = 0;
  while (i >= 0 && continuation < 3 && (buf[i]! & 0xc0) === 0x80) {
    i--;
    continuation++;
  }
  if (i < 0) return 0;
  const lead = buf[i]!;
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  const have = buf.length - i;
  return need > have ? have : 0;
}

/** Decodes RFC 2047 encoded words in a header value (adjacent words joined, whitespace between dropped). */
export function decodeWords(value: string): string {
  if (!value.includes('=?')) return value;
  const re = /=\?([^?\s]{1,64})\?([bBqQ])\?([^?\s]*)\?=/g;
  let out = '';
  let last = 0;
  let prevWasWord = false;
  let m: RegExpExecArray | null;
  // join adjacent words of one charset before decoding, so multi-byte characters split across words survive
  let pendingCs = '';
  let pending: Buffer[] = [];
  const flush = (): void => {
    if (pending.length) out += decodeCharset(Buffer.concat(pending), pendingCs);
    pending = [];
  };
  while ((m = re.exec(value)) !== null) {
    const between = value.slice(last, m.index);
    if (!(prevWasWord && /^\s*$/.test(between))) {
      flush();
      out += between;
    }
    const cs = m[1]!.split('*')[0]!;
    const enc = m[2]!.toLowerCase();
    const text = m[3]!;
    const bytes =
      enc === 'b'
        ? decodeBase64(Buffer.from(text, 'latin1')).data
        : decodeQuotedPrintable(Buffer.from(text.replace(/_/g, ' '), 'latin1')).data;
    if (pending.length && cs.toLowerCase() !== pendingCs.toLowerCase()) flush();
    pendingCs = cs;
    pending.push(Buffer.from(bytes));
    last = re.lastIndex;
    prevWasWord = true;
  }
  flush();
  out += value.slice(last);
  return out;
}
