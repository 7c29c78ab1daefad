// The number formats of a workbook's cell styles that show a literal prefix before the digits
// (xl/styles.xml: <numFmt numFmtId formatCode> defines formats, the Nth <xf> of <cellXfs> is cell
// style N, used by <c s="N">). A cell whose style shows '"4000"0000' reads 1234 as 40001234 in Excel.
// Regular-expression scans over the part, linear; never throws.
import { decodeXML } from 'entities';
import { markupString, attributes } from './xml-text.js';
import { prefixFormat, type PrefixFormat } from './cell-values.js';

/** Most cell styles looked at (Excel allows 64,000). */
const MAX_STYLES = 65_536;

/** Cell style index → prefix format, for the styles that use one. Empty when none do (or unreadable). */
export function prefixFormatsOf(styles: Buffer): Map<number, PrefixFormat> {
  const out = new Map<number, PrefixFormat>();
  try {
    const s = markupString(styles);
    const formats = new Map<string, PrefixFormat>();
    const numFmt = /<(?:[\w.-]+:)?numFmt\s([^>]*)>/g;
    for (let m = numFmt.exec(s); m; m = numFmt.exec(s)) {
      let id: string | undefined;
      let code: string | undefined;
      for (const [name, value] of attributes(m[1]!, 0, m[1]!.length)) {
        if (name === 'numFmtId') id = value;
        else if (name === 'formatCode') code = decodeXML(value);
      }
      const format = id !== undefined && code !== undefined ? prefixFormat(code) : undefined;
      if (format) formats.set(id!, format);
    }
    if (formats.size === 0) return out;
    const start = /<(?:[\w.-]+:)?cellXfs[\s>]/.exec(s);
    if (!start) return out;
    const endAt = s.search(/<\/(?:[\w.-]+:)?cellXfs>/);
    const section = s.slice(start.index, endAt > start.index ? endAt : s.length);
    const xf = /<(?:[\w.-]+:)?xf[\s/>]([^>]*)/g;
    let index = 0;
    for (let m = xf.exec(section); m && index < MAX_STYLES; m = xf.exec(section), index++) {
      for (const [name, value] of attributes(m[1]!, 0, m[1]!.length)) {
        const format = name === 'numFmtId' ? formats.get(value) : undefined;
        if (format) out.set(index, format);
      }
    }
  } catch {
    /* no formats */
  }
  return out;
}
