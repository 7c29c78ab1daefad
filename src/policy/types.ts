// The contract between the milter session server and every policy layer.
// A policy module sees typed facts about the SMTP session and returns rule hits; it never touches
// sockets or milter frames, and it never decides the final verdict alone: the engine combines hits.

/** The SMTP stages at which a policy module may be asked for hits, in dialogue order. */
export type Stage = 'connect' | 'helo' | 'mail' | 'rcpt' | 'data' | 'header' | 'eoh' | 'eom' | 'unknown';

/**
 * What a single rule wants done.
 * - accept: allow-list hit; ends checking for the layer that produced it (e.g. client allow list skips
 *   every later Layer 1 check). It never skips virus scanning.
 * - reject / tempfail: 5xx / 4xx. At RCPT they apply to that recipient only.
 * - discard: drop the whole message silently.
 * - quarantine: hold the message in the MTA's quarantine (Postfix hold queue).
 * - score: add `score` to the message score; thresholds decide at end of message.
 * - log: record only (shown in trace and log, no effect).
 */
export type RuleAction = 'accept' | 'reject' | 'tempfail' | 'discard' | 'quarantine' | 'score' | 'log';

/** An SMTP reply. `text` may have several lines (multi-line reply). */
export interface SmtpReply {
  code: number; // 4xx or 5xx
  enhanced: string; // e.g. "5.7.1"; class digit must match code
  text: string | string[];
}

/** One rule that fired. `rule` is a stable id shown in reply, log, trace header and metrics. */
export interface RuleHit {
  rule: string;
  action: RuleAction;
  /** Added to the message score when action is 'score' (may be negative). */
  score?: number;
  /** Reply to give for reject/tempfail; the engine supplies a default when absent. */
  reply?: SmtpReply;
  /** Why it fired, for humans. Never the sensitive data itself (card numbers etc.). */
  detail: string;
  /** Where it fired: "header Subject", "part 1.2 invoice.exe", "rcpt <a@b>"... */
  where?: string;
  /** Set by the engine when the rule (or whole policy) runs in monitor mode: logged, not acted on. */
  monitor?: boolean;
  /** Set by the engine: the stage at which the hit was produced. */
  stage?: Stage;
}

/** Mail direction relative to the protected organisation. */
export type Direction = 'inbound' | 'outbound' | 'internal';

export interface ClientInfo {
  /** Host name as the MTA reports it: a verified name, or "unknown" / "[addr]" when rDNS failed. */
  hostname: string;
  /** Normalised textual address (no "IPv6:" prefix, no brackets); undefined for unix/unknown. */
  address?: string;
  port?: number;
  family: 'inet4' | 'inet6' | 'unix' | 'unknown';
}

export interface Recipient {
  /** Address without angle brackets, as given by the MTA (may be "" for oddities). */
  address: string;
  /** The RCPT argument exactly as the MTA sent it (with brackets): needed for DELRCPT. */
  raw: string;
  args: string[];
  /** Macros seen at this RCPT ({rcpt_mailer}, {rcpt_host}, {rcpt_addr}). */
  macros: Readonly<Record<string, string>>;
}

export interface HeaderField {
  name: string;
  /** Value exactly as received from the MTA (leading space kept when HDR_LEADSPC was negotiated). */
  value: string;
}

/** Read-only facts about the session, available at every stage. */
export interface SessionFacts {
  /** Unique id of this milter connection (for logs). */
  sessionId: string;
  client: ClientInfo;
  helo?: string;
  /** Count of SMFIC_UNKNOWN commands seen in this session. */
  unknownCommands: number;
  /** Look up a macro by name; accepts "i", "{i}", "{daemon_name}", "daemon_name". Newest stage wins. */
  macro(name: string): string | undefined;
}

/** Facts about the current message (transaction). */
export interface MessageFacts {
  /** MTA queue id (macro i) once known. */
  queueId?: string;
  /** Sender without brackets; "" for the null sender <>. */
  sender?: string;
  senderRaw?: string;
  senderArgs: string[];
  /** Recipients accepted so far (rejected ones are not listed). */
  recipients: Recipient[];
  /** Recipients attempted so far, including rejected ones. */
  attemptedRecipients: number;
  /** Direction, decided after the first RCPT (or earlier from client facts). */
  direction?: Direction;
  headers: HeaderField[];
}

export interface StageContext {
  session: SessionFacts;
  message: MessageFacts;
  /** Hits produced earlier in this session/message (by any module), for modules that depend on them. */
  earlierHits: readonly RuleHit[];
}

export interface RcptContext extends StageContext {
  /** The recipient being checked (not yet in message.recipients). */
  rcpt: Recipient;
}

/** The message as a whole, available at end of message. */
export interface MessageSource {
  /** Total size in bytes of header + body as reconstructed for analysis. */
  readonly size: number;
  /** The whole raw message (headers CRLF, blank line, body) in one buffer. */
  read(): Promise<Buffer>;
  /** A path on disk holding the raw message, when it was spooled (large messages). */
  readonly spoolPath?: string;
}

export interface EomContext extends StageContext {
  source: MessageSource;
}

/** A header change planned by a policy module, applied at end of message via milter actions. */
/**
 * Values are plain (no leading space): the engine adds the space the MTA expects.
 */
export type HeaderChange =
  | { kind: 'add'; name: string; value: string }
  | { kind: 'insert'; index: number; name: string; value: string }
  /** index is 1-based among headers of that name; value "" deletes. */
  | { kind: 'change'; name: string; index: number; value: string };

export type EnvelopeChange =
  | { kind: 'changeFrom'; address: string; args?: string }
  | { kind: 'addRcpt'; address: string; args?: string }
  | { kind: 'delRcpt'; address: string };

export interface StageResult {
  hits: RuleHit[];
  headerChanges?: HeaderChange[];
  envelopeChanges?: EnvelopeChange[];
  /** Facts a module wants to publish (e.g. direction), merged by the engine. */
  direction?: Direction;
  /** Ask the engine not to add its trace header to this message (outbound mail with hidden names). */
  suppressTrace?: boolean;
}

type Maybe<T> = T | Promise<T>;

/**
 * A policy module: one rule family (client lists, DNSBL, attachments, outbound...). Every method is
 * optional; a module only implements the stages it acts on, so the server negotiates away the rest.
 * A module must not throw for bad input; a throw is treated as a failed check (configured error action).
 */
export interface PolicyModule {
  /** Stable family id, e.g. "connection", "content", "outbound". */
  readonly id: string;
  /**
   * The layer this module belongs to: an 'accept' hit ends checking in its own layer only.
   * 'envelope' = Layer 1, 'content' = Layer 2, 'outbound' = Layer 3.
   */
  readonly layer: 'envelope' | 'content' | 'outbound';
  connect?(ctx: StageContext): Maybe<StageResult>;
  helo?(ctx: StageContext): Maybe<StageResult>;
  mail?(ctx: StageContext): Maybe<StageResult>;
  rcpt?(ctx: RcptContext): Maybe<StageResult>;
  data?(ctx: StageContext): Maybe<StageResult>;
  header?(ctx: StageContext, header: HeaderField): Maybe<StageResult>;
  eoh?(ctx: StageContext): Maybe<StageResult>;
  eom?(ctx: EomContext): Maybe<StageResult>;
  /** An SMTP command the MTA did not recognise (SMFIC_UNKNOWN); session.unknownCommands is already counted. */
  unknown?(ctx: StageContext, command: string): Maybe<StageResult>;
  /** True when eom() reads the message source (headers + body); otherwise the body is not requested. */
  readonly needsContent?: boolean;
  /** Called when a message ends without EOM (ABORT/RSET) or after EOM: forget message state. */
  reset?(session: SessionFacts): void;
  /** Called once when the session ends. */
  close?(session: SessionFacts): void;
}

/** Empty result helper. */
export const NO_HITS: StageResult = Object.freeze({ hits: [] }) as StageResult;
