// Rule family "helo": helo.syntax, helo.bare-ip, helo.own-name, helo.mismatch.
// Syntax is checked by hand (no regular expressions on client data); DNS is only used through the
// rDNS result already computed for the session.
import ipaddr from 'ipaddr.js';
import type { RuleHit } from '../types.js';
import { isFqdn, normName, parseClientAddress, sameAddress, type IP } from './addr.js';
import type { ConnectionConfig } from './config.js';
import { reply, ruleHit } from './hits.js';
import type { RdnsResult } from './rdns.js';

export type HeloKind =
  | { kind: 'fqdn'; name: string }
  | { kind: 'literal'; ip: IP }
  | { kind: 'bare-ip'; ip: IP }
  | { kind: 'invalid'; why: string };

export function classifyHelo(helo: string, allowUnderscore: boolean): HeloKind {
  const h = helo.trim();
  if (h.length === 0) return { kind: 'invalid', why: 'empty' };
  if (h.startsWith('[')) {
    if (!h.endsWith(']')) return { kind: 'invalid', why: 'unterminated address literal' };
    const inner = h.slice(1, -1);
    if (inner.slice(0, 5).toLowerCase() === 'ipv6:') {
      const v6 = inner.slice(5);
      if (!ipaddr.IPv6.isValid(v6)) return { kind: 'invalid', why: 'malformed IPv6 address literal' };
      return { kind: 'literal', ip: ipaddr.process(v6) };
    }
    if (!ipaddr.IPv4.isValidFourPartDecimal(inner)) return { kind: 'invalid', why: 'malformed address literal' };
    return { kind: 'literal', ip: ipaddr.parse(inner) };
  }
  if (h.includes(':') || /^[0-9.]+$/.test(h)) {
    const ip = parseClientAddress(h);
    if (ip !== undefined) return { kind: 'bare-ip', ip };
    if (h.includes(':')) return { kind: 'invalid', why: 'malformed address' };
  }
  if (!isFqdn(h, allowUnderscore)) return { kind: 'invalid', why: 'not a fully qualified domain name' };
  return { kind: 'fqdn', name: normName(h) };
}

export interface HeloFacts {
  helo: string;
  clientIp: IP | undefined;
  ownNames: ReadonlySet<string>;
  ownAddresses: readonly IP[];
  rdns: RdnsResult | undefined;
}

const SYNTAX = reply(501, '5.5.2', 'Helo command rejected: invalid host name (helo.syntax)');
const BARE = reply(501, '5.5.2', 'Helo command rejected: address literal must be in brackets (helo.bare-ip)');
const OWN = reply(550, '5.7.1', 'Helo command rejected: you are not me (helo.own-name)');
const MISMATCH = reply(550, '5.7.1', 'Helo command rejected: host name does not match your address (helo.mismatch)');

export function heloHits(cfg: ConnectionConfig['helo'], f: HeloFacts): RuleHit[] {
  const out: RuleHit[] = [];
  const k = classifyHelo(f.helo, cfg.allowUnderscore);
  const where = 'helo';
  const push = (h: RuleHit | undefined): void => {
    if (h !== undefined) out.push(h);
  };
  switch (k.kind) {
    case 'invalid':
      push(ruleHit('helo.syntax', cfg.syntax, SYNTAX, `HELO ${k.why}`, where));
      return out;
    case 'bare-ip':
      push(ruleHit('helo.bare-ip', cfg.bareIp, BARE, 'HELO is an address without brackets', where));
      if (f.ownAddresses.some((a) => sameAddress(a, k.ip))) push(ruleHit('helo.own-name', cfg.ownName, OWN, 'HELO is our own address', where));
      return out;
    case 'literal':
      if (f.ownAddresses.some((a) => sameAddress(a, k.ip)) && !(f.clientIp && sameAddress(f.clientIp, k.ip))) {
        push(ruleHit('helo.own-name', cfg.ownName, OWN, 'HELO is our own address', where));
      } else if (cfg.mismatch.action !== 'off' && f.clientIp !== undefined && !sameAddress(f.clientIp, k.ip)) {
        push(ruleHit('helo.mismatch', cfg.mismatch, MISMATCH, 'HELO address literal is not the client address', where));
      }
      return out;
    case 'fqdn':
      if (f.ownNames.has(k.name)) {
        push(ruleHit('helo.own-name', cfg.ownName, OWN, 'HELO is our own host name', where));
      } else if (cfg.mismatch.action !== 'off' && f.rdns?.status === 'pass' && f.rdns.name !== k.name) {
        push(ruleHit('helo.mismatch', cfg.mismatch, MISMATCH, `HELO name differs from verified client name ${f.rdns.name}`, where));
      }
      return out;
  }
}
