// BinHex 4.0 (.hqx, "mac-binhex40") decoder: finds the ":"-framed 6-bit text, undoes the 0x90
// run-length encoding and reads the header (file name, type, creator, fork lengths) and the data and
// resource forks, so the data fork can be type-checked and scanned like any attachment.
// Written from the published format description. Bounded output; never throws on bad input.
import { decodeCharset, decodeUtf8OrLatin1 } from './decode.js';

/** The line BinHex writers put before the data. */
export const BINHEX_MARKER = '(This file must be converted with BinHex';

const ALPHABET = '!"#$%&\'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr';
const VALUE = new Int16Array(256).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUE[ALPHABET.charCodeAt(i)] = i;

export interface BinHexFile {
  /** File name from the BinHex header read as Mac Roman (the format's charset). */
  name: string;
  /** The same name bytes read as UTF-8 / windows-1252 (what many writers actually put there). */
  altName: string;
  /** Four-character Mac file type and creator ("APPL", "TEXT"...). */
  fileType: string;
  creator: string;
  data: Buffer;
  resource: Buffer;
  /** True when the header CRC and the data fork CRC match. */
  crcOk: boolean;
  /** True when the stream ended before the forks were complete, or output hit `maxBytes`. */
  truncated: boolean;
  /** True when the run-length expansion reached `maxBytes` (a bound, not damage). */
  capped: boolean;
  /** Bytes the run-length expansion produced (header, forks and CRCs). */
  expandedBytes: number;
}

/** CRC-16/CCITT (polynomial 0x1021, initial 0), as BinHex computes it. */
export function binhexCrc(b: Uint8Array, start = 0, end = b.length): number {
  let crc = 0;
  for (let i = start; i < end; i++) {
    crc ^= b[i]! << 8;
    for (let k = 0; k < 8; k++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** Decodes the 6-bit text from `from` (just after the opening ":") to the closing ":"; null on a bad character. */
function sixBit(src: Buffer, from: number, end: number): { bytes: Buffer; closed: boolean } | null {
  const out = Buffer.allocUnsafe(Math.floor(((end - from) * 3) / 4) + 3);
  let o = 0;
  let acc = 0;
  let bits = 0;
  for (let i = from; i < end; i++) {
    const c = src[i]!;
    if (c === 58) return { bytes: out.subarray(0, o), closed: true }; // ':'
    if (c === 10 || c === 13 || c === 32 || c === 9) continue;
    const v = VALUE[c]!;
    if (v < 0) return null;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 255;
    }
  }
  return { bytes: out.subarray(0, o), closed: false };
}

/** Undoes the run-length encoding (X 0x90 n = n times X; 0x90 0x00 = a literal 0x90), at most `max` bytes. */
function unRle(src: Buffer, max: number): { data: Buffer; capped: boolean } {
  const chunks: Buffer[] = [];
  let cur = Buffer.allocUnsafe(Math.min(max, Math.max(64, src.length * 2)));
  let o = 0;
  let total = 0;
  let last = -1;
  let capped = false;
  const put = (b: number): boolean => {
    if (total >= max) {
      capped = true;
      return false;
    }
    if (o === cur.length) {
      chunks.push(cur);
      cur = Buffer.allocUnsafe(Math.min(max - total, cur.length * 2));
      o = 0;
    }
    cur[o++] = b;
    total++;
    return true;
  };
  for (let i = 0; i < src.length; i++) {
    const b = src[i]!;
    if (b !== 0x90) {
      if (!put(b)) break;
      last = b;
      continue;
    }
    const n = src[++i];
    if (n === undefined) break;
    if (n === 0) {
      if (!put(0x90)) break;
      last = 0x90;
      continue;
    }
    if (last < 0) continue; // a run with nothing before it: nothing to repeat
    let ok = true;
    for (let k = 1; k < n && ok; k++) ok = put(last);
    if (!ok) break;
  }
  chunks.push(cur.subarray(0, o));
  return { data: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), capped };
}

/**
 * Decodes the BinHex 4.0 stream that begins at or after `start` in `src` (the marker line is optional:
 * the data starts at the first line beginning with ":"). Null when there is no well-formed header.
 */
export function decodeBinHex(src: Buffer, start = 0, end = src.length, maxBytes = 64 * 1024 * 1024): BinHexFile | null {
  let colon = -1;
  for (let p = start; p < end; ) {
    while (p < end && (src[p] === 32 || src[p] === 9)) p++;
    if (src[p] === 58) {
      colon = p;
      break;
    }
    const nl = src.indexOf(10, p);
    if (nl < 0 || nl >= end) break;
    p = nl + 1;
  }
  if (colon < 0) return null;
  const six = sixBit(src, colon + 1, end);
  if (!six) return null;
  const { data: d, capped } = unRle(six.bytes, maxBytes);
  const n = d[0];
  if (n === undefined || n > 63 || d.length < n + 22) return null;
  const h = n + 1;
  const name = decodeCharset(d.subarray(1, h), 'macintosh');
  const altName = decodeUtf8OrLatin1(d.subarray(1, h));
  const fileType = d.toString('latin1', h + 1, h + 5);
  const creator = d.toString('latin1', h + 5, h + 9);
  const dataLen = d.readUInt32BE(h + 11);
  const rsrcLen = d.readUInt32BE(h + 15);
  const headerCrc = d.readUInt16BE(h + 19);
  const dataStart = h + 21;
  const data = d.subarray(dataStart, Math.min(d.length, dataStart + dataLen));
  const rsrcStart = dataStart + dataLen + 2;
  const resource = rsrcStart < d.length ? d.subarray(rsrcStart, Math.min(d.length, rsrcStart + rsrcLen)) : Buffer.alloc(0);
  const dataCrcAt = dataStart + dataLen;
  const crcOk = binhexCrc(d, 0, h + 19) === headerCrc
    && dataCrcAt + 2 <= d.length && binhexCrc(d, dataStart, dataCrcAt) === d.readUInt16BE(dataCrcAt);
  const truncated = capped || data.length < dataLen || resource.length < rsrcLen || !six.closed;
  return { name, altName, fileType, creator, data, resource, crcOk, truncated, capped, expandedBytes: d.length };
}
