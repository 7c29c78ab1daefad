// Text preparation for the data-leak scanners, so obfuscated numbers read like plain ones:
// invisible format characters (zero-width space/joiners, word joiner, BOM, soft hyphen, bidi marks) are
// removed (after NFKC), every Unicode decimal digit (category Nd: Arabic-Indic, Devanagari, fullwidth...) becomes
// 0-9, Unicode spaces and dashes become ' ' and '-', dot-like marks become '.'. Also recognises UTF-16
// text in raw part bytes (BOM, or the zero-byte pattern of mostly-ASCII text) and decodes it.
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

const CLASSIFY = /^(?:(\p{Cf})|(\p{Nd})|(\p{Zs})|([\u00B7\u2022\u2024\u2027\u30FB\uFF0E\uFF61])|(\p{Pd}|\u2212))$/u;
/** Per non-ASCII code point: its replacement, or null when it stays as it is. */
const foldCache = new Map<number, string | null>();

function foldOf(cp: number): string | null {
  let r = foldCache.get(cp);
  if (r !== undefined) return r;
  const m = CLASSIFY.exec(String.fromCodePoint(cp));
  r = !m ? null : m[1] !== undefined ? '' : m[2] !== undefined ? digitValue(cp) : m[3] !== undefined ? ' ' : m[4] !== undefined ? '.' : '-';
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
