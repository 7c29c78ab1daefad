// Linear-time scanners that find sensitive numbers in text and hand each valid one to a callback.
// The matched values go only to the callback (which counts them); they are never logged or returned
// in hits. Card scanning is a hand-written single pass (no regex), O(n) in time, O(1) extra memory
// per candidate; SSN and IBAN use fixed, non-nested patterns (no catastrophic backtracking).
import { IBAN_LENGTHS, isValidCard, isValidIban, isValidSsn } from './validators.js';

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
/** Letters and underscore glued to a number make it part of an identifier, not a card. */
const isWordChar = (c: number): boolean =>
  (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || (c >= 0xc0 && c !== 0xd7 && c !== 0xf7 && c < 0x2000);

/** Separators allowed between digit groups (text is folded first): space, dash, dot, slash, underscore. */
const isSepChar = (c: number): boolean => c === 32 || c === 45 || c === 46 || c === 47 || c === 95;
/** Longest separator between two groups of one number (" - "). */
const MAX_SEP = 3;
/** Groups kept unprocessed while scanning: the longest window (19 one-digit groups) plus one. */
const LOOKAHEAD = 20;

interface Group {
  start: number;
  end: number; // exclusive
  /** Separator text between the previous group of the chain and this one ("" for the first). */
  sep: string;
  /** Digits in the previous group of the chain (0 for the first). */
  prevLen: number;
  dirtyStart: boolean;
  dirtyEnd: boolean;
}

/** Group-length shapes accepted for separated card numbers (besides one 13-19 digit block). */
function shapeOk(chain: Group[], head: number, k: number): boolean {
  const len = (j: number): number => chain[head + j]!.end - chain[head + j]!.start;
  if (len(0) !== 4) return false;
  if (k === 3) return len(1) === 6 && (len(2) === 4 || len(2) === 5); // Diners 4-6-4, Amex 4-6-5
  if (k === 4) return len(1) === 4 && len(2) === 4 && len(3) >= 1 && len(3) <= 4; // 13-16
  if (k === 5) return len(1) === 4 && len(2) === 4 && len(3) === 4 && len(4) >= 1 && len(4) <= 3; // 17-19
  return false;
}

/**
 * Find payment card numbers in folded text (see normalize.ts): one block of 13-19 digits; 4-digit
 * groups (Amex/Diners 4-6-5 / 4-6-4) separated by one of space - . / _ (alone or with a space each
 * side, " - "), the same separator throughout; or 13-19 single digits each separated by the same separator ("4 1 1 1 ...").
 * Each must have a known IIN prefix and pass Luhn. Digits glued to letters ("ID4111...") or longer
 * digit runs are not cards.
 */
export function scanCards(text: string, found: (digits: string) => void): void {
  const n = text.length;
  let chain: Group[] = [];
  let head = 0;
  let last: Group | undefined; // the most recent group pushed (processed or not)
  const glen = (g: Group): number => g.end - g.start;

  const digitsOf = (k: number): string => {
    let s = '';
    for (let j = head; j < head + k; j++) s += text.slice(chain[j]!.start, chain[j]!.end);
    return s;
  };
  /** Groups head..head+k-1 as one card, if the separators agree and it validates. */
  const tryWindow = (k: number): boolean => {
    if (chain[head + k - 1]!.dirtyEnd) return false;
    for (let j = head + 2; j < head + k; j++) if (chain[j]!.sep !== chain[head + 1]!.sep) return false;
    const digits = digitsOf(k);
    if (!isValidCard(digits)) return false;
    found(digits);
    return true;
  };
  /** Try to match a card at chain[head]; returns groups consumed (0 = none). */
  const matchAt = (): number => {
    const avail = chain.length - head;
    const g0 = chain[head]!;
    if (g0.dirtyStart) return 0;
    if (g0.sep === '.' || g0.sep === '/') return 0; // "3.4111..." is a decimal, "1/4111..." a fraction or path
    const first = text.charCodeAt(g0.start);
    if (first < 50 || first > 54) return 0; // every known IIN starts with 2..6
    for (let k = Math.min(5, avail); k >= 3; k--) if (shapeOk(chain, head, k) && tryWindow(k)) return k;
    if (glen(g0) === 1 && avail >= 13) {
      // One digit per group: the whole run of single digits (same separator) must be the number.
      const sep = chain[head + 1]!.sep;
      if (!(g0.prevLen === 1 && g0.sep === sep)) {
        let r = 1;
        while (head + r < chain.length && r <= 19 && glen(chain[head + r]!) === 1 && chain[head + r]!.sep === sep) r++;
        if (r >= 13 && r <= 19 && tryWindow(r)) return r;
      }
    }
    const len = glen(g0);
    if (len >= 13 && len <= 19 && tryWindow(1)) return 1;
    return 0;
  };
  const drain = (keep: number): void => {
    while (chain.length - head > keep) {
      const k = matchAt();
      head += k > 0 ? k : 1;
    }
    if (head > 256 || head === chain.length) {
      chain = chain.slice(head);
      head = 0;
    }
  };

  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (!isDigit(c)) {
      i++;
      continue;
    }
    let j = i + 1;
    while (j < n && isDigit(text.charCodeAt(j))) j++;
    const len = j - i;
    const before = i > 0 ? text.charCodeAt(i - 1) : 0;
    const after = j < n ? text.charCodeAt(j) : 0;
    // Joins the chain when one separator character, or one with a space each side (" - "), follows
    // the previous group. Two spaces do not (aligned columns of numbers are not card groups).
    const gap = last === undefined ? 0 : i - last.end;
    const joins =
      last !== undefined &&
      ((gap === 1 && isSepChar(before)) ||
        (gap === MAX_SEP && text.charCodeAt(i - 3) === 32 && before === 32 && isSepChar(text.charCodeAt(i - 2)) && text.charCodeAt(i - 2) !== 32));
    if (!joins) drain(0);
    if (len > 19) {
      // Too long for a card and too long to be one group of one: a breaker.
      drain(0);
      last = undefined;
      i = j;
      continue;
    }
    const beforeBefore = i > 1 ? text.charCodeAt(i - 2) : 0;
    const g: Group = {
      start: i,
      end: j,
      sep: joins ? text.slice(last!.end, i) : '',
      prevLen: joins ? last!.end - last!.start : 0,
      // "12.4111..." / "ab4111..." / "x-4111..." glue: not the start of a card.
      dirtyStart: !joins && (isWordChar(before) || ((before === 45 || before === 46 || before === 47) && isDigit(beforeBefore))),
      dirtyEnd: isWordChar(after) || ((after === 46 || after === 47) && j + 1 < n && isDigit(text.charCodeAt(j + 1))),
    };
    chain.push(g);
    last = g;
    drain(LOOKAHEAD);
    i = j;
  }
  drain(0);
}

// Separator: one of "- . _ " or a dash/dot with spaces around it, the same twice (folded text).
const SSN_FORMATTED = /(?<![\w-]|\d\.)(\d{3})([-._ ]| [-.] )(\d{2})\2(\d{4})(?![\w-]|\.\d)/g;
const SSN_BARE = /(?<![\w-])(\d{3})(\d{2})(\d{4})(?![\w-])/g;

/** US social security numbers "123-45-6789" / "123 45 6789" / "123.45.6789" (and bare 9 digits when asked), valid ranges only. */
export function scanSsns(text: string, found: (digits: string) => void, bare = false): void {
  for (const m of text.matchAll(SSN_FORMATTED)) {
    if (isValidSsn(m[1]!, m[3]!, m[4]!)) found(m[1]! + m[3]! + m[4]!);
  }
  if (bare) {
    for (const m of text.matchAll(SSN_BARE)) if (isValidSsn(m[1]!, m[2]!, m[3]!)) found(m[1]! + m[2]! + m[3]!);
  }
}

const IBAN_COMPACT = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}[A-Z0-9]{11,30}(?![A-Za-z0-9])/g;
const IBAN_GROUPED = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}([ .-])[A-Z0-9]{4}(?:\1[A-Z0-9]{4}){1,6}(?:\1[A-Z0-9]{1,3})?(?![A-Za-z0-9])/g;

/** IBANs, compact ("DE89370400440532013000") or in groups of four ("DE89 3704 0044 0532 0130 00", or with "." / "-"). */
export function scanIbans(text: string, found: (iban: string) => void): void {
  for (const m of text.matchAll(IBAN_COMPACT)) if (isValidIban(m[0])) found(m[0]);
  for (const m of text.matchAll(IBAN_GROUPED)) {
    const compact = m[0].split(m[1]!).join('');
    if (isValidIban(compact)) {
      found(compact);
      continue;
    }
    // A following unrelated group ("... 0130 00 1234") may have been taken: cut at the country length
    // when that falls on a group boundary.
    const len = IBAN_LENGTHS[compact.slice(0, 2)];
    if (len !== undefined && len < compact.length && len % 4 === 0 && isValidIban(compact.slice(0, len))) {
      found(compact.slice(0, len));
    }
  }
}
