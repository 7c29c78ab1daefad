// DNS resolver against the loopback DNS server harness: record types, typed failures, caching,
// negative caching, coalescing, TTL bounds, reverse names.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDnsServer, type TestDnsServer } from '../harness/dns-server.js';
import { createResolver, DnsConfigError, dnsConfigSchema, ptrName, reversedLabels, type DnsConfig } from '../../src/dns/index.js';

let dns: TestDnsServer;

before(async () => {
  dns = await startDnsServer({
    records: {
      'host.example.test': [{ type: 'A', data: '192.0.2.10', ttl: 60 }, { type: 'AAAA', data: '2001:db8::10' }],
      'short.example.test': [{ type: 'A', data: '192.0.2.11', ttl: 1 }],
      'long.example.test': [{ type: 'A', data: '192.0.2.12', ttl: 86400 }],
      'example.test': [{ type: 'MX', data: { preference: 10, exchange: 'mx.example.test' } }, { type: 'TXT', data: ['v=spf1 ', '-all'] }],
      '10.2.0.192.in-addr.arpa': [{ type: 'PTR', data: 'host.example.test' }],
      [ptrName('2001:db8::10')!]: [{ type: 'PTR', data: 'host.example.test' }],
      'alias.example.test': [{ type: 'CNAME', data: 'host.example.test' }],
    },
    rcodes: { 'broken.example.test': 'SERVFAIL', 'refused.example.test': 'REFUSED' },
    delays: { 'slow.example.test': Infinity, 'late.example.test': 300 },
  });
  dns.set('late.example.test', [{ type: 'A', data: '192.0.2.13' }]);
});

after(async () => {
  await dns.close();
});

function cfg(over: Partial<DnsConfig> = {}, cache: Partial<DnsConfig['cache']> = {}): DnsConfig {
  const base = dnsConfigSchema.parse({ servers: [dns.server], timeoutMs: 400, tries: 1 });
  return { ...base, ...over, cache: { ...base.cache, ...cache } };
}

test('schema defaults are complete and described', () => {
  const d = dnsConfigSchema.parse(undefined);
  assert.deepEqual(d.servers, []);
  assert.equal(d.timeoutMs, 2000);
  assert.equal(d.cache.negativeTtlSec, 300);
  assertDescribed(dnsConfigSchema, 'dns');
});

/** Every key of a zod object schema (through default/prefault/optional wrappers) carries a description. */
function assertDescribed(schema: unknown, path: string): void {
  let s = schema as { description?: string; _zod: { def: { type: string; innerType?: unknown; shape?: Record<string, unknown> } } };
  let described = Boolean(s.description);
  while (['default', 'prefault', 'optional', 'nullable'].includes(s._zod.def.type)) {
    s = s._zod.def.innerType as typeof s;
    described ||= Boolean(s.description);
  }
  if (path.includes('.')) assert.ok(described, `${path} has no .describe()`);
  if (s._zod.def.type === 'object') for (const [k, v] of Object.entries(s._zod.def.shape ?? {})) assertDescribed(v, `${path}.${k}`);
}

test('A, AAAA, MX, PTR (IPv4 and IPv6), TXT answers', async () => {
  const r = createResolver(cfg());
  assert.deepEqual(await r.a('host.example.test'), { status: 'ok', records: ['192.0.2.10'] });
  assert.deepEqual((await r.aaaa('host.example.test')).records, ['2001:db8::10']);
  assert.deepEqual((await r.mx('example.test')).records, [{ exchange: 'mx.example.test', priority: 10 }]);
  assert.deepEqual((await r.ptr('192.0.2.10')).records, ['host.example.test']);
  assert.deepEqual((await r.ptr('2001:db8::10')).records, ['host.example.test']);
  assert.deepEqual((await r.txt('example.test')).records, ['v=spf1 -all']);
  assert.deepEqual((await r.a('alias.example.test')).records, ['192.0.2.10']);
});

test('NXDOMAIN, NODATA, SERVFAIL, REFUSED, timeout are told apart', async () => {
  const r = createResolver(cfg());
  assert.equal((await r.a('nothing.example.test')).status, 'nxdomain');
  assert.equal((await r.mx('host.example.test')).status, 'nodata');
  assert.equal((await r.a('broken.example.test')).status, 'servfail');
  const refused = await r.a('refused.example.test');
  assert.equal(refused.status, 'error');
  assert.equal(refused.code, 'EREFUSED');
  assert.equal((await r.a('slow.example.test')).status, 'timeout');
  assert.equal((await r.ptr('not-an-ip')).status, 'error');
});

test('slow answer within the timeout is still an answer', async () => {
  const r = createResolver(cfg({ timeoutMs: 2000 }));
  assert.deepEqual((await r.a('late.example.test')).records, ['192.0.2.13']);
});

test('positive and negative answers are cached; failures only briefly', async () => {
  const r = createResolver(cfg());
  dns.resetCounts();
  await r.a('host.example.test');
  await r.a('HOST.example.test.');
  assert.equal(dns.count('host.example.test', 'A'), 1);
  await r.a('missing.example.test');
  await r.a('missing.example.test');
  assert.equal(dns.count('missing.example.test', 'A'), 1);
  const noFailCache = createResolver(cfg({}, { failureTtlSec: 0 }));
  await noFailCache.a('broken.example.test');
  await noFailCache.a('broken.example.test');
  assert.equal(dns.count('broken.example.test', 'A'), 2);
});

test('identical concurrent queries are coalesced', async () => {
  const r = createResolver(cfg());
  dns.resetCounts();
  const rs = await Promise.all([r.mx('example.test'), r.mx('example.test'), r.mx('Example.Test')]);
  assert.ok(rs.every((x) => x.status === 'ok'));
  assert.equal(dns.count('example.test', 'MX'), 1);
  assert.equal(r.sent, 1);
});

test('TTL expiry, maxTtl bound and size bound', async () => {
  let now = 1_000_000;
  const r = createResolver(cfg({}, { maxTtlSec: 100, maxEntries: 2 }), { now: () => now });
  dns.resetCounts();
  await r.a('short.example.test'); // ttl 1
  await r.a('long.example.test'); // ttl 86400, bounded to 100
  now += 2000;
  await r.a('short.example.test');
  assert.equal(dns.count('short.example.test'), 2, 'expired after its 1 s TTL');
  await r.a('long.example.test');
  assert.equal(dns.count('long.example.test'), 1, 'still cached');
  now += 101_000;
  await r.a('long.example.test');
  assert.equal(dns.count('long.example.test'), 2, 'expired at maxTtlSec');
  // size bound 2: a third name evicts the oldest
  await r.a('host.example.test');
  await r.a('short.example.test');
  assert.equal(dns.count('short.example.test'), 3);
});

test('bad names never reach the wire', async () => {
  const r = createResolver(cfg());
  dns.resetCounts();
  assert.equal((await r.a('a\0b.example.test')).code, 'EBADNAME');
  assert.equal((await r.a('x'.repeat(300))).code, 'EBADNAME');
  assert.equal((await r.a('has space.test')).status, 'error');
  assert.equal(dns.count(), 0);
});

test('invalid server list is a typed config error', () => {
  assert.throws(() => createResolver({ ...cfg(), servers: ['not a server'] }), (e: unknown) => e instanceof DnsConfigError && e.code === 'DNS_CONFIG');
});

test('reverse names: IPv4 octets, IPv6 nibbles, mapped IPv4, invalid', () => {
  assert.equal(reversedLabels('192.0.2.1'), '1.2.0.192');
  assert.equal(ptrName('192.0.2.1'), '1.2.0.192.in-addr.arpa');
  assert.equal(reversedLabels('::ffff:192.0.2.1'), '1.2.0.192');
  assert.equal(
    reversedLabels('2001:db8::567:89ab'),
    'b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2',
  );
  assert.equal(ptrName('2001:db8::1')!.endsWith('.ip6.arpa'), true);
  assert.equal(reversedLabels('2001:db8::zz'), undefined);
  assert.equal(reversedLabels('1.2.3.4\0'), undefined);
});
