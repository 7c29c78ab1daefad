// The MIME parser: raw message → ParsedMessage (decoded leaf parts, top-level headers, parser hits).
// It walks the raw structure itself (mailparser hides the disagreements we must see), follows every
// plausible reading of an ambiguous structure (all boundary choices, all encodings, all names) so later
// checks scan the union, and records ambiguity / RFC-conformance / limit hits. It never throws on bad
// input, keeps one decoded copy per part, and bounds work by the configured limits.
//
// Part paths: "1", "2.1" (MIME position; a message/rfc822 part's own entity is "<path>.1");
// alternative readings carry a marker: "[r2]" another boundary choice, "~h" a lenient header end,
// "~base64-stop" / "~base64-lines" / "~base64-quanta" / "~base64-block1" / "~qp-drop" / "~raw" / "~7bit-uu"
// (an application/x-uuencode body decoded) other decodings, "~whole" an entity also split leniently,
// "cr:" the bare-CR-as-line-end reading,
// "mp:" mailparser's view (opt-in); "/uu:N", "/yenc:N", "/hqx:N" (BinHex data fork) and "/tnef:N" are
// files found inside a part; "/msg" is a message attached under another type or name, parsed as one.
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import type { HeaderField } from '../../policy/types.js';
import type { ContentPart, ParsedMessage } from '../types.js';
import { nfkc } from '../ascii.js';
import { mimeConfigSchema, type MimeConfig } from './config.js';
import { decodeBase64, decodeBase64PerLine, decodeBase64Quanta, decodeCharset, decodeQuotedPrintable, decodeQuotedPrintableDrop } from './decode.js';
import { findEmbedded } from './embedded.js';
import { decodeUuBody, detectTrueType, htmlToTextReport, parseTnef } from './extract.js';
import {
  describedNames, headerText, looseNormalize, MAX_PARAM_READINGS, paramReadings, paramValues, parseLenientReadings, parseNaive,
  parseStructured, readHeaderBlock, readHeaderBlockLenient, type RawHeader, type StructuredValue,
} from './headers.js';
import { mayHoldMessage, messageStart } from './sniff.js';
import { HitSink } from './hits.js';
import { mailparserExtraParts } from './mailparser-view.js';
import { checkHeaders, checkRawLines } from './rfc.js';

export interface ParseOptions {
  config?: MimeConfig;
  /** True when the message came in an SMTPUTF8 transaction (8-bit headers are then legal). */
  smtputf8?: boolean;
}

/** Identical text leaves remembered per (type, charset, length) — compared byte for byte (see emitLeaf). */
const TEXT_MEMO_PER_KEY = 8;

/**
 * A text decoded from `bytes`. `enough`: it holds more characters than the caller reads, or `bytes` is
 * the widest window: a longer part starting with the same bytes would stop there too. Otherwise the
 * text serves only a part whose whole body is `bytes` (a longer one must decode further).
 */
interface MemoText {
  bytes: Buffer;
  text: string;
  cut?: string;
  enough: boolean;
}

interface Ctx {
  /** Characters of each plain (non-HTML) text leaf the caller reads (Infinity: up to maxTextBytes). */
  plainTextChars: number;
  /** Decoded text of text leaves already converted in this message, by type, charset and bytes (+ what HTML conversion cut). */
  textMemo: Map<string, MemoText[]>;
  config: MimeConfig;
  sink: HitSink;
  parts: ContentPart[];
  entities: number;
  stopped: boolean;
  depthHit: boolean;
  encrypted: boolean;
  signed: boolean;
  /** Leaves already emitted, keyed by buffer id + offsets + encoding (dedupe across readings). */
  seen: Set<string>;
  bufIds: WeakMap<Buffer, number>;
  nextBufId: number;
  smtputf8: boolean;
  /** Alternative structural readings taken so far (bounded by config.maxAlternatives). */
  alternatives: number;
  /** Bytes BinHex run-length expansion produced so far (bounded by config.maxEmbeddedScanBytes). */
  binhexBytes: number;
  /** In the bare-CR reading: whether the first reading has this part (then it needs no text and is dropped). */
  sameAsFirst?: (part: ContentPart) => boolean;
  /** Charset each text leaf was decoded with (both readings share it). */
  charsets: WeakMap<ContentPart, string>;
}

const KNOWN_CTE = new Set(['7bit', '8bit', 'binary', 'base64', 'quoted-printable']);

/** Parses a raw message. Never throws on bad input: problems become hits. */
export async function parseMessage(raw: Buffer, options: ParseOptions = {}): Promise<ParsedMessage> {
  const config = options.config ?? mimeConfigSchema.parse(undefined);
  const parsed = parseMessageSync(raw, config, options.smtputf8 ?? false);
  // optional second view through mailparser; skipped when limits already refuse the message
  if (config.mailparserView && !parsed.hits.some((h) => LIMIT_RULES.has(h.rule))) {
    const room = Math.max(0, config.mimeParts.limit - parsed.parts.length);
    const extra = await mailparserExtraParts(raw, parsed.parts, room);
    if (extra.length) {
      parsed.parts.push(...extra);
      const sink = new HitSink(config);
      sink.add('viewMismatch', 'mime.ambiguous.parser-views',
        `${extra.length} attachment(s) decoded by mailparser that our reading did not produce: ${extra.map((p) => p.names[0] ?? p.contentType).slice(0, 5).join(', ')}`, 'message');
      parsed.hits.push(...sink.hits);
    }
  }
  return parsed;
}

const LIMIT_RULES = new Set(['rfc.mime-parts', 'rfc.mime-depth', 'rfc.header-length', 'rfc.header-count', 'rfc.line-length-hard', 'mime.parse-error']);

/** Synchronous core of parseMessage (for worker threads and benchmarks). */
/**
 * `plainTextChars`: when the caller reads only the first N characters of each plain-text part (the
 * pipeline when no data-leak scan runs: content rules read maxTextChars), decode 1.125 bytes per
 * character first, then 3, then the full maxTextBytes, each only when the one before gave fewer than N
 * characters — the first N characters are the same either way. HTML parts are always decoded to
 * maxTextBytes.
 */
export function parseMessageSync(raw: Buffer, config: MimeConfig, smtputf8 = false, plainTextChars?: number): ParsedMessage {
  const sink = new HitSink(config);
  const ctx: Ctx = {
    plainTextChars: plainTextChars ?? Infinity,
    config, sink, parts: [], entities: 0, stopped: false, depthHit: false, encrypted: false, signed: false,
    seen: new Set(), bufIds: new WeakMap(), nextBufId: 0, smtputf8, alternatives: 0, textMemo: new Map(), binhexBytes: 0, charsets: new WeakMap(),
  };
  let headers: HeaderField[] = [];
  let subject = '';
  try {
    const top = readHeaderBlock(raw, 0, raw.length);
    const present = top.headers;
    headers = present.map((h) => ({ name: h.name, value: safeText(h.value) }));
    const subj = present.find((h) => h.key === 'subject');
    subject = subj ? nfkc(safeText(subj.value)) : '';
    checkRawLines(raw, top.bodyStart, config, sink);
    checkHeaders(top, 'message', true, smtputf8, config, sink);
    parseEntity(raw, 0, raw.length, 1, '', ctx, [], 'text/plain', top);
    if (sink.has('rfc.bare-cr') && !ctx.stopped) crReading(raw, config, smtputf8, ctx);
  } catch (err) {
    // A parser bug must not let a message through unexamined: report it as malformed.
    sink.add('mimeParts', 'mime.parse-error', `parser error: ${(err as Error)?.message ?? String(err)}`, 'message');
  }
  return { headers, subject, parts: dedupeAlternatives(ctx.parts), hits: sink.hits, encrypted: ctx.encrypted, signed: ctx.signed };
}

/** True for a part that comes from an alternative reading (path markers "~", "[r", "cr:"). */
const isAlternative = (p: ContentPart): boolean => /~|\[r\d|^cr:/.test(p.path);

/** Drops parts of alternative readings that repeat a part already present (same type, names, bytes and text). */
function dedupeAlternatives(parts: ContentPart[]): ContentPart[] {
  if (!parts.some(isAlternative)) return parts;
  // the text too: the same bytes read in another charset are another text to check
  const key = (p: ContentPart): string =>
    `${p.contentType}\0${p.names.join('\0')}\0${p.origin}\0${createHash('sha1').update(p.content).digest('hex')}\0` +
    (p.text === undefined ? '-' : createHash('sha1').update(p.text).digest('hex'));
  const seen = new Set<string>();
  const out: ContentPart[] = [];
  for (const p of parts) if (!isAlternative(p)) seen.add(key(p));
  for (const p of parts) {
    if (isAlternative(p)) {
      const k = key(p);
      if (seen.has(k)) continue;
      seen.add(k);
    }
    out.push(p);
  }
  return out;
}

/**
 * Second reading for messages with bare CR: CR taken as a line end (same length, so offsets hold).
 * Parts that only this reading shows are added (path prefix "cr:") with an ambiguity hit.
 */
function crReading(raw: Buffer, config: MimeConfig, smtputf8: boolean, ctx: Ctx): void {
  const alt = Buffer.from(raw);
  for (let i = alt.indexOf(13); i >= 0; i = alt.indexOf(13, i + 1)) if (alt[i + 1] !== 10) alt[i] = 10;
  const quiet = new HitSink({ ...config });
  const c2: Ctx = {
    ...ctx, sink: quiet, parts: [], entities: 0, stopped: false, depthHit: false, seen: new Set(), bufIds: new WeakMap(), nextBufId: 0,
    sameAsFirst: firstReadingIndex(ctx),
  };
  const top = readHeaderBlock(alt, 0, alt.length);
  parseEntity(alt, 0, alt.length, 1, '', c2, [], 'text/plain', top);
  ctx.encrypted ||= c2.encrypted;
  ctx.signed ||= c2.signed;
  let added = 0;
  for (const p of c2.parts) {
    // a part both readings find (same names and type; bytes differing only where a bare CR became LF)
    // is the same part; a name or type only this reading shows makes it a part of its own
    if (p.content.length === 0 || c2.sameAsFirst!(p)) continue;
    if (ctx.parts.length >= config.mimeParts.limit) break;
    ctx.parts.push({ ...p, path: `cr:${p.path}` });
    added++;
  }
  if (added) {
    ctx.sink.add('bareCrStructure', 'mime.ambiguous.bare-cr',
      `${added} part(s) appear only when bare CR is read as a line end`, 'message');
  }
}

/**
 * "Does the first reading have this bare-CR-reading part?" — same type, charset and names, same bytes
 * but for CR read as LF. The first reading's parts are indexed once by a digest of their bytes with
 * every CR taken as LF (equal for any such pair), so each part is compared with its few candidates
 * only, and each answer is kept (a part is asked twice: before its text is decoded, and when added).
 */
function firstReadingIndex(ctx: Ctx): (part: ContentPart) => boolean {
  const digest = (b: Buffer): string => {
    const h = createHash('sha1');
    let from = 0;
    for (let cr = b.indexOf(13); cr >= 0; cr = b.indexOf(13, from)) {
      h.update(b.subarray(from, cr));
      h.update(LF);
      from = cr + 1;
    }
    h.update(b.subarray(from));
    return `${b.length}:${h.digest('base64')}`;
  };
  const index = new Map<string, ContentPart[]>();
  for (const q of ctx.parts) {
    const k = digest(q.content);
    const list = index.get(k);
    if (list) list.push(q);
    else index.set(k, [q]);
  }
  const answers = new WeakMap<ContentPart, boolean>();
  return (alt) => {
    let same = answers.get(alt);
    if (same === undefined) {
      same = (index.get(digest(alt.content)) ?? []).some((orig) =>
        orig.contentType === alt.contentType && (ctx.charsets.get(orig) ?? '') === (ctx.charsets.get(alt) ?? '') &&
        alt.names.every((n) => orig.names.includes(n)) && sameButCrAsLf(orig.content, alt.content));
      answers.set(alt, same);
    }
    return same;
  };
}
const LF = Buffer.from([10]);

/** `alt` equals `orig` except that some CR bytes of `orig` are LF in `alt` (the CR reading's only change). */
function sameButCrAsLf(orig: Buffer, alt: Buffer): boolean {
  if (orig.length !== alt.length) return false;
  let from = 0;
  for (let cr = orig.indexOf(13); ; cr = orig.indexOf(13, from)) {
    const to = cr < 0 ? orig.length : cr;
    if (orig.compare(alt, from, to, from, to) !== 0) return false;
    if (cr < 0) return true;
    if (alt[cr] !== 13 && alt[cr] !== 10) return false;
    from = cr + 1;
  }
}

function safeText(latin1: string): string {
  try {
    return headerText(latin1);
  } catch {
    return latin1;
  }
}

function whereOf(path: string): string {
  return path ? `part ${path}` : 'message';
}

function childPath(path: string, i: number): string {
  return path ? `${path}.${i}` : String(i);
}

function parseEntity(
  buf: Buffer, start: number, end: number, depth: number, path: string, ctx: Ctx,
  boundaries: string[], defaultType: string, pre?: ReturnType<typeof readHeaderBlock>, lenient = false,
): void {
  if (ctx.stopped) return;
  const { config, sink } = ctx;
  ctx.entities++;
  if (ctx.entities > config.mimeParts.limit) {
    sink.add('mimeParts', 'rfc.mime-parts', `more than ${config.mimeParts.limit} MIME entities; rest not parsed`, whereOf(path));
    ctx.stopped = true;
    return;
  }
  if (depth > config.mimeDepth.limit) {
    if (!ctx.depthHit) sink.add('mimeDepth', 'rfc.mime-depth', `MIME nesting deeper than ${config.mimeDepth.limit}`, whereOf(path));
    ctx.depthHit = true;
    return;
  }
  const hb = pre ?? readHeaderBlock(buf, start, end);
  const where = whereOf(path);
  if (!lenient) {
    const alt = readHeaderBlockLenient(buf, start, end, hb);
    if (alt && depth > 1 && defaultType !== 'message/rfc822') {
      sink.add('headerEnd', 'mime.ambiguous.header-end',
        hb.noBlankLine ? 'a part header contains a line that is not a header field: parsers end the header at different lines'
          : 'a part begins with a blank line followed by header fields: parsers disagree on its headers', where);
      if (takeAlternative(ctx, where)) parseEntity(buf, start, end, depth, `${path}~h`, ctx, boundaries, defaultType, alt, true);
    }
  }
  if (!pre && !lenient) checkHeaders(hb, where, false, ctx.smtputf8, config, sink);
  const hs = hb.headers;
  const ctHeaders = hs.filter((h) => h.key === 'content-type');
  const strict = ctHeaders.map((h) => parseStructured(h.value));
  const naive = ctHeaders.map((h) => parseNaive(h.value));
  const first = strict[0];
  let type = first && /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(first.value) ? first.value : defaultType;
  const types = new Set(strict.map((s) => s.value));
  if (types.size > 1) {
    sink.add('duplicateContentType', 'mime.ambiguous.content-type', `${ctHeaders.length} Content-Type headers: ${[...types].join(', ')}`, where);
  }
  const bodyStart = hb.bodyStart;

  // ---- multipart (strictly, or in some reading) ----
  const rawCt = ctHeaders.map((h) => h.value).join(' ');
  const strictMulti = type.startsWith('multipart/');
  const hasBoundaryParam = [...strict, ...naive].some((v) => v.params.some((p) => p.name === 'boundary'));
  const looseMulti = !strictMulti && (strict.some((s) => s.value.startsWith('multipart/')) || /multi|=\?|boundary/i.test(rawCt) || hasBoundaryParam || ctHeaders.length === 0);
  let looseSplit = false;
  if (strictMulti || looseMulti) {
    const done = parseMultipart(buf, bodyStart, end, depth, path, ctx, boundaries, strict, naive, rawCt, type, strictMulti, ctHeaders.length === 0);
    if (strictMulti) {
      if (type === 'multipart/signed') ctx.signed = true;
      if (type === 'multipart/encrypted') ctx.encrypted = true;
      if (done) return;
      // no delimiter found at all: scan the body as one text part
      type = 'text/plain';
    } else if (done) {
      looseSplit = true;
      sink.add('lenientMultipart', 'mime.lenient-multipart',
        ctHeaders.length ? `Content-Type "${clip(rawCt)}" is not multipart to a strict parser but splits into parts when read leniently`
          : 'no Content-Type, but the body is MIME multipart structure that some mail programs show as parts', where);
    }
  }

  // ---- message/* ----
  if (type === 'message/partial') sink.add('partial', 'mime.partial', 'message/partial fragment: cannot be scanned whole', where);
  if (type === 'message/external-body') sink.add('externalBody', 'mime.external-body', 'message/external-body: content is elsewhere', where);

  const leaf = leafReadings(buf, bodyStart, end, hs, path, ctx);
  const isMessage = type === 'message/rfc822' || type === 'message/global' || type === 'message/news';
  // an entity a lenient reading split into parts is also scanned whole, under its own path
  const leafPath = looseSplit ? `${path || '1'}~whole` : path;
  emitLeaf(buf, bodyStart, end, hs, strict, naive, type, depth, leafPath, ctx, leaf, isMessage);
  if (isMessage && !ctx.stopped) {
    for (const r of leaf) {
      const inner = r.data;
      const ib = readHeaderBlock(inner, 0, inner.length);
      checkHeaders(ib, `part ${path || '1'}`, false, ctx.smtputf8, config, sink);
      parseEntity(inner, 0, inner.length, depth + 1, path ? `${path}.1` : '1', ctx, [], 'text/plain', ib);
      break; // the inner message is parsed once (readings of its encoding are rare and scanned as bytes)
    }
  }
}

/** Counts an alternative reading against the message's budget; false (and one hit) when it is spent. */
function takeAlternative(ctx: Ctx, where: string): boolean {
  if (ctx.alternatives >= ctx.config.maxAlternatives) {
    if (ctx.alternatives === ctx.config.maxAlternatives) {
      ctx.sink.add('readingsLimit', 'mime.readings-limit',
        `more than ${ctx.config.maxAlternatives} alternative readings: the rest of the union is not scanned`, where);
      ctx.alternatives++;
    }
    return false;
  }
  ctx.alternatives++;
  return true;
}

function clip(s: string, n = 120): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

interface Delim {
  lineStart: number;
  lineEnd: number;
  next: number;
  close: boolean;
}

/** Delimiter lines of boundary `b` in buf[start,end). `prefix`: accept a line that only starts with --b. */
function findDelimiters(buf: Buffer, start: number, end: number, b: string, prefix: boolean): { delims: Delim[]; prefixOnly: number } {
  const delims: Delim[] = [];
  let prefixOnly = 0;
  const marker = Buffer.from(`--${b}`, 'latin1');
  let pos = start;
  while (pos < end) {
    let nl = buf.indexOf(10, pos);
    if (nl < 0 || nl >= end) nl = end;
    if (buf[pos] === 45 && buf[pos + 1] === 45 && nl - pos >= marker.length && buf.compare(marker, 0, marker.length, pos, pos + marker.length) === 0) {
      let i = pos + marker.length;
      let close = false;
      if (buf[i] === 45 && buf[i + 1] === 45) {
        close = true;
        i += 2;
      }
      let rest = i;
      while (rest < nl && (buf[rest] === 32 || buf[rest] === 9 || buf[rest] === 13)) rest++;
      if (rest === nl) delims.push({ lineStart: pos, lineEnd: nl, next: nl < end ? nl + 1 : end, close });
      else {
        prefixOnly++;
        if (prefix) delims.push({ lineStart: pos, lineEnd: nl, next: nl < end ? nl + 1 : end, close });
      }
    }
    pos = nl + 1;
  }
  return { delims, prefixOnly };
}

/** Delimiter-looking tokens in a body: "--X" lines, X without trailing "--" and whitespace. */
function discoverTokens(buf: Buffer, start: number, end: number, max = 64): Map<string, number> {
  const tokens = new Map<string, number>();
  let pos = start;
  while (pos < end) {
    let nl = buf.indexOf(10, pos);
    if (nl < 0 || nl >= end) nl = end;
    if (buf[pos] === 45 && buf[pos + 1] === 45 && nl - pos > 2 && nl - pos < 200) {
      let t = buf.toString('latin1', pos + 2, nl).replace(/[\s]+$/, '');
      if (t.endsWith('--')) t = t.slice(0, -2);
      if (t.length >= 1) {
        if (tokens.has(t)) tokens.set(t, tokens.get(t)! + 1);
        else if (tokens.size < max) tokens.set(t, 1);
      }
    }
    pos = nl + 1;
  }
  return tokens;
}

/** Splits and parses a multipart; returns false when no reading finds any delimiter. */
function parseMultipart(
  buf: Buffer, bodyStart: number, end: number, depth: number, path: string, ctx: Ctx, outer: string[],
  strict: StructuredValue[], naive: StructuredValue[], rawCt: string, type: string, strictMulti: boolean, noCt: boolean,
): boolean {
  const { sink, config } = ctx;
  const where = whereOf(path);
  // candidate boundaries: strict reading first, then every other reading
  const strictB = strict.length ? paramValues(strict[0]!.params, 'boundary') : [];
  const cands: string[] = [];
  const add = (v: string, allowEmpty = false): void => {
    const t = v.replace(/[ \t\r\n]+$/, '');
    if ((t || allowEmpty) && t.length <= 200 && !cands.includes(t)) cands.push(t);
  };
  strictB.forEach((v) => add(v, true));
  const explicitCount = new Set<string>();
  for (const s of [...strict, ...naive]) for (const v of paramValues(s.params, 'boundary')) {
    add(v, true);
    explicitCount.add(v.trim());
  }
  const tokens = discoverTokens(buf, bodyStart, end);
  // tokens that appear in the Content-Type value (after removing quoting, escapes and %-encoding):
  // a lenient parser may take them
  const normCt = looseNormalize(rawCt);
  for (const [t, n] of tokens) {
    // "--X----" closes boundary "X--": not another boundary
    if (cands.some((c) => c.startsWith(t) && /^-+$/.test(c.slice(t.length)))) continue;
    if (noCt ? n >= 2 : t.length >= 3 && normCt.includes(looseNormalize(t))) add(t);
  }

  for (const o of outer) {
    if (cands.includes(o)) {
      sink.add('boundaryEqual', 'mime.ambiguous.boundary-equal', `boundary "${clip(o, 60)}" equals an enclosing boundary`, where);
    }
  }
  type Reading = { b: string; delims: Delim[] };
  const readings: Reading[] = [];
  let prefixTotal = 0;
  for (const b of cands) {
    if (readings.length >= config.maxReadings) break;
    if (readings.length >= 1 && !takeAlternative(ctx, where)) break;
    const { delims, prefixOnly } = findDelimiters(buf, bodyStart, end, b, false);
    prefixTotal += prefixOnly;
    if (delims.length) readings.push({ b, delims });
  }
  if (noCt) {
    // without a Content-Type, only structure that looks like MIME parts counts
    const looksMime = (r: Reading): boolean => r.delims.some((d) => /^content-[a-z-]+[ \t]*:/i.test(buf.toString('latin1', d.next, Math.min(end, d.next + 40))));
    for (let i = readings.length - 1; i >= 0; i--) if (!looksMime(readings[i]!)) readings.splice(i, 1);
  }
  if (!readings.length) {
    if (strictMulti) {
      sink.add('noBoundary', 'mime.no-boundary',
        strictB.length ? `boundary "${clip(strictB[0]!, 60)}" never occurs in the body` : `${type} without a boundary parameter`, where);
    }
    return false;
  }
  const primary = readings[0]!;
  if (noCt) {
    // reported by the caller as a content-type ambiguity
  } else if (strictB[0] === undefined || primary.b !== strictB[0].replace(/[ \t\r\n]+$/, '') || primary.b === '') {
    sink.add('boundaryUnclear', 'mime.ambiguous.boundary',
      `a strict parser reads boundary ${strictB[0] === undefined ? '(none)' : `"${clip(strictB[0], 60)}"`} but the body is delimited by "${clip(primary.b, 60)}"`, where);
  }
  if (readings.length > 1 && !noCt) {
    sink.add('duplicateBoundary', 'mime.ambiguous.duplicate-boundary',
      `${readings.length} boundaries delimit parts: ${readings.map((r) => `"${clip(r.b, 40)}"`).join(', ')}`, where);
  }
  for (const r of readings) {
    for (const o of outer) {
      if (o !== r.b && (o.startsWith(r.b) || r.b.startsWith(o))) {
        sink.add('boundaryPrefix', 'mime.ambiguous.boundary-prefix',
          `boundary "${clip(r.b, 60)}" and enclosing "${clip(o, 60)}" are prefixes of one another`, where);
      }
    }
  }
  if (prefixTotal > 0) {
    sink.add('boundaryPrefix', 'mime.ambiguous.boundary-prefix', `${prefixTotal} line(s) start with a delimiter but continue with other text`, where);
    if (readings.length < config.maxReadings) {
      const loose = findDelimiters(buf, bodyStart, end, primary.b, true).delims;
      readings.push({ b: primary.b, delims: loose });
    }
  }
  const childDefault = type === 'multipart/digest' ? 'message/rfc822' : 'text/plain';
  readings.forEach((r, ri) => {
    const base = ri === 0 ? path : `${path}[r${ri + 1}]`;
    const ds = r.delims;
    let closed = false;
    let n = 0;
    for (let i = 0; i < ds.length && !ctx.stopped; i++) {
      const d = ds[i]!;
      if (d.close) {
        closed = true;
        // delimiters after the close: a parser that nests by boundary stack reads on (reused boundaries)
        if (ri === 0 && ds.slice(i + 1).some((x) => !x.close)) {
          sink.add('boundaryEqual', 'mime.ambiguous.boundary-equal',
            `parts continue after the closing "--${clip(r.b, 60)}--" delimiter`, where);
          continue;
        }
        break;
      }
      const partStart = d.next;
      const nextD = ds[i + 1];
      let partEnd = nextD ? nextD.lineStart : end;
      // the line break before a delimiter belongs to the delimiter
      if (nextD) {
        if (partEnd > partStart && buf[partEnd - 1] === 10) partEnd--;
        if (partEnd > partStart && buf[partEnd - 1] === 13) partEnd--;
      }
      n++;
      parseEntity(buf, partStart, Math.max(partStart, partEnd), depth + 1, childPath(base, n), ctx, [...outer, r.b], childDefault);
    }
    if (!closed && ri === 0) {
      sink.add('missingCloseBoundary', 'mime.missing-close-boundary', `no closing "--${clip(r.b, 60)}--" delimiter`, where);
    }
  });
  return true;
}

interface Reading {
  data: Buffer;
  label: string;
  /** File names the encoding itself carries (a uuencoded body's "begin 644 NAME" line). */
  names?: string[];
}

/** Decodes a leaf body in every way a mail program could (usually exactly one reading). */
function leafReadings(buf: Buffer, bodyStart: number, end: number, hs: RawHeader[], path: string, ctx: Ctx): Reading[] {
  const { sink } = ctx;
  const where = whereOf(path);
  const body = buf.subarray(bodyStart, end);
  const cteHeaders = hs.filter((h) => h.key === 'content-transfer-encoding');
  const encs: string[] = [];
  for (const h of cteHeaders) {
    const v = parseStructured(h.value).value;
    if (!encs.includes(v)) encs.push(v);
  }
  if (encs.length > 1) {
    sink.add('encoding', 'mime.ambiguous.encoding', `${cteHeaders.length} Content-Transfer-Encoding headers: ${encs.join(', ')}`, where);
  }
  const readings: Reading[] = [];
  let readingsCapped = false;
  const addReading = (data: Buffer, label: string, names?: string[]): void => {
    const same = readings.find((r) => r.data.equals(data));
    if (same) {
      // the same bytes under another name (a uuencoded file equal to another reading): keep the name
      if (names?.length) same.names = [...new Set([...(same.names ?? []), ...names])];
      return;
    }
    if (readings.length < ctx.config.maxReadings + 1) readings.push(names?.length ? { data, label, names } : { data, label });
    else if (!readingsCapped) {
      // a reading past the bound is never dropped silently: it is content nobody scans
      readingsCapped = true;
      sink.add('readingsLimit', 'mime.readings-limit', `more than ${ctx.config.maxReadings + 1} decodings of one part: the rest are not scanned`, where);
    }
  };
  const enc0 = encs.length ? encs : ['7bit'];
  for (const enc of enc0) {
    const rawText = cteHeaders.find((h) => parseStructured(h.value).value === enc)?.value ?? enc;
    if (KNOWN_CTE.has(enc)) {
      decodeKnown(body, enc, path, ctx, addReading);
      continue;
    }
    // not a standard value: find the encodings it names
    const named: string[] = [];
    if (/base64|b64/.test(enc)) named.push('base64');
    if (/quoted|(^|[^a-z])qp([^a-z]|$)|printable/.test(enc)) named.push('quoted-printable');
    if (/uu/.test(enc)) named.push('uuencode');
    if (/gzip64/.test(enc)) named.push('gzip64');
    // binhex / hqx: the raw body is kept and emitLeaf decodes the BinHex stream in it (mime.undecodable if it cannot)
    if (named.length) {
      const plainUu = named.length === 1 && named[0] === 'uuencode' && /^x-uue?(ncode)?$/.test(enc);
      if (!plainUu) {
        sink.add('encodingNonStandard', 'mime.nonstandard-encoding', `non-standard transfer encoding "${clip(rawText, 60)}"`, where);
      }
      for (const n of named) {
        if (n === 'uuencode') {
          // each file its own label: emitLeaf keeps one leaf per label, so a shared one kept only the first file
          // the "begin 644 NAME" line names the file: a mail program saves it under that name
          decodeUuBody(body).forEach((x, i) => addReading(x.content, i === 0 ? 'uuencode' : `uuencode-${i + 1}`, x.name ? [x.name] : undefined));
        } else if (n === 'gzip64') {
          const b = decodeBase64(body).data;
          try {
            addReading(gunzipSync(b, { maxOutputLength: 64 * 1024 * 1024 }), 'gzip64');
          } catch {
            addReading(Buffer.from(b), 'gzip64');
          }
        } else decodeKnown(body, n, path, ctx, addReading);
      }
      if (!plainUu) addReading(Buffer.from(body), 'raw');
    } else if (!/binhex|hqx/.test(enc) && enc !== '') {
      sink.add('unknownEncoding', 'mime.unknown-encoding', `unknown transfer encoding "${clip(rawText, 60)}"; scanned undecoded`, where);
      addReading(Buffer.from(body), 'raw');
    } else addReading(Buffer.from(body), 'raw');
  }
  // declared application/x-uuencode under an ordinary encoding: the file inside is decoded too (the
  // undecoded reading stays), named by its begin line
  const uuType = hs.some((h) => h.key === 'content-type' && /^application\/x-uu(e|encode(d)?)$/.test(parseStructured(h.value).value));
  if (uuType) {
    for (const r of [...readings]) {
      if (r.label.startsWith('uuencode')) continue;
      decodeUuBody(r.data).forEach((x, i) => addReading(x.content, `${r.label}-uu${i === 0 ? '' : `-${i + 1}`}`, x.name ? [x.name] : undefined));
    }
  }
  if (!readings.length) readings.push({ data: Buffer.alloc(0), label: 'empty' });
  return readings;
}

function decodeKnown(body: Buffer, enc: string, path: string, ctx: Ctx, add: (b: Buffer, label: string) => void): void {
  const where = whereOf(path);
  if (enc === 'base64') {
    const r = decodeBase64(body);
    add(r.data, 'base64'); // its own allocation (3/4 of the body): no second copy
    if (r.stopped) {
      ctx.sink.add('base64', 'mime.ambiguous.base64', 'base64 data continues after "=" padding: decoders disagree', where);
      add(r.stopped, 'base64-stop');
      add(decodeBase64Quanta(body), 'base64-quanta');
    }
    if (r.junk > 0) {
      ctx.sink.add('base64', 'mime.ambiguous.base64', `${r.junk} byte(s) outside the base64 alphabet: decoders disagree`, where);
    }
    // data after a blank line: decoders that stop at the first empty line see only the first block
    const blank = /\S[ \t]*\r?\n[ \t]*\r?\n[ \t\r\n]*[A-Za-z0-9+/]/.exec(body.toString('latin1', 0, Math.min(body.length, 1 << 20)));
    if (blank) {
      ctx.sink.add('base64', 'mime.ambiguous.base64', 'base64 data continues after an empty line: decoders that stop there disagree', where);
      add(Buffer.from(decodeBase64(body.subarray(0, blank.index + 1)).data), 'base64-block1');
    }
    const perLine = decodeBase64PerLine(body);
    if (perLine.oddLines > 0) {
      ctx.sink.add('base64', 'mime.ambiguous.base64',
        `${perLine.oddLines} base64 line(s) not a multiple of 4 characters: stream and per-line decoders disagree`, where);
      add(perLine.data, 'base64-lines');
    }
  } else if (enc === 'quoted-printable') {
    const q = decodeQuotedPrintable(body);
    // copy only when the decoded bytes use less than half of the allocation
    add(q.data.length * 2 < body.length ? Buffer.from(q.data) : q.data, 'qp');
    // invalid escapes: also the reading of decoders that drop them (scanned, no verdict: common in real mail)
    if (q.invalid > 0) add(decodeQuotedPrintableDrop(body), 'qp-drop');
  } else add(Buffer.from(body), enc);
}

function emitLeaf(
  buf: Buffer, bodyStart: number, end: number, hs: RawHeader[], strict: StructuredValue[], naive: StructuredValue[],
  type: string, depth: number, path: string, ctx: Ctx, readings: Reading[], isMessage: boolean,
): void {
  const { sink, config } = ctx;
  const where = whereOf(path);
  const cdHeaders = hs.filter((h) => h.key === 'content-disposition');
  const cdStrict = cdHeaders.map((h) => parseStructured(h.value));
  const cdNaive = cdHeaders.map((h) => parseNaive(h.value));
  const disposition = cdStrict[0]?.value || undefined;
  // every name source
  const names: string[] = [];
  const sources: string[][] = [];
  // readings past a bound (parameters per header, readings per parameter) are never dropped silently
  let namesCapped = false;
  const collect = (list: StructuredValue[], param: string): void => {
    for (const s of list) {
      const r = paramReadings(s.params, param);
      if (r.capped || s.capped) namesCapped = true;
      const vs = r.values.map((v) => v.normalize('NFC')).filter((v) => v.length > 0);
      if (vs.length) sources.push(vs);
      for (const v of vs) if (!names.includes(v)) names.push(v);
    }
  };
  collect(strict, 'name');
  collect(cdStrict, 'filename');
  const strictCount = names.length;
  collect(naive, 'name');
  collect(cdNaive, 'filename');
  // readings other parsers make: RFC 822 comments removed, unquoted values running on over ";"
  for (const h of hs) {
    if (h.key === 'content-type') collect(parseLenientReadings(h.value), 'name');
    else if (h.key === 'content-disposition') collect(parseLenientReadings(h.value), 'filename');
  }
  if (names.length > 1) {
    const exts = new Set(names.map(extensionOf).filter((e) => e !== ''));
    const detail = `${names.length} different file names${names.length > strictCount ? ' (some only in a lenient reading)' : ''}: ${names.map((n) => JSON.stringify(clip(n, 60))).join(', ')}`;
    if (exts.size > 1) sink.add('filename', 'mime.ambiguous.filename', detail, where);
    else sink.add('filenameMismatch', 'mime.filename-mismatch', detail, where);
  }
  if (namesCapped) {
    sink.add('filename', 'mime.ambiguous.filename',
      `more file-name readings than are checked (over ${MAX_PARAM_READINGS} per parameter or parameters past the per-header limit): a mail program may show one that is not checked`, where);
  }
  // percent-hex names ("attached%2E%62at") as a decoder would show them
  for (const n of [...names]) {
    if (/%[0-9a-fA-F]{2}/.test(n)) {
      try {
        const d = decodeURIComponent(n);
        if (!names.includes(d)) names.push(d);
      } catch {
        /* not valid percent-encoding */
      }
    }
  }
  const charset = paramValues(strict[0]?.params ?? [], 'charset')[0];
  if (type === 'application/pkcs7-mime' || type === 'application/x-pkcs7-mime') {
    const st = (paramValues(strict[0]?.params ?? [], 'smime-type')[0] ?? '').toLowerCase();
    if (st === 'signed-data') ctx.signed = true;
    else ctx.encrypted = true;
  }
  if (type === 'application/pgp-encrypted') ctx.encrypted = true;
  const isText = type.startsWith('text/');
  const isAttachment = disposition === 'attachment' || (names.length > 0 && disposition !== 'inline') || (!isText && !isMessage);
  // names some mail programs take from Content-Description / Content-Location: checked, not compared
  if (isAttachment) for (const n of describedNames(hs, names.length > 0)) if (!names.includes(n)) names.push(n);
  const binhexDeclared = /^application\/(x-)?mac-binhex(40)?$/.test(type)
    || hs.some((h) => h.key === 'content-transfer-encoding' && /binhex|hqx/i.test(h.value));

  readings.forEach((r, ri) => {
    const p = ri === 0 ? (path || '1') : `${path || '1'}~${r.label}`;
    const key = `${bufId(ctx, buf)}:${bodyStart}:${end}:${r.label}`;
    if (ctx.seen.has(key)) return;
    ctx.seen.add(key);
    const uuNames = (r.names ?? []).filter((n) => !names.includes(n));
    const part: ContentPart = {
      path: p, origin: 'mime', contentType: type, names: [...names, ...uuNames], content: r.data, isAttachment: isAttachment || uuNames.length > 0, depth,
    };
    if (disposition) part.disposition = disposition;
    const tt = detectTrueType(r.data);
    if (tt) part.trueType = tt;
    let text: string | undefined;
    // (a leaf of the bare-CR reading that the first reading has too is dropped below: no text needed)
    if (charset !== undefined) ctx.charsets.set(part, charset);
    if (isText && !isMessage && !ctx.sameAsFirst?.(part)) {
      // plain text the caller reads only in part: first as many bytes as characters wanted plus an
      // eighth (UTF-8 gives at most one character per byte; binary read as text about one), then three
      // times as many, then the full window, each only when the one before gave too few characters
      const cap = type === 'text/html' ? config.maxTextBytes : Math.min(config.maxTextBytes, Math.ceil(1.125 * ctx.plainTextChars) + 16);
      let slice = r.data.length > cap ? r.data.subarray(0, cap) : r.data;
      // identical text leaves (a message can repeat one part hundreds of times) are converted once
      // (readings of one part — bare-CR, lenient multipart — often decode to the very same bytes too)
      const memoKey = (bytes: Buffer): string => `${type}\0${charset ?? ''}\0${bytes.length}`;
      const memoOf = (bytes: Buffer) =>
        ctx.textMemo.get(memoKey(bytes))?.find((m) => (m.enough || m.bytes.length === r.data.length) && m.bytes.equals(bytes));
      let known = memoOf(slice);
      const widths = [3 * ctx.plainTextChars, config.maxTextBytes];
      for (let w = 0; known === undefined && w < widths.length && slice.length < r.data.length; w++) {
        // a text decoded from a wider window (below) is remembered by that window's bytes
        const next = Math.min(r.data.length, config.maxTextBytes, widths[w]!);
        if (next <= slice.length) continue;
        const wide = r.data.subarray(0, next);
        known = memoOf(wide);
        if (known !== undefined) slice = wide;
      }
      let htmlCut: string | undefined;
      if (known !== undefined) {
        part.text = known.text;
        htmlCut = known.cut;
      } else {
        text = decodeCharset(slice, charset);
        for (const wider of widths) {
          // fewer characters than the caller reads (multi-byte or escape-heavy charsets): decode more
          if (text.length > ctx.plainTextChars + 4) break;
          const next = Math.min(r.data.length, config.maxTextBytes, wider);
          if (next <= slice.length) continue; // (never the same bytes twice)
          slice = r.data.subarray(0, next);
          text = decodeCharset(slice, charset);
        }
        const decodedLength = text.length;
        if (type === 'text/html') {
          const converted = htmlToTextReport(text);
          text = converted.text;
          htmlCut = converted.cut;
        }
        // not NFKC-normalised here: each consumer normalises what it scans (content rules cut to
        // maxTextChars first, data leak only outbound), so a big text is not normalised in full for nothing
        part.text = text;
        const entry: MemoText = { bytes: slice, text: part.text, enough: decodedLength > ctx.plainTextChars + 4 || slice.length >= config.maxTextBytes };
        if (htmlCut !== undefined) entry.cut = htmlCut;
        const memoList = ctx.textMemo.get(memoKey(slice));
        if (!memoList) ctx.textMemo.set(memoKey(slice), [entry]);
        else if (memoList.length < TEXT_MEMO_PER_KEY) memoList.push(entry);
      }
      const cuts: string[] = [];
      if (slice.length < r.data.length) {
        cuts.push(slice.length >= config.maxTextBytes
          ? `text cut at ${slice.length} of ${r.data.length} bytes (content.mime.maxTextBytes)`
          : `text decoded to ${slice.length} of ${r.data.length} bytes (the first ${ctx.plainTextChars} characters, all the content rules read)`);
      }
      if (htmlCut !== undefined) cuts.push(htmlCut);
      if (cuts.length > 0) part.textTruncated = cuts.join('; ');
      if (/-----BEGIN PGP MESSAGE-----/.test(part.text)) ctx.encrypted = true;
      if (/-----BEGIN PGP SIGNED MESSAGE-----/.test(part.text)) ctx.signed = true;
    }
    ctx.parts.push(part);
    // files hidden inside the leaf (uuencode, yEnc, BinHex), searched over the whole part, not the text cut
    if ((isText && !isMessage) || binhexDeclared) emitEmbedded(r.data, p, depth, ctx, binhexDeclared && ri === 0);
    // an attached message sent under another type or name: parsed as message/rfc822 (depth limits apply)
    const msgAt = ri === 0 && !isMessage && !ctx.stopped && mayHoldMessage(type, names, hs, depth, isAttachment) ? messageStart(r.data, names) : -1;
    if (msgAt >= 0) {
      const ib = readHeaderBlock(r.data, msgAt, r.data.length);
      checkHeaders(ib, whereOf(p), false, ctx.smtputf8, config, sink);
      parseEntity(r.data, msgAt, r.data.length, depth + 1, `${p}/msg`, ctx, [], 'text/plain', ib);
    }
    if (tt === 'tnef' || type === 'application/ms-tnef' || type === 'application/vnd.ms-tnef') {
      const files = parseTnef(r.data);
      if (files) files.forEach((f, i) => {
        const tp: ContentPart = {
          path: `${p}/tnef:${i + 1}`, origin: 'tnef', contentType: 'application/octet-stream', names: f.name ? [f.name] : [],
          content: f.content, isAttachment: true, depth,
        };
        const t = detectTrueType(f.content);
        if (t) tp.trueType = t;
        ctx.parts.push(tp);
      });
    }
  });
}

/**
 * Emits the uuencoded / yEnc / BinHex files found in a decoded leaf as parts "<path>/uu:N",
 * "/yenc:N", "/hqx:N". Bounds hit → mime.unchecked; a declared BinHex body with no decodable
 * stream (`binhexRequired`) → mime.undecodable.
 */
function emitEmbedded(data: Buffer, p: string, depth: number, ctx: Ctx, binhexRequired: boolean): void {
  const { config, sink } = ctx;
  const scan = findEmbedded(data, {
    maxScanBytes: config.maxEmbeddedScanBytes, maxFiles: config.maxEmbeddedFiles, binhexWithoutMarker: binhexRequired,
    maxExpandBytes: Math.max(0, config.maxEmbeddedScanBytes - ctx.binhexBytes),
  });
  ctx.binhexBytes += scan.expandedBytes;
  if (scan.unchecked) sink.add('unchecked', 'mime.unchecked', scan.unchecked, whereOf(p));
  const hqx = scan.files.filter((f) => f.kind === 'binhex');
  if (scan.undecodableBinHex > 0 || (binhexRequired && hqx.length === 0 && !scan.unchecked)) {
    sink.add('undecodable', 'mime.undecodable', 'BinHex data that cannot be decoded for scanning', whereOf(p));
  } else if (hqx.some((f) => f.damaged)) {
    // a CRC error or a cut stream: BinHex tools refuse it or recover differently; the bytes are scanned anyway
    sink.add('undecodable', 'mime.undecodable', 'BinHex data fails its CRC or is truncated: decoders disagree', whereOf(p));
  }
  const counts = { uuencode: 0, yenc: 0, binhex: 0 };
  const label = { uuencode: 'uu', yenc: 'yenc', binhex: 'hqx' } as const;
  for (const f of scan.files) {
    counts[f.kind]++;
    const part: ContentPart = {
      path: `${p}/${label[f.kind]}:${counts[f.kind]}`, origin: f.kind, contentType: 'application/octet-stream',
      names: [...f.names], content: f.content, isAttachment: true, depth,
    };
    const t = detectTrueType(f.content);
    if (t) part.trueType = t;
    ctx.parts.push(part);
  }
}

/** Lower-case extension of a file name as a mail program would see it (trailing dots/spaces dropped). */
function extensionOf(name: string): string {
  const base = name.replace(/[\s.]+$/, '');
  const dot = base.lastIndexOf('.');
  if (dot < 0) return '';
  return base.slice(dot + 1).trim().toLowerCase();
}

function bufId(ctx: Ctx, buf: Buffer): number {
  let id = ctx.bufIds.get(buf);
  if (id === undefined) {
    id = ctx.nextBufId++;
    ctx.bufIds.set(buf, id);
  }
  return id;
}
