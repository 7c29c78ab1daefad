// Text preparation for content rules: NFKC, invisible/format characters removed (so "v\u200Biagra"
// reads "viagra"), bounded length; plus a fallback HTML-to-text for parts the parser left without
// text. Pure functions.

import { isAsciiString } from '../ascii.js';

const INVISIBLE = /[\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\u3164\uFEFF\uFFA0]/g;

export function prepareText(s: string, maxChars: number): string {
  const cut = s.length > maxChars ? s.slice(0, maxChars) : s;
  // pure ASCII: NFKC changes nothing and there is no invisible character to remove
  if (isAsciiString(cut)) return cut;
  return cut.normalize('NFKC').replace(INVISIBLE, '');
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** Crude but safe HTML to text: drops script/style/comments and tags, decodes common entities. */
export function htmlToText(html: string): string {
  return html
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<(script|style|head)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<(br|p|div|tr|li|h[1-6])\b[^>]*>/gi, '\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&(#x[0-9a-f]{1,6}|#\d{1,7}|[a-z]{2,8});/gi, (m, e: string) => {
      if (e[0] === '#') {
        const cp = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
        return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
      }
      return ENTITIES[e.toLowerCase()] ?? m;
    });
}
