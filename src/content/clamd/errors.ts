// Typed errors of the clamd client. Every failure to get a verdict from clamd is one of these, so the
// content check can map it to the configured fail action. Never thrown for an infected result.

export type ClamdErrorCode =
  | 'CLAMD_CONNECT' // socket absent, connection refused, host unreachable
  | 'CLAMD_TIMEOUT' // connect or scan took longer than allowed
  | 'CLAMD_ABORTED' // caller's signal fired (message time budget ran out)
  | 'CLAMD_SIZE_LIMIT' // clamd said "INSTREAM size limit exceeded" (StreamMaxLength)
  | 'CLAMD_ERROR' // clamd answered "... ERROR"
  | 'CLAMD_PROTOCOL'; // reply missing, truncated or not understood

export class ClamdError extends Error {
  override readonly name: string = 'ClamdError';
  constructor(
    readonly code: ClamdErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class ClamdConnectError extends ClamdError {
  override readonly name = 'ClamdConnectError';
  constructor(
    message: string,
    /** The system error code (ENOENT, ECONNREFUSED, EACCES...) when known. */
    readonly sysCode?: string,
    options?: { cause?: unknown },
  ) {
    super('CLAMD_CONNECT', message, options);
  }
}

export class ClamdTimeoutError extends ClamdError {
  override readonly name = 'ClamdTimeoutError';
  constructor(
    readonly phase: 'connect' | 'scan',
    readonly timeoutMs: number,
  ) {
    super('CLAMD_TIMEOUT', `clamd ${phase} timed out after ${timeoutMs} ms`);
  }
}

export class ClamdAbortedError extends ClamdError {
  override readonly name = 'ClamdAbortedError';
  constructor(reason?: unknown) {
    super('CLAMD_ABORTED', `clamd request aborted${reason instanceof Error ? `: ${reason.message}` : ''}`, { cause: reason });
  }
}

export class ClamdSizeLimitError extends ClamdError {
  override readonly name = 'ClamdSizeLimitError';
  /** `reply` is clamd's refusal, or undefined when the client refused locally (maxStreamBytes). */
  constructor(readonly reply: string | undefined, readonly size?: number, readonly limit?: number) {
    super(
      'CLAMD_SIZE_LIMIT',
      reply !== undefined
        ? `clamd refused the stream: ${reply} (raise StreamMaxLength in clamd.conf)`
        : `stream of ${size} bytes is over the configured limit of ${limit} bytes (clamd StreamMaxLength)`,
    );
  }
}

export class ClamdReplyError extends ClamdError {
  override readonly name = 'ClamdReplyError';
  constructor(readonly reply: string) {
    super('CLAMD_ERROR', `clamd error: ${reply}`);
  }
}

export class ClamdProtocolError extends ClamdError {
  override readonly name = 'ClamdProtocolError';
  constructor(message: string, readonly reply?: string, options?: { cause?: unknown }) {
    super('CLAMD_PROTOCOL', message, options);
  }
}
