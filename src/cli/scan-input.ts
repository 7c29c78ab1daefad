// Input side of `postern scan`: finds the messages in a file, a folder or an mbox, splits one raw
// message into header fields and body exactly as an MTA feeds them to a milter, and guesses the
// envelope (sender, recipients) from the headers when the command line gives none.
// Pure functions plus file reading; it never talks to the network and never changes the message.
import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { looksLikeMessage, SNIFF_BYTES } from './scan-sniff.js';

export class ScanInputError extends Error {
  override readonly name = 'ScanInputError';
  constructor(
    readonly code: 'UNREADABLE' | 'EMPTY',
    message: string,
  ) {
    super(message);
  }
}

/** One message to scan: where it came from (file, or file#N inside an mbox) and its bytes. */
export interface ScanItem {
  file: string;
  raw?: Buffer;
  /** Set when the item could not be read: it is reported as an error, the others still run. */
  error?: string;
  /** Set for a file in a folder that is not a message (a zip, an image...): reported, not scanned. */
  skipped?: string;
}

/** The reason a skipped file gives in the output. */
export const NOT_A_MESSAGE = 'not a message';

/** A header field as the MTA sends it in SMFIC_HEADER. */
export interface SplitHeader {
  name: string;
  /** Decoded value: folded lines joined by bare LF, leading space kept when `leadingSpace`. */
  value: string;
  /** The value's exact bytes (same framing as `value`). */
  raw: Buffer;
}

export interface SplitMessage {
  headers: SplitHeader[];
  /** Body with CRLF line ends, as the MTA sends it in SMFIC_BODY chunks. */
  body: Buffer;
}

/** True when the bytes look like an mbox (first line "From " + something). */
export function isMbox(raw: Buffer): boolean {
  return raw.subarray(0, 5).toString('latin1') === 'From ' && /^From \S/.test(raw.subarray(0, 200).toString('latin1'));
}

/**
 * Split an mbox into messages: a line starting with "From " starts a new message (mboxo/mboxrd);
 * one ">" is removed from lines matching /^>+From / (mboxrd unescaping). The "From " line itself is
 * not part of the message.
 */
export function splitMbox(raw: Buffer): Buffer[] {
  const text = raw.toString('latin1');
  const out: Buffer[] = [];
  let current: string[] | undefined;
  const flush = () => {
    if (!current) return;
    // The blank line before the next "From " belongs to the mbox format, not to the message.
    while (current.length > 0 && (current[current.length - 1] === '' || current[current.length - 1] === '\r')) current.pop();
    out.push(Buffer.from(current.join('\n') + '\n', 'latin1'));
  };
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (const line of lines) {
    if (line.startsWith('From ')) {
      flush();
      current = [];
      continue;
    }
    if (!current) continue; // junk before the first separator
    current.push(/^>+From /.test(line) ? line.slice(1) : line);
  }
  flush();
  return out;
}

/**
 * Every message under `target`: a file (one message or an mbox; always scanned) or a folder
 * (recursively, sorted), where files that do not look like messages come back as `skipped`.
 */
export function collectItems(target: string): ScanItem[] {
  let st;
  try {
    st = statSync(target);
  } catch (err) {
    throw new ScanInputError('UNREADABLE', `${target}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  if (st.isDirectory()) {
    const items: ScanItem[] = [];
    for (const file of listFiles(target)) items.push(...itemsOfFile(file, true));
    return items;
  }
  return itemsOfFile(target);
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/** The first `n` bytes of a file (a large image or archive in a folder is not read whole to be skipped). */
function readHead(file: string, n: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(n);
    return buf.subarray(0, readSync(fd, buf, 0, n, 0));
  } finally {
    closeSync(fd);
  }
}

function itemsOfFile(file: string, inFolder = false): ScanItem[] {
  let raw: Buffer;
  try {
    if (inFolder) {
      const head = readHead(file, SNIFF_BYTES);
      if (head.length > 0 && !isMbox(head) && !looksLikeMessage(file, head)) return [{ file, skipped: NOT_A_MESSAGE }];
    }
    raw = readFileSync(file);
  } catch (err) {
    return [{ file, error: `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}` }];
  }
  if (raw.length === 0) return [{ file, error: 'empty file' }];
  if (!isMbox(raw)) return [{ file, raw }];
  const messages = splitMbox(raw);
  if (messages.length === 1) return [{ file, raw: messages[0]! }];
  return messages.map((m, i) => ({ file: `${file}#${i + 1}`, raw: m }));
}

/**
 * Split a raw message as an MTA does for a milter: header fields (name, value) with folded lines
 * joined by bare LF; one leading space removed from the value unless `leadingSpace` (HDR_LEADSPC).
 * A line in the header block that is neither a field nor a continuation starts the body, as
 * Postfix treats malformed headers. The body gets CRLF line ends.
 */
export function splitMessage(raw: Buffer, leadingSpace: boolean): SplitMessage {
  const text = raw.toString('latin1'); // byte-preserving
  const headers: SplitHeader[] = [];
  let current: { name: string; lines: string[] } | undefined;
  const push = () => {
    if (!current) return;
    let value = current.lines.join('\n');
    if (!leadingSpace && value.startsWith(' ')) value = value.slice(1);
    const bytes = Buffer.from(value, 'latin1');
    headers.push({ name: Buffer.from(current.name, 'latin1').toString('utf8'), value: bytes.toString('utf8'), raw: bytes });
    current = undefined;
  };
  let pos = 0;
  let bodyStart = text.length;
  while (pos < text.length) {
    const nl = text.indexOf('\n', pos);
    const lineEnd = nl === -1 ? text.length : nl;
    const line = text.slice(pos, lineEnd > pos && text[lineEnd - 1] === '\r' ? lineEnd - 1 : lineEnd);
    const next = nl === -1 ? text.length : nl + 1;
    if (line === '') {
      bodyStart = next;
      break;
    }
    if ((line[0] === ' ' || line[0] === '\t') && current) {
      current.lines.push(line);
    } else {
      const colon = line.indexOf(':');
      if (colon <= 0 || /[\s]/.test(line.slice(0, colon).trimEnd()) || /[^\x21-\x7e]/.test(line.slice(0, colon).trimEnd())) {
        push();
        bodyStart = pos;
        break;
      }
      push();
      current = { name: line.slice(0, colon).trimEnd(), lines: [line.slice(colon + 1)] };
    }
    pos = next;
  }
  push();
  const body = Buffer.from(text.slice(bodyStart).replace(/\r?\n/g, '\r\n'), 'latin1');
  return { headers, body };
}

/** Addresses in an address-list header value ("A <a@x>, b@y, \"Q, R\" <c@z>"): bare addr-specs. */
export function addressesOf(value: string): string[] {
  const out: string[] = [];
  // Remove comments and quoted strings (where commas and angle brackets may hide), then split.
  const cleaned = value
    .replace(/\r?\n/g, ' ')
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\((?:[^()\\]|\\.)*\)/g, ' ');
  for (const piece of cleaned.split(/[,;]/)) {
    const angle = /<([^<>]*)>/.exec(piece);
    const candidate = (angle ? angle[1]! : piece.replace(/^[^:]*:/, '')).trim().replace(/^[^:<]*:(?=[^@]*@)/, '');
    if (/^[^\s@<>]+@[^\s@<>]+$/.test(candidate)) out.push(candidate);
  }
  return out;
}

/** Default envelope from the headers: sender = Return-Path or From, recipients = To. */
export function envelopeFromHeaders(headers: readonly SplitHeader[]): { from?: string; rcpts: string[] } {
  const get = (name: string) => headers.filter((h) => h.name.toLowerCase() === name);
  let from: string | undefined;
  for (const h of get('return-path')) {
    const m = /<([^<>]*)>/.exec(h.value);
    const a = (m ? m[1]! : h.value).trim();
    if (m || a) {
      from = a;
      break;
    }
  }
  if (from === undefined) {
    for (const h of get('from')) {
      const a = addressesOf(h.value)[0];
      if (a) {
        from = a;
        break;
      }
    }
  }
  const rcpts: string[] = [];
  for (const h of get('to')) for (const a of addressesOf(h.value)) if (!rcpts.includes(a)) rcpts.push(a);
  return from === undefined ? { rcpts } : { from, rcpts };
}
