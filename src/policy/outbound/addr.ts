// Small pure helpers for the outbound layer: address/domain handling, domain lists, CIDR matching.
// Pure functions only; must never do I/O or throw on bad input (bad input simply does not match).
import ipaddr from 'ipaddr.js';

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

type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** A set of CIDR ranges; IPv4-mapped IPv6 addresses match IPv4 ranges. Invalid entries throw at build time. */
export class CidrSet {
  private readonly ranges: Cidr[] = [];
  constructor(entries: readonly string[]) {
    for (const e of entries) {
      const s = e.trim();
      if (!s) continue;
      if (s.includes('/')) this.ranges.push(ipaddr.parseCIDR(s));
      else {
        const a = ipaddr.parse(s);
        this.ranges.push([a, a.kind() === 'ipv4' ? 32 : 128]);
      }
    }
  }
  get size(): number {
    return this.ranges.length;
  }
  has(address: string | undefined): boolean {
    const ip = parseIp(address);
    if (!ip) return false;
    for (const r of this.ranges) {
      if (r[0].kind() !== ip.kind()) continue;
      if (ip.match(r)) return true;
    }
    return false;
  }
}

/** Parse an address as the MTA may give it ("IPv6:...", "[...]"), mapping ::ffff:a.b.c.d to IPv4. */
export function parseIp(address: string | undefined): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  if (!address) return undefined;
  let s = address.trim().replace(/^\[|\]$/g, '');
  if (/^ipv6:/i.test(s)) s = s.slice(5);
  s = s.replace(/%.*$/, ''); // zone id
  if (!ipaddr.isValid(s)) return undefined;
  try {
    return ipaddr.process(s);
  } catch {
    return undefined;
  }
}

/** True for loopback, RFC 1918, RFC 6598 shared, link-local, ULA (fc00::/7), unspecified. */
export function isPrivateAddress(address: string | undefined): boolean {
  const ip = parseIp(address);
  if (!ip) return false;
  const r = ip.range();
  return ['private', 'loopback', 'linkLocal', 'uniqueLocal', 'carrierGradeNat', 'unspecified'].includes(r);
}
