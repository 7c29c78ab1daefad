// Postern's DNS resolver: Node's c-ares Resolver with configured servers, per-try timeout, a size- and
// TTL-bounded answer cache (positive, negative and brief failure caching) and coalescing of identical
// in-flight queries. It never throws for DNS outcomes: every answer is a typed DnsResult.
import { promises as dnsp } from 'node:dns';
import type { DnsConfig } from './config.js';
import type { DnsResult, DnsStatus, MxRecord, Resolver } from './types.js';
import { ptrName } from './reverse.js';

export class DnsConfigError extends Error {
  readonly code = 'DNS_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'DnsConfigError';
  }
}

interface CacheEntry {
  expires: number;
  result: DnsResult<unknown>;
}

export interface ResolverOptions {
  /** Clock for cache expiry (tests). */
  now?: () => number;
}

const ERR_STATUS: Record<string, DnsStatus> = {
  ENOTFOUND: 'nxdomain',
  ENODATA: 'nodata',
  ESERVFAIL: 'servfail',
  ETIMEOUT: 'timeout',
};

const MAX_NAME = 253;

function badName(name: string): boolean {
  // NUL, control chars, spaces or overlong names never go on the wire.
  if (name.length === 0 || name.length > MAX_NAME + 1) return true;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f) return true;
  }
  return false;
}

export class CachingResolver implements Resolver {
  private readonly r: dnsp.Resolver;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inflight = new Map<string, Promise<DnsResult<unknown>>>();
  private readonly now: () => number;
  /** Queries actually sent to the network (not served from cache or coalesced). */
  sent = 0;

  constructor(private readonly config: DnsConfig, opts: ResolverOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.r = new dnsp.Resolver({ timeout: config.timeoutMs, tries: config.tries });
    if (config.servers.length > 0) {
      try {
        this.r.setServers(config.servers);
      } catch (e) {
        throw new DnsConfigError(`invalid dns.servers ${JSON.stringify(config.servers)}: ${(e as Error).message}`);
      }
    }
  }

  a(name: string): Promise<DnsResult<string>> {
    return this.query('A', name, async (n) => {
      const rr = await this.r.resolve4(n, { ttl: true });
      return { records: rr.map((x) => x.address), ttl: minTtl(rr) };
    });
  }

  aaaa(name: string): Promise<DnsResult<string>> {
    return this.query('AAAA', name, async (n) => {
      const rr = await this.r.resolve6(n, { ttl: true });
      return { records: rr.map((x) => x.address), ttl: minTtl(rr) };
    });
  }

  mx(name: string): Promise<DnsResult<MxRecord>> {
    return this.query('MX', name, async (n) => ({ records: await this.r.resolveMx(n) }));
  }

  ptr(address: string): Promise<DnsResult<string>> {
    const name = ptrName(address);
    if (name === undefined) return Promise.resolve({ status: 'error', records: [], code: 'EBADADDR' });
    return this.query('PTR', name, async (n) => ({ records: await this.r.resolvePtr(n) }));
  }

  txt(name: string): Promise<DnsResult<string>> {
    return this.query('TXT', name, async (n) => ({ records: (await this.r.resolveTxt(n)).map((c) => c.join('')) }));
  }

  clearCache(): void {
    this.cache.clear();
  }

  private query<T>(
    type: string,
    rawName: string,
    run: (name: string) => Promise<{ records: T[]; ttl?: number }>,
  ): Promise<DnsResult<T>> {
    let name = rawName.toLowerCase();
    if (name.endsWith('.')) name = name.slice(0, -1);
    if (badName(name)) return Promise.resolve({ status: 'error', records: [], code: 'EBADNAME' });
    const key = type + ' ' + name;
    const hit = this.cache.get(key);
    if (hit !== undefined) {
      if (hit.expires > this.now()) return Promise.resolve(hit.result as DnsResult<T>);
      this.cache.delete(key);
    }
    const pending = this.inflight.get(key);
    if (pending !== undefined) return pending as Promise<DnsResult<T>>;
    this.sent++;
    const p = run(name).then(
      ({ records, ttl }): { result: DnsResult<T>; ttl: number } =>
        records.length > 0
          ? { result: { status: 'ok', records }, ttl: Math.min(ttl ?? this.config.cache.defaultTtlSec, this.config.cache.maxTtlSec) }
          : { result: { status: 'nodata', records: [] }, ttl: this.config.cache.negativeTtlSec },
      (err: NodeJS.ErrnoException): { result: DnsResult<T>; ttl: number } => {
        const code = typeof err?.code === 'string' ? err.code : 'EUNKNOWN';
        const status = ERR_STATUS[code] ?? 'error';
        const ttl = status === 'nxdomain' || status === 'nodata' ? this.config.cache.negativeTtlSec : this.config.cache.failureTtlSec;
        return { result: { status, records: [], code }, ttl };
      },
    ).then(({ result, ttl }) => {
      this.inflight.delete(key);
      this.store(key, result, ttl);
      return result;
    });
    this.inflight.set(key, p as Promise<DnsResult<unknown>>);
    return p;
  }

  private store(key: string, result: DnsResult<unknown>, ttlSec: number): void {
    const max = this.config.cache.maxEntries;
    if (max === 0 || ttlSec <= 0) return;
    this.cache.delete(key);
    while (this.cache.size >= max) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.cache.delete(oldest);
    }
    this.cache.set(key, { expires: this.now() + ttlSec * 1000, result });
  }
}

function minTtl(rr: { ttl: number }[]): number | undefined {
  if (rr.length === 0) return undefined;
  let m = rr[0]!.ttl;
  for (const x of rr) if (x.ttl < m) m = x.ttl;
  return m;
}

export function createResolver(config: DnsConfig, opts?: ResolverOptions): CachingResolver {
  return new CachingResolver(config, opts);
}
