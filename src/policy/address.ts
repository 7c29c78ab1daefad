// Normalising what the MTA tells us about the client and the envelope: sendmail's "IPv6:" prefix,
// bracketed literals, IPv4-mapped IPv6, and angle-bracketed paths.
import net from 'node:net';
import type { ConnectInfo } from '../server/handler.js';
import type { ClientInfo } from './types.js';

/** Strip "IPv6:" and brackets; map ::ffff:a.b.c.d to a.b.c.d; undefined when not an address. */
export function normaliseAddress(text: string | undefined): string | undefined {
  if (!text) return undefined;
  let a = text.trim().replace(/^\[(.*)\]$/, '$1');
  if (/^ipv6:/i.test(a)) a = a.slice(5);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  if (mapped) a = mapped[1]!;
  return net.isIP(a) ? a.toLowerCase() : undefined;
}

export function normaliseClient(info: ConnectInfo): ClientInfo {
  const address = normaliseAddress(info.address);
  const client: ClientInfo = {
    hostname: info.hostname || 'unknown',
    family: info.family === 'inet4' || info.family === 'inet6' ? (address && net.isIPv4(address) ? 'inet4' : info.family) : info.family,
  };
  if (address) client.address = address;
  if (info.port !== undefined && (info.family === 'inet4' || info.family === 'inet6')) client.port = info.port;
  return client;
}

/** "<user@example.com>" -> "user@example.com"; "<>" -> "". Source routes are kept (policy decides). */
export function parsePath(raw: string): string {
  const t = raw.trim();
  if (t.startsWith('<') && t.endsWith('>')) return t.slice(1, -1);
  return t;
}
