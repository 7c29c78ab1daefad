// Typed protocol errors. Everything wrong on the wire surfaces as a MilterProtocolError with a code,
// never as a generic exception, so a server can log it and close just that one connection.

export type MilterErrorCode =
  | 'FRAME_EMPTY' // length field 0: no command byte
  | 'FRAME_TOO_LARGE' // length above the configured maximum
  | 'UNKNOWN_COMMAND' // command byte not in the protocol
  | 'BAD_PAYLOAD' // payload does not match the command's format
  | 'BAD_NEGOTIATION' // option negotiation impossible (version, flags)
  | 'BAD_REPLY'; // a reply value that must not be sent (bad SMTP code, oversize...)

export class MilterProtocolError extends Error {
  override readonly name = 'MilterProtocolError';
  constructor(
    readonly code: MilterErrorCode,
    message: string,
  ) {
    super(message);
  }
}
