// Lists RAR 4 and RAR 5 archives from their block headers WITHOUT decompressing (we have no RAR
// decoder): member names, sizes, per-file encryption, and whether the headers themselves are
// encrypted (then nothing can be listed). Bounded loops; never throws (returns an error string).

export interface RarEntry {
  name: string;
  size: number;
  packedSize: number;
  encrypted: boolean;
  directory: boolean;
}

export interface RarListing {
  version: 4 | 5;
  entries: RarEntry[];
  /** Block headers are encrypted (RAR -hp): names cannot be read. */
  headersEncrypted: boolean;
  truncated: boolean;
  error?: string;
}

const SIG4 = Buffer.from('Rar!\x1a\x07\x00', 'latin1');
const SIG5 = Buffer.from('Rar!\x1a\x07\x01\x00', 'latin1');

/**
 * Blocks walked per archive. Stopping there is an error, never a quiet end: filler blocks before
 * the file headers would otherwise hide every member (no names, no hit).
 */
const maxBlocks = (maxEntries: number): number => maxEntries * 4 + 16;
const TOO_MANY_BLOCKS = 'too many blocks (members past them not listed)';

function vint(buf: Buffer, pos: number): [number, number] {
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 10 && pos + i < buf.length; i++) {
    const b = buf[pos + i]!;
    v += (b & 0x7f) * mul;
    mul *= 128;
    if ((b & 0x80) === 0) return [v, pos + i + 1];
  }
  throw new Error('bad vint');
}

export function listRar(buf: Buffer, maxEntries: number): RarListing | undefined {
  if (buf.subarray(0, 8).equals(SIG5)) return listRar5(buf, maxEntries);
  if (buf.subarray(0, 7).equals(SIG4)) return listRar4(buf, maxEntries);
  return undefined;
}

function listRar5(buf: Buffer, maxEntries: number): RarListing {
  const out: RarListing = { version: 5, entries: [], headersEncrypted: false, truncated: false };
  let p = 8;
  try {
    for (let guard = 0; p + 7 <= buf.length; guard++) {
      if (guard >= maxBlocks(maxEntries)) {
        out.error = TOO_MANY_BLOCKS;
        break;
      }
      const [headerSize, afterSize] = vint(buf, p + 4);
      const start = afterSize;
      const end = start + headerSize;
      if (headerSize < 2 || end > buf.length) {
        out.error = 'block header runs past end of data';
        break;
      }
      let q = start;
      let type: number, flags: number;
      [type, q] = vint(buf, q);
      [flags, q] = vint(buf, q);
      let extraSize = 0;
      let dataSize = 0;
      if (flags & 1) [extraSize, q] = vint(buf, q);
      if (flags & 2) [dataSize, q] = vint(buf, q);
      if (type === 4) {
        out.headersEncrypted = true;
        break;
      }
      if (type === 5) break;
      if (type === 2) {
        if (out.entries.length >= maxEntries) {
          out.truncated = true;
          break;
        }
        let fileFlags: number, size: number, nameLen: number;
        [fileFlags, q] = vint(buf, q);
        [size, q] = vint(buf, q);
        [, q] = vint(buf, q); // attributes
        if (fileFlags & 2) q += 4; // mtime
        if (fileFlags & 4) q += 4; // data CRC32
        [, q] = vint(buf, q); // compression info
        [, q] = vint(buf, q); // host OS
        [nameLen, q] = vint(buf, q);
        const name = buf.subarray(q, Math.min(q + nameLen, end)).toString('utf8');
        // Extra area: records of (size, type, ...); type 1 = file encryption.
        let encrypted = false;
        let e = end - extraSize;
        while (extraSize > 0 && e < end) {
          const [recSize, r1] = vint(buf, e);
          const [recType] = vint(buf, r1);
          if (recType === 1) encrypted = true;
          if (recSize <= 0) break;
          e = r1 + recSize;
        }
        out.entries.push({ name, size, packedSize: dataSize, encrypted, directory: (fileFlags & 1) !== 0 });
      }
      p = end + dataSize;
    }
  } catch (err) {
    out.error = (err as Error).message;
  }
  return out;
}

function listRar4(buf: Buffer, maxEntries: number): RarListing {
  const out: RarListing = { version: 4, entries: [], headersEncrypted: false, truncated: false };
  try {
    walkRar4(buf, maxEntries, out);
  } catch (err) {
    out.error = (err as Error).message; // a read past the end the checks below did not foresee
  }
  return out;
}

function walkRar4(buf: Buffer, maxEntries: number, out: RarListing): void {
  let p = 7;
  for (let guard = 0; p + 7 <= buf.length; guard++) {
    if (guard >= maxBlocks(maxEntries)) {
      out.error = TOO_MANY_BLOCKS;
      break;
    }
    const type = buf[p + 2]!;
    const flags = buf.readUInt16LE(p + 3);
    const headSize = buf.readUInt16LE(p + 5);
    if (headSize < 7 || p + headSize > buf.length) {
      out.error = 'block header runs past end of data';
      break;
    }
    let addSize = 0;
    if ((flags & 0x8000) !== 0 && p + 11 <= buf.length) addSize = buf.readUInt32LE(p + 7);
    if (type === 0x73 && (flags & 0x0080) !== 0) {
      out.headersEncrypted = true;
      break;
    }
    if (type === 0x7b) break; // end of archive
    if (type === 0x74) {
      if (out.entries.length >= maxEntries) {
        out.truncated = true;
        break;
      }
      if (headSize < 32) {
        out.error = 'short file header';
        break;
      }
      let packed = buf.readUInt32LE(p + 7);
      let size = buf.readUInt32LE(p + 11);
      const nameSize = buf.readUInt16LE(p + 26);
      let nameAt = p + 32;
      if (flags & 0x100) {
        // large file: high 32 bits of packed and unpacked sizes precede the name
        if (headSize < 40) {
          out.error = 'short file header';
          break;
        }
        packed += buf.readUInt32LE(p + 32) * 0x100000000;
        size += buf.readUInt32LE(p + 36) * 0x100000000;
        nameAt += 8;
        addSize = packed; // the data to skip is the whole packed size
      }
      let raw = buf.subarray(nameAt, Math.min(nameAt + nameSize, p + headSize));
      const nul = raw.indexOf(0);
      if (nul >= 0) raw = raw.subarray(0, nul); // unicode form follows the NUL; the plain form is enough
      const name = (flags & 0x200) !== 0 ? raw.toString('utf8') : raw.toString('latin1');
      out.entries.push({ name, size, packedSize: packed, encrypted: (flags & 0x04) !== 0, directory: (flags & 0xe0) === 0xe0 });
    }
    p += headSize + addSize;
  }
}
