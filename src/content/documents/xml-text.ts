// Text of one XML part of an office document (OOXML: word/document.xml, xl/sharedStrings.xml,
// xl/worksheets/*.xml, ppt/slides/*.xml...; OpenDocument: content.xml, styles.xml): the characters a
// reader shows, with paragraphs and rows on their own lines and cells and tabs as tabs. Word splits a
// sentence (or a card number) into runs wherever formatting, spell-check or revision marks change;
// joining the runs of a paragraph gives back the text as the reader sees it. One linear pass; never throws.
import { decodeXML } from 'entities';
import type { DocumentText } from './types.js';

/** Elements whose end (or empty form) ends a line: paragraphs, headings, breaks, shared strings, rows. */
const LINE_END = new Set(['p', 'h', 'br', 'cr', 'si', 'row', 'tr', 'table-row', 'line-break', 'list-item', 'txbxContent']);
/** Elements whose end (or empty form) reads as a tab: table cells, tab stops. */
const CELL_END = new Set(['tc', 'c', 'table-cell', 'covered-table-cell', 'tab', 'ptab']);
/**
 * Elements whose whitespace-only content is text (`<w:t xml:space="preserve"> </w:t>`); whitespace
 * between other elements is the file's indentation.
 */
const SPACE_KEEPING = new Set(['t', 'delText', 'instrText', 'v', 'p', 'h', 'span', 'a']);
/** Deepest element nesting tracked (deeper elements are still read; only their whitespace rule is guessed). */
const MAX_STACK = 512;
/** Most spaces one OpenDocument `<text:s text:c="N"/>` adds. */
const MAX_SPACES = 64;

const localName = (qualified: string): string => {
  const colon = qualified.indexOf(':');
  return colon < 0 ? qualified : qualified.slice(colon + 1);
};

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

/** The XML's characters as a string: UTF-16 when it starts with a UTF-16 BOM, else UTF-8. */
function xmlString(bytes: Buffer): string {
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) return bytes.subarray(2).toString('utf16le');
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) {
    const swapped = Buffer.from(bytes.subarray(2, bytes.length - (bytes.length % 2)));
    return swapped.swap16().toString('utf16le');
  }
  return bytes.toString('utf8');
}

/** True when the bytes look like XML (after an optional BOM and whitespace, a `<`). */
export function looksLikeXml(bytes: Buffer): boolean {
  let i = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) i = 3;
  else if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) return true;
  while (i < bytes.length && i < 1024 && (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0a || bytes[i] === 0x0d)) i++;
  return bytes[i] === 0x3c;
}

/** The shown text of an office XML part, at most `maxChars` characters (`truncated` says when cut). */
export function officeXmlText(bytes: Buffer, maxChars: number): DocumentText {
  const s = xmlString(bytes);
  const out: string[] = [];
  let length = 0;
  let cut = false;
  const emit = (piece: string): void => {
    if (cut || piece.length === 0) return;
    if (length + piece.length > maxChars) {
      out.push(piece.slice(0, Math.max(0, maxChars - length)));
      length = maxChars;
      cut = true;
      return;
    }
    out.push(piece);
    length += piece.length;
  };
  const stack: string[] = [];
  let deep = 0; // elements opened beyond MAX_STACK, not on the stack
  const inner = (): string | undefined => (deep > 0 ? undefined : stack[stack.length - 1]);
  const chars = (raw: string): void => {
    const keep = /\S/.test(raw) || SPACE_KEEPING.has(inner() ?? '');
    if (keep) emit(raw.includes('&') ? decodeXML(raw) : raw);
  };
  const structural = (local: string): void => {
    if (LINE_END.has(local)) emit('\n');
    else if (CELL_END.has(local)) emit('\t');
  };

  let i = 0;
  while (i < s.length && !cut) {
    const lt = s.indexOf('<', i);
    if (lt !== i) chars(s.slice(i, lt < 0 ? s.length : lt));
    if (lt < 0) break;
    if (s.startsWith('<!--', lt)) {
      const end = s.indexOf('-->', lt + 4);
      i = end < 0 ? s.length : end + 3;
      continue;
    }
    if (s.startsWith('<![CDATA[', lt)) {
      const end = s.indexOf(']]>', lt + 9);
      emit(s.slice(lt + 9, end < 0 ? s.length : end));
      i = end < 0 ? s.length : end + 3;
      continue;
    }
    const gt = tagEnd(s, lt);
    if (gt < 0) break; // an unfinished tag at the end: nothing after it is text
    i = gt + 1;
    const first = s.charCodeAt(lt + 1);
    if (first === 63 || first === 33) continue; // <?...?> and <!DOCTYPE ...>
    const closing = first === 47;
    const empty = !closing && s.charCodeAt(gt - 1) === 47;
    let nameEnd = lt + (closing ? 2 : 1);
    while (nameEnd < gt && !/[\s/>]/.test(s[nameEnd]!)) nameEnd++;
    const local = localName(s.slice(lt + (closing ? 2 : 1), nameEnd));
    if (closing) {
      if (deep > 0) deep--;
      else stack.pop();
      structural(local);
    } else if (empty) {
      if (local === 's') {
        // OpenDocument's run of N spaces
        const m = /\bc\s*=\s*["'](\d{1,6})["']/.exec(s.slice(nameEnd, gt));
        emit(' '.repeat(Math.min(MAX_SPACES, m ? Number(m[1]) : 1)));
      } else if (local === 'noBreakHyphen') {
        emit('-');
      } else {
        structural(local);
      }
    } else if (stack.length < MAX_STACK) {
      stack.push(local);
    } else {
      deep++;
    }
  }
  const text = out.join('');
  return cut ? { text, truncated: `document text cut at ${maxChars} characters` } : { text };
}
