// GNU sparse members of tar archives (pax forms 0.0, 0.1 and 1.0): reads the sparse map from the pax
// records (0.x) or from the start of the member's data (1.0: decimal lines, padded to 512 bytes),
// and rebuilds the real file (holes as zeros) so its true type is what `tar x` writes. Without this
// the 1.0 map hides the file's first bytes (an MZ header reads as text). Bounded: the map has at
// most MAX_CHUNKS entries and 1 MiB of text, the rebuilt file is capped by the caller. Never throws.

export interface SparseLayout {
  /** Size of the real (rebuilt) file. */
  realSize: number;
  /** Data chunks, in archive order: `length` bytes stored one after another, placed at `offset`. */
  chunks: Array<{ offset: number; length: number }>;
  /** Bytes of member data before the first chunk (the 1.0 map and its padding). */
  skip: number;
}

const MAX_CHUNKS = 100_000;
const MAP_MAX = 1024 * 1024;
const BLOCK = 512;

const num = (v: string | undefined): number | undefined => (v !== undefined && /^\d{1,15}$/.test(v.trim()) ? Number(v.trim()) : undefined);

/** True when the member's pax records describe a GNU sparse file (any version). */
export function isSparse(recs: ReadonlyArray<[string, string]>): boolean {
  return recs.some(([k]) => k.startsWith('GNU.sparse.'));
}

/** The name GNU tar gives the rebuilt file (GNU.sparse.name), if any. */
export function sparseName(recs: ReadonlyArray<[string, string]>): string | undefined {
  let name: string | undefined;
  for (const [k, v] of recs) if (k === 'GNU.sparse.name') name = v;
  return name;
}

/**
 * Layout of a sparse member whose stored data is [dataStart, dataStart + size) in buf, or an error
 * string when the map is unreadable or inconsistent.
 */
export function sparseLayout(recs: ReadonlyArray<[string, string]>, buf: Buffer, dataStart: number, size: number): SparseLayout | string {
  const last = (key: string): string | undefined => {
    let v: string | undefined;
    for (const [k, val] of recs) if (k === key) v = val;
    return v;
  };
  const major = num(last('GNU.sparse.major'));
  const realSize = num(last('GNU.sparse.realsize')) ?? num(last('GNU.sparse.size'));
  if (realSize === undefined) return 'GNU sparse member without a real size';
  let numbers: number[] = [];
  let skip = 0;
  if (major === 1) {
    // 1.0: "COUNT\n" then COUNT pairs "OFFSET\nLENGTH\n" at the start of the data, padded to a block.
    const end = Math.min(dataStart + size, dataStart + MAP_MAX, buf.length);
    let p = dataStart;
    const readLine = (): number | undefined => {
      const nl = buf.indexOf(0x0a, p);
      if (nl < 0 || nl >= end || nl - p > 20) return undefined;
      const v = num(buf.toString('latin1', p, nl));
      p = nl + 1;
      return v;
    };
    const count = readLine();
    if (count === undefined || count > MAX_CHUNKS) return 'unreadable GNU sparse 1.0 map';
    for (let i = 0; i < count * 2; i++) {
      const v = readLine();
      if (v === undefined) return 'unreadable GNU sparse 1.0 map';
      numbers.push(v);
    }
    skip = Math.ceil((p - dataStart) / BLOCK) * BLOCK;
  } else {
    const map = last('GNU.sparse.map');
    if (map !== undefined) {
      // 0.1: "OFFSET,LENGTH,OFFSET,LENGTH..."
      const items = map.split(',');
      if (items.length / 2 > MAX_CHUNKS || items.length % 2 !== 0) return 'unreadable GNU sparse 0.1 map';
      numbers = items.map((x) => num(x) ?? NaN);
    } else {
      // 0.0: repeated GNU.sparse.offset / GNU.sparse.numbytes records, in order.
      for (const [k, v] of recs) {
        if (k !== 'GNU.sparse.offset' && k !== 'GNU.sparse.numbytes') continue;
        if ((k === 'GNU.sparse.offset') !== (numbers.length % 2 === 0) || numbers.length / 2 >= MAX_CHUNKS) return 'unreadable GNU sparse 0.0 map';
        numbers.push(num(v) ?? NaN);
      }
      if (numbers.length % 2 !== 0) return 'unreadable GNU sparse 0.0 map';
    }
  }
  if (numbers.some((n) => !Number.isFinite(n))) return 'unreadable GNU sparse map';
  const chunks: SparseLayout['chunks'] = [];
  let stored = skip;
  for (let i = 0; i < numbers.length; i += 2) {
    const offset = numbers[i]!;
    const length = numbers[i + 1]!;
    if (offset + length > realSize) return `GNU sparse chunk at ${offset} runs past the real size ${realSize}`;
    chunks.push({ offset, length });
    stored += length;
  }
  if (stored > size) return `GNU sparse map needs ${stored} bytes, member holds ${size}`;
  return { realSize, chunks, skip };
}

/** The rebuilt file (caller checks realSize against its caps first). */
export function assembleSparse(buf: Buffer, dataStart: number, layout: SparseLayout): Buffer {
  const out = Buffer.alloc(layout.realSize);
  let p = dataStart + layout.skip;
  for (const c of layout.chunks) {
    buf.copy(out, c.offset, p, Math.min(p + c.length, buf.length));
    p += c.length;
  }
  return out;
}
