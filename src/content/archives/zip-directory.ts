// Reads a zip's end-of-central-directory record and central directory WITHOUT inflating anything:
// entry count, names, declared sizes, flags. Used for guards before extraction and for cheap type
// hints (OOXML, vbaProject.bin). Never allocates in proportion to declared sizes; never throws.
import { asBuffer } from '../bytes.js';

export interface ZipDirEntry {
  name: string;
  /** Raw name bytes decoded as latin1 when the UTF-8 flag is not set (what many extractors show). */
  nameLatin1: string;
  flags: number;
  method: number;
  compressedSize: number;
  size: number;
  localOffset: number;
  /** CRC-32 of the uncompressed data (undefined when not known: a local header with a data descriptor). */
  crc?: number;
  encrypted: boolean;
  directory: boolean;
}

export interface ZipDirectory {
  /** Entry count as declared by the end record (may be larger than entries.length when capped). */
  declaredEntries: number;
  entries: ZipDirEntry[];
  /** True when the listing stopped at maxEntries. */
  truncated: boolean;
  /** Set when the structure is broken (entries read so far are kept). */
  error?: string;
  /** Where the central directory starts in the buffer (local headers and data lie before it). */
  centralStart: number;
}

const EOCD_BYTES = Buffer.from([0x50, 0x4b, 0x05, 0x06]);
const CEN_SIG = 0x02014b50;
const ZIP64_LOC_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;

/** Offset of the end-of-central-directory record, or -1. */
export function findEocd(buf: Buffer): number {
  if (buf.length < 22) return -1;
  const min = Math.max(0, buf.length - 22 - 0xffff);
  // the last signature at or before length-22 (native search), if within the comment window
  const b = asBuffer(buf);
  const i = b.lastIndexOf(EOCD_BYTES, buf.length - 22);
  return i >= min ? i : -1;
}

export function readZipDirectory(buf: Buffer, maxEntries = 100_000): ZipDirectory | undefined {
  const eocd = findEocd(buf);
  if (eocd < 0) return undefined;
  let declared = buf.readUInt16LE(eocd + 10);
  let cdSize = buf.readUInt32LE(eocd + 12);
  let cdOffset = buf.readUInt32LE(eocd + 16);
  // ZIP64: locator sits 20 bytes before the EOCD.
  if (eocd >= 20 && buf.readUInt32LE(eocd - 20) === ZIP64_LOC_SIG) {
    const z64 = Number(buf.readBigUInt64LE(eocd - 20 + 8));
    if (z64 >= 0 && z64 + 56 <= buf.length && buf.readUInt32LE(z64) === ZIP64_EOCD_SIG) {
      declared = Number(buf.readBigUInt64LE(z64 + 32));
      cdSize = Number(buf.readBigUInt64LE(z64 + 40));
      cdOffset = Number(buf.readBigUInt64LE(z64 + 48));
    }
  }
  // A zip with data prepended (self-extractor, junk prefix): central directory offsets are relative
  // to the archive start, which is (eocd - cdSize - cdOffset) bytes into the buffer.
  let base = 0;
  if (cdOffset + cdSize !== eocd && eocd - cdSize >= 0 && eocd - cdSize - cdOffset >= 0) {
    base = eocd - cdSize - cdOffset;
  }
  const out: ZipDirectory = { declaredEntries: declared, entries: [], truncated: false, centralStart: Math.min(eocd, base + cdOffset) };
  let p = base + cdOffset;
  while (p + 46 <= buf.length && buf.readUInt32LE(p) === CEN_SIG) {
    if (out.entries.length >= maxEntries) {
      out.truncated = true;
      break;
    }
    const flags = buf.readUInt16LE(p + 8);
    const method = buf.readUInt16LE(p + 10);
    let compressedSize = buf.readUInt32LE(p + 20);
    let size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    let localOffset = buf.readUInt32LE(p + 42);
    if (p + 46 + nameLen > buf.length) {
      out.error = 'central directory entry runs past end of data';
      break;
    }
    const raw = buf.subarray(p + 46, p + 46 + nameLen);
    // ZIP64 extra field (id 1): real sizes when the 32-bit fields are 0xFFFFFFFF.
    let e = p + 46 + nameLen;
    const eEnd = Math.min(buf.length, e + extraLen);
    while (e + 4 <= eEnd) {
      const id = buf.readUInt16LE(e);
      const len = buf.readUInt16LE(e + 2);
      if (id === 1) {
        let q = e + 4;
        const qEnd = Math.min(eEnd, q + len);
        if (size === 0xffffffff && q + 8 <= qEnd) { size = Number(buf.readBigUInt64LE(q)); q += 8; }
        if (compressedSize === 0xffffffff && q + 8 <= qEnd) { compressedSize = Number(buf.readBigUInt64LE(q)); q += 8; }
        if (localOffset === 0xffffffff && q + 8 <= qEnd) { localOffset = Number(buf.readBigUInt64LE(q)); q += 8; }
      }
      e += 4 + len;
    }
    const name = (flags & 0x800) !== 0 ? raw.toString('utf8') : decodeCp437ish(raw);
    out.entries.push({
      name,
      nameLatin1: raw.toString('latin1'),
      flags,
      method,
      compressedSize,
      size,
      localOffset: localOffset + base,
      crc: buf.readUInt32LE(p + 16),
      encrypted: (flags & 1) !== 0,
      // a "directory" name with data is a file to extractors that write it: its data is checked
      directory: (name.endsWith('/') || name.endsWith('\\')) && size === 0,
    });
    p += 46 + nameLen + extraLen + commentLen;
  }
  if (!out.truncated && !out.error && out.entries.length < Math.min(declared, maxEntries)) {
    out.error = `central directory lists ${out.entries.length} of ${declared} declared entries`;
  }
  return out;
}

/** Names without the UTF-8 flag: ASCII stays ASCII; otherwise try UTF-8 (common in practice), else latin1. */
function decodeCp437ish(raw: Buffer): string {
  let ascii = true;
  for (const b of raw) if (b > 0x7f) { ascii = false; break; }
  if (ascii) return raw.toString('latin1');
  const utf8 = raw.toString('utf8');
  return utf8.includes('\uFFFD') ? raw.toString('latin1') : utf8;
}

/**
 * Where the data of the entry whose local header is at `offset` starts (after the header, its name and
 * its extra field), or undefined when no local header is there.
 */
export function localDataStart(buf: Buffer, offset: number): number | undefined {
  if (offset < 0 || offset + 30 > buf.length || buf.readUInt32LE(offset) !== 0x04034b50) return undefined;
  return offset + 30 + buf.readUInt16LE(offset + 26) + buf.readUInt16LE(offset + 28);
}

/** Name stored in the local header at `offset` (may differ from the central directory's). */
export function localHeaderName(buf: Buffer, offset: number): string | undefined {
  if (offset < 0 || offset + 30 > buf.length || buf.readUInt32LE(offset) !== 0x04034b50) return undefined;
  const nameLen = buf.readUInt16LE(offset + 26);
  if (offset + 30 + nameLen > buf.length) return undefined;
  const flags = buf.readUInt16LE(offset + 6);
  const raw = buf.subarray(offset + 30, offset + 30 + nameLen);
  return (flags & 0x800) !== 0 ? raw.toString('utf8') : decodeCp437ish(raw);
}

const LOCAL_SIG_BYTES = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
/** Compression methods extractors implement (stored, deflate, deflate64, bzip2, lzma, zstd, xz, ppmd, AES). */
const PLAUSIBLE_METHODS = new Set([0, 8, 9, 12, 14, 93, 95, 98, 99]);

/**
 * Local file headers no central-directory record points to: entries a streaming extractor (one that
 * reads local headers in order) finds and a directory reader does not. Searched before the central
 * directory, outside every listed entry's own header and data (so a stored inner zip or chance bytes in
 * compressed data do not count), from the start when the file starts as a zip, else from its first listed
 * entry. `dataEnds` (local offset → end of the data actually read) narrows a listed entry to the bytes
 * its deflate stream used. Sizes come from the local header (0 when a data descriptor follows).
 */
export function unlistedLocalEntries(buf: Buffer, dir: ZipDirectory, max = 64, dataEnds?: ReadonlyMap<number, number>): ZipDirEntry[] {
  const covered: Array<[number, number]> = [];
  for (const e of dir.entries) {
    const lo = e.localOffset;
    const start = localDataStart(buf, lo);
    if (start === undefined) continue;
    // where the entry's data really ends when it was inflated; otherwise the smaller of the local and the
    // central compressed size (a size stretched in one of them covers nothing the other does not claim)
    const localSize = buf.readUInt32LE(lo + 18);
    const claimed = localSize > 0 && localSize !== 0xffffffff ? Math.min(localSize, e.compressedSize) : e.compressedSize;
    covered.push([lo, dataEnds?.get(lo) ?? start + claimed]);
  }
  covered.sort((a, b) => a[0] - b[0]);
  const merged: Array<[number, number]> = [];
  for (const r of covered) {
    const last = merged[merged.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  // a file that is not a zip from its first byte (a document or image with a zip inside or appended)
  // is searched from the first listed entry on: its own bytes may hold other, unrelated zips
  const from = buf.length >= 4 && buf.readUInt32LE(0) === 0x04034b50 ? 0 : merged.length ? merged[0]![0] : dir.centralStart;
  const out: ZipDirEntry[] = [];
  let k = 0;
  for (let p = buf.indexOf(LOCAL_SIG_BYTES, from); p >= 0 && p + 30 <= dir.centralStart && out.length < max; p = buf.indexOf(LOCAL_SIG_BYTES, p + 1)) {
    while (k < merged.length && merged[k]![1] <= p) k++;
    if (k < merged.length && merged[k]![0] <= p) {
      p = merged[k]![1] - 1; // inside a listed entry: go on after it
      continue;
    }
    // a plausible header only (the signature bytes also occur in code, e.g. a self-extractor's stub)
    const nameLen = buf.readUInt16LE(p + 26);
    if (nameLen === 0 || nameLen > 1024 || p + 30 + nameLen > dir.centralStart) continue;
    // (no "version needed" check: streaming extractors ignore it)
    if (!PLAUSIBLE_METHODS.has(buf.readUInt16LE(p + 8))) continue;
    const flags = buf.readUInt16LE(p + 6);
    const raw = buf.subarray(p + 30, p + 30 + nameLen);
    const name = (flags & 0x800) !== 0 ? raw.toString('utf8') : decodeCp437ish(raw);
    const size = buf.readUInt32LE(p + 22);
    out.push({
      name, nameLatin1: raw.toString('latin1'), flags, method: buf.readUInt16LE(p + 8),
      compressedSize: buf.readUInt32LE(p + 18), size, localOffset: p, encrypted: (flags & 1) !== 0,
      ...((flags & 8) === 0 ? { crc: buf.readUInt32LE(p + 14) } : {}),
      directory: (name.endsWith('/') || name.endsWith('\\')) && size === 0,
    });
  }
  // Sizes a streaming writer put in a data descriptor after the data (flag bit 3, zeros in the local
  // header): found by the descriptor's own signature and a compressed size that matches its position,
  // searched only up to the next hidden entry (so the whole search reads the file at most once).
  out.forEach((e, i) => {
    if ((e.flags & 8) === 0 || e.compressedSize !== 0 || e.directory) return;
    const start = localDataStart(buf, e.localOffset);
    if (start === undefined) return;
    const limit = Math.min(out[i + 1]?.localOffset ?? dir.centralStart, dir.centralStart);
    const found = descriptorAfter(buf, start, limit);
    if (!found) return;
    e.compressedSize = found.compressedSize;
    e.size = found.size;
    e.crc = found.crc;
  });
  return out;
}

const DESCRIPTOR_SIG = Buffer.from([0x50, 0x4b, 0x07, 0x08]);

/** The first data descriptor in buf[start, limit) whose compressed size is the distance from `start`. */
function descriptorAfter(buf: Buffer, start: number, limit: number): { crc: number; compressedSize: number; size: number } | undefined {
  const region = buf.subarray(start, limit); // indexOf must not run on past the limit
  for (let d = region.indexOf(DESCRIPTOR_SIG); d >= 0 && d + 16 <= region.length; d = region.indexOf(DESCRIPTOR_SIG, d + 1)) {
    if (region.readUInt32LE(d + 8) === d) return { crc: region.readUInt32LE(d + 4), compressedSize: d, size: region.readUInt32LE(d + 12) };
  }
  return undefined;
}
