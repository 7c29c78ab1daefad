// Replies a filter sends to the MTA, as typed values, with encode (filter side) and decode (MTA side:
// tests and benchmarks play the MTA). Modification replies are only legal at end of message; that
// rule belongs to the session, not to the codec.
import { Rep } from './constants.js';
import { MilterProtocolError } from './errors.js';
import { encodeFrame, type Frame } from './frame.js';
import { cstrings, readCString, splitCStrings } from './strings.js';

export interface SymbolList {
  /** Macro stage index (MacroStage.*). */
  stage: number;
  macros: string[];
}

export type FilterReply =
  | { type: 'optneg'; version: number; actions: number; protocol: number; symbolLists?: SymbolList[] }
  | { type: 'continue' }
  | { type: 'accept' }
  | { type: 'reject' }
  | { type: 'tempfail' }
  | { type: 'discard' }
  | { type: 'skip' }
  | { type: 'progress' }
  | { type: 'shutdown' }
  | { type: 'connFail' }
  /** Full SMTP reply text, e.g. "550 5.7.1 no"; multi-line joined with CRLF (see replytext.ts). */
  | { type: 'replyCode'; text: string }
  | { type: 'addHeader'; name: string; value: string }
  /** index: 0-based position among all headers (0 = top). */
  | { type: 'insertHeader'; index: number; name: string; value: string }
  /** index: 1-based among headers of that name; empty value deletes. */
  | { type: 'changeHeader'; index: number; name: string; value: string }
  | { type: 'addRcpt'; rcpt: string }
  | { type: 'addRcptPar'; rcpt: string; args?: string }
  | { type: 'delRcpt'; rcpt: string }
  | { type: 'changeFrom'; from: string; args?: string }
  | { type: 'replaceBody'; chunk: Buffer }
  | { type: 'quarantine'; reason: string }
  | { type: 'setSymList'; stage: number; macros: string[] };

/** Replies that end the exchange for one command (exactly one per command that expects a reply). */
export const FINAL_REPLIES: ReadonlySet<FilterReply['type']> = new Set([
  'continue', 'accept', 'reject', 'tempfail', 'discard', 'skip', 'replyCode', 'shutdown', 'connFail',
]);

const SIMPLE: Partial<Record<FilterReply['type'], number>> = {
  continue: Rep.CONTINUE,
  accept: Rep.ACCEPT,
  reject: Rep.REJECT,
  tempfail: Rep.TEMPFAIL,
  discard: Rep.DISCARD,
  skip: Rep.SKIP,
  progress: Rep.PROGRESS,
  shutdown: Rep.SHUTDOWN,
  connFail: Rep.CONN_FAIL,
};

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}

export function encodeReply(reply: FilterReply): Buffer {
  const simple = SIMPLE[reply.type];
  if (simple !== undefined) return encodeFrame(simple);
  switch (reply.type) {
    case 'optneg': {
      const parts = [u32(reply.version), u32(reply.actions), u32(reply.protocol)];
      for (const list of reply.symbolLists ?? []) parts.push(u32(list.stage), ...cstrings(list.macros.join(' ')));
      return encodeFrame(Rep.OPTNEG, parts);
    }
    case 'replyCode':
      return encodeFrame(Rep.REPLYCODE, cstrings(reply.text));
    case 'addHeader':
      return encodeFrame(Rep.ADDHEADER, cstrings(reply.name, reply.value));
    case 'insertHeader':
      return encodeFrame(Rep.INSHEADER, [u32(reply.index), ...cstrings(reply.name, reply.value)]);
    case 'changeHeader':
      return encodeFrame(Rep.CHGHEADER, [u32(reply.index), ...cstrings(reply.name, reply.value)]);
    case 'addRcpt':
      return encodeFrame(Rep.ADDRCPT, cstrings(reply.rcpt));
    case 'addRcptPar':
      return encodeFrame(Rep.ADDRCPT_PAR, cstrings(...(reply.args === undefined ? [reply.rcpt] : [reply.rcpt, reply.args])));
    case 'delRcpt':
      return encodeFrame(Rep.DELRCPT, cstrings(reply.rcpt));
    case 'changeFrom':
      return encodeFrame(Rep.CHGFROM, cstrings(...(reply.args === undefined ? [reply.from] : [reply.from, reply.args])));
    case 'replaceBody':
      return encodeFrame(Rep.REPLBODY, reply.chunk);
    case 'quarantine':
      return encodeFrame(Rep.QUARANTINE, cstrings(reply.reason));
    case 'setSymList':
      return encodeFrame(Rep.SETSYMLIST, [u32(reply.stage), ...cstrings(reply.macros.join(' '))]);
    default:
      throw new MilterProtocolError('BAD_REPLY', `cannot encode reply ${(reply as FilterReply).type}`);
  }
}

/** Encode several replies into one buffer, so they go out in a single write (avoids Nagle stalls). */
export function encodeReplies(replies: readonly FilterReply[]): Buffer {
  if (replies.length === 1) return encodeReply(replies[0]!);
  return Buffer.concat(replies.map(encodeReply));
}

function need(p: Buffer, n: number, what: string): void {
  if (p.length < n) throw new MilterProtocolError('BAD_PAYLOAD', `${what}: payload ${p.length} bytes, need ${n}`);
}

function optionalSecond(p: Buffer, start: number): { first: string; second?: string } {
  const strs = splitCStrings(p, start).map((b) => b.toString('utf8'));
  if (strs.length === 0) throw new MilterProtocolError('BAD_PAYLOAD', 'missing address');
  return strs.length > 1 ? { first: strs[0]!, second: strs[1]! } : { first: strs[0]! };
}

function indexedHeader(p: Buffer, what: string): { index: number; name: string; value: string } {
  need(p, 5, what);
  const name = readCString(p, 4, `${what} name`);
  const end = p.indexOf(0, name.next);
  const value = p.toString('utf8', name.next, end === -1 ? p.length : end);
  return { index: p.readUInt32BE(0), name: name.text, value };
}

function symbolLists(p: Buffer, start: number): SymbolList[] {
  const lists: SymbolList[] = [];
  let at = start;
  while (at + 4 <= p.length) {
    const stage = p.readUInt32BE(at);
    const s = readCString(p, at + 4, 'OPTNEG symbol list');
    lists.push({ stage, macros: s.text.split(' ').filter((m) => m.length > 0) });
    at = s.next;
  }
  return lists;
}

/** Decode one reply frame (MTA side). */
export function decodeReply(frame: Frame): FilterReply {
  const p = frame.payload;
  switch (frame.code) {
    case Rep.CONTINUE: return { type: 'continue' };
    case Rep.ACCEPT: return { type: 'accept' };
    case Rep.REJECT: return { type: 'reject' };
    case Rep.TEMPFAIL: return { type: 'tempfail' };
    case Rep.DISCARD: return { type: 'discard' };
    case Rep.SKIP: return { type: 'skip' };
    case Rep.PROGRESS: return { type: 'progress' };
    case Rep.SHUTDOWN: return { type: 'shutdown' };
    case Rep.CONN_FAIL: return { type: 'connFail' };
    case Rep.OPTNEG: {
      need(p, 12, 'OPTNEG reply');
      const lists = symbolLists(p, 12);
      const base = { type: 'optneg' as const, version: p.readUInt32BE(0), actions: p.readUInt32BE(4), protocol: p.readUInt32BE(8) };
      return lists.length > 0 ? { ...base, symbolLists: lists } : base;
    }
    case Rep.REPLYCODE:
      return { type: 'replyCode', text: readCString(p, 0, 'REPLYCODE').text };
    case Rep.ADDHEADER: {
      const name = readCString(p, 0, 'ADDHEADER name');
      const end = p.indexOf(0, name.next);
      return { type: 'addHeader', name: name.text, value: p.toString('utf8', name.next, end === -1 ? p.length : end) };
    }
    case Rep.INSHEADER:
      return { type: 'insertHeader', ...indexedHeader(p, 'INSHEADER') };
    case Rep.CHGHEADER:
      return { type: 'changeHeader', ...indexedHeader(p, 'CHGHEADER') };
    case Rep.ADDRCPT:
      return { type: 'addRcpt', rcpt: readCString(p, 0, 'ADDRCPT').text };
    case Rep.ADDRCPT_PAR: {
      const { first, second } = optionalSecond(p, 0);
      return second === undefined ? { type: 'addRcptPar', rcpt: first } : { type: 'addRcptPar', rcpt: first, args: second };
    }
    case Rep.DELRCPT:
      return { type: 'delRcpt', rcpt: readCString(p, 0, 'DELRCPT').text };
    case Rep.CHGFROM: {
      const { first, second } = optionalSecond(p, 0);
      return second === undefined ? { type: 'changeFrom', from: first } : { type: 'changeFrom', from: first, args: second };
    }
    case Rep.REPLBODY:
      return { type: 'replaceBody', chunk: p };
    case Rep.QUARANTINE:
      return { type: 'quarantine', reason: readCString(p, 0, 'QUARANTINE').text };
    case Rep.SETSYMLIST: {
      need(p, 4, 'SETSYMLIST');
      const s = readCString(p, 4, 'SETSYMLIST');
      return { type: 'setSymList', stage: p.readUInt32BE(0), macros: s.text.split(' ').filter((m) => m.length > 0) };
    }
    default:
      throw new MilterProtocolError('UNKNOWN_COMMAND', `unknown reply code 0x${frame.code.toString(16)}`);
  }
}
