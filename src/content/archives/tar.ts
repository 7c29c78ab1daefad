// Walks a tar archive's headers (v7, ustar, GNU, pax) WITHOUT copying data: every member that
// carries data, whatever its typeflag (regular '0'/'\0', contiguous '7', links or devices with a
// size, vendor letters), with GNU long names ('L') and pax 'path'/'size' records applied, every name
// an extractor may use kept as a candidate (pax global 'path', GNU.sparse.name), and GNU sparse
// members' layout read (tar-sparse.ts) so the caller can rebuild the real file. Metadata
// members (pax 'x'/'g', GNU 'L'/'K') are consumed, never returned. A header whose checksum or size
// field is broken stops the walk with an error (the caller reports it). Bounded: one pass over the
// buffer, metadata records read up to 1 MiB. Never throws.

import { isSparse, sparseLayout, sparseName, type SparseLayout } from './tar-sparse.js';

export interface TarEntry {
  /** The name GNU tar extracts the member under. */
  name: string;
  /** Every name some extractor may use (name first): header, GNU long name, pax path, global path, sparse name. */
  names: string[];
  /** GNU sparse member: its layout, or why it cannot be read. */
  sparse?: SparseLayout | { error: string };
  /** Typeflag character as stored ('\0' for old regular files). */
  type: string;
  /** Member data: [dataStart, dataStart + size) in the buffer (may run past its end: truncated). */
  dataStart: number;
  size: number;
  directory: boolean;
}

export interface TarListing {
  entries: TarEntry[];
  /** Set when a header is corrupt or data runs past the end (entries read so far are kept). */
  error?: string;
  truncated: boolean;
}

const BLOCK = 512;
const META_MAX = 1024 * 1024;

/** Octal (NUL/space terminated) or GNU base-256 number; NaN when unreadable or negative. */
function tarNumber(b: Buffer): number {
  if (b.length > 0 && (b[0]! & 0x80) !== 0) {
    if (b[0] === 0xff) return NaN; // negative base-256
    let n = b[0]! & 0x7f;
    for (let i = 1; i < b.length; i++) n = n * 256 + b[i]!;
    return Number.isSafeInteger(n) ? n : NaN;
  }
  const s = b.toString('latin1').replace(/^[ \0]+/, '').replace(/[\0 ].*$/s, '');
  if (s === '') return 0;
  return /^[0-7]+$/.test(s) ? parseInt(s, 8) : NaN;
}

/** Header checksum matches (unsigned sum, or the signed sum some old tars wrote). */
function tarChecksumOk(h: Buffer): boolean {
  const want = tarNumber(h.subarray(148, 156));
  if (!Number.isFinite(want)) return false;
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : h[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return want === unsigned || want === signed;
}

const isZeroBlock = (h: Buffer): boolean => {
  for (let i = 0; i < h.length; i++) if (h[i] !== 0) return false;
  return true;
};

const cstr = (b: Buffer): string => {
  const z = b.indexOf(0);
  return (z >= 0 ? b.subarray(0, z) : b).toString('utf8');
};

/** pax extended header records ("LEN key=value\n") in order, repeated keys kept (GNU sparse 0.0 repeats them). */
function parsePaxRecords(data: Buffer): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let p = 0;
  for (let guard = 0; p < data.length && guard < 10_000; guard++) {
    const sp = data.indexOf(0x20, p);
    if (sp < 0 || sp - p > 12) break;
    const len = Number(data.subarray(p, sp).toString('latin1'));
    if (!Number.isSafeInteger(len) || len <= sp - p + 1 || p + len > data.length) break;
    const rec = data.subarray(sp + 1, p + len - 1).toString('utf8');
    const eq = rec.indexOf('=');
    if (eq > 0) out.push([rec.slice(0, eq), rec.slice(eq + 1)]);
    p += len;
  }
  return out;
}

export function listTar(buf: Buffer, maxEntries: number): TarListing {
  const out: TarListing = { entries: [], truncated: false };
  let p = 0;
  let longName: string | undefined;
  let paxPath: string | undefined;
  let paxSize: number | undefined;
  let globalPath: string | undefined;
  let paxRecs: Array<[string, string]> = [];
  while (p + BLOCK <= buf.length) {
    const h = buf.subarray(p, p + BLOCK);
    if (isZeroBlock(h)) {
      // End of archive — unless a valid header follows the zero blocks (GNU tar --ignore-zeros
      // reads on, so a member hidden there is still a member).
      let q = p + BLOCK;
      while (q + BLOCK <= buf.length && isZeroBlock(buf.subarray(q, q + BLOCK))) q += BLOCK;
      if (q + BLOCK <= buf.length && tarChecksumOk(buf.subarray(q, q + BLOCK))) {
        p = q;
        continue;
      }
      break;
    }
    if (!tarChecksumOk(h)) {
      out.error = `corrupt tar header at offset ${p} (checksum)`;
      break;
    }
    let size = tarNumber(h.subarray(124, 136));
    if (!Number.isFinite(size) || size < 0) {
      out.error = `corrupt tar header at offset ${p} (size)`;
      break;
    }
    const type = String.fromCharCode(h[156]!);
    const meta = type === 'x' || type === 'g' || type === 'L' || type === 'K';
    if (!meta && paxSize !== undefined) size = paxSize;
    const dataStart = p + BLOCK;
    const dataEnd = dataStart + size;
    const next = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    if (meta) {
      if (dataEnd > buf.length) {
        out.error = `tar ${type} header at offset ${p} runs past the end`;
        break;
      }
      const data = buf.subarray(dataStart, Math.min(dataEnd, dataStart + META_MAX));
      if (type === 'L') longName = cstr(data);
      else if (type === 'x' || type === 'g') {
        const recs = parsePaxRecords(data);
        const pax = new Map(recs);
        const path = pax.get('path');
        const psize = pax.get('size');
        const n = psize !== undefined && /^\d{1,15}$/.test(psize) ? Number(psize) : undefined;
        if (type === 'x') {
          paxRecs = paxRecs.concat(recs);
          if (path !== undefined) paxPath = path;
          if (n !== undefined) paxSize = n;
        } else if (path !== undefined) globalPath = path;
      }
      p = next;
      continue;
    }
    let name = cstr(h.subarray(0, 100));
    if (h.subarray(257, 262).toString('latin1') === 'ustar') {
      const prefix = cstr(h.subarray(345, 500));
      if (prefix) name = `${prefix}/${name}`;
    }
    // GNU tar: pax 'x' path, then pax global path, then GNU long name, then the header. Other
    // extractors differ, so every one of them is a candidate name.
    const sparse = isSparse(paxRecs) ? sparseName(paxRecs) : undefined;
    const names = [sparse, paxPath, globalPath, longName, name].filter((n): n is string => !!n).filter((n, i, a) => a.indexOf(n) === i);
    name = names[0] ?? '';
    let sparseInfo: TarEntry['sparse'];
    if (isSparse(paxRecs)) {
      const layout = sparseLayout(paxRecs, buf, dataStart, size);
      sparseInfo = typeof layout === 'string' ? { error: layout } : layout;
    }
    longName = undefined;
    paxPath = undefined;
    paxSize = undefined;
    paxRecs = [];
    if (out.entries.length >= maxEntries) {
      out.truncated = true;
      break;
    }
    const directory = (type === '5' || name.endsWith('/')) && size === 0;
    const entry: TarEntry = { name, names, type, dataStart, size, directory };
    if (sparseInfo) entry.sparse = sparseInfo;
    out.entries.push(entry);
    if (dataEnd > buf.length) {
      out.error = `tar member at offset ${p} runs past the end`;
      break;
    }
    p = next;
  }
  return out;
}
