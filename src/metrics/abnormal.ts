// Abnormal rejection watch: counts rejections per client network (/24 IPv4, /48 IPv6) and per rule in
// time buckets, compares the recent window's rate with the longer baseline before it, and logs one
// warning per key and cooldown when the recent rate jumps far above the baseline. Memory is bounded
// (maxKeys, least recently seen dropped). It only logs and counts; it never changes a verdict.
import { isIP } from 'node:net';
import type { Logger } from '../log/logger.js';

export interface AbnormalConfig {
  enabled: boolean;
  recentWindowSec: number;
  baselineWindowSec: number;
  factor: number;
  minCount: number;
  cooldownSec: number;
  maxKeys: number;
}

export interface AbnormalWarning {
  scope: 'network' | 'rule';
  key: string;
  recent: number;
  recentRatePerMin: number;
  baselineRatePerMin: number;
}

interface Track {
  /** Bucket start (ms) -> rejections; buckets are recentWindowSec/5 wide. */
  buckets: Map<number, number>;
  lastWarned: number;
  firstSeen: number;
}

/** The client network a rejection is attributed to: a.b.c.0/24 or the /48 of an IPv6 address. */
export function networkOf(address: string | undefined): string | undefined {
  if (!address) return undefined;
  const a = address.replace(/^IPv6:/i, '').replace(/^\[|\]$/g, '');
  const v = isIP(a);
  if (v === 4) return `${a.split('.').slice(0, 3).join('.')}.0/24`;
  if (v === 6) {
    const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
    if (m) return networkOf(m[1]);
    const groups = expand6(a);
    return `${groups.slice(0, 3).join(':')}::/48`;
  }
  return undefined;
}

function expand6(a: string): string[] {
  const [head, tail] = a.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : new Array(8 - h.length - t.length).fill('0');
  return [...h, ...fill, ...t].map((g) => (parseInt(g, 16) || 0).toString(16));
}

export class RejectionWatch {
  private readonly tracks = new Map<string, Track>();

  constructor(
    private config: AbnormalConfig,
    private readonly logger: Logger,
    private readonly onWarn?: (w: AbnormalWarning) => void,
    private readonly now: () => number = Date.now,
  ) {}

  reconfigure(config: AbnormalConfig): void {
    if (config.recentWindowSec !== this.config.recentWindowSec) this.tracks.clear(); // bucket width changed
    this.config = config;
  }

  get size(): number {
    return this.tracks.size;
  }

  /** Record one rejection (reject verdict) from `clientAddress`, decided by `rule`. */
  rejection(clientAddress: string | undefined, rule: string | undefined): AbnormalWarning[] {
    if (!this.config.enabled) return [];
    const out: AbnormalWarning[] = [];
    const net = networkOf(clientAddress);
    if (net) this.record('network', net, out);
    if (rule) this.record('rule', rule, out);
    return out;
  }

  private bucketMs(): number {
    return Math.max(1000, Math.floor((this.config.recentWindowSec * 1000) / 5));
  }

  private record(scope: AbnormalWarning['scope'], key: string, out: AbnormalWarning[]): void {
    const now = this.now();
    const id = `${scope}:${key}`;
    let t = this.tracks.get(id);
    if (t) this.tracks.delete(id); // re-insert: most recently seen last
    else {
      t = { buckets: new Map(), lastWarned: -Infinity, firstSeen: now };
      while (this.tracks.size >= this.config.maxKeys) this.tracks.delete(this.tracks.keys().next().value!);
    }
    this.tracks.set(id, t);
    const width = this.bucketMs();
    const bucket = now - (now % width);
    t.buckets.set(bucket, (t.buckets.get(bucket) ?? 0) + 1);

    const recentMs = this.config.recentWindowSec * 1000;
    const baselineMs = this.config.baselineWindowSec * 1000;
    const recentStart = bucket - recentMs + width; // the last 5 buckets, current one included
    const baselineStart = recentStart - baselineMs;
    let recent = 0;
    let baseline = 0;
    for (const [b, n] of t.buckets) {
      if (b < baselineStart) t.buckets.delete(b);
      else if (b >= recentStart) recent += n;
      else baseline += n;
    }
    if (recent < this.config.minCount) return;
    if (now - t.lastWarned < this.config.cooldownSec * 1000) return;
    const recentRate = recent / (recentMs / 60000);
    // Only the part of the baseline window we have observed counts (a key first seen 10 min ago
    // has 10 min of baseline, not 6 hours of zeros); with none observed, any burst over minCount is news.
    const observedBaselineMs = Math.min(baselineMs, Math.max(0, recentStart - t.firstSeen));
    const baselineRate = observedBaselineMs > 0 ? baseline / (observedBaselineMs / 60000) : 0;
    if (recentRate <= this.config.factor * baselineRate) return;
    t.lastWarned = now;
    const w: AbnormalWarning = {
      scope,
      key,
      recent,
      recentRatePerMin: Math.round(recentRate * 100) / 100,
      baselineRatePerMin: Math.round(baselineRate * 100) / 100,
    };
    this.logger.warn(
      { abnormal: true, ...w, windowSec: this.config.recentWindowSec },
      `abnormal rejections: ${scope} ${key} had ${recent} rejections in ${this.config.recentWindowSec}s (${w.recentRatePerMin}/min vs baseline ${w.baselineRatePerMin}/min)`,
    );
    this.onWarn?.(w);
    out.push(w);
  }
}
