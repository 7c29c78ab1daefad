// True file type from content (magic bytes), independent of the name or declared MIME type.
// Small explicit table; every entry is covered by test/unit/attachments-magic.test.ts.
// Must never throw or allocate in proportion to untrusted declared sizes.
import { readZipDirectory, findEocd } from '../archives/zip-directory.js';
import { MSI_CLSIDS, oleHasMacros, rawHasVbaMarker, readOleDirectory } from './ole.js';
import { xlmMacroSheets } from './xlm.js';
import { asBuffer } from '../bytes.js';

export interface TrueType {
  /** Short stable id: "pe", "elf", "macho", "script", "lnk", "msi", "ole", "ooxml", "zip", "pdf", ... */
  type: string;
  /** Runs code when opened (native binaries, scripts, shortcuts, installers, HTA, Java classes). */
  executable: boolean;
  /** A container we may expand or that hides other files. */
  archive: boolean;
  /** Office document or container carrying macros (VBA, XLM, OpenDocument Basic). */
  macros?: boolean;
  /** Extra facts ("dll", "interpreter=/bin/sh", "javascript", "openaction", "prefixed"...). */
  hints: string[];
  description: string;
}

const T = (type: string, description: string, o: Partial<TrueType> = {}): TrueType => ({
  type,
  description,
  executable: o.executable ?? false,
  archive: o.archive ?? false,
  hints: o.hints ?? [],
  ...(o.macros !== undefined ? { macros: o.macros } : {}),
});

/** True when buf holds `bytes` (byte values, or a latin1 string) at `at`. Compares in place: no allocation. */
const startsWith = (buf: Buffer, bytes: number[] | string, at = 0): boolean => {
  const n = bytes.length;
  if (buf.length < at + n) return false;
  if (typeof bytes === 'string') {
    for (let i = 0; i < n; i++) if (buf[at + i] !== (bytes.charCodeAt(i) & 0xff)) return false;
  } else {
    for (let i = 0; i < n; i++) if (buf[at + i] !== (bytes[i]! & 0xff)) return false;
  }
  return true;
};

/**
 * A zstd stream: a zstd frame (28 B5 2F FD), possibly after skippable frames — each a little-endian
 * magic 0x184D2A50..0x184D2A5F, a 4-byte little-endian length and that many bytes the decoder ignores.
 */
function isZstd(buf: Buffer): boolean {
  let at = 0;
  // zstd and 7-Zip skip any number of skippable frames, so we walk them all: each is at least 8
  // bytes, so the walk is linear in the file
  while (at + 4 <= buf.length) {
    if (startsWith(buf, [0x28, 0xb5, 0x2f, 0xfd], at)) return true;
    if (at + 8 > buf.length || buf[at + 1] !== 0x2a || buf[at + 2] !== 0x4d || buf[at + 3] !== 0x18 || (buf[at]! & 0xf0) !== 0x50) return false;
    at += 8 + buf.readUInt32LE(at + 4);
  }
  return false;
}

const LNK_HEADER = [0x4c, 0, 0, 0, 0x01, 0x14, 0x02, 0, 0, 0, 0, 0, 0xc0, 0, 0, 0, 0, 0, 0, 0x46];
const ONENOTE_GUID = [0xe4, 0x52, 0x5c, 0x7b, 0x8c, 0xd8, 0xa7, 0x4d, 0xae, 0xb1, 0x53, 0x78, 0xd0, 0x29, 0x96, 0xd3];

// One message's part is typed by the parser, the archive expander and the attachment check in turn
// (the whole-file scans: PDF names, OLE/BIFF streams, zip directory): read each content once.
const detected = new WeakMap<Uint8Array, TrueType>();

export function detectType(input: Buffer | Uint8Array): TrueType {
  let t = detected.get(input);
  if (t) return t;
  try {
    // Parts that crossed a worker boundary arrive as plain Uint8Array: view them as a Buffer.
    const buf = asBuffer(input);
    t = detect(buf);
  } catch {
    t = T('unknown', 'unreadable');
  }
  detected.set(input, t);
  return t;
}

function detect(buf: Buffer): TrueType {
  if (buf.length === 0) return T('empty', 'empty');
  // --- native executables
  if (startsWith(buf, 'MZ')) {
    const pe = peInfo(buf);
    if (pe) return T('pe', 'Windows PE executable', { executable: true, hints: pe });
    return T('mz', 'DOS MZ executable', { executable: true });
  }
  if (startsWith(buf, [0x7f, 0x45, 0x4c, 0x46])) return T('elf', 'ELF executable', { executable: true });
  const be = buf.length >= 4 ? buf.readUInt32BE(0) : 0;
  if (be === 0xfeedface || be === 0xfeedfacf || be === 0xcefaedfe || be === 0xcffaedfe) {
    return T('macho', 'Mach-O executable', { executable: true, hints: [be === 0xfeedfacf || be === 0xcffaedfe ? '64-bit' : '32-bit'] });
  }
  if (be === 0xcafebabe || be === 0xcafebabf) {
    // Shared with Java class files: fat Mach-O has a small architecture count, Java a version >= 45.
    const n = buf.length >= 8 ? buf.readUInt32BE(4) : 0;
    if (n > 0 && n < 0x20) return T('macho', 'Mach-O universal binary', { executable: true, hints: ['fat'] });
    if (be === 0xcafebabe) return T('java-class', 'Java class file', { executable: true });
  }
  if (be === 0xbebafeca) return T('macho', 'Mach-O universal binary (LE)', { executable: true, hints: ['fat'] });
  if (startsWith(buf, '#!')) {
    const line = buf.subarray(2, Math.min(buf.length, 200)).toString('latin1').split(/\r?\n/)[0]!.trim();
    return T('script', 'script with interpreter line', { executable: true, hints: [`interpreter=${line}`] });
  }
  if (startsWith(buf, LNK_HEADER)) return T('lnk', 'Windows shortcut', { executable: true });
  // --- OLE compound file: MSI installers, legacy Office (macros), others
  if (startsWith(buf, [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1])) {
    const ole = readOleDirectory(buf);
    if (ole && MSI_CLSIDS.has(ole.rootClsid)) return T('msi', 'Windows Installer package', { executable: true, hints: [ole.rootClsid] });
    let macros = ole ? oleHasMacros(ole.names) || rawHasVbaMarker(buf) : rawHasVbaMarker(buf);
    const hints = ole ? [] : ['directory-unreadable'];
    // Excel 4.0 macro sheets live inside the workbook stream, not in a VBA storage.
    if (ole?.names.some((n) => /^(workbook|book)$/i.test(n))) {
      const xlm = xlmMacroSheets(buf);
      if (xlm && xlm.macroSheets > 0) {
        macros = true;
        hints.push('xlm');
        if (xlm.hidden) hints.push('hidden-macro-sheet');
      }
    }
    // Password-protected OOXML is stored as an OLE file holding EncryptionInfo + EncryptedPackage.
    if (ole?.names.some((n) => n === 'EncryptedPackage' || n === 'EncryptionInfo')) hints.push('encrypted');
    return T('ole', 'OLE compound document', { macros, hints });
  }
  if (startsWith(buf, ONENOTE_GUID)) return T('onenote', 'OneNote section', { executable: true });
  // --- archives and compressors
  if (startsWith(buf, 'PK\x03\x04') || startsWith(buf, 'PK\x05\x06') || startsWith(buf, 'PK\x07\x08')) return zipKind(buf, []);
  if (startsWith(buf, 'Rar!\x1a\x07\x01\x00')) return T('rar', 'RAR 5 archive', { archive: true, hints: ['rar5'] });
  if (startsWith(buf, 'Rar!\x1a\x07\x00')) return T('rar', 'RAR 4 archive', { archive: true, hints: ['rar4'] });
  if (startsWith(buf, [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c])) return T('7z', '7-Zip archive', { archive: true });
  if (startsWith(buf, [0x1f, 0x8b, 0x08])) return T('gzip', 'gzip compressed', { archive: true });
  if (startsWith(buf, 'BZh') && buf.length >= 10 && buf[3]! >= 0x31 && buf[3]! <= 0x39) {
    if (startsWith(buf, [0x31, 0x41, 0x59, 0x26, 0x53, 0x59], 4) || startsWith(buf, [0x17, 0x72, 0x45, 0x38, 0x50, 0x90], 4)) {
      return T('bzip2', 'bzip2 compressed', { archive: true });
    }
  }
  if (startsWith(buf, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) return T('xz', 'xz compressed', { archive: true });
  if (isZstd(buf)) return T('zstd', 'Zstandard compressed', { archive: true });
  if (startsWith(buf, 'MSCF\0\0\0\0')) return T('cab', 'Microsoft Cabinet', { archive: true });
  if (startsWith(buf, '**ACE**', 7)) return T('ace', 'ACE archive', { archive: true });
  if (startsWith(buf, [0x60, 0xea]) && buf.length > 10) return T('arj', 'ARJ archive', { archive: true });
  if (buf.length > 7 && startsWith(buf, '-lh', 2) && buf[6] === 0x2d) return T('lzh', 'LHA/LZH archive', { archive: true });
  if (isTar(buf)) return T('tar', 'tar archive', { archive: true });
  // --- disk images (a fixed VHD is a raw disk plus a footer: its footer first, whatever the disk holds)
  if (startsWith(buf, 'vhdxfile')) return T('vhdx', 'Hyper-V VHDX disk image', { archive: true });
  if (startsWith(buf, 'conectix') || (buf.length >= 512 && startsWith(buf, 'conectix', buf.length - 512))) {
    return T('vhd', 'Virtual PC VHD disk image', { archive: true });
  }
  for (const at of [0x8001, 0x8801, 0x9001]) {
    if (startsWith(buf, 'CD001', at)) return T('iso', 'ISO 9660 disk image', { archive: true, executable: false });
    if (startsWith(buf, 'BEA01', at) || startsWith(buf, 'NSR02', at) || startsWith(buf, 'NSR03', at)) return T('udf', 'UDF disk image', { archive: true });
  }
  if (buf.length >= 512 && startsWith(buf, 'koly', buf.length - 512)) return T('dmg', 'Apple disk image', { archive: true });
  // --- partition tables and file systems: raw disk images, and what a VHD/VHDX/DMG holds (opened in turn)
  if (startsWith(buf, 'EFI PART', 512)) return T('gpt', 'GPT partitioned disk image', { archive: true });
  if (startsWith(buf, 'NTFS    ', 3) && bootSignature(buf)) return T('ntfs', 'NTFS file system image', { archive: true });
  if (isFatBoot(buf)) return T('fat', 'FAT file system image', { archive: true });
  if (isMbr(buf)) return T('mbr', 'MBR partitioned disk image', { archive: true });
  // --- documents
  if (buf.subarray(0, 1024).indexOf('%PDF-') >= 0) return T('pdf', 'PDF document', { hints: pdfHints(buf) });
  if (startsWith(buf, '{\\rt')) return T('rtf', 'Rich Text Format', { hints: buf.includes('\\objdata') || buf.includes('\\object') ? ['embedded-object'] : [] });
  // --- images (common decoys)
  if (startsWith(buf, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return T('png', 'PNG image');
  if (startsWith(buf, [0xff, 0xd8, 0xff])) return T('jpeg', 'JPEG image');
  if (startsWith(buf, 'GIF87a') || startsWith(buf, 'GIF89a')) return T('gif', 'GIF image');
  if (startsWith(buf, 'RIFF') && startsWith(buf, 'WAVE', 8)) return T('wav', 'WAVE audio');
  // --- a zip with data in front of it (self-extractors are caught as PE above)
  const eocd = findEocd(buf);
  if (eocd > 0 && buf.includes('PK\x03\x04')) {
    const z = zipKind(buf, ['prefixed']);
    if (z.type !== 'unknown') return z;
  }
  // --- text-ish markup
  const head = buf.subarray(0, 4096).toString('latin1').replace(/^\uFEFF|^\xEF\xBB\xBF/, '').toLowerCase();
  if (/<hta:application/.test(head)) return T('hta', 'HTML application (HTA)', { executable: true });
  const trimmed = head.replace(/^[\s\0]+/, '');
  if (/^<\?xml[^>]*>\s*(<!--[\s\S]*?-->\s*)*<svg/.test(trimmed) || trimmed.startsWith('<svg')) {
    return T('svg', 'SVG image', { hints: htmlHints(buf) });
  }
  if (/^(<!doctype html|<html|<head|<body|<script|<iframe|<meta|<!--)/.test(trimmed)) {
    return T('html', 'HTML document', { hints: htmlHints(buf) });
  }
  return T('unknown', 'unknown');
}

/** "MZ" with e_lfanew pointing at "PE\0\0": returns hints (dll/exe, machine), or undefined. */
function peInfo(buf: Buffer): string[] | undefined {
  if (buf.length < 0x40) return undefined;
  const lfanew = buf.readUInt32LE(0x3c);
  if (lfanew + 24 > buf.length) return undefined;
  if (!startsWith(buf, 'PE\0\0', lfanew)) return undefined;
  const machine = buf.readUInt16LE(lfanew + 4);
  const characteristics = buf.readUInt16LE(lfanew + 22);
  const hints = [(characteristics & 0x2000) !== 0 ? 'dll' : 'exe', `machine=0x${machine.toString(16)}`];
  return hints;
}

const bootSignature = (buf: Buffer): boolean => buf.length >= 512 && buf[510] === 0x55 && buf[511] === 0xaa;

/** A FAT boot sector: jump, a power-of-two sector size and cluster size, and the FAT type label. */
function isFatBoot(buf: Buffer): boolean {
  if (!bootSignature(buf) || (buf[0] !== 0xeb && buf[0] !== 0xe9)) return false;
  const bytesPerSector = buf.readUInt16LE(11);
  const perCluster = buf[13]!;
  if (![512, 1024, 2048, 4096].includes(bytesPerSector) || perCluster === 0 || (perCluster & (perCluster - 1)) !== 0) return false;
  return startsWith(buf, 'FAT', 54) || startsWith(buf, 'FAT32', 82);
}

/** A classic partition table: every status byte 0 or 0x80, at least one used entry with a start and a length. */
function isMbr(buf: Buffer): boolean {
  if (!bootSignature(buf)) return false;
  let used = 0;
  for (let i = 0; i < 4; i++) {
    const at = 446 + 16 * i;
    if (buf[at] !== 0 && buf[at] !== 0x80) return false;
    if (buf[at + 4] === 0) continue;
    if (buf.readUInt32LE(at + 8) === 0 || buf.readUInt32LE(at + 12) === 0) return false;
    used++;
  }
  return used > 0;
}

function isTar(buf: Buffer): boolean {
  if (buf.length < 512) return false;
  if (startsWith(buf, 'ustar', 257)) return true;
  // Old v7 tar: no magic, but the header checksum must match.
  const field = buf.subarray(148, 156).toString('latin1').replace(/[\0 ]+$/g, '').trim();
  if (!/^[0-7]{1,7}$/.test(field)) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : buf[i]!;
  return sum === parseInt(field, 8) && buf[0] !== 0;
}

function zipKind(buf: Buffer, hints: string[]): TrueType {
  const dir = readZipDirectory(buf, 5000);
  if (!dir) return T('zip', 'zip archive', { archive: true, hints: [...hints, 'no-central-directory'] });
  const names = dir.entries.map((e) => e.name);
  const lower = names.map((n) => n.toLowerCase());
  const enc = dir.entries.some((e) => e.encrypted);
  const h = enc ? [...hints, 'encrypted'] : hints;
  if (lower.includes('[content_types].xml')) {
    const macros = lower.some((n) => n.endsWith('vbaproject.bin') || n.includes('/macrosheets/') || n.startsWith('xl/macrosheets'));
    return T('ooxml', 'Office Open XML document', { archive: true, macros, hints: h });
  }
  if (lower.includes('mimetype') && lower.some((n) => n === 'content.xml' || n === 'meta-inf/manifest.xml')) {
    const macros = lower.some((n) => n.startsWith('basic/') || n.startsWith('scripts/'));
    return T('odf', 'OpenDocument file', { archive: true, macros, hints: h });
  }
  if (lower.includes('meta-inf/manifest.mf') || lower.some((n) => n.endsWith('.class'))) {
    return T('jar', 'Java archive', { archive: true, executable: true, hints: h });
  }
  if (lower.includes('appxmanifest.xml') || lower.includes('appxmetadata/appxbundlemanifest.xml')) {
    return T('msix', 'MSIX/AppX package', { archive: true, executable: true, hints: h });
  }
  return T('zip', 'zip archive', { archive: true, hints: h });
}

/** Window of a PDF read as text at once: small strings stay on the V8 heap (a string of a megabyte or
 *  more becomes external memory that outlives the next GC), so a 16 MB PDF costs no 16 MB string. */
const PDF_WINDOW = 256 * 1024;

/** PDF names may hide letters as #xx escapes (/J#61vaScript): decode before matching. */
function pdfHints(buf: Buffer): string[] {
  const limit = Math.min(buf.length, 16 * 1024 * 1024);
  const found = new Set<string>();
  const want: Record<string, string> = {
    javascript: 'javascript', js: 'javascript', openaction: 'openaction', aa: 'auto-action', launch: 'launch',
    embeddedfile: 'embedded-file', richmedia: 'richmedia', xfa: 'xfa', submitform: 'submitform', uri: 'uri', encrypt: 'encrypted',
  };
  let guard = 0;
  // A match is "/" plus up to 32 name characters, and "/" is not a name character: matches never
  // overlap, so windows that each read 33 bytes past their end and keep only the matches starting
  // inside them find exactly the matches of the whole text.
  for (let start = 0; start < limit && guard < 2_000_000; start += PDF_WINDOW) {
    const text = buf.toString('latin1', start, Math.min(limit, start + PDF_WINDOW + 33));
    const re = /\/([A-Za-z0-9#]{2,32})/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(text)) !== null && m.index < PDF_WINDOW && guard++ < 2_000_000) {
      const name = m[1]!.replace(/#([0-9a-fA-F]{2})/g, (_, x: string) => String.fromCharCode(parseInt(x, 16))).toLowerCase();
      const hint = want[name];
      if (hint) found.add(hint);
    }
  }
  return [...found].sort();
}

function htmlHints(buf: Buffer): string[] {
  const t = buf.subarray(0, 4 * 1024 * 1024).toString('latin1').toLowerCase();
  const hints: string[] = [];
  if (t.includes('<script')) hints.push('script');
  // HTML smuggling: script builds a Blob / data URL and triggers a download.
  if ((t.includes('new blob') || t.includes('msSaveOrOpenBlob'.toLowerCase()) || t.includes('createobjecturl')) && (t.includes('.download') || t.includes('download='))) {
    hints.push('smuggling');
  }
  if (/<form[^>]+action\s*=/.test(t) && t.includes('password')) hints.push('credential-form');
  return hints;
}
