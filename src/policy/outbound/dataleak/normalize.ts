// Text preparation for the data-leak scanners, so obfuscated numbers read like plain ones:
// invisible characters (format characters and every Default_Ignorable_Code_Point: zero-width
// space/joiners, word joiner, BOM, soft hyphen, bidi marks, CGJ, Hangul fillers, variation selectors) are
// removed (after NFKC), every Unicode decimal digit (category Nd: Arabic-Indic, Devanagari, fullwidth...) becomes
// 0-9, Unicode spaces and dashes become ' ' and '-', line separators '\n', dot-like marks '.', slash-like
// marks (fraction slash U+2044, division slash) '/'. Combining marks written after a digit (overline,
// macron, low line, keycap...) are removed, as are control characters (NUL...) other than whitespace, and
// HTML character references left as literal text that stand for separators ("4111&nbsp;1111", "&#32;")
// are decoded. Binary part bytes get the same folding except that controls and references stay
// (foldLatin1ForScan). Also recognises UTF-16 text in raw part bytes (BOM, or the zero-byte pattern of
// mostly-ASCII text) and decodes it, and pulls runs of UTF-16 ASCII text out of anywhere in binary bytes
// (a .doc's text stream). Pure functions; never throws on any input.

/** Anything but printable ASCII and ASCII whitespace: text without it needs no folding. */
const NEEDS_FOLD = /[^\t\n\v\f\r\x20-\x7e]/;
const ND = /^\p{Nd}$/u;

const digitCache = new Map<number, string>();

/**
 * The 0-9 value of a Unicode Nd code point. Unicode encodes decimal digits as contiguous runs of
 * complete 0..9 sets, so the value is the distance from the start of the run, modulo 10.
 */
export function digitValue(cp: number): string {
  const known = digitCache.get(cp);
  if (known !== undefined) return known;
  let start = cp;
  while (start > 0 && cp - start < 100 && ND.test(String.fromCodePoint(start - 1))) start--;
  const v = String((cp - start) % 10);
  if (digitCache.size < 4096) digitCache.set(cp, v);
  return v;
}

// Removed: format characters and every Default_Ignorable_Code_Point (combining grapheme joiner U+034F,
// Hangul fillers U+3164/U+1160, variation selectors, tags...). Spaces: Zs and the braille blank U+2800
// (not ignorable, but blank). Line and paragraph separators and NEL become '\n'. Combining marks (M) are
// removed only after a digit ("4̅1̅1̅1̅": overline, macron, low line, strike-through, keycap).
const CLASSIFY =
  /^(?:(\p{Cf}|\p{Default_Ignorable_Code_Point})|(\p{Nd})|(\p{Zs}|\u2800)|([\u00B7\u2022\u2024\u2027\u30FB\uFF0E\uFF61])|(\p{Pd}|\u2212)|(\p{Zl}|\p{Zp}|\u0085)|([\u2044\u2215\u29F8])|(\p{M}))$/u;
/** foldOf's answer for a combining mark: removed after a digit, kept elsewhere. */
const MARK = '\u0000mark';
/** Per non-ASCII code point: its replacement, MARK, or null when it stays as it is. */
const foldCache = new Map<number, string | null>();

function foldOf(cp: number): string | null {
  let r = foldCache.get(cp);
  if (r !== undefined) return r;
  const m = CLASSIFY.exec(String.fromCodePoint(cp));
  r = !m
    ? null
    : m[1] !== undefined ? '' : m[2] !== undefined ? digitValue(cp) : m[3] !== undefined ? ' ' : m[4] !== undefined ? '.'
      : m[5] !== undefined ? '-' : m[6] !== undefined ? '\n' : m[7] !== undefined ? '/' : MARK;
  if (foldCache.size < 65536) foldCache.set(cp, r);
  return r;
}

const isAsciiDigit = (c: number): boolean => c >= 48 && c <= 57;
/** C0 controls other than tab, LF, VT, FF, CR; DEL; C1 controls other than NEL: invisible, removed from text. */
const isControl = (c: number): boolean => c < 9 || (c > 13 && c < 32) || (c >= 0x7f && c < 0xa0 && c !== 0x85);

// foldOf per BMP code unit, as flat tables (a Map lookup per character is slow on megabytes of
// non-ASCII text): what to do, and the one replacement character (every replacement is one or none).
const KEEP = 1;
const REPLACE = 2;
const REMOVE = 3;
const MARK_KIND = 4;
const bmpKind = new Uint8Array(0x10000); // 0: not looked up yet
const bmpRepl = new Uint16Array(0x10000);

function kindOf(r: string | null): number {
  return r === null ? KEEP : r === MARK ? MARK_KIND : r === '' ? REMOVE : REPLACE;
}

/**
 * The folding loop over NFKC text. `controls`: remove control characters (text) or keep them (binary
 * bytes, where a NUL between digit bytes is structure, and UTF-16 text is decoded separately). The
 * output is never longer than the input: it is written into one array (no pieces), only once a
 * character changes.
 */
function foldNormalized(text: string, controls: boolean): string {
  const n = text.length;
  let out: Uint16Array | undefined;
  let o = 0;
  let digitEnd = -1; // index just after the last digit (or a mark/invisible character removed after one)
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    const control = controls && isControl(c);
    if (c < 0x80 && !control) {
      if (isAsciiDigit(c)) digitEnd = i + 1;
      if (out) out[o++] = c;
      continue;
    }
    let width = 1;
    let kind: number;
    let rep = 0;
    if (control) kind = REMOVE;
    else if (c >= 0xd800 && c <= 0xdbff && (text.codePointAt(i) ?? 0) > 0xffff) {
      const r = foldOf(text.codePointAt(i)!);
      width = 2;
      kind = kindOf(r);
      if (kind === REPLACE) rep = r!.charCodeAt(0);
    } else {
      kind = bmpKind[c]!;
      if (kind === 0) {
        const r = foldOf(c);
        kind = bmpKind[c] = kindOf(r);
        if (kind === REPLACE) bmpRepl[c] = r!.charCodeAt(0);
      }
      rep = bmpRepl[c]!;
    }
    if (kind === MARK_KIND) kind = digitEnd === i ? REMOVE : KEEP;
    if (kind === KEEP) {
      if (out) {
        out[o++] = c;
        if (width === 2) out[o++] = text.charCodeAt(i + 1);
      }
      i += width - 1;
      continue;
    }
    if (!out) {
      out = new Uint16Array(n);
      for (let k = 0; k < i; k++) out[k] = text.charCodeAt(k);
      o = i;
    }
    if (kind === REPLACE) {
      out[o++] = rep;
      if (isAsciiDigit(rep)) digitEnd = i + width; // a folded digit starts a digit's context
    } else if (digitEnd === i) digitEnd = i + width; // a removed character keeps it ("4\u200b\u0305")
    i += width - 1;
  }
  if (!out) return text;
  return Buffer.from(out.buffer, 0, o * 2).toString('utf16le');
}

/** Fold text for scanning (see the file comment). Returns the input itself when nothing changes. */
export function foldForScan(input: string): string {
  const text = input.includes('&') ? decodeSeparatorReferences(input) : input;
  if (!NEEDS_FOLD.test(text)) return text;
  // part texts come from the parser un-normalised: NFKC first (compatibility forms, ligatures), then fold
  return foldNormalized(text.normalize('NFKC'), true);
}

/** Per byte value: its folded form as foldForScan would give it (controls kept). */
let latin1Table: string[] | undefined;
/** Per byte value: the one character it folds to, or NOT_ONE when it folds to none or several. */
const latin1One = new Uint16Array(256);
/** Per byte value: how many characters it folds to. */
const latin1Len = new Uint8Array(256);
const NOT_ONE = 0xffff;

/**
 * Fold the latin1 reading of binary bytes: the same as folding bytes.toString('latin1') (NFKC acts on each
 * latin1 character alone: none of them combines with another), but controls and character references
 * stay, and it works from 256-entry tables instead of normalising megabytes of binary text.
 */
export function foldLatin1ForScan(bytes: Uint8Array): string {
  if (!latin1Table) {
    latin1Table = [];
    for (let b = 0; b < 256; b++) {
      const ch = String.fromCharCode(b);
      const f = b < 0x80 ? ch : foldNormalized(ch.normalize('NFKC'), false);
      latin1Table.push(f);
      latin1Len[b] = f.length;
      latin1One[b] = f.length === 1 ? f.charCodeAt(0) : NOT_ONE;
    }
  }
  const table = latin1Table;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = buf.length;
  // first pass: whether anything changes, and the output length (a few bytes fold to none, a few to 2-3)
  let len = 0;
  let changed = false;
  for (let i = 0; i < n; i++) {
    const b = buf[i]!;
    len += latin1Len[b]!;
    if (latin1One[b] !== b) changed = true;
  }
  if (!changed) return buf.toString('latin1');
  const out = new Uint16Array(len);
  let o = 0;
  for (let i = 0; i < n; i++) {
    const b = buf[i]!;
    const one = latin1One[b]!;
    if (one !== NOT_ONE) out[o++] = one;
    else {
      const r = table[b]!;
      for (let k = 0; k < r.length; k++) out[o++] = r.charCodeAt(k);
    }
  }
  return Buffer.from(out.buffer, 0, o * 2).toString('utf16le');
}

/**
 * Named references for separators and invisible characters (the ones a person would type between digit
 * groups); letters, digits and markup characters are never decoded.
 */
const NAMED: ReadonlyMap<string, number> = new Map(Object.entries({
  nbsp: 0xa0, NonBreakingSpace: 0xa0, ensp: 0x2002, emsp: 0x2003, emsp13: 0x2004, emsp14: 0x2005, numsp: 0x2007,
  puncsp: 0x2008, thinsp: 0x2009, ThinSpace: 0x2009, hairsp: 0x200a, VeryThinSpace: 0x200a, MediumSpace: 0x205f,
  ZeroWidthSpace: 0x200b, zwnj: 0x200c, zwj: 0x200d, lrm: 0x200e, rlm: 0x200f, shy: 0xad, NoBreak: 0x2060,
  af: 0x2061, it: 0x2062, InvisibleTimes: 0x2062, ic: 0x2063, InvisibleComma: 0x2063,
  hyphen: 0x2010, dash: 0x2010, ndash: 0x2013, mdash: 0x2014, horbar: 0x2015, minus: 0x2212,
  period: 0x2e, sol: 0x2f, frasl: 0x2044, verbar: 0x7c, vert: 0x7c, VerticalLine: 0x7c, lowbar: 0x5f, UnderBar: 0x5f,
  colon: 0x3a, comma: 0x2c, lpar: 0x28, rpar: 0x29, quot: 0x22, QUOT: 0x22, apos: 0x27, plus: 0x2b,
  Tab: 0x9, NewLine: 0xa, middot: 0xb7, centerdot: 0xb7, CenterDot: 0xb7, bull: 0x2022, bullet: 0x2022,
}));
const REFERENCE = /&(?:#[xX]([0-9a-fA-F]{1,6})|#([0-9]{1,7})|([A-Za-z][A-Za-z0-9]{1,31}));/g;
/** A decoded reference is kept only when it is a space, separator, punctuation or invisible character. */
const SEPARATOR_LIKE = /^[\p{Z}\p{P}\p{Cf}\p{Default_Ignorable_Code_Point}\t\n\r+\u2800]$/u;

/** Decode character references written as literal text that stand for separators ("4111&nbsp;1111"). */
function decodeSeparatorReferences(text: string): string {
  return text.replace(REFERENCE, (whole: string, hex?: string, dec?: string, name?: string) => {
    const cp = name !== undefined ? NAMED.get(name) : Number.parseInt(hex ?? dec!, hex !== undefined ? 16 : 10);
    if (cp === undefined || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return whole;
    const ch = String.fromCodePoint(cp);
    return ch === '&' || ch === '#' || ch === ';' || !SEPARATOR_LIKE.test(ch) ? whole : ch;
  });
}

const SAMPLE = 8192;
const isTextByte = (b: number): boolean => b === 9 || b === 10 || b === 13 || (b >= 32 && b <= 126);

/**
 * 'utf-16le' / 'utf-16be' when the bytes look like UTF-16 text: a byte-order mark, or (without one)
 * at least 60% of the first 4096 code units being ASCII text with a zero high byte.
 */
export function utf16Encoding(b: Uint8Array): 'utf-16le' | 'utf-16be' | undefined {
  if (b.length >= 2 && b[0] === 0xff && b[1] === 0xfe) return 'utf-16le';
  if (b.length >= 2 && b[0] === 0xfe && b[1] === 0xff) return 'utf-16be';
  const units = Math.floor(Math.min(b.length, SAMPLE) / 2);
  if (units < 8) return undefined;
  let le = 0;
  let be = 0;
  for (let i = 0; i < units; i++) {
    const x = b[2 * i]!;
    const y = b[2 * i + 1]!;
    if (y === 0 && isTextByte(x)) le++;
    else if (x === 0 && isTextByte(y)) be++;
  }
  if (le >= units * 0.6) return 'utf-16le';
  if (be >= units * 0.6) return 'utf-16be';
  return undefined;
}

const decoders = { 'utf-16le': new TextDecoder('utf-16le'), 'utf-16be': new TextDecoder('utf-16be') };

/** Decode UTF-16 bytes (a leading BOM is dropped; a trailing odd byte is ignored). */
export function decodeUtf16(b: Uint8Array, enc: 'utf-16le' | 'utf-16be'): string {
  const even = b.length % 2 === 0 ? b : b.subarray(0, b.length - 1);
  return decoders[enc].decode(even);
}

/** Shortest run of UTF-16 ASCII text code units taken from binary bytes. */
const MIN_RUN = 8;

/**
 * Runs of at least MIN_RUN UTF-16 code units that are ASCII text (tab, CR, LF, 0x20-0x7e) with a zero
 * high byte, anywhere in the bytes, at both byte alignments (so little- and big-endian text are both
 * found), joined by '\n'. For binary parts (Word .doc, other containers) whose UTF-16 text is neither at
 * the start nor the bulk of the file. O(n) time; the result is at most n/2 characters. '' when none.
 */
export function utf16TextRuns(b: Uint8Array): string {
  const pieces: string[] = [];
  for (const parity of [0, 1]) {
    let run: number[] = [];
    let long = false; // part of this run already emitted
    let beAligned = false; // a zero byte just before the run: it may be big-endian text read one byte late
    const end = (): void => {
      if (long || run.length >= MIN_RUN) pieces.push(String.fromCharCode(...run), '\n');
      run = [];
      long = false;
    };
    for (let i = parity; i + 1 < b.length; i += 2) {
      const x = b[i]!;
      if (b[i + 1] === 0 && isTextByte(x)) {
        if (run.length === 0 && !long) beAligned = i > 0 && b[i - 1] === 0;
        run.push(x);
        if (run.length === 4096) {
          pieces.push(String.fromCharCode(...run)); // in pieces: String.fromCharCode takes bounded arguments
          run = [];
          long = true;
        }
      } else if (run.length > 0 || long) {
        // big-endian text "00 43 00 34" read this way ends "(34, next byte)": its last character is x
        if (beAligned && isTextByte(x)) run.push(x);
        end();
      }
    }
    if (beAligned && (run.length > 0 || long) && (b.length - parity) % 2 === 1 && isTextByte(b[b.length - 1]!)) run.push(b[b.length - 1]!);
    end();
  }
  return pieces.join('');
}
