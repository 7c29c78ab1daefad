// Commands the MTA sends to a filter, as typed values, with encode (MTA side: tests, benchmarks,
// load generators) and decode (filter side: the server). Payload formats follow the milter v6 protocol.
import { Cmd } from './constants.js';
import { MilterProtocolError } from './errors.js';
import { encodeFrame, type Frame } from './frame.js';
import { cstrings, readCString, splitCStrings } from './strings.js';

export type ConnectFamily = 'unknown' | 'unix' | 'inet4' | 'inet6';

export type MtaCommand =
  | { type: 'optneg'; version: number; actions: number; protocol: number }
  /** `stage` is the command code the macros belong to (e.g. Cmd.CONNECT). */
  | { type: 'macro'; stage: number; macros: Array<[string, string]> }
  | { type: 'connect'; hostname: string; family: ConnectFamily; port?: number; address?: string }
  | { type: 'helo'; name: string }
  /** args[0] is the address with its angle brackets, then ESMTP parameters. */
  | { type: 'mail'; args: string[] }
  | { type: 'rcpt'; args: string[] }
  | { type: 'data' }
  | { type: 'header'; name: string; value: string }
  | { type: 'eoh' }
  | { type: 'body'; chunk: Buffer }
  /** End of message; `chunk` carries trailing body data some MTAs put here (libmilter treats it as body). */
  | { type: 'eob'; chunk?: Buffer }
  | { type: 'abort' }
  | { type: 'quit' }
  | { type: 'quitNewConnection' }
  | { type: 'unknown'; line: string };

const FAMILY_CODE: Record<ConnectFamily, number> = { unknown: 0x55, unix: 0x4c, inet4: 0x34, inet6: 0x36 };

export function encodeCommand(cmd: MtaCommand): Buffer {
  switch (cmd.type) {
    case 'optneg': {
      const p = Buffer.allocUnsafe(12);
      p.writeUInt32BE(cmd.version >>> 0, 0);
      p.writeUInt32BE(cmd.actions >>> 0, 4);
      p.writeUInt32BE(cmd.protocol >>> 0, 8);
      return encodeFrame(Cmd.OPTNEG, p);
    }
    case 'macro': {
      const flat: string[] = [];
      for (const [k, v] of cmd.macros) flat.push(k, v);
      return encodeFrame(Cmd.MACRO, [Buffer.from([cmd.stage]), ...cstrings(...flat)]);
    }
    case 'connect': {
      const parts = cstrings(cmd.hostname);
      parts.push(Buffer.from([FAMILY_CODE[cmd.family]]));
      if (cmd.family !== 'unknown') {
        const port = Buffer.allocUnsafe(2);
        port.writeUInt16BE(cmd.port ?? 0, 0);
        parts.push(port, ...cstrings(cmd.address ?? ''));
      }
      return encodeFrame(Cmd.CONNECT, parts);
    }
    case 'helo':
      return encodeFrame(Cmd.HELO, cstrings(cmd.name));
    case 'mail':
      return encodeFrame(Cmd.MAIL, cstrings(...cmd.args));
    case 'rcpt':
      return encodeFrame(Cmd.RCPT, cstrings(...cmd.args));
    case 'data':
      return encodeFrame(Cmd.DATA);
    case 'header':
      return encodeFrame(Cmd.HEADER, cstrings(cmd.name, cmd.value));
    case 'eoh':
      return encodeFrame(Cmd.EOH);
    case 'body':
      return encodeFrame(Cmd.BODY, cmd.chunk);
    case 'eob':
      return encodeFrame(Cmd.BODYEOB, cmd.chunk ?? Buffer.alloc(0));
    case 'abort':
      return encodeFrame(Cmd.ABORT);
    case 'quit':
      return encodeFrame(Cmd.QUIT);
    case 'quitNewConnection':
      return encodeFrame(Cmd.QUIT_NC);
    case 'unknown':
      return encodeFrame(Cmd.UNKNOWN, cstrings(cmd.line));
  }
}

function decodeConnect(p: Buffer): MtaCommand {
  const host = readCString(p, 0, 'CONNECT hostname');
  if (host.next >= p.length) throw new MilterProtocolError('BAD_PAYLOAD', 'CONNECT: missing family');
  const fam = p[host.next]!;
  const rest = host.next + 1;
  let family: ConnectFamily;
  switch (fam) {
    case 0x55:
      return { type: 'connect', hostname: host.text, family: 'unknown' };
    case 0x4c:
      family = 'unix';
      break;
    case 0x34:
      family = 'inet4';
      break;
    case 0x36:
      family = 'inet6';
      break;
    default:
      throw new MilterProtocolError('BAD_PAYLOAD', `CONNECT: unknown address family 0x${fam.toString(16)}`);
  }
  if (rest + 2 > p.length) throw new MilterProtocolError('BAD_PAYLOAD', 'CONNECT: missing port');
  const port = p.readUInt16BE(rest);
  const addr = readCString(p, rest + 2, 'CONNECT address');
  return { type: 'connect', hostname: host.text, family, port, address: addr.text };
}

function decodeMacro(p: Buffer): MtaCommand {
  if (p.length < 1) throw new MilterProtocolError('BAD_PAYLOAD', 'MACRO: missing stage code');
  const strs = splitCStrings(p, 1);
  const macros: Array<[string, string]> = [];
  for (let i = 0; i < strs.length; i += 2) {
    // An odd count (name without value) is tolerated: the value is empty.
    macros.push([strs[i]!.toString('utf8'), (strs[i + 1] ?? Buffer.alloc(0)).toString('utf8')]);
  }
  return { type: 'macro', stage: p[0]!, macros };
}

function args(p: Buffer, what: string): string[] {
  const strs = splitCStrings(p).map((b) => b.toString('utf8'));
  if (strs.length === 0) throw new MilterProtocolError('BAD_PAYLOAD', `${what}: missing address`);
  return strs;
}

/** Decode one MTA command frame. Throws MilterProtocolError for unknown codes or bad payloads. */
export function decodeCommand(frame: Frame): MtaCommand {
  const p = frame.payload;
  switch (frame.code) {
    case Cmd.OPTNEG:
      if (p.length < 12) throw new MilterProtocolError('BAD_PAYLOAD', `OPTNEG: payload ${p.length} bytes, need 12`);
      return { type: 'optneg', version: p.readUInt32BE(0), actions: p.readUInt32BE(4), protocol: p.readUInt32BE(8) };
    case Cmd.MACRO:
      return decodeMacro(p);
    case Cmd.CONNECT:
      return decodeConnect(p);
    case Cmd.HELO:
      return { type: 'helo', name: readCString(p, 0, 'HELO').text };
    case Cmd.MAIL:
      return { type: 'mail', args: args(p, 'MAIL') };
    case Cmd.RCPT:
      return { type: 'rcpt', args: args(p, 'RCPT') };
    case Cmd.DATA:
      return { type: 'data' };
    case Cmd.HEADER: {
      const name = readCString(p, 0, 'HEADER name');
      // A value without its NUL (seen from sloppy MTAs) is taken to the end of the payload.
      const end = p.indexOf(0, name.next);
      const value = p.toString('utf8', name.next, end === -1 ? p.length : end);
      return { type: 'header', name: name.text, value };
    }
    case Cmd.EOH:
      return { type: 'eoh' };
    case Cmd.BODY:
      return { type: 'body', chunk: p };
    case Cmd.BODYEOB:
      return p.length > 0 ? { type: 'eob', chunk: p } : { type: 'eob' };
    case Cmd.ABORT:
      return { type: 'abort' };
    case Cmd.QUIT:
      return { type: 'quit' };
    case Cmd.QUIT_NC:
      return { type: 'quitNewConnection' };
    case Cmd.UNKNOWN: {
      const end = p.indexOf(0);
      return { type: 'unknown', line: p.toString('utf8', 0, end === -1 ? p.length : end) };
    }
    default:
      throw new MilterProtocolError('UNKNOWN_COMMAND', `unknown command code 0x${frame.code.toString(16)}`);
  }
}
