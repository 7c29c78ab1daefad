// What `postern quarantine` knows about one held message, whichever MTA holds it, and the errors
// its backends raise. Data only: no I/O here.

export type MtaKind = 'postfix' | 'sendmail';

/** Why Postern held a message, and where that was read. */
export interface PosternReason {
  /** Rule id(s) that decided the quarantine (e.g. "archive.encrypted", "score.quarantine"); undefined when unknown. */
  rule?: string;
  /** Human text: the MTA's stored reason, or one built from the trace header / Postern log. */
  text: string;
  /**
   * mta: the reason text the MTA stored from SMFIR_QUARANTINE (sendmail's qf/hf "q" line);
   * postern-log: Postern's summary log line for this queue id (--log FILE);
   * trace-header: Postern's trace header in the held message (Postfix keeps no reason text);
   * none: nothing found (held by something else, or the trace header was switched off).
   */
  source: 'mta' | 'postern-log' | 'trace-header' | 'none';
  /** Rules that fired, from the trace header or the log (for `show`). */
  rules?: string[];
  score?: number;
}

export interface HeldMessage {
  mta: MtaKind;
  id: string;
  /** Arrival time, when the MTA records it. */
  arrival?: Date;
  sender: string;
  recipients: string[];
  /** Message size in bytes as the MTA reports it. */
  size: number;
  reason: PosternReason;
}

export interface ShownMessage extends HeldMessage {
  /** Header fields of the held message (name, unfolded value), in order. */
  headers: Array<[string, string]>;
  /** The MTA's own view of the envelope (postcat -e output, or the hf file's envelope lines). */
  envelopeText: string;
}

export type QuarantineErrorCode = 'tool-missing' | 'tool-failed' | 'unknown-id' | 'bad-id' | 'no-mta' | 'bad-config';

export class QuarantineError extends Error {
  constructor(
    public readonly code: QuarantineErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'QuarantineError';
  }
}

export interface QuarantineBackend {
  readonly mta: MtaKind;
  /** Where the queue lives, for messages ("postfix -c /etc/postfix", "sendmail queue /var/spool/mqueue"). */
  describe(): string;
  list(): Promise<HeldMessage[]>;
  show(id: string): Promise<ShownMessage>;
  /** Put the message back into the active queue and ask the MTA to deliver it now. */
  release(id: string): Promise<void>;
  /** Remove the held message for good. */
  delete(id: string): Promise<void>;
}

/** Queue ids are letters and digits only (Postfix short/long ids, sendmail ids); "ALL" is refused. */
export function checkQueueId(id: string): string {
  if (!/^[A-Za-z0-9]{5,40}$/.test(id) || id.toUpperCase() === 'ALL') {
    throw new QuarantineError('bad-id', `"${id}" is not a queue id (letters and digits, as listed by "postern quarantine list")`);
  }
  return id;
}
