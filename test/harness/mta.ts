// An MTA simulator for tests and benchmarks: speaks the MTA side of the milter protocol over a real
// socket (TCP or unix), built only on codec/. Each step knows from the agreed protocol flags whether
// the filter must answer (expectsReply) and whether the step is sent at all (stepSent), and waits for
// the answer with a timeout exactly where Postfix would. `postfixLike` reproduces Postfix's habits:
// a (possibly empty) D frame before every event, `D L` before each header, `D B` before each body
// chunk, and the double ABORT after a message. It never talks to anything but the given socket.
import net from 'node:net';
import { splitMessage as splitMessageForMilter } from '../../src/cli/scan-input.js';
import {
  ALL_ACTIONS, ALL_PROTOCOL, CHUNK_SIZE, Cmd, FINAL_REPLIES, FrameDecoder, MilterProtocolError, Proto,
  decodeReply, encodeCommand, expectsReply, stepSent, validateFilterNegotiation,
  type ConnectFamily, type FilterReply, type Frame, type MtaCommand, type Offer,
} from '../../codec/index.js';

export type OptnegReply = Extract<FilterReply, { type: 'optneg' }>;
export type MacroPairs = ReadonlyArray<readonly [string, string]> | Readonly<Record<string, string>>;
/** Command letters Postfix sends macros for. */
export type MacroStageLetter = 'C' | 'H' | 'M' | 'R' | 'T' | 'L' | 'N' | 'B' | 'E' | 'U';

export interface MtaOptions {
  /** Per-read reply timeout in ms (Postfix: milter_command_timeout / milter_content_timeout). Default 10000. */
  timeoutMs?: number;
  /** Socket connect timeout in ms. Default 5000. */
  connectTimeoutMs?: number;
  /** Send a D frame before every event (empty unless `macros` has values), D L / D B per header / chunk,
   *  and two ABORTs after each message sent with sendMessage. */
  postfixLike?: boolean;
  /** Macro values sent automatically before each event in postfixLike mode, by command letter. */
  macros?: Partial<Record<MacroStageLetter, MacroPairs>>;
  /** Refuse (throw) when the filter sends a frame nobody asked for (a reply to a no-reply step). Default true. */
  strict?: boolean;
}

/** The answer to end of message: modification frames, then the final reply. */
export interface EomAnswer {
  modifications: FilterReply[];
  final: FilterReply;
}

export interface Envelope {
  /** MAIL argument with brackets, e.g. "<a@example.com>". */
  from: string;
  mailArgs?: string[];
  /** RCPT arguments with brackets. */
  rcpts: string[];
  rcptArgs?: string[];
}

/** Where sendMessage stopped and what the filter said. */
export interface MessageResult extends EomAnswer {
  /** 'eom' when the message went through to end of message; otherwise the step that ended it. */
  stage: 'mail' | 'rcpt' | 'data' | 'header' | 'eoh' | 'body' | 'eom';
  /** Reply to each RCPT (undefined entries where no reply was expected). */
  rcptReplies: Array<FilterReply | undefined>;
}

export class MtaError extends Error {
  override readonly name = 'MtaError';
  constructor(
    readonly code: 'TIMEOUT' | 'CLOSED' | 'UNEXPECTED_REPLY' | 'BAD_SPEC' | 'NOT_NEGOTIATED' | 'PROTOCOL',
    message: string,
  ) {
    super(message);
  }
}

export const POSTFIX_OFFER: Offer = { version: 6, actions: ALL_ACTIONS, protocol: ALL_PROTOCOL };

const FINAL_OK = new Set<FilterReply['type']>(['continue']);
const CMD_NAME: Record<number, string> = {
  [Cmd.CONNECT]: 'SMFIC_CONNECT', [Cmd.HELO]: 'SMFIC_HELO', [Cmd.MAIL]: 'SMFIC_MAIL', [Cmd.RCPT]: 'SMFIC_RCPT',
  [Cmd.DATA]: 'SMFIC_DATA', [Cmd.HEADER]: 'SMFIC_HEADER', [Cmd.EOH]: 'SMFIC_EOH', [Cmd.BODY]: 'SMFIC_BODY',
  [Cmd.BODYEOB]: 'SMFIC_BODYEOB', [Cmd.UNKNOWN]: 'SMFIC_UNKNOWN', [Cmd.OPTNEG]: 'SMFIC_OPTNEG',
};

/** Parse `inet:PORT@HOST`, `inet6:PORT@HOST`, `inet:HOST:PORT`, `unix:/path` or `local:/path`. */
export function parseMilterSpec(spec: string): net.NetConnectOpts {
  const m = /^(inet6?|unix|local):(.+)$/.exec(spec.trim());
  if (!m) throw new MtaError('BAD_SPEC', `bad milter socket "${spec}"`);
  const [, scheme, rest] = m as unknown as [string, string, string];
  if (scheme === 'unix' || scheme === 'local') return { path: rest };
  const at = rest.lastIndexOf('@');
  let port: string;
  let host: string;
  if (at !== -1) {
    port = rest.slice(0, at);
    host = rest.slice(at + 1);
  } else {
    const colon = rest.lastIndexOf(':');
    if (colon === -1) throw new MtaError('BAD_SPEC', `missing port in "${spec}"`);
    host = rest.slice(0, colon);
    port = rest.slice(colon + 1);
  }
  host = host.replace(/^\[(.*)\]$/, '$1');
  if (!/^\d+$/.test(port)) throw new MtaError('BAD_SPEC', `bad port in "${spec}"`);
  return { host: host || '127.0.0.1', port: Number(port) };
}

/** Open a milter connection as an MTA would. */
export async function connectMilter(spec: string, opts: MtaOptions = {}): Promise<MtaConnection> {
  const target = parseMilterSpec(spec);
  const socket = await new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect(target);
    const timer = setTimeout(() => {
      s.destroy();
      reject(new MtaError('TIMEOUT', `connect to ${spec} timed out`));
    }, opts.connectTimeoutMs ?? 5000);
    s.once('connect', () => {
      clearTimeout(timer);
      s.off('error', onErr);
      resolve(s);
    });
    const onErr = (err: Error) => {
      clearTimeout(timer);
      reject(err);
    };
    s.once('error', onErr);
  });
  return new MtaConnection(socket, opts);
}

function pairsOf(p: MacroPairs | undefined): Array<[string, string]> {
  if (!p) return [];
  if (Array.isArray(p)) return p.map(([k, v]) => [k, v]);
  return Object.entries(p as Record<string, string>);
}

/** One milter connection, MTA side. */
export class MtaConnection {
  private readonly decoder = new FrameDecoder({ maxFrameLength: 1 << 30 });
  private readonly inbox: Frame[] = [];
  private waiter: { resolve: (f: Frame) => void; reject: (e: Error) => void; timer: NodeJS.Timeout } | undefined;
  private out: Buffer[] = [];
  private batching = false;
  private closedError: Error | undefined;
  private agreedProtocol: number | undefined;
  private agreedActions = 0;
  private readonly timeoutMs: number;
  readonly postfixLike: boolean;
  private readonly strict: boolean;
  /** Frames the filter sent when no reply was expected (only kept when strict is false). */
  readonly unsolicited: FilterReply[] = [];
  /** Resolves when the socket has closed (either side). */
  readonly closed: Promise<void>;

  constructor(
    readonly socket: net.Socket,
    private readonly opts: MtaOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 10000;
    this.postfixLike = opts.postfixLike ?? false;
    this.strict = opts.strict ?? true;
    socket.setNoDelay(true);
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = this.decoder.push(chunk);
      } catch (err) {
        this.fail(err instanceof Error ? err : new Error(String(err)));
        socket.destroy();
        return;
      }
      for (const f of frames) {
        if (this.waiter) {
          const w = this.waiter;
          this.waiter = undefined;
          clearTimeout(w.timer);
          w.resolve(f);
        } else this.inbox.push(f);
      }
    });
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new MtaError('CLOSED', 'filter closed the connection')));
  }

  /** True once the socket is closed. */
  get isClosed(): boolean {
    return this.closedError !== undefined;
  }

  /** Agreed protocol flags (SMFIP_*) after negotiate(). */
  get protocol(): number {
    if (this.agreedProtocol === undefined) throw new MtaError('NOT_NEGOTIATED', 'negotiate() first');
    return this.agreedProtocol;
  }

  get actions(): number {
    return this.agreedActions;
  }

  private fail(err: Error): void {
    if (!this.closedError) this.closedError = err;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      clearTimeout(w.timer);
      w.reject(this.closedError);
    }
  }

  private nextFrame(what: string): Promise<Frame> {
    const f = this.inbox.shift();
    if (f) return Promise.resolve(f);
    if (this.closedError) return Promise.reject(new MtaError('CLOSED', `can't read ${what} reply packet header: ${this.closedError.message}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new MtaError('TIMEOUT', `timeout after ${this.timeoutMs} ms waiting for ${what} reply`));
      }, this.timeoutMs);
      this.waiter = { resolve, reject, timer };
    });
  }

  /** Queue bytes; they go out with the next flush (one write for everything queued). */
  private enqueue(buf: Buffer): void {
    this.out.push(buf);
  }

  private flush(): void {
    if (this.out.length === 0) return;
    const data = this.out.length === 1 ? this.out[0]! : Buffer.concat(this.out);
    this.out = [];
    if (this.closedError) return;
    this.socket.write(data);
  }

  private checkUnsolicited(): void {
    while (this.inbox.length > 0) {
      const f = this.inbox.shift()!;
      const r = safeDecode(f);
      if (this.strict) {
        throw new MtaError('UNEXPECTED_REPLY', `filter sent ${describeReply(r)} when no reply was expected`);
      }
      this.unsolicited.push(r);
    }
  }

  /** Send raw bytes as they are (malformed-frame tests). */
  sendRaw(bytes: Buffer): void {
    this.flush();
    if (!this.closedError) this.socket.write(bytes);
  }

  /** Send one command frame without waiting for anything. */
  sendCommand(cmd: MtaCommand): void {
    this.enqueue(encodeCommand(cmd));
    if (!this.batching) this.flush();
  }

  /** Read the next reply frame, whatever it is (tests of odd sequences). */
  async readReply(what = 'any'): Promise<FilterReply> {
    this.flush();
    return safeDecode(await this.nextFrame(what));
  }

  /** OPTNEG: offer (default v6, 0x1FF, 0x1FFFFF like Postfix); validates the answer like Postfix/sendmail. */
  async negotiate(offer: Partial<Offer> = {}): Promise<OptnegReply> {
    const o: Offer = { ...POSTFIX_OFFER, ...offer };
    this.enqueue(encodeCommand({ type: 'optneg', ...o }));
    this.flush();
    const reply = safeDecode(await this.nextFrame('SMFIC_OPTNEG'));
    if (reply.type !== 'optneg') throw new MtaError('UNEXPECTED_REPLY', `OPTNEG answered with ${describeReply(reply)}`);
    validateFilterNegotiation(o, reply);
    // As Postfix/libmilter: the milter may not ask for MDS; everything it asks is within the offer.
    this.agreedProtocol = reply.protocol & ~(Proto.MDS_256K | Proto.MDS_1M);
    this.agreedActions = reply.actions;
    return reply;
  }

  /** Send a macro frame for `stageCode` (a Cmd value or a letter). Never answered. */
  macro(stageCode: number | MacroStageLetter, pairs: MacroPairs = []): void {
    const stage = typeof stageCode === 'string' ? stageCode.charCodeAt(0) : stageCode;
    this.enqueue(encodeCommand({ type: 'macro', stage, macros: pairs ? pairsOf(pairs) : [] }));
    if (!this.batching) this.flush();
  }

  /**
   * Send one event. Returns the filter's final reply, or undefined when the step is not sent (NO*)
   * or not answered (NR_*). Modifications outside end of message are an error, as in Postfix.
   */
  private async event(cmd: MtaCommand, code: number): Promise<FilterReply | undefined> {
    const protocol = this.protocol;
    if (!stepSent(code, protocol)) return undefined;
    this.checkUnsolicited();
    if (this.postfixLike) {
      const letter = String.fromCharCode(code) as MacroStageLetter;
      this.enqueue(encodeCommand({ type: 'macro', stage: code, macros: pairsOf(this.opts.macros?.[letter]) }));
    }
    this.enqueue(encodeCommand(cmd));
    if (!expectsReply(code, protocol)) {
      if (!this.batching) this.flush();
      return undefined;
    }
    this.flush();
    return (await this.readAnswer(code, false)).final;
  }

  private async readAnswer(code: number, allowMods: boolean): Promise<EomAnswer> {
    const what = CMD_NAME[code] ?? `0x${code.toString(16)}`;
    const modifications: FilterReply[] = [];
    for (;;) {
      const r = safeDecode(await this.nextFrame(what));
      if (r.type === 'progress') continue;
      if (FINAL_REPLIES.has(r.type)) return { modifications, final: r };
      if (!allowMods || r.type === 'optneg') {
        throw new MtaError('UNEXPECTED_REPLY', `unexpected filter response ${describeReply(r)} after event ${what}`);
      }
      modifications.push(r);
    }
  }

  connect(hostname: string, family: ConnectFamily | '4' | '6' | 'L' | 'U', port?: number, address?: string): Promise<FilterReply | undefined> {
    const fam: ConnectFamily =
      family === '4' ? 'inet4' : family === '6' ? 'inet6' : family === 'L' ? 'unix' : family === 'U' ? 'unknown' : family;
    const cmd: MtaCommand = fam === 'unknown' ? { type: 'connect', hostname, family: fam } : { type: 'connect', hostname, family: fam, port: port ?? 0, address: address ?? '' };
    return this.event(cmd, Cmd.CONNECT);
  }

  helo(name: string): Promise<FilterReply | undefined> {
    return this.event({ type: 'helo', name }, Cmd.HELO);
  }

  /** `args`: the address with brackets, then ESMTP parameters. */
  mail(...args: Array<string | string[]>): Promise<FilterReply | undefined> {
    return this.event({ type: 'mail', args: args.flat() }, Cmd.MAIL);
  }

  rcpt(...args: Array<string | string[]>): Promise<FilterReply | undefined> {
    return this.event({ type: 'rcpt', args: args.flat() }, Cmd.RCPT);
  }

  data(): Promise<FilterReply | undefined> {
    return this.event({ type: 'data' }, Cmd.DATA);
  }

  header(name: string, value: string): Promise<FilterReply | undefined> {
    return this.event({ type: 'header', name, value }, Cmd.HEADER);
  }

  eoh(): Promise<FilterReply | undefined> {
    return this.event({ type: 'eoh' }, Cmd.EOH);
  }

  /**
   * Body bytes in chunks of at most 65535. Stops early (returning that reply) on any answer other
   * than continue — SKIP included, as Postfix stops sending body chunks then.
   */
  async body(buf: Buffer): Promise<FilterReply | undefined> {
    let last: FilterReply | undefined;
    for (let at = 0; at < buf.length; at += CHUNK_SIZE) {
      last = await this.event({ type: 'body', chunk: buf.subarray(at, Math.min(buf.length, at + CHUNK_SIZE)) }, Cmd.BODY);
      if (last && !FINAL_OK.has(last.type)) return last;
    }
    return last;
  }

  /** End of message: always answered; returns the modifications and the final reply. */
  async eom(): Promise<EomAnswer> {
    void this.protocol; // throws when not negotiated yet
    this.checkUnsolicited();
    if (this.postfixLike) this.enqueue(encodeCommand({ type: 'macro', stage: Cmd.BODYEOB, macros: pairsOf(this.opts.macros?.E) }));
    this.enqueue(encodeCommand({ type: 'eob' }));
    this.flush();
    return this.readAnswer(Cmd.BODYEOB, true);
  }

  abort(): void {
    this.sendCommand({ type: 'abort' });
  }

  /** QUIT, then close our side. */
  async quit(): Promise<void> {
    this.sendCommand({ type: 'quit' });
    this.socket.end();
    await this.closed;
  }

  quitNewConnection(): void {
    this.sendCommand({ type: 'quitNewConnection' });
  }

  unknown(line: string): Promise<FilterReply | undefined> {
    return this.event({ type: 'unknown', line }, Cmd.UNKNOWN);
  }

  /** Drop the connection without QUIT (peer vanishing). */
  destroy(): void {
    this.socket.destroy();
  }

  /**
   * One whole message: MAIL, RCPT(s), DATA, the message's headers and body, EOM. Stops at the first
   * final refusal (or when every RCPT was refused). In postfixLike mode an ABORT follows (twice after
   * EOM, as Postfix does); otherwise nothing follows (sendmail's habit after an early decision).
   * No-reply steps are written together with the next step that is answered (one write).
   */
  async sendMessage(raw: Buffer, env: Envelope): Promise<MessageResult> {
    const protocol = this.protocol;
    const parsed = splitMessage(raw, (protocol & Proto.HDR_LEADSPC) !== 0);
    this.batching = true;
    const rcptReplies: Array<FilterReply | undefined> = [];
    const early = (stage: MessageResult['stage'], final: FilterReply): MessageResult => {
      if (this.postfixLike) this.enqueue(encodeCommand({ type: 'abort' }));
      return { stage, final, modifications: [], rcptReplies };
    };
    try {
      const m = await this.mail(env.from, env.mailArgs ?? []);
      if (m && m.type !== 'continue') return early('mail', m);
      let accepted = 0;
      for (const r of env.rcpts) {
        const rr = await this.rcpt(r, env.rcptArgs ?? []);
        rcptReplies.push(rr);
        if (rr?.type === 'discard') return early('rcpt', rr);
        if (!rr || rr.type === 'continue' || rr.type === 'accept') accepted++;
      }
      if (accepted === 0) return early('rcpt', rcptReplies[rcptReplies.length - 1] ?? { type: 'reject' });
      const d = await this.data();
      if (d && d.type !== 'continue') return early('data', d);
      for (const [name, value] of parsed.headers) {
        const h = await this.header(name, value);
        if (h && h.type !== 'continue') return early('header', h);
      }
      const e = await this.eoh();
      if (e && e.type !== 'continue') return early('eoh', e);
      if (parsed.body.length > 0) {
        const b = await this.body(parsed.body);
        if (b && b.type !== 'continue' && b.type !== 'skip') return early('body', b);
      }
      const answer = await this.eom();
      if (this.postfixLike) {
        this.enqueue(encodeCommand({ type: 'abort' }));
        this.enqueue(encodeCommand({ type: 'abort' }));
      }
      return { stage: 'eom', ...answer, rcptReplies };
    } finally {
      this.batching = false;
      this.flush();
    }
  }
}

function safeDecode(f: Frame): FilterReply {
  try {
    return decodeReply(f);
  } catch (err) {
    if (err instanceof MilterProtocolError) throw new MtaError('PROTOCOL', `bad reply from filter: ${err.message}`);
    throw err;
  }
}

export function describeReply(r: FilterReply): string {
  switch (r.type) {
    case 'replyCode':
      return `replyCode "${r.text}"`;
    case 'addHeader':
      return `addHeader ${r.name}`;
    default:
      return r.type;
  }
}

/**
 * Split a raw RFC 5322 message the way an MTA feeds it to a milter: headers as (name, value) with
 * folded lines joined by bare LF; one leading SPACE stripped from the value unless HDR_LEADSPC;
 * body with CRLF line ends. A line in the header block that is neither a header nor a continuation
 * starts the body (as Postfix does for malformed headers).
 */
export function splitMessage(raw: Buffer, leadingSpace: boolean): { headers: Array<[string, string]>; body: Buffer } {
  // One implementation for the simulator and `postern scan`: src/cli/scan-input.ts.
  const split = splitMessageForMilter(raw, leadingSpace);
  return { headers: split.headers.map((h) => [h.name, h.value] as [string, string]), body: split.body };
}
