// The lexical layer of the PDF reader (pdf-text.ts): tokens shared by object syntax, content streams
// and CMaps, the values they make (names, references, arrays, dictionaries, strings), and a work meter
// every token is charged to, so that no input makes parsing run away. Never throws.

/** Nesting of arrays and dictionaries parsed; deeper brackets are read as flat tokens. */
const MAX_DEPTH = 64;

/** Character classes: 1 whitespace, 2 delimiter, 0 regular. */
export const CLASS = new Uint8Array(256);
for (const c of [0, 9, 10, 12, 13, 32]) CLASS[c] = 1;
for (const c of '()<>[]{}/%') CLASS[c.charCodeAt(0)] = 2;
export const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX['0123456789abcdef'.charCodeAt(i)] = i;
  HEX['0123456789ABCDEF'.charCodeAt(i)] = i;
}
export const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 48 && c <= 57;

export class Name {
  constructor(readonly v: string) {}
}
export class Ref {
  constructor(
    readonly num: number,
    readonly gen: number,
  ) {}
}
/** A keyword, operator or delimiter token. */
export class Kw {
  constructor(readonly v: string) {}
}

export type Value = null | boolean | number | Name | Buffer | Ref | Value[] | Dict;
export type Dict = Map<string, Value>;
type Token = number | Name | Buffer | Kw;

const KW: Record<string, Kw> = {};
for (const k of ['[', ']', '<<', '>>', '{', '}', '>', ')', '']) KW[k] = new Kw(k);

/** Work left for one PDF: every token lexed and every CMap entry made costs a unit; at 0 lexing stops. */
export class Meter {
  /** Work added on the way (for inflated bytes). */
  granted = 0;
  constructor(public left: number) {}
  grant(n: number): void {
    this.left += n;
    this.granted += n;
  }
  get out(): boolean {
    return this.left <= 0;
  }
}

export class Lexer {
  pos: number;
  /** Where the last token returned by next() began. */
  tokStart = 0;
  /** next() returned undefined (end reached or work spent). */
  ranOut = false;

  constructor(
    readonly b: Buffer,
    pos: number,
    readonly end: number,
    readonly meter: Meter,
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
    if (p >= end || --this.meter.left < 0) {
      this.ranOut = true;
      return undefined;
    }
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
    this.meter.left -= (stop - start) >> 4; // long strings cost work too (headers pointing inside one)
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
    this.meter.left -= (stop - start) >> 4;
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
export function parseValue(lx: Lexer, tok: Token, refs: boolean, depth: number): Value | Kw {
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

export function parseArray(lx: Lexer, refs: boolean, depth: number): Value[] {
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

export function parseDict(lx: Lexer, refs: boolean, depth: number): Dict {
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

/** True when the byte at `i` sits in a comment: a `%` earlier on its line (looked for at most 512 bytes back). */
export function inComment(b: Buffer, i: number): boolean {
  for (let p = i - 1; p >= 0 && p >= i - 512; p--) {
    const c = b[p]!;
    if (c === 10 || c === 13) return false;
    if (c === 37) return true;
  }
  return false;
}

/** Index of the first element of sorted `a` greater than `v`. */
export function upperBound(a: number[], v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Finds `pat` from a position on; repeated searches that move forward reuse the last answer (linear overall). */
export function finder(b: Buffer, pat: string): (from: number) => number {
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
