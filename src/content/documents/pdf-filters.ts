// Stream filters of the PDF reader (pdf-text.ts): Flate (with the fallbacks a broken stream needs),
// LZW, ASCIIHex, ASCII85 and RunLength, each producing at most `cap` bytes and returning what it could
// decode with an error when it could not finish; predictors are undone by pdf-predictor.ts. Never throws.
import zlib from 'node:zlib';
import { CLASS, HEX, type Value, type Dict } from './pdf-lexer.js';
import { unpredict } from './pdf-predictor.js';

/** The error of a stream whose data ends before its compressed stream does (all of it was decoded). */
export const CUT_SHORT = 'compressed data cut short';

export interface Decoded {
  out: Buffer;
  err?: string;
  /** The output would pass the inflated-bytes budget. */
  over?: boolean;
}

const SYNC = zlib.constants.Z_SYNC_FLUSH;

/** Inflate `data` whole (finish) or as far as it goes (sync flush: a stream cut short gives what it holds). */
function inflateOnce(data: Buffer, raw: boolean, cap: number, partial: boolean): Buffer {
  const opts: zlib.ZlibOptions = { maxOutputLength: Math.max(1, Math.min(cap, 0x7fffffff)) };
  if (partial) opts.finishFlush = SYNC;
  return raw ? zlib.inflateRawSync(data, opts) : zlib.inflateSync(data, opts);
}

const tooLarge = (e: unknown): boolean => (e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError;
const cutShort = (e: unknown): boolean => (e as { code?: string }).code === 'Z_BUF_ERROR';

/**
 * Inflate with at most `cap` bytes out. A zlib header that is not one is read as raw deflate; a stream
 * cut short yields what it holds; a stream broken part-way yields what inflates before the break (the
 * longest prefix that inflates, found by halving). Both come with an error.
 */
export function inflate(data: Buffer, cap: number): Decoded {
  let d = data;
  let k = 0;
  while (k < d.length && k < 4 && CLASS[d[k]!] === 1) k++; // stray EOL bytes before the header
  d = d.subarray(k);
  const zlibHeader = d.length >= 2 && (d[0]! & 0x0f) === 8 && ((d[0]! << 8) | d[1]!) % 31 === 0;
  const tries: Array<[Buffer, boolean]> = zlibHeader ? [[d, false], [d.subarray(2), true]] : [[d, true], [d, false]];
  let firstErr = '';
  for (const [input, raw] of tries) {
    // the second reading only stands in for a bad header: after a data error in the first, its output is suspect
    const suspect = firstErr !== '' && !/header|compression method|window size/i.test(firstErr);
    try {
      const out = inflateOnce(input, raw, cap, false);
      return suspect ? { out, err: `invalid deflate data (${firstErr})` } : { out };
    } catch (e) {
      if (tooLarge(e)) return { out: Buffer.alloc(0), over: true };
      if (cutShort(e)) {
        try {
          return { out: inflateOnce(input, raw, cap, true), err: suspect ? `invalid deflate data (${firstErr})` : CUT_SHORT };
        } catch (e2) {
          if (tooLarge(e2)) return { out: Buffer.alloc(0), over: true };
        }
      }
      firstErr ||= (e as Error).message;
    }
  }
  // broken part-way: the longest prefix that inflates, by halving (fewer tries on a large stream, so
  // that a large broken stream costs at most ~10 inflations of itself)
  const [input, raw] = tries[0]!;
  let lo = 0;
  let hi = input.length;
  let best: Buffer = Buffer.alloc(0);
  const maxTries = input.length <= 1 << 18 ? 24 : 10;
  for (let n = 0; n < maxTries && hi - lo > 1; n++) {
    const mid = (lo + hi) >>> 1;
    try {
      best = inflateOnce(input.subarray(0, mid), raw, cap, true);
      lo = mid;
    } catch (e) {
      if (tooLarge(e)) return { out: best, over: true };
      hi = mid;
    }
  }
  return { out: best, err: `invalid deflate data (${firstErr})` };
}

/** Output buffer that grows to at most `cap` bytes. */
class Sink {
  buf: Buffer;
  n = 0;
  over = false;
  constructor(
    hint: number,
    readonly cap: number,
  ) {
    this.buf = Buffer.allocUnsafe(Math.max(16, Math.min(hint, cap)));
  }
  /** Room for `k` more bytes; false (and `over`) when the cap forbids it. */
  room(k: number): boolean {
    const need = this.n + k;
    if (need > this.cap) {
      this.over = true;
      return false;
    }
    if (need > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.min(this.cap, Math.max(need, this.buf.length * 2)));
      this.buf.copy(next, 0, 0, this.n);
      this.buf = next;
    }
    return true;
  }
  push(c: number): boolean {
    if (!this.room(1)) return false;
    this.buf[this.n++] = c;
    return true;
  }
  done(err?: string): Decoded {
    const r: Decoded = { out: this.buf.subarray(0, this.n) };
    if (this.over) r.over = true;
    if (err) r.err = err;
    return r;
  }
}

export function asciiHex(data: Buffer, cap: number): Decoded {
  const s = new Sink(data.length >> 1, cap);
  let hi = -1;
  for (let i = 0; i < data.length; i++) {
    const c = data[i]!;
    if (c === 0x3e) break;
    const v = HEX[c]!;
    if (v < 0) {
      if (CLASS[c] === 1) continue;
      return s.done('invalid ASCIIHex character');
    }
    if (hi < 0) hi = v;
    else {
      if (!s.push((hi << 4) | v)) return s.done();
      hi = -1;
    }
  }
  if (hi >= 0) s.push(hi << 4);
  return s.done();
}

export function ascii85(data: Buffer, cap: number): Decoded {
  const s = new Sink(data.length, cap);
  let i = 0;
  while (i < data.length && CLASS[data[i]!] === 1) i++;
  if (data[i] === 0x3c && data[i + 1] === 0x7e) i += 2; // <~
  let group = 0;
  let n = 0;
  const emit = (v: number, bytes: number): boolean => {
    for (let k = 0; k < bytes; k++) if (!s.push(Math.floor(v / 2 ** (24 - 8 * k)) & 0xff)) return false;
    return true;
  };
  let err: string | undefined;
  for (; i < data.length; i++) {
    const c = data[i]!;
    if (CLASS[c] === 1) continue;
    if (c === 0x7e) break; // ~>
    if (c === 0x7a && n === 0) {
      if (!emit(0, 4)) return s.done();
      continue;
    }
    if (c < 33 || c > 117) {
      err = 'invalid ASCII85 character';
      break;
    }
    group = group * 85 + (c - 33);
    if (++n === 5) {
      if (!emit(group % 2 ** 32, 4)) return s.done();
      group = 0;
      n = 0;
    }
  }
  if (n > 1) {
    for (let k = n; k < 5; k++) group = group * 85 + 84;
    emit(group % 2 ** 32, n - 1);
  }
  return s.done(err);
}

export function lzw(data: Buffer, cap: number, early: number): Decoded {
  const s = new Sink(data.length * 3, cap);
  const prefix = new Int16Array(4096);
  const last = new Uint8Array(4096);
  const first = new Uint8Array(4096);
  const len = new Uint16Array(4096);
  for (let i = 0; i < 256; i++) {
    prefix[i] = -1;
    last[i] = i;
    first[i] = i;
    len[i] = 1;
  }
  let next = 258;
  let width = 9;
  let prev = -1;
  let bits = 0;
  let nbits = 0;
  for (let i = 0; i < data.length; i++) {
    bits = ((bits << 8) | data[i]!) & 0xffffff;
    nbits += 8;
    while (nbits >= width) {
      const code = (bits >>> (nbits - width)) & ((1 << width) - 1);
      nbits -= width;
      if (code === 256) {
        next = 258;
        width = 9;
        prev = -1;
        continue;
      }
      if (code === 257) return s.done();
      let L: number;
      if (code < 256 || (code >= 258 && code < next)) L = len[code]!;
      else if (code === next && prev >= 0) L = len[prev]! + 1;
      else return s.done('invalid LZW code');
      if (!s.room(L)) return s.done();
      const o = s.n;
      const buf = s.buf;
      if (code < next) {
        let c = code;
        for (let k = L - 1; k >= 0; k--) {
          buf[o + k] = last[c]!;
          c = prefix[c]!;
        }
      } else {
        let c = prev;
        for (let k = L - 2; k >= 0; k--) {
          buf[o + k] = last[c]!;
          c = prefix[c]!;
        }
        buf[o + L - 1] = first[prev]!;
      }
      s.n += L;
      if (prev >= 0 && next < 4096) {
        prefix[next] = prev;
        last[next] = buf[o]!;
        first[next] = first[prev]!;
        len[next] = len[prev]! + 1;
        next++;
      }
      prev = code;
      if (next + early >= 1 << width && width < 12) width++;
    }
  }
  return s.done();
}

export function runLength(data: Buffer, cap: number): Decoded {
  const s = new Sink(data.length * 2, cap);
  for (let i = 0; i < data.length; ) {
    const n = data[i++]!;
    if (n === 128) break;
    if (n < 128) {
      const k = Math.min(n + 1, data.length - i);
      if (!s.room(k)) return s.done();
      data.copy(s.buf, s.n, i, i + k);
      s.n += k;
      i += k;
    } else {
      if (i >= data.length) break;
      const k = 257 - n;
      if (!s.room(k)) return s.done();
      s.buf.fill(data[i]!, s.n, s.n + k);
      s.n += k;
      i++;
    }
  }
  return s.done();
}

/** A Flate or LZW output with its /DecodeParms predictor undone. */
export function predicted(r: Decoded, parms: Dict | undefined, doc: { num(v: Value | undefined): number | undefined }): Decoded {
  const predictor = doc.num(parms?.get('Predictor')) ?? 1;
  if (!parms || predictor < 2) return r;
  const out = unpredict(r.out, {
    predictor,
    colors: doc.num(parms.get('Colors')) ?? 1,
    bitsPerComponent: doc.num(parms.get('BitsPerComponent')) ?? 8,
    columns: doc.num(parms.get('Columns')) ?? 1,
  });
  return { ...r, out };
}

export const FILTER_ALIASES: Record<string, string> = {
  Fl: 'FlateDecode', AHx: 'ASCIIHexDecode', A85: 'ASCII85Decode', LZW: 'LZWDecode', RL: 'RunLengthDecode',
  DCT: 'DCTDecode', CCF: 'CCITTFaxDecode',
};
export const IMAGE_FILTERS = new Set(['DCTDecode', 'JPXDecode', 'CCITTFaxDecode', 'JBIG2Decode']);
