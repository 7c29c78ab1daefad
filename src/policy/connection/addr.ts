// Address helpers for Layer 1: client address normalisation (both MTAs' CONNECT formats), CIDR lists,
// host-name and e-mail address syntax. Pure functions; they must never throw on bad input.
import ipaddr from 'ipaddr.js';
import { ConnectionConfigError } from './errors.js';

export type IP = ipaddr.IPv4 | ipaddr.IPv6;

/** Longest name or address we look at (issue 3: > 1000 octets is bad input). */
export const MAX_INPUT = 1000;

/** Text unfit for any check: NUL or other control characters, or overlong. Returns a reason or undefined. */
export function badText(s: string): string | undefined {
  if (Buffer.byteLength(s, 'utf8') > MAX_INPUT) return `longer than ${MAX_INPUT} octets`;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0) return 'contains NUL';
    if (c < 0x20 || c === 0x7f) return 'contains control characters';
  }
  return undefined;
}

/**
 * Parse a client address as an MTA may report it: "192.0.2.1", "2001:db8::1", "IPv6:2001:db8::1"
 * (sendmail), "[192.0.2.1]" / "[IPv6:2001:db8::1]". IPv4-mapped IPv6 becomes IPv4. undefined if invalid.
 */
export function parseClientAddress(text: string): IP | undefined {
  let s = text.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  if (s.length > 5 && s.slice(0, 5).toLowerCase() === 'ipv6:') s = s.slice(5);
  // ipaddr.isValid accepts odd IPv4 forms ("0x7f.1"); MTAs only send dotted quads.
  if (s.includes(':')) {
    if (!ipaddr.IPv6.isValid(s)) return undefined;
  } else if (!ipaddr.IPv4.isValidFourPartDecimal(s)) return undefined;
  try {
    return ipaddr.process(s);
  } catch {
    return undefined;
  }
}

/** Equality of two addresses (IPv4-mapped folded to IPv4). */
export function sameAddress(a: IP, b: IP): boolean {
  if (a.kind() !== b.kind()) return false;
  const x = a.toByteArray();
  const y = b.toByteArray();
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** Key used for rate counters: IPv4 address, or the IPv6 prefix of the given length. */
export function rateKeyOf(ip: IP, v6Prefix: number): string {
  if (ip.kind() === 'ipv4') return ip.toString();
  const bytes = ip.toByteArray();
  for (let bit = v6Prefix; bit < 128; bit++) bytes[bit >> 3]! &= ~(0x80 >> (bit & 7));
  return `${ipaddr.fromByteArray(bytes).toString()}/${v6Prefix}`;
}

/** A list of addresses and CIDR ranges, checked at load time. */
export class CidrList {
  private readonly v4: [ipaddr.IPv4, number][] = [];
  private readonly v6: [ipaddr.IPv6, number][] = [];

  constructor(entries: readonly string[], what: string) {
    for (const e of entries) {
      const t = e.trim();
      try {
        if (t.includes('/')) {
          const [addr, bits] = ipaddr.parseCIDR(t);
          if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) {
            this.v4.push([(addr as ipaddr.IPv6).toIPv4Address(), bits - 96]);
          } else if (addr.kind() === 'ipv4') this.v4.push([addr as ipaddr.IPv4, bits]);
          else this.v6.push([addr as ipaddr.IPv6, bits]);
        } else {
          const addr = parseClientAddress(t);
          if (addr === undefined) throw new Error('not an address');
          if (addr.kind() === 'ipv4') this.v4.push([addr as ipaddr.IPv4, 32]);
          else this.v6.push([addr as ipaddr.IPv6, 128]);
        }
      } catch (err) {
        throw new ConnectionConfigError(`${what}: invalid address or CIDR ${JSON.stringify(e)} (${(err as Error).message})`);
      }
    }
  }

  get empty(): boolean {
    return this.v4.length === 0 && this.v6.length === 0;
  }

  has(ip: IP): boolean {
    if (ip.kind() === 'ipv4') {
      for (const [r, b] of this.v4) if ((ip as ipaddr.IPv4).match(r, b)) return true;
    } else {
      for (const [r, b] of this.v6) if ((ip as ipaddr.IPv6).match(r, b)) return true;
    }
    return false;
  }
}

/** Host-name patterns: exact names, or ".example.org" for every subdomain of example.org. */
export class NameList {
  private readonly exact = new Set<string>();
  private readonly suffixes: string[] = [];

  constructor(entries: readonly string[]) {
    for (const e of entries) {
      const n = normName(e);
      if (n.startsWith('.')) this.suffixes.push(n);
      else if (n) this.exact.add(n);
    }
  }

  get empty(): boolean {
    return this.exact.size === 0 && this.suffixes.length === 0;
  }

  has(name: string): boolean {
    if (this.exact.has(name)) return true;
    for (const s of this.suffixes) if (name.length > s.length && name.endsWith(s)) return true;
    return false;
  }
}

/** Lower case, no trailing dot. */
export function normName(s: string): string {
  const n = s.trim().toLowerCase();
  return n.endsWith('.') ? n.slice(0, -1) : n;
}

/** RFC 1123 host name with at least two labels and a non-numeric top label. */
export function isFqdn(name: string, allowUnderscore: boolean): boolean {
  const n = name.endsWith('.') ? name.slice(0, -1) : name;
  if (n.length === 0 || n.length > 253) return false;
  let labels = 0;
  let start = 0;
  let allDigits = true;
  for (let i = 0; i <= n.length; i++) {
    const c = i < n.length ? n.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      const len = i - start;
      if (len === 0 || len > 63) return false;
      if (n.charCodeAt(start) === 0x2d || n.charCodeAt(i - 1) === 0x2d) return false;
      labels++;
      if (i < n.length) allDigits = true;
      start = i + 1;
      continue;
    }
    const digit = c >= 0x30 && c <= 0x39;
    if (!digit) allDigits = false;
    const ok = digit || (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x2d || (allowUnderscore && c === 0x5f);
    if (!ok) return false;
  }
  return labels >= 2 && !allDigits;
}

/** Domain part of an address ("" when there is none); the address has no angle brackets. */
export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? '' : normName(address.slice(at + 1));
}

/** A source-routed path: "<@a,@b:user@c>" or "@a:user@c". */
export function isSourceRoute(raw: string | undefined): boolean {
  if (!raw) return false;
  let s = raw.trimStart();
  if (s.startsWith('<')) s = s.slice(1);
  return s.startsWith('@');
}
