// Rule family "client lists": client.allow, client.deny, client.hostname-deny.
// Address lists use CIDR matching (ipaddr.js); host names are the MTA-verified name only, so a forged
// PTR cannot put a client on the allow list. Never does DNS.
import type { RuleHit } from '../types.js';
import { CidrList, NameList, type IP } from './addr.js';
import type { ConnectionConfig } from './config.js';
import { reply, ruleHit } from './hits.js';

export class ClientLists {
  private readonly allow: CidrList;
  private readonly deny: CidrList;
  private readonly allowNames: NameList;
  private readonly denyNames: NameList;

  constructor(private readonly cfg: ConnectionConfig['client']) {
    this.allow = new CidrList(cfg.allow, 'connection.client.allow');
    this.deny = new CidrList(cfg.deny, 'connection.client.deny');
    this.allowNames = new NameList(cfg.allowHostnames);
    this.denyNames = new NameList(cfg.denyHostnames);
  }

  /** client.allow hit, when the client is on an allow list. */
  allowed(ip: IP | undefined, hostname: string | undefined): RuleHit | undefined {
    if (ip !== undefined && !this.allow.empty && this.allow.has(ip)) {
      return { rule: 'client.allow', action: 'accept', detail: `client address ${ip.toString()} on allow list` };
    }
    if (hostname !== undefined && !this.allowNames.empty && this.allowNames.has(hostname)) {
      return { rule: 'client.allow', action: 'accept', detail: `client name ${hostname} on allow list` };
    }
    return undefined;
  }

  /** client.deny / client.hostname-deny hit, when the client is on a deny list. */
  denied(ip: IP | undefined, hostname: string | undefined): RuleHit | undefined {
    const rc = { action: this.cfg.denyAction, score: 0, reply: this.cfg.denyReply };
    if (ip !== undefined && !this.deny.empty && this.deny.has(ip)) {
      return ruleHit('client.deny', rc, reply(554, '5.7.1', `Access denied for [${ip.toString()}] (client.deny)`), `client address ${ip.toString()} on deny list`);
    }
    if (hostname !== undefined && !this.denyNames.empty && this.denyNames.has(hostname)) {
      return ruleHit('client.hostname-deny', rc, reply(554, '5.7.1', 'Access denied for your host name (client.hostname-deny)'), `client name ${hostname} on deny list`);
    }
    return undefined;
  }
}
