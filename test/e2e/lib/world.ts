// The fixed surroundings of every end-to-end test: a test DNS server with the zones the cases need
// (A/MX for the test domains, PTR + forward for the test client addresses, SERVFAIL for one sender
// domain), a private clamd with the test signatures, and the base Postern config pointing at both.
// It starts only loopback servers and must never let a test query the real Internet.
import { rmSync } from 'node:fs';
import { startClamd, type ClamdInstance } from '../../harness/clamd.js';
import { startDnsServer, type Rr, type TestDnsServer } from '../../harness/dns-server.js';

/** The address an "outside" client gets via XCLIENT (Postfix), with forward-confirmed rDNS. */
export const OUTSIDE_CLIENT = { addr: '192.0.2.10', name: 'client.example.org', helo: 'client.example.org' };

const domain = (d: string): Record<string, Rr[]> => ({
  [d]: [{ type: 'A', data: '192.0.2.1' }, { type: 'MX', data: { preference: 10, exchange: `mx.${d}` } }],
  [`mx.${d}`]: [{ type: 'A', data: '192.0.2.1' }],
});

export const DNS_RECORDS: Record<string, Rr[]> = {
  ...domain('example.org'),
  ...domain('example.com'),
  ...domain('example.net'),
  ...domain('example.test'),
  ...domain('outside.example'),
  ...domain('partner.example'),
  'client.example.org': [{ type: 'A', data: '192.0.2.10' }],
  '10.2.0.192.in-addr.arpa': [{ type: 'PTR', data: 'client.example.org' }],
  '1.0.0.127.in-addr.arpa': [{ type: 'PTR', data: 'localhost' }],
  localhost: [{ type: 'A', data: '127.0.0.1' }],
};

export interface World {
  dns: TestDnsServer;
  clamd: ClamdInstance;
  stop(): Promise<void>;
}

export async function startWorld(): Promise<World> {
  const dns = await startDnsServer({ records: DNS_RECORDS, rcodes: { 'servfail.example': 'SERVFAIL' } });
  let clamd: ClamdInstance;
  try {
    clamd = await startClamd();
  } catch (e) {
    await dns.close();
    throw e;
  }
  // clamd.ts kills clamd when the process dies on a signal but leaves its temp dir: remove it.
  const dropDir = () => rmSync(clamd.dir, { recursive: true, force: true });
  process.on('exit', dropDir);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.prependListener(sig, dropDir);
  return {
    dns,
    clamd,
    async stop() {
      process.off('exit', dropDir);
      for (const sig of ['SIGINT', 'SIGTERM'] as const) process.off(sig, dropDir);
      await Promise.allSettled([dns.close(), clamd.stop()]);
    },
  };
}

/** Postern config every e2e test starts from: the embedded defaults, with DNS and clamd pointed at the harness. */
export function baseConfig(w: World): Record<string, unknown> {
  return {
    dns: { servers: [w.dns.server], timeoutMs: 1500, tries: 1 },
    content: { clamd: { address: w.clamd.address } },
    // example.test is "our" domain for both layers, so local vs outside recipients mean the same
    // under Postfix (relay_domains → {rcpt_mailer} relay) and sendmail (esmtp for every domain).
    connection: { localDomains: [LOCAL_DOMAIN] },
    outbound: { localDomains: [LOCAL_DOMAIN] },
  };
}

export const LOCAL_DOMAIN = 'example.test';

/** Deep merge of plain objects; arrays and scalars in `over` replace those in `base`. */
export function deepMerge(base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  if (isPlain(base) && isPlain(over)) {
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(over)) out[k] = deepMerge(base[k], v);
    return out;
  }
  return over;
}

function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Stable JSON (sorted keys) for grouping identical configs. */
export function stableKey(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableKey).join(',')}]`;
  if (isPlain(v)) return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${stableKey(v[k])}`).join(',')}}`;
  return JSON.stringify(v);
}
