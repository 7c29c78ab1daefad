// Text out of PDF strings and attached files, for pdf-text.ts: a "text string" (outline titles, form
// field values) is UTF-16BE after a FE FF byte-order mark, UTF-8 after EF BB BF (PDF 2.0), else
// PDFDocEncoding (Latin-1 with some typographic characters at 0x18-0x1f and 0x80-0x9f). An attached
// file's bytes are read as UTF-16 with a byte-order mark, else UTF-8 when they are valid UTF-8, else
// Latin-1 — binary data (many control bytes) only by its printable runs. An annotation's /RC rich text
// (XHTML) reads without its tags. Never throws.

/** PDFDocEncoding 0x80-0xa0 (0x9f and 0xa0 as in Latin-1 for simplicity of undefined codes). */
const DOC_HIGH = '•†‡…—–ƒ⁄‹›−‰„“”‘’‚™ﬁﬂŁŒŠŸŽıłœšž\u009f€';
const DOC_LOW: Record<number, string> = { 0x18: '˘', 0x19: 'ˇ', 0x1a: 'ˆ', 0x1b: '˙', 0x1c: '˝', 0x1d: '˛', 0x1e: '˚', 0x1f: '˜' };

function utf16(b: Buffer, from: number, le: boolean): string {
  const n = (b.length - from) >> 1;
  const units = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    const p = from + 2 * i;
    units[i] = le ? b[p]! | (b[p + 1]! << 8) : (b[p]! << 8) | b[p + 1]!;
  }
  let s = '';
  for (let i = 0; i < n; i += 8192) s += String.fromCharCode(...units.subarray(i, i + 8192));
  return s;
}

/** A PDF text string as text. */
export function pdfTextString(b: Buffer): string {
  if (b.length >= 2 && b[0] === 0xfe && b[1] === 0xff) return utf16(b, 2, false);
  if (b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return b.toString('utf8', 3);
  let s = '';
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    s += c >= 0x80 && c < 0xa0 ? DOC_HIGH[c - 0x80]! : (DOC_LOW[c] ?? String.fromCharCode(c));
  }
  return s;
}

/** An attached file's bytes as text (see the top of this file). */
export function fileText(b: Buffer): string {
  if (b.length >= 2 && b[0] === 0xfe && b[1] === 0xff) return utf16(b, 2, false);
  if (b.length >= 2 && b[0] === 0xff && b[1] === 0xfe) return utf16(b, 2, true);
  const from = b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(from));
  } catch {
    return binary(b) ? printableRuns(b) : b.toString('latin1');
  }
}

/** More than one byte in ten of the first 4 KiB is a control character (not tab or line end). */
function binary(b: Buffer): boolean {
  const n = Math.min(b.length, 4096);
  let ctl = 0;
  for (let i = 0; i < n; i++) {
    const c = b[i]!;
    if (c < 0x20 && c !== 9 && c !== 10 && c !== 13) ctl++;
  }
  return ctl * 10 > n;
}

/** The runs of 4 or more printable Latin-1 characters of binary data, one a line (as `strings` shows them). */
function printableRuns(b: Buffer): string {
  const out: string[] = [];
  let start = -1;
  for (let i = 0; i <= b.length; i++) {
    const c = i < b.length ? b[i]! : 0;
    const printable = (c >= 0x20 && c < 0x7f) || c === 9 || c >= 0xa0;
    if (printable) {
      if (start < 0) start = i;
    } else if (start >= 0) {
      if (i - start >= 4) out.push(b.toString('latin1', start, i));
      start = -1;
    }
  }
  return out.join('\n');
}

/** Text of an annotation's /RC rich text (XHTML): tags dropped (linear, no regex over them), entities read. */
export function richText(s: string): string {
  let r = '';
  for (let i = 0; i < s.length; ) {
    const lt = s.indexOf('<', i);
    if (lt < 0) {
      r += s.slice(i);
      break;
    }
    r += s.slice(i, lt);
    const gt = s.indexOf('>', lt);
    if (gt < 0) break;
    r += ' ';
    i = gt + 1;
  }
  return r.replace(/&(?:#(\d{1,7})|#x([0-9a-fA-F]{1,6})|(amp|lt|gt|quot|apos|nbsp));/g, (m, d?: string, h?: string, n?: string) => {
    if (n) return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' }[n] ?? m;
    const cp = d ? parseInt(d, 10) : parseInt(h!, 16);
    return cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
  });
}
