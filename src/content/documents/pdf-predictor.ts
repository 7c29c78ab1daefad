// Predictors of the Flate and LZW filters (/DecodeParms /Predictor): undoing the per-row differencing
// a writer applied before compressing, as pdf-text.ts needs for content streams and xref streams.
// TIFF predictor 2 subtracts the sample to the left; PNG predictors (10-15) prefix every row with a
// byte naming its filter (None, Sub, Up, Average, Paeth) applied to whole bytes. Never throws; a short
// last row is undone as far as it goes.

export interface PredictorParms {
  predictor: number;
  colors: number;
  bitsPerComponent: number;
  columns: number;
}

const clampInt = (v: number | undefined, lo: number, hi: number, dflt: number): number =>
  v === undefined || !Number.isFinite(v) ? dflt : Math.min(hi, Math.max(lo, Math.floor(v)));

/** The data with the predictor undone; the data itself for predictor 1 or an unknown one. */
export function unpredict(data: Buffer, p: Partial<PredictorParms>): Buffer {
  const predictor = clampInt(p.predictor, 0, 15, 1);
  if (predictor < 2) return data;
  const colors = clampInt(p.colors, 1, 32, 1);
  const bpc = [1, 2, 4, 8, 16].includes(p.bitsPerComponent ?? 8) ? (p.bitsPerComponent ?? 8) : 8;
  const columns = clampInt(p.columns, 1, 1 << 24, 1);
  const bpp = Math.max(1, Math.ceil((colors * bpc) / 8)); // bytes per pixel, at least 1
  const rowLen = Math.ceil((colors * bpc * columns) / 8);
  if (predictor === 2) return tiff(data, rowLen, bpp, bpc);
  if (predictor < 10) return data;
  return png(data, rowLen, bpp);
}

function tiff(data: Buffer, rowLen: number, bpp: number, bpc: number): Buffer {
  if (bpc !== 8) return data; // sub-byte and 16-bit TIFF differencing: not used for text streams
  const out = Buffer.from(data);
  for (let row = 0; row < out.length; row += rowLen) {
    const end = Math.min(out.length, row + rowLen);
    for (let i = row + bpp; i < end; i++) out[i] = (out[i]! + out[i - bpp]!) & 0xff;
  }
  return out;
}

function png(data: Buffer, rowLen: number, bpp: number): Buffer {
  const out = Buffer.alloc(data.length); // every row loses its filter byte: never longer than the input
  let o = 0;
  for (let i = 0; i < data.length; i += rowLen + 1) {
    const type = data[i]!;
    const n = Math.min(rowLen, data.length - i - 1);
    const prev = o - rowLen; // start of the row above (negative for the first row)
    for (let k = 0; k < n; k++) {
      const x = data[i + 1 + k]!;
      const left = k >= bpp ? out[o + k - bpp]! : 0;
      const up = prev >= 0 ? out[prev + k]! : 0;
      const upLeft = prev >= 0 && k >= bpp ? out[prev + k - bpp]! : 0;
      let v: number;
      switch (type) {
        case 1: v = x + left; break;
        case 2: v = x + up; break;
        case 3: v = x + ((left + up) >> 1); break;
        case 4: {
          const est = left + up - upLeft;
          const pa = Math.abs(est - left);
          const pb = Math.abs(est - up);
          const pc = Math.abs(est - upLeft);
          v = x + (pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft);
          break;
        }
        default: v = x;
      }
      out[o + k] = v & 0xff;
    }
    o += Math.max(0, n);
  }
  return out.subarray(0, o);
}
