// Literal pre-filter for content-rule regular expressions (speed only): reads an RE2 pattern and
// derives what any match must contain — one of a few literal strings, or a run of at least N
// characters from a small class — in case-folded form (fold.ts), so most texts can be passed over
// without calling re2-wasm (which copies the whole text on every call). The analysis is conservative:
// anything it does not fully understand yields null ("no information": the caller runs RE2), and a
// requirement it returns is necessary for a case-insensitive RE2 match. It never decides a match.
import { foldCase } from './fold.js';

/** One way a match can show: a folded literal substring, or a run of `min`+ folded chars from `set`. */
export type Need = { lit: string } | { run: { set: ReadonlySet<number>; min: number } };
/** A match needs at least one of these (a non-empty list). */
export type Requirement = readonly Need[];

class Unsupported extends Error {}

interface Info {
  /** Every folded string the node can match, when few and short; null otherwise. */
  exact: Set<string> | null;
  /** A necessary condition derived from the node (null: none known). */
  req: Need[] | null;
  /** The folded single code units the node matches when it is one character from a small class. */
  cls: Set<number> | null;
}

const MAX_EXACT = 16;
const MAX_LEN = 32;
const MAX_CLASS = 300;
const RUN_MIN = 8;
const EMPTY: Info = { exact: new Set(['']), req: null, cls: null };
const ANYCHAR: Info = { exact: null, req: null, cls: null };

const DIGITS = '0123456789';
const SPACE = '\t\n\f\r ';
const WORD = `${DIGITS}abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_`;

function score(need: Need): number {
  return 'lit' in need ? need.lit.length : Math.min(need.run.min / 2, 10);
}
function reqScore(req: Need[] | null): number {
  if (!req || req.length === 0) return 0;
  return Math.min(...req.map(score));
}
function exactReq(exact: Set<string> | null): Need[] | null {
  if (!exact || exact.size === 0 || exact.has('')) return null;
  return [...exact].map((lit) => ({ lit }));
}
function best(a: Need[] | null, b: Need[] | null): Need[] | null {
  return reqScore(b) > reqScore(a) ? b : a;
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
  return { exact, req: exactReq(exact), cls };
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
    let req: Need[] | null = [];
    for (const b of branches) {
      const r = best(b.req, exactReq(b.exact));
      if (!r) {
        req = null;
        break;
      }
      req.push(...r);
    }
    return { exact, req, cls: null };
  }

  private concat(): Info {
    const items: Info[] = [];
    while (this.i < this.s.length && this.s[this.i] !== '|' && this.s[this.i] !== ')') items.push(this.repeat());
    if (items.length === 0) return EMPTY;
    if (items.length === 1) return items[0]!;
    let req: Need[] | null = null;
    // runs of exact items become longer literals (cross product while small)
    let block: Set<string> | null = new Set(['']);
    let allExact = true;
    const closeBlock = (): void => {
      req = best(req, exactReq(block));
      block = new Set(['']);
    };
    for (const it of items) {
      req = best(req, it.req);
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
    return { exact, req, cls: null };
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
    if (min === 0) {
      if (max === 1 && atom.exact) {
        const exact = new Set(atom.exact);
        exact.add('');
        return { exact: exact.size <= MAX_EXACT ? exact : null, req: null, cls: null };
      }
      return { exact: null, req: null, cls: null };
    }
    let req = best(atom.req, exactReq(atom.exact));
    if (atom.cls && min >= RUN_MIN) req = best(req, [{ run: { set: atom.cls, min } }]);
    let exact: Set<string> | null = null;
    if (min === max && atom.exact && atom.exact.size ** min <= MAX_EXACT) {
      exact = new Set(['']);
      for (let k = 0; k < min && exact; k++) {
        const next = new Set<string>();
        for (const a of exact) for (const b of atom.exact) next.add(a + b);
        exact = [...next].some((x) => x.length > MAX_LEN) ? null : next;
      }
    }
    return { exact, req: best(req, exactReq(exact)), cls: null };
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
      return { exact: inner.exact, req: inner.req, cls: null };
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
      case 'b': case 'B': case 'A': case 'z': return EMPTY;
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

/** What any case-insensitive RE2 match of `pattern` must contain, or null when unknown. */
export function requirementOf(pattern: string): Requirement | null {
  try {
    const info = new Parser(pattern).parse();
    const req = best(info.req, exactReq(info.exact));
    if (!req || req.length === 0 || req.some((n) => 'lit' in n && n.lit.length === 0)) return null;
    return req;
  } catch {
    return null;
  }
}

/** Any of several patterns (an alternation): null when one of them is unknown. */
export function requirementOfAny(patterns: readonly string[]): Requirement | null {
  const out: Need[] = [];
  for (const p of patterns) {
    const r = requirementOf(p);
    if (!r) return null;
    out.push(...r);
  }
  return out.length ? out : null;
}

/** False only when no match of a pattern with requirement `req` can be in `folded` (foldCase()d text). */
export function requirementMet(folded: string, req: Requirement): boolean {
  for (const n of req) {
    if ('lit' in n) {
      if (folded.includes(n.lit)) return true;
      continue;
    }
    const { set, min } = n.run;
    let len = 0;
    for (let i = 0; i < folded.length; i++) {
      if (set.has(folded.charCodeAt(i))) {
        if (++len >= min) return true;
      } else len = 0;
    }
  }
  return false;
}
