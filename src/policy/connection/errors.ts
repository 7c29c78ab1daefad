// Typed errors of the connection policy (load-time configuration problems).
export class ConnectionConfigError extends Error {
  readonly code = 'CONNECTION_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'ConnectionConfigError';
  }
}
