// Parsing of listen addresses in the notations administrators already use:
// libmilter's `inet:PORT@HOST` / `inet6:PORT@HOST` (clamav-milter, opendkim), Postfix's
// `inet:HOST:PORT`, and `unix:/path` or `local:/path`. Never guesses: a bad spec is a clear error.
import net from 'node:net';

export type ListenSpec =
  | { kind: 'tcp'; host: string; port: number; text: string }
  | { kind: 'unix'; path: string; text: string };

export class SocketSpecError extends Error {
  readonly code = 'BAD_SOCKET_SPEC';
  override readonly name = 'SocketSpecError';
}

export const DEFAULT_LISTEN = 'inet:10027@127.0.0.1';

function port(text: string, spec: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) throw new SocketSpecError(`bad port "${text}" in "${spec}"`);
  return Number(text);
}

export function parseListenSpec(spec: string): ListenSpec {
  const s = spec.trim();
  const m = /^(inet6?|unix|local):(.+)$/.exec(s);
  if (!m) throw new SocketSpecError(`unsupported socket "${spec}": use inet:PORT@HOST, inet:HOST:PORT, inet6:PORT@HOST or unix:/path`);
  const [, scheme, rest] = m as unknown as [string, string, string];
  if (scheme === 'unix' || scheme === 'local') {
    if (!rest.startsWith('/')) throw new SocketSpecError(`unix socket path must be absolute in "${spec}"`);
    return { kind: 'unix', path: rest, text: s };
  }
  let host: string;
  let p: number;
  const at = rest.lastIndexOf('@');
  if (at !== -1) {
    p = port(rest.slice(0, at), spec);
    host = rest.slice(at + 1);
  } else if (/^\d+$/.test(rest)) {
    p = port(rest, spec);
    host = scheme === 'inet6' ? '::1' : '127.0.0.1';
  } else {
    const colon = rest.lastIndexOf(':');
    if (colon === -1) throw new SocketSpecError(`missing port in "${spec}"`);
    p = port(rest.slice(colon + 1), spec);
    host = rest.slice(0, colon);
  }
  host = host.replace(/^\[(.*)\]$/, '$1');
  if (host === '' || host === '*') host = scheme === 'inet6' ? '::' : '0.0.0.0';
  if (host === 'localhost') host = scheme === 'inet6' ? '::1' : '127.0.0.1';
  if (net.isIP(host) === 0 && !/^[A-Za-z0-9.-]+$/.test(host)) throw new SocketSpecError(`bad host "${host}" in "${spec}"`);
  if (scheme === 'inet6' && net.isIPv4(host)) throw new SocketSpecError(`inet6 socket with IPv4 host in "${spec}"`);
  return { kind: 'tcp', host, port: p, text: s };
}
