// Text of an RTF document as a word processor shows it. RTF is plain 7-bit text: `{`/`}` open and close
// groups (each keeps its own formatting state), a backslash starts a control word (`\par`, `\b0`,
// `\u8364`...) or a control symbol (`\'e9` is one byte in the document's code page, `\{` a brace). A
// group whose first control word names a destination that is not body text (font and colour tables,
// style sheet, document info, pictures, embedded objects) or that starts with `\*` (optional
// destination a reader may ignore, except a text box's) is not shown. `\uN` gives a Unicode character followed by `\ucN`
// fallback characters to skip; `\binN` is followed by N raw bytes. Splitting a number into groups
// (`{4111}{\b 1111}`) does not split it in the shown text. One linear pass; never throws.
import { decodeCharset } from '../mime/decode.js';
import type { DocumentText } from './types.js';
import { CappedText } from './capped-text.js';

/** Destinations whose content is not shown as body text. */
const SKIPPED_DESTINATIONS = new Set([
  'fonttbl', 'colortbl', 'stylesheet', 'info', 'pict', 'objdata', 'themedata', 'colorschememapping', 'datastore',
  'latentstyles', 'listtable', 'listoverridetable', 'rsidtbl', 'generator', 'xmlnstbl', 'mmathPr', 'filetbl', 'revtbl',
  'pgdsctbl', 'operator', 'author', 'title', 'subject', 'keywords', 'comment', 'doccomm', 'company', 'category',
  'fldinst', 'bkmkstart', 'bkmkend', 'nonshppict', 'blipuid', 'wgrffmtfilter', 'passwordhash', 'template', 'xe', 'tc',
  'private', 'userprops', 'listpicture', 'protusertbl', 'ftnsep', 'ftnsepc', 'aftnsep', 'aftnsepc', 'sp', 'sn', 'sv',
]);
/**
 * Optional (`\*`) destinations a word processor does show: shape instructions and the text box text
 * inside them (`{\shp{\*\shpinst ...{\shptxt ...}}}` is how Word writes a text box). Their property
 * groups (`\sp`, `\sn`, `\sv`) stay skipped.
 */
const SHOWN_OPTIONAL_DESTINATIONS = new Set(['shpinst', 'shptxt']);
/** Control words that end a line or a cell. */
const LINE_WORDS = new Set(['par', 'line', 'sect', 'page', 'row', 'outlinelevel0']);
const TAB_WORDS = new Set(['tab', 'cell', 'nestcell']);
/** Control words that show one character. */
const CHAR_WORDS: Record<string, string> = {
  emdash: '\u2014', endash: '\u2013', emspace: ' ', enspace: ' ', qmspace: ' ', bullet: '\u2022',
  lquote: '\u2018', rquote: '\u2019', ldblquote: '\u201c', rdblquote: '\u201d',
};
/** Deepest group nesting given its own state; deeper groups share their parent's (and are read). */
const MAX_DEPTH = 256;
/** Bytes of `\'hh` collected before they are decoded together (multi-byte code pages need pairs). */
const MAX_PENDING = 4096;

/** Code page numbers (\ansicpg) as charset names decodeCharset knows. */
function charsetOf(codePage: number): string {
  if ((codePage >= 1250 && codePage <= 1258) || codePage === 874) return `windows-${codePage}`;
  switch (codePage) {
    case 932: return 'shift_jis';
    case 936: return 'gbk';
    case 949: return 'euc-kr';
    case 950: return 'big5';
    case 65001: return 'utf-8';
    case 10000: return 'macintosh';
    default: return `cp${codePage}`;
  }
}

/** True when the bytes are RTF: `{\rtf` at the start (after white space). */
export function looksLikeRtf(bytes: Uint8Array): boolean {
  let i = 0;
  while (i < bytes.length && i < 64 && (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0a || bytes[i] === 0x0d)) i++;
  return bytes[i] === 0x7b && bytes[i + 1] === 0x5c && bytes[i + 2] === 0x72 && bytes[i + 3] === 0x74 && bytes[i + 4] === 0x66;
}

interface GroupState {
  /** Content not shown (a skipped destination). */
  skip: boolean;
  /** Fallback characters after `\uN` (\ucN). */
  uc: number;
}

/** The shown text of an RTF document, at most `maxChars` characters (`truncated` says when cut). */
export function rtfText(bytes: Buffer, maxChars: number): DocumentText {
  try {
    return read(bytes, maxChars);
  } catch (err) {
    return { text: '', truncated: `could not be read: ${(err as Error).message}` };
  }
}

function read(bytes: Buffer, maxChars: number): DocumentText {
  const s = bytes.toString('latin1');
  const n = s.length;
  const collected = new CappedText(maxChars);
  const notes: string[] = [];
  let charset = 'windows-1252';
  // bytes not yet decoded (latin1: one character a byte), decoded together in the document's code page
  let pending = '';
  const push = (piece: string): void => void collected.push(piece);
  const flush = (): void => {
    if (pending.length === 0) return;
    push(decodeCharset(Buffer.from(pending, 'latin1'), charset));
    pending = '';
  };
  const emit = (piece: string): void => {
    flush();
    push(piece);
  };

  const stack: GroupState[] = [];
  let state: GroupState = { skip: false, uc: 1 };
  let overflow = 0; // groups opened beyond MAX_DEPTH
  // true right after `{` (and `\*`): the next control word may name a destination
  let groupStart = false;
  let ignorable = false;
  // fallback characters still to skip after a \uN
  let skipChars = 0;

  let i = 0;
  while (i < n && !collected.cut) {
    const c = s.charCodeAt(i);
    if (c === 0x7b /* { */) {
      skipChars = 0;
      if (stack.length < MAX_DEPTH) {
        stack.push(state);
        state = { ...state };
      } else {
        overflow++;
      }
      groupStart = true;
      ignorable = false;
      i++;
      continue;
    }
    if (c === 0x7d /* } */) {
      skipChars = 0;
      if (overflow > 0) overflow--;
      else if (stack.length > 0) state = stack.pop()!;
      groupStart = false;
      i++;
      continue;
    }
    if (c === 0x0d || c === 0x0a) {
      i++;
      continue;
    }
    if (c !== 0x5c /* \ */) {
      // plain text up to the next special character
      let j = i + 1;
      while (j < n) {
        const d = s.charCodeAt(j);
        if (d === 0x5c || d === 0x7b || d === 0x7d || d === 0x0d || d === 0x0a) break;
        j++;
      }
      groupStart = false;
      let from = i;
      if (skipChars > 0) {
        const k = Math.min(skipChars, j - i);
        skipChars -= k;
        from += k;
      }
      if (!state.skip && from < j) {
        // bytes of the code page, decoded with the \'hh ones around them (ASCII alone goes as it is)
        const run = s.slice(from, j);
        if (pending.length === 0 && !/[\x80-\xff]/.test(run)) push(run);
        else {
          pending += run;
          if (pending.length >= MAX_PENDING) flush();
        }
      }
      i = j;
      continue;
    }
    // a backslash: control symbol or control word
    const next = s.charCodeAt(i + 1);
    if (Number.isNaN(next)) break;
    const isLetter = (next >= 0x41 && next <= 0x5a) || (next >= 0x61 && next <= 0x7a);
    if (!isLetter) {
      i += 2;
      if (next === 0x2a /* \* */) {
        if (groupStart) ignorable = true;
        continue;
      }
      groupStart = false;
      if (next === 0x27 /* \'hh */) {
        const hex = s.slice(i, i + 2);
        if (/^[0-9A-Fa-f]{2}$/.test(hex)) i += 2;
        if (skipChars > 0) {
          skipChars--;
          continue;
        }
        if (!state.skip && /^[0-9A-Fa-f]{2}$/.test(hex)) {
          pending += String.fromCharCode(parseInt(hex, 16));
          if (pending.length >= MAX_PENDING) flush();
        }
        continue;
      }
      if (skipChars > 0) {
        skipChars--;
        continue;
      }
      if (state.skip) continue;
      if (next === 0x5c || next === 0x7b || next === 0x7d) emit(String.fromCharCode(next));
      else if (next === 0x7e /* \~ */) emit('\u00a0');
      else if (next === 0x5f /* \_ */) emit('-');
      else if (next === 0x0a || next === 0x0d) emit('\n');
      else if (next === 0x09) emit('\t');
      continue;
    }
    // control word: letters, an optional signed number, an optional space that belongs to it
    let j = i + 1;
    while (j < n && j - i <= 32) {
      const d = s.charCodeAt(j);
      if (!((d >= 0x41 && d <= 0x5a) || (d >= 0x61 && d <= 0x7a))) break;
      j++;
    }
    const word = s.slice(i + 1, j);
    let param: number | undefined;
    const numStart = j;
    if (s[j] === '-') j++;
    while (j < n && j - numStart <= 10 && s.charCodeAt(j) >= 0x30 && s.charCodeAt(j) <= 0x39) j++;
    if (j > numStart && !(j === numStart + 1 && s[numStart] === '-')) param = Number(s.slice(numStart, j));
    else j = numStart;
    if (s[j] === ' ') j++;
    i = j;

    if (word === 'bin') {
      // N raw bytes follow: never text
      const skip = Math.max(0, param ?? 0);
      if (skip > n - i) notes.push(`\\bin${skip} runs past the end of the file`);
      i = Math.min(n, i + skip);
      groupStart = false;
      continue;
    }
    const wasStart = groupStart;
    groupStart = false;
    if (wasStart && overflow === 0 && ((ignorable && !SHOWN_OPTIONAL_DESTINATIONS.has(word)) || SKIPPED_DESTINATIONS.has(word))) {
      state.skip = true;
      ignorable = false;
      continue;
    }
    ignorable = false;
    if (skipChars > 0) {
      skipChars--;
      continue;
    }
    if (word === 'ansicpg' && param !== undefined && param > 0) {
      flush();
      charset = charsetOf(param);
      continue;
    }
    if (word === 'uc' && param !== undefined && param >= 0) {
      if (overflow === 0) state.uc = Math.min(param, 16);
      continue;
    }
    if (state.skip) continue;
    if (word === 'u' && param !== undefined) {
      const code = param < 0 ? param + 65536 : param;
      if (code > 0 && code <= 0xffff) emit(String.fromCharCode(code));
      skipChars = state.uc;
      continue;
    }
    if (LINE_WORDS.has(word)) emit('\n');
    else if (TAB_WORDS.has(word)) emit('\t');
    else if (CHAR_WORDS[word] !== undefined) emit(CHAR_WORDS[word]);
  }
  flush();
  const text = collected.text();
  if (collected.cut) notes.unshift(collected.cutNote);
  return notes.length > 0 ? { text, truncated: notes.join('; ') } : { text };
}
