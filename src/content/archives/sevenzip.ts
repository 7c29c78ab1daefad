// Runs 7-Zip (7z-wasm, in memory, synchronously) to list and extract the archive formats we do not
// read ourselves: 7z, xz, bzip2, zstd, cab, RAR 4/5, ARJ, LZH, disk images (ISO, UDF, VHD, VHDX, DMG)
// and the partition tables and file systems inside them (MBR, GPT, FAT, NTFS). Mechanics only — no
// policy: the caller applies the guards to the listing BEFORE extraction, and every byte 7-Zip writes
// passes through a counting hook that, past the per-file or total cap, fails the write (EFBIG: the
// stream decoders xz, bzip2, zstd, which run to the stream's end, and any entry without a declared
// size) or drops it (every other format, whose decoders stop at the declared sizes already guarded:
// some of them throw an uncatchable C++ exception on a failed write), so a bomb never fills memory,
// and CPU stays bounded by the cap or the guarded declared sizes. Always opened with an explicit
// type (-t), one level at a time: 7-Zip's own signature search and nesting are never used. Never
// prompts (stdin is EOF, -y, dummy password), never touches the real file system (MEMFS only),
// never throws.
import { createRequire } from 'node:module';
import type { FileSystem, SevenZipModule, SevenZipModuleFactory } from '7z-wasm';

export type SevenZipFormat =
  | '7z' | 'xz' | 'bzip2' | 'zstd' | 'cab' | 'rar' | 'rar5' | 'arj' | 'lzh'
  | 'iso' | 'udf' | 'vhd' | 'vhdx' | 'dmg' | 'mbr' | 'gpt' | 'fat' | 'ntfs';

/** Single-stream compressors: one unnamed member, decoded to the stream's end whatever is declared. */
export const STREAM_FORMATS: ReadonlySet<SevenZipFormat> = new Set(['xz', 'bzip2', 'zstd']);

export interface SzEntry {
  path: string;
  /** Declared uncompressed size; undefined when the format does not declare it (bzip2). */
  size?: number;
  encrypted: boolean;
  directory: boolean;
  link: boolean;
}

export interface SzListing {
  entries: SzEntry[];
  /** 7-Zip could not open it (corrupt, unsupported method...) or reported errors while listing. */
  error?: string;
  /** Headers are encrypted (a password is needed to list anything). */
  headersEncrypted: boolean;
}

export interface SzExtraction {
  /** Regular files written (and links: their target as bytes), by archive path, with their content. */
  files: Map<string, Buffer>;
  /** Which cap stopped the extraction, if one did. */
  capped?: 'file' | 'total';
  /** 7-Zip errors other than "wrong password" on encrypted entries. */
  error?: string;
}

const EFBIG = 27; // any errno fails the write; 7-Zip reports it and stops

interface Engine {
  mod: SevenZipModule;
  out: string[];
  err: string[];
  /** Write guard for the current extraction (undefined outside one). */
  guard?: { prefix: string; perFile: number; total: number; written: number; discard: boolean; capped?: 'file' | 'total' };
  /** Extractions stopped by a failed write; the engine is replaced after RECYCLE_AFTER of them. */
  stopped?: number;
}

/**
 * An attacker trial found that after ~100 extractions stopped by a failed write (xz/bzip2 bombs) an
 * engine's memory is corrupt and 7-Zip may loop forever: replace the engine long before that.
 */
const RECYCLE_AFTER = 16;

// An uncaught C++ exception inside 7-Zip (this build cannot catch them; some decoders throw on a
// failed write or a corrupt stream) leaves that wasm instance unusable. A started spare takes over
// at once (extraction is synchronous, re-instantiation is not) and a new spare starts behind it.
let engine: Engine | undefined;
let spare: Engine | undefined;
let engineError: string | undefined;
let starting: Promise<void> | undefined;

async function create(): Promise<Engine> {
  const factory = createRequire(import.meta.url)('7z-wasm') as SevenZipModuleFactory;
  const e: Partial<Engine> = { out: [], err: [] };
  const mod = await factory({
    print: (s: string) => void e.out!.push(s),
    printErr: (s: string) => void e.err!.push(s),
    stdin: () => null as unknown as number,
  });
  e.mod = mod;
  const fs = mod.FS as FileSystem & { ErrnoError: new (errno: number) => Error; writeFile(p: string, d: Uint8Array): void };
  fs.mkdir('/in');
  fs.mkdir('/out');
  fs.writeFile('/in/probe', new Uint8Array(1));
  // MEMFS regular files share one stream_ops table: wrap its write once.
  const ops = (fs.lookupPath('/in/probe').node as unknown as { stream_ops: Record<string, (...a: unknown[]) => number> }).stream_ops;
  const write = ops.write!;
  ops.write = function guarded(this: unknown, ...a: unknown[]): number {
    const g = (e as Engine).guard;
    const stream = a[0] as { path?: string };
    if (g && typeof stream.path === 'string' && stream.path.startsWith(g.prefix)) {
      const length = a[3] as number;
      const position = a[4] as number;
      if (position + length > g.perFile) g.capped = 'file';
      else if (g.written + length > g.total) g.capped = 'total';
      if (g.capped) {
        // Decoders of formats with declared sizes (7z, cab, RAR, disk images...) stop there (guarded
        // before extraction), and some throw an uncatchable C++ exception on a failed write: drop.
        if (g.discard) return length;
        throw new fs.ErrnoError(EFBIG);
      }
      g.written += length;
    }
    return write.apply(this, a);
  };
  fs.unlink('/in/probe');
  return e as Engine;
}

/** Start whatever is missing (the engine, then its spare). Resolves when both exist or failed. */
export function sevenZipReady(): Promise<void> {
  if (starting) return starting;
  if (engine && spare) return Promise.resolve();
  starting = (async () => {
    try {
      if (!engine) engine = spare ?? (await create());
      if (spare === engine) spare = undefined;
      if (!spare) spare = await create();
      engineError = undefined;
    } catch (err) {
      engineError = `7-Zip engine failed to start: ${(err as Error).message}`;
    } finally {
      starting = undefined;
    }
  })();
  return starting;
}

/** Why the engine cannot be used right now, or undefined when it can. */
export function sevenZipUnavailable(): string | undefined {
  if (engine) return undefined;
  void sevenZipReady();
  return engineError ?? '7-Zip engine is starting';
}

/**
 * True while the engine has not been started yet or is starting (not failed): the caller should
 * await sevenZipReady() and try again. The engines (~17 MB of WebAssembly memory each) start on the
 * first archive that needs them, not when this module loads: most content workers never need them.
 */
export function sevenZipStarting(): boolean {
  return !engine && engineError === undefined;
}

/** The active engine failed: switch to the spare now, start a new spare in the background. */
function retire(e: Engine, why: string): void {
  if (engine !== e) return;
  engine = spare;
  spare = undefined;
  engineError = `7-Zip engine restarting after: ${why}`;
  void sevenZipReady();
}

let seq = 0;

/** Run 7-Zip with output captured; restores process.exitCode (Emscripten's exit sets it). */
function run(e: Engine, args: string[]): number {
  e.out.length = 0;
  e.err.length = 0;
  const saved = process.exitCode;
  try {
    return e.mod.callMain(args) as unknown as number;
  } catch (err) {
    retire(e, err instanceof Error ? err.message : `uncaught 7-Zip exception ${String(err)}`);
    return 255;
  } finally {
    process.exitCode = saved;
  }
}

// 7-Zip's handler names (`7z i`); RAR 4 and RAR 5 are separate handlers, told apart by the signature.
const TYPE_SWITCH: Record<SevenZipFormat, string> = {
  '7z': '-t7z', xz: '-txz', bzip2: '-tbzip2', zstd: '-tzstd', cab: '-tcab', rar: '-trar', rar5: '-trar5', arj: '-tarj', lzh: '-tlzh',
  iso: '-tiso', udf: '-tudf', vhd: '-tvhd', vhdx: '-tvhdx', dmg: '-tdmg', mbr: '-tmbr', gpt: '-tgpt', fat: '-tfat', ntfs: '-tntfs',
};
const COMMON = ['-y', '-pX', '-bd', '-bsp0', '-sccUTF-8', '-scsUTF-8'];

function firstError(lines: string[]): string | undefined {
  const l = lines.map((s) => s.trim()).filter((s) => s && !/^(ERRORS?:|WARNINGS?:|Warnings: \d+|Archives with Errors:.*|Sub items Errors:.*|Open Errors:.*)$/i.test(s));
  return l.length > 0 ? l.slice(0, 3).join('; ').slice(0, 300) : undefined;
}

function parseListing(lines: string[]): SzEntry[] {
  const entries: SzEntry[] = [];
  const i = lines.findIndex((l) => l.startsWith('----------'));
  if (i < 0) return entries;
  let cur: Record<string, string> = {};
  const flush = (): void => {
    if (Object.keys(cur).length === 0) return; // single-stream formats (xz, bzip2) print no Path
    const num = (v: string | undefined): number | undefined => (v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined);
    const attrs = cur.Attributes ?? '';
    const size = num(cur.Size);
    const packed = num(cur['Packed Size']);
    // The directory attribute alone proves nothing: an entry with data is a file to Windows
    // extractors (and to 7-Zip for 7z), whatever its attributes say.
    const hasData = (size ?? 0) > 0 || (packed ?? 0) > 0;
    const entry: SzEntry = {
      path: cur.Path ?? '',
      encrypted: cur.Encrypted === '+',
      directory: (cur.Folder === '+' || /^D/.test(attrs)) && !hasData,
      link: / l/.test(attrs) || cur['Symbolic Link'] !== undefined,
    };
    if (size !== undefined) entry.size = size;
    entries.push(entry);
    cur = {};
  };
  for (const line of lines.slice(i + 1)) {
    if (line.trim() === '') {
      flush();
      continue;
    }
    const eq = line.indexOf(' = ');
    if (eq > 0) cur[line.slice(0, eq)] = line.slice(eq + 3);
    else if (line.endsWith(' =')) cur[line.slice(0, -2)] = '';
  }
  flush();
  return entries;
}

function withInput<T>(e: Engine, format: SevenZipFormat, buf: Buffer, fn: (path: string) => T): T {
  const fs = e.mod.FS as FileSystem & { writeFile(p: string, d: Uint8Array): void };
  const path = `/in/${++seq}.${format === 'bzip2' ? 'bz2' : format === 'rar5' ? 'rar' : format}`;
  fs.writeFile(path, buf);
  try {
    return fn(path);
  } finally {
    try {
      fs.unlink(path);
    } catch {
      /* already gone */
    }
  }
}

export function sevenZipList(format: SevenZipFormat, buf: Buffer): SzListing {
  const e = engine;
  if (!e) return { entries: [], headersEncrypted: false, error: sevenZipUnavailable() ?? 'unavailable' };
  return withInput(e, format, buf, (path) => {
    const rc = run(e, ['l', '-slt', TYPE_SWITCH[format], ...COMMON, '--', path]);
    const out = [...e.out];
    const errs = [...e.err];
    const listing: SzListing = { entries: parseListing(out), headersEncrypted: false };
    const all = [...out, ...errs].join('\n');
    if (/encrypted archive|Wrong password/i.test(all) && listing.entries.length === 0) listing.headersEncrypted = true;
    else if (rc !== 0 || errs.some((l) => /\S/.test(l)) || /^(ERRORS|WARNINGS):/m.test(all)) {
      // 7-Zip prints what went wrong on the line after "ERRORS:" / "WARNINGS:" in the listing.
      const flagged = out.filter((l, i) => i > 0 && /^(ERRORS|WARNINGS):$/.test(out[i - 1]!.trim()));
      listing.error = firstError(errs) ?? firstError([...flagged, ...out.filter((l) => /error|warning|unexpected|can ?not/i.test(l))]) ?? `7-Zip exit code ${rc}`;
    }
    return listing;
  });
}

/**
 * `caps.sizesDeclared`: every entry listed declares its size (false when one does not: its decoder has
 * no size to stop at, so writes past a cap fail instead of being dropped).
 */
export function sevenZipExtract(format: SevenZipFormat, buf: Buffer, caps: { perFile: number; total: number; sizesDeclared?: boolean }): SzExtraction {
  const e = engine;
  if (!e) return { files: new Map(), error: sevenZipUnavailable() ?? 'unavailable' };
  const fs = e.mod.FS as CollectFs;
  return withInput(e, format, buf, (path) => {
    const dir = `/out/${seq}`;
    fs.mkdir(dir);
    // xz, bzip2 and zstd decode until their stream ends whatever the index says, and so may any
    // decoder given no size: a failed write stops them. The others stop at the declared sizes.
    const discard = !STREAM_FORMATS.has(format) && caps.sizesDeclared !== false;
    e.guard = { prefix: `${dir}/`, perFile: caps.perFile, total: caps.total, written: 0, discard };
    const result: SzExtraction = { files: new Map() };
    try {
      const rc = run(e, ['x', TYPE_SWITCH[format], ...COMMON, `-o${dir}`, '--', path]);
      if (e.guard.capped) result.capped = e.guard.capped;
      const errs = e.err.filter((l) => /\S/.test(l) && !/Wrong password/i.test(l));
      if (rc !== 0 && !result.capped && (errs.length > 0 || !e.err.some((l) => /Wrong password/i.test(l)))) {
        result.error = engine !== e ? (engineError ?? '7-Zip engine failed') : (firstError(errs) ?? `7-Zip exit code ${rc}`);
      }
      collect(fs, dir, '', result.files);
    } finally {
      const stoppedByWrite = e.guard?.capped !== undefined && !e.guard.discard;
      e.guard = undefined;
      remove(fs, dir);
      if (stoppedByWrite && (e.stopped = (e.stopped ?? 0) + 1) >= RECYCLE_AFTER) retire(e, `recycled after ${RECYCLE_AFTER} extractions stopped at a cap`);
    }
    return result;
  });
}

type CollectFs = FileSystem & { readFile(p: string): Uint8Array; lstat(p: string): { mode: number }; readlink(p: string): string };

function collect(fs: CollectFs, dir: string, rel: string, files: Map<string, Buffer>): void {
  for (const name of fs.readdir(dir)) {
    if (name === '.' || name === '..') continue;
    const full = `${dir}/${name}`;
    const r = rel ? `${rel}/${name}` : name;
    const mode = fs.lstat(full).mode;
    if (fs.isDir(mode)) collect(fs, full, r, files);
    else if (fs.isFile(mode)) {
      const data = fs.readFile(full);
      files.set(r, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    } else if (fs.isLink(mode)) {
      // A small member whose Unix mode says symlink becomes a link whose target is its data; Windows
      // extractors write that data as a file. The target is the data only as far as it is clean UTF-8
      // without NUL: the caller compares the length with the declared size.
      try {
        files.set(r, Buffer.from(fs.readlink(full), 'utf8'));
      } catch {
        /* unreadable link: the caller sees the member as not extracted */
      }
    }
  }
}

function remove(fs: FileSystem & { lstat(p: string): { mode: number } }, dir: string): void {
  try {
    for (const name of fs.readdir(dir)) {
      if (name === '.' || name === '..') continue;
      const full = `${dir}/${name}`;
      if (fs.isDir(fs.lstat(full).mode)) remove(fs, full);
      else fs.unlink(full);
    }
    fs.rmdir(dir);
  } catch {
    /* best effort: MEMFS */
  }
}
