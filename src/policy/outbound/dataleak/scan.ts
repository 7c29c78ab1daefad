// Linear-time scanners that find sensitive numbers in text and hand each valid one to a callback.
// The matched values go only to the callback (which counts them); they are never logged or returned
// in hits. Card scanning is a hand-written single pass (no regex), O(n) in time, O(1) extra memory
// per candidate; SSN and IBAN use fixed, non-nested patterns (no catastrophic backtracking).
import { IBAN_LENGTHS, isValidCard, isValidIban, isValidSsn } from './validators.js';

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
/** Letters and underscore glued to a number make it part of an identifier, not a card. */
const isWordChar = (c: number): boolean =>
  (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || (c >= 0xc0 && c !== 0xd7 && c !== 0xf7 && c < 0x2000);

/** Whitespace between digit groups (text is folded first, so Unicode spaces and line separators are ASCII here). */
const isSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13);
/** Punctuation allowed between digit groups: - . / _ , : | ( ) " ' + */
const isPunctSep = (c: number): boolean =>
  c === 45 || c === 46 || c === 47 || c === 95 || c === 44 || c === 58 || c === 124 || c === 40 || c === 41 || c === 34 || c === 39 ||
  c === 43;
/** Most punctuation characters in one separator (`", "` is three); any run of whitespace is allowed besides. */
const MAX_PUNCT = 3;
/** Groups kept unprocessed while scanning: the longest window (19 one-digit groups) plus one. */
const LOOKAHEAD = 20;

interface Group {
  start: number;
  end: number; // exclusive
  /** Separator text between the previous group of the chain and this one ("" for the first). */
  sep: string;
  /** The separator with each whitespace run reduced to ' ' (or '\n' when it holds a line break). */
  kind: string;
  dirtyStart: boolean;
  dirtyEnd: boolean;
}

/** A separator's kind: whitespace runs collapse, so "4111  1111\t1111" has one kind throughout. */
function sepKind(sep: string): string {
  let out = '';
  let ws = 0; // 0 none, 1 spaces, 2 with a line break
  for (let i = 0; i < sep.length; i++) {
    const c = sep.charCodeAt(i);
    if (isSpace(c)) {
      ws = Math.max(ws, c === 32 || c === 9 ? 1 : 2);
      continue;
    }
    if (ws) out += ws === 2 ? '\n' : ' ';
    ws = 0;
    out += sep[i];
  }
  if (ws) out += ws === 2 ? '\n' : ' ';
  return out;
}

/** Group-length shapes printed on cards (besides one 13-19 digit block): 4-4-4-4(-1..3), 4-4-4-1..4, Amex/Diners 4-6-5 / 4-6-4. */
function shapeOk(chain: Group[], head: number, k: number): boolean {
  const len = (j: number): number => chain[head + j]!.end - chain[head + j]!.start;
  if (len(0) !== 4) return false;
  if (k === 3) return len(1) === 6 && (len(2) === 4 || len(2) === 5); // Diners 4-6-4, Amex 4-6-5
  if (k === 4) return len(1) === 4 && len(2) === 4 && len(3) >= 1 && len(3) <= 4; // 13-16
  if (k === 5) return len(1) === 4 && len(2) === 4 && len(3) === 4 && len(4) >= 1 && len(4) <= 3; // 17-19
  return false;
}

/**
 * Find payment card numbers in folded text (see normalize.ts). A chain is a run of digit groups joined
 * by separators (any whitespace run plus at most three of - . / _ , : | ( ) " ' +). A card is:
 * - one block of 13-19 digits anywhere;
 * - a printed card shape (4-4-4-4, 4-6-5...) anywhere in a chain when one plain separator (one space,
 *   - . / _ or " - ") is used throughout ("ref 12 4111 1111 1111 1111", a space-separated list of cards);
 * - any grouping (6-6-4, 2-2-..., one digit per group), with any separators (tabs, several spaces,
 *   line breaks, commas, mixed), only when isolated: the separators just before and after it are of a
 *   kind not used inside it. So "Customer 3: 4111-1111 1111-1111" counts, but no window cut out of a
 *   column or table of numbers does (a column of 4-digit numbers is not a stream of cards).
 * Each must have a known IIN prefix and pass Luhn. Digits glued to letters ("ID4111...") or longer
 * digit runs are not cards. One pass, O(n) time: at most 19 windows are tried per group.
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
  /** Groups head..head+k-1 as one card, if it validates. */
  const tryWindow = (k: number): boolean => {
    if (chain[head + k - 1]!.dirtyEnd) return false;
    const digits = digitsOf(k);
    if (!isValidCard(digits)) return false;
    found(digits);
    return true;
  };
  /**
   * Groups head..head+k-1 (a printed card shape) as a card inside a longer chain: one plain separator
   * throughout (" ", "-", ".", "/", "_", " - "...), and the chain is not cut in the middle of a number —
   * before it, a different separator, the chain start or a card just matched (a list of cards); after it,
   * a different separator, the chain end, or a group that can start the next card (4 digits, a 13-19
   * digit block) or an expiry date ("... 1111 12/29").
   */
  const canonicalOk = (k: number): boolean => {
    const sep = chain[head + 1]!.sep;
    const plain = (sep.length === 1 && ' -./_'.includes(sep)) || (sep.length === 3 && sep[0] === ' ' && sep[2] === ' ' && '-./_'.includes(sep[1]!));
    if (!plain) return false;
    for (let j = head + 2; j < head + k; j++) if (chain[j]!.sep !== sep) return false;
    const g0 = chain[head]!;
    if (g0.sep === sep && !afterMatch) return false;
    const next = chain[head + k];
    if (next === undefined || next.sep !== sep) return true;
    const nl = glen(next);
    return nl === 4 || (nl >= 13 && nl <= 19) || (nl === 2 && sep !== '/' && text.charCodeAt(next.end) === 47);
  };
  const isolatedK: boolean[] = new Array<boolean>(20).fill(false);
  /** Try to match a card at chain[head]; returns groups consumed (0 = none). */
  const matchAt = (): number => {
    const avail = chain.length - head;
    const g0 = chain[head]!;
    if (g0.dirtyStart) return 0;
    if (g0.sep === '.' || g0.sep === '/') return 0; // "3.4111..." is a decimal, "1/4111..." a fraction or path
    const first = text.charCodeAt(g0.start);
    if (first < 50 || first > 54) return 0; // every known IIN starts with 2..6
    const len = glen(g0);
    if (len >= 13 && len <= 19 && tryWindow(1)) return 1;
    // Any grouping of 13-19 digits, isolated in its chain: no separator kind used inside the window also
    // joins it to the group before or after (the longest window first). "_" joins the parts of identifiers
    // and file names ("6295066_782_01042023_4.txt"): with it only one digit per group counts (printed card
    // shapes with "_" are found by canonicalOk below).
    let total = len;
    let maxK = 1;
    while (maxK < avail && maxK < 19 && total + glen(chain[head + maxK]!) <= 19) total += glen(chain[head + maxK++]!);
    // the separator before this group is also the one after it: no window starting here is isolated
    if (maxK >= 2 && g0.sep !== '' && chain[head + 1]!.kind === g0.kind) maxK = 1;
    const inside: string[] = [];
    let bad = false;
    for (let k = 2; k <= maxK; k++) {
      const g = chain[head + k - 1]!;
      if (g.kind.includes('_') && (glen(g) > 1 || len > 1)) bad = true;
      if (!inside.includes(g.kind)) inside.push(g.kind);
      if (g0.sep !== '' && inside.includes(g0.kind)) bad = true;
      const next = chain[head + k];
      isolatedK[k] = !bad && (next === undefined || !inside.includes(next.kind));
    }
    for (let k = maxK; k >= 2 && total >= 13; total -= glen(chain[head + --k]!)) {
      if (!isolatedK[k] || chain[head + k - 1]!.dirtyEnd) continue;
      // a short group, a decimal point or comma, then the rest: a number with decimals ("3.77398985747399",
      // "12,3456789012345": a measurement printed to 15 digits), never a card
      if (k === 2 && len <= 3 && (chain[head + 1]!.kind === '.' || chain[head + 1]!.kind === ',')) continue;
      const digits = digitsOf(k);
      if (!isValidCard(digits)) continue;
      // "Customer 2: 3782 822463 10005": when the first group is short and its separator is not used
      // again in the window, it may be a label — if the window without it is a card too, that is the card
      let rest = '';
      if (len <= 3 && k >= 2) {
        const kind1 = chain[head + 1]!.kind;
        let again = false;
        for (let j = head + 2; j < head + k; j++) if (chain[j]!.kind === kind1) again = true;
        if (!again) rest = digits.slice(len);
      }
      found(rest.length >= 13 && isValidCard(rest) ? rest : digits);
      return k;
    }
    for (let k = Math.min(5, avail); k >= 3; k--) {
      if (shapeOk(chain, head, k) && canonicalOk(k) && tryWindow(k)) return k;
    }
    return 0;
  };
  let afterMatch = false; // the group before chain[head] ended a matched card
  let pending = 0; // digits in chain[head..]
  const drain = (keep: number): void => {
    if (keep === 0 && pending < 13) {
      // every card window holds 13 digits or more: none left in this chain
      if (chain.length > head) afterMatch = false;
      chain.length = 0;
      head = 0;
      pending = 0;
      return;
    }
    while (chain.length - head > keep) {
      const k = matchAt();
      const to = head + (k > 0 ? k : 1);
      for (; head < to; head++) pending -= glen(chain[head]!);
      afterMatch = k > 0;
    }
    if (head > 256 || head === chain.length) {
      chain = chain.slice(head);
      head = 0;
    }
  };

  let i = 0;
  let gapBad = false; // a character that is no separator since the last group
  let gapPunct = 0; // punctuation separators since the last group
  while (i < n) {
    const c = text.charCodeAt(i);
    if (!isDigit(c)) {
      if (isPunctSep(c)) gapPunct++;
      else if (!isSpace(c)) gapBad = true;
      i++;
      // nothing before can join the next group any more: skip to it without classifying
      if (gapBad || last === undefined) while (i < n && !isDigit(text.charCodeAt(i))) i++;
      continue;
    }
    let j = i + 1;
    while (j < n && isDigit(text.charCodeAt(j))) j++;
    const len = j - i;
    const before = i > 0 ? text.charCodeAt(i - 1) : 0;
    const after = j < n ? text.charCodeAt(j) : 0;
    const joins = last !== undefined && !gapBad && gapPunct <= MAX_PUNCT;
    gapBad = false;
    gapPunct = 0;
    if (!joins) drain(0);
    if (len > 19) {
      // Too long for a card and too long to be one group of one: a breaker.
      drain(0);
      last = undefined;
      i = j;
      continue;
    }
    if (!joins && len < 13 && (j === n || !(isSpace(after) || isPunctSep(after)))) {
      // A chain of this one short group: nothing can join it, no card in it (most digit runs in binary text).
      last = undefined;
      i = j;
      continue;
    }
    const beforeBefore = i > 1 ? text.charCodeAt(i - 2) : 0;
    const sep = joins ? text.slice(last!.end, i) : '';
    const g: Group = {
      start: i,
      end: j,
      sep,
      kind: joins ? sepKind(sep) : '',
      // "12.4111..." / "ab4111..." / "x-4111..." glue: not the start of a card.
      dirtyStart: !joins && (isWordChar(before) || ((before === 45 || before === 46 || before === 47) && isDigit(beforeBefore))),
      dirtyEnd: isWordChar(after) || ((after === 46 || after === 47) && j + 1 < n && isDigit(text.charCodeAt(j + 1))),
    };
    chain.push(g);
    pending += len;
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

const IBAN_COMPACT = /(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}[A-Za-z0-9]{11,30}(?![A-Za-z0-9])/g;
/** Between groups: a run of up to three spaces/tabs, or one of . - / _ with at most one space each side. */
const IBAN_SEP = '(?:[ \\t]{1,3}|[ \\t]?[-./_][ \\t]?)';
const IBAN_GROUPED = new RegExp(
  `(?<![A-Za-z0-9])[A-Za-z]{2}\\d{2}${IBAN_SEP}[A-Za-z0-9]{4}(?:${IBAN_SEP}[A-Za-z0-9]{4}){1,6}(?:${IBAN_SEP}[A-Za-z0-9]{1,3})?(?![A-Za-z0-9])`,
  'g',
);
const NOT_ALNUM = /[^A-Za-z0-9]+/g;

/**
 * The upper-case compact form of a candidate written in one case: all upper, all lower, or only the
 * first letter upper ("De89..."). Mixed-case runs are identifiers and tokens (base62 ids), not IBANs.
 */
function oneCase(compact: string): string | undefined {
  const upper = compact.toUpperCase();
  if (compact === upper) return upper;
  const lower = compact.toLowerCase();
  return compact === lower || compact.slice(1) === lower.slice(1) ? upper : undefined;
}

/**
 * IBANs, compact ("DE89370400440532013000") or in groups of four ("DE89 3704 0044 0532 0130 00", with
 * "." "-" "/" "_" or mixed separators), in upper or lower case; the country length and mod-97 check always apply.
 */
export function scanIbans(text: string, found: (iban: string) => void): void {
  for (const m of text.matchAll(IBAN_COMPACT)) {
    const iban = oneCase(m[0]);
    if (iban !== undefined && isValidIban(iban)) found(iban);
  }
  for (const m of text.matchAll(IBAN_GROUPED)) {
    const compact = oneCase(m[0].replace(NOT_ALNUM, ''));
    if (compact === undefined) continue;
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
