// Parses clamd's answer to INSTREAM. Pure function: bytes in, verdict or typed error out.
// Never reads "not OK" as clean: anything it does not understand is a ClamdProtocolError.
import { ClamdProtocolError, ClamdReplyError, ClamdSizeLimitError } from './errors.js';

export type ScanVerdict =
  | { infected: false }
  /** signatures: every name clamd reported (several with AllowAllMatchScan), without hash suffix. */
  | { infected: true; signatures: string[] };

// "Name(md5:size)" with ExtendedDetectionInfo; the hash part is dropped from the name.
const EXTENDED_INFO = /\([0-9a-fA-F]{32,64}:\d+\)$/;

/** Parse a complete reply (all bytes clamd sent before closing). Throws a ClamdError subclass. */
export function parseInstreamReply(reply: Buffer | string): ScanVerdict {
  const text = typeof reply === 'string' ? reply : reply.toString('latin1');
  const lines = text.split(/[\0\n]/).map((l) => l.trim()).filter((l) => l.length > 0);
  if (lines.length === 0) throw new ClamdProtocolError('clamd closed the connection without a reply', text);
  const signatures: string[] = [];
  let ok = false;
  for (const line of lines) {
    if (/size limit exceeded/i.test(line)) throw new ClamdSizeLimitError(line);
    if (line.endsWith(' ERROR') || line === 'ERROR') throw new ClamdReplyError(line);
    // A reply line is "<id>: <result>"; for INSTREAM the id is "stream" (or "<n>: stream" in a session).
    const m = /^(?:\d+: )?stream: (.*)$/.exec(line);
    if (!m) throw new ClamdProtocolError(`unexpected clamd reply: ${JSON.stringify(line.slice(0, 200))}`, text);
    const result = m[1] as string;
    if (result === 'OK') {
      ok = true;
    } else if (result.endsWith(' FOUND')) {
      const name = result.slice(0, -' FOUND'.length).replace(EXTENDED_INFO, '').trim();
      signatures.push(name.length > 0 ? name : 'unknown');
    } else {
      throw new ClamdProtocolError(`unexpected clamd reply: ${JSON.stringify(line.slice(0, 200))}`, text);
    }
  }
  if (signatures.length > 0) return { infected: true, signatures };
  if (ok) return { infected: false };
  throw new ClamdProtocolError('clamd reply had no result', text);
}
