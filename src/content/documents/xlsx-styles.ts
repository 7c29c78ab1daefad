// The number formats of a workbook's cell styles that show literal text around the digits
// (xl/styles.xml: <numFmt numFmtId formatCode> defines formats, the Nth <xf> of <cellXfs> is cell
// style N, used by <c s="N">). A cell whose style shows '"4000"0000' reads 1234 as 40001234 in Excel.
// One forward scan per tag kind (each tag ends at the next `>`), linear; never throws.
import { decodeXML } from 'entities';
import { markupString, attributes, tagAttributes } from './xml-text.js';
import { literalFormat, type LiteralFormat } from './cell-values.js';

/** Most cell styles looked at (Excel allows 64,000). */
const MAX_STYLES = 65_536;

/** Cell style index → literal format, for the styles that use one. Empty when none do (or unreadable). */
export function literalFormatsOf(styles: Buffer): Map<number, LiteralFormat> {
  const out = new Map<number, LiteralFormat>();
  try {
    const s = markupString(styles);
    const formats = new Map<string, LiteralFormat>();
    for (const attrs of tagAttributes(s, /<(?:[\w.-]+:)?numFmt\s/g)) {
      let id: string | undefined;
      let code: string | undefined;
      for (const [name, value] of attributes(attrs, 0, attrs.length)) {
        if (name === 'numFmtId') id = value;
        else if (name === 'formatCode') code = decodeXML(value);
      }
      const format = id !== undefined && code !== undefined ? literalFormat(code) : undefined;
      if (format) formats.set(id!, format);
    }
    if (formats.size === 0) return out;
    const start = /<(?:[\w.-]+:)?cellXfs[\s>]/.exec(s);
    if (!start) return out;
    const endAt = s.indexOf('cellXfs>', start.index + 8);
    let index = 0;
    for (const attrs of tagAttributes(s, /<(?:[\w.-]+:)?xf(?=[\s/>])/g, start.index, endAt > start.index ? endAt : s.length)) {
      if (index >= MAX_STYLES) break;
      for (const [name, value] of attributes(attrs, 0, attrs.length)) {
        const format = name === 'numFmtId' ? formats.get(value) : undefined;
        if (format) out.set(index, format);
      }
      index++;
    }
  } catch {
    /* no formats */
  }
  return out;
}
