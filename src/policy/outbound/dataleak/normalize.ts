// Text preparation for the data-leak scanners, so obfuscated numbers read like plain ones:
// invisible characters (format characters and every Default_Ignorable_Code_Point: zero-width
// space/joiners, word joiner, BOM, soft hyphen, bidi marks, CGJ, Hangul fillers, variation selectors) are
// removed (after NFKC), every Unicode decimal digit (category Nd: Arabic-Indic, Devanagari, fullwidth...) becomes
// 0-9, Unicode spaces and dashes become ' ' and '-', line separators '\n', dot-like marks '.'. Also
// recognises UTF-16 text in raw part bytes (BOM, or the zero-byte pattern of mostly-ASCII text) and decodes
// it, and pulls runs of UTF-16 ASCII text out of anywhere in binary bytes (a .doc's text stream).
// Pure functions; never throws on any input.

const NON_ASCII = /[^\x00-\x7f]/;
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
// (not ignorable, but blank). Line and paragraph separators and NEL become '\n'.
const CLASSIFY =
  /^(?:(\p{Cf}|\p{Default_Ignorable_Code_Point})|(\p{Nd})|(\p{Zs}|\u2800)|([\u00B7\u2022\u2024\u2027\u30FB\uFF0E\uFF61])|(\p{Pd}|\u2212)|(\p{Zl}|\p{Zp}|\u0085))$/u;
/** Per non-ASCII code point: its replacement, or null when it stays as it is. */
const foldCache = new Map<number, string | null>();

function foldOf(cp: number): string | null {
  let r = foldCache.get(cp);
  if (r !== undefined) return r;
  const m = CLASSIFY.exec(String.fromCodePoint(cp));
  r = !m
    ? null
    : m[1] !== undefined ? '' : m[2] !== undefined ? digitValue(cp) : m[3] !== undefined ? ' ' : m[4] !== undefined ? '.' : m[5] !== undefined ? '-' : '\n';
  if (foldCache.size < 65536) foldCache.set(cp, r);
  return r;
}

/** Fold text for scanning (see the file comment). Returns the input itself when nothing changes. */
export function foldForScan(input: string): string {
  if (!NON_ASCII.test(input)) return input;
  // part texts come from the parser un-normalised: NFKC first (compatibility forms, ligatures), then fold
  const text = input.normalize('NFKC');
  const out: string[] = [];
  let from = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    const cp = text.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    const r = foldOf(cp);
    if (r !== null) {
      if (i > from) out.push(text.slice(from, i));
      out.push(r);
      from = i + width;
    }
    i += width - 1;
  }
  if (out.length === 0) return text;
  if (from < n) out.push(text.slice(from));
  return out.join('');
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
