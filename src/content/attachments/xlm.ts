// Excel 4.0 (XLM) macro sheets in legacy .xls files: reads every BIFF "Workbook" (BIFF8) and "Book"
// (BIFF5) stream of an OLE file (through `cfb`) and walks its records for a BOUNDSHEET of sheet
// type "macro sheet" or a substream BOF of type macro sheet (BOF records stay readable in
// RC4-encrypted workbooks, BOUNDSHEET types do not). No VBA storage is involved, so the OLE name
// check cannot see these. Bounded record walk; never throws.
import { createRequire } from 'node:module';

type Cfb = typeof import('cfb');
let cfb: Cfb | undefined;
const load = (): Cfb => (cfb ??= createRequire(import.meta.url)('cfb') as Cfb);

export interface XlmInfo {
  /** Macro sheets found (BOUNDSHEET type 1, or BOF type 0x40). */
  macroSheets: number;
  /** Some macro sheet is hidden (1) or very hidden (2). */
  hidden: boolean;
}

const BOF = 0x0809;
const BOUNDSHEET = 0x0085;
const MAX_RECORDS = 1_000_000;

/** Scan BIFF records of a workbook stream. */
function scanBiff(s: Uint8Array): XlmInfo {
  const info: XlmInfo = { macroSheets: 0, hidden: false };
  const view = Buffer.from(s.buffer, s.byteOffset, s.byteLength);
  let p = 0;
  let bofMacro = 0;
  for (let n = 0; n < MAX_RECORDS && p + 4 <= view.length; n++) {
    const type = view.readUInt16LE(p);
    const len = view.readUInt16LE(p + 2);
    const d = p + 4;
    if (d + len > view.length) break;
    if (type === BOUNDSHEET && len >= 6 && view[d + 5] === 0x01) {
      info.macroSheets++;
      if ((view[d + 4]! & 0x03) !== 0) info.hidden = true;
    } else if (type === BOF && len >= 4 && view.readUInt16LE(d + 2) === 0x0040) {
      bofMacro++;
    }
    p = d + len;
  }
  info.macroSheets = Math.max(info.macroSheets, bofMacro);
  return info;
}

/**
 * XLM macro sheets of an OLE .xls, or undefined when there is no readable workbook stream. Every
 * "Workbook"/"Book" stream is scanned and the results combined: which one Excel opens depends on
 * the version, and a benign stream listed first must not hide a macro sheet in another.
 */
export function xlmMacroSheets(buf: Buffer): XlmInfo | undefined {
  try {
    const CFB = load();
    const container = CFB.read(buf, { type: 'buffer' });
    let found: XlmInfo | undefined;
    for (let i = 0; i < container.FileIndex.length; i++) {
      const e = container.FileIndex[i]!;
      if (e.type !== 2) continue;
      const name = e.name.toLowerCase();
      if (name !== 'workbook' && name !== 'book') continue;
      const content = e.content;
      if (!content || content.length === 0) continue;
      const info = scanBiff(content instanceof Uint8Array ? content : Uint8Array.from(content));
      found = found ? { macroSheets: found.macroSheets + info.macroSheets, hidden: found.hidden || info.hidden } : info;
    }
    return found;
  } catch {
    return undefined;
  }
}
