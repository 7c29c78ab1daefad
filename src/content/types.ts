// The contract of the content pipeline: what the MIME parser produces (ParsedMessage) and what every
// content check (attachments, archives, clamd, content rules, data-leak...) consumes. Checks see only
// decoded data — what the recipient's mail program would show — never the transfer encoding.
// Everything here must be structured-cloneable: the pipeline may run in a worker thread.
import type { Direction, HeaderField, RuleHit } from '../policy/types.js';

/**
 * One decoded leaf of the message: a MIME part, a file encoded inside a part (uuencode, yEnc, BinHex
 * data fork), a TNEF file, or an archive member.
 */
export interface ContentPart {
  /** Position: "1", "2.1", "2.1/archive:docs/a.exe" — stable and readable in traces. */
  path: string;
  origin: 'mime' | 'uuencode' | 'yenc' | 'binhex' | 'tnef' | 'archive';
  /** Declared type, lower-case "type/subtype" ("application/octet-stream" when absent). */
  contentType: string;
  /**
   * Every file name a mail program or scanner could take for this part, from every source
   * (Content-Type name, Content-Disposition filename, RFC 2231 and RFC 2047 forms, uuencode
   * "begin" line, yEnc / BinHex header, archive member name; Content-Description / Content-Location
   * when they read as a file name). Empty when the part has no name.
   */
  names: string[];
  /** Content-Disposition value (inline/attachment) when present. */
  disposition?: string;
  /** Decoded bytes of the part. */
  content: Buffer;
  /** Text of text parts as a JS string (HTML already turned into text). Not NFKC-normalised: each check normalises what it scans. */
  text?: string;
  /**
   * Set when `text` is not the whole part: says what was cut and by which bound (text size cap,
   * HTML longer than the converter reads). Checks that must see everything (data leak) report it, never pass silently.
   */
  textTruncated?: string;
  /**
   * The text a reader of this document shows (PDF, an office document's XML member), read only when a
   * check needs it (the data-leak scan). Kept apart from `text`: it is not mail body text.
   */
  documentText?: string;
  /** Set when `documentText` may miss text: what was cut or could not be read (reported like textTruncated). */
  documentTextTruncated?: string;
  /** True when the part is an attachment rather than body text. */
  isAttachment: boolean;
  /** MIME nesting depth (1 = top level), plus archive nesting for archive members. */
  depth: number;
  /** True type detected from the content's magic bytes (e.g. "pe", "elf", "zip", "pdf"), if known. */
  trueType?: string;
}

export interface ParsedMessage {
  /** Top-level headers in order, unfolded, RFC 2047 decoded. */
  headers: HeaderField[];
  /** Decoded, NFKC-normalised subject ("" when absent). */
  subject: string;
  /** Every leaf part, archive members included (in document order). */
  parts: ContentPart[];
  /** Hits the parser itself produced: ambiguity, malformed structure, limits exceeded. */
  hits: RuleHit[];
  /** True when the message is S/MIME or PGP encrypted (content cannot be read). */
  encrypted: boolean;
  /** True when the message is S/MIME or PGP signed. */
  signed: boolean;
}

/** What every content check gets besides the parsed message. */
export interface ContentEnvironment {
  direction: Direction;
  sender: string;
  recipients: string[];
  /** The raw message as received (for checks that need it, such as clamd's whole-message scan). */
  raw: Buffer;
  /** Aborted when the message's time budget runs out. */
  signal?: AbortSignal;
}

export interface ContentCheck {
  readonly id: string;
  run(message: ParsedMessage, env: ContentEnvironment): RuleHit[] | Promise<RuleHit[]>;
}
