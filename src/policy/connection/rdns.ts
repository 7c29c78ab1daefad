// Rule family "rdns": rdns.missing (no PTR) and rdns.mismatch (FCrDNS failure), verified by Postern
// itself through the resolver (PTR, then A/AAAA of each name) whatever the MTA reported.
// A DNS failure is never a permanent rejection.
import type { Resolver } from '../../dns/types.js';
import { isTemporary } from '../../dns/types.js';
import type { RuleHit } from '../types.js';
import { parseClientAddress, sameAddress, type IP } from './addr.js';
import type { ConnectionConfig } from './config.js';
import { logHit, reply, ruleHit, type RuleCfg } from './hits.js';

export type RdnsResult =
  | { status: 'pass'; name: string }
  | { status: 'missing' }
  | { status: 'mismatch'; names: string[] }
  | { status: 'temp'; code: string };

/** Forward-confirmed reverse DNS of `ip`. */
export async function verifyRdns(resolver: Resolver, ip: IP, maxNames: number): Promise<RdnsResult> {
  const ptr = await resolver.ptr(ip.toString());
  if (ptr.status === 'nxdomain' || ptr.status === 'nodata') return { status: 'missing' };
  if (ptr.status !== 'ok') return { status: 'temp', code: ptr.code ?? ptr.status };
  const names = ptr.records.slice(0, maxNames).map((n) => (n.endsWith('.') ? n.slice(0, -1) : n).toLowerCase());
  const v4 = ip.kind() === 'ipv4';
  const fwd = await Promise.all(names.map((n) => (v4 ? resolver.a(n) : resolver.aaaa(n))));
  let temp: string | undefined;
  for (let i = 0; i < names.length; i++) {
    const r = fwd[i]!;
    if (r.status === 'ok') {
      for (const a of r.records) {
        const p = parseClientAddress(a);
        if (p !== undefined && sameAddress(p, ip)) return { status: 'pass', name: names[i]! };
      }
    } else if (isTemporary(r.status)) temp = r.code ?? r.status;
  }
  if (temp !== undefined) return { status: 'temp', code: temp };
  return { status: 'mismatch', names };
}

/** Hits for an rDNS result. Temporary failures: tempfail if the rule would refuse, else a log entry. */
export function rdnsHits(cfg: ConnectionConfig['rdns'], r: RdnsResult, ipText: string): RuleHit[] {
  switch (r.status) {
    case 'pass':
      return [];
    case 'missing': {
      const h = ruleHit('rdns.missing', cfg.missing, reply(550, '5.7.25', `Client [${ipText}] has no reverse DNS (rdns.missing)`), `no PTR record for ${ipText}`);
      return h ? [h] : [];
    }
    case 'mismatch': {
      const h = ruleHit(
        'rdns.mismatch',
        cfg.mismatch,
        reply(550, '5.7.25', `Client [${ipText}] reverse DNS does not match forward DNS (rdns.mismatch)`),
        `PTR ${r.names.join(',').slice(0, 200)} does not resolve back to ${ipText}`,
      );
      return h ? [h] : [];
    }
    case 'temp': {
      const out: RuleHit[] = [];
      for (const [id, rc] of [['rdns.missing', cfg.missing], ['rdns.mismatch', cfg.mismatch]] as [string, RuleCfg][]) {
        if (rc.action === 'reject' || rc.action === 'tempfail') {
          out.push(ruleHit(id, { ...rc, action: 'tempfail' }, reply(451, '4.4.3', `Temporary DNS failure checking [${ipText}] (${id})`), `rDNS lookup failed (${r.code})`)!);
          return out;
        }
      }
      if (cfg.missing.action !== 'off' || cfg.mismatch.action !== 'off') out.push(logHit('rdns.missing', `rDNS lookup failed (${r.code}); not scored`));
      return out;
    }
  }
}
