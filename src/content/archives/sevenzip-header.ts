// Reads how large a 7z archive's header becomes once unpacked, WITHOUT unpacking it: 7z usually
// stores its header (entry names, sizes) LZMA-compressed, and a tiny packed header can declare
// millions of entries. The caller refuses archives whose header would unpack past a limit before
// handing them to 7-Zip; and whether that header is encrypted. Bounded parse of a few hundred bytes;
// never throws.

const SIG = [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c];

class Reader {
  constructor(
    private readonly b: Buffer,
    public p: number,
    private readonly end: number,
  ) {}
  byte(): number {
    if (this.p >= this.end) throw new Error('eof');
    return this.b[this.p++]!;
  }
  /** 7z variable-length NUMBER: leading one bits of the first byte count the extra bytes. */
  num(): number {
    const first = this.byte();
    let mask = 0x80;
    let value = 0;
    for (let i = 0; i < 8; i++) {
      if ((first & mask) === 0) {
        const high = first & (mask - 1);
        return value + high * 2 ** (8 * i);
      }
      value += this.byte() * 2 ** (8 * i);
      mask >>= 1;
    }
    return value;
  }
  skip(n: number): void {
    if (n < 0 || this.p + n > this.end) throw new Error('eof');
    this.p += n;
  }
}

/** Where the (next) header lies, per the start header; at most its first 64 KiB. */
function headerRange(buf: Buffer): { start: number; end: number } | undefined {
  if (buf.length < 32 || SIG.some((v, i) => buf[i] !== v)) return undefined;
  const off = Number(buf.readBigUInt64LE(12));
  const size = Number(buf.readBigUInt64LE(20));
  const start = 32 + off;
  if (!Number.isSafeInteger(start) || start >= buf.length) return undefined;
  return { start, end: Math.min(buf.length, start + Math.min(size, 64 * 1024)) };
}

/** True when the header is packed with the 7zAES coder: entries cannot be listed without the password. */
export function sevenZipHeadersEncrypted(buf: Buffer): boolean {
  const range = headerRange(buf);
  if (!range || buf[range.start] !== 0x17) return false;
  return buf.subarray(range.start, range.end).includes(Buffer.from([0x06, 0xf1, 0x07, 0x01])); // 7zAES coder id
}

/**
 * For an archive whose header is packed (kEncodedHeader), the largest unpack size its coders
 * declare; 0 for a plain header (its size is its length in the file); undefined when unreadable.
 */
export function sevenZipPackedHeaderSize(buf: Buffer): number | undefined {
  try {
    const range = headerRange(buf);
    if (!range) return undefined;
    const r = new Reader(buf, range.start, range.end);
    const id = r.byte();
    if (id === 0x01) return 0;
    if (id !== 0x17) return undefined;
    let max = 0;
    for (let guard = 0; guard < 16; guard++) {
      const t = r.byte();
      if (t === 0x00) break;
      if (t === 0x06) {
        // PackInfo: packPos, numPackStreams, then properties up to kEnd
        r.num();
        const n = r.num();
        for (let g = 0; g < 8; g++) {
          const pt = r.byte();
          if (pt === 0x00) break;
          if (pt === 0x09) for (let i = 0; i < n && i < 64; i++) r.num();
          else return undefined;
        }
      } else if (t === 0x07) {
        // UnpackInfo: kFolder, folders, kCodersUnpackSize, sizes
        if (r.byte() !== 0x0b) return undefined;
        const folders = r.num();
        if (folders > 64 || r.byte() !== 0) return undefined;
        let outs = 0;
        for (let f = 0; f < folders; f++) {
          const coders = r.num();
          if (coders > 16) return undefined;
          let totalIn = 0;
          let totalOut = 0;
          for (let c = 0; c < coders; c++) {
            const flag = r.byte();
            r.skip(flag & 0x0f);
            let nin = 1;
            let nout = 1;
            if (flag & 0x10) {
              nin = r.num();
              nout = r.num();
            }
            if (flag & 0x20) r.skip(r.num());
            totalIn += nin;
            totalOut += nout;
          }
          if (totalIn > 64 || totalOut > 64) return undefined;
          for (let i = 0; i < totalOut - 1; i++) {
            r.num();
            r.num();
          }
          const packed = totalIn - (totalOut - 1);
          if (packed > 1) for (let i = 0; i < packed; i++) r.num();
          outs += totalOut;
        }
        if (r.byte() !== 0x0c) return undefined;
        for (let i = 0; i < outs; i++) max = Math.max(max, r.num());
        return max;
      } else return undefined;
    }
    return max;
  } catch {
    return undefined;
  }
}
