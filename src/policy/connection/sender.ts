// Rule family "sender": sender.domain-missing, sender.dns-temp, sender.pattern.
// Domain existence: MX, else A/AAAA; NXDOMAIN or no records → permanent; SERVFAIL/timeout → temporary.
// Patterns run on RE2 (linear time), compiled once at load. The null sender <> always passes.
import { RE2 } from 're2-wasm';
import type { Resolver } from '../../dns/types.js';
import type { RuleHit } from '../types.js';
import { isFqdn } from './addr.js';
import type { ConnectionConfig } from './config.js';
import { ConnectionConfigError } from './errors.js';
import { reply, ruleHit } from './hits.js';

export type DomainStatus = { status: 'exists' } | { status: 'missing'; why: string } | { status: 'nullmx' } | { status: 'temp'; code: string };

/** Does `domain` accept mail at all: MX, else A or AAAA. */
export async function checkDomain(resolver: Resolver, domain: string): Promise<DomainStatus> {
  const mx = await resolver.mx(domain);
  if (mx.status === 'ok') {
    // RFC 7505 null MX: a single MX "." with preference 0 — the domain sends no mail either.
    if (mx.records.length === 1 && (mx.records[0]!.exchange === '' || mx.records[0]!.exchange === '.')) return { status: 'nullmx' };
    return { status: 'exists' };
  }
  if (mx.status === 'nxdomain') return { status: 'missing', why: 'NXDOMAIN' };
  if (mx.status !== 'nodata') return { status: 'temp', code: mx.code ?? mx.status };
  const [a, aaaa] = await Promise.all([resolver.a(domain), resolver.aaaa(domain)]);
  if (a.status === 'ok' || aaaa.status === 'ok') return { status: 'exists' };
  for (const r of [a, aaaa]) if (r.status !== 'nxdomain' && r.status !== 'nodata') return { status: 'temp', code: r.code ?? r.status };
  return { status: 'missing', why: 'no MX, A or AAAA records' };
}

export class SenderChecks {
  private readonly patterns: { source: string; re: RE2 }[] = [];

  constructor(private readonly cfg: ConnectionConfig['sender']) {
    for (const p of cfg.patterns) {
      try {
        this.patterns.push({ source: p, re: new RE2(p, 'iu') });
      } catch (e) {
        throw new ConnectionConfigError(`connection.sender.patterns: invalid pattern ${JSON.stringify(p)}: ${(e as Error).message}`);
      }
    }
  }

  /** sender.pattern hit for the first matching deny pattern. */
  pattern(sender: string): RuleHit | undefined {
    for (const p of this.patterns) {
      if (p.re.test(sender)) {
        return ruleHit('sender.pattern', this.cfg.pattern, reply(550, '5.7.1', 'Sender address rejected (sender.pattern)'), `sender matches deny pattern ${p.source}`, 'mail from');
      }
    }
    return undefined;
  }

  get domainCheckOn(): boolean {
    return this.cfg.domainMissing.action !== 'off';
  }

  /** sender.domain-missing / sender.dns-temp for the sender's domain ("" = no domain: nothing to check). */
  async domain(resolver: Resolver, domain: string): Promise<RuleHit | undefined> {
    if (domain === '' || domain.startsWith('[')) return undefined;
    if (!isFqdn(domain, false)) {
      return ruleHit('sender.domain-missing', this.cfg.domainMissing, reply(550, '5.1.8', 'Sender address rejected: invalid domain (sender.domain-missing)'), 'sender domain is not a valid domain name', 'mail from');
    }
    const r = await checkDomain(resolver, domain);
    switch (r.status) {
      case 'exists':
        return undefined;
      case 'missing':
        return ruleHit('sender.domain-missing', this.cfg.domainMissing, reply(550, '5.1.8', 'Sender address rejected: domain not found (sender.domain-missing)'), `sender domain ${domain}: ${r.why}`, 'mail from');
      case 'nullmx':
        return ruleHit('sender.domain-missing', this.cfg.domainMissing, reply(550, '5.7.27', 'Sender address rejected: domain does not accept mail (sender.domain-missing)'), `sender domain ${domain} has a null MX (RFC 7505)`, 'mail from');
      case 'temp':
        return ruleHit('sender.dns-temp', this.cfg.dnsTemp.action === 'reject' ? { ...this.cfg.dnsTemp, action: 'tempfail' } : this.cfg.dnsTemp, reply(451, '4.4.3', 'Sender address rejected: temporary DNS failure (sender.dns-temp)'), `sender domain ${domain}: DNS ${r.code}`, 'mail from');
    }
  }
}
