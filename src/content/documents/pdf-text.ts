// Text of a PDF, roughly as a reader shows it, for the checks that look for sensitive text in
// attachments (the data-leak check): page content is compressed, and each piece of text is drawn by
// an operator whose string goes through a font's encoding or ToUnicode CMap, so a card number is
// invisible in the raw bytes. This module reads it back.
//
// How: indirect objects and their streams are found by scanning for `N G obj` (xref offsets are not
// trusted; a later object with the same number wins), object streams are opened for the dictionaries
// they hold, streams are decoded (Flate, LZW, ASCIIHex, ASCII85, RunLength; images are skipped), pages
// are walked from the catalog and their content streams (and the form XObjects they draw) interpreted
// for the text operators. Glyph widths and text positions tell where a word or a line ends, so a
// number drawn in pieces comes out as one run. Streams no page draws but which hold text (annotation
// appearances, pages lost from a broken page tree) are read after the pages, with fonts found by name
// anywhere in the file. An encrypted file is opened with the empty user password when that works (a
// PDF locked only against printing or copying; pdf-crypt.ts) and its streams decrypted before decoding.
//
// Bounded: at most limits.maxStreams streams decoded, limits.maxInflatedBytes bytes produced by all
// filters together, limits.maxChars characters out; time linear in the input (every search for a
// keyword resumes where the last one ended). Whenever text may be missing (a password needed, a budget
// reached, a stream or font that cannot be decoded) `truncated` says so in plain words; it is absent
// only when everything was read. Never throws: every failure ends as a `truncated` note.
import zlib from 'node:zlib';
import type { DocumentText } from './types.js';
import { openStandardSecurity, type StandardEncryption } from './pdf-crypt.js';

export type { DocumentText } from './types.js';

export interface PdfTextLimits {
  /** Characters of text returned at most. */
  maxChars: number;
  /** Bytes all stream filters together may produce (inflate, LZW, ASCII85...). */
  maxInflatedBytes: number;
  /** Streams decoded at most. */
  maxStreams: number;
}

/** Indirect objects kept at most (a file of nothing but `1 0 obj` must not fill memory). */
const MAX_OBJECTS = 1_000_000;
/** Pages walked at most. */
const MAX_PAGES = 200_000;
/** Nesting of arrays and dictionaries parsed; deeper brackets are read as flat tokens. */
const MAX_DEPTH = 64;
/** Form XObjects drawn inside form XObjects, at most. */
const MAX_FORM_DEPTH = 12;
/** Entries a ToUnicode CMap may expand to (larger ranges stay ranges). */
const MAX_CMAP_ENTRIES = 300_000;
/** Notes kept in `truncated`. */
const MAX_NOTES = 6;
/** A TJ adjustment below this (thousandths of an em, negative = moves right) is a word gap. */
const TJ_WORD_GAP = -200;
/** A move right by more than this many ems between two strings on one line is a word gap. */
const WORD_GAP_EM = 0.2;
/** A move across the baseline by more than this many ems is a new line. */
const LINE_GAP_EM = 0.5;

// ---------------------------------------------------------------------------------------------
// Lexical layer: the same tokens serve object syntax, content streams and CMaps.

/** Character classes: 1 whitespace, 2 delimiter, 0 regular. */
const CLASS = new Uint8Array(256);
for (const c of [0, 9, 10, 12, 13, 32]) CLASS[c] = 1;
for (const c of '()<>[]{}/%') CLASS[c.charCodeAt(0)] = 2;
const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX['0123456789abcdef'.charCodeAt(i)] = i;
  HEX['0123456789ABCDEF'.charCodeAt(i)] = i;
}
const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 48 && c <= 57;

class Name {
  constructor(readonly v: string) {}
}
class Ref {
  constructor(
    readonly num: number,
    readonly gen: number,
  ) {}
}
/** A keyword, operator or delimiter token. */
class Kw {
  constructor(readonly v: string) {}
}

type Value = null | boolean | number | Name | Buffer | Ref | Value[] | Dict;
type Dict = Map<string, Value>;
type Token = number | Name | Buffer | Kw;

const KW: Record<string, Kw> = {};
for (const k of ['[', ']', '<<', '>>', '{', '}', '>', ')', '']) KW[k] = new Kw(k);

class Lexer {
  pos: number;
  /** Where the last token returned by next() began. */
  tokStart = 0;

  constructor(
    readonly b: Buffer,
    pos: number,
    readonly end: number,
  ) {
    this.pos = pos;
  }

  private skipSpace(): void {
    const b = this.b;
    const end = this.end;
    let p = this.pos;
    while (p < end) {
      const c = b[p]!;
      if (CLASS[c] === 1) p++;
      else if (c === 37) {
        while (p < end && b[p] !== 10 && b[p] !== 13) p++;
      } else break;
    }
    this.pos = p;
  }

  next(): Token | undefined {
    this.skipSpace();
    const b = this.b;
    const end = this.end;
    const p = this.pos;
    if (p >= end) return undefined;
    this.tokStart = p;
    const c = b[p]!;
    switch (c) {
      case 0x28: // (
        return this.literal();
      case 0x2f: // /
        return this.name();
      case 0x3c: // <
        if (b[p + 1] === 0x3c && p + 1 < end) {
          this.pos = p + 2;
          return KW['<<']!;
        }
        return this.hex();
      case 0x3e: // >
        if (b[p + 1] === 0x3e && p + 1 < end) {
          this.pos = p + 2;
          return KW['>>']!;
        }
        this.pos = p + 1;
        return KW['>']!;
      case 0x5b:
        this.pos = p + 1;
        return KW['[']!;
      case 0x5d:
        this.pos = p + 1;
        return KW[']']!;
      case 0x7b:
        this.pos = p + 1;
        return KW['{']!;
      case 0x7d:
        this.pos = p + 1;
        return KW['}']!;
      case 0x29:
        this.pos = p + 1;
        return KW[')']!;
    }
    let q = p;
    while (q < end && CLASS[b[q]!] === 0) q++;
    this.pos = q;
    if (q - p > 64) return KW['']!; // no real token is this long: junk, not worth a string
    const s = b.toString('latin1', p, q);
    if (isDigit(c) || c === 0x2b || c === 0x2d || c === 0x2e) {
      const n = Number(s);
      if (!Number.isNaN(n)) return n;
      const f = parseFloat(s);
      if (!Number.isNaN(f)) return f;
    }
    return new Kw(s);
  }

  private name(): Name {
    const b = this.b;
    let q = this.pos + 1;
    while (q < this.end && CLASS[b[q]!] === 0) q++;
    const raw = b.toString('latin1', this.pos + 1, q);
    this.pos = q;
    if (!raw.includes('#')) return new Name(raw);
    return new Name(raw.replace(/#([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))));
  }

  /** A literal string: balanced parentheses, backslash escapes, octal, line continuation. */
  private literal(): Buffer {
    const b = this.b;
    const end = this.end;
    const start = this.pos + 1;
    let depth = 1;
    let q = start;
    let escapes = false;
    while (q < end) {
      const c = b[q]!;
      if (c === 0x5c) {
        escapes = true;
        q += 2;
        continue;
      }
      if (c === 0x28) depth++;
      else if (c === 0x29 && --depth === 0) break;
      q++;
    }
    const stop = Math.min(q, end);
    this.pos = Math.min(q + 1, end);
    if (!escapes) return b.subarray(start, stop);
    const out = Buffer.allocUnsafe(stop - start);
    let o = 0;
    for (let i = start; i < stop; i++) {
      let c = b[i]!;
      if (c !== 0x5c) {
        out[o++] = c;
        continue;
      }
      if (++i >= stop) break;
      c = b[i]!;
      switch (c) {
        case 0x6e: out[o++] = 10; break; // \n
        case 0x72: out[o++] = 13; break; // \r
        case 0x74: out[o++] = 9; break; // \t
        case 0x62: out[o++] = 8; break; // \b
        case 0x66: out[o++] = 12; break; // \f
        case 0x0d: // backslash-newline: the string continues, no character
          if (b[i + 1] === 0x0a) i++;
          break;
        case 0x0a:
          break;
        default:
          if (c >= 0x30 && c <= 0x37) {
            let v = c - 0x30;
            for (let k = 0; k < 2 && i + 1 < stop && b[i + 1]! >= 0x30 && b[i + 1]! <= 0x37; k++) v = v * 8 + b[++i]! - 0x30;
            out[o++] = v & 0xff;
          } else {
            out[o++] = c; // \( \) \\ and unknown escapes: the character itself
          }
      }
    }
    return out.subarray(0, o);
  }

  /** A hex string; whitespace ignored, an odd last digit padded with 0. */
  private hex(): Buffer {
    const b = this.b;
    const start = this.pos + 1;
    const close = b.indexOf(0x3e, start);
    const stop = close < 0 || close >= this.end ? this.end : close;
    this.pos = Math.min(stop + 1, this.end);
    const out = Buffer.allocUnsafe(((stop - start) >> 1) + 1);
    let o = 0;
    let hi = -1;
    for (let i = start; i < stop; i++) {
      const v = HEX[b[i]!]!;
      if (v < 0) continue;
      if (hi < 0) hi = v;
      else {
        out[o++] = (hi << 4) | v;
        hi = -1;
      }
    }
    if (hi >= 0) out[o++] = hi << 4;
    return out.subarray(0, o);
  }
}

/** Tokens skipped as noise inside arrays and dictionaries. */
const NOISE = new Set(['>', '{', '}', ')', '']);

/** The value starting with `tok`; a keyword that is no value is returned as is. */
function parseValue(lx: Lexer, tok: Token, refs: boolean, depth: number): Value | Kw {
  if (typeof tok === 'number') {
    if (refs && Number.isInteger(tok) && tok >= 0) {
      const pos = lx.pos;
      const start = lx.tokStart;
      const gen = lx.next();
      if (typeof gen === 'number' && Number.isInteger(gen) && gen >= 0) {
        const r = lx.next();
        if (r instanceof Kw && r.v === 'R') return new Ref(tok, gen);
      }
      lx.pos = pos;
      lx.tokStart = start;
    }
    return tok;
  }
  if (!(tok instanceof Kw)) return tok;
  switch (tok.v) {
    case '[':
      return depth >= MAX_DEPTH ? null : parseArray(lx, refs, depth + 1);
    case '<<':
      return depth >= MAX_DEPTH ? null : parseDict(lx, refs, depth + 1);
    case 'true':
      return true;
    case 'false':
      return false;
    case 'null':
      return null;
    default:
      return tok;
  }
}

function parseArray(lx: Lexer, refs: boolean, depth: number): Value[] {
  const arr: Value[] = [];
  for (;;) {
    const t = lx.next();
    if (t === undefined) return arr;
    const v = parseValue(lx, t, refs, depth);
    if (v instanceof Kw) {
      if (v.v === ']') return arr;
      if (NOISE.has(v.v)) continue;
      lx.pos = lx.tokStart; // a keyword ends a broken array: leave it to the caller
      return arr;
    }
    arr.push(v);
  }
}

function parseDict(lx: Lexer, refs: boolean, depth: number): Dict {
  const d: Dict = new Map();
  for (;;) {
    const t = lx.next();
    if (t === undefined) return d;
    if (t instanceof Kw) {
      if (t.v === '>>') return d;
      if (NOISE.has(t.v) || t.v === ']') continue;
      lx.pos = lx.tokStart;
      return d;
    }
    if (!(t instanceof Name)) continue;
    const vt = lx.next();
    if (vt === undefined) return d;
    const v = parseValue(lx, vt, refs, depth);
    if (v instanceof Kw) {
      if (v.v === '>>') return d;
      if (NOISE.has(v.v) || v.v === ']') continue;
      lx.pos = lx.tokStart;
      return d;
    }
    d.set(t.v, v);
  }
}

/** Finds `pat` from a position on; repeated searches that move forward reuse the last answer (linear overall). */
function finder(b: Buffer, pat: string): (from: number) => number {
  const needle = Buffer.from(pat, 'latin1');
  let lastFrom = -1;
  let lastHit = -1;
  return (from) => {
    if (lastFrom >= 0 && from >= lastFrom && (lastHit < 0 || from <= lastHit)) return lastHit;
    lastFrom = from;
    lastHit = b.indexOf(needle, from);
    return lastHit;
  };
}

// ---------------------------------------------------------------------------------------------
// Stream filters. Each returns its output (perhaps partial) and an error when it could not finish.

interface Decoded {
  out: Buffer;
  err?: string;
  /** The output would pass the inflated-bytes budget. */
  over?: boolean;
}

const SYNC = zlib.constants.Z_SYNC_FLUSH;

/** Inflate `data` whole (finish) or as far as it goes (sync flush: a stream cut short gives what it holds). */
function inflateOnce(data: Buffer, raw: boolean, cap: number, partial: boolean): Buffer {
  const opts: zlib.ZlibOptions = { maxOutputLength: Math.max(1, Math.min(cap, 0x7fffffff)) };
  if (partial) opts.finishFlush = SYNC;
  return raw ? zlib.inflateRawSync(data, opts) : zlib.inflateSync(data, opts);
}

const tooLarge = (e: unknown): boolean => (e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError;
const cutShort = (e: unknown): boolean => (e as { code?: string }).code === 'Z_BUF_ERROR';

/**
 * Inflate with at most `cap` bytes out. A zlib header that is not one is read as raw deflate; a stream
 * cut short yields what it holds; a stream broken part-way yields what inflates before the break (the
 * longest prefix that inflates, found by halving). Both come with an error.
 */
function inflate(data: Buffer, cap: number): Decoded {
  let d = data;
  let k = 0;
  while (k < d.length && k < 4 && CLASS[d[k]!] === 1) k++; // stray EOL bytes before the header
  d = d.subarray(k);
  const zlibHeader = d.length >= 2 && (d[0]! & 0x0f) === 8 && ((d[0]! << 8) | d[1]!) % 31 === 0;
  const tries: Array<[Buffer, boolean]> = zlibHeader ? [[d, false], [d.subarray(2), true]] : [[d, true], [d, false]];
  let firstErr = '';
  for (const [input, raw] of tries) {
    // the second reading only stands in for a bad header: after a data error in the first, its output is suspect
    const suspect = firstErr !== '' && !/header|compression method|window size/i.test(firstErr);
    try {
      const out = inflateOnce(input, raw, cap, false);
      return suspect ? { out, err: `invalid deflate data (${firstErr})` } : { out };
    } catch (e) {
      if (tooLarge(e)) return { out: Buffer.alloc(0), over: true };
      if (cutShort(e)) {
        try {
          return { out: inflateOnce(input, raw, cap, true), err: suspect ? `invalid deflate data (${firstErr})` : 'compressed data cut short' };
        } catch (e2) {
          if (tooLarge(e2)) return { out: Buffer.alloc(0), over: true };
        }
      }
      firstErr ||= (e as Error).message;
    }
  }
  // broken part-way: the longest prefix that inflates, by halving (fewer tries on a large stream, so
  // that a large broken stream costs at most ~10 inflations of itself)
  const [input, raw] = tries[0]!;
  let lo = 0;
  let hi = input.length;
  let best: Buffer = Buffer.alloc(0);
  const maxTries = input.length <= 1 << 18 ? 24 : 10;
  for (let n = 0; n < maxTries && hi - lo > 1; n++) {
    const mid = (lo + hi) >>> 1;
    try {
      best = inflateOnce(input.subarray(0, mid), raw, cap, true);
      lo = mid;
    } catch (e) {
      if (tooLarge(e)) return { out: best, over: true };
      hi = mid;
    }
  }
  return { out: best, err: `invalid deflate data (${firstErr})` };
}

/** Output buffer that grows to at most `cap` bytes. */
class Sink {
  buf: Buffer;
  n = 0;
  over = false;
  constructor(
    hint: number,
    readonly cap: number,
  ) {
    this.buf = Buffer.allocUnsafe(Math.max(16, Math.min(hint, cap)));
  }
  /** Room for `k` more bytes; false (and `over`) when the cap forbids it. */
  room(k: number): boolean {
    const need = this.n + k;
    if (need > this.cap) {
      this.over = true;
      return false;
    }
    if (need > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.min(this.cap, Math.max(need, this.buf.length * 2)));
      this.buf.copy(next, 0, 0, this.n);
      this.buf = next;
    }
    return true;
  }
  push(c: number): boolean {
    if (!this.room(1)) return false;
    this.buf[this.n++] = c;
    return true;
  }
  done(err?: string): Decoded {
    const r: Decoded = { out: this.buf.subarray(0, this.n) };
    if (this.over) r.over = true;
    if (err) r.err = err;
    return r;
  }
}

function asciiHex(data: Buffer, cap: number): Decoded {
  const s = new Sink(data.length >> 1, cap);
  let hi = -1;
  for (let i = 0; i < data.length; i++) {
    const c = data[i]!;
    if (c === 0x3e) break;
    const v = HEX[c]!;
    if (v < 0) {
      if (CLASS[c] === 1) continue;
      return s.done('invalid ASCIIHex character');
    }
    if (hi < 0) hi = v;
    else {
      if (!s.push((hi << 4) | v)) return s.done();
      hi = -1;
    }
  }
  if (hi >= 0) s.push(hi << 4);
  return s.done();
}

function ascii85(data: Buffer, cap: number): Decoded {
  const s = new Sink(data.length, cap);
  let i = 0;
  while (i < data.length && CLASS[data[i]!] === 1) i++;
  if (data[i] === 0x3c && data[i + 1] === 0x7e) i += 2; // <~
  let group = 0;
  let n = 0;
  const emit = (v: number, bytes: number): boolean => {
    for (let k = 0; k < bytes; k++) if (!s.push(Math.floor(v / 2 ** (24 - 8 * k)) & 0xff)) return false;
    return true;
  };
  let err: string | undefined;
  for (; i < data.length; i++) {
    const c = data[i]!;
    if (CLASS[c] === 1) continue;
    if (c === 0x7e) break; // ~>
    if (c === 0x7a && n === 0) {
      if (!emit(0, 4)) return s.done();
      continue;
    }
    if (c < 33 || c > 117) {
      err = 'invalid ASCII85 character';
      break;
    }
    group = group * 85 + (c - 33);
    if (++n === 5) {
      if (!emit(group % 2 ** 32, 4)) return s.done();
      group = 0;
      n = 0;
    }
  }
  if (n > 1) {
    for (let k = n; k < 5; k++) group = group * 85 + 84;
    emit(group % 2 ** 32, n - 1);
  }
  return s.done(err);
}

function lzw(data: Buffer, cap: number, early: number): Decoded {
  const s = new Sink(data.length * 3, cap);
  const prefix = new Int16Array(4096);
  const last = new Uint8Array(4096);
  const first = new Uint8Array(4096);
  const len = new Uint16Array(4096);
  for (let i = 0; i < 256; i++) {
    prefix[i] = -1;
    last[i] = i;
    first[i] = i;
    len[i] = 1;
  }
  let next = 258;
  let width = 9;
  let prev = -1;
  let bits = 0;
  let nbits = 0;
  for (let i = 0; i < data.length; i++) {
    bits = ((bits << 8) | data[i]!) & 0xffffff;
    nbits += 8;
    while (nbits >= width) {
      const code = (bits >>> (nbits - width)) & ((1 << width) - 1);
      nbits -= width;
      if (code === 256) {
        next = 258;
        width = 9;
        prev = -1;
        continue;
      }
      if (code === 257) return s.done();
      let L: number;
      if (code < 256 || (code >= 258 && code < next)) L = len[code]!;
      else if (code === next && prev >= 0) L = len[prev]! + 1;
      else return s.done('invalid LZW code');
      if (!s.room(L)) return s.done();
      const o = s.n;
      const buf = s.buf;
      if (code < next) {
        let c = code;
        for (let k = L - 1; k >= 0; k--) {
          buf[o + k] = last[c]!;
          c = prefix[c]!;
        }
      } else {
        let c = prev;
        for (let k = L - 2; k >= 0; k--) {
          buf[o + k] = last[c]!;
          c = prefix[c]!;
        }
        buf[o + L - 1] = first[prev]!;
      }
      s.n += L;
      if (prev >= 0 && next < 4096) {
        prefix[next] = prev;
        last[next] = buf[o]!;
        first[next] = first[prev]!;
        len[next] = len[prev]! + 1;
        next++;
      }
      prev = code;
      if (next + early >= 1 << width && width < 12) width++;
    }
  }
  return s.done();
}

function runLength(data: Buffer, cap: number): Decoded {
  const s = new Sink(data.length * 2, cap);
  for (let i = 0; i < data.length; ) {
    const n = data[i++]!;
    if (n === 128) break;
    if (n < 128) {
      const k = Math.min(n + 1, data.length - i);
      if (!s.room(k)) return s.done();
      data.copy(s.buf, s.n, i, i + k);
      s.n += k;
      i += k;
    } else {
      if (i >= data.length) break;
      const k = 257 - n;
      if (!s.room(k)) return s.done();
      s.buf.fill(data[i]!, s.n, s.n + k);
      s.n += k;
      i++;
    }
  }
  return s.done();
}

const FILTER_ALIASES: Record<string, string> = {
  Fl: 'FlateDecode', AHx: 'ASCIIHexDecode', A85: 'ASCII85Decode', LZW: 'LZWDecode', RL: 'RunLengthDecode',
  DCT: 'DCTDecode', CCF: 'CCITTFaxDecode',
};
const IMAGE_FILTERS = new Set(['DCTDecode', 'JPXDecode', 'CCITTFaxDecode', 'JBIG2Decode']);

// ---------------------------------------------------------------------------------------------
// Fonts: how the codes of a shown string become text, and how far each moves the pen.

/** Windows-1252 at 0x80-0x9f (undefined codes as Latin-1 controls). */
const CP1252_HIGH = '€\x81‚ƒ„…†‡ˆ‰Š‹Œ\x8dŽ\x8f\x90‘’“”•–—˜™š›œ\x9džŸ';
const WIN_ANSI: string[] = [];
for (let i = 0; i < 256; i++) WIN_ANSI.push(i >= 0x80 && i < 0xa0 ? CP1252_HIGH[i - 0x80]! : String.fromCharCode(i));
const MAC_HIGH =
  'ÄÅÇÉÑÖÜáàâäãåçéèêëíìîïñóòôöõúùûü†°¢£§•¶ß®©™´¨≠ÆØ∞±≤≥¥µ∂∑∏π∫ªºΩæø¿¡¬√ƒ≈∆«»… ÀÃÕŒœ–—“”‘’÷◊ÿŸ⁄€‹›ﬁﬂ‡·‚„‰ÂÊÁËÈÍÎÏÌÓÔ\uf8ffÒÚÛÙıˆ˜¯˘˙˚¸˝˛ˇ';
const MAC_ROMAN: string[] = WIN_ANSI.map((c, i) => (i >= 0x80 ? (MAC_HIGH[i - 0x80] ?? c) : c));

const GLYPHS: Record<string, string> = {
  space: ' ', exclam: '!', quotedbl: '"', numbersign: '#', dollar: '$', percent: '%', ampersand: '&', quotesingle: "'",
  quoteright: '’', quoteleft: '‘', parenleft: '(', parenright: ')', asterisk: '*', plus: '+', comma: ',', hyphen: '-',
  minus: '−', period: '.', slash: '/', zero: '0', one: '1', two: '2', three: '3', four: '4', five: '5', six: '6',
  seven: '7', eight: '8', nine: '9', colon: ':', semicolon: ';', less: '<', equal: '=', greater: '>', question: '?',
  at: '@', bracketleft: '[', backslash: '\\', bracketright: ']', asciicircum: '^', underscore: '_', grave: '`',
  braceleft: '{', bar: '|', braceright: '}', asciitilde: '~', endash: '–', emdash: '—', bullet: '•',
  quotedblleft: '“', quotedblright: '”', quotesinglbase: '‚', quotedblbase: '„', ellipsis: '…', dagger: '†',
  daggerdbl: '‡', fi: 'fi', fl: 'fl', ff: 'ff', ffi: 'ffi', ffl: 'ffl', nbspace: '\u00a0', sterling: '£', Euro: '€',
  euro: '€', yen: '¥', cent: '¢', section: '§', paragraph: '¶', degree: '°', copyright: '©', registered: '®',
  trademark: '™', germandbls: 'ß', ae: 'æ', AE: 'Æ', oe: 'œ', OE: 'Œ', oslash: 'ø', Oslash: 'Ø', eth: 'ð', Eth: 'Ð',
  thorn: 'þ', Thorn: 'Þ', dotlessi: 'ı', multiply: '×', divide: '÷', plusminus: '±', guillemotleft: '«',
  guillemotright: '»', exclamdown: '¡', questiondown: '¿', periodcentered: '·', tab: '\t',
};
const ACCENTS: Record<string, string> = {
  acute: '\u0301', grave: '\u0300', circumflex: '\u0302', dieresis: '\u0308', tilde: '\u0303', ring: '\u030a',
  cedilla: '\u0327', caron: '\u030c', macron: '\u0304', breve: '\u0306', ogonek: '\u0328', dotaccent: '\u0307',
  hungarumlaut: '\u030b',
};

/** The text of a glyph name (AGL subset, uniXXXX, uXXXX, accented letters, ligatures with _); undefined when unknown. */
function glyphText(name: string, depth = 0): string | undefined {
  const known = GLYPHS[name];
  if (known !== undefined) return known;
  if (/^[A-Za-z]$/.test(name)) return name;
  let m = /^uni((?:[0-9A-Fa-f]{4})+)$/.exec(name);
  if (m) {
    let s = '';
    for (let i = 0; i < m[1]!.length; i += 4) s += String.fromCharCode(parseInt(m[1]!.slice(i, i + 4), 16));
    return s;
  }
  m = /^u([0-9A-Fa-f]{4,6})$/.exec(name);
  if (m) {
    const cp = parseInt(m[1]!, 16);
    return cp <= 0x10ffff ? String.fromCodePoint(cp) : undefined;
  }
  m = /^([A-Za-z])(acute|grave|circumflex|dieresis|tilde|ring|cedilla|caron|macron|breve|ogonek|dotaccent|hungarumlaut)$/.exec(name);
  if (m) return (m[1]! + ACCENTS[m[2]!]!).normalize('NFC');
  if (depth > 0) return undefined;
  const dot = name.indexOf('.');
  if (dot > 0) return glyphText(name.slice(0, dot), 1);
  if (name.includes('_')) {
    const parts = name.split('_').map((p) => glyphText(p, 1));
    return parts.every((p) => p !== undefined) ? parts.join('') : undefined;
  }
  return undefined;
}

/** Decode a UTF-16BE destination string of a CMap (a single byte as Latin-1). */
function utf16be(b: Buffer): string {
  if (b.length === 1) return String.fromCharCode(b[0]!);
  let s = '';
  for (let i = 0; i + 1 < b.length; i += 2) s += String.fromCharCode((b[i]! << 8) | b[i + 1]!);
  return s;
}

const codeOf = (b: Buffer): number => {
  let v = 0;
  for (let i = 0; i < b.length; i++) v = v * 256 + b[i]!;
  return v;
};

interface CodeSpace {
  lo: Buffer;
  hi: Buffer;
}

/** A ToUnicode (or encoding) CMap: code lengths, and what each code reads as. */
class CMap {
  /** Codespace ranges, shortest first. */
  spaces: CodeSpace[] = [];
  /** code * 8 + length → text. */
  map = new Map<number, string>();
  /** Ranges too large to expand, sorted by length then start. */
  ranges: Array<{ len: number; lo: number; hi: number; dst: Buffer | Value[] }> = [];
  /** The one length of all mapped codes, 0 when they differ or there are none. */
  keyLen = 0;
  private lens = new Set<number>();

  lookup(code: number, len: number): string | undefined {
    const hit = this.map.get(code * 8 + len);
    if (hit !== undefined || this.ranges.length === 0) return hit;
    let lo = 0;
    let hi = this.ranges.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = this.ranges[mid]!;
      if (r.len < len || (r.len === len && r.lo <= code)) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    const r = found >= 0 ? this.ranges[found] : undefined;
    if (!r || r.len !== len || code > r.hi) return undefined;
    return rangeText(r.dst, code - r.lo);
  }

  /** Bytes in the code at `i` of `s`, by the codespace ranges; `fallback` when none matches. */
  codeLen(s: Buffer, i: number, fallback: number): number {
    outer: for (const sp of this.spaces) {
      const n = sp.lo.length;
      if (i + n > s.length) continue;
      for (let k = 0; k < n; k++) {
        const c = s[i + k]!;
        if (c < sp.lo[k]! || c > sp.hi[k]!) continue outer;
      }
      return n;
    }
    return fallback;
  }

  noteLen(len: number): void {
    this.lens.add(len);
    this.keyLen = this.lens.size === 1 ? len : 0;
  }
}

/** The text of the `k`th code of a bfrange: the destination with its last UTF-16 unit advanced, or the kth array element. */
function rangeText(dst: Buffer | Value[], k: number): string | undefined {
  if (Array.isArray(dst)) {
    const d = dst[k];
    return Buffer.isBuffer(d) ? utf16be(d) : undefined;
  }
  const s = utf16be(dst);
  if (s.length === 0) return undefined;
  return s.slice(0, -1) + String.fromCharCode((s.charCodeAt(s.length - 1) + k) & 0xffff);
}

function parseCMap(bytes: Buffer): CMap {
  const cm = new CMap();
  const lx = new Lexer(bytes, 0, bytes.length);
  let mode = '';
  let items: Value[] = [];
  let budget = MAX_CMAP_ENTRIES;
  for (;;) {
    const t = lx.next();
    if (t === undefined) break;
    if (!(t instanceof Kw)) {
      if (mode && items.length < 1_000_000) items.push(t);
      continue;
    }
    switch (t.v) {
      case 'begincodespacerange':
      case 'beginbfchar':
      case 'beginbfrange':
        mode = t.v;
        items = [];
        break;
      case '[':
        if (mode) items.push(parseArray(lx, false, 1));
        break;
      case 'endcodespacerange':
        for (let i = 0; i + 1 < items.length; i += 2) {
          const lo = items[i];
          const hi = items[i + 1];
          if (Buffer.isBuffer(lo) && Buffer.isBuffer(hi) && lo.length === hi.length && lo.length >= 1 && lo.length <= 4 && cm.spaces.length < 64)
            cm.spaces.push({ lo, hi });
        }
        cm.spaces.sort((a, b) => a.lo.length - b.lo.length);
        mode = '';
        break;
      case 'endbfchar':
        for (let i = 0; i + 1 < items.length; i += 2) {
          const src = items[i];
          const dst = items[i + 1];
          if (!Buffer.isBuffer(src) || src.length < 1 || src.length > 4) continue;
          const text = Buffer.isBuffer(dst) ? utf16be(dst) : dst instanceof Name ? glyphText(dst.v) : undefined;
          if (text === undefined) continue;
          cm.map.set(codeOf(src) * 8 + src.length, text);
          cm.noteLen(src.length);
        }
        mode = '';
        break;
      case 'endbfrange':
        for (let i = 0; i + 2 < items.length; i += 3) {
          const a = items[i];
          const b = items[i + 1];
          const dst = items[i + 2];
          if (!Buffer.isBuffer(a) || !Buffer.isBuffer(b) || a.length < 1 || a.length > 4 || b.length !== a.length) continue;
          if (!Buffer.isBuffer(dst) && !Array.isArray(dst)) continue;
          const lo = codeOf(a);
          const hi = codeOf(b);
          if (hi < lo) continue;
          cm.noteLen(a.length);
          if (hi - lo < budget) {
            budget -= hi - lo + 1;
            for (let c = lo; c <= hi; c++) {
              const text = rangeText(dst, c - lo);
              if (text !== undefined) cm.map.set(c * 8 + a.length, text);
            }
          } else if (cm.ranges.length < 100_000) {
            cm.ranges.push({ len: a.length, lo, hi, dst });
          }
        }
        mode = '';
        break;
      default:
        if (t.v.startsWith('end')) mode = '';
    }
  }
  cm.ranges.sort((x, y) => x.len - y.len || x.lo - y.lo);
  return cm;
}

interface Font {
  name: string;
  /** Composite (Type0) font: codes of 1-4 bytes by its CMap, else 2. */
  composite: boolean;
  toUnicode?: CMap;
  /** Code lengths of a composite font from its embedded encoding CMap. */
  encoding?: CMap;
  /** Codes are UTF-16BE (a Uni…-UCS2/UTF16 encoding). */
  ucs2: boolean;
  /** Simple font: code → text. */
  table: string[];
  widths: Map<number, number>;
  defaultWidth: number;
}

const FALLBACK_FONT: Font = { name: '(none)', composite: false, ucs2: false, table: WIN_ANSI, widths: new Map(), defaultWidth: 500 };

// ---------------------------------------------------------------------------------------------
// The document: objects found by scanning, decoding within budgets, pages, fonts.

interface PdfObject {
  num: number;
  /** Generation number (a key input for decryption); 0 for objects inside object streams. */
  gen: number;
  value: Value;
  stream?: { start: number; end: number };
  decoded?: Buffer | null;
}

class Budget {
  notes: string[] = [];
  /** Set when the file is encrypted and cannot be opened without a password (or uses another handler). */
  encrypted = false;
  constructor(
    public streams: number,
    public inflate: number,
  ) {}
  note(s: string): void {
    if (this.notes.length < MAX_NOTES && !this.notes.includes(s)) this.notes.push(s);
  }
}

/** Text collected as pieces and joined once. */
class Out {
  parts: string[] = [];
  len = 0;
  full = false;
  /** Last character written ('\n' at the start). */
  last = '\n';
  constructor(
    readonly max: number,
    readonly budget: Budget,
  ) {}
  write(s: string): void {
    if (this.full || s.length === 0) return;
    if (this.len + s.length > this.max) {
      s = s.slice(0, this.max - this.len);
      this.full = true;
      this.budget.note(`output cut at ${this.max} characters`);
      if (s.length === 0) return;
    }
    this.parts.push(s);
    this.len += s.length;
    this.last = s[s.length - 1]!;
  }
  space(): void {
    if (this.last !== ' ' && this.last !== '\n' && this.last !== '\t') this.write(' ');
  }
  newline(): void {
    if (this.last !== '\n') this.write('\n');
  }
}

class PdfDoc {
  objects = new Map<number, PdfObject>();
  trailers: Dict[] = [];
  private fonts = new Map<Dict, Font>();
  private unionFonts: Map<string, Value> | undefined;
  /** Streams used as fonts, CMaps, ... (not content). */
  used = new Set<PdfObject>();
  /** Set for an encrypted file opened with the empty user password: decrypts one stream's bytes. */
  decryptStream: ((num: number, gen: number, data: Buffer) => Buffer) | undefined;

  constructor(
    readonly b: Buffer,
    readonly budget: Budget,
    readonly limits: PdfTextLimits,
  ) {}

  // ---- scanning ----

  scan(): void {
    const b = this.b;
    const OBJ = Buffer.from('obj');
    const nextEndobj = finder(b, 'endobj');
    const nextEndstream = finder(b, 'endstream');
    let pos = 0;
    while (pos < b.length) {
      const i = b.indexOf(OBJ, pos);
      if (i < 0) break;
      pos = i + 3;
      const head = this.objHeader(i);
      if (head === undefined) continue;
      const { num, gen } = head;
      if (this.objects.size >= MAX_OBJECTS && !this.objects.has(num)) {
        this.budget.note(`more than ${MAX_OBJECTS} objects`);
        break;
      }
      const eo = nextEndobj(i + 3);
      const lx = new Lexer(b, i + 3, eo < 0 ? b.length : eo);
      const t = lx.next();
      let value: Value = null;
      if (t !== undefined) {
        const v = parseValue(lx, t, true, 0);
        if (v instanceof Kw) lx.pos = lx.tokStart;
        else value = v;
      }
      const obj: PdfObject = { num, gen, value };
      pos = Math.max(pos, lx.pos);
      if (value instanceof Map) {
        const kw = lx.next();
        if (kw instanceof Kw && kw.v === 'stream') {
          let p = lx.pos;
          while (b[p] === 0x20 && p < lx.pos + 8) p++;
          if (b[p] === 0x0d) p++;
          if (b[p] === 0x0a) p++;
          const start = Math.min(p, b.length);
          let end = -1;
          const len = value.get('Length');
          if (typeof len === 'number' && Number.isInteger(len) && len >= 0 && start + len <= b.length) {
            let q = start + len;
            while (q < b.length && CLASS[b[q]!] === 1 && q < start + len + 8) q++;
            if (b.toString('latin1', q, q + 9) === 'endstream') end = start + len;
          }
          if (end < 0) {
            const k = nextEndstream(start);
            if (k < 0) this.budget.note(`stream ${num} is cut short`);
            end = k < 0 ? b.length : k;
            if (end > start && b[end - 1] === 0x0a) end--;
            if (end > start && b[end - 1] === 0x0d) end--;
          }
          obj.stream = { start, end };
          pos = Math.max(pos, end);
        }
      }
      this.objects.set(num, obj);
    }
    // trailers (classic xref tables); xref streams are objects and are looked at by trailerDicts()
    const TRAILER = Buffer.from('trailer');
    pos = 0;
    for (let n = 0; n < 1000; n++) {
      const i = b.indexOf(TRAILER, pos);
      if (i < 0) break;
      pos = i + 7;
      const lx = new Lexer(b, pos, b.length);
      const t = lx.next();
      if (t instanceof Kw && t.v === '<<') this.trailers.push(parseDict(lx, true, 1));
    }
  }

  /** The numbers of `N G obj` whose keyword is at `i`; undefined when it is no object header. */
  private objHeader(i: number): { num: number; gen: number } | undefined {
    const b = this.b;
    if (i + 3 < b.length && CLASS[b[i + 3]!] === 0) return undefined;
    let p = i - 1;
    const skipWs = (): boolean => {
      const from = p;
      while (p >= 0 && CLASS[b[p]!] === 1 && from - p < 64) p--;
      return p < from;
    };
    if (!skipWs()) return undefined;
    let n = 0;
    let gen = 0;
    let genMul = 1;
    while (p >= 0 && isDigit(b[p]) && n < 6) {
      gen += (b[p]! - 48) * genMul;
      genMul *= 10;
      p--;
      n++;
    }
    if (n === 0 || !skipWs()) return undefined;
    let num = 0;
    let mul = 1;
    n = 0;
    while (p >= 0 && isDigit(b[p]) && n < 9) {
      num += (b[p]! - 48) * mul;
      mul *= 10;
      p--;
      n++;
    }
    if (n === 0 || (p >= 0 && CLASS[b[p]!] === 0)) return undefined;
    return { num, gen };
  }

  /** Objects kept in object streams (/Type /ObjStm); objects found directly in the file win. */
  readObjectStreams(): void {
    for (const obj of [...this.objects.values()]) {
      const d = obj.value;
      if (!obj.stream || !(d instanceof Map) || this.name(d.get('Type')) !== 'ObjStm') continue;
      this.used.add(obj);
      const data = this.decode(obj);
      if (!data) continue;
      const n = Math.min(this.num(d.get('N')) ?? 0, 200_000);
      const first = this.num(d.get('First')) ?? 0;
      const lx = new Lexer(data, 0, data.length);
      const heads: number[] = [];
      for (let k = 0; k < n * 2; k++) {
        const t = lx.next();
        if (typeof t !== 'number') break;
        heads.push(t);
      }
      for (let k = 0; k + 1 < heads.length; k += 2) {
        const num = heads[k]!;
        const at = first + heads[k + 1]!;
        if (this.objects.has(num) || !Number.isInteger(num) || num < 0 || at < 0 || at >= data.length) continue;
        const end = k + 3 < heads.length ? Math.min(data.length, first + heads[k + 3]!) : data.length;
        const vl = new Lexer(data, at, end > at ? end : data.length);
        const t = vl.next();
        if (t === undefined) continue;
        const v = parseValue(vl, t, true, 0);
        this.objects.set(num, { num, gen: 0, value: v instanceof Kw ? null : v });
      }
    }
  }

  /** Trailer dictionaries and xref-stream dictionaries, in file order. */
  trailerDicts(): Dict[] {
    const out = [...this.trailers];
    for (const o of this.objects.values()) if (o.value instanceof Map && this.name(o.value.get('Type')) === 'XRef') out.push(o.value);
    return out;
  }

  // ---- value access ----

  resolve(v: Value | undefined): Value | undefined {
    for (let n = 0; n < 16 && v instanceof Ref; n++) v = this.objects.get(v.num)?.value;
    return v instanceof Ref ? undefined : v;
  }
  dict(v: Value | undefined): Dict | undefined {
    const r = this.resolve(v);
    return r instanceof Map ? r : undefined;
  }
  arr(v: Value | undefined): Value[] | undefined {
    const r = this.resolve(v);
    return Array.isArray(r) ? r : undefined;
  }
  num(v: Value | undefined): number | undefined {
    const r = this.resolve(v);
    return typeof r === 'number' ? r : undefined;
  }
  name(v: Value | undefined): string | undefined {
    const r = this.resolve(v);
    return r instanceof Name ? r.v : undefined;
  }
  streamObj(v: Value | undefined): PdfObject | undefined {
    for (let n = 0; n < 16 && v instanceof Ref; n++) {
      const o = this.objects.get(v.num);
      if (o?.stream) return o;
      v = o?.value;
    }
    return undefined;
  }

  // ---- decoding ----

  /** True when the stream is an image (never decoded: no text in it). */
  isImage(obj: PdfObject): boolean {
    const d = obj.value as Dict;
    if (this.name(d.get('Subtype')) === 'Image') return true;
    return this.filters(d).some((f) => IMAGE_FILTERS.has(f));
  }

  private filters(d: Dict): string[] {
    const f = this.resolve(d.get('Filter') ?? d.get('F'));
    const list = f instanceof Name ? [f] : Array.isArray(f) ? f : [];
    const out: string[] = [];
    for (const x of list) {
      const n = this.name(x);
      if (n !== undefined) out.push(FILTER_ALIASES[n] ?? n);
    }
    return out;
  }

  /** The stream's decoded bytes, within the budgets; undefined when not decoded (reason noted). */
  decode(obj: PdfObject): Buffer | undefined {
    if (obj.decoded !== undefined) return obj.decoded ?? undefined;
    obj.decoded = null;
    if (!obj.stream || !(obj.value instanceof Map)) return undefined;
    const d = obj.value;
    if (this.isImage(obj)) return undefined;
    if (this.budget.streams <= 0) {
      this.budget.note(`more than ${this.limits.maxStreams} streams`);
      return undefined;
    }
    this.budget.streams--;
    let data = this.b.subarray(obj.stream.start, obj.stream.end);
    // cross-reference streams are never encrypted; every other stream of an encrypted file is
    if (this.decryptStream && this.name(d.get('Type')) !== 'XRef') data = this.decryptStream(obj.num, obj.gen, data);
    const filters = this.filters(d);
    const parmsV = this.resolve(d.get('DecodeParms') ?? d.get('DP'));
    for (let k = 0; k < filters.length; k++) {
      const f = filters[k]!;
      const parms = this.dict(Array.isArray(parmsV) ? parmsV[k] : parmsV);
      const cap = this.budget.inflate;
      if (cap <= 0) {
        this.budget.note(`more than ${this.limits.maxInflatedBytes} inflated bytes`);
        return undefined;
      }
      let r: Decoded;
      switch (f) {
        case 'FlateDecode': r = inflate(data, cap); break;
        case 'ASCIIHexDecode': r = asciiHex(data, cap); break;
        case 'ASCII85Decode': r = ascii85(data, cap); break;
        case 'LZWDecode': r = lzw(data, cap, this.num(parms?.get('EarlyChange')) ?? 1); break;
        case 'RunLengthDecode': r = runLength(data, cap); break;
        case 'Crypt':
          if ((this.name(parms?.get('Name')) ?? 'Identity') === 'Identity') continue;
          this.budget.note(`stream ${obj.num} could not be decoded: encrypted`);
          return undefined;
        default:
          this.budget.note(`stream ${obj.num} could not be decoded: unsupported filter ${f}`);
          return undefined;
      }
      this.budget.inflate -= r.out.length;
      if (r.over) {
        this.budget.inflate = 0;
        this.budget.note(`more than ${this.limits.maxInflatedBytes} inflated bytes`);
      }
      if (r.err) this.budget.note(`stream ${obj.num} could not be decoded: ${r.err}`);
      data = r.out;
      if (r.over && data.length === 0) return undefined;
    }
    obj.decoded = data;
    return data;
  }

  // ---- fonts ----

  /** The font a resource name stands for: from the resources, else from any resources in the file. */
  font(name: string, res: Dict | undefined): Font | undefined {
    let ref = this.dict(res?.get('Font'))?.get(name);
    if (ref === undefined) ref = this.globalFonts().get(name);
    const d = this.dict(ref);
    if (!d) return undefined;
    let f = this.fonts.get(d);
    if (!f) {
      f = this.loadFont(d, name);
      this.fonts.set(d, f);
    }
    return f;
  }

  /**
   * Every font resource name in the file to its font, for streams drawn without known resources.
   * A union: when one name means different fonts on different pages, the last one found is used.
   */
  private globalFonts(): Map<string, Value> {
    if (this.unionFonts) return this.unionFonts;
    const m = new Map<string, Value>();
    const add = (res: Dict | undefined): void => {
      const fonts = this.dict(res?.get('Font'));
      if (fonts) for (const [k, v] of fonts) m.set(k, v);
    };
    for (const o of this.objects.values()) {
      if (!(o.value instanceof Map)) continue;
      add(o.value);
      add(this.dict(o.value.get('Resources')));
    }
    for (const t of this.trailers) add(t);
    this.unionFonts = m;
    return m;
  }

  private loadFont(d: Dict, name: string): Font {
    const composite = this.name(d.get('Subtype')) === 'Type0';
    const font: Font = { name, composite, ucs2: false, table: WIN_ANSI, widths: new Map(), defaultWidth: 500 };
    const tu = this.streamObj(d.get('ToUnicode'));
    if (tu) {
      this.used.add(tu);
      const bytes = this.decode(tu);
      if (bytes) font.toUnicode = parseCMap(bytes);
    }
    const base = this.name(d.get('BaseFont')) ?? '';
    if (composite) {
      const enc = d.get('Encoding');
      const encName = this.name(enc);
      if (encName !== undefined) font.ucs2 = /UCS2|UTF16/i.test(encName);
      const encStream = this.streamObj(enc);
      if (encStream) {
        this.used.add(encStream);
        const bytes = this.decode(encStream);
        if (bytes) font.encoding = parseCMap(bytes);
      }
      const desc = this.dict(this.arr(d.get('DescendantFonts'))?.[0]);
      font.defaultWidth = this.num(desc?.get('DW')) ?? 1000;
      const w = this.arr(desc?.get('W'));
      if (w) this.cidWidths(w, font.widths);
    } else {
      font.table = this.simpleTable(d);
      const firstChar = this.num(d.get('FirstChar')) ?? 0;
      const widths = this.arr(d.get('Widths'));
      if (widths) for (let k = 0; k < widths.length && k < 256; k++) font.widths.set(firstChar + k, this.num(widths[k]) ?? 0);
      const fd = this.dict(d.get('FontDescriptor'));
      font.defaultWidth = this.num(fd?.get('MissingWidth')) || (/Courier/i.test(base) ? 600 : /Helvetica|Arial/i.test(base) ? 556 : 500);
      if (this.name(d.get('Subtype')) === 'Type3') {
        // Type3 widths are in glyph space, scaled by the font matrix (usually 0.001 or 1/N)
        const m = this.arr(d.get('FontMatrix'));
        const sx = (this.num(m?.[0]) ?? 0.001) * 1000;
        if (sx > 0 && sx !== 1) for (const [k, v] of font.widths) font.widths.set(k, v * sx);
      }
    }
    return font;
  }

  private cidWidths(w: Value[], out: Map<number, number>): void {
    for (let k = 0; k < w.length && out.size < 65536; ) {
      const c = this.num(w[k]);
      const next = this.resolve(w[k + 1]);
      if (c === undefined) break;
      if (Array.isArray(next)) {
        for (let j = 0; j < next.length && out.size < 65536; j++) out.set(c + j, this.num(next[j]) ?? 0);
        k += 2;
      } else {
        const last = this.num(next);
        const width = this.num(w[k + 2]);
        if (last === undefined || width === undefined) break;
        for (let j = c; j <= last && j - c < 65536 && out.size < 65536; j++) out.set(j, width);
        k += 3;
      }
    }
  }

  /** Code → text of a simple font: its base encoding with /Differences by glyph name. */
  private simpleTable(d: Dict): string[] {
    const enc = this.resolve(d.get('Encoding'));
    const baseName = enc instanceof Name ? enc.v : enc instanceof Map ? this.name(enc.get('BaseEncoding')) : undefined;
    const base = baseName === 'MacRomanEncoding' ? MAC_ROMAN : WIN_ANSI;
    const diffs = enc instanceof Map ? this.arr(enc.get('Differences')) : undefined;
    if (!diffs) return base;
    const table = base.slice();
    let code = 0;
    for (const x of diffs) {
      const v = this.resolve(x);
      if (typeof v === 'number') code = v;
      else if (v instanceof Name) {
        if (code >= 0 && code < 256) {
          const t = glyphText(v.v);
          if (t !== undefined) table[code] = t; // unknown names keep the base character
        }
        code++;
      }
    }
    return table;
  }
}

// ---------------------------------------------------------------------------------------------
// Content streams: the text operators, with positions to tell words and lines apart.

interface TextState {
  font: Font;
  size: number;
  tc: number;
  tw: number;
  th: number;
  tl: number;
}

class Interpreter {
  private st: TextState = { font: FALLBACK_FONT, size: 0, tc: 0, tw: 0, th: 1, tl: 0 };
  private stack: TextState[] = [];
  private tm = [1, 0, 0, 1, 0, 0];
  private tlm = [1, 0, 0, 1, 0, 0];
  private penX = 0;
  private penY = 0;
  private havePen = false;
  private pendingLine = false;
  /** Form XObjects already drawn (each is read once per document). */
  private forms = new Set<PdfObject>();
  private unreadable = new Set<string>();

  constructor(
    private readonly doc: PdfDoc,
    private readonly out: Out,
  ) {}

  /** A new page (or a stream read on its own): text continues on a new line. */
  startPage(): void {
    this.out.newline();
    this.havePen = false;
    this.pendingLine = false;
    this.st = { font: FALLBACK_FONT, size: 0, tc: 0, tw: 0, th: 1, tl: 0 };
    this.stack = [];
  }

  drawn(o: PdfObject): boolean {
    return this.forms.has(o);
  }

  /** Mark a form XObject read (true) or tell whether it was (false: already read). */
  claimForm(o: PdfObject): boolean {
    if (this.forms.has(o)) return false;
    this.forms.add(o);
    return true;
  }

  run(bytes: Buffer, res: Dict | undefined, depth: number): void {
    const lx = new Lexer(bytes, 0, bytes.length);
    const ops: Value[] = [];
    for (;;) {
      if (this.out.full) return;
      const t = lx.next();
      if (t === undefined) return;
      if (!(t instanceof Kw)) {
        if (ops.length >= 64) ops.length = 0; // no operator takes this many: junk
        ops.push(t);
        continue;
      }
      if (t.v === '[' || t.v === '<<') {
        const v = parseValue(lx, t, false, 0);
        if (!(v instanceof Kw)) ops.push(v);
        continue;
      }
      if (t.v === 'ID') {
        this.skipInlineImage(lx);
      } else {
        this.op(t.v, ops, res, depth);
      }
      ops.length = 0;
    }
  }

  /** Past an inline image's data: up to `EI` between whitespace (or the end). */
  private skipInlineImage(lx: Lexer): void {
    const b = lx.b;
    let p = lx.pos + 1;
    for (;;) {
      const k = b.indexOf('EI', p, 'latin1');
      if (k < 0 || k >= lx.end) {
        lx.pos = lx.end;
        return;
      }
      if (CLASS[b[k - 1]!] === 1 && (k + 2 >= lx.end || CLASS[b[k + 2]!] !== 0)) {
        lx.pos = k + 2;
        return;
      }
      p = k + 1;
    }
  }

  private op(op: string, ops: Value[], res: Dict | undefined, depth: number): void {
    const n = (i: number): number => {
      const v = ops[ops.length - i];
      return typeof v === 'number' && Number.isFinite(v) ? v : 0;
    };
    const st = this.st;
    switch (op) {
      case 'BT':
        this.tm = [1, 0, 0, 1, 0, 0];
        this.tlm = [1, 0, 0, 1, 0, 0];
        break;
      case 'Tf': {
        const name = ops[ops.length - 2];
        st.size = n(1);
        if (name instanceof Name) st.font = this.doc.font(name.v, res) ?? FALLBACK_FONT;
        break;
      }
      case 'Tc': st.tc = n(1); break;
      case 'Tw': st.tw = n(1); break;
      case 'Tz': st.th = n(1) / 100; break;
      case 'TL': st.tl = n(1); break;
      case 'Td': this.moveLine(n(2), n(1)); break;
      case 'TD':
        st.tl = -n(1);
        this.moveLine(n(2), n(1));
        break;
      case 'Tm':
        if (ops.length >= 6) {
          this.tlm = [n(6), n(5), n(4), n(3), n(2), n(1)];
          this.tm = this.tlm.slice();
        }
        break;
      case 'T*':
        this.nextLine();
        break;
      case 'Tj':
        if (Buffer.isBuffer(ops[ops.length - 1])) this.show(ops[ops.length - 1] as Buffer);
        break;
      case "'":
        this.nextLine();
        if (Buffer.isBuffer(ops[ops.length - 1])) this.show(ops[ops.length - 1] as Buffer);
        break;
      case '"':
        st.tw = n(3);
        st.tc = n(2);
        this.nextLine();
        if (Buffer.isBuffer(ops[ops.length - 1])) this.show(ops[ops.length - 1] as Buffer);
        break;
      case 'TJ': {
        const arr = ops[ops.length - 1];
        if (!Array.isArray(arr)) break;
        for (const el of arr) {
          if (Buffer.isBuffer(el)) this.show(el);
          else if (typeof el === 'number' && Number.isFinite(el)) {
            this.advance((-el / 1000) * st.size * st.th);
            if (this.havePen) {
              this.penX = this.tm[4]!;
              this.penY = this.tm[5]!;
            }
            if (el < TJ_WORD_GAP) this.out.space();
          }
        }
        break;
      }
      case 'q':
        if (this.stack.length < 256) this.stack.push({ ...st });
        break;
      case 'Q': {
        const s = this.stack.pop();
        if (s) this.st = s;
        break;
      }
      case 'Do': {
        const name = ops[ops.length - 1];
        if (name instanceof Name && depth < MAX_FORM_DEPTH) this.form(name.v, res, depth);
        break;
      }
    }
  }

  private form(name: string, res: Dict | undefined, depth: number): void {
    const doc = this.doc;
    const o = doc.streamObj(doc.dict(res?.get('XObject'))?.get(name));
    if (!o || this.forms.has(o) || doc.name((o.value as Dict).get('Subtype')) !== 'Form') return;
    this.forms.add(o);
    const bytes = doc.decode(o);
    if (!bytes) return;
    const saved = { ...this.st };
    const stack = this.stack;
    this.stack = [];
    this.run(bytes, doc.dict((o.value as Dict).get('Resources')) ?? res, depth + 1);
    this.stack = stack;
    this.st = saved;
  }

  private moveLine(tx: number, ty: number): void {
    const [a, b, c, d, e, f] = this.tlm as [number, number, number, number, number, number];
    this.tlm = [a, b, c, d, tx * a + ty * c + e, tx * b + ty * d + f];
    this.tm = this.tlm.slice();
  }

  private nextLine(): void {
    this.moveLine(0, -this.st.tl);
    this.pendingLine = true;
  }

  private advance(tx: number): void {
    this.tm[4] = this.tm[4]! + tx * this.tm[0]!;
    this.tm[5] = this.tm[5]! + tx * this.tm[1]!;
  }

  /** Before a string is shown: a line break or word gap when the pen moved since the last one. */
  private place(): void {
    if (this.pendingLine) {
      this.pendingLine = false;
      if (this.havePen) this.out.newline();
      return;
    }
    if (!this.havePen) return;
    const [a, b, c, d, e, f] = this.tm as [number, number, number, number, number, number];
    const dx = e - this.penX;
    const dy = f - this.penY;
    const ax = Math.hypot(a, b) || 1;
    const ay = Math.hypot(c, d) || 1;
    const along = (dx * a + dy * b) / ax;
    const across = (dx * c + dy * d) / ay;
    const size = Math.abs(this.st.size) || 1;
    const emX = size * ax * Math.abs(this.st.th || 1);
    const emY = size * ay;
    if (Math.abs(across) > LINE_GAP_EM * emY) this.out.newline();
    else if (along > WORD_GAP_EM * emX || along < -emX) this.out.space();
  }

  private show(s: Buffer): void {
    if (s.length === 0) return;
    this.place();
    const st = this.st;
    const font = st.font;
    const chars: string[] = [];
    let width = 0;
    let spaces = 0;
    const tu = font.toUnicode;
    for (let i = 0; i < s.length; ) {
      let len = 1;
      if (font.composite) {
        len = font.encoding?.spaces.length
          ? font.encoding.codeLen(s, i, 2)
          : tu?.spaces.length && !font.ucs2
            ? tu.codeLen(s, i, 2)
            : 2;
      }
      len = Math.min(len, s.length - i);
      let code = 0;
      for (let k = 0; k < len; k++) code = code * 256 + s[i + k]!;
      i += len;
      let text = tu?.lookup(code, len);
      if (text === undefined) {
        if (!font.composite) text = (len === 1 && tu?.keyLen === 2 ? tu.lookup(code, 2) : undefined) ?? font.table[code] ?? '';
        else if (font.ucs2) text = String.fromCharCode(code);
        else {
          text = '';
          if (!this.unreadable.has(font.name) && (!tu || tu.map.size === 0)) {
            this.unreadable.add(font.name);
            this.doc.budget.note(`font ${font.name} has no ToUnicode map: its text is not readable`);
          }
        }
      }
      chars.push(text);
      width += font.widths.get(code) ?? font.defaultWidth;
      if (len === 1 && code === 32) spaces++;
    }
    const n = chars.length;
    this.out.write(chars.join(''));
    this.advance(((width / 1000) * st.size + n * st.tc + spaces * st.tw) * st.th);
    this.penX = this.tm[4]!;
    this.penY = this.tm[5]!;
    this.havePen = true;
  }
}

// ---------------------------------------------------------------------------------------------

/** Pages in reading order, each with its (inherited) resources. */
function pagesOf(doc: PdfDoc): Array<{ page: Dict; res: Dict | undefined }> {
  const result: Array<{ page: Dict; res: Dict | undefined }> = [];
  let catalog: Dict | undefined;
  for (const t of doc.trailerDicts()) catalog = doc.dict(t.get('Root')) ?? catalog;
  if (!catalog) {
    for (const o of doc.objects.values()) if (o.value instanceof Map && doc.name(o.value.get('Type')) === 'Catalog') catalog = o.value;
  }
  const top = doc.dict(catalog?.get('Pages'));
  if (top) {
    const stack: Array<{ node: Dict; res: Dict | undefined }> = [{ node: top, res: undefined }];
    const seen = new Set<Dict>();
    while (stack.length > 0 && result.length < MAX_PAGES) {
      const { node, res } = stack.pop()!;
      if (seen.has(node)) continue;
      seen.add(node);
      const r = doc.dict(node.get('Resources')) ?? res;
      const kids = doc.arr(node.get('Kids'));
      if (kids && doc.name(node.get('Type')) !== 'Page') {
        for (let k = kids.length - 1; k >= 0; k--) {
          const kid = doc.dict(kids[k]);
          if (kid && !seen.has(kid)) stack.push({ node: kid, res: r });
        }
      } else {
        result.push({ page: node, res: r });
      }
    }
  }
  if (result.length === 0) {
    // no usable page tree: every /Type /Page object, in file order, resources from its /Parent chain
    for (const o of doc.objects.values()) {
      if (!(o.value instanceof Map) || doc.name(o.value.get('Type')) !== 'Page') continue;
      let res: Dict | undefined;
      let node: Dict | undefined = o.value;
      for (let k = 0; k < 32 && node && !res; k++) {
        res = doc.dict(node.get('Resources'));
        node = doc.dict(node.get('Parent'));
      }
      result.push({ page: o.value, res });
      if (result.length >= MAX_PAGES) break;
    }
  }
  return result;
}

/** Streams that hold no page text by their dictionary: fonts, CMaps, metadata, ICC profiles, functions... */
function notContent(doc: PdfDoc, o: PdfObject): boolean {
  const d = o.value as Dict;
  const type = doc.name(d.get('Type'));
  if (type && ['XRef', 'ObjStm', 'Metadata', 'EmbeddedFile', 'CMap', 'Font', 'FontFile', 'XML'].includes(type)) return true;
  const sub = doc.name(d.get('Subtype'));
  if (sub && ['Image', 'Type1C', 'CIDFontType0C', 'OpenType', 'XML', 'PS'].includes(sub)) return true;
  // font programs, functions, ICC profiles, images without a /Subtype (thumbnails)
  return d.has('Length1') || d.has('Length2') || d.has('FunctionType') || d.has('Alternate') || d.has('N') || d.has('BitsPerComponent');
}

/** The encryption dictionary a trailer names, with the trailer's /ID, as plain values. */
function encryptionOf(doc: PdfDoc, trailer: Dict): StandardEncryption {
  const e = doc.dict(trailer.get('Encrypt')) ?? new Map<string, Value>();
  const str = (v: Value | undefined): Buffer | undefined => {
    const r = doc.resolve(v);
    return Buffer.isBuffer(r) ? r : undefined;
  };
  const v = doc.num(e.get('V')) ?? 0;
  let streamMethod: StandardEncryption['streamMethod'] = v === 1 || v === 2 || v === 3 ? 'rc4' : 'unknown';
  if (v >= 4) {
    const stmF = doc.name(e.get('StmF')) ?? 'Identity';
    const cfm = stmF === 'Identity' ? 'None' : doc.name(doc.dict(doc.dict(e.get('CF'))?.get(stmF))?.get('CFM')) ?? 'None';
    streamMethod = cfm === 'None' ? 'none' : cfm === 'V2' ? 'rc4' : cfm === 'AESV2' ? 'aesv2' : cfm === 'AESV3' ? 'aesv3' : 'unknown';
  }
  const id = doc.arr(trailer.get('ID'));
  const em = doc.resolve(e.get('EncryptMetadata'));
  return {
    filter: doc.name(e.get('Filter')),
    v,
    r: doc.num(e.get('R')) ?? 0,
    lengthBits: doc.num(e.get('Length')),
    o: str(e.get('O')) ?? Buffer.alloc(0),
    u: str(e.get('U')) ?? Buffer.alloc(0),
    ue: str(e.get('UE')),
    p: doc.num(e.get('P')) ?? 0,
    id0: str(id?.[0]) ?? Buffer.alloc(0),
    encryptMetadata: em !== false,
    streamMethod,
  };
}

function extract(bytes: Buffer, limits: PdfTextLimits, budget: Budget, out: Out): void {
  const doc = new PdfDoc(bytes, budget, limits);
  doc.scan();
  if (!bytes.subarray(Math.max(0, bytes.length - 1024)).includes('%%EOF')) budget.note('no %%EOF: the file may be cut short');
  for (const t of doc.trailerDicts()) {
    if (!t.has('Encrypt')) continue;
    const crypt = openStandardSecurity(encryptionOf(doc, t));
    if (!crypt.readable) {
      budget.encrypted = true;
      budget.note(crypt.reason);
      return;
    }
    doc.decryptStream = crypt.decryptStream;
    break;
  }
  doc.readObjectStreams();
  const interp = new Interpreter(doc, out);
  const done = new Set<PdfObject>();

  for (const { page, res } of pagesOf(doc)) {
    if (out.full) return;
    const c = doc.resolve(page.get('Contents'));
    const refs = Array.isArray(c) ? c : [page.get('Contents') ?? null];
    const chunks: Buffer[] = [];
    for (const r of refs) {
      const o = doc.streamObj(r);
      if (!o || done.has(o)) continue;
      done.add(o);
      const data = doc.decode(o);
      if (data) chunks.push(data, Buffer.from('\n'));
    }
    if (chunks.length === 0) continue;
    interp.startPage();
    interp.run(chunks.length === 2 ? chunks[0]! : Buffer.concat(chunks), res, 0);
  }

  // streams no page drew that hold text: annotation appearances, forms, pages lost from the tree
  for (const o of doc.objects.values()) {
    if (out.full) return;
    if (!o.stream || done.has(o) || doc.used.has(o) || interp.drawn(o) || o.decoded === null || notContent(doc, o)) continue;
    if (o.decoded === undefined && doc.isImage(o)) continue;
    const data = doc.decode(o);
    if (!data || data.indexOf('BT') < 0 || data.indexOf('ET') < 0) continue;
    done.add(o);
    interp.claimForm(o);
    interp.startPage();
    interp.run(data, doc.dict((o.value as Dict).get('Resources')), 0);
  }
}

/** A PDF's text plus what reading it spent, so a caller can share one budget among several PDFs. */
export interface PdfText extends DocumentText {
  spent: { streams: number; inflatedBytes: number };
  /** True when the file is encrypted and could not be opened with the empty user password (its text was not read). */
  encrypted: boolean;
}

/** A PDF by its header: `%PDF-` within the first 1,024 bytes, as readers accept it. */
export const looksLikePdf = (bytes: Buffer): boolean => bytes.subarray(0, 1024).includes('%PDF-');

/** Text of a PDF (what a reader shows, roughly), or undefined when `bytes` is not a PDF. Never throws. */
export function pdfText(bytes: Buffer, limits: PdfTextLimits): PdfText | undefined {
  if (!Buffer.isBuffer(bytes) || !looksLikePdf(bytes)) return undefined;
  const budget = new Budget(Math.max(0, limits.maxStreams), Math.max(0, limits.maxInflatedBytes));
  const out = new Out(Math.max(0, limits.maxChars), budget);
  try {
    extract(bytes, limits, budget, out);
  } catch (e) {
    budget.note(`PDF could not be read whole: ${(e as Error)?.message ?? String(e)}`);
  }
  const text = out.parts.join('');
  const spent = { streams: Math.max(0, limits.maxStreams) - budget.streams, inflatedBytes: Math.max(0, limits.maxInflatedBytes - Math.max(0, budget.inflate)) };
  const result: PdfText = { text, spent, encrypted: budget.encrypted };
  if (budget.notes.length > 0) result.truncated = budget.notes.join('; ');
  return result;
}
