// C-string helpers for milter payloads: NUL-terminated strings and string arrays.
// Text is UTF-8 on the wire; byte-exact views are available where a caller needs the raw bytes.
import { MilterProtocolError } from './errors.js';

const NUL = Buffer.from([0]);

/** Encode strings as consecutive NUL-terminated C strings. */
export function cstrings(...values: readonly string[]): Buffer[] {
  const out: Buffer[] = [];
  for (const v of values) {
    if (v.includes('\0')) throw new MilterProtocolError('BAD_REPLY', 'string contains NUL');
    out.push(Buffer.from(v, 'utf8'), NUL);
  }
  return out;
}

/** Split a payload into its NUL-terminated strings; a missing final NUL is tolerated (last string kept). */
export function splitCStrings(payload: Buffer, start = 0): Buffer[] {
  const out: Buffer[] = [];
  let at = start;
  while (at < payload.length) {
    const end = payload.indexOf(0, at);
    if (end === -1) {
      out.push(payload.subarray(at));
      break;
    }
    out.push(payload.subarray(at, end));
    at = end + 1;
  }
  return out;
}

/** Read exactly one C string at `start`; returns the text and the index after its NUL. */
export function readCString(payload: Buffer, start: number, what: string): { text: string; next: number } {
  const end = payload.indexOf(0, start);
  if (end === -1) throw new MilterProtocolError('BAD_PAYLOAD', `${what}: string not NUL-terminated`);
  return { text: payload.toString('utf8', start, end), next: end + 1 };
}
