// One milter connection: decodes frames, keeps macros, drives the handler step by step in protocol
// order, and writes each answer (modifications + final reply) in a single write. Enforces stage
// timeouts, never lets a handler error escape (the configured error action answers instead), and
// closes only its own connection on protocol errors. Connection timers: a first frame must come soon
// after connecting, a frame once begun must complete, and a connection silent between frames is
// closed after the idle time — so no connection holds a slot forever. Knows nothing of mail policy.
import type { Socket } from 'node:net';
import {
  Cmd, FrameDecoder, MilterProtocolError, decodeCommand, encodeReplies, expectsReply, negotiateAsFilter,
  type Frame, type FilterReply, type MtaCommand, type Agreement,
} from '../../codec/index.js';
import type { Logger } from '../log/logger.js';
import type { HandlerFactory, MilterHandler, StepAnswer } from './handler.js';
import { MacroStore } from './macros.js';

export interface SessionOptions {
  maxFrameLength: number;
  /**
   * Per-step timeouts in ms; keep them below the MTA's (Postfix: 30 s commands, 300 s content).
   * Connection timers: `firstFrame` from accept to the first complete frame, `frame` from the first
   * byte of a frame to its last, `idle` between complete frames (defaults: DEFAULT_FIRST_FRAME_MS,
   * DEFAULT_FRAME_MS).
   */
  timeouts: { connect: number; command: number; content: number; eom: number; idle: number; firstFrame?: number; frame?: number };
  /** Told when a connection timer closes a connection (metrics). Must not throw; errors are ignored. */
  onTimeout?: (kind: ConnectionTimeoutKind) => void;
  /** Answer when a step fails or times out (unless the session's factory gives its own). */
  errorAction: 'tempfail' | 'reject';
  /** Pause reading when this many bytes of frames wait to be handled (backpressure). */
  highWaterBytes: number;
}

/** Which connection timer closed a connection. */
export type ConnectionTimeoutKind = 'first-frame' | 'frame' | 'idle';
export const DEFAULT_FIRST_FRAME_MS = 30_000;
export const DEFAULT_FRAME_MS = 300_000;

class StepTimeout extends Error {
  readonly code = 'STEP_TIMEOUT';
}

export class MilterSession {
  private readonly decoder: FrameDecoder;
  private readonly macros = new MacroStore();
  private readonly queue: Frame[] = [];
  private queuedBytes = 0;
  private running = false;
  private closed = false;
  private agreement: Agreement | undefined;
  private handler: MilterHandler | undefined;
  private inMessage = false;
  /**
   * A step failed (threw or timed out) where the protocol allowed no reply (NR_*), so its error
   * action could not be sent then: the end of message answers with it instead (never a silent
   * accept). Message scope is cleared when the message ends; connection scope (CONNECT/HELO/UNKNOWN)
   * lasts for the connection.
   */
  private failedMessage = false;
  private failedConnection = false;
  private idleTimer: NodeJS.Timeout | undefined;
  /** What the connection timer is waiting for now, and its length. */
  private waiting: ConnectionTimeoutKind = 'first-frame';
  private waitMs = 0;
  private sawFrame = false;
  /** Resolves when the session has fully ended. */
  readonly done: Promise<void>;
  private resolveDone!: () => void;

  constructor(
    readonly id: string,
    private readonly socket: Socket,
    private readonly factory: HandlerFactory,
    private readonly options: SessionOptions,
    private readonly log: Logger,
  ) {
    this.done = new Promise((r) => (this.resolveDone = r));
    this.decoder = new FrameDecoder({ maxFrameLength: options.maxFrameLength });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.finish('peer closed'));
    socket.on('close', () => this.finish('socket closed'));
    socket.on('error', (err) => {
      this.log.debug({ session: id, err: err.message }, 'socket error');
      this.finish('socket error');
    });
    this.touch();
  }

  /** True while a message is between MAIL and its end: a drain waits for these. */
  get busy(): boolean {
    return this.inMessage || this.running;
  }

  /** Close after the current message (graceful shutdown). */
  closeWhenIdle(): void {
    if (!this.busy) this.socket.end();
  }

  destroy(reason: string): void {
    this.log.warn({ session: this.id, reason }, 'closing milter connection');
    this.socket.destroy();
    this.finish(reason);
  }

  /**
   * (Re-)arm the one connection timer for what we wait for now: the first frame, the rest of a frame
   * already begun (not re-armed by more bytes of it: a trickle cannot keep a slot), or the next frame.
   */
  private touch(): void {
    const t = this.options.timeouts;
    // Before the first frame, one deadline from accept: partial bytes do not extend it.
    const kind: ConnectionTimeoutKind = !this.sawFrame ? 'first-frame' : this.decoder.pendingBytes > 0 ? 'frame' : 'idle';
    const ms = kind === 'frame' ? (t.frame ?? DEFAULT_FRAME_MS) : kind === 'idle' ? t.idle : (t.firstFrame ?? DEFAULT_FIRST_FRAME_MS);
    if (this.idleTimer && kind === this.waiting && (kind === 'frame' || kind === 'first-frame')) return; // keeps running
    this.waiting = kind;
    if (this.idleTimer && ms === this.waitMs) {
      // Re-arm the one timer instead of allocating a new one per read (hot path).
      this.idleTimer.refresh();
      return;
    }
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.waitMs = ms;
    this.idleTimer = setTimeout(() => this.timedOut(), ms);
    this.idleTimer.unref();
  }

  private timedOut(): void {
    if (this.closed) return;
    const kind = this.waiting;
    if ((kind === 'idle' && this.running) || (kind === 'frame' && this.socket.isPaused())) {
      // Our own step is still working (it has its own time budget): the MTA is waiting for us; or we
      // hold reading paused (backpressure) and the rest of the frame waits unread in the socket.
      this.idleTimer?.refresh();
      return;
    }
    const what =
      kind === 'first-frame' ? 'no complete milter frame since the connection opened'
        : kind === 'frame' ? `a frame begun but not completed (${this.decoder.pendingBytes} bytes received)`
          : 'no milter frame';
    this.log.warn({ session: this.id, timeout: kind, ms: this.waitMs, inMessage: this.inMessage }, `milter connection timed out: ${what} for ${this.waitMs} ms`);
    try {
      this.options.onTimeout?.(kind);
    } catch {
      /* counting must never stop the close */
    }
    this.socket.destroy();
    this.finish(`${kind} timeout`);
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      this.protocolError(err);
      return;
    }
    if (frames.length > 0) this.sawFrame = true;
    // A complete frame restarts the clock (even when another one has begun after it).
    if (frames.length > 0 && this.idleTimer) this.waiting = 'idle';
    this.touch();
    for (const f of frames) {
      this.queue.push(f);
      this.queuedBytes += f.payload.length + 5;
    }
    if (this.queuedBytes > this.options.highWaterBytes) this.socket.pause();
    if (!this.running) void this.drain();
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const frame = this.queue.shift()!;
        this.queuedBytes -= frame.payload.length + 5;
        if (this.socket.isPaused() && this.queuedBytes < this.options.highWaterBytes / 2) this.socket.resume();
        await this.handleFrame(frame);
      }
    } catch (err) {
      this.protocolError(err);
    } finally {
      this.running = false;
    }
  }

  private protocolError(err: unknown): void {
    const msg = err instanceof Error ? err.message : String(err);
    const code = err instanceof MilterProtocolError ? err.code : 'INTERNAL';
    this.log.warn({ session: this.id, code, err: msg }, 'milter protocol error; closing this connection');
    this.socket.destroy();
    this.finish('protocol error');
  }

  private send(replies: FilterReply[]): void {
    if (this.closed || replies.length === 0) return;
    this.socket.write(encodeReplies(replies));
  }

  private async handleFrame(frame: Frame): Promise<void> {
    const cmd = decodeCommand(frame);
    if (this.log.isLevelEnabled('debug')) this.log.debug({ session: this.id, cmd: describe(cmd) }, 'milter command');
    if (cmd.type === 'optneg') return this.negotiate(cmd);
    if (!this.agreement || !this.handler) {
      if (cmd.type === 'macro' || cmd.type === 'quit') return cmd.type === 'quit' ? this.end() : undefined;
      throw new MilterProtocolError('BAD_PAYLOAD', `command ${cmd.type} before option negotiation`);
    }
    const handler = this.handler;
    switch (cmd.type) {
      case 'macro':
        this.macros.set(cmd.stage, cmd.macros);
        return;
      case 'abort':
        this.endMessage(handler);
        this.failedMessage = false;
        return;
      case 'quit':
        return this.end();
      case 'quitNewConnection':
        this.endMessage(handler);
        handler.close();
        this.macros.clearAll();
        this.handler = this.factory.create(this.environment());
        return;
      case 'connect':
        return this.step(frame.code, 'connect', () => handler.connect(cmd), this.options.timeouts.connect);
      case 'helo':
        return this.step(frame.code, 'helo', () => handler.helo(cmd.name), this.options.timeouts.command);
      case 'mail':
        // sendmail sends no ABORT after an early final decision: a new MAIL starts a new message.
        if (this.inMessage) this.abortHandler(handler);
        this.inMessage = true;
        this.failedMessage = false;
        return this.step(frame.code, 'mail', () => handler.mail(cmd.args), this.options.timeouts.command);
      case 'rcpt':
        return this.step(frame.code, 'rcpt', () => handler.rcpt(cmd.args), this.options.timeouts.command);
      case 'data':
        return this.step(frame.code, 'data', () => handler.data(), this.options.timeouts.command);
      case 'header': {
        const raw = headerValueBytes(frame.payload);
        return this.step(frame.code, 'header', () => handler.header(cmd.name, cmd.value, raw), this.options.timeouts.content);
      }
      case 'eoh':
        return this.step(frame.code, 'eoh', () => handler.eoh(), this.options.timeouts.content);
      case 'body':
        return this.step(frame.code, 'body', () => handler.body(cmd.chunk), this.options.timeouts.content);
      case 'eob': {
        if (cmd.chunk && cmd.chunk.length > 0) {
          // libmilter's reading: data in BODYEOB is a last body chunk.
          const failed = { value: false };
          await this.call('body', () => handler.body(cmd.chunk!), this.options.timeouts.content, failed);
          if (failed.value) this.failedMessage = true;
        }
        await this.step(frame.code, 'eom', () => handler.eom(), this.options.timeouts.eom);
        this.endMessage(handler);
        this.failedMessage = false;
        return;
      }
      case 'unknown':
        return this.step(frame.code, 'unknown', () => handler.unknown(cmd.line), this.options.timeouts.command);
    }
  }

  private negotiate(cmd: Extract<MtaCommand, { type: 'optneg' }>): void {
    if (this.handler) {
      // A second OPTNEG resets the connection state, as libmilter does.
      this.endMessage(this.handler);
      this.handler.close();
    }
    this.agreement = negotiateAsFilter(cmd, this.factory.wanted());
    this.macros.clearAll();
    this.handler = this.factory.create(this.environment());
    this.log.debug({ session: this.id, offered: cmd, agreed: this.agreement.reply }, 'negotiated');
    this.send([this.agreement.reply]);
  }

  /** The error action of the policy this session runs under (fixed by its factory for its whole life). */
  private errorAction(): 'tempfail' | 'reject' {
    return this.factory.errorAction?.() ?? this.options.errorAction;
  }

  private environment() {
    return {
      sessionId: this.id,
      macro: (name: string) => this.macros.get(name),
      protocol: () => this.agreement?.protocol ?? 0,
      actions: () => this.agreement?.actions ?? 0,
    };
  }

  /** Run one step and answer it when the protocol expects an answer. */
  private async step(code: number, name: string, run: () => StepAnswer | Promise<StepAnswer>, timeoutMs: number): Promise<void> {
    const failed = { value: false };
    let answer = await this.call(name, run, timeoutMs, failed);
    if (!expectsReply(code, this.agreement!.protocol)) {
      if (failed.value) {
        if (code === Cmd.CONNECT || code === Cmd.HELO || code === Cmd.UNKNOWN) this.failedConnection = true;
        else this.failedMessage = true;
      }
      return;
    }
    if (code === Cmd.BODYEOB && (this.failedMessage || this.failedConnection) && !failed.value) {
      this.log.error({ session: this.id }, 'an unanswered step of this message failed earlier; answering with the error action');
      answer = { final: { type: this.errorAction() } };
    }
    const replies: FilterReply[] = [];
    if (answer.modifications && answer.modifications.length > 0) {
      if (code === Cmd.BODYEOB) replies.push(...answer.modifications);
      else this.log.error({ session: this.id, step: name }, 'modifications outside end of message dropped');
    }
    let final = answer.final;
    if (final.type === 'skip' && (code !== Cmd.BODY || (this.agreement!.protocol & 0x400) === 0)) final = { type: 'continue' };
    replies.push(final);
    this.send(replies);
  }

  private async call(name: string, run: () => StepAnswer | Promise<StepAnswer>, timeoutMs: number, failed?: { value: boolean }): Promise<StepAnswer> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = run();
      if (!(result instanceof Promise)) return result;
      return await Promise.race([
        result,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new StepTimeout(`${name} took longer than ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } catch (err) {
      const timeout = err instanceof StepTimeout;
      this.log.error(
        { session: this.id, step: name, err: err instanceof Error ? err.message : String(err), timeout },
        timeout ? 'policy step timed out; answering with the error action' : 'policy step failed; answering with the error action',
      );
      this.handler?.stepFailed?.(name, err);
      if (failed) failed.value = true;
      return { final: { type: this.errorAction() } };
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  private endMessage(handler: MilterHandler): void {
    if (!this.inMessage) return;
    this.inMessage = false;
    this.macros.clearMessage();
    this.abortHandler(handler);
  }

  private abortHandler(handler: MilterHandler): void {
    try {
      handler.abort();
    } catch (err) {
      this.log.error({ session: this.id, err: String(err) }, 'handler abort failed');
    }
  }

  private end(): void {
    this.socket.end();
    this.finish('quit');
  }

  private finish(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.queue.length = 0;
    const handler = this.handler;
    this.handler = undefined;
    if (handler) {
      try {
        if (this.inMessage) handler.abort();
        handler.close();
      } catch (err) {
        this.log.error({ session: this.id, err: String(err) }, 'handler close failed');
      }
    }
    this.inMessage = false;
    this.log.debug({ session: this.id, reason }, 'milter connection ended');
    this.resolveDone();
  }
}

/** The exact bytes of a HEADER frame's value (after the name's NUL, before the value's NUL). */
function headerValueBytes(payload: Buffer): Buffer {
  const nameEnd = payload.indexOf(0);
  if (nameEnd === -1) return Buffer.alloc(0);
  const end = payload.indexOf(0, nameEnd + 1);
  return payload.subarray(nameEnd + 1, end === -1 ? payload.length : end);
}

function describe(cmd: MtaCommand): unknown {
  if (cmd.type === 'body') return { type: 'body', bytes: cmd.chunk.length };
  if (cmd.type === 'eob') return { type: 'eob', bytes: cmd.chunk?.length ?? 0 };
  return cmd;
}
