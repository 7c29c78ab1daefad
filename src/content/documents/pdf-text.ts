// Text of a PDF, roughly as a reader shows it, for the checks that look for sensitive text in
// attachments (the data-leak check): page content is compressed, and each piece of text is drawn by
// an operator whose string goes through a font's encoding or ToUnicode CMap, so a card number is
// invisible in the raw bytes. This module reads it back.
//
// How: a union of plausible readings, since an attacker shapes the file for the reading we miss.
// Indirect objects and their streams are found by scanning for `N G obj` and also at the offsets of
// classic xref tables and xref streams (parsed forward, so odd headers are found); every version of an
// object is kept — references reach the xref's (else the last), and the other versions are read too.
// Object streams are opened for the objects they hold; streams are decoded (Flate, LZW with predictors
// — pdf-predictor.ts —, ASCIIHex, ASCII85, RunLength; images are skipped). The pages of every catalog
// are walked and their content streams (and the form XObjects they draw, again under other resources)
// interpreted for the text operators. Glyph widths and text positions tell where a word or a line
// ends, so a number drawn in pieces comes out as one run. Each page is also read ordered by position,
// with its content streams joined without a separator, and by the encoding of a non-embedded font
// whose ToUnicode says otherwise — each extra reading written only when it differs. Streams no page
// draws but which hold text (annotation appearances, pages lost from a broken page tree, shadowed
// versions) are read after the pages, then outline titles, form field values, annotation /Contents and
// /RC (what a viewer draws for a note without an appearance) and attached files (pdf-strings.ts). A
// Type3 font's glyph procedures are read for the text they draw, a second reading where it differs from
// the glyph names or ToUnicode. An encrypted file is opened with the empty user password when that
// works (a PDF locked only against printing or copying; pdf-crypt.ts) and its streams and strings decrypted.
//
// Bounded: at most limits.maxStreams streams decoded, limits.maxInflatedBytes bytes produced by all
// filters together, limits.maxChars characters out, and a work budget (tokens lexed, CMap entries,
// glyphs, bytes searched or copied: 10 million plus 4 per input and inflated byte, or exactly
// limits.maxWork when given) that ends any super-linear path; a CMap stream is parsed once however many
// fonts share it (bfchar and bfrange entries capped per document), a descendant font's widths once and
// kept as ranges, a Type3 glyph procedure once, an object stream's object once per offset, a trailer no
// further than the next; the search for an inline image's end is linear over a stream, and a page's
// content streams are copied (joined) only when one ends inside a token. Whenever text may be missing (a password needed, a budget
// reached, a stream or font that cannot be decoded) `truncated` says so in plain words; it is absent
// only when everything was read. Never throws: every failure ends as a `truncated` note.
//
// Modules: pdf-lexer.ts (tokens, values, work meter), pdf-filters.ts and pdf-predictor.ts (stream
// decoding), pdf-fonts.ts (encodings, glyph names, CMaps), pdf-strings.ts (text strings, attached
// files), pdf-crypt.ts (the Standard security handler); this file: the document, the content-stream
// interpreter and the readings.
import type { DocumentText } from './types.js';
import { CappedText } from './capped-text.js';
import { openStandardSecurity, type StandardEncryption } from './pdf-crypt.js';
import { CLASS, isDigit, Name, Ref, Kw, type Value, type Dict, Meter, Lexer, parseValue, parseDict, inComment, upperBound, finder } from './pdf-lexer.js';
import { CUT_SHORT, type Decoded, inflate, asciiHex, ascii85, lzw, runLength, predicted, FILTER_ALIASES, IMAGE_FILTERS } from './pdf-filters.js';
import { WIN_ANSI, MAC_ROMAN, glyphText, CMap, parseCMap, type Font, FALLBACK_FONT, Widths } from './pdf-fonts.js';
import { fileText, pdfTextString, richText } from './pdf-strings.js';


export interface PdfTextLimits {
  /** Characters of text returned at most. */
  maxChars: number;
  /** Bytes all stream filters together may produce (inflate, LZW, ASCII85...). */
  maxInflatedBytes: number;
  /** Streams decoded at most. */
  maxStreams: number;
  /** Work units (tokens lexed, CMap entries, glyphs) at most; by default 10 million plus 4 per input and inflated byte. */
  maxWork?: number;
}

/** Indirect objects kept at most (a file of nothing but `1 0 obj` must not fill memory). */
const MAX_OBJECTS = 1_000_000;
/** Pages walked at most. */
const MAX_PAGES = 200_000;
/** Form XObjects drawn inside form XObjects, at most. */
const MAX_FORM_DEPTH = 12;
/** Entries all ToUnicode CMaps of a document together may expand to (larger ranges stay ranges). */
const MAX_CMAP_ENTRIES = 300_000;
/** CID width entries (a /W range is one, an array one per width) all fonts of a document may hold. */
const MAX_WIDTH_ENTRIES = 1_000_000;
/** Work units (tokens lexed, CMap entries, glyphs shown) every PDF may spend, plus WORK_PER_BYTE per input and inflated byte. */
const WORK_BASE = 10_000_000;
const WORK_PER_BYTE = 4;

/** The work one PDF of `inputBytes` may spend when its caller sets maxWork (inflated bytes then add nothing). */
export const pdfWorkFor = (inputBytes: number): number => WORK_BASE + WORK_PER_BYTE * inputBytes;
/** Times one form XObject is read again under other resources or another font. */
const MAX_FORM_REPEATS = 8;
/** Glyph runs kept per page for the reading sorted by position. */
const MAX_RUNS = 20_000;
/** Notes kept in `truncated`. */
const MAX_NOTES = 6;
/** A TJ adjustment below this (thousandths of an em, negative = moves right) is a word gap. */
const TJ_WORD_GAP = -200;
/** A move right by more than this many ems between two strings on one line is a word gap. */
const WORD_GAP_EM = 0.2;
/** A move across the baseline by more than this many ems is a new line. */
const LINE_GAP_EM = 0.5;

// ---------------------------------------------------------------------------------------------
// The document: objects found by scanning, decoding within budgets, pages, fonts.

interface PdfObject {
  num: number;
  /** Found inside an object stream (its strings are not encrypted on their own). */
  inObjStm?: boolean;
  /** Generation number (a key input for decryption); 0 for objects inside object streams. */
  gen: number;
  value: Value;
  stream?: { start: number; end: number };
  decoded?: Buffer | null;
}

class Budget {
  notes: string[] = [];
  /** Set when the file is encrypted and cannot be opened without a password (or uses another handler). */
  encrypted = false;
  constructor(
    public streams: number,
    public inflate: number,
  ) {}
  /** Damage that hides nothing (the file ends early: no reader sees more than we read); not an incomplete scan. */
  remarks: string[] = [];
  note(s: string): void {
    if (this.notes.length < MAX_NOTES && !this.notes.includes(s)) this.notes.push(s);
  }
  remark(s: string): void {
    if (this.remarks.length < MAX_NOTES && !this.remarks.includes(s)) this.remarks.push(s);
  }
}

/** The reader's output: capped text that knows its last character (for word and line breaks). */
class Out extends CappedText {
  /** Last character written ('\n' at the start). */
  last = '\n';
  /** `budget`, when given, gets a note when the text is cut (inner collectors leave that to their caller). */
  constructor(
    max: number,
    readonly budget?: Budget,
  ) {
    super(max);
  }
  write(s: string): void {
    if (this.cut || s.length === 0) return;
    const kept = this.push(s);
    if (kept.length > 0) this.last = kept[kept.length - 1]!;
    if (this.cut) this.budget?.note(`output cut at ${this.max} characters`);
  }
  space(): void {
    if (this.last !== ' ' && this.last !== '\n' && this.last !== '\t') this.write(' ');
  }
  newline(): void {
    if (this.last !== '\n') this.write('\n');
  }
}

class PdfDoc {
  /** The version of each object that references resolve to: the xref's, else the last one in the file. */
  objects = new Map<number, PdfObject>();
  /** Every version of every object found (scanned, at xref offsets, in object streams), in the order found. */
  all: PdfObject[] = [];
  trailers: Dict[] = [];
  private fonts = new Map<Dict, Font>();
  private cmaps = new Map<PdfObject, CMap>();
  /** CMap entries the document may still expand. */
  private cmapEntries: { left: number; dropped?: number } = { left: MAX_CMAP_ENTRIES };
  /** CID widths by descendant font (shared by every Type0 font that names it), and entries left to keep. */
  private cidWidthCache = new Map<Dict, Widths>();
  private widthEntries = MAX_WIDTH_ENTRIES;
  /** Text a Type3 glyph procedure draws, by procedure and resources (each read once). */
  private procTexts = new Map<string, string>();
  private unionFonts: Map<string, Value> | undefined;
  /** Streams used as fonts, CMaps, ... (not content). */
  used = new Set<PdfObject>();
  /** Objects by the offset their body starts at (an object found twice is one object). */
  private byStart = new Map<number, PdfObject>();
  private kept = new Set<PdfObject>();
  /** Set for an encrypted file opened with the empty user password: decrypts one stream's bytes. */
  decryptStream: ((num: number, gen: number, data: Buffer) => Buffer) | undefined;
  /** Likewise for strings held in an indirect object (not inside an object stream). */
  decryptString: ((num: number, gen: number, data: Buffer) => Buffer) | undefined;

  constructor(
    readonly b: Buffer,
    readonly budget: Budget,
    readonly limits: PdfTextLimits,
    readonly meter: Meter,
  ) {}

  // ---- scanning ----

  private nextEndobj: (from: number) => number = () => -1;
  private nextEndstream: (from: number) => number = () => -1;

  private keep(obj: PdfObject, winner: boolean): void {
    if (this.all.length >= MAX_OBJECTS) {
      this.budget.note(`more than ${MAX_OBJECTS} objects`);
      return;
    }
    this.all.push(obj);
    this.kept.add(obj);
    if (winner || !this.objects.has(obj.num)) this.objects.set(obj.num, obj);
  }

  /**
   * The object whose body starts at `from` (just past `obj`). The body is parsed up to the next
   * `endobj`; a dictionary or array still open there (the keyword sat inside a string) is parsed again
   * up to the following one, a few times.
   */
  private readBody(from: number, num: number, gen: number): { obj: PdfObject; next: number } {
    const b = this.b;
    const known = this.byStart.get(from);
    if (known) return { obj: known, next: known.stream?.end ?? from };
    const eo = this.nextEndobj(from);
    let bound = eo < 0 ? b.length : eo;
    let lx: Lexer;
    let value: Value = null;
    for (let tries = 0; ; tries++) {
      lx = new Lexer(b, from, bound, this.meter);
      value = null;
      const t = lx.next();
      if (t !== undefined) {
        const v = parseValue(lx, t, true, 0);
        if (v instanceof Kw) lx.pos = lx.tokStart;
        else value = v;
      }
      const open = lx.ranOut && (value instanceof Map || Array.isArray(value));
      if (!open || bound >= b.length || tries >= 4 || this.meter.out) break;
      const e2 = b.indexOf('endobj', bound + 6, 'latin1');
      bound = e2 < 0 ? b.length : e2;
    }
    const obj: PdfObject = { num, gen, value };
    let next = lx.pos;
    if (value instanceof Map) {
      const kw = lx.next();
      if (kw instanceof Kw && kw.v === 'stream') {
        let p = lx.pos;
        while (b[p] === 0x20 && p < lx.pos + 8) p++;
        if (b[p] === 0x0d) p++;
        if (b[p] === 0x0a) p++;
        const start = Math.min(p, b.length);
        let end = -1;
        const len = value.get('Length');
        if (typeof len === 'number' && Number.isInteger(len) && len >= 0 && start + len <= b.length) {
          let q = start + len;
          while (q < b.length && CLASS[b[q]!] === 1 && q < start + len + 8) q++;
          if (b.toString('latin1', q, q + 9) === 'endstream') end = start + len;
        }
        if (end < 0) {
          const k = this.nextEndstream(start);
          if (k < 0) this.budget.remark(`stream ${num} is cut short`);
          end = k < 0 ? b.length : k;
          if (end > start && b[end - 1] === 0x0a) end--;
          if (end > start && b[end - 1] === 0x0d) end--;
        }
        obj.stream = { start, end };
        next = Math.max(next, end);
      }
    }
    this.byStart.set(from, obj);
    return { obj, next };
  }

  scan(): void {
    const b = this.b;
    const OBJ = Buffer.from('obj');
    this.nextEndobj = finder(b, 'endobj');
    this.nextEndstream = finder(b, 'endstream');
    let pos = 0;
    while (pos < b.length && !this.meter.out) {
      const i = b.indexOf(OBJ, pos);
      if (i < 0) break;
      pos = i + 3;
      const head = this.objHeader(i);
      if (head === undefined) continue;
      const { obj, next } = this.readBody(i + 3, head.num, head.gen);
      this.keep(obj, false);
      pos = Math.max(pos, next);
    }
    this.scanTrailers();
    this.readXrefTables();
  }

  /** Trailer dictionaries of classic xref tables, each parsed no further than the next `trailer` (or 64 KiB). */
  private scanTrailers(): void {
    const b = this.b;
    const at = finder(b, 'trailer');
    let i = at(0);
    for (let n = 0; n < 1000 && i >= 0 && !this.meter.out; n++) {
      const next = at(i + 7);
      if (!inComment(b, i)) {
        const lx = new Lexer(b, i + 7, Math.min(next < 0 ? b.length : next, i + 7 + 65536), this.meter);
        const t = lx.next();
        if (t instanceof Kw && t.v === '<<') this.trailers.push(parseDict(lx, true, 1));
      }
      i = next;
    }
  }

  /**
   * Classic xref tables and xref streams: each object at an offset they give is parsed from there with
   * the lexer (headers the backward scan misses: comments, leading zeros, long gaps) and becomes the
   * version references resolve to; later sections win, as in an incremental update.
   */
  private readXrefTables(): void {
    const b = this.b;
    const entries: Array<[number, number]> = [];
    const at = finder(b, 'xref');
    let i = at(0);
    for (let n = 0; n < 1000 && i >= 0 && !this.meter.out; n++) {
      const next = at(i + 4);
      if (!(i >= 5 && b.toString('latin1', i - 5, i) === 'start') && !inComment(b, i)) {
        const lx = new Lexer(b, i + 4, next < 0 ? b.length : next, this.meter);
        for (let sections = 0; sections < 10_000 && entries.length < MAX_OBJECTS; sections++) {
          const first = lx.next();
          const count = lx.next();
          if (typeof first !== 'number' || typeof count !== 'number' || !(first >= 0) || !(count >= 0)) break;
          let k = 0;
          for (; k < count && entries.length < MAX_OBJECTS; k++) {
            const off = lx.next();
            const gen = lx.next();
            const kind = lx.next();
            if (typeof off !== 'number' || typeof gen !== 'number' || !(kind instanceof Kw)) break;
            if (kind.v === 'n' && off > 0) entries.push([first + k, off]);
          }
          if (k < count) break;
        }
      }
      i = next;
    }
    for (const o of [...this.all]) {
      if (o.value instanceof Map && this.name(o.value.get('Type')) === 'XRef' && o.stream) this.xrefStream(o, entries);
    }
    // the offset each number has in the last section that names it; offsets are visited in file order
    // (so that every search for `endobj` moves forward)
    const want = new Map<number, number>();
    for (const [num, off] of entries) want.set(num, off);
    const offsets = [...new Set(entries.map((e) => e[1]))].sort((x, y) => x - y);
    for (const off of offsets) {
      if (this.meter.out) break;
      if (off >= b.length) break;
      const lx = new Lexer(b, off, Math.min(b.length, off + 4096), this.meter);
      const n = lx.next();
      const g = lx.next();
      const kw = lx.next();
      if (typeof n !== 'number' || typeof g !== 'number' || !(kw instanceof Kw) || kw.v !== 'obj') continue;
      if (!Number.isInteger(n) || n < 0 || !Number.isInteger(g) || g < 0) continue;
      const { obj } = this.readBody(lx.pos, n, g);
      if (!this.kept.has(obj)) this.keep(obj, false);
      if (want.get(n) === off) this.objects.set(n, obj);
    }
  }

  /** The in-file entries (type 1) of an xref stream: its /W field widths over its /Index sections. */
  private xrefStream(o: PdfObject, entries: Array<[number, number]>): void {
    const d = o.value as Dict;
    const data = this.decode(o);
    const w = this.arr(d.get('W'))?.map((x) => this.num(x) ?? -1) ?? [];
    if (!data || w.length < 3 || w.some((x) => x < 0 || x > 8)) return;
    const [w0, w1, w2] = w as [number, number, number];
    const row = w0 + w1 + w2;
    if (row === 0) return;
    const index = this.arr(d.get('Index'))?.map((x) => this.num(x) ?? 0) ?? [0, this.num(d.get('Size')) ?? 0];
    const field = (p: number, n: number): number => {
      let v = 0;
      for (let k = 0; k < n; k++) v = v * 256 + data[p + k]!;
      return v;
    };
    let p = 0;
    for (let s = 0; s + 1 < index.length; s += 2) {
      const first = index[s]!;
      for (let k = 0; k < index[s + 1]! && p + row <= data.length && entries.length < MAX_OBJECTS; k++, p += row) {
        const type = w0 === 0 ? 1 : field(p, w0);
        if (type === 1) entries.push([first + k, field(p + w0, w1)]);
      }
    }
  }

  /** The numbers of `N G obj` whose keyword is at `i`; undefined when it is no object header. */
  private objHeader(i: number): { num: number; gen: number } | undefined {
    const b = this.b;
    if (i + 3 < b.length && CLASS[b[i + 3]!] === 0) return undefined;
    let p = i - 1;
    const skipWs = (): boolean => {
      const from = p;
      while (p >= 0 && CLASS[b[p]!] === 1 && from - p < 4096) p--;
      return p < from;
    };
    if (!skipWs()) return undefined;
    let n = 0;
    let gen = 0;
    let genMul = 1;
    while (p >= 0 && isDigit(b[p]) && n < 12) {
      gen += (b[p]! - 48) * genMul;
      genMul *= 10;
      p--;
      n++;
    }
    if (n === 0 || !skipWs()) return undefined;
    let num = 0;
    let mul = 1;
    n = 0;
    while (p >= 0 && isDigit(b[p]) && n < 12) {
      num += (b[p]! - 48) * mul;
      mul *= 10;
      p--;
      n++;
    }
    if (n === 0 || (p >= 0 && CLASS[b[p]!] === 0) || num > 0x7fffffff || gen > 0x7fffffff) return undefined;
    return { num, gen };
  }

  /** Objects kept in object streams (/Type /ObjStm); an object found directly in the file stays the one references reach. */
  readObjectStreams(): void {
    for (const obj of [...this.all]) {
      const d = obj.value;
      if (this.meter.out) break;
      if (!obj.stream || !(d instanceof Map) || this.name(d.get('Type')) !== 'ObjStm') continue;
      this.used.add(obj);
      const data = this.decode(obj);
      if (!data) continue;
      const declared = this.num(d.get('N')) ?? 0;
      if (declared > 200_000) this.budget.note(`object stream ${obj.num} declares more than 200000 objects: the rest were not read`);
      const n = Math.min(declared, 200_000);
      const first = this.num(d.get('First')) ?? 0;
      const lx = new Lexer(data, 0, data.length, this.meter);
      const heads: number[] = [];
      for (let k = 0; k < n * 2; k++) {
        const t = lx.next();
        if (typeof t !== 'number') break;
        heads.push(t);
      }
      // each object is parsed once per offset, up to the next larger offset
      const offsets = [...new Set(heads.filter((_, k) => k % 2 === 1))].sort((x, y) => x - y);
      const parsed = new Map<number, Value>();
      for (let k = 0; k + 1 < heads.length; k += 2) {
        const num = heads[k]!;
        const rel = heads[k + 1]!;
        const at = first + rel;
        if (!Number.isInteger(num) || num < 0 || at < 0 || at >= data.length) continue;
        let value = parsed.get(rel);
        if (value === undefined && !parsed.has(rel)) {
          const nextRel = offsets[upperBound(offsets, rel)];
          const end = nextRel !== undefined ? Math.min(data.length, first + nextRel) : data.length;
          const vl = new Lexer(data, at, end, this.meter);
          const t = vl.next();
          const v = t === undefined ? null : parseValue(vl, t, true, 0);
          value = v instanceof Kw ? null : v;
          parsed.set(rel, value);
        }
        this.keep({ num, gen: 0, value: value ?? null, inObjStm: true }, false);
      }
    }
  }

  /** Trailer dictionaries and xref-stream dictionaries, in file order. */
  trailerDicts(): Dict[] {
    const out = [...this.trailers];
    for (const o of this.all) if (o.value instanceof Map && this.name(o.value.get('Type')) === 'XRef') out.push(o.value);
    return out;
  }

  // ---- value access ----

  resolve(v: Value | undefined): Value | undefined {
    for (let n = 0; n < 16 && v instanceof Ref; n++) v = this.objects.get(v.num)?.value;
    return v instanceof Ref ? undefined : v;
  }
  dict(v: Value | undefined): Dict | undefined {
    const r = this.resolve(v);
    return r instanceof Map ? r : undefined;
  }
  arr(v: Value | undefined): Value[] | undefined {
    const r = this.resolve(v);
    return Array.isArray(r) ? r : undefined;
  }
  num(v: Value | undefined): number | undefined {
    const r = this.resolve(v);
    return typeof r === 'number' ? r : undefined;
  }
  name(v: Value | undefined): string | undefined {
    const r = this.resolve(v);
    return r instanceof Name ? r.v : undefined;
  }
  streamObj(v: Value | undefined): PdfObject | undefined {
    for (let n = 0; n < 16 && v instanceof Ref; n++) {
      const o = this.objects.get(v.num);
      if (o?.stream) return o;
      v = o?.value;
    }
    return undefined;
  }

  // ---- decoding ----

  /** True when the stream is an image (never decoded: no text in it). */
  isImage(obj: PdfObject): boolean {
    const d = obj.value as Dict;
    if (this.name(d.get('Subtype')) === 'Image') return true;
    return this.filters(d).some((f) => IMAGE_FILTERS.has(f));
  }

  private filters(d: Dict): string[] {
    const f = this.resolve(d.get('Filter') ?? d.get('F'));
    const list = f instanceof Name ? [f] : Array.isArray(f) ? f : [];
    const out: string[] = [];
    for (const x of list) {
      const n = this.name(x);
      if (n !== undefined) out.push(FILTER_ALIASES[n] ?? n);
    }
    return out;
  }

  /**
   * The stream's decoded bytes, within the budgets; undefined when not decoded (reason noted). A stream
   * drawn as content (`asContent`) is decoded whatever its /Subtype says, unless an image codec encodes it.
   */
  decode(obj: PdfObject, asContent = false): Buffer | undefined {
    if (obj.decoded !== undefined) return obj.decoded ?? undefined;
    if (!obj.stream || !(obj.value instanceof Map)) return undefined;
    const d = obj.value;
    if (asContent ? this.filters(d).some((f) => IMAGE_FILTERS.has(f)) : this.isImage(obj)) return undefined;
    obj.decoded = null;
    if (this.budget.streams <= 0) {
      this.budget.note(`more than ${this.limits.maxStreams} streams`);
      return undefined;
    }
    this.budget.streams--;
    let data = this.b.subarray(obj.stream.start, obj.stream.end);
    // cross-reference streams are never encrypted; every other stream of an encrypted file is
    if (this.decryptStream && this.name(d.get('Type')) !== 'XRef') {
      try {
        data = this.decryptStream(obj.num, obj.gen, data);
      } catch (e) {
        // one stream that cannot be decrypted costs that stream only, and says so
        this.budget.note(`stream ${obj.num} could not be decrypted: ${(e as Error).message}`);
        return undefined;
      }
    }
    const filters = this.filters(d);
    const parmsV = this.resolve(d.get('DecodeParms') ?? d.get('DP'));
    for (let k = 0; k < filters.length; k++) {
      const f = filters[k]!;
      const parms = this.dict(Array.isArray(parmsV) ? parmsV[k] : parmsV);
      const cap = this.budget.inflate;
      if (cap <= 0) {
        this.budget.note(`more than ${this.limits.maxInflatedBytes} inflated bytes`);
        return undefined;
      }
      let r: Decoded;
      switch (f) {
        case 'FlateDecode': r = predicted(inflate(data, cap), parms, this); break;
        case 'ASCIIHexDecode': r = asciiHex(data, cap); break;
        case 'ASCII85Decode': r = ascii85(data, cap); break;
        case 'LZWDecode': r = predicted(lzw(data, cap, this.num(parms?.get('EarlyChange')) ?? 1), parms, this); break;
        case 'RunLengthDecode': r = runLength(data, cap); break;
        case 'Crypt':
          if ((this.name(parms?.get('Name')) ?? 'Identity') === 'Identity') continue;
          this.budget.note(`stream ${obj.num} could not be decoded: encrypted`);
          return undefined;
        default:
          this.budget.note(`stream ${obj.num} could not be decoded: unsupported filter ${f}`);
          return undefined;
      }
      this.budget.inflate -= r.out.length;
      if (this.limits.maxWork === undefined) this.meter.grant(WORK_PER_BYTE * r.out.length);
      if (r.over) {
        this.budget.inflate = 0;
        this.budget.note(`more than ${this.limits.maxInflatedBytes} inflated bytes`);
      }
      if (r.err === CUT_SHORT) this.budget.remark(`stream ${obj.num}: ${r.err}`);
      else if (r.err) this.budget.note(`stream ${obj.num} could not be decoded: ${r.err}`);
      data = r.out;
      if (r.over && data.length === 0) return undefined;
    }
    obj.decoded = data;
    return data;
  }

  // ---- fonts ----

  /** The font a resource name stands for: from the resources, else from any resources in the file. */
  font(name: string, res: Dict | undefined): Font | undefined {
    let ref = this.dict(res?.get('Font'))?.get(name);
    if (ref === undefined) ref = this.globalFonts().get(name);
    const d = this.dict(ref);
    if (!d) return undefined;
    let f = this.fonts.get(d);
    if (!f) {
      f = this.loadFont(d, name);
      this.fonts.set(d, f);
    }
    return f;
  }

  /**
   * Every font resource name in the file to its font, for streams drawn without known resources.
   * A union: when one name means different fonts on different pages, the last one found is used.
   */
  private globalFonts(): Map<string, Value> {
    if (this.unionFonts) return this.unionFonts;
    const m = new Map<string, Value>();
    const add = (res: Dict | undefined): void => {
      const fonts = this.dict(res?.get('Font'));
      if (fonts) for (const [k, v] of fonts) m.set(k, v);
    };
    for (const o of this.objects.values()) {
      if (!(o.value instanceof Map)) continue;
      add(o.value);
      add(this.dict(o.value.get('Resources')));
    }
    for (const t of this.trailers) add(t);
    this.unionFonts = m;
    return m;
  }

  private loadFont(d: Dict, name: string): Font {
    const composite = this.name(d.get('Subtype')) === 'Type0';
    const widths = new Map<number, number>();
    const font: Font = { name, composite, ucs2: false, table: WIN_ANSI, widths, defaultWidth: 500 };
    const tu = this.streamObj(d.get('ToUnicode'));
    if (tu) {
      this.used.add(tu);
      font.toUnicode = this.cmap(tu);
    }
    const base = this.name(d.get('BaseFont')) ?? '';
    if (composite) {
      const enc = d.get('Encoding');
      const encName = this.name(enc);
      if (encName !== undefined) font.ucs2 = /UCS2|UTF16/i.test(encName);
      const encStream = this.streamObj(enc);
      if (encStream) {
        this.used.add(encStream);
        font.encoding = this.cmap(encStream);
      }
      const desc = this.dict(this.arr(d.get('DescendantFonts'))?.[0]);
      this.claimFontPrograms(this.dict(desc?.get('FontDescriptor')));
      font.defaultWidth = this.num(desc?.get('DW')) ?? 1000;
      if (desc) font.widths = this.cidWidths(desc);
    } else {
      font.table = this.simpleTable(d);
      const fd = this.dict(d.get('FontDescriptor'));
      const embedded = this.claimFontPrograms(fd);
      if (!embedded && font.toUnicode && this.name(d.get('Subtype')) !== 'Type3') font.encodingToo = true;
      const firstChar = this.num(d.get('FirstChar')) ?? 0;
      const ws = this.arr(d.get('Widths'));
      if (ws) for (let k = 0; k < ws.length && k < 256; k++) widths.set(firstChar + k, this.num(ws[k]) ?? 0);
      font.defaultWidth = this.num(fd?.get('MissingWidth')) || (/Courier/i.test(base) ? 600 : /Helvetica|Arial/i.test(base) ? 556 : 500);
      if (this.name(d.get('Subtype')) === 'Type3') {
        // Type3 widths are in glyph space, scaled by the font matrix (usually 0.001 or 1/N)
        const m = this.arr(d.get('FontMatrix'));
        const sx = (this.num(m?.[0]) ?? 0.001) * 1000;
        if (sx > 0 && sx !== 1) for (const [k, v] of widths) widths.set(k, v * sx);
        this.type3Glyphs(d, font);
      }
    }
    return font;
  }

  /**
   * Marks a font descriptor's embedded font programs as used (never decoded or read as content: the
   * streams no page drew are looked at otherwise); true when it has one.
   */
  private claimFontPrograms(fd: Dict | undefined): boolean {
    let embedded = false;
    for (const key of ['FontFile', 'FontFile2', 'FontFile3']) {
      if (!fd?.has(key)) continue;
      embedded = true;
      const program = this.streamObj(fd.get(key));
      if (program) this.used.add(program);
    }
    return embedded;
  }

  private type3Depth = 0;

  /**
   * A Type3 font's glyphs: the text their procedures draw with real fonts, as a reader shows it (a glyph
   * drawing a "7" reads as "7"). Where the name says nothing and no ToUnicode maps the code, that text is
   * the glyph's; wherever it differs from the names or ToUnicode, it is a second reading (`drawn`). Each
   * procedure is read once per resources, on the shared meter; 256 glyphs per font.
   */
  private type3Glyphs(d: Dict, font: Font): void {
    const diffs = this.arr(this.dict(d.get('Encoding'))?.get('Differences'));
    const procs = this.dict(d.get('CharProcs'));
    if (!diffs || !procs || this.type3Depth >= 2) return;
    if (font.table === WIN_ANSI || font.table === MAC_ROMAN) font.table = font.table.slice();
    const res = this.dict(d.get('Resources'));
    this.type3Depth++;
    try {
      let code = 0;
      let n = 0;
      for (const x of diffs) {
        if (this.meter.out) break;
        const v = this.resolve(x);
        if (typeof v === 'number') code = v;
        if (!(v instanceof Name)) continue;
        const c = code++;
        if (c < 0 || c > 255 || n++ >= 256) continue;
        const o = this.streamObj(procs.get(v.v));
        if (!o) continue;
        this.used.add(o);
        const key = `${o.num}:${idOf(o)}:${idOf(res)}`;
        let t = this.procTexts.get(key);
        if (t === undefined) {
          t = '';
          const data = this.decode(o, true);
          if (data) {
            const out = new Out(4096, this.budget);
            new Interpreter(this, out).run(data, res, MAX_FORM_DEPTH - 2);
            t = out.text().trim();
          }
          this.procTexts.set(key, t);
        }
        if (!t) continue;
        if (glyphText(v.v) === undefined && font.toUnicode?.lookup(c, 1) === undefined) font.table[c] = t;
        (font.drawn ??= [])[c] = t;
      }
    } finally {
      this.type3Depth--;
    }
  }

  /** The CMap a stream holds, parsed once however many fonts share it. */
  private cmap(o: PdfObject): CMap | undefined {
    const known = this.cmaps.get(o);
    if (known) return known;
    const bytes = this.decode(o);
    if (!bytes) return undefined;
    const cm = parseCMap(bytes, this.meter, this.cmapEntries);
    if (this.cmapEntries.dropped) this.budget.note(`more than ${MAX_CMAP_ENTRIES} CMap entries: some text may be missing`);
    this.cmaps.set(o, cm);
    return cm;
  }

  /**
   * A descendant font's /W widths, read once however many fonts share it and kept as ranges; each
   * entry costs work and counts against the document's cap (past it, the default width).
   */
  private cidWidths(desc: Dict): Widths {
    const known = this.cidWidthCache.get(desc);
    if (known) return known;
    const out = new Widths();
    this.cidWidthCache.set(desc, out);
    const w = this.arr(desc.get('W'));
    if (!w) return out;
    for (let k = 0; k < w.length && !this.meter.out; ) {
      if (this.widthEntries <= 0) {
        this.budget.note(`more than ${MAX_WIDTH_ENTRIES} glyph widths: some text spacing is guessed`);
        break;
      }
      const c = this.num(w[k]);
      const next = this.resolve(w[k + 1]);
      if (c === undefined) break;
      if (Array.isArray(next)) {
        const n = Math.min(next.length, this.widthEntries);
        out.add(c, c + n - 1, next.slice(0, n).map((x) => this.num(x) ?? 0));
        this.widthEntries -= n;
        this.meter.left -= n;
        k += 2;
      } else {
        const last = this.num(next);
        const width = this.num(w[k + 2]);
        if (last === undefined || width === undefined) break;
        if (last >= c) out.add(c, last, width);
        this.widthEntries--;
        this.meter.left--;
        k += 3;
      }
    }
    return out;
  }

  /** Code → text of a simple font: its base encoding with /Differences by glyph name. */
  private simpleTable(d: Dict): string[] {
    const enc = this.resolve(d.get('Encoding'));
    const baseName = enc instanceof Name ? enc.v : enc instanceof Map ? this.name(enc.get('BaseEncoding')) : undefined;
    const base = baseName === 'MacRomanEncoding' ? MAC_ROMAN : WIN_ANSI;
    const diffs = enc instanceof Map ? this.arr(enc.get('Differences')) : undefined;
    if (!diffs) return base;
    const table = base.slice();
    let code = 0;
    for (const x of diffs) {
      const v = this.resolve(x);
      if (typeof v === 'number') code = v;
      else if (v instanceof Name) {
        if (code >= 0 && code < 256) {
          const t = glyphText(v.v);
          if (t !== undefined) table[code] = t; // unknown names keep the base character
        }
        code++;
      }
    }
    return table;
  }
}

// ---------------------------------------------------------------------------------------------
// Content streams: the text operators, with positions to tell words and lines apart.

interface TextState {
  font: Font;
  size: number;
  tc: number;
  tw: number;
  th: number;
  tl: number;
}

/** A piece of text drawn at a place (text space origin and end), for the reading sorted by position. */
interface Run {
  x: number;
  y: number;
  x1: number;
  em: number;
  text: string;
}

let nextId = 1;
const ids = new WeakMap<object, number>();
const idOf = (o: object | undefined): number => {
  if (!o) return 0;
  let id = ids.get(o);
  if (id === undefined) ids.set(o, (id = nextId++));
  return id;
};

class Interpreter {
  private st: TextState = { font: FALLBACK_FONT, size: 0, tc: 0, tw: 0, th: 1, tl: 0 };
  /** Pieces drawn on the current page with their places (at most MAX_RUNS). */
  runs: Run[] = [];
  /** Read fonts that have both a ToUnicode map and a shown encoding by the encoding first. */
  preferEncoding = false;
  /** A font whose ToUnicode and encoding readings differ was shown on this page. */
  sawTwoReadings = false;
  private stack: TextState[] = [];
  private tm = [1, 0, 0, 1, 0, 0];
  private tlm = [1, 0, 0, 1, 0, 0];
  private penX = 0;
  private penY = 0;
  private havePen = false;
  private pendingLine = false;
  /** Form XObjects already drawn, each with the resources and fonts it was read under (read again under others, a few times). */
  forms = new Map<PdfObject, Set<string>>();
  private unreadable = new Set<string>();

  constructor(
    private readonly doc: PdfDoc,
    public out: Out,
  ) {}

  /** A new page (or a stream read on its own): text continues on a new line. */
  startPage(): void {
    this.out.newline();
    this.havePen = false;
    this.pendingLine = false;
    this.st = { font: FALLBACK_FONT, size: 0, tc: 0, tw: 0, th: 1, tl: 0 };
    this.stack = [];
    this.runs = [];
    this.sawTwoReadings = false;
  }

  drawn(o: PdfObject): boolean {
    return this.forms.has(o);
  }

  /** Mark a form XObject read (true) or tell whether it was (false: already read). */
  claimForm(o: PdfObject): void {
    if (!this.forms.has(o)) this.forms.set(o, new Set(['']));
  }

  /**
   * Interpret a content stream. With `seq` (one of several streams of a page read in turn), operands
   * carry over from the stream before, and `seq.clean` tells whether this one ended between tokens
   * (whitespace after its last token, no comment, string, array, dictionary or inline image open): if
   * so, reading the streams in turn is reading them joined, and concatenated too.
   */
  run(bytes: Buffer, res: Dict | undefined, depth: number, seq?: { ops: Value[]; clean: boolean }): void {
    const lx = new Lexer(bytes, 0, bytes.length, this.doc.meter);
    const ops: Value[] = seq?.ops ?? [];
    // `EI` candidates before this were rejected (whether one fits depends only on what follows it)
    const ei = { rejected: 0, open: false };
    let lastEnd = 0;
    let structEnd = -1;
    if (seq) seq.clean = false;
    for (;;) {
      if (this.out.cut) return;
      const t = lx.next();
      if (t === undefined) break;
      if (!(t instanceof Kw)) {
        if (ops.length >= 64) ops.length = 0; // no operator takes this many: junk
        ops.push(t);
        lastEnd = lx.pos;
        continue;
      }
      if (t.v === '[' || t.v === '<<') {
        const v = parseValue(lx, t, false, 0);
        if (!(v instanceof Kw)) ops.push(v);
        lastEnd = structEnd = lx.pos;
        continue;
      }
      if (t.v === 'ID') {
        this.skipInlineImage(lx, ei);
      } else {
        this.op(t.v, ops, res, depth);
      }
      lastEnd = lx.pos;
      ops.length = 0;
    }
    if (seq) {
      const n = bytes.length;
      const pct = bytes.indexOf(37, lastEnd);
      seq.clean = !lx.meter.out && !ei.open && lastEnd < n && structEnd !== n && (pct < 0 || pct >= n) && CLASS[bytes[n - 1]!] === 1;
    }
  }

  /**
   * Past an inline image's data: up to the first `EI` followed by whitespace (or the end) after which
   * the stream goes on as content does (printable bytes: operands and operators), as readers find it
   * (the data may run straight into `EI`). Without such an `EI` the data is read as content from
   * `ID` on, so that nothing after it is lost. Linear over a stream: a candidate rejected once is never
   * looked at again (`ei.rejected`), and the bytes looked at are charged to the meter.
   */
  private skipInlineImage(lx: Lexer, ei: { rejected: number; open: boolean }): void {
    const b = lx.b;
    const from = lx.pos + 1;
    const meter = this.doc.meter;
    let p = Math.max(from, ei.rejected);
    while (p < lx.end && !meter.out) {
      const k = b.indexOf('EI', p, 'latin1');
      if (k < 0 || k + 2 > lx.end) break;
      meter.left -= k - p + 2;
      if (k + 2 === lx.end || (CLASS[b[k + 2]!] === 1 && plausibleContent(b, k + 2, lx.end, meter))) {
        ei.rejected = k;
        lx.pos = k + 2;
        return;
      }
      p = k + 1;
    }
    const scanned = !meter.out;
    if (scanned) meter.left -= Math.max(0, lx.end - p); // indexOf looked to the end
    ei.rejected = scanned ? lx.end : p;
    ei.open = true;
    lx.pos = Math.min(from, lx.end);
  }

  private op(op: string, ops: Value[], res: Dict | undefined, depth: number): void {
    const n = (i: number): number => {
      const v = ops[ops.length - i];
      return typeof v === 'number' && Number.isFinite(v) ? v : 0;
    };
    const st = this.st;
    switch (op) {
      case 'BT':
        this.tm = [1, 0, 0, 1, 0, 0];
        this.tlm = [1, 0, 0, 1, 0, 0];
        break;
      case 'Tf': {
        const name = ops[ops.length - 2];
        st.size = n(1);
        if (name instanceof Name) st.font = this.doc.font(name.v, res) ?? FALLBACK_FONT;
        break;
      }
      case 'Tc': st.tc = n(1); break;
      case 'Tw': st.tw = n(1); break;
      case 'Tz': st.th = n(1) / 100; break;
      case 'TL': st.tl = n(1); break;
      case 'Td': this.moveLine(n(2), n(1)); break;
      case 'TD':
        st.tl = -n(1);
        this.moveLine(n(2), n(1));
        break;
      case 'Tm':
        if (ops.length >= 6) {
          this.tlm = [n(6), n(5), n(4), n(3), n(2), n(1)];
          this.tm = this.tlm.slice();
        }
        break;
      case 'T*':
        this.nextLine();
        break;
      case 'Tj':
        if (Buffer.isBuffer(ops[ops.length - 1])) this.show(ops[ops.length - 1] as Buffer);
        break;
      case "'":
        this.nextLine();
        if (Buffer.isBuffer(ops[ops.length - 1])) this.show(ops[ops.length - 1] as Buffer);
        break;
      case '"':
        st.tw = n(3);
        st.tc = n(2);
        this.nextLine();
        if (Buffer.isBuffer(ops[ops.length - 1])) this.show(ops[ops.length - 1] as Buffer);
        break;
      case 'TJ': {
        const arr = ops[ops.length - 1];
        if (!Array.isArray(arr)) break;
        for (const el of arr) {
          if (Buffer.isBuffer(el)) this.show(el);
          else if (typeof el === 'number' && Number.isFinite(el)) {
            this.advance((-el / 1000) * st.size * st.th);
            if (this.havePen) {
              this.penX = this.tm[4]!;
              this.penY = this.tm[5]!;
            }
            if (el < TJ_WORD_GAP) this.out.space();
          }
        }
        break;
      }
      case 'q':
        if (this.stack.length < 256) this.stack.push({ ...st });
        break;
      case 'Q': {
        const s = this.stack.pop();
        if (s) this.st = s;
        break;
      }
      case 'Do': {
        const name = ops[ops.length - 1];
        if (name instanceof Name && depth < MAX_FORM_DEPTH) this.form(name.v, res, depth);
        break;
      }
    }
  }

  private form(name: string, res: Dict | undefined, depth: number): void {
    const doc = this.doc;
    const o = doc.streamObj(doc.dict(res?.get('XObject'))?.get(name));
    if (!o || doc.name((o.value as Dict).get('Subtype')) !== 'Form') return;
    // read again only under other resources or another font (what a reused form may draw differently)
    const key = `${idOf(res)}:${idOf(this.st.font)}`;
    let seen = this.forms.get(o);
    if (!seen) this.forms.set(o, (seen = new Set()));
    if (seen.has(key) || seen.has('')) return;
    if (seen.size >= MAX_FORM_REPEATS) {
      doc.budget.note(`form ${o.num} drawn under more than ${MAX_FORM_REPEATS} resources: read ${MAX_FORM_REPEATS} times`);
      return;
    }
    seen.add(key);
    const bytes = doc.decode(o, true);
    if (!bytes) return;
    const saved = { ...this.st };
    const stack = this.stack;
    this.stack = [];
    this.run(bytes, doc.dict((o.value as Dict).get('Resources')) ?? res, depth + 1);
    this.stack = stack;
    this.st = saved;
  }

  private moveLine(tx: number, ty: number): void {
    const [a, b, c, d, e, f] = this.tlm as [number, number, number, number, number, number];
    this.tlm = [a, b, c, d, tx * a + ty * c + e, tx * b + ty * d + f];
    this.tm = this.tlm.slice();
  }

  private nextLine(): void {
    this.moveLine(0, -this.st.tl);
    this.pendingLine = true;
  }

  private advance(tx: number): void {
    this.tm[4] = this.tm[4]! + tx * this.tm[0]!;
    this.tm[5] = this.tm[5]! + tx * this.tm[1]!;
  }

  /** Before a string is shown: a line break or word gap when the pen moved since the last one. */
  private place(): void {
    if (this.pendingLine) {
      this.pendingLine = false;
      if (this.havePen) this.out.newline();
      return;
    }
    if (!this.havePen) return;
    const [a, b, c, d, e, f] = this.tm as [number, number, number, number, number, number];
    const dx = e - this.penX;
    const dy = f - this.penY;
    const ax = Math.hypot(a, b) || 1;
    const ay = Math.hypot(c, d) || 1;
    const along = (dx * a + dy * b) / ax;
    const across = (dx * c + dy * d) / ay;
    const size = Math.abs(this.st.size) || 1;
    const emX = size * ax * Math.abs(this.st.th || 1);
    const emY = size * ay;
    if (Math.abs(across) > LINE_GAP_EM * emY) this.out.newline();
    else if (along > WORD_GAP_EM * emX || along < -emX) this.out.space();
  }

  private show(s: Buffer): void {
    if (s.length === 0) return;
    this.place();
    const st = this.st;
    const font = st.font;
    const chars: string[] = [];
    let width = 0;
    let spaces = 0;
    const tu = font.toUnicode;
    for (let i = 0; i < s.length; ) {
      let len = 1;
      if (font.composite) {
        len = font.encoding?.spaces.length
          ? font.encoding.codeLen(s, i, 2)
          : tu?.spaces.length && !font.ucs2
            ? tu.codeLen(s, i, 2)
            : 2;
      }
      len = Math.min(len, s.length - i);
      let code = 0;
      for (let k = 0; k < len; k++) code = code * 256 + s[i + k]!;
      i += len;
      let text = tu?.lookup(code, len);
      if (font.encodingToo && !font.composite && len === 1) {
        const shown = font.table[code] ?? '';
        if (text !== undefined && text !== shown) {
          this.sawTwoReadings = true;
          if (this.preferEncoding) text = shown;
        }
      }
      if (text === undefined) {
        if (!font.composite) text = (len === 1 && tu?.keyLen === 2 ? tu.lookup(code, 2) : undefined) ?? font.table[code] ?? '';
        else if (font.ucs2) text = String.fromCharCode(code);
        else {
          text = '';
          if (!this.unreadable.has(font.name) && (!tu || tu.map.size === 0)) {
            this.unreadable.add(font.name);
            this.doc.budget.note(`font ${font.name} has no ToUnicode map: its text is not readable`);
          }
        }
      }
      if (font.drawn && len === 1) {
        // a Type3 glyph whose procedure draws other text than its name or ToUnicode says
        const drawn = font.drawn[code];
        if (drawn !== undefined && drawn !== text) {
          this.sawTwoReadings = true;
          if (this.preferEncoding) text = drawn;
        }
      }
      chars.push(text);
      width += font.widths.get(code) ?? font.defaultWidth;
      if (len === 1 && code === 32) spaces++;
    }
    const n = chars.length;
    const joined = chars.join('');
    this.out.write(joined);
    const x = this.tm[4]!;
    const y = this.tm[5]!;
    this.advance(((width / 1000) * st.size + n * st.tc + spaces * st.tw) * st.th);
    this.penX = this.tm[4]!;
    this.penY = this.tm[5]!;
    this.havePen = true;
    if (this.runs.length < MAX_RUNS && joined.length > 0) {
      this.runs.push({ x, y, x1: this.tm[4]!, em: Math.abs(st.size * (Math.hypot(this.tm[0]!, this.tm[1]!) || 1)) || 1, text: joined });
    }
    this.doc.meter.left -= n;
  }
}

/** After an inline image's `EI`: the next bytes read as content (printable ASCII and whitespace). */
function plausibleContent(b: Buffer, from: number, end: number, meter: Meter): boolean {
  const stop = Math.min(end, from + 64);
  meter.left -= stop - from;
  for (let i = from; i < stop; i++) {
    const c = b[i]!;
    if (CLASS[c] !== 1 && (c < 0x20 || c > 0x7e)) return false;
  }
  return true;
}

/**
 * The pieces of a page ordered by position (lines top to bottom, pieces left to right), joined with a
 * space where they stand apart: text drawn in another order than it reads.
 */
function positionalReading(runs: Run[]): string {
  const sorted = runs.slice().sort((a, b) => b.y - a.y || a.x - b.x);
  const lines: Run[][] = [];
  for (const r of sorted) {
    const line = lines[lines.length - 1];
    if (line && Math.abs(line[0]!.y - r.y) <= LINE_GAP_EM * Math.max(r.em, line[0]!.em)) line.push(r);
    else lines.push([r]);
  }
  const out: string[] = [];
  for (const line of lines) {
    line.sort((a, b) => a.x - b.x);
    let s = '';
    let prev: Run | undefined;
    for (const r of line) {
      if (prev && r.x - prev.x1 > WORD_GAP_EM * r.em) s += ' ';
      s += r.text;
      prev = r;
    }
    out.push(s);
  }
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------

/** Catalogs: every trailer's /Root and every /Type /Catalog object (a decoy may point anywhere: all are read). */
function catalogsOf(doc: PdfDoc): Dict[] {
  const found: Dict[] = [];
  const add = (d: Dict | undefined): void => {
    if (d && !found.includes(d) && found.length < 64) found.push(d);
  };
  for (const t of doc.trailerDicts()) add(doc.dict(t.get('Root')));
  for (const o of doc.all) if (o.value instanceof Map && doc.name(o.value.get('Type')) === 'Catalog') add(o.value);
  return found;
}

/** Pages in reading order, each with its (inherited) resources: the page trees of every catalog, as a union. */
function pagesOf(doc: PdfDoc, catalogs: Dict[]): Array<{ page: Dict; res: Dict | undefined }> {
  const result: Array<{ page: Dict; res: Dict | undefined }> = [];
  const seen = new Set<Dict>();
  for (const catalog of catalogs) {
    const top = doc.dict(catalog.get('Pages'));
    if (!top) continue;
    const stack: Array<{ node: Dict; res: Dict | undefined }> = [{ node: top, res: undefined }];
    while (stack.length > 0 && result.length < MAX_PAGES && !doc.meter.out) {
      const { node, res } = stack.pop()!;
      if (seen.has(node)) continue;
      seen.add(node);
      doc.meter.left--;
      const r = doc.dict(node.get('Resources')) ?? res;
      const kids = doc.arr(node.get('Kids'));
      if (kids && doc.name(node.get('Type')) !== 'Page') {
        for (let k = kids.length - 1; k >= 0; k--) {
          const kid = doc.dict(kids[k]);
          if (kid && !seen.has(kid)) stack.push({ node: kid, res: r });
        }
      } else {
        result.push({ page: node, res: r });
      }
    }
  }
  if (result.length >= MAX_PAGES) doc.budget.note(`more than ${MAX_PAGES} pages: the rest were not read`);
  if (result.length === 0) {
    // no usable page tree: every /Type /Page object, in file order, resources from its /Parent chain
    for (const o of doc.all) {
      if (!(o.value instanceof Map) || doc.name(o.value.get('Type')) !== 'Page' || seen.has(o.value)) continue;
      seen.add(o.value);
      let res: Dict | undefined;
      let node: Dict | undefined = o.value;
      for (let k = 0; k < 32 && node && !res; k++) {
        res = doc.dict(node.get('Resources'));
        node = doc.dict(node.get('Parent'));
      }
      result.push({ page: o.value, res });
      if (result.length >= MAX_PAGES) {
        doc.budget.note(`more than ${MAX_PAGES} pages: the rest were not read`);
        break;
      }
    }
  }
  return result;
}

/**
 * Streams that hold no page text by their dictionary: CMaps, metadata, ICC profiles, functions...
 * (Font programs are known by being used as fonts; a stream that only looks like one is still looked at.)
 */
function notContent(doc: PdfDoc, o: PdfObject): boolean {
  const d = o.value as Dict;
  const type = doc.name(d.get('Type'));
  if (type && ['XRef', 'ObjStm', 'Metadata', 'EmbeddedFile', 'CMap', 'XML'].includes(type)) return true;
  const sub = doc.name(d.get('Subtype'));
  if (sub && ['Image', 'XML', 'PS'].includes(sub)) return true;
  // functions, ICC profiles, images without a /Subtype (thumbnails)
  return d.has('FunctionType') || d.has('Alternate') || d.has('BitsPerComponent');
}

/** The encryption dictionary a trailer names, with the trailer's /ID, as plain values. */
function encryptionOf(doc: PdfDoc, trailer: Dict): StandardEncryption {
  const e = doc.dict(trailer.get('Encrypt')) ?? new Map<string, Value>();
  const str = (v: Value | undefined): Buffer | undefined => {
    const r = doc.resolve(v);
    return Buffer.isBuffer(r) ? r : undefined;
  };
  const v = doc.num(e.get('V')) ?? 0;
  let streamMethod: StandardEncryption['streamMethod'] = v === 1 || v === 2 || v === 3 ? 'rc4' : 'unknown';
  if (v >= 4) {
    const stmF = doc.name(e.get('StmF')) ?? 'Identity';
    const cfm = stmF === 'Identity' ? 'None' : doc.name(doc.dict(doc.dict(e.get('CF'))?.get(stmF))?.get('CFM')) ?? 'None';
    streamMethod = cfm === 'None' ? 'none' : cfm === 'V2' ? 'rc4' : cfm === 'AESV2' ? 'aesv2' : cfm === 'AESV3' ? 'aesv3' : 'unknown';
  }
  const id = doc.arr(trailer.get('ID'));
  const em = doc.resolve(e.get('EncryptMetadata'));
  return {
    filter: doc.name(e.get('Filter')),
    v,
    r: doc.num(e.get('R')) ?? 0,
    lengthBits: doc.num(e.get('Length')),
    o: str(e.get('O')) ?? Buffer.alloc(0),
    u: str(e.get('U')) ?? Buffer.alloc(0),
    ue: str(e.get('UE')),
    p: doc.num(e.get('P')) ?? 0,
    id0: str(id?.[0]) ?? Buffer.alloc(0),
    encryptMetadata: em !== false,
    streamMethod,
  };
}

/**
 * The readings of one page: as drawn, and where they may differ from what a reader shows, the others.
 * Several content streams are read in turn (no copy); only when one ends inside a token, string,
 * comment or the like are they copied, joined with newlines and concatenated as they are (a reader
 * concatenates them: a string may span the join), the copies charged to the meter first.
 */
function readPage(doc: PdfDoc, interp: Interpreter, out: Out, chunks: Buffer[], res: Dict | undefined): void {
  /** The readings written so far, white space squeezed: a reading equal to one of them is not written again. */
  const seen = new Set<string>();
  /** Reads `parts` in turn; true when every part but the last ended between tokens. */
  const reading = (parts: Buffer[], preferEncoding: boolean, fresh: boolean): boolean => {
    if (out.cut || doc.meter.out) return true;
    const page = new Out(Math.max(0, out.max - out.length)); // its cut is reported below, as the output's
    interp.out = page;
    interp.preferEncoding = preferEncoding;
    const forms = interp.forms;
    if (fresh) interp.forms = new Map(); // a second reading draws the page's forms again
    interp.startPage();
    const seq = { ops: [] as Value[], clean: true };
    let clean = true;
    for (let k = 0; k < parts.length; k++) {
      interp.run(parts[k]!, res, 0, seq);
      if (k < parts.length - 1 && !seq.clean) clean = false;
    }
    if (fresh) interp.forms = forms;
    interp.out = out;
    const text = page.text();
    const add = (s: string): void => {
      const squeezed = s.replace(/\s+/g, ' ').trim();
      if (!seen.has(squeezed)) {
        seen.add(squeezed);
        out.newline();
        out.write(s);
      }
    };
    add(text);
    if (interp.runs.length > 1) add(positionalReading(interp.runs));
    // the page ran past what the output had left: the output is full, and says so
    if (page.cut && !out.cut) {
      out.cut = true;
      doc.budget.note(`output cut at ${out.max} characters`);
    }
    return clean;
  };
  const clean = reading(chunks, false, false);
  const twoReadings = interp.sawTwoReadings;
  let joined = chunks;
  if (!clean) {
    let total = chunks.length;
    for (const c of chunks) total += c.length;
    doc.meter.left -= total;
    if (!doc.meter.out) {
      const nl = Buffer.from('\n');
      joined = [Buffer.concat(chunks.flatMap((c) => [c, nl]))];
      reading(joined, false, true);
      doc.meter.left -= total;
      // content split across streams: readers concatenate them as they are (a string or number may span the join)
      if (!doc.meter.out) reading([Buffer.concat(chunks)], false, true);
    }
  }
  // a font not embedded whose ToUnicode says otherwise than the glyphs its encoding draws (or a Type3 glyph)
  if (twoReadings) reading(joined, true, true);
}

/**
 * Text that is no page content: outline titles, form field values, annotation /Contents and /RC
 * (a viewer draws a FreeText or note without an appearance stream from them), attached files (each
 * under a marker line).
 */
function readExtras(doc: PdfDoc, catalogs: Dict[], pages: Dict[], out: Out): void {
  const str = (holder: PdfObject | undefined, v: Value | undefined): string | undefined => {
    let h = holder;
    let r = v;
    for (let n = 0; n < 16 && r instanceof Ref; n++) {
      h = doc.objects.get(r.num);
      r = h?.value;
    }
    if (!Buffer.isBuffer(r)) return undefined;
    try {
      return pdfTextString(doc.decryptString && h && !h.inObjStm ? doc.decryptString(h.num, h.gen, r) : r);
    } catch (e) {
      doc.budget.note(`a string of object ${h?.num ?? '?'} could not be decrypted: ${(e as Error).message}`);
      return undefined;
    }
  };
  const objOf = (v: Value | undefined): PdfObject | undefined => (v instanceof Ref ? doc.objects.get(v.num) : undefined);
  const lines: string[] = [];
  let steps = 0;
  const seen = new Set<Dict>();
  for (const cat of catalogs) {
    // outline: a tree of items linked by /First and /Next
    const stack: Value[] = [];
    const top = doc.dict(cat.get('Outlines'));
    if (top) stack.push(top.get('First') ?? null);
    while (stack.length > 0 && steps++ < 100_000 && !doc.meter.out) {
      const v = stack.pop()!;
      const item = doc.dict(v);
      if (!item || seen.has(item)) continue;
      seen.add(item);
      const t = str(objOf(v), item.get('Title'));
      if (t) lines.push(t);
      stack.push(item.get('Next') ?? null, item.get('First') ?? null);
    }
    // form fields: /V of every field in the /Fields tree (a value may be a text string or a name)
    const form = doc.dict(cat.get('AcroForm'));
    const fields = doc.arr(form?.get('Fields'));
    const fstack: Value[] = fields ? fields.slice().reverse() : [];
    while (fstack.length > 0 && steps++ < 100_000 && !doc.meter.out) {
      const v = fstack.pop()!;
      const f = doc.dict(v);
      if (!f || seen.has(f)) continue;
      seen.add(f);
      const holder = objOf(v);
      const val = f.get('V');
      const t = str(holder, val) ?? doc.name(val);
      if (t) lines.push(t);
      const kids = doc.arr(f.get('Kids'));
      if (kids) for (let k = kids.length - 1; k >= 0; k--) fstack.push(kids[k]!);
    }
  }
  // annotations of every page: /Contents, and /RC rich text without its tags
  let holders: Map<Dict, PdfObject> | undefined;
  for (const page of pages) {
    if (steps >= 100_000 || doc.meter.out) break;
    const annotsV = page.get('Annots');
    const annots = doc.arr(annotsV);
    if (!annots) continue;
    holders ??= new Map(doc.all.filter((o) => o.value instanceof Map).map((o) => [o.value as Dict, o]));
    // a string inside a direct annotation is held (and encrypted) by the array's object, else the page's
    const arrHolder = objOf(annotsV) ?? holders.get(page);
    for (const v of annots) {
      if (steps++ >= 100_000) break;
      const a = doc.dict(v);
      if (!a || seen.has(a)) continue;
      seen.add(a);
      doc.meter.left--;
      const holder = objOf(v) ?? arrHolder;
      const t = str(holder, a.get('Contents'));
      if (t) lines.push(t);
      const rc = str(holder, a.get('RC'));
      if (rc) {
        doc.meter.left -= rc.length >> 4;
        const plain = richText(rc).trim();
        if (plain && plain !== t) lines.push(plain);
      }
    }
  }
  if (steps >= 100_000) doc.budget.note('more than 100000 outline items, form fields and annotations: the rest were not read');
  if (lines.length > 0) {
    out.newline();
    out.write('[PDF outline and form fields]\n');
    out.write(lines.join('\n'));
  }
  const attached = attachedFiles(doc);
  for (const o of doc.all) {
    if (out.cut || doc.meter.out) return;
    if (!attached.has(o)) continue;
    doc.used.add(o);
    const data = doc.decode(o);
    if (!data) continue;
    doc.meter.left -= data.length;
    out.newline();
    out.write(`[PDF attached file ${o.num}]\n`);
    out.write(fileText(data));
  }
}

/**
 * The attached files' streams: typed /EmbeddedFile, or named by a file specification's /EF dictionary
 * (the type is optional there), found in any object's value down a few levels of nesting.
 */
function attachedFiles(doc: PdfDoc): Set<PdfObject> {
  const found = new Set<PdfObject>();
  const visit = (v: Value | undefined, depth: number): void => {
    if (depth > 6 || doc.meter.out) return;
    doc.meter.left--;
    if (Array.isArray(v)) {
      for (const x of v) visit(x, depth + 1);
    } else if (v instanceof Map) {
      const ef = doc.dict(v.get('EF'));
      if (ef) for (const key of ['F', 'UF', 'DOS', 'Mac', 'Unix']) {
        const o = doc.streamObj(ef.get(key));
        if (o) found.add(o);
      }
      for (const x of v.values()) if (x instanceof Map || Array.isArray(x)) visit(x, depth + 1);
    }
  };
  for (const o of doc.all) {
    if (!(o.value instanceof Map)) continue;
    if (o.stream) {
      if (doc.name(o.value.get('Type')) === 'EmbeddedFile') found.add(o);
      continue;
    }
    visit(o.value, 0);
  }
  return found;
}

function extract(bytes: Buffer, limits: PdfTextLimits, budget: Budget, out: Out, meter: Meter): void {
  const doc = new PdfDoc(bytes, budget, limits, meter);
  doc.scan();
  if (!bytes.subarray(Math.max(0, bytes.length - 1024)).includes('%%EOF')) budget.remark('no %%EOF: the file may be cut short');
  for (const t of doc.trailerDicts()) {
    // an /Encrypt that names no dictionary is no encryption
    if (!doc.dict(t.get('Encrypt'))) continue;
    const crypt = openStandardSecurity(encryptionOf(doc, t));
    if (!crypt.readable) {
      budget.encrypted = true;
      budget.note(crypt.reason);
      return;
    }
    doc.decryptStream = crypt.decryptStream;
    doc.decryptString = crypt.decryptString;
    break;
  }
  doc.readObjectStreams();
  const interp = new Interpreter(doc, out);
  const done = new Set<PdfObject>();
  const catalogs = catalogsOf(doc);

  const pages = pagesOf(doc, catalogs);
  for (const { page, res } of pages) {
    if (out.cut || meter.out) break;
    const c = doc.resolve(page.get('Contents'));
    const refs = Array.isArray(c) ? c : [page.get('Contents') ?? null];
    const chunks: Buffer[] = [];
    for (const r of refs) {
      const o = doc.streamObj(r);
      if (!o || done.has(o)) continue;
      done.add(o);
      const data = doc.decode(o, true);
      if (data) chunks.push(data);
      if (chunks.length >= 1000) {
        doc.budget.note('a page with more than 1000 content streams: the rest were not read');
        break;
      }
    }
    if (chunks.length === 0) continue;
    readPage(doc, interp, out, chunks, res);
  }

  // streams no page drew that hold text: annotation appearances, forms, pages lost from the tree,
  // versions of objects that references do not reach
  for (const o of doc.all) {
    if (out.cut || meter.out) break;
    if (!o.stream || done.has(o) || doc.used.has(o) || interp.drawn(o) || o.decoded === null || notContent(doc, o)) continue;
    if (o.decoded === undefined && doc.isImage(o)) continue;
    const data = doc.decode(o);
    if (!data || data.indexOf('BT') < 0 || data.indexOf('ET') < 0) continue;
    done.add(o);
    interp.claimForm(o);
    readPage(doc, interp, out, [data], doc.dict((o.value as Dict).get('Resources')));
  }
  if (!out.cut && !meter.out) readExtras(doc, catalogs, pages.map((p) => p.page), out);
}

/** A PDF's text plus what reading it spent, so a caller can share one budget among several PDFs. */
export interface PdfText extends DocumentText {
  spent: { streams: number; inflatedBytes: number; work: number };
  /** Damage that hides no text (the file or a stream ends early: all its bytes were read), when any. */
  remarks?: string;
  /** True when the file is encrypted and could not be opened with the empty user password (its text was not read). */
  encrypted: boolean;
}

/**
 * A PDF by its header: `%PDF-` within the first 64 KiB. Acrobat looks in the first 1,024 bytes, pdf.js
 * anywhere; 64 KiB keeps the test cheap and takes junk a writer or a mailer may put in front.
 */
export const looksLikePdf = (bytes: Buffer): boolean => bytes.subarray(0, 65536).includes('%PDF-');

/** Text of a PDF (what a reader shows, roughly), or undefined when `bytes` is not a PDF. Never throws. */
export function pdfText(bytes: Buffer, limits: PdfTextLimits): PdfText | undefined {
  if (!Buffer.isBuffer(bytes) || !looksLikePdf(bytes)) return undefined;
  const budget = new Budget(Math.max(0, limits.maxStreams), Math.max(0, limits.maxInflatedBytes));
  const out = new Out(Math.max(0, limits.maxChars), budget);
  // work for this file: lexing, CMap entries, glyphs; a super-linear path ends here, with a note
  const work = limits.maxWork ?? WORK_BASE + WORK_PER_BYTE * bytes.length;
  const meter = new Meter(work);
  try {
    extract(bytes, limits, budget, out, meter);
  } catch (e) {
    budget.note(`PDF could not be read whole: ${(e as Error)?.message ?? String(e)}`);
  }
  if (meter.out) budget.note('work budget for this PDF reached: the rest was not read');
  const text = out.text();
  const spent = {
    streams: Math.max(0, limits.maxStreams) - budget.streams,
    inflatedBytes: Math.max(0, limits.maxInflatedBytes - Math.max(0, budget.inflate)),
    work: Math.max(0, work + meter.granted - Math.max(0, meter.left)),
  };
  const result: PdfText = { text, spent, encrypted: budget.encrypted };
  if (budget.notes.length > 0) result.truncated = budget.notes.join('; ');
  if (budget.remarks.length > 0) result.remarks = budget.remarks.join('; ');
  return result;
}
