// The interface between the milter session (protocol, sockets) and whatever decides (the policy
// engine). The session calls one handler per connection, one step at a time, in protocol order.
import type { ConnectFamily, FilterReply, Wanted } from '../../codec/index.js';

export interface ConnectInfo {
  hostname: string;
  family: ConnectFamily;
  port?: number;
  address?: string;
}

/** A final reply to one step, plus modifications (legal only at end of message). */
export interface StepAnswer {
  final: Extract<FilterReply, { type: 'continue' | 'accept' | 'reject' | 'tempfail' | 'discard' | 'replyCode' | 'skip' }>;
  modifications?: FilterReply[];
}

type Maybe<T> = T | Promise<T>;

export interface MilterHandler {
  connect(info: ConnectInfo): Maybe<StepAnswer>;
  helo(name: string): Maybe<StepAnswer>;
  mail(args: string[]): Maybe<StepAnswer>;
  rcpt(args: string[]): Maybe<StepAnswer>;
  data(): Maybe<StepAnswer>;
  /** `raw` is the value's exact bytes (which may not be valid UTF-8). */
  header(name: string, value: string, raw: Buffer): Maybe<StepAnswer>;
  eoh(): Maybe<StepAnswer>;
  body(chunk: Buffer): Maybe<StepAnswer>;
  eom(): Maybe<StepAnswer>;
  unknown(line: string): Maybe<StepAnswer>;
  /** Message ended without end-of-message (ABORT/RSET), or after it. Never replied to. */
  abort(): void;
  /** Connection ended (QUIT, EOF, error). */
  close(): void;
  /** The session gave up waiting on a step (timeout) or the step threw: for the summary log. */
  stepFailed?(step: string, error: unknown): void;
}

export interface SessionEnvironment {
  sessionId: string;
  /** Macro lookup across stages, newest first; accepts "i" and "{i}" forms. */
  macro(name: string): string | undefined;
  /** Agreed protocol flags (SMFIP_*) and actions (SMFIF_*) after negotiation. */
  protocol(): number;
  actions(): number;
}

export interface HandlerFactory {
  /** Steps, no-reply flags, actions and macros the loaded policy needs. */
  wanted(): Wanted;
  create(env: SessionEnvironment): MilterHandler;
  /**
   * Answer for a step that fails or times out in sessions of this factory (the policy's error action,
   * so a reload that changes it reaches new sessions). Absent: the server's `errorAction` option.
   */
  errorAction?(): 'tempfail' | 'reject';
  /**
   * A session starts using this factory (at accept). The returned function is called exactly once, when
   * that session has ended, so the factory can keep its resources alive while any session uses them.
   */
  attach?(): () => void;
}
