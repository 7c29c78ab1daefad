// Per-session and per-message state of the connection policy, keyed by sessionId.
// Holds decisions made early (deny at CONNECT) until the stage where they are given, and the pending
// DNS work started at CONNECT. Must never outlive close(): the owner deletes it there.
import type { RuleHit } from '../types.js';
import type { IP } from './addr.js';
import type { RdnsResult } from './rdns.js';

export interface MessageState {
  /** RCPT calls this module saw in this message (including ones others rejected). */
  attempted: number;
  /** The hard-limit decision was already made (at DATA; EOM is the fallback). */
  hardChecked: boolean;
}

export interface SessionState {
  id: string;
  /** client.allow fired: every later Layer 1 check is skipped. */
  accepted: boolean;
  /** Client in internalNetworks. */
  internal: boolean;
  ip: IP | undefined;
  /** MTA-reported, verified host name (lower case), when the MTA resolved it. */
  hostname: string | undefined;
  rateKey: string | undefined;
  /** Concurrency slot held (released at close). */
  concurrencyKey: string | undefined;
  /** Decided at CONNECT, given at client.rejectAt. */
  deferred: RuleHit[];
  /** DNSBL and rDNS hits, computed concurrently from CONNECT on. */
  pending: Promise<RuleHit[]> | undefined;
  /** FCrDNS verification (shared by rdns.* and helo.mismatch). */
  rdns: Promise<RdnsResult> | undefined;
  /** Deferred hits were given. */
  flushed: boolean;
  /** Sticky refusal: given again at every later stage. */
  block: RuleHit | undefined;
  /** Refusal of the latest HELO, given again at MAIL/RCPT until a good HELO replaces it. */
  heloBlock: RuleHit | undefined;
  unknown: number;
  msg: MessageState;
}

export function newMessage(): MessageState {
  return { attempted: 0, hardChecked: false };
}

export function newSession(id: string): SessionState {
  return {
    id,
    accepted: false,
    internal: false,
    ip: undefined,
    hostname: undefined,
    rateKey: undefined,
    concurrencyKey: undefined,
    deferred: [],
    pending: undefined,
    rdns: undefined,
    flushed: false,
    block: undefined,
    heloBlock: undefined,
    unknown: 0,
    msg: newMessage(),
  };
}
