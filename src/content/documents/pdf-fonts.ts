// Fonts of the PDF reader (pdf-text.ts): how the codes of a shown string become text — the standard
// encodings, glyph names, ToUnicode and encoding CMaps — and the font record the interpreter uses to
// read codes and move the pen; CID widths kept as ranges (Widths). Never throws.
import { Name, Kw, type Value, Meter, Lexer, parseArray } from './pdf-lexer.js';

/** Windows-1252 at 0x80-0x9f (undefined codes as Latin-1 controls). */
const CP1252_HIGH = '€\x81‚ƒ„…†‡ˆ‰Š‹Œ\x8dŽ\x8f\x90‘’“”•–—˜™š›œ\x9džŸ';
export const WIN_ANSI: string[] = [];
for (let i = 0; i < 256; i++) WIN_ANSI.push(i >= 0x80 && i < 0xa0 ? CP1252_HIGH[i - 0x80]! : String.fromCharCode(i));
const MAC_HIGH =
  'ÄÅÇÉÑÖÜáàâäãåçéèêëíìîïñóòôöõúùûü†°¢£§•¶ß®©™´¨≠ÆØ∞±≤≥¥µ∂∑∏π∫ªºΩæø¿¡¬√ƒ≈∆«»… ÀÃÕŒœ–—“”‘’÷◊ÿŸ⁄€‹›ﬁﬂ‡·‚„‰ÂÊÁËÈÍÎÏÌÓÔ\uf8ffÒÚÛÙıˆ˜¯˘˙˚¸˝˛ˇ';
export const MAC_ROMAN: string[] = WIN_ANSI.map((c, i) => (i >= 0x80 ? (MAC_HIGH[i - 0x80] ?? c) : c));

const GLYPHS: Record<string, string> = {
  space: ' ', exclam: '!', quotedbl: '"', numbersign: '#', dollar: '$', percent: '%', ampersand: '&', quotesingle: "'",
  quoteright: '’', quoteleft: '‘', parenleft: '(', parenright: ')', asterisk: '*', plus: '+', comma: ',', hyphen: '-',
  minus: '−', period: '.', slash: '/', zero: '0', one: '1', two: '2', three: '3', four: '4', five: '5', six: '6',
  seven: '7', eight: '8', nine: '9', colon: ':', semicolon: ';', less: '<', equal: '=', greater: '>', question: '?',
  at: '@', bracketleft: '[', backslash: '\\', bracketright: ']', asciicircum: '^', underscore: '_', grave: '`',
  braceleft: '{', bar: '|', braceright: '}', asciitilde: '~', endash: '–', emdash: '—', bullet: '•',
  quotedblleft: '“', quotedblright: '”', quotesinglbase: '‚', quotedblbase: '„', ellipsis: '…', dagger: '†',
  daggerdbl: '‡', fi: 'fi', fl: 'fl', ff: 'ff', ffi: 'ffi', ffl: 'ffl', nbspace: '\u00a0', sterling: '£', Euro: '€',
  euro: '€', yen: '¥', cent: '¢', section: '§', paragraph: '¶', degree: '°', copyright: '©', registered: '®',
  trademark: '™', germandbls: 'ß', ae: 'æ', AE: 'Æ', oe: 'œ', OE: 'Œ', oslash: 'ø', Oslash: 'Ø', eth: 'ð', Eth: 'Ð',
  thorn: 'þ', Thorn: 'Þ', dotlessi: 'ı', multiply: '×', divide: '÷', plusminus: '±', guillemotleft: '«',
  guillemotright: '»', exclamdown: '¡', questiondown: '¿', periodcentered: '·', tab: '\t',
};
const ACCENTS: Record<string, string> = {
  acute: '\u0301', grave: '\u0300', circumflex: '\u0302', dieresis: '\u0308', tilde: '\u0303', ring: '\u030a',
  cedilla: '\u0327', caron: '\u030c', macron: '\u0304', breve: '\u0306', ogonek: '\u0328', dotaccent: '\u0307',
  hungarumlaut: '\u030b',
};

/** The text of a glyph name (AGL subset, uniXXXX, uXXXX, accented letters, ligatures with _); undefined when unknown. */
export function glyphText(name: string, depth = 0): string | undefined {
  const known = GLYPHS[name];
  if (known !== undefined) return known;
  if (/^[A-Za-z]$/.test(name)) return name;
  let m = /^uni((?:[0-9A-Fa-f]{4})+)$/.exec(name);
  if (m) {
    let s = '';
    for (let i = 0; i < m[1]!.length; i += 4) s += String.fromCharCode(parseInt(m[1]!.slice(i, i + 4), 16));
    return s;
  }
  m = /^u([0-9A-Fa-f]{4,6})$/.exec(name);
  if (m) {
    const cp = parseInt(m[1]!, 16);
    return cp <= 0x10ffff ? String.fromCodePoint(cp) : undefined;
  }
  m = /^([A-Za-z])(acute|grave|circumflex|dieresis|tilde|ring|cedilla|caron|macron|breve|ogonek|dotaccent|hungarumlaut)$/.exec(name);
  if (m) return (m[1]! + ACCENTS[m[2]!]!).normalize('NFC');
  if (depth > 0) return undefined;
  const dot = name.indexOf('.');
  if (dot > 0) return glyphText(name.slice(0, dot), 1);
  if (name.includes('_')) {
    const parts = name.split('_').map((p) => glyphText(p, 1));
    return parts.every((p) => p !== undefined) ? parts.join('') : undefined;
  }
  return undefined;
}

/** Decode a UTF-16BE destination string of a CMap (a single byte as Latin-1). */
function utf16be(b: Buffer): string {
  if (b.length === 1) return String.fromCharCode(b[0]!);
  let s = '';
  for (let i = 0; i + 1 < b.length; i += 2) s += String.fromCharCode((b[i]! << 8) | b[i + 1]!);
  return s;
}

const codeOf = (b: Buffer): number => {
  let v = 0;
  for (let i = 0; i < b.length; i++) v = v * 256 + b[i]!;
  return v;
};

interface CodeSpace {
  lo: Buffer;
  hi: Buffer;
}

/** A ToUnicode (or encoding) CMap: code lengths, and what each code reads as. */
export class CMap {
  /** Codespace ranges, shortest first. */
  spaces: CodeSpace[] = [];
  /** code * 8 + length → text. */
  map = new Map<number, string>();
  /** Ranges too large to expand, sorted by length then start. */
  /** Unexpanded bfranges; a string destination is kept decoded. */
  ranges: Array<{ len: number; lo: number; hi: number; dst: string | Value[] }> = [];
  /** The one length of all mapped codes, 0 when they differ or there are none. */
  keyLen = 0;
  private lens = new Set<number>();

  lookup(code: number, len: number): string | undefined {
    const hit = this.map.get(code * 8 + len);
    if (hit !== undefined || this.ranges.length === 0) return hit;
    let lo = 0;
    let hi = this.ranges.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = this.ranges[mid]!;
      if (r.len < len || (r.len === len && r.lo <= code)) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    const r = found >= 0 ? this.ranges[found] : undefined;
    if (!r || r.len !== len || code > r.hi) return undefined;
    return rangeText(r.dst, code - r.lo);
  }

  /** Bytes in the code at `i` of `s`, by the codespace ranges; `fallback` when none matches. */
  codeLen(s: Buffer, i: number, fallback: number): number {
    outer: for (const sp of this.spaces) {
      const n = sp.lo.length;
      if (i + n > s.length) continue;
      for (let k = 0; k < n; k++) {
        const c = s[i + k]!;
        if (c < sp.lo[k]! || c > sp.hi[k]!) continue outer;
      }
      return n;
    }
    return fallback;
  }

  noteLen(len: number): void {
    this.lens.add(len);
    this.keyLen = this.lens.size === 1 ? len : 0;
  }
}

/**
 * The text of the `k`th code of a bfrange: the (decoded) destination with its last UTF-16 unit
 * advanced, or the kth array element.
 */
function rangeText(dst: string | Value[], k: number): string | undefined {
  if (Array.isArray(dst)) {
    const d = dst[k];
    return Buffer.isBuffer(d) ? utf16be(d) : undefined;
  }
  const s = dst;
  if (s.length === 0) return undefined;
  return s.slice(0, -1) + String.fromCharCode((s.charCodeAt(s.length - 1) + k) & 0xffff);
}

/**
 * A CMap's entries; `entries` is what the document may still expand (shared by all its CMaps): bfchar
 * entries past it are dropped (counted in `entries.dropped`), larger bfranges stay ranges.
 */
export function parseCMap(bytes: Buffer, meter: Meter, entries: { left: number; dropped?: number }): CMap {
  const cm = new CMap();
  const lx = new Lexer(bytes, 0, bytes.length, meter);
  let mode = '';
  let items: Value[] = [];
  let budget = entries.left;
  for (;;) {
    const t = lx.next();
    if (t === undefined) break;
    if (!(t instanceof Kw)) {
      // bfchar pairs past the document's cap are not even kept while the section is read
      if (mode && items.length < 1_000_000 && (mode !== 'beginbfchar' || items.length < 2 * budget)) items.push(t);
      else if (mode) entries.dropped = (entries.dropped ?? 0) + 0.5;
      continue;
    }
    switch (t.v) {
      case 'begincodespacerange':
      case 'beginbfchar':
      case 'beginbfrange':
        mode = t.v;
        items = [];
        break;
      case '[':
        if (mode) items.push(parseArray(lx, false, 1));
        break;
      case 'endcodespacerange':
        for (let i = 0; i + 1 < items.length; i += 2) {
          const lo = items[i];
          const hi = items[i + 1];
          if (Buffer.isBuffer(lo) && Buffer.isBuffer(hi) && lo.length === hi.length && lo.length >= 1 && lo.length <= 4 && cm.spaces.length < 64)
            cm.spaces.push({ lo, hi });
        }
        cm.spaces.sort((a, b) => a.lo.length - b.lo.length);
        mode = '';
        break;
      case 'endbfchar':
        for (let i = 0; i + 1 < items.length; i += 2) {
          const src = items[i];
          const dst = items[i + 1];
          if (!Buffer.isBuffer(src) || src.length < 1 || src.length > 4) continue;
          const text = Buffer.isBuffer(dst) ? utf16be(dst) : dst instanceof Name ? glyphText(dst.v) : undefined;
          if (text === undefined) continue;
          if (budget <= 0) {
            entries.dropped = (entries.dropped ?? 0) + 1;
            continue;
          }
          budget--; // bfchar entries count against the document's cap too
          cm.map.set(codeOf(src) * 8 + src.length, text);
          cm.noteLen(src.length);
        }
        mode = '';
        break;
      case 'endbfrange':
        for (let i = 0; i + 2 < items.length; i += 3) {
          const a = items[i];
          const b = items[i + 1];
          const dst = items[i + 2];
          if (!Buffer.isBuffer(a) || !Buffer.isBuffer(b) || a.length < 1 || a.length > 4 || b.length !== a.length) continue;
          if (!Buffer.isBuffer(dst) && !Array.isArray(dst)) continue;
          const target = Buffer.isBuffer(dst) ? utf16be(dst) : dst; // decoded once for the whole range
          const lo = codeOf(a);
          const hi = codeOf(b);
          if (hi < lo) continue;
          cm.noteLen(a.length);
          if (hi - lo < budget && hi - lo < meter.left) {
            budget -= hi - lo + 1;
            meter.left -= hi - lo + 1;
            for (let c = lo; c <= hi; c++) {
              const text = rangeText(target, c - lo);
              if (text !== undefined) cm.map.set(c * 8 + a.length, text);
            }
          } else if (cm.ranges.length < 100_000) {
            cm.ranges.push({ len: a.length, lo, hi, dst: target });
          } else {
            entries.dropped = (entries.dropped ?? 0) + 1;
          }
        }
        mode = '';
        break;
      default:
        if (t.v.startsWith('end')) mode = '';
    }
  }
  cm.ranges.sort((x, y) => x.len - y.len || x.lo - y.lo);
  entries.left = budget;
  return cm;
}

export interface Font {
  name: string;
  /** Composite (Type0) font: codes of 1-4 bytes by its CMap, else 2. */
  composite: boolean;
  toUnicode?: CMap;
  /** Code lengths of a composite font from its embedded encoding CMap. */
  encoding?: CMap;
  /** Codes are UTF-16BE (a Uni…-UCS2/UTF16 encoding). */
  ucs2: boolean;
  /** Simple font: code → text. */
  table: string[];
  widths: WidthTable;
  defaultWidth: number;
  /** Type3: code → the text its glyph procedure draws, where it draws any (a second reading when it differs). */
  drawn?: string[];
  /** A simple font not embedded, with a ToUnicode map: a reader draws its encoding's glyphs, so both readings count. */
  encodingToo?: boolean;
}

export const FALLBACK_FONT: Font = { name: '(none)', composite: false, ucs2: false, table: WIN_ANSI, widths: new Map(), defaultWidth: 500 };

/** Glyph widths by code: a Map for simple fonts, Widths for composite ones. */
export interface WidthTable {
  get(code: number): number | undefined;
}

/**
 * The /W array of a CIDFont kept as ranges (never expanded: `[0 65535 500]` is one entry), looked up by
 * binary search; where ranges overlap the last one given that holds the code wins, as when expanded.
 */
export class Widths implements WidthTable {
  private segs: Array<{ lo: number; hi: number; w: number | number[]; order: number }> = [];
  private sorted = true;
  add(lo: number, hi: number, w: number | number[]): void {
    const last = this.segs[this.segs.length - 1];
    if (last && last.lo > lo) this.sorted = false;
    this.segs.push({ lo, hi, w, order: this.segs.length });
  }
  get(code: number): number | undefined {
    const segs = this.segs;
    if (!this.sorted) {
      segs.sort((a, b) => a.lo - b.lo || a.order - b.order);
      this.sorted = true;
    }
    let lo = 0;
    let hi = segs.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (segs[mid]!.lo <= code) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    // the latest-given segment holding the code among the few that start at or before it
    let best: (typeof segs)[number] | undefined;
    for (let k = found; k >= 0 && k > found - 16; k--) {
      const s = segs[k]!;
      if (code <= s.hi && (!best || s.order > best.order)) best = s;
    }
    if (!best) return undefined;
    return Array.isArray(best.w) ? best.w[code - best.lo] : best.w;
  }
}
