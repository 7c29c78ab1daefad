// Opens archives found by content (zip, gzip, tar ourselves; 7z, xz, bzip2, zstd, cab, RAR 4/5, ARJ,
// LZH and disk images — ISO, UDF, VHD, VHDX, DMG, and the MBR/GPT partitions and FAT/NTFS file
// systems inside them — through 7-Zip; recursively up to a depth) and turns their members into
// ContentParts (origin 'archive') so the attachment check and clamd see them. A disk image is opened
// one level at a time (image → partition → file system), each level found by magic bytes; a
// partition whose file system is not recognised is `archive.unchecked`, never passed. Guards run
// BEFORE decompressing (entry count, declared sizes, ratio, depth) and actual output is capped while
// decompressing (zlib maxOutputLength, 7-Zip write hook), so a bomb yields `archive.unchecked`, never
// an OOM or a crash. RAR names from our own header reader (rar.ts) that 7-Zip does not list are kept
// as name-only members. Formats we cannot open (ACE) yield `archive.unsupported`. Never throws.
import * as zlib from 'node:zlib';
import { gunzipSync, inflateRawSync } from 'node:zlib';
import type { RuleAction, RuleHit } from '../../policy/types.js';
import type { ContentPart } from '../types.js';
import { detectType } from '../attachments/magic.js';
import { safeName } from '../attachments/names.js';
import { archivesConfigSchema, type ArchivesConfig } from './config.js';
import { cabWithoutDirectoryAttrs } from './cab-attrs.js';
import { asBuffer } from '../bytes.js';
import { listRar } from './rar.js';
import { listTar } from './tar.js';
import { assembleSparse } from './tar-sparse.js';
import { STREAM_FORMATS, sevenZipExtract, sevenZipList, sevenZipReady, sevenZipStarting, sevenZipUnavailable, type SevenZipFormat } from './sevenzip.js';
import { sevenZipHeadersEncrypted, sevenZipPackedHeaderSize } from './sevenzip-header.js';
import { findEocd, localDataStart, localHeaderName, readZipDirectory, unlistedLocalEntries, type ZipDirEntry } from './zip-directory.js';

export interface ExpandResult {
  /** Input parts in order, each followed by its (recursively expanded) members; trueType filled. */
  parts: ContentPart[];
  hits: RuleHit[];
  /** A 7-Zip format was met before the engine had started: await sevenZipReady() and expand again. */
  engineStarting?: boolean;
}

/** Types we recognise as archives/containers but cannot open here (clamd may). */
const UNSUPPORTED = new Set(['ace']);

/** Containers of raw disk or partition images: what they hold must be a file system (or a partition table) we open. */
const DISK_CONTAINERS = new Set<SevenZipFormat>(['vhd', 'vhdx', 'dmg', 'mbr', 'gpt']);


interface Budget {
  inflated: number;
  members: number;
}

interface Ctx {
  config: ArchivesConfig;
  budget: Budget;
  hits: RuleHit[];
  hitKeys: Set<string>;
  paths: Set<string>;
  engineStarting?: boolean;
}

const archiveLevel = (path: string): number => path.split('/archive:').length - 1;

function hit(ctx: Ctx, key: keyof ArchivesConfig['actions'], rule: string, part: ContentPart, detail: string): void {
  const a = ctx.config.actions[key];
  if (a === 'off') return;
  const where = `part ${part.path}${part.names[0] ? ` ${safeName(part.names[0])}` : ''}`;
  const k = `${rule}\0${where}\0${detail}`;
  if (ctx.hitKeys.has(k)) return;
  ctx.hitKeys.add(k);
  const h: RuleHit = { rule, action: a as RuleAction, detail, where };
  if (a === 'reject') h.reply = { code: 554, enhanced: '5.7.1', text: `Archive "${safeName(part.names[0] ?? part.path)}" refused: ${detail}` };
  if (a === 'tempfail') h.reply = { code: 451, enhanced: '4.7.1', text: `Archive could not be checked: ${detail}` };
  ctx.hits.push(h);
}

function makeMember(ctx: Ctx, parent: ContentPart, names: string[], content: Buffer | undefined): ContentPart {
  const clean = names.map((n) => n.replace(/\0/g, '')).filter((n, i, a) => n.length > 0 && a.indexOf(n) === i);
  let path = `${parent.path}/archive:${clean[0] ?? 'unnamed'}`;
  if (ctx.paths.has(path)) {
    let i = 2;
    while (ctx.paths.has(`${path}#${i}`)) i++;
    path = `${path}#${i}`;
  }
  ctx.paths.add(path);
  // trueType is filled by expandPart, which detects the member's type anyway (to open it).
  return {
    path,
    origin: 'archive',
    contentType: 'application/octet-stream',
    names: clean,
    content: content ?? Buffer.alloc(0),
    isAttachment: true,
    depth: parent.depth + 1,
  };
}

/** Members of one archive part (not recursive), or undefined when the part is not an archive we open. */
function openOne(ctx: Ctx, part: ContentPart, type: string): ContentPart[] | undefined {
  switch (type) {
    case 'zip':
    case 'ooxml':
    case 'odf':
    case 'jar':
    case 'msix':
      return openZip(ctx, part);
    case 'gzip':
      return openGzip(ctx, part);
    case 'tar':
      return openTar(ctx, part);
    case 'rar':
      return openRar(ctx, part);
    case 'iso':
      return openIso(ctx, part);
    case '7z':
    case 'xz':
    case 'bzip2':
    case 'zstd':
    case 'cab':
    case 'arj':
    case 'lzh':
    case 'udf':
    case 'vhd':
    case 'vhdx':
    case 'dmg':
    case 'mbr':
    case 'gpt':
    case 'fat':
    case 'ntfs':
      return openSevenZip(ctx, part, type);
    default:
      return undefined;
  }
}

function memberBudgetLeft(ctx: Ctx, part: ContentPart): boolean {
  if (ctx.budget.members >= ctx.config.maxTotalEntries) {
    hit(ctx, 'unchecked', 'archive.unchecked', part, `more than ${ctx.config.maxTotalEntries} archive members in the message`);
    return false;
  }
  ctx.budget.members++;
  return true;
}

function openZip(ctx: Ctx, part: ContentPart): ContentPart[] {
  const { config } = ctx;
  const buf = part.content;
  const dir = readZipDirectory(buf, config.maxEntries + 1);
  if (!dir) {
    hit(ctx, 'unchecked', 'archive.unchecked', part, 'zip without a readable central directory');
    return [];
  }
  if (dir.error) hit(ctx, 'unchecked', 'archive.unchecked', part, `corrupt zip: ${dir.error}`);
  const files = dir.entries.filter((e) => !e.directory);
  const overCount = dir.declaredEntries > config.maxEntries || dir.entries.length > config.maxEntries;
  if (overCount) hit(ctx, 'unchecked', 'archive.unchecked', part, `zip declares ${dir.declaredEntries} entries (limit ${config.maxEntries})`);
  const declared = files.reduce((s, e) => s + e.size, 0);
  const overDeclared = declared > config.maxDeclaredBytes;
  if (overDeclared) hit(ctx, 'unchecked', 'archive.unchecked', part, `zip declares ${declared} uncompressed bytes (limit ${config.maxDeclaredBytes})`);
  // Overlapping entries (several central records pointing into the same data: "quoted overlap"
  // bombs, or extractors disagreeing about content): report, and inflate nothing.
  const overlap = hasOverlap(buf, files);
  if (overlap) hit(ctx, 'unchecked', 'archive.unchecked', part, 'zip entries overlap (bomb construction or ambiguous content)');
  const nameOnly = overCount || overDeclared || overlap;
  const members: ContentPart[] = [];
  let encrypted = 0;
  // where each inflated entry's data really ends (a directory record may claim more bytes than its
  // deflate stream uses, to cover an entry only a streaming extractor reads)
  const dataEnds = new Map<number, number>();
  const listed = files.slice(0, config.maxEntries);
  // entries only a streaming extractor sees (local header, no directory record): found once the listed
  // entries are read, reported, and checked too (not in a directory that could not be read whole)
  let hidden: ZipDirEntry[] | undefined;
  const findHidden = (): ZipDirEntry[] => {
    const found = dir.truncated || overCount || dir.error ? [] : unlistedLocalEntries(buf, dir, 64, dataEnds);
    if (found.length) {
      const shown = found.slice(0, 3).map((e) => `"${safeName(e.name)}"`).join(', ');
      hit(ctx, 'hiddenEntry', 'archive.hidden-entry', part,
        `${found.length} local entr${found.length === 1 ? 'y' : 'ies'} not in the central directory: ${shown}${found.length > 3 ? ', ...' : ''}`);
    }
    return found.filter((h) => !h.directory);
  };
  for (let i = 0; ; i++) {
    if (i === listed.length) hidden = findHidden();
    const e = i < listed.length ? listed[i]! : hidden?.[i - listed.length];
    if (!e) break;
    if (!memberBudgetLeft(ctx, part)) break;
    const names = [e.name];
    if (e.nameLatin1 !== e.name) names.push(e.nameLatin1);
    const local = localHeaderName(buf, e.localOffset);
    if (local !== undefined && local !== e.name) {
      names.push(local);
      hit(ctx, 'nameMismatch', 'archive.name-mismatch', part, `entry "${safeName(e.name)}" is "${safeName(local)}" in its local header`);
    }
    let content: Buffer | undefined;
    if (e.encrypted) {
      encrypted++;
    } else if (!nameOnly) {
      content = inflateZipEntry(ctx, part, buf, e, dataEnds);
    }
    members.push(makeMember(ctx, part, names, content));
  }
  if (encrypted > 0) hit(ctx, 'encrypted', 'archive.encrypted', part, `${encrypted} encrypted zip entr${encrypted === 1 ? 'y' : 'ies'}`);
  return members;
}

function hasOverlap(buf: Buffer, files: Array<{ localOffset: number; compressedSize: number }>): boolean {
  const ranges: Array<[number, number]> = [];
  for (const e of files) {
    const start = localDataStart(buf, e.localOffset);
    if (start !== undefined) ranges.push([e.localOffset, start + e.compressedSize]);
  }
  ranges.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++) if (ranges[i]![0] < ranges[i - 1]![1]) return true;
  return false;
}

/** Raw inflate that also says how many input bytes the deflate stream used (undefined if zlib does not tell). */
function inflateRawWithLength(data: Buffer, maxOutputLength: number): { buffer: Buffer; consumed?: number } {
  const r: unknown = inflateRawSync(data, { maxOutputLength, info: true });
  if (Buffer.isBuffer(r)) return { buffer: r };
  const { buffer, engine } = r as { buffer: Buffer; engine?: { bytesWritten?: unknown } };
  return typeof engine?.bytesWritten === 'number' ? { buffer, consumed: engine.bytesWritten } : { buffer };
}

/** zlib.crc32 (Node 20.15+); absent on older 20.x, where the CRC is not checked. */
const crc32 = (zlib as unknown as { crc32?: (data: Uint8Array) => number }).crc32;

function inflateZipEntry(
  ctx: Ctx,
  part: ContentPart,
  buf: Buffer,
  e: { name: string; method: number; size: number; compressedSize: number; localOffset: number; crc?: number },
  dataEnds?: Map<number, number>,
): Buffer | undefined {
  const { config, budget } = ctx;
  const label = `entry "${safeName(e.name)}"`;
  if (e.size > config.maxMemberBytes) {
    hit(ctx, 'unchecked', 'archive.unchecked', part, `${label} declares ${e.size} bytes (limit ${config.maxMemberBytes})`);
    return undefined;
  }
  if (e.size >= config.ratioMinBytes && e.size / Math.max(1, e.compressedSize) > config.maxRatio) {
    hit(ctx, 'unchecked', 'archive.unchecked', part, `${label} compression ratio ${Math.round(e.size / Math.max(1, e.compressedSize))} (limit ${config.maxRatio})`);
    return undefined;
  }
  if (budget.inflated + e.size > config.maxInflatedBytes) {
    hit(ctx, 'unchecked', 'archive.unchecked', part, `inflation budget of ${config.maxInflatedBytes} bytes exhausted`);
    return undefined;
  }
  const lo = e.localOffset;
  const start = localDataStart(buf, lo);
  if (start === undefined) {
    hit(ctx, 'unchecked', 'archive.unchecked', part, `${label}: local header missing`);
    return undefined;
  }
  const end = start + e.compressedSize;
  if (end > buf.length) {
    hit(ctx, 'unchecked', 'archive.unchecked', part, `${label}: data runs past end of archive`);
    return undefined;
  }
  const data = buf.subarray(start, end);
  let out: Buffer;
  if (e.method === 0) {
    out = Buffer.from(data);
    // a stored entry's real length is what its local header says, when that is shorter
    const localSize = buf.readUInt32LE(lo + 18);
    dataEnds?.set(lo, localSize > 0 && localSize < e.compressedSize ? start + localSize : end);
  } else if (e.method === 8) {
    try {
      const r = inflateRawWithLength(data, Math.max(1, e.size));
      out = r.buffer;
      dataEnds?.set(lo, r.consumed === undefined ? end : start + r.consumed);
    } catch (err) {
      const tooBig = (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError;
      hit(ctx, 'unchecked', 'archive.unchecked', part, tooBig ? `${label} inflates beyond its declared ${e.size} bytes` : `${label}: corrupt deflate data`);
      return undefined;
    }
  } else {
    hit(ctx, 'unchecked', 'archive.unchecked', part, `${label}: compression method ${e.method} not supported`);
    return undefined;
  }
  if (out.length !== e.size) {
    hit(ctx, 'unchecked', 'archive.unchecked', part, `${label}: ${out.length} bytes, declared ${e.size}`);
  } else if (e.crc !== undefined && crc32 !== undefined && crc32(out) !== e.crc) {
    // the bytes read are not the member the archive describes (sizes bent to cover other data)
    hit(ctx, 'unchecked', 'archive.unchecked', part, `${label}: CRC mismatch`);
  }
  budget.inflated += out.length;
  return out;
}

function gzipName(buf: Buffer): string | undefined {
  if (buf.length < 10) return undefined;
  const flg = buf[3]!;
  let p = 10;
  if (flg & 4) {
    if (p + 2 > buf.length) return undefined;
    p += 2 + buf.readUInt16LE(p);
  }
  if (flg & 8) {
    const z = buf.indexOf(0, p);
    if (z < 0 || z - p > 1024) return undefined;
    return buf.subarray(p, z).toString('latin1');
  }
  return undefined;
}

function openGzip(ctx: Ctx, part: ContentPart): ContentPart[] {
  const { config, budget } = ctx;
  const buf = part.content;
  const parentName = part.names[0] ?? '';
  const inner = gzipName(buf);
  const derived = parentName.replace(/\.tgz$/i, '.tar').replace(/\.t[a-z]?gz$/i, '.tar').replace(/\.(gz|gzip|z)$/i, '');
  const names = [inner, derived !== parentName ? derived : undefined].filter((x): x is string => !!x);
  if (names.length === 0) names.push('gzip-member');
  if (!memberBudgetLeft(ctx, part)) return [];
  const isize = buf.length >= 18 ? buf.readUInt32LE(buf.length - 4) : 0;
  const limit = Math.min(config.maxMemberBytes, config.maxInflatedBytes - budget.inflated);
  let content: Buffer | undefined;
  if (isize >= config.ratioMinBytes && isize / buf.length > config.maxRatio) {
    hit(ctx, 'unchecked', 'archive.unchecked', part, `gzip compression ratio ${Math.round(isize / buf.length)} (limit ${config.maxRatio})`);
  } else if (limit <= 0) {
    hit(ctx, 'unchecked', 'archive.unchecked', part, `inflation budget of ${config.maxInflatedBytes} bytes exhausted`);
  } else {
    try {
      content = gunzipSync(buf, { maxOutputLength: limit });
      budget.inflated += content.length;
    } catch (err) {
      const tooBig = (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError;
      hit(ctx, 'unchecked', 'archive.unchecked', part, tooBig ? `gzip inflates beyond ${limit} bytes` : 'corrupt gzip data');
    }
  }
  return [makeMember(ctx, part, names, content)];
}

/** Member name(s) of a single-stream compressor (xz, bzip2, zstd), from the part's own name. */
function strippedName(parentName: string, fallback: string): string[] {
  const derived = parentName
    .replace(/\.t(?:xz|bz2?|bz|zst)$/i, '.tar')
    .replace(/\.(?:xz|bz2|bz|bzip2|lzma|zst|zstd)$/i, '');
  return derived && derived !== parentName ? [derived] : [fallback];
}

/**
 * A format opened through 7-Zip (sevenzip.ts): list first and apply the guards to the declared sizes,
 * then extract with the writes capped (per member, and in total by budget, declared limit and ratio).
 * The format's name is the label in details. `seen`, when given, receives how many entries 7-Zip listed.
 */
function openSevenZip(ctx: Ctx, part: ContentPart, format: SevenZipFormat, seen?: { listed: number }): ContentPart[] {
  const { config, budget } = ctx;
  // A cab "file" with the directory attribute is a file to Windows: let 7-Zip write it as one.
  const buf = format === 'cab' ? cabWithoutDirectoryAttrs(part.content) : part.content;
  const label = format === 'rar' ? 'RAR 4' : format === 'rar5' ? 'RAR 5' : format;
  if (sevenZipStarting()) ctx.engineStarting = true;
  const down = sevenZipUnavailable();
  if (down) {
    hit(ctx, 'unchecked', 'archive.unchecked', part, `${label} not opened: ${down}`);
    return [];
  }
  if (format === '7z') {
    const headerLimit = config.maxEntries * 4096 + 1024 * 1024;
    const hs = sevenZipPackedHeaderSize(buf);
    if (hs !== undefined && hs > headerLimit) {
      hit(ctx, 'unchecked', 'archive.unchecked', part, `7z header unpacks to ${hs} bytes (limit ${headerLimit})`);
      return [];
    }
  }
  const listing = sevenZipList(format, buf);
  if (listing.headersEncrypted) {
    hit(ctx, 'encrypted', 'archive.encrypted', part, `${label} with encrypted headers (members cannot be listed)`);
    return [];
  }
  if (listing.error) hit(ctx, 'unchecked', 'archive.unchecked', part, `corrupt ${label}: ${listing.error}`);
  if (seen) seen.listed = listing.entries.length;
  const single = STREAM_FORMATS.has(format);
  // Directories are entries without data (sevenzip.ts); whatever 7-Zip writes is still collected below.
  // NTFS metadata files, which 7-Zip shows under "[SYSTEM]" and a mounted volume never shows as files,
  // are not members ($Boot would be opened as a second NTFS volume); clamd still scans the image.
  const meta = (path: string): boolean => format === 'ntfs' && NTFS_METADATA.test(path);
  const files = listing.entries.filter((e) => !e.directory && !meta(e.path));
  if (listing.entries.length === 0) {
    // an archive longer than an empty one that lists nothing, with no error: its contents were not seen
    if (!listing.error && buf.length > 32) hit(ctx, 'unchecked', 'archive.unchecked', part, `${label}: 7-Zip listed no entries`);
    return [];
  }
  // Guards on declared sizes, before anything is decompressed.
  const overCount = files.length > config.maxEntries;
  if (overCount) hit(ctx, 'unchecked', 'archive.unchecked', part, `${label} has ${files.length} entries (limit ${config.maxEntries})`);
  const declared = files.reduce((s, e) => s + (e.size ?? 0), 0);
  const overDeclared = declared > config.maxDeclaredBytes;
  if (overDeclared) hit(ctx, 'unchecked', 'archive.unchecked', part, `${label} declares ${declared} uncompressed bytes (limit ${config.maxDeclaredBytes})`);
  const big = files.find((e) => (e.size ?? 0) > config.maxMemberBytes);
  if (big) hit(ctx, 'unchecked', 'archive.unchecked', part, `${big.path ? `entry "${safeName(big.path)}"` : `${label} stream`} declares ${big.size} bytes (limit ${config.maxMemberBytes})`);
  const ratio = declared / Math.max(1, buf.length);
  const bomb = declared >= config.ratioMinBytes && ratio > config.maxRatio;
  if (bomb) hit(ctx, 'unchecked', 'archive.unchecked', part, `${label} compression ratio ${Math.round(ratio)} (limit ${config.maxRatio})`);
  const left = config.maxInflatedBytes - budget.inflated;
  if (left <= 0) hit(ctx, 'unchecked', 'archive.unchecked', part, `inflation budget of ${config.maxInflatedBytes} bytes exhausted`);
  const nameOnly = overCount || overDeclared || !!big || bomb || left <= 0;
  let extracted = new Map<string, Buffer>();
  let capped = false;
  // Links are extracted too: Windows extractors ignore the Unix mode and write the member's bytes.
  const plain = files.filter((e) => !e.encrypted);
  if (!nameOnly && (plain.length > 0 || files.length < listing.entries.length)) {
    // Actual output is capped whatever the headers declare: per member, and in total by the budget
    // left, the declared-size limit and the ratio limit (so an undeclared bzip2 bomb stops early).
    const total = Math.min(left, config.maxDeclaredBytes, Math.max(config.ratioMinBytes, buf.length * config.maxRatio));
    const sizesDeclared = files.every((e) => e.size !== undefined);
    const x = sevenZipExtract(format, buf, { perFile: config.maxMemberBytes, total, sizesDeclared });
    extracted = x.files;
    if (x.capped) {
      capped = true;
      const why = x.capped === 'file' ? `a member inflates beyond ${config.maxMemberBytes} bytes` : `output exceeds ${total} bytes (ratio, declared-size or budget limit)`;
      hit(ctx, 'unchecked', 'archive.unchecked', part, `${label}: ${why}`);
    } else if (x.error && !listing.error) {
      hit(ctx, 'unchecked', 'archive.unchecked', part, `corrupt ${label}: ${x.error}`);
    }
  }
  const members: ContentPart[] = [];
  let encrypted = 0;
  const used = new Set<string>();
  const take = (path: string, declaredSize: number | undefined, encrypted = false): Buffer | undefined => {
    // xz/bzip2/zstd hold one unnamed stream: 7-Zip names its output after the input file; a VHD's
    // one unnamed disk is named after the type 7-Zip sees in it ("0.mbr").
    if ((single || path === '') && !extracted.has(path) && extracted.size === 1) path = [...extracted.keys()][0]!;
    const data = extracted.get(path);
    if (!data) return undefined;
    used.add(path);
    // An encrypted entry extracted with the dummy password is garbage (or a fragment): not the member.
    if (encrypted) return undefined;
    // After a cap the member being written is incomplete: keep only members of their declared size.
    if (capped && (declaredSize === undefined || data.length !== declaredSize)) return undefined;
    budget.inflated += data.length;
    return data;
  };
  // an unnamed disk (VHD, VHDX) is named after the part, with the extension 7-Zip gave it (".mbr")
  const stem = (part.names[0] ?? '').replace(/^.*[\\/]/, '').replace(/\.[^.]*$/, '') || 'disk';
  for (const e of files.slice(0, config.maxEntries)) {
    if (!memberBudgetLeft(ctx, part)) break;
    if (e.encrypted) encrypted++;
    const before = used.size;
    const data = take(e.path, e.size, e.encrypted);
    const unnamed = e.path === '' && used.size > before ? [...used].pop()?.match(/\.[^./]+$/)?.[0] : undefined;
    const names = single ? strippedName(part.names[0] ?? '', e.path || `${label}-member`) : [e.path || (unnamed ? stem + unnamed : `${label}-member`)];
    // A member with data whose bytes we did not get in full (7-Zip refused a link, made a directory,
    // truncated a link target at a NUL...) went unchecked: never pass it silently.
    if (!nameOnly && !capped && !e.encrypted && !single && (e.size ?? 0) > 0 && (!data || data.length !== e.size)) {
      hit(ctx, 'unchecked', 'archive.unchecked', part, `${label} entry "${safeName(e.path)}"${e.link ? ' (symbolic link)' : ''}: ${data ? `${data.length} of ${e.size} bytes` : `${e.size} bytes not`} extracted`);
    }
    members.push(makeMember(ctx, part, names, data));
  }
  // Files 7-Zip wrote under a path the listing did not show the same way: still members.
  for (const [path] of extracted) {
    if (used.has(path) || meta(path) || !memberBudgetLeft(ctx, part)) continue;
    members.push(makeMember(ctx, part, [path], take(path, undefined)));
  }
  if (encrypted > 0) hit(ctx, 'encrypted', 'archive.encrypted', part, `${encrypted} encrypted ${label} entr${encrypted === 1 ? 'y' : 'ies'}`);
  if (DISK_CONTAINERS.has(format)) checkPartitions(ctx, part, label, members);
  return members;
}

/** NTFS's own metadata files as 7-Zip lists them (with their named streams, "$Secure:$SDS"). */
const NTFS_METADATA =
  /^\[SYSTEM\]\/(?:\$(?:MFT|MFTMirr|LogFile|Volume|AttrDef|Bitmap|Boot|BadClus|Secure|UpCase|Quota)|\.|\$Extend(?:\/\$(?:Quota|ObjId|Reparse|UsnJrnl|Deleted|RmMetadata)(?:\/\$[A-Za-z]+)*)?)(?::\$?[A-Za-z]+)?$/;

const ZEROS = Buffer.alloc(64 * 1024);

function allZero(buf: Buffer): boolean {
  for (let i = 0; i < buf.length; i += ZEROS.length) {
    const chunk = buf.subarray(i, i + ZEROS.length);
    if (!chunk.equals(ZEROS.subarray(0, chunk.length))) return false;
  }
  return true;
}

/**
 * A disk image or partition table yields raw disks and partitions: each must hold something opened
 * in turn (a partition table or a file system: detected by magic bytes, see magic.ts). A partition
 * with data that is neither went unchecked (ext4, HFS+, APFS, an unknown file system...).
 */
function checkPartitions(ctx: Ctx, part: ContentPart, label: string, members: ContentPart[]): void {
  for (const m of members) {
    if (m.content.length === 0) continue;
    const t = detectType(m.content);
    if (t.archive || allZero(m.content)) continue;
    hit(ctx, 'unchecked', 'archive.unchecked', part, `${label} partition "${safeName(m.names[0] ?? m.path)}" holds no file system Postern opens (${t.description})`);
  }
}

/** ISO 9660, and its UDF view when the image has one: Windows mounts UDF first, so a UDF tree
 *  that differs from the ISO 9660 one (a decoy in one, the payload in the other) is opened too. */
function openIso(ctx: Ctx, part: ContentPart): ContentPart[] {
  const members = openSevenZip(ctx, part, 'iso');
  if (!hasUdfDescriptors(part.content)) return members;
  const byName = new Map(members.map((m) => [m.names[0], m.content]));
  const extra: ContentPart[] = [];
  for (const m of openSevenZip(ctx, part, 'udf')) {
    const same = byName.get(m.names[0]);
    if (same !== undefined && same.equals(m.content)) continue;
    // A UDF name the ISO 9660 tree shows otherwise (Joliet cuts names at 64 characters): its name is
    // checked too. Content found in the UDF tree only: the two trees disagree.
    extra.push(m);
    if (!members.some((i) => i.content.equals(m.content))) {
      hit(ctx, 'nameMismatch', 'archive.name-mismatch', part, `ISO 9660 and UDF trees differ: "${safeName(m.names[0] ?? '')}" has content only the UDF tree shows`);
    }
  }
  return [...members, ...extra];
}

/** UDF's volume recognition sequence (NSR02/NSR03) in the sectors after the ISO 9660 descriptors. */
function hasUdfDescriptors(buf: Buffer): boolean {
  for (let at = 0x8001; at + 5 <= buf.length && at < 0x8001 + 64 * 2048; at += 2048) {
    const id = buf.toString('latin1', at, at + 5);
    if (id === 'NSR02' || id === 'NSR03') return true;
  }
  return false;
}

const SIG_RAR5 = Buffer.from('Rar!\x1a\x07\x01\x00', 'latin1');

/**
 * RAR 4 / RAR 5 through 7-Zip (contents checked). Our own header reader (rar.ts) is a second name
 * source: a file it lists that 7-Zip does not is kept as a name-only member (archive.name-mismatch
 * when 7-Zip listed anything, since extractors then disagree), so its name is still checked.
 */
function openRar(ctx: Ctx, part: ContentPart): ContentPart[] {
  const rar5 = part.content.subarray(0, 8).equals(SIG_RAR5);
  const seen = { listed: 0 };
  const members = openSevenZip(ctx, part, rar5 ? 'rar5' : 'rar', seen);
  const listing = listRar(part.content, ctx.config.maxEntries);
  if (!listing) return members;
  if (listing.headersEncrypted) {
    if (seen.listed === 0) hit(ctx, 'encrypted', 'archive.encrypted', part, `RAR ${listing.version} with encrypted headers (members cannot be listed)`);
    return members;
  }
  const norm = (n: string): string => n.replace(/\\/g, '/').replace(/^\/+/, '');
  const known = new Set(members.flatMap((m) => m.names.map(norm)));
  let encrypted = 0;
  for (const e of listing.entries) {
    if (e.directory || known.has(norm(e.name))) continue;
    if (!memberBudgetLeft(ctx, part)) break;
    known.add(norm(e.name));
    if (e.encrypted) encrypted++;
    if (seen.listed > 0) hit(ctx, 'nameMismatch', 'archive.name-mismatch', part, `RAR entry "${safeName(e.name)}" is not in 7-Zip's listing`);
    members.push(makeMember(ctx, part, [e.name], undefined));
  }
  // 7-Zip could not list it: what our reader found is all that is known (archive.unchecked is given).
  if (seen.listed === 0 && encrypted > 0) hit(ctx, 'encrypted', 'archive.encrypted', part, `${encrypted} encrypted RAR entr${encrypted === 1 ? 'y' : 'ies'}`);
  return members;
}

function openTar(ctx: Ctx, part: ContentPart): ContentPart[] {
  const { config, budget } = ctx;
  const buf = part.content;
  const listing = listTar(buf, config.maxEntries);
  if (listing.error) hit(ctx, 'unchecked', 'archive.unchecked', part, listing.error);
  if (listing.truncated) hit(ctx, 'unchecked', 'archive.unchecked', part, `tar has more than ${config.maxEntries} entries`);
  const members: ContentPart[] = [];
  let declared = 0;
  for (const e of listing.entries) {
    if (e.directory) continue;
    if (!memberBudgetLeft(ctx, part)) break;
    declared += e.size;
    let content: Buffer | undefined;
    // Every member that carries data is read, whatever its typeflag: an extractor that does not know
    // a vendor typeflag writes it as a regular file.
    if (e.size > 0) {
      if (e.dataStart + e.size > buf.length) {
        hit(ctx, 'unchecked', 'archive.unchecked', part, `tar member "${safeName(e.name)}" truncated`);
      } else if (declared > config.maxDeclaredBytes || e.size > config.tarContentMaxBytes || budget.inflated + e.size > config.maxInflatedBytes) {
        hit(ctx, 'unchecked', 'archive.unchecked', part, `tar member "${safeName(e.name)}" (${e.size} bytes) listed by name only`);
      } else {
        content = buf.subarray(e.dataStart, e.dataStart + e.size);
        budget.inflated += e.size;
      }
    }
    // GNU sparse: `tar x` writes the rebuilt file (its map stripped, holes filled), so check that.
    if (e.sparse && content) {
      const s = e.sparse;
      if ('error' in s) {
        hit(ctx, 'unchecked', 'archive.unchecked', part, `tar member "${safeName(e.name)}": ${s.error}`);
      } else if (s.realSize > config.tarContentMaxBytes || budget.inflated + s.realSize > config.maxInflatedBytes) {
        hit(ctx, 'unchecked', 'archive.unchecked', part, `sparse tar member "${safeName(e.name)}" (${s.realSize} bytes) listed by name only`);
        content = undefined;
      } else {
        content = assembleSparse(buf, e.dataStart, s);
        budget.inflated += s.realSize;
      }
    }
    members.push(makeMember(ctx, part, e.names.length > 0 ? e.names : [e.name], content));
  }
  return members;
}

function expandPart(ctx: Ctx, part: ContentPart, out: ContentPart[]): void {
  let tt = part.content.length > 0 ? detectType(part.content) : undefined;
  const withType: ContentPart = tt && !part.trueType ? { ...part, trueType: tt.type } : part;
  out.push(withType);
  if (!tt) return;
  if (!tt.archive) {
    // Polyglots: an image/PDF/executable with a zip appended opens fine in 7-Zip/WinRAR.
    const dir = findEocd(part.content) >= 0 ? readZipDirectory(part.content, 1) : undefined;
    if (!dir || dir.entries.length === 0) return;
    tt = { ...tt, type: 'zip', archive: true };
  }
  if (tt.type === '7z' && sevenZipHeadersEncrypted(part.content)) {
    hit(ctx, 'encrypted', 'archive.encrypted', part, '7z with encrypted headers (members cannot be listed)');
    return;
  }
  if (UNSUPPORTED.has(tt.type)) {
    hit(ctx, 'unsupported', 'archive.unsupported', part, `${tt.description} not opened here`);
    return;
  }
  const level = archiveLevel(part.path) + 1;
  if (level > ctx.config.maxDepth) {
    hit(ctx, 'unchecked', 'archive.unchecked', part, `archive nested deeper than ${ctx.config.maxDepth} levels`);
    return;
  }
  let members: ContentPart[] | undefined;
  try {
    members = openOne(ctx, withType, tt.type);
  } catch (err) {
    hit(ctx, 'unchecked', 'archive.unchecked', part, `archive could not be read: ${(err as Error).message}`);
    return;
  }
  for (const m of members ?? []) expandPart(ctx, m, out);
}

// The pipeline passes the same (already validated) section for every message: validate it once.
const parsedConfigs = new WeakMap<object, ArchivesConfig>();
function parsedConfig(input: Partial<ArchivesConfig> | ArchivesConfig): ArchivesConfig {
  let c = parsedConfigs.get(input);
  if (!c) {
    c = archivesConfigSchema.parse(input);
    parsedConfigs.set(input, c);
  }
  return c;
}

export function expandArchives(parts: ContentPart[], input: Partial<ArchivesConfig> | ArchivesConfig = {}): ExpandResult {
  const config = parsedConfig(input);
  const ctx: Ctx = { config, budget: { inflated: 0, members: 0 }, hits: [], hitKeys: new Set(), paths: new Set(parts.map((p) => p.path)) };
  if (!config.enabled) return { parts: [...parts], hits: [] };
  const out: ContentPart[] = [];
  // Parts whose members are already in the list (the parser expanded them): leave them alone.
  const expandedParents = new Set<string>();
  for (const p of parts) {
    const i = p?.path?.lastIndexOf('/archive:') ?? -1;
    if (i > 0) expandedParents.add(p.path.slice(0, i));
  }
  for (const part of parts) {
    if (!part || !(part.content instanceof Uint8Array)) {
      if (part) out.push(part);
      continue;
    }
    if (expandedParents.has(part.path)) {
      out.push(part);
      continue;
    }
    // Parts that crossed a worker boundary arrive as Uint8Array: view them as Buffers (no copy).
    const p = Buffer.isBuffer(part.content) ? part : { ...part, content: asBuffer(part.content) };
    expandPart(ctx, p, out);
  }
  return ctx.engineStarting ? { parts: out, hits: ctx.hits, engineStarting: true } : { parts: out, hits: ctx.hits };
}

/** expandArchives, starting the 7-Zip engine first when the message needs it (the pipeline's entry). */
export async function expandArchivesReady(parts: ContentPart[], input: Partial<ArchivesConfig> | ArchivesConfig = {}): Promise<ExpandResult> {
  const first = expandArchives(parts, input);
  if (!first.engineStarting) return first;
  await sevenZipReady();
  return expandArchives(parts, input);
}
