// Minimal reader for OLE2 / Compound File Binary (D0CF11E0): lists directory entry names and the
// root CLSID so we can tell MSI installers from Office documents and spot VBA macro storages.
// Read-only, bounded loops (no allocation from declared sizes); returns undefined on broken input.

export interface OleInfo {
  rootClsid: string;
  names: string[];
}

const MAX_DIR_SECTORS = 4096;

export function readOleDirectory(buf: Buffer): OleInfo | undefined {
  try {
    if (buf.length < 512) return undefined;
    const shift = buf.readUInt16LE(30);
    if (shift !== 9 && shift !== 12) return undefined;
    const sectorSize = 1 << shift;
    const numFatSectors = buf.readUInt32LE(44);
    const firstDirSector = buf.readUInt32LE(48);
    const sectorOffset = (s: number): number => (s + 1) * sectorSize;
    // FAT sector numbers: first 109 in the header (DIFAT), then the DIFAT chain.
    const fatSectors: number[] = [];
    for (let i = 0; i < 109 && fatSectors.length < numFatSectors; i++) {
      const s = buf.readUInt32LE(76 + i * 4);
      if (s >= 0xfffffffa) break;
      fatSectors.push(s);
    }
    let difat = buf.readUInt32LE(68);
    let guard = 0;
    while (difat < 0xfffffffa && fatSectors.length < numFatSectors && guard++ < 1024) {
      const off = sectorOffset(difat);
      if (off + sectorSize > buf.length) break;
      for (let i = 0; i < sectorSize / 4 - 1 && fatSectors.length < numFatSectors; i++) {
        fatSectors.push(buf.readUInt32LE(off + i * 4));
      }
      difat = buf.readUInt32LE(off + sectorSize - 4);
    }
    const fatNext = (s: number): number => {
      const perSector = sectorSize / 4;
      const fs = fatSectors[Math.floor(s / perSector)];
      if (fs === undefined) return 0xfffffffe;
      const off = sectorOffset(fs) + (s % perSector) * 4;
      if (off + 4 > buf.length) return 0xfffffffe;
      return buf.readUInt32LE(off);
    };
    const names: string[] = [];
    let rootClsid = '';
    const seen = new Set<number>();
    let s = firstDirSector;
    while (s < 0xfffffffa && !seen.has(s) && seen.size < MAX_DIR_SECTORS) {
      seen.add(s);
      const off = sectorOffset(s);
      if (off + sectorSize > buf.length) break;
      for (let e = 0; e < sectorSize / 128; e++) {
        const base = off + e * 128;
        const nameLen = buf.readUInt16LE(base + 64);
        const type = buf[base + 66];
        if (type === 0 || nameLen < 2 || nameLen > 64) continue;
        const name = buf.subarray(base, base + nameLen - 2).toString('utf16le');
        if (type === 5 && !rootClsid) rootClsid = clsidString(buf.subarray(base + 80, base + 96));
        names.push(name);
      }
      s = fatNext(s);
    }
    if (names.length === 0) return undefined;
    return { rootClsid, names };
  } catch {
    return undefined;
  }
}

/** Mixed-endian GUID layout, upper-case, no braces. */
export function clsidString(b: Buffer): string {
  if (b.length < 16) return '';
  const h = (x: Buffer): string => x.toString('hex');
  const le = (x: Buffer): string => h(Buffer.from(x).reverse());
  return `${le(b.subarray(0, 4))}-${le(b.subarray(4, 6))}-${le(b.subarray(6, 8))}-${h(b.subarray(8, 10))}-${h(b.subarray(10, 16))}`.toUpperCase();
}

export const MSI_CLSIDS = new Set([
  '000C1084-0000-0000-C000-000000000046', // MSI package
  '000C1086-0000-0000-C000-000000000046', // MSP patch
  '000C1082-0000-0000-C000-000000000046', // MST transform
]);

/** Names that mean a VBA project (Word/Excel/PowerPoint) or Excel 4 macro sheets are present. */
export function oleHasMacros(names: string[]): boolean {
  return names.some((n) => {
    const u = n.toUpperCase();
    return u === 'VBA' || u === '_VBA_PROJECT' || u === '_VBA_PROJECT_CUR' || u === 'MACROS' || u === 'PROJECTWM';
  });
}

/** Byte-level fallback when the directory cannot be walked: UTF-16LE "_VBA_PROJECT". */
export function rawHasVbaMarker(buf: Buffer): boolean {
  return buf.includes(Buffer.from('_VBA_PROJECT', 'utf16le')) || buf.includes(Buffer.from('_VBA_PROJECT_CUR', 'utf16le'));
}
