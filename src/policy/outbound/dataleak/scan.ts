// Linear-time scanners that find sensitive numbers in text and hand each valid one to a callback.
// The matched values go only to the callback (which counts them); they are never logged or returned
// in hits. Card scanning is a hand-written single pass (no regex), O(n) in time, O(1) extra memory
// per candidate; SSN and IBAN use fixed, non-nested patterns (no catastrophic backtracking).
import { IBAN_LENGTHS, isValidCard, isValidIban, isValidSsn } from './validators.js';

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
/** Letters and underscore glued to a number make it part of an identifier, not a card. */
const isWordChar = (c: number): boolean =>
  (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || (c >= 0xc0 && c !== 0xd7 && c !== 0xf7 && c < 0x2000);

interface Group {
  start: number;
  end: number; // exclusive
  /** Separator char code between the previous group of the chain and this one (0 for the first). */
  sep: number;
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
 * Find payment card numbers: one block of 13-19 digits, or 4-digit groups separated by one space or
 * one dash (the same separator throughout), Amex/Diners 4-6-5 / 4-6-4. Each must have a known IIN
 * prefix and pass Luhn. Digits glued to letters ("ID4111...") or longer digit runs are not cards.
 */
export function scanCards(text: string, found: (digits: string) => void): void {
  const n = text.length;
  let chain: Group[] = [];
  let head = 0;

  const digitsOf = (from: number, k: number): string => {
    let s = '';
    for (let j = from; j < from + k; j++) s += text.slice(chain[j]!.start, chain[j]!.end);
    return s;
  };
  /** Try to match a card at chain[head]; returns groups consumed (0 = none). */
  const matchAt = (): number => {
    const avail = chain.length - head;
    const g0 = chain[head]!;
    if (g0.dirtyStart) return 0;
    const first = text.charCodeAt(g0.start);
    if (first < 50 || first > 54) return 0; // every known IIN starts with 2..6
    for (let k = Math.min(5, avail); k >= 1; k--) {
      const last = chain[head + k - 1]!;
      if (last.dirtyEnd) continue;
      if (k === 1) {
        const len = g0.end - g0.start;
        if (len < 13 || len > 19) continue;
      } else {
        if (!shapeOk(chain, head, k)) continue;
        let sepOk = true;
        for (let j = head + 2; j < head + k; j++) if (chain[j]!.sep !== chain[head + 1]!.sep) sepOk = false;
        if (!sepOk) continue;
      }
      const digits = digitsOf(head, k);
      if (isValidCard(digits)) {
        found(digits);
        return k;
      }
    }
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
    const prev = chain.length > head ? chain[chain.length - 1] : undefined;
    // Joins the chain when exactly one space/dash separates it from the previous group.
    const joins =
      prev !== undefined &&
      prev.end === i - 1 &&
      (before === 32 || before === 45) &&
      (chain.length - head < 2 || chain[chain.length - 1]!.sep === 0 || chain[chain.length - 1]!.sep === before);
    if (!joins) drain(0);
    if (len > 19) {
      // Too long for a card and too long to be one group of one: a breaker.
      drain(0);
      i = j;
      continue;
    }
    const beforeBefore = i > 1 ? text.charCodeAt(i - 2) : 0;
    chain.push({
      start: i,
      end: j,
      sep: joins ? before : 0,
      // "12.4111..." / "ab4111..." / "x-4111..." glue: not the start of a card.
      dirtyStart: !joins && (isWordChar(before) || ((before === 45 || before === 46 || before === 47) && isDigit(beforeBefore))),
      dirtyEnd: isWordChar(after) || ((after === 46 || after === 47) && j + 1 < n && isDigit(text.charCodeAt(j + 1))),
    });
    drain(4);
    i = j;
  }
  drain(0);
}

const SSN_FORMATTED = /(?<![\w-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\w-])/g;
const SSN_BARE = /(?<![\w-])(\d{3})(\d{2})(\d{4})(?![\w-])/g;

/** US social security numbers "123-45-6789" / "123 45 6789" (and bare 9 digits when asked), valid ranges only. */
export function scanSsns(text: string, found: (digits: string) => void, bare = false): void {
  for (const m of text.matchAll(SSN_FORMATTED)) {
    if (isValidSsn(m[1]!, m[3]!, m[4]!)) found(m[1]! + m[3]! + m[4]!);
  }
  if (bare) {
    for (const m of text.matchAll(SSN_BARE)) if (isValidSsn(m[1]!, m[2]!, m[3]!)) found(m[1]! + m[2]! + m[3]!);
  }
}

const IBAN_COMPACT = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}[A-Z0-9]{11,30}(?![A-Za-z0-9])/g;
const IBAN_GROUPED = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,3})?(?![A-Za-z0-9])/g;

/** IBANs, compact ("DE89370400440532013000") or in groups of four ("DE89 3704 0044 0532 0130 00"). */
export function scanIbans(text: string, found: (iban: string) => void): void {
  for (const m of text.matchAll(IBAN_COMPACT)) if (isValidIban(m[0])) found(m[0]);
  for (const m of text.matchAll(IBAN_GROUPED)) {
    const compact = m[0].replace(/ /g, '');
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
