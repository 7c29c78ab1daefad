// The number styles of an OpenDocument spreadsheet that show literal text around a cell's digits:
// <number:number-style style:name="N1"><number:text>4000</number:text><number:number
// number:min-integer-digits="4"/><number:text>1234</number:text></number:number-style> shows the value
// 5678 as 400056781234, and <style:style style:name="ce1" style:data-style-name="N1"> makes it the
// format of every <table:table-cell table:style-name="ce1">. LibreOffice draws a cell from its
// office:value and that style (the cell's own <text:p> may be left out). One forward scan; never throws.
import { decodeXML } from 'entities';
import { attributes, tagAttributes } from './xml-text.js';
import type { LiteralFormat } from './cell-values.js';

/** Most number styles and cell styles looked at. */
const MAX_STYLES = 65_536;
/** Longest number style read (real ones are a few hundred bytes). */
const MAX_STYLE_BODY = 16_384;
/** Longest literal text kept from one style. */
const MAX_LITERAL = 256;

const attr = (attrs: string, local: string): string | undefined => {
  for (const [name, value] of attributes(attrs, 0, attrs.length)) if (name === local || name.endsWith(`:${local}`)) return value;
  return undefined;
};

/** Data style name → its literal format, for number styles with literal text around one number. */
function numberStyles(s: string): Map<string, LiteralFormat> {
  const out = new Map<string, LiteralFormat>();
  const open = /<number:number-style[\s>]/g;
  for (let m = open.exec(s); m && out.size < MAX_STYLES; m = open.exec(s)) {
    const gt = s.indexOf('>', m.index);
    const end = s.indexOf('</number:number-style>', m.index);
    if (gt < 0 || end < 0) break;
    const name = attr(s.slice(m.index + 20, gt), 'name');
    const body = s.slice(gt + 1, end);
    open.lastIndex = end;
    if (!name || body.length > MAX_STYLE_BODY) continue;
    let prefix = '';
    let suffix = '';
    let minDigits = -1;
    let numbers = 0;
    const piece = /<number:(text|number)\b([^>]*)>/g;
    for (let p = piece.exec(body); p; p = piece.exec(body)) {
      if (p[1] === 'number') {
        numbers++;
        const digits = attr(p[2]!, 'min-integer-digits');
        minDigits = digits && /^\d{1,2}$/.test(digits) ? Number(digits) : 1;
        continue;
      }
      const close = body.indexOf('</number:text>', piece.lastIndex);
      if (close < 0) break;
      const literal = decodeXML(body.slice(piece.lastIndex, close).replace(/<[^>]{0,256}>/g, ''));
      if (minDigits < 0) prefix += literal;
      else suffix += literal;
      piece.lastIndex = close;
    }
    if (numbers === 1 && prefix + suffix !== '' && prefix.length + suffix.length <= MAX_LITERAL) out.set(name, { prefix, suffix, minDigits });
  }
  return out;
}

/** Cell style name → literal format (through its data style), from one XML part (content.xml, styles.xml, a flat .fods). */
export function odfLiteralFormatsOf(s: string): Map<string, LiteralFormat> {
  const out = new Map<string, LiteralFormat>();
  try {
    if (!s.includes('number-style')) return out;
    const data = numberStyles(s);
    if (data.size === 0) return out;
    for (const attrs of tagAttributes(s, /<style:style\s/g)) {
      const dataStyle = attr(attrs, 'data-style-name');
      const name = attr(attrs, 'name');
      const format = dataStyle !== undefined ? data.get(dataStyle) : undefined;
      if (name && format) out.set(name, format);
      if (out.size >= MAX_STYLES) break;
    }
  } catch {
    /* no formats */
  }
  return out;
}
