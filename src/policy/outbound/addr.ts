// Small pure helpers for the outbound layer: address/domain handling, domain lists, CIDR matching
// (IP parsing and CIDR lists are Layer 1's, connection/addr.ts). Pure functions only; must never do
// I/O or throw on bad input (bad input simply does not match; bad config throws at build time).
import { CidrList, parseClientAddress, type IP } from '../connection/addr.js';

/** Lower-case address without brackets or surrounding spaces. */
export function normAddress(address: string | undefined): string {
  if (!address) return '';
  let a = address.trim();
  if (a.startsWith('<') && a.endsWith('>')) a = a.slice(1, -1).trim();
  return a.toLowerCase();
}

/** Domain part of an address (lower case, no trailing dot), "" when there is none. */
export function domainOf(address: string | undefined): string {
  const a = normAddress(address);
  const at = a.lastIndexOf('@');
  if (at < 0) return '';
  return a.slice(at + 1).replace(/\.$/, '').replace(/^\[|\]$/g, '');
}

/**
 * Domain list: "example.com" matches exactly, ".example.com" matches sub-domains only,
 * "*.example.com" is the same as ".example.com".
 */
export class DomainList {
  private readonly exact = new Set<string>();
  private readonly suffixes: string[] = [];
  constructor(entries: readonly string[]) {
    for (const raw of entries) {
      const e = raw.trim().toLowerCase().replace(/\.$/, '').replace(/^@/, '');
      if (!e) continue;
      if (e.startsWith('*.')) this.suffixes.push(e.slice(1));
      else if (e.startsWith('.')) this.suffixes.push(e);
      else this.exact.add(e);
    }
  }
  get size(): number {
    return this.exact.size + this.suffixes.length;
  }
  has(domain: string): boolean {
    const d = domain.toLowerCase().replace(/\.$/, '');
    if (!d) return false;
    if (this.exact.has(d)) return true;
    for (const s of this.suffixes) if (d.endsWith(s)) return true;
    return false;
  }
}

/** Address list entries: "a@b.c" (exact), "@b.c" or "b.c" (whole domain), ".b.c" (sub-domains). */
export class AddressList {
  private readonly addresses = new Set<string>();
  private readonly domains: DomainList;
  constructor(entries: readonly string[]) {
    const doms: string[] = [];
    for (const raw of entries) {
      const e = raw.trim().toLowerCase();
      if (!e) continue;
      if (e.includes('@') && !e.startsWith('@')) this.addresses.add(normAddress(e));
      else doms.push(e.replace(/^@/, ''));
    }
    this.domains = new DomainList(doms);
  }
  has(address: string): boolean {
    const a = normAddress(address);
    if (!a) return false;
    if (this.addresses.has(a)) return true;
    return this.domains.has(domainOf(a));
  }
}

/**
 * A set of CIDR ranges and addresses (the Layer 1 CidrList: same strict parsing); IPv4-mapped IPv6
 * addresses match IPv4 ranges. Invalid entries throw at build time, naming the setting.
 */
export class CidrSet {
  private readonly list: CidrList;
  readonly size: number;
  constructor(entries: readonly string[], what = 'outbound.internalNetworks') {
    const used = entries.map((e) => e.trim()).filter((e) => e.length > 0);
    this.list = new CidrList(used, what);
    this.size = used.length;
  }
  has(address: string | undefined): boolean {
    const ip = parseIp(address);
    return ip !== undefined && this.list.has(ip);
  }
}

/**
 * Parse an address as the MTA or a Received: header may give it ("IPv6:...", "[...]", a zone id),
 * mapping ::ffff:a.b.c.d to IPv4. Dotted quads only for IPv4 (not "127.1" or "0x7f.1").
 */
export function parseIp(address: string | undefined): IP | undefined {
  if (!address) return undefined;
  return parseClientAddress(address.trim().replace(/%[^\]]*/, ''));
}

/** True for loopback, RFC 1918, RFC 6598 shared, link-local, ULA (fc00::/7), unspecified. */
export function isPrivateAddress(address: string | undefined): boolean {
  const ip = parseIp(address);
  if (!ip) return false;
  const r = ip.range();
  return ['private', 'loopback', 'linkLocal', 'uniqueLocal', 'carrierGradeNat', 'unspecified'].includes(r);
}
