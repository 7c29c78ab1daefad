// Rule family "recipient domains": rcpt.relay-denied. Only active when localDomains is configured
// (otherwise the MTA's own relay control decides). Trusted clients (internal networks, SMTP AUTH) relay.
import type { RuleHit } from '../types.js';
import { domainOf, NameList } from './addr.js';
import type { RuleCfg } from './hits.js';
import { reply, ruleHit } from './hits.js';

const DENIED = reply(550, '5.7.1', 'Relay access denied (rcpt.relay-denied)');

export class RelayControl {
  private readonly domains: NameList;

  constructor(localDomains: readonly string[], private readonly cfg: RuleCfg) {
    this.domains = new NameList(localDomains);
  }

  get active(): boolean {
    return !this.domains.empty && this.cfg.action !== 'off';
  }

  /** Hit when `address` is not for one of our domains. Addresses without a domain are local (postmaster). */
  check(address: string, where: string): RuleHit | undefined {
    const d = domainOf(address);
    if (d === '' || this.domains.has(d)) return undefined;
    return ruleHit('rcpt.relay-denied', this.cfg, DENIED, `recipient domain ${d.slice(0, 255)} is not ours and client is not trusted`, where);
  }
}
