// Reverse-name builders for PTR and DNSBL lookups (IPv4 octets, IPv6 nibbles). Pure, no I/O.
// Must never accept an unparsable address silently: returns undefined so callers can log it.
import ipaddr from 'ipaddr.js';

const HEX = '0123456789abcdef';

/**
 * The reversed label sequence of an address, without a trailing zone:
 * 192.0.2.1 → "1.2.0.192"; 2001:db8::1 → "1.0.0.0....8.b.d.0.1.0.0.2" (32 nibbles).
 * IPv4-mapped IPv6 (::ffff:a.b.c.d) is treated as IPv4.
 */
export function reversedLabels(address: string): string | undefined {
  if (!ipaddr.isValid(address)) return undefined;
  const ip = ipaddr.process(address);
  const bytes = ip.toByteArray();
  if (ip.kind() === 'ipv4') return `${bytes[3]}.${bytes[2]}.${bytes[1]}.${bytes[0]}`;
  let out = '';
  for (let i = bytes.length - 1; i >= 0; i--) {
    const b = bytes[i]!;
    out += (out ? '.' : '') + HEX[b & 15] + '.' + HEX[b >> 4];
  }
  return out;
}

/** The PTR query name: in-addr.arpa or ip6.arpa. */
export function ptrName(address: string): string | undefined {
  const labels = reversedLabels(address);
  if (labels === undefined) return undefined;
  return labels + (ipaddr.process(address).kind() === 'ipv4' ? '.in-addr.arpa' : '.ip6.arpa');
}
