// Header-block reading for the MIME parser: finds where an entity's header ends, unfolds fields, and
// parses structured values (Content-Type, Content-Disposition, Content-Transfer-Encoding) both the
// strict RFC 2045/2231 way and the lenient ways other parsers use, so the caller can see when they
// disagree. Works on latin1 strings (one char per byte). Must never throw on bad input.
import { decodeCharset, decodeUtf8OrLatin1, decodeWords } from './decode.js';

export interface RawHeader {
  /** Field name as written (trimmed). */
  name: string;
  /** Lower-case name for lookups. */
  key: string;
  /** Unfolded value, latin1 (one char per byte), leading whitespace removed. */
  value: string;
  /** Length in octets of the field after unfolding (name + ":" + value). */
  length: number;
}

export interface HeaderBlock {
  /** Fields in order (at most MAX_HEADERS_PARSED are kept; `count` has the real number). */
  headers: RawHeader[];
  /** Number of header fields, including any beyond the kept ones. */
  count: number;
  /** Offset of the first body byte (after the blank line), or `end` when there is none. */
  bodyStart: number;
  /** True when the header was ended by a line that is not a header (no blank line). */
  noBlankLine: boolean;
  /** Lines in the header block that are neither fields nor continuations. */
  junkLines: number;
}

const MAX_HEADERS_PARSED = 20000;

/** Reads the header block of an entity spanning buf[start, end). */
export function readHeaderBlock(buf: Buffer, start: number, end: number): HeaderBlock {
  const headers: RawHeader[] = [];
  let pos = start;
  let cur: { name: string; parts: string[]; length: number } | null = null;
  let junkLines = 0;
  let count = 0;
  const flush = (): void => {
    if (!cur) return;
    count++;
    if (headers.length < MAX_HEADERS_PARSED) {
      const value = cur.parts.join('').replace(/^[ \t]+/, '').replace(/[ \t\r]+$/, '');
      headers.push({ name: cur.name, key: cur.name.toLowerCase(), value, length: cur.length });
    }
    cur = null;
  };
  let first = true;
  while (pos < end) {
    let nl = buf.indexOf(10, pos);
    if (nl < 0 || nl >= end) nl = end;
    let lineEnd = nl;
    if (lineEnd > pos && buf[lineEnd - 1] === 13) lineEnd--;
    const next = nl < end ? nl + 1 : end;
    if (lineEnd === pos) {
      flush();
      return { headers, count, bodyStart: next, noBlankLine: false, junkLines };
    }
    const c0 = buf[pos]!;
    if (c0 === 32 || c0 === 9) {
      if (cur) {
        // keep huge folded headers bounded in memory: length is counted, text capped
        cur.length += lineEnd - pos;
        if (cur.length < 1_100_000) cur.parts.push(buf.toString('latin1', pos, lineEnd));
      } else junkLines++;
      pos = next;
      first = false;
      continue;
    }
    // mbox "From " line at the very start
    if (first && pos === start && lineEnd - pos > 5 && buf.toString('latin1', pos, pos + 5) === 'From ') {
      pos = next;
      first = false;
      continue;
    }
    first = false;
    const colon = buf.indexOf(58, pos);
    const nameEnd = colon >= 0 && colon < lineEnd ? colon : -1;
    const name = nameEnd > pos ? buf.toString('latin1', pos, nameEnd).trim() : '';
    if (nameEnd < 0 || name.length === 0 || /[\s\x00-\x1f]/.test(name.replace(/[ \t]+$/, ''))) {
      // not a header line: most parsers end the header here and treat this line as body
      flush();
      return { headers, count, bodyStart: pos, noBlankLine: true, junkLines: junkLines + 1 };
    }
    flush();
    const valueLen = lineEnd - nameEnd - 1;
    cur = { name, parts: [buf.toString('latin1', nameEnd + 1, Math.min(lineEnd, nameEnd + 1 + 1_100_000))], length: lineEnd - pos };
    void valueLen;
    pos = next;
  }
  flush();
  return { headers, count, bodyStart: end, noBlankLine: false, junkLines };
}

/** Turns a latin1 header value into display text: bytes → UTF-8 (or windows-1252), RFC 2047 decoded. */
export function headerText(latin1: string): string {
  let s = latin1;
  if (/[\x80-\xff]/.test(s)) s = decodeUtf8OrLatin1(Buffer.from(s, 'latin1'));
  return decodeWords(s);
}

export interface Param {
  /** Lower-case parameter name without RFC 2231 "*" / "*N" suffixes. */
  name: string;
  /** RFC 2231 section number, or -1 for a plain parameter. */
  section: number;
  /** True for an RFC 2231 extended (percent-encoded) value. */
  extended: boolean;
  value: string;
}

export interface StructuredValue {
  /** Lower-case, whitespace/comments removed: "multipart/mixed", "attachment", "base64". */
  value: string;
  params: Param[];
  /** True when parameters beyond MAX_PARAMS were left unread (the caller must not treat the list as complete). */
  capped?: boolean;
}

/** Most parameters read from one header value. */
const MAX_PARAMS = 200;

function skipCfws(s: string, i: number): number {
  for (;;) {
    while (i < s.length && /[ \t\r\n]/.test(s[i]!)) i++;
    if (s[i] === '(') {
      let depth = 0;
      for (; i < s.length; i++) {
        if (s[i] === '\\') {
          i++;
          continue;
        }
        if (s[i] === '(') depth++;
        else if (s[i] === ')') {
          depth--;
          if (depth === 0) {
            i++;
            break;
          }
        }
      }
      continue;
    }
    return i;
  }
}

/** Strict RFC 2045 / 2231 parse of `value *(";" param)` with comments. */
export function parseStructured(s: string): StructuredValue {
  let i = skipCfws(s, 0);
  let v = '';
  while (i < s.length && s[i] !== ';') {
    if (s[i] === '(') {
      i = skipCfws(s, i);
      continue;
    }
    if (s[i] === '"') {
      i++;
      continue;
    }
    if (!/[ \t\r\n]/.test(s[i]!)) v += s[i];
    i++;
  }
  const params: Param[] = [];
  while (i < s.length && params.length < MAX_PARAMS) {
    if (s[i] === ';') i++;
    i = skipCfws(s, i);
    let name = '';
    while (i < s.length && s[i] !== '=' && s[i] !== ';' && !/[ \t\r\n(]/.test(s[i]!)) name += s[i++];
    i = skipCfws(s, i);
    if (s[i] !== '=') {
      while (i < s.length && s[i] !== ';') i++;
      continue;
    }
    i = skipCfws(s, i + 1);
    let value = '';
    if (s[i] === '"') {
      i++;
      while (i < s.length && s[i] !== '"') {
        if (s[i] === '\\' && i + 1 < s.length) i++;
        value += s[i++];
      }
      i++;
    } else {
      while (i < s.length && s[i] !== ';' && !/[ \t\r\n(]/.test(s[i]!)) value += s[i++];
    }
    i = skipCfws(s, i);
    while (i < s.length && s[i] !== ';') i++;
    if (name) params.push(makeParam(name, value));
  }
  const out: StructuredValue = { value: v.toLowerCase(), params };
  if (params.length >= MAX_PARAMS && /[^\s;]/.test(s.slice(i))) out.capped = true;
  return out;
}

/**
 * The naive readings many parsers use: split on ";" (and, separately, on ";" not escaped by a
 * backslash), "k=v", strip surrounding quotes. Params of both splits are returned.
 */
export function parseNaive(s: string): StructuredValue {
  const params: Param[] = [];
  const seen = new Set<string>();
  const splits = s.includes('\\') ? [s.split(';'), s.split(/(?<!\\);/)] : [s.split(';')];
  let capped = false;
  for (const pieces of splits) {
    if (pieces.length > MAX_PARAMS + 1) capped = true;
    for (const p of pieces.slice(1, MAX_PARAMS + 1)) {
      const eq = p.indexOf('=');
      if (eq < 0) continue;
      const name = p.slice(0, eq).trim();
      let value = p.slice(eq + 1).trim();
      if (value.startsWith('"')) value = value.slice(1);
      if (value.endsWith('"')) value = value.slice(0, -1);
      if (pieces !== splits[0]) value = value.replace(/\\(.)/g, '$1');
      const key = `${name}\0${value}`;
      if (name && !seen.has(key)) {
        seen.add(key);
        params.push(makeParam(name, value));
      }
    }
  }
  const out: StructuredValue = { value: s.split(';')[0]!.replace(/\([^)]*\)/g, '').replace(/["\s]/g, '').toLowerCase(), params };
  if (capped) out.capped = true;
  return out;
}

function makeParam(rawName: string, value: string): Param {
  const m = /^([^*]+)(?:\*(\d+))?(\*)?$/.exec(rawName.toLowerCase());
  if (!m) return { name: rawName.toLowerCase(), section: -1, extended: false, value };
  return { name: m[1]!, section: m[2] !== undefined ? Number(m[2]) : -1, extended: m[3] === '*', value };
}

function pctDecode(s: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '%' && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(s.charCodeAt(i) & 255);
  }
  return Buffer.from(bytes);
}

/** Most distinct readings kept of one parameter (RFC 2231 readings first, then plain and mixed ones). */
export const MAX_PARAM_READINGS = 16;

/**
 * Every value a parser could take for parameter `name`: each plain occurrence, the RFC 2231 form
 * (sections joined in numeric order and, when it differs, in written order), decoded to text.
 * Order: the strict RFC reading first (RFC 2231 wins over plain, first plain occurrence).
 */
export function paramValues(params: Param[], name: string): string[] {
  return paramReadings(params, name).values;
}

/**
 * paramValues with a flag: `capped` is true when distinct readings beyond MAX_PARAM_READINGS were
 * left out, so a caller checking names knows the list is incomplete (never a silent drop).
 */
export function paramReadings(params: Param[], name: string): { values: string[]; capped: boolean } {
  const plain: string[] = [];
  const plainRaw: Param[] = [];
  const sections: Param[] = [];
  for (const p of params) {
    if (p.name !== name) continue;
    if (p.section < 0 && !p.extended) {
      plain.push(headerText(p.value));
      plainRaw.push(p);
    } else sections.push(p);
  }
  const out: string[] = [];
  let cap = 8;
  let capped = false;
  const push = (v: string): void => {
    if (out.includes(v)) return;
    if (out.length < cap) out.push(v);
    else capped = true;
  };
  let join: ((list: Param[], pctAll: boolean) => string) | undefined;
  if (sections.length) {
    join = (list: Param[], pctAll: boolean): string => {
      let charset = 'utf-8';
      const bufs: Buffer[] = [];
      list.forEach((p, idx) => {
        let v = p.value;
        if (p.extended && idx === 0) {
          const m = /^([^']*)'[^']*'(.*)$/s.exec(v);
          if (m) {
            charset = m[1] || 'utf-8';
            v = m[2]!;
          }
        }
        bufs.push(p.extended || pctAll ? pctDecode(v) : Buffer.from(v, 'latin1'));
      });
      return decodeCharset(Buffer.concat(bufs), charset);
    };
    // duplicate section numbers: first-wins and last-wins readings
    const dedupe = (list: Param[], lastWins: boolean): Param[] => {
      const m = new Map<number, Param>();
      for (const p of list) if (lastWins || !m.has(p.section)) m.set(p.section, p);
      return [...m.values()];
    };
    const sorted = [...sections].sort((a, b) => a.section - b.section);
    for (const pctAll of [false, true]) {
      push(join(dedupe(sorted, false), pctAll));
      push(join(dedupe(sorted, true), pctAll));
      push(join(sections, pctAll));
    }
  }
  cap = MAX_PARAM_READINGS;
  for (const p of plain) push(p);
  if (join) {
    // mixed forms: "name*" alone or with the numbered sections; a plain value taken as section 0
    const star = sections.filter((p) => p.section < 0);
    const numbered = sections.filter((p) => p.section >= 0).sort((a, b) => a.section - b.section);
    if (star.length && numbered.length) {
      push(join([star[0]!], false));
      push(join(numbered, false));
    }
    if (plainRaw.length && numbered.length && !numbered.some((p) => p.section === 0)) {
      push(join([{ ...plainRaw[0]!, section: 0 }, ...numbered], false));
    }
  }
  return { values: out, capped };
}

/** The value with RFC 822 comments "(...)" (nested, backslash escapes) outside quoted strings removed. */
export function stripComments(s: string): string {
  if (!s.includes('(')) return s;
  let out = '';
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && (quoted || depth > 0)) {
      if (depth === 0) out += c + (s[i + 1] ?? '');
      i++;
      continue;
    }
    if (depth === 0 && c === '"') quoted = !quoted;
    else if (!quoted && c === '(') {
      depth++;
      continue;
    } else if (!quoted && depth > 0 && c === ')') {
      depth--;
      continue;
    }
    if (depth === 0) out += c;
  }
  return out;
}

/**
 * Readings of a Content-Type / Content-Disposition value that other parsers make beyond the strict and
 * naive ones: RFC 822 comments removed everywhere (`na()me=`, `file.e(.gif)xe`), and an unquoted value
 * running on over ";" up to the next "param=" (`filename=a;.exe` read as "a;.exe"). Empty when they
 * add nothing.
 */
export function parseLenientReadings(s: string): StructuredValue[] {
  const out: StructuredValue[] = [];
  const noComments = stripComments(s);
  if (noComments !== s) out.push(parseStructured(noComments), parseNaive(noComments));
  for (const src of noComments !== s ? [s, noComments] : [s]) {
    if (!src.includes(';')) continue;
    // split on ";" outside quoted strings
    const pieces: string[] = [];
    let cur = '';
    let quoted = false;
    for (let i = 0; i < src.length; i++) {
      const c = src[i]!;
      if (c === '\\' && quoted) {
        cur += c + (src[i + 1] ?? '');
        i++;
        continue;
      }
      if (c === '"') quoted = !quoted;
      if (c === ';' && !quoted) {
        pieces.push(cur);
        cur = '';
      } else cur += c;
    }
    pieces.push(cur);
    const params: Param[] = [];
    let last: { name: string; value: string; quoted: boolean } | undefined;
    let ranOn = false;
    const flush = (): void => {
      if (last) params.push(makeParam(last.name, last.value));
    };
    for (const piece of pieces.slice(1, 201)) {
      const m = /^[ \t]*([^\s=;"]+)[ \t]*=[ \t]*(.*?)[ \t]*$/s.exec(piece);
      if (m) {
        flush();
        const raw = m[2]!;
        const q = raw.startsWith('"') && raw.endsWith('"') && raw.length >= 2;
        last = { name: m[1]!, value: q ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw, quoted: q };
      } else if (last && !last.quoted && piece.trim() !== '') {
        last.value += `;${piece.replace(/[ \t]+$/, '')}`;
        ranOn = true;
      }
    }
    flush();
    if (ranOn) out.push({ value: parseStructured(src).value, params });
  }
  return out;
}

/** True when `v` reads as a file name: an extension of 1–10 letters/digits with at least one letter. */
function fileNameLike(v: string): boolean {
  return /\.[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*[.\s]*$/.test(v) && /\.[A-Za-z0-9]{1,10}[.\s]*$/.test(v);
}

/**
 * File names some mail programs take from Content-Description (MIMEDefang checks it) or from the last
 * path segment of Content-Location. A description counts only when it reads as a file name and is not
 * a sentence or a web address (or the part has no other name, where a client would fall back to it).
 */
export function describedNames(hs: RawHeader[], hasOtherNames: boolean): string[] {
  const out: string[] = [];
  for (const h of hs) {
    if (h.key === 'content-description') {
      let v = headerText(h.value).trim();
      if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1).trim();
      if (!v || v.length > 255 || !fileNameLike(v)) continue;
      if (/:\/\/|(^|\s)www\.|@/i.test(v)) continue;
      if (/\s/.test(v.trim()) && hasOtherNames) continue;
      out.push(v.normalize('NFC'));
    } else if (h.key === 'content-location') {
      const v = stripComments(headerText(h.value)).replace(/["\s]/g, '');
      const path = v.replace(/^[a-z][a-z0-9+.-]*:(\/\/[^/]*)?/i, '').replace(/[?#].*$/s, '');
      const base = path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
      if (base && base.length <= 255 && fileNameLike(base)) out.push(base.normalize('NFC'));
    }
  }
  return out;
}

/** Text with quoting, escapes, whitespace and percent-encoding removed: for loose comparisons. */
export function looseNormalize(s: string): string {
  let d = s;
  if (d.includes('%')) d = pctDecode(d).toString('latin1');
  return d.replace(/[\\"'\s]/g, '');
}

/**
 * The reading of a header block that lenient parsers make: skips one leading blank line when header
 * fields follow it, and ignores non-field lines up to the blank line. Null when it equals `strict`.
 */
export function readHeaderBlockLenient(buf: Buffer, start: number, end: number, strict: HeaderBlock): HeaderBlock | null {
  let s = start;
  const isField = (at: number): boolean => {
    let nl = buf.indexOf(10, at);
    if (nl < 0 || nl > end) nl = end;
    const line = buf.toString('latin1', at, Math.min(nl, at + 200));
    return /^[!-9;-~]+[ \t]*:/.test(line);
  };
  if (strict.headers.length === 0 && !strict.noBlankLine) {
    // entity begins with a blank line: does a header follow it?
    let p = start;
    if (buf[p] === 13) p++;
    if (buf[p] === 10) p++;
    if (p < end && isField(p)) s = p;
    else return null;
  } else if (!strict.noBlankLine) return null;
  // collect fields, ignoring junk lines, until a blank line (at most 200 lines)
  const fields: number[] = [];
  let pos = s;
  let lines = 0;
  while (pos < end && lines++ < 200) {
    let nl = buf.indexOf(10, pos);
    if (nl < 0 || nl >= end) nl = end;
    let le = nl;
    if (le > pos && buf[le - 1] === 13) le--;
    if (le === pos) break;
    if (isField(pos) || buf[pos] === 32 || buf[pos] === 9) fields.push(pos, le);
    pos = nl + 1;
  }
  if (pos >= end || lines > 200) return null;
  const bodyStart = Math.min(end, buf.indexOf(10, pos) + 1 || end);
  // rebuild a clean header block from the field lines only
  const clean = Buffer.allocUnsafe(fields.reduce((n, _, i) => (i % 2 ? n + fields[i]! - fields[i - 1]! + 2 : n), 0) + 2);
  let o = 0;
  for (let i = 0; i < fields.length; i += 2) {
    o += buf.copy(clean, o, fields[i]!, fields[i + 1]!);
    clean[o++] = 13;
    clean[o++] = 10;
  }
  clean[o++] = 13;
  clean[o++] = 10;
  const hb = readHeaderBlock(clean.subarray(0, o), 0, o);
  return { headers: hb.headers, count: hb.count, bodyStart, noBlankLine: false, junkLines: 0 };
}
