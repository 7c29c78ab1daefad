// Rule family "dnsbl": dnsbl.<zone> for each configured zone, all zones queried concurrently.
// Each zone is guarded by a canary (127.0.0.2 must be listed, 127.0.0.1 must not): a dead list or one
// that answers everything is disabled and logged at error level, rechecked periodically, and never turns
// into mass rejection. A failed lookup is logged in the trace, never a rejection.
import type { Logger } from '../../log/logger.js';
import type { DnsResult, Resolver } from '../../dns/types.js';
import { reversedLabels } from '../../dns/reverse.js';
import type { RuleHit } from '../types.js';
import { CidrList, parseClientAddress, type IP } from './addr.js';
import type { ConnectionConfig, DnsblZoneConfig } from './config.js';
import { logHit, reply, ruleHit } from './hits.js';

const CANARY_CODES = new CidrList(['127.0.0.0/24'], 'canary');

export type ZoneStatus = 'unknown' | 'ok' | 'failed';

class Zone {
  status: ZoneStatus = 'unknown';
  nextCheck = 0;
  checking: Promise<ZoneStatus> | undefined;
  readonly codes: CidrList;
  readonly id: string;

  constructor(readonly cfg: DnsblZoneConfig) {
    this.zone = cfg.zone.toLowerCase().replace(/\.$/, '');
    this.id = `dnsbl.${this.zone}`;
    this.codes = new CidrList(cfg.returnCodes, `connection.dnsbl.zones[${cfg.zone}].returnCodes`);
  }
  readonly zone: string;

  /** The RFC 5782 test entry answers with a 127.0.0.x code (or one of ours); 127.255.255.x are error codes. */
  canaryListed(r: DnsResult<string>): boolean {
    if (r.status !== 'ok') return false;
    for (const a of r.records) {
      const ip = parseClientAddress(a);
      if (ip !== undefined && (CANARY_CODES.has(ip) || this.codes.has(ip))) return true;
    }
    return false;
  }

  listedBy(r: DnsResult<string>): string[] {
    const out: string[] = [];
    if (r.status !== 'ok') return out;
    for (const a of r.records) {
      const ip = parseClientAddress(a);
      if (ip !== undefined && this.codes.has(ip)) out.push(a);
    }
    return out;
  }
}

export class Dnsbl {
  private readonly zones: Zone[];

  constructor(
    private readonly cfg: ConnectionConfig['dnsbl'],
    private readonly resolver: Resolver,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.zones = cfg.zones.map((z) => new Zone(z));
  }

  get enabled(): boolean {
    return this.zones.length > 0;
  }

  /** Current canary status per zone (for status output and tests). */
  status(): Record<string, ZoneStatus> {
    const out: Record<string, ZoneStatus> = {};
    for (const z of this.zones) out[z.zone] = z.status;
    return out;
  }

  /** Run the canary of every zone now (start-up, tests). */
  async checkAll(): Promise<void> {
    await Promise.all(this.zones.map((z) => this.canary(z, true)));
  }

  /** All zones' hits for this client, queried concurrently. */
  async check(ip: IP): Promise<RuleHit[]> {
    const labels = reversedLabels(ip.toString());
    if (labels === undefined) return [];
    const v6 = ip.kind() === 'ipv6';
    const per = await Promise.all(this.zones.map((z) => (v6 && !z.cfg.ipv6 ? undefined : this.checkZone(z, labels, ip.toString()))));
    const out: RuleHit[] = [];
    for (const hs of per) if (hs !== undefined) out.push(...hs);
    return out;
  }

  private async checkZone(z: Zone, labels: string, ipText: string): Promise<RuleHit[]> {
    const [status, r] = await Promise.all([this.canary(z, false), this.resolver.a(`${labels}.${z.zone}`)]);
    if (status !== 'ok') return [];
    if (r.status === 'nxdomain' || r.status === 'nodata') return [];
    if (r.status !== 'ok') return [logHit(z.id, `lookup failed (${r.code ?? r.status}); zone skipped for this client`)];
    const listed = z.listedBy(r);
    if (listed.length === 0) return [logHit(z.id, `answer ${r.records.join(',')} outside returnCodes; not a listing`)];
    const h = ruleHit(
      z.id,
      { action: z.cfg.action, score: z.cfg.weight, reply: z.cfg.reply },
      reply(554, '5.7.1', `Service unavailable; client [${ipText}] blocked using ${z.zone} (${z.id})`),
      `${ipText} listed in ${z.zone} (${listed.join(',')})`,
    );
    return h ? [h] : [];
  }

  /** The zone's canary status; re-tests when due. Waits only when the status is still unknown. */
  private canary(z: Zone, force: boolean): Promise<ZoneStatus> {
    const t = this.now();
    if (!force && z.status !== 'unknown' && t < z.nextCheck) return Promise.resolve(z.status);
    if (z.checking === undefined) {
      z.checking = this.runCanary(z).finally(() => {
        z.checking = undefined;
      });
    }
    // A due re-test of a known zone runs in the background; sessions use the last known status.
    return z.status === 'unknown' || force ? z.checking : Promise.resolve(z.status);
  }

  private async runCanary(z: Zone): Promise<ZoneStatus> {
    const [pos, neg] = await Promise.all([this.resolver.a(`2.0.0.127.${z.zone}`), this.resolver.a(`1.0.0.127.${z.zone}`)]);
    let problem: string | undefined;
    if (pos.status !== 'ok' && pos.status !== 'nxdomain' && pos.status !== 'nodata') problem = `canary 127.0.0.2 lookup failed (${pos.code ?? pos.status})`;
    else if (neg.status !== 'ok' && neg.status !== 'nxdomain' && neg.status !== 'nodata') problem = `canary 127.0.0.1 lookup failed (${neg.code ?? neg.status})`;
    else if (!z.canaryListed(pos)) problem = `test address 127.0.0.2 is not listed (answer: ${pos.status === 'ok' ? pos.records.join(',') : pos.status}): list dead, moved, or refusing our resolver`;
    else if (neg.status === 'ok') problem = `test address 127.0.0.1 is listed (${neg.records.join(',')}): list answers everything`;
    const was = z.status;
    if (problem === undefined) {
      z.status = 'ok';
      z.nextCheck = this.now() + this.cfg.canaryIntervalMs;
      if (was === 'failed') this.logger.warn({ rule: z.id, zone: z.zone }, 'DNSBL zone passed its canary again; re-enabled');
    } else {
      z.status = 'failed';
      z.nextCheck = this.now() + this.cfg.canaryRetryMs;
      this.logger.error({ rule: z.id, zone: z.zone, problem, retryMs: this.cfg.canaryRetryMs }, `DNSBL zone ${z.zone} DISABLED: ${problem}`);
    }
    return z.status;
  }
}
