// Text of one XML part of an office document (OOXML: word/document.xml, xl/sharedStrings.xml,
// xl/worksheets/*.xml, ppt/slides/*.xml...; OpenDocument: content.xml, styles.xml, flat .fodt/.fods) or
// of any other XML: the characters a reader shows, with paragraphs and rows on their own lines and
// cells and tabs as tabs. Word splits a sentence (or a card number) into runs wherever formatting,
// spell-check or revision marks change; joining the runs of a paragraph gives back the text as the
// reader sees it. Also read: Word symbol characters (<w:sym w:char>), OpenDocument cell values kept in
// attributes (office:value, table:formula...), integers stored in scientific notation, formulas that
// only join literals, number formats with a literal prefix (cell-values.ts). UTF-8 or UTF-16, with or
// without a byte order mark. Markup the file leaves unfinished (a comment, CDATA, processing instruction
// or tag that never ends) is skipped as a lenient reader would and what follows it read on as text, so
// nothing is lost and nothing is marked: broken XML is not an incomplete scan. One linear pass; never throws.
import { decodeXML } from 'entities';
import type { DocumentText } from './types.js';
import { CappedText } from './capped-text.js';
import { applyLiteralFormat, evaluateConcatenation, expandScientific, type LiteralFormat } from './cell-values.js';

/** Elements whose end (or empty form) ends a line: paragraphs, headings, breaks, shared strings, rows. */
const LINE_END = new Set(['p', 'h', 'br', 'cr', 'si', 'row', 'tr', 'table-row', 'line-break', 'list-item', 'txbxContent']);
/** Elements whose end (or empty form) reads as a tab: table cells, tab stops. */
const CELL_END = new Set(['tc', 'c', 'table-cell', 'covered-table-cell', 'tab', 'ptab']);
/**
 * Elements whose whitespace-only content is text (`<w:t xml:space="preserve"> </w:t>`); whitespace
 * between other elements is the file's indentation.
 */
const SPACE_KEEPING = new Set(['t', 'delText', 'instrText', 'v', 'p', 'h', 'span', 'a']);
/** Attributes (local names) that hold a cell's value or formula in OpenDocument. */
const VALUE_ATTRIBUTES = new Set(['value', 'string-value', 'date-value', 'time-value', 'formula']);
/** Deepest element nesting tracked (deeper elements are still read; only their whitespace rule is guessed). */
const MAX_STACK = 512;
/** Most spaces one OpenDocument `<text:s text:c="N"/>` adds. */
const MAX_SPACES = 64;
/** Most characters of a byte order mark, whitespace and prolog looked at to tell XML or HTML apart. */
const SNIFF_CHARS = 1024;

const localName = (qualified: string): string => {
  const colon = qualified.indexOf(':');
  return colon < 0 ? qualified : qualified.slice(colon + 1);
};

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

type MarkupEncoding = 'utf8' | 'utf16le' | 'utf16be';

/**
 * The encoding of a markup file and where its characters start: a UTF-8 or UTF-16 byte order mark, or
 * without one, UTF-16 told by the NUL byte beside the first ASCII character (`<` or white space).
 */
function markupEncoding(bytes: Uint8Array): { encoding: MarkupEncoding; start: number } {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return { encoding: 'utf8', start: 3 };
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return { encoding: 'utf16le', start: 2 };
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return { encoding: 'utf16be', start: 2 };
  if (bytes.length >= 4) {
    const a = bytes[0]!;
    const b = bytes[1]!;
    if (b === 0 && bytes[3] === 0 && (a === 0x3c || isSpace(a))) return { encoding: 'utf16le', start: 0 };
    if (a === 0 && bytes[2] === 0 && (b === 0x3c || isSpace(b))) return { encoding: 'utf16be', start: 0 };
  }
  return { encoding: 'utf8', start: 0 };
}

/** The characters of a markup file as a string, decoded as markupEncoding says (latin1 when the prolog declares it). */
export function markupString(bytes: Buffer): string {
  const { encoding, start } = markupEncoding(bytes);
  if (encoding === 'utf16le') return bytes.toString('utf16le', start, bytes.length - ((bytes.length - start) % 2));
  if (encoding === 'utf16be') {
    const swapped = Buffer.from(bytes.subarray(start, bytes.length - ((bytes.length - start) % 2)));
    return swapped.swap16().toString('utf16le');
  }
  if (start === 0 && bytes[0] === 0x3c && bytes[1] === 0x3f) {
    const decl = /^<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9_.-]{1,40})["']/.exec(bytes.toString('latin1', 0, 256));
    if (decl && /^(iso-?8859-1|latin-?1|windows-1252|cp1252|us-ascii|ascii)$/i.test(decl[1]!)) return bytes.toString('latin1');
  }
  return bytes.toString('utf8', start);
}

/** The first characters of a markup file after its byte order mark and leading white space (any amount). */
function head(bytes: Buffer): string {
  const { encoding, start } = markupEncoding(bytes);
  const unit = encoding === 'utf8' ? 1 : 2;
  const low = encoding === 'utf16be' ? 1 : 0;
  let i = start;
  // white space is one byte per unit here (its other byte NUL in UTF-16): a linear walk over it
  while (i + unit <= bytes.length && isSpace(bytes[i + low]!) && (unit === 1 || bytes[i + 1 - low] === 0)) i += unit;
  const end = Math.min(bytes.length, i + SNIFF_CHARS * unit);
  if (encoding === 'utf8') return bytes.toString('utf8', i, end);
  const slice = Buffer.from(bytes.subarray(i, end - ((end - i) % 2)));
  return (encoding === 'utf16be' ? slice.swap16() : slice).toString('utf16le');
}

/** What a file is by its first markup: 'xml' (`xml` true when it opens with an XML declaration), 'html', or neither. */
export function sniffMarkup(bytes: Buffer): { kind: 'xml' | 'html'; declared: boolean } | undefined {
  if (bytes.length === 0) return undefined;
  const h = head(bytes);
  if (h.charCodeAt(0) !== 0x3c) return undefined;
  if (!/^<[A-Za-z_?!]/.test(h)) return undefined;
  const declared = /^<\?xml[\s?]/i.test(h);
  // past the declaration and leading comments, an <html> root or HTML doctype makes it HTML (XHTML too)
  let rest = declared ? h.slice(h.indexOf('>') + 1).trimStart() : h;
  while (rest.startsWith('<!--')) {
    const end = rest.indexOf('-->');
    if (end < 0) break;
    rest = rest.slice(end + 3).trimStart();
  }
  if (/^<(?:!doctype\s+html|html[\s>])/i.test(rest)) return { kind: 'html', declared };
  return { kind: 'xml', declared };
}

/** The attributes of a tag, `s.slice(from, to)`, as [qualified name, raw value] pairs. Linear. */
export function* attributes(s: string, from: number, to: number): Generator<[string, string]> {
  let i = from;
  while (i < to) {
    while (i < to && !/[A-Za-z_:]/.test(s[i]!)) i++;
    const nameStart = i;
    while (i < to && /[\w:.-]/.test(s[i]!)) i++;
    const name = s.slice(nameStart, i);
    while (i < to && isSpace(s.charCodeAt(i))) i++;
    if (s[i] !== '=') continue;
    i++;
    while (i < to && isSpace(s.charCodeAt(i))) i++;
    const q = s[i];
    if (q !== '"' && q !== "'") continue;
    const end = s.indexOf(q, i + 1);
    if (end < 0 || end >= to) return;
    yield [name, s.slice(i + 1, end)];
    i = end + 1;
  }
}

/**
 * The attribute text of each start tag whose start matches `open` (a global regex ending before the
 * attributes), in order. Each tag ends at the next `>`; when none is left, neither is any later tag:
 * the scan stops there, so a file of unclosed tags stays linear.
 */
export function* tagAttributes(s: string, open: RegExp, from = 0, to = s.length): Generator<string> {
  open.lastIndex = from;
  for (let m = open.exec(s); m && m.index < to; m = open.exec(s)) {
    const start = m.index + m[0].length;
    const gt = s.indexOf('>', start);
    if (gt < 0) return;
    yield s.slice(start, gt);
    open.lastIndex = gt + 1;
  }
}

const decode = (raw: string): string => (raw.includes('&') ? decodeXML(raw) : raw);

/** Index of the `>` closing the tag that starts at `lt`, skipping quoted attribute values; -1 if none. */
function tagEnd(s: string, lt: number): number {
  let quote = 0;
  for (let i = lt + 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (quote) {
      if (c === quote) quote = 0;
    } else if (c === 34 || c === 39) {
      quote = c;
    } else if (c === 62) {
      return i;
    }
  }
  return -1;
}

/**
 * Index of the `>` closing a markup declaration (`<!DOCTYPE ...>`, `<!ENTITY ...>`) that starts at
 * `lt`: quoted literals, an internal subset in brackets and the comments and processing instructions
 * inside it are skipped; -1 if none.
 */
function declarationEnd(s: string, lt: number): number {
  let quote = 0;
  let depth = 0;
  for (let i = lt + 2; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (quote) {
      if (c === quote) quote = 0;
    } else if (c === 34 || c === 39) {
      quote = c;
    } else if (c === 91) {
      depth++;
    } else if (c === 93) {
      if (depth > 0) depth--;
    } else if (c === 60 && depth > 0 && s.startsWith('<!--', i)) {
      const end = s.indexOf('-->', i + 4);
      if (end < 0) return -1;
      i = end + 2;
    } else if (c === 60 && depth > 0 && s.charCodeAt(i + 1) === 63) {
      const end = s.indexOf('?>', i + 2);
      if (end < 0) return -1;
      i = end + 1;
    } else if (c === 62 && depth === 0) {
      return i;
    }
  }
  return -1;
}

export interface XmlTextOptions {
  /**
   * Spreadsheet number formats with a literal prefix, by cell style index (the `s` of `<c s="1">`,
   * from the workbook's xl/styles.xml): a cell using one also reads as the formatted number.
   */
  cellFormats?: ReadonlyMap<number, LiteralFormat>;
  /**
   * OpenDocument number styles with literal text, by cell style name (the `table:style-name` of a
   * `<table:table-cell>`, from odf-styles.ts): the cell's office:value also reads as formatted.
   */
  odfCellFormats?: ReadonlyMap<string, LiteralFormat>;
}

/** The shown text of an office XML part, at most `maxChars` characters (`truncated` says when cut). */
export function officeXmlText(bytes: Buffer, maxChars: number, options: XmlTextOptions = {}): DocumentText {
  return xmlTextOf(markupString(bytes), maxChars, options);
}

/** officeXmlText of XML already decoded to a string. */
export function xmlTextOf(s: string, maxChars: number, options: XmlTextOptions = {}): DocumentText {
  const collected = new CappedText(maxChars);
  const emit = (piece: string): void => void collected.push(piece);
  const stack: string[] = [];
  let deep = 0; // elements opened beyond MAX_STACK, not on the stack
  const inner = (): string | undefined => (deep > 0 ? undefined : stack[stack.length - 1]);
  // the style of the spreadsheet cell being read (`<c s="N">`), for cellFormats
  let cellStyle: number | undefined;
  const chars = (raw: string): void => {
    const el = inner() ?? '';
    if (!(/\S/.test(raw) || SPACE_KEEPING.has(el))) return;
    const text = decode(raw);
    emit(text);
    if (el === 'v') {
      const digits = expandScientific(text);
      if (digits !== undefined) emit(` ${digits} `);
      const format = cellStyle !== undefined ? options.cellFormats?.get(cellStyle) : undefined;
      const shown = format ? applyLiteralFormat(text, format) : undefined;
      if (shown !== undefined) emit(` ${shown} `);
    } else if (el === 'f') {
      const result = evaluateConcatenation(text);
      if (result !== undefined) emit(` ${result} `);
    }
  };
  const structural = (local: string): void => {
    if (LINE_END.has(local)) emit('\n');
    else if (CELL_END.has(local)) emit('\t');
  };
  /** What an element's start tag itself shows: a Word symbol, OpenDocument spaces, attribute values. */
  const startTag = (local: string, attrFrom: number, attrTo: number, empty: boolean): void => {
    if (local === 'sym') {
      for (const [name, value] of attributes(s, attrFrom, attrTo)) {
        if (localName(name) !== 'char' || !/^[0-9A-Fa-f]{1,4}$/.test(value)) continue;
        let code = parseInt(value, 16);
        // symbol fonts map their characters to F000-F0FF: F030 shows the font's "0"
        if (code >= 0xf000 && code <= 0xf0ff) code -= 0xf000;
        if (code > 0) emit(String.fromCharCode(code));
      }
      return;
    }
    if (local === 's' && empty) {
      // OpenDocument's run of N spaces
      let n = 1;
      for (const [name, value] of attributes(s, attrFrom, attrTo)) if (localName(name) === 'c' && /^\d{1,6}$/.test(value)) n = Number(value);
      emit(' '.repeat(Math.min(MAX_SPACES, n)));
      return;
    }
    if (local === 'c') {
      cellStyle = undefined;
      for (const [name, value] of attributes(s, attrFrom, attrTo)) if (name === 's' && /^\d{1,6}$/.test(value)) cellStyle = Number(value);
    }
    let odfFormat: LiteralFormat | undefined;
    if (local === 'table-cell' && options.odfCellFormats) {
      for (const [name, value] of attributes(s, attrFrom, attrTo)) if (name === 'table:style-name') odfFormat = options.odfCellFormats.get(value);
    }
    const tag = s.slice(attrFrom, attrTo);
    if (!tag.includes('value') && !tag.includes('formula')) return;
    for (const [name, raw] of attributes(s, attrFrom, attrTo)) {
      const attr = localName(name);
      if (!VALUE_ATTRIBUTES.has(attr) || raw.length === 0) continue;
      const value = decode(raw);
      emit(`${value} `);
      const extra = attr === 'formula' ? evaluateConcatenation(value) : expandScientific(value);
      if (extra !== undefined) emit(`${extra} `);
      const shown = odfFormat && attr === 'value' ? applyLiteralFormat(value, odfFormat) : undefined;
      if (shown !== undefined) emit(`${shown} `);
    }
  };

  // Once a terminator is known to be missing after some point it is missing after any later point:
  // remembering that keeps a file full of unfinished openers linear.
  const missingFrom = new Map<string, number>();
  const find = (what: string, from: number): number => {
    if (from >= (missingFrom.get(what) ?? Infinity)) return -1;
    const at = s.indexOf(what, from);
    if (at < 0) missingFrom.set(what, from);
    return at;
  };
  // After one tag or declaration whose quotes never close, tags end at the next `>` (as a lenient reader's do).
  let lenient = false;

  const n = s.length;
  let i = 0;
  while (i < n && !collected.cut) {
    const lt = s.indexOf('<', i);
    if (lt !== i) chars(s.slice(i, lt < 0 ? n : lt));
    if (lt < 0) break;
    const first = s.charCodeAt(lt + 1);
    if (first === 33 /* ! */) {
      if (s.startsWith('<!--', lt)) {
        const end = find('-->', lt + 4);
        i = end < 0 ? lt + 4 : end + 3;
        continue;
      }
      if (s.startsWith('<![CDATA[', lt)) {
        const end = find(']]>', lt + 9);
        if (end < 0) {
          i = lt + 9; // unfinished: what follows is read on
        } else {
          chars(s.slice(lt + 9, end).replace(/&/g, '&amp;'));
          i = end + 3;
        }
        continue;
      }
      let end = lenient ? -1 : declarationEnd(s, lt);
      if (end < 0) {
        lenient = true;
        end = find('>', lt + 2);
      }
      i = end < 0 ? lt + 2 : end + 1;
      continue;
    }
    if (first === 63 /* ? */) {
      const end = find('?>', lt + 2);
      i = end < 0 ? lt + 2 : end + 2;
      continue;
    }
    let gt = lenient ? -1 : tagEnd(s, lt);
    if (gt < 0) {
      lenient = true;
      gt = find('>', lt + 1);
      if (gt < 0) {
        // no `>` anywhere after: the rest is text
        i = lt + 1;
        continue;
      }
    }
    i = gt + 1;
    const closing = first === 47;
    const empty = !closing && s.charCodeAt(gt - 1) === 47;
    let nameEnd = lt + (closing ? 2 : 1);
    while (nameEnd < gt && !/[\s/>]/.test(s[nameEnd]!)) nameEnd++;
    const local = localName(s.slice(lt + (closing ? 2 : 1), nameEnd));
    if (closing) {
      if (deep > 0) deep--;
      else stack.pop();
      structural(local);
      continue;
    }
    startTag(local, nameEnd, empty ? gt - 1 : gt, empty);
    if (empty) {
      if (local === 'noBreakHyphen') emit('-');
      else structural(local);
    } else if (stack.length < MAX_STACK) {
      stack.push(local);
    } else {
      deep++;
    }
  }
  const text = collected.text();
  return collected.cut ? { text, truncated: collected.cutNote } : { text };
}
