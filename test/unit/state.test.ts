// Counter stores: the in-memory store (fixed windows, concurrency slots, expiry) and the Redis store
// against a real redis-server on a loopback port (two store instances share counts; outage → StoreError).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryCounterStore, RedisCounterStore, StoreError, createCounterStore, stateConfigSchema } from '../../src/state/index.js';
import { hasRedisServer, startRedis, type TestRedis } from '../harness/redis.js';
import { freePort } from '../harness/net.js';

test('schema defaults: memory backend, Redis fail-fast settings', () => {
  const c = stateConfigSchema.parse(undefined);
  assert.equal(c.backend, 'memory');
  assert.equal(c.redis.keyPrefix, 'postern:');
  assert.ok(createCounterStore(c) instanceof MemoryCounterStore);
});

test('memory: fixed window counts and resets', () => {
  let now = 60_000;
  const s = new MemoryCounterStore(() => now);
  assert.equal(s.incr('a', 60_000), 1);
  assert.equal(s.incr('a', 60_000), 2);
  assert.equal(s.incr('b', 60_000), 1);
  now += 59_999;
  assert.equal(s.incr('a', 60_000), 3);
  now += 1;
  assert.equal(s.incr('a', 60_000), 1, 'new window');
});

test('memory: concurrency slots acquire, release, expire', () => {
  let now = 0;
  const s = new MemoryCounterStore(() => now);
  assert.equal(s.acquire('c', 's1', 1000), 1);
  assert.equal(s.acquire('c', 's2', 1000), 2);
  assert.equal(s.acquire('c', 's2', 1000), 2, 'same holder counted once');
  s.release('c', 's1');
  assert.equal(s.acquire('c', 's3', 1000), 2);
  now += 1001;
  assert.equal(s.acquire('c', 's4', 1000), 1, 'stale holders expired');
  s.release('nope', 'x');
});

test('memory: old windows are swept', () => {
  let now = 0;
  const s = new MemoryCounterStore(() => now);
  for (let i = 0; i < 100; i++) s.incr(`k${i}`, 1000);
  now += 5000;
  for (let i = 0; i < 4096; i++) s.incr('same', 1000);
  assert.ok(s.size <= 2, `size ${s.size}`);
});

let redis: TestRedis | undefined;
let skip: string | false = false;

before(async () => {
  if (!(await hasRedisServer())) {
    skip = 'SKIPPED: redis-server not installed (Debian package redis-server)';
    console.warn(`\n*** ${skip} ***\n`);
    return;
  }
  redis = await startRedis();
});

after(async () => {
  await redis?.stop();
});

function store(url: string, prefix = 'test:'): RedisCounterStore {
  return new RedisCounterStore({ url, keyPrefix: prefix, commandTimeoutMs: 500, connectTimeoutMs: 1000 });
}

test('redis: two store instances share counts and concurrency', async (t) => {
  if (skip) return t.skip(skip);
  const a = store(redis!.url);
  const b = store(redis!.url);
  try {
    await Promise.all([a.ready(), b.ready()]);
    const day = 86_400_000; // one fixed window for the whole test (a minute's could end between two counts)
    assert.equal(await a.incr('client:192.0.2.1', day), 1);
    assert.equal(await b.incr('client:192.0.2.1', day), 2);
    assert.equal(await a.incr('client:192.0.2.1', day), 3);
    assert.equal(await b.incr('client:192.0.2.2', day), 1);
    assert.equal(await a.acquire('sess:x', 's1', 60_000), 1);
    assert.equal(await b.acquire('sess:x', 's2', 60_000), 2);
    await a.release('sess:x', 's1');
    assert.equal(await b.acquire('sess:x', 's3', 60_000), 2);
    // other prefix = separate counters
    const c = store(redis!.url, 'other:');
    await c.ready();
    assert.equal(await c.incr('client:192.0.2.1', day), 1);
    await c.close();
  } finally {
    await a.close();
    await b.close();
  }
});

test('redis: commands right after creation wait for the connection instead of failing', async (t) => {
  if (skip) return t.skip(skip);
  const a = store(redis!.url, 'fresh:');
  try {
    assert.equal(await a.incr('k', 60_000), 1);
    assert.equal(await a.acquire('s', 'id', 60_000), 1);
  } finally {
    await a.close();
  }
});

test('redis: counters expire with their window; stale slots expire', async (t) => {
  if (skip) return t.skip(skip);
  const a = store(redis!.url);
  try {
    await a.ready();
    assert.equal(await a.incr('short', 200), 1);
    await new Promise((r) => setTimeout(r, 450));
    assert.equal(await a.incr('short', 200), 1);
    assert.equal(await a.acquire('sess:y', 'old', 100), 1);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await a.acquire('sess:y', 'new', 60_000), 1);
  } finally {
    await a.close();
  }
});

test('redis: unreachable server → StoreError quickly, never a count', async () => {
  const port = await freePort();
  const s = store(`redis://127.0.0.1:${port}/0`);
  try {
    await assert.rejects(s.incr('x', 1000), (e: unknown) => e instanceof StoreError && e.code === 'STATE_UNAVAILABLE');
    await assert.rejects(s.acquire('x', 'id', 1000), StoreError);
    await s.release('x', 'id'); // never throws
  } finally {
    await s.close();
  }
});

test('redis: two Postern instances (policy modules) share one connection limit', async (t) => {
  if (skip) return t.skip(skip);
  const { connectionConfigSchema, createConnectionPolicy } = await import('../../src/policy/connection/index.js');
  const { createResolver, dnsConfigSchema } = await import('../../src/dns/index.js');
  const { silentLogger } = await import('../../src/log/logger.js');
  const cfg = connectionConfigSchema.parse({
    rates: { connectionsPerClient: 2, windowMs: 86_400_000 }, // one window for all three (a minute's could end between them)
    rdns: { missing: { action: 'off' }, mismatch: { action: 'off' } },
  });
  const stores = [store(redis!.url, 'shared:'), store(redis!.url, 'shared:')];
  await Promise.all(stores.map((s) => s.ready()));
  const resolver = createResolver(dnsConfigSchema.parse({ servers: ['127.0.0.1:9'], timeoutMs: 100, tries: 1 }));
  const [p1, p2] = stores.map((s) => createConnectionPolicy(cfg, { resolver, store: s, logger: silentLogger() }));
  const ctx = (id: string) => ({
    session: { sessionId: id, client: { hostname: 'unknown', address: '192.0.2.200', family: 'inet4' as const }, unknownCommands: 0, macro: () => undefined },
    message: { senderArgs: [], recipients: [], attemptedRecipients: 0, headers: [] },
    earlierHits: [],
  });
  try {
    assert.deepEqual((await p1!.connect!(ctx('a'))).hits, []);
    assert.deepEqual((await p2!.connect!(ctx('b'))).hits, []);
    const third = (await p1!.connect!(ctx('c'))).hits;
    assert.deepEqual(third.map((h) => h.rule), ['rate.connections']);
  } finally {
    await Promise.all(stores.map((s) => s.close()));
  }
});
