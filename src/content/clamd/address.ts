// Parses the clamd address setting: "unix:/path", a bare absolute "/path", or "tcp:host:port"
// ("tcp:[::1]:3310" for IPv6). Pure function; never touches the network.

export type ClamdAddress =
  | { kind: 'unix'; path: string }
  | { kind: 'tcp'; host: string; port: number };

/** Debian's clamav-daemon socket: a stock install works with no configuration. */
export const DEFAULT_CLAMD_ADDRESS = 'unix:/var/run/clamav/clamd.ctl';

export class ClamdAddressError extends Error {
  override readonly name = 'ClamdAddressError';
  readonly code = 'CLAMD_ADDRESS';
}

export function parseClamdAddress(text: string): ClamdAddress {
  const s = text.trim();
  if (s.startsWith('/')) return { kind: 'unix', path: s };
  if (s.startsWith('unix:')) {
    const path = s.slice(5);
    if (!path.startsWith('/')) throw new ClamdAddressError(`clamd address "${text}": unix socket path must be absolute`);
    return { kind: 'unix', path };
  }
  if (s.startsWith('tcp:')) {
    const rest = s.slice(4);
    const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(rest);
    if (!m) throw new ClamdAddressError(`clamd address "${text}": expected tcp:host:port or tcp:[v6addr]:port`);
    const port = Number(m[3]);
    if (port < 1 || port > 65535) throw new ClamdAddressError(`clamd address "${text}": port out of range`);
    return { kind: 'tcp', host: (m[1] ?? m[2]) as string, port };
  }
  throw new ClamdAddressError(`clamd address "${text}": expected unix:/path, /path or tcp:host:port`);
}

export function formatClamdAddress(a: ClamdAddress): string {
  return a.kind === 'unix' ? `unix:${a.path}` : `tcp:${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
}
