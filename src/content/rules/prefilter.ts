// Literal pre-filter for content-rule regular expressions (speed only): reads an RE2 pattern and
// derives what any match must contain — all of a few conditions, each one of a few literal strings,
// a run of at least N characters from a small class, or a whole ASCII word of bounded length made of
// such characters (between \b's) — in case-folded form (fold.ts), so most texts can be passed over
// without calling re2-wasm (which copies the whole text on every call). The analysis is conservative:
// anything it does not fully understand yields null ("no information": the caller runs RE2), and a
// requirement it returns is necessary for a case-insensitive RE2 match. It never decides a match.
import { foldCase } from './fold.js';

/**
 * One way a match can show: a folded literal substring; a run of `min`+ folded chars from `set`; or a
 * whole ASCII word (maximal run of [0-9A-Za-z_], what RE2's \b sees) of `min`..`max` chars, all in `set`.
 */
export type Need =
  | { lit: string }
  | { run: { set: ReadonlySet<number>; min: number; first?: ReadonlySet<number> } }
  | { word: { set: ReadonlySet<number>; min: number; max: number; first?: ReadonlySet<number> } };
/** A match needs at least one of these (a non-empty list). */
export type Clause = readonly Need[];
/** A match needs every clause (a non-empty list). */
export type Requirement = readonly Clause[];

/** Every match is `min`..`max` chars long, each of its folded chars is in `set`, the first in `first`. */
interface Shape {
  set: ReadonlySet<number>;
  min: number;
  max: number;
  first: ReadonlySet<number>;
}

class Unsupported extends Error {}

interface Info {
  /** Every folded string the node can match, when few and short; null otherwise. */
  exact: Set<string> | null;
  /** Necessary conditions derived from the node, all of them (empty: none known). */
  reqs: Need[][];
  /** The folded single code units the node matches when it is one character from a small class. */
  cls: Set<number> | null;
  /** Each match of the node fits one of these (null: unknown). */
  shapes: Shape[] | null;
  /** The node is \b. */
  boundary?: boolean;
}

const MAX_EXACT = 16;
const MAX_LEN = 32;
const MAX_CLASS = 300;
const RUN_MIN = 8;
const MAX_CLAUSES = 4;
const MAX_SHAPES = 8;
const NOTHING: ReadonlySet<number> = new Set();
const EMPTY: Info = { exact: new Set(['']), reqs: [], cls: null, shapes: [{ set: NOTHING, min: 0, max: 0, first: NOTHING }] };
const BOUNDARY: Info = { ...EMPTY, boundary: true };
const ANYCHAR: Info = { exact: null, reqs: [], cls: null, shapes: null };

const DIGITS = '0123456789';
const SPACE = '\t\n\f\r ';
const WORD = `${DIGITS}abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_`;
/** Folded ASCII word characters (RE2's \w after foldCase). */
const FOLDED_WORD = new Set([...`${DIGITS}abcdefghijklmnopqrstuvwxyz_`].map((c) => c.charCodeAt(0)));

function score(need: Need): number {
  if ('lit' in need) return need.lit.length;
  if ('run' in need) return Math.min(need.run.min / 2, 10);
  return Math.min(need.word.min / 2 + 2, 12);
}
function reqScore(req: Need[] | null): number {
  if (!req || req.length === 0) return 0;
  return Math.min(...req.map(score));
}
function exactReq(exact: Set<string> | null): Need[] | null {
  if (!exact || exact.size === 0 || exact.has('')) return null;
  return [...exact].map((lit) => ({ lit }));
}
/** The most selective clause of a conjunction (null: none). */
function bestClause(reqs: readonly (Need[] | null)[]): Need[] | null {
  let b: Need[] | null = null;
  for (const r of reqs) if (r && r.length && reqScore(r) > reqScore(b)) b = r;
  return b;
}
/** Keeps the most selective clauses (each is checked on every text, so a few suffice). */
function prune(reqs: (Need[] | null)[]): Need[][] {
  const list = reqs.filter((r): r is Need[] => !!r && r.length > 0 && reqScore(r) > 0);
  list.sort((a, b) => reqScore(b) - reqScore(a));
  const seen = new Set<string>();
  return list.filter((c) => !seen.has(clauseKey(c)) && !!seen.add(clauseKey(c))).slice(0, MAX_CLAUSES);
}
function clauseKey(c: readonly Need[]): string {
  const chars = (x: ReadonlySet<number> | undefined): string => [...(x ?? [])].join(',');
  return c.map((n) => ('lit' in n ? `l${n.lit}` : 'run' in n ? `r${n.run.min}:${chars(n.run.set)}:${chars(n.run.first)}`
    : `w${n.word.min}-${n.word.max}:${chars(n.word.set)}:${chars(n.word.first)}`)).join('\0');
}
/** One shape covering all of `shapes` (null when the joint class is too big). */
function mergeShapes(shapes: readonly Shape[]): Shape | null {
  if (shapes.length === 1) return shapes[0]!;
  const set = new Set<number>();
  const first = new Set<number>();
  let min = Infinity;
  let max = 0;
  for (const sh of shapes) {
    for (const c of sh.set) set.add(c);
    for (const c of sh.first) first.add(c);
    min = Math.min(min, sh.min);
    max = Math.max(max, sh.max);
  }
  if (set.size > MAX_CLASS) return null;
  return { set, min: shapes.length ? min : 0, max, first };
}
/** The shape of a sequence of nodes (null when one is unknown or the class grows too big). */
function concatShape(parts: readonly (Shape[] | null)[]): Shape | null {
  const set = new Set<number>();
  const first = new Set<number>();
  let min = 0;
  let max = 0;
  for (const p of parts) {
    const sh = p && mergeShapes(p);
    if (!sh) return null;
    for (const c of sh.set) set.add(c);
    // a match starts with the first character of the first part that is not empty
    if (min === 0) for (const c of sh.first) first.add(c);
    min += sh.min;
    max += sh.max;
  }
  return set.size > MAX_CLASS ? null : { set, min, max, first };
}
function runClause(sh: Shape | null): Need[] | null {
  return sh && sh.min >= RUN_MIN && sh.set.size > 0 ? [{ run: { set: sh.set, min: sh.min, first: sh.first } }] : null;
}
/** \b X \b where X is made of ASCII word characters: X is a whole word of its shape's length. */
function wordClause(shapes: readonly Shape[] | null): Need[] | null {
  if (!shapes || !shapes.length) return null;
  const out: Need[] = [];
  for (const sh of shapes) {
    if (sh.min < 1 || sh.set.size === 0) return null;
    for (const c of sh.set) if (!FOLDED_WORD.has(c)) return null;
    out.push({ word: { set: sh.set, min: sh.min, max: sh.max, first: sh.first } });
  }
  return out;
}

/** Info for one character class given as its member characters (unfolded). */
function classInfo(chars: Iterable<string>): Info {
  const folded = new Set<string>();
  for (const c of chars) folded.add(foldCase(c));
  const exact = folded.size <= 10 ? folded : null;
  let cls: Set<number> | null = new Set();
  for (const f of folded) {
    if (f.length !== 1) {
      cls = null;
      break;
    }
    cls.add(f.charCodeAt(0));
  }
  return { exact, reqs: prune([exactReq(exact)]), cls, shapes: cls ? [{ set: cls, min: 1, max: 1, first: cls }] : null };
}

function literal(c: string): Info {
  return classInfo([c]);
}

class Parser {
  private i = 0;
  constructor(private readonly s: string) {}

  parse(): Info {
    const r = this.alt();
    if (this.i !== this.s.length) throw new Unsupported();
    return r;
  }

  private alt(): Info {
    const branches = [this.concat()];
    while (this.s[this.i] === '|') {
      this.i++;
      branches.push(this.concat());
    }
    if (branches.length === 1) return branches[0]!;
    let exact: Set<string> | null = new Set();
    for (const b of branches) {
      if (!b.exact || !exact) {
        exact = null;
        continue;
      }
      for (const x of b.exact) exact.add(x);
      if (exact.size > MAX_EXACT) exact = null;
    }
    // one clause: the best of each branch, any of them
    let clause: Need[] | null = [];
    for (const b of branches) {
      const r = bestClause([...b.reqs, exactReq(b.exact)]);
      if (!r) {
        clause = null;
        break;
      }
      clause.push(...r);
    }
    let shapes: Shape[] | null = [];
    for (const b of branches) {
      if (!b.shapes || !shapes) {
        shapes = null;
        continue;
      }
      shapes.push(...b.shapes);
    }
    if (shapes && shapes.length > MAX_SHAPES) {
      const m = mergeShapes(shapes);
      shapes = m ? [m] : null;
    }
    return { exact, reqs: prune([clause]), cls: null, shapes };
  }

  private concat(): Info {
    const items: Info[] = [];
    while (this.i < this.s.length && this.s[this.i] !== '|' && this.s[this.i] !== ')') items.push(this.repeat());
    if (items.length === 0) return EMPTY;
    if (items.length === 1) return items[0]!;
    const reqs: (Need[] | null)[] = [];
    // runs of exact items become longer literals (cross product while small)
    let block: Set<string> | null = new Set(['']);
    let allExact = true;
    const closeBlock = (): void => {
      reqs.push(exactReq(block));
      block = new Set(['']);
    };
    for (const it of items) {
      reqs.push(...it.reqs);
      if (!it.exact) {
        allExact = false;
        closeBlock();
        continue;
      }
      const next = new Set<string>();
      let fits = true;
      for (const a of block!) for (const b of it.exact) {
        const s = a + b;
        if (s.length > MAX_LEN) fits = false;
        next.add(s);
      }
      if (!fits || next.size > MAX_EXACT) {
        allExact = false;
        closeBlock();
        block = new Set(it.exact);
      } else block = next;
    }
    const exact = allExact ? block : null;
    closeBlock();
    // runs of items of known shape: a run of their joint class; between two \b's: a whole word
    let from = 0;
    for (let k = 0; k <= items.length; k++) {
      if (k < items.length && items[k]!.shapes) continue;
      if (k > from) reqs.push(runClause(concatShape(items.slice(from, k).map((it) => it.shapes))));
      from = k + 1;
    }
    for (let a = 0; a < items.length; a++) {
      if (!items[a]!.boundary) continue;
      let b = a + 1;
      while (b < items.length && !items[b]!.boundary && items[b]!.shapes) b++;
      if (b >= items.length || !items[b]!.boundary || b === a + 1) continue;
      const inner = items.slice(a + 1, b);
      const joint = inner.length === 1 ? inner[0]!.shapes : [concatShape(inner.map((it) => it.shapes))];
      reqs.push(wordClause(joint && joint.every((x): x is Shape => x !== null) ? joint : null));
    }
    const whole = concatShape(items.map((it) => it.shapes));
    return { exact, reqs: prune(reqs), cls: null, shapes: whole ? [whole] : null };
  }

  private repeat(): Info {
    const atom = this.atom();
    let min = 1;
    let max = 1;
    const c = this.s[this.i];
    if (c === '*') [min, max] = [0, Infinity];
    else if (c === '+') [min, max] = [1, Infinity];
    else if (c === '?') [min, max] = [0, 1];
    else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.s.slice(this.i));
      if (!m) return atom; // RE2 reads a "{" that is not a repeat as a literal; handled by atom() next time
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      this.i += m[0].length - 1;
    } else return atom;
    this.i++;
    if (this.s[this.i] === '?') this.i++; // non-greedy: same strings
    if (this.s[this.i] === '*' || this.s[this.i] === '+' || this.s[this.i] === '?' || this.s[this.i] === '{') throw new Unsupported();
    const one = atom.shapes && mergeShapes(atom.shapes);
    const shapes = one ? [{ set: one.set, min: one.min * min, max: one.max === 0 ? 0 : one.max * max, first: one.first }] : null;
    if (min === 0) {
      if (max === 1 && atom.exact) {
        const exact = new Set(atom.exact);
        exact.add('');
        return { exact: exact.size <= MAX_EXACT ? exact : null, reqs: [], cls: null, shapes };
      }
      return { exact: null, reqs: [], cls: null, shapes };
    }
    const req: (Need[] | null)[] = [...atom.reqs, exactReq(atom.exact)];
    if (atom.cls && min >= RUN_MIN) req.push([{ run: { set: atom.cls, min } }]);
    if (shapes) req.push(runClause(shapes[0]!));
    let exact: Set<string> | null = null;
    if (min === max && atom.exact && atom.exact.size ** min <= MAX_EXACT) {
      exact = new Set(['']);
      for (let k = 0; k < min && exact; k++) {
        const next = new Set<string>();
        for (const a of exact) for (const b of atom.exact) next.add(a + b);
        exact = [...next].some((x) => x.length > MAX_LEN) ? null : next;
      }
    }
    req.push(exactReq(exact));
    return { exact, reqs: prune(req), cls: null, shapes };
  }

  private atom(): Info {
    const s = this.s;
    const c = s[this.i]!;
    if (c === '(') {
      this.i++;
      if (s[this.i] === '?') {
        if (s[this.i + 1] !== ':') throw new Unsupported(); // flags, named groups: not analysed
        this.i += 2;
      }
      const inner = this.alt();
      if (s[this.i] !== ')') throw new Unsupported();
      this.i++;
      return { exact: inner.exact, reqs: inner.reqs, cls: null, shapes: inner.shapes };
    }
    if (c === '[') return this.klass();
    if (c === '.') {
      this.i++;
      return ANYCHAR;
    }
    if (c === '^' || c === '$') {
      this.i++;
      return EMPTY;
    }
    if (c === '\\') return this.escape();
    if (c === ')' || c === '*' || c === '+' || c === '?') throw new Unsupported();
    const cp = s.codePointAt(this.i)!;
    const ch = String.fromCodePoint(cp);
    this.i += ch.length;
    return literal(ch);
  }

  private escape(): Info {
    const e = this.s[this.i + 1];
    if (e === undefined) throw new Unsupported();
    this.i += 2;
    switch (e) {
      case 'd': return classInfo(DIGITS);
      case 's': return classInfo(SPACE);
      case 'w': return classInfo(WORD);
      case 'D': case 'S': case 'W': return ANYCHAR;
      case 'p': case 'P':
        if (this.s[this.i] === '{') {
          const close = this.s.indexOf('}', this.i);
          if (close < 0) throw new Unsupported();
          this.i = close + 1;
        } else this.i++;
        return ANYCHAR;
      case 'b': return BOUNDARY;
      case 'B': case 'A': case 'z': return EMPTY;
      case 'n': return literal('\n');
      case 't': return literal('\t');
      case 'r': return literal('\r');
      case 'f': return literal('\f');
      case 'v': return literal('\v');
      default:
        if (/[A-Za-z0-9]/.test(e)) throw new Unsupported(); // \x, \Q, \C, octal...: not analysed
        return literal(e);
    }
  }

  private klass(): Info {
    const s = this.s;
    this.i++;
    let negated = false;
    if (s[this.i] === '^') {
      negated = true;
      this.i++;
    }
    const chars = new Set<string>();
    let big = false;
    let first = true;
    const one = (): string | null => {
      // a single class member character, or null after adding a class escape
      if (s[this.i] === '\\') {
        const e = s[this.i + 1];
        if (e === undefined) throw new Unsupported();
        this.i += 2;
        if (e === 'd') [...DIGITS].forEach((x) => chars.add(x));
        else if (e === 's') [...SPACE].forEach((x) => chars.add(x));
        else if (e === 'w') [...WORD].forEach((x) => chars.add(x));
        else if (e === 'D' || e === 'S' || e === 'W') big = true;
        else if (e === 'p' || e === 'P') {
          if (s[this.i] === '{') {
            const close = s.indexOf('}', this.i);
            if (close < 0) throw new Unsupported();
            this.i = close + 1;
          } else this.i++;
          big = true;
        } else if (e === 'n') return '\n';
        else if (e === 't') return '\t';
        else if (e === 'r') return '\r';
        else if (e === 'f') return '\f';
        else if (e === 'v') return '\v';
        else if (/[A-Za-z0-9]/.test(e)) throw new Unsupported();
        else return e;
        return null;
      }
      if (s[this.i] === '[' && s[this.i + 1] === ':') throw new Unsupported(); // [:alpha:]
      const cp = s.codePointAt(this.i);
      if (cp === undefined) throw new Unsupported();
      const ch = String.fromCodePoint(cp);
      this.i += ch.length;
      return ch;
    };
    while (this.i < s.length && (s[this.i] !== ']' || first)) {
      first = false;
      const a = one();
      if (a !== null && s[this.i] === '-' && s[this.i + 1] !== ']' && this.i + 1 < s.length) {
        this.i++;
        const b = one();
        if (b === null) throw new Unsupported();
        const lo = a.codePointAt(0)!;
        const hi = b.codePointAt(0)!;
        if (hi < lo) throw new Unsupported();
        if (hi - lo > MAX_CLASS) big = true;
        else for (let x = lo; x <= hi; x++) chars.add(String.fromCodePoint(x));
      } else if (a !== null) chars.add(a);
      if (chars.size > MAX_CLASS) big = true;
    }
    if (s[this.i] !== ']') throw new Unsupported();
    this.i++;
    if (negated || big) return ANYCHAR;
    return classInfo(chars);
  }
}

/** What any case-insensitive RE2 match of `pattern` must contain (all clauses), or null when unknown. */
export function requirementOf(pattern: string): Requirement | null {
  try {
    const info = new Parser(pattern).parse();
    const reqs = prune([...info.reqs, exactReq(info.exact)]).filter((c) => !c.some((n) => 'lit' in n && n.lit.length === 0));
    if (reqs.length === 0) return null;
    // cheap literal clauses first: the later scans mostly never run
    return reqs.sort((a, b) => cost(a) - cost(b));
  } catch {
    return null;
  }
}
const cost = (c: Clause): number => (c.every((n) => 'lit' in n) ? 0 : 1);

/** Any of several patterns (an alternation): one clause, the best of each; null when one is unknown. */
export function requirementOfAny(patterns: readonly string[]): Requirement | null {
  if (patterns.length === 1) return requirementOf(patterns[0]!);
  const out: Need[] = [];
  for (const p of patterns) {
    const r = requirementOf(p);
    const b = r && bestClause(r.map((c) => [...c]));
    if (!b) return null;
    out.push(...b);
  }
  return out.length ? [out] : null;
}

/** Characters whose case-insensitive match or lower case crosses the ASCII line (see wordMet). */
const NON_ASCII_FOLDING_TO_ASCII = /[\u0130\u017f\u212a]/;

/**
 * False only when no match of a pattern with requirement `req` can be in `folded` (foldCase(text)).
 * `text` (the unfolded text) is needed for whole-word needs only.
 */
export function requirementMet(folded: string, req: Requirement, text?: string): boolean {
  let wordsReliable: boolean | undefined;
  return req.every((clause) =>
    clause.some((n) => {
      if ('lit' in n) return folded.includes(n.lit);
      if ('run' in n) return runMet(folded, table(n.run.set), n.run.min, n.run.first && table(n.run.first));
      // RE2's \b is ASCII; K (Kelvin) and long s match k and s but are not word characters, and
      // İ lower-cases to an ASCII i: with any of them, folded words need not be the text's words
      wordsReliable ??= text !== undefined && !NON_ASCII_FOLDING_TO_ASCII.test(text);
      return !wordsReliable || wordMet(folded, table(n.word.set), n.word.min, n.word.max, n.word.first && table(n.word.first));
    }),
  );
}

/** Membership table of a set of code units (built once per set). */
const tables = new WeakMap<ReadonlySet<number>, Uint8Array>();
function table(set: ReadonlySet<number>): Uint8Array {
  let t = tables.get(set);
  if (!t) {
    t = new Uint8Array(Math.max(0, ...set) + 1);
    for (const c of set) t[c] = 1;
    tables.set(set, t);
  }
  return t;
}
const WORD_TABLE = table(FOLDED_WORD);

/** `min`+ consecutive chars in `set`, the first of them in `first` (when given). */
function runMet(folded: string, set: Uint8Array, min: number, first: Uint8Array | undefined): boolean {
  let start = -1; // where the current candidate run began (-1: none)
  for (let i = 0; i < folded.length; i++) {
    const c = folded.charCodeAt(i);
    if (set[c] !== 1) {
      start = -1;
      continue;
    }
    if (start < 0 && (first === undefined || first[c] === 1)) start = i;
    if (start >= 0 && i - start + 1 >= min) return true;
  }
  return false;
}

/** A maximal run of ASCII word characters of min..max chars, all in `set`, the first in `first`. */
function wordMet(folded: string, set: Uint8Array, min: number, max: number, first: Uint8Array | undefined): boolean {
  const n = folded.length;
  let i = 0;
  while (i < n) {
    if (WORD_TABLE[folded.charCodeAt(i)] !== 1) {
      i++;
      continue;
    }
    const start = i;
    let ok = first === undefined || first[folded.charCodeAt(i)] === 1;
    for (; i < n; i++) {
      const c = folded.charCodeAt(i);
      if (WORD_TABLE[c] !== 1) break;
      if (ok && set[c] !== 1) ok = false;
    }
    const len = i - start;
    if (ok && len >= min && len <= max) return true;
  }
  return false;
}
