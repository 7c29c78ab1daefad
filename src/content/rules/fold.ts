// Case folding for the literal pre-filter of content rules: maps text so that any two characters RE2's
// case-insensitive matching treats as equal (Unicode simple case folding) become the same character.
// It may also merge characters RE2 keeps apart (the pre-filter then only says "maybe"), never the
// reverse: a literal RE2 would find (flag i) is always a substring of the folded text. Pure functions.

import { isAsciiString } from '../ascii.js';

// After toLowerCase(), the members of a simple-case-folding orbit that still differ (checked against
// JS /x/iu, which folds the same way, over every cased code point).
const EXTRA: Record<string, string> = {
  'ς': 'σ', 'ϐ': 'β', 'ϑ': 'θ', 'ϕ': 'φ', 'ϖ': 'π', 'ϰ': 'κ', 'ϱ': 'ρ', 'ϵ': 'ε', '\u0345': 'ι', '\u1fbe': 'ι',
  '\u1c80': 'в', '\u1c81': 'д', '\u1c82': 'о', '\u1c83': 'с', '\u1c84': 'т', '\u1c85': 'т', '\u1c86': 'ъ', '\u1c87': 'ѣ',
  '\u1c88': 'ꙋ', 'ẛ': 'ṡ', 'ſ': 's', 'µ': 'μ', '\u1fd3': '\u0390', '\u1fe3': '\u03b0', '\ufb05': '\ufb06',
};
const EXTRA_RE = new RegExp(`[${Object.keys(EXTRA).join('')}]`, 'gu');

/** Folded form of `s` (lower case, remaining orbit members merged). */
export function foldCase(s: string): string {
  const lower = s.toLowerCase();
  if (isAsciiString(lower)) return lower; // every EXTRA key is non-ASCII
  EXTRA_RE.lastIndex = 0;
  return EXTRA_RE.test(lower) ? lower.replace(EXTRA_RE, (c) => EXTRA[c]!) : lower;
}

/** RE2's \s: tab, LF, FF, CR, space (folding leaves them as they are). */
const isRe2Space = (c: number): boolean => c === 32 || c === 9 || c === 10 || c === 12 || c === 13;
/**
 * ASCII letter, digit or "_" in folded text: the original character there was a letter, digit or "_"
 * too (only ASCII letters, U+212A KELVIN SIGN and U+017F LONG S fold to ASCII letters), so a
 * whole-word match cannot end or begin next to it. Other characters are not judged (maybe).
 */
const isAsciiWord = (c: number): boolean => (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95 || (c >= 65 && c <= 90);

/**
 * False only when the whole-word phrase pattern (words joined by \s+, case-insensitive, not inside a
 * longer word) cannot match `folded` (a foldCase()d text); `pieces` are the phrase's folded words.
 * A necessary condition for an RE2 match, so a false answer is always right; true means "maybe".
 */
export function phraseMayMatch(folded: string, pieces: readonly string[]): boolean {
  if (pieces.length === 0) return true;
  // anchor on the longest word (the rarest, usually), then check its neighbours both ways
  let a = 0;
  for (let k = 1; k < pieces.length; k++) if (pieces[k]!.length > pieces[a]!.length) a = k;
  const anchor = pieces[a]!;
  if (anchor.length === 0) return true;
  for (let pos = folded.indexOf(anchor); pos >= 0; pos = folded.indexOf(anchor, pos + 1)) {
    let ok = true;
    let j = pos + anchor.length;
    for (let k = a + 1; ok && k < pieces.length; k++) {
      const w = j;
      while (j < folded.length && isRe2Space(folded.charCodeAt(j))) j++;
      ok = j > w && folded.startsWith(pieces[k]!, j);
      j += pieces[k]!.length;
    }
    let i = pos;
    for (let k = a - 1; ok && k >= 0; k--) {
      const w = i;
      while (i > 0 && isRe2Space(folded.charCodeAt(i - 1))) i--;
      const p = pieces[k]!;
      ok = i < w && i >= p.length && folded.startsWith(p, i - p.length);
      i -= p.length;
    }
    if (!ok) continue;
    if (i > 0 && isAsciiWord(folded.charCodeAt(i - 1))) continue;
    if (j < folded.length && isAsciiWord(folded.charCodeAt(j))) continue;
    return true;
  }
  return false;
}

/** Hash of an ASCII word for AsciiWords (FNV-1a over the char codes, then mixed). */
export function asciiWordHash(word: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < word.length; i++) h = Math.imul(h ^ word.charCodeAt(i), 0x01000193);
  return (h ^ (h >>> 15)) >>> 0;
}

/** True when `piece` is made only of folded ASCII word characters ([0-9a-z_]). */
export const isAsciiWordPiece = (piece: string): boolean => /^[0-9a-z_]+$/.test(piece);

/**
 * The maximal runs of ASCII word characters in a folded text, as a one-hash Bloom filter: one pass,
 * no strings made. `mayHave(asciiWordHash(w))` false means no maximal run equals `w`; true is "maybe".
 * Every phrase word made of such characters stands as a maximal run wherever phraseMayMatch accepts
 * (its neighbours are white space, or checked not to be ASCII word characters), so a phrase with such
 * a word missing from the text cannot match — found without one indexOf pass per phrase.
 */
export class AsciiWords {
  private readonly bits: Uint32Array;
  private readonly mask: number;

  constructor(folded: string) {
    let size = 1024;
    while (size < 2 * folded.length && size < 1 << 24) size *= 2;
    this.bits = new Uint32Array(size >>> 5);
    this.mask = size - 1;
    let h = 0;
    let inWord = false;
    for (let i = 0; i <= folded.length; i++) {
      const c = i < folded.length ? folded.charCodeAt(i) : 0;
      if (isAsciiWord(c)) {
        if (!inWord) {
          inWord = true;
          h = 0x811c9dc5;
        }
        h = Math.imul(h ^ c, 0x01000193);
      } else if (inWord) {
        inWord = false;
        const k = ((h ^ (h >>> 15)) >>> 0) & this.mask;
        this.bits[k >>> 5]! |= 1 << (k & 31);
      }
    }
  }

  mayHave(hash: number): boolean {
    const k = hash & this.mask;
    return (this.bits[k >>> 5]! & (1 << (k & 31))) !== 0;
  }
}
