// Text preparation for content rules: NFKC, invisible/format characters removed (so "v\u200Biagra"
// reads "viagra"), bounded length; plus HTML-to-text (the MIME parser's converter) for parts the parser
// left without text. Pure functions.

import { isAsciiString } from '../ascii.js';

// (variation selectors, Mongolian free variation selectors, tag characters U+E0000-E007F and variation
// selectors U+E0100-E01EF too: shown as nothing, so "vi\uFE0Fagra" reads "viagra")
const INVISIBLE =
  /[\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0]|\uDB40[\uDC00-\uDC7F\uDD00-\uDDEF]/g;

export function prepareText(s: string, maxChars: number): string {
  let cut = s.length > maxChars ? s.slice(0, maxChars) : s;
  // pure ASCII: NFKC changes nothing and there is no invisible character to remove
  if (isAsciiString(cut)) return cut;
  // Bytes that did not decode (U+FFFD) and control characters read as a space: what a mail program
  // shows as noise between words (neither composes with anything, so doing it before NFKC is the same).
  // Binary read as text (a JPEG in a no-MIME-Version body) then usually becomes Latin-1 only.
  if (UNDECODED_TEST.test(cut)) cut = cut.replace(UNDECODED, ' ');
  if (LATIN1_ONLY.test(cut)) return latin1Nfkc(cut);
  return cut.normalize('NFKC').replace(INVISIBLE, '');
}

const UNDECODED_TEST = /[\uFFFD\x00-\x08\x0E-\x1F\x7F]/;
const UNDECODED = /[\uFFFD\x00-\x08\x0E-\x1F\x7F]+/g;
const LATIN1_ONLY = /^[\x00-\xff]*$/;
// Latin-1 has no combining marks, so NFKC of a Latin-1 string changes only its compatibility
// characters, one by one; U+00AD (soft hyphen) is the one INVISIBLE character in the range.
const LATIN1_CHANGED = /[\u00A0\u00A8\u00AA\u00AD\u00AF\u00B2-\u00B5\u00B8-\u00BA\u00BC-\u00BE]/g;

/** NFKC plus INVISIBLE removal for a string of U+0000..U+00FF only (same result, no ICU pass). */
export function latin1Nfkc(s: string): string {
  LATIN1_CHANGED.lastIndex = 0;
  if (!LATIN1_CHANGED.test(s)) return Buffer.from(s, 'latin1').toString('latin1');
  return s.replace(LATIN1_CHANGED, (c) => (c === '\u00AD' ? '' : c.normalize('NFKC')));
}

/** HTML to text for parts the parser left without text: the parser's own converter. */
export { htmlToPlainText as htmlToText } from '../mime/html-text.js';
