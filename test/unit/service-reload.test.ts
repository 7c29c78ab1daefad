// What a config reload keeps and what it applies, with the real PosternService (config -> modules ->
// engine -> milter server) driven over loopback sockets by the MTA simulator: a changed
// policy.errorAction reaches the answers of new sessions' timed-out steps; the in-memory rate counters
// survive a reload that leaves the state section alone; a session keeps working old modules (real
// content worker threads) after the old grace time and the old policy is disposed when it ends; and
// the upper bound disposes an old policy a never-ending session holds, which then fails closed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { configSchema, type PosternConfig } from '../../src/config/schema.js';
import { PosternService } from '../../src/service.js';
import { connectMilter, type MtaConnection } from '../harness/mta.js';
import { capture, type Captured } from '../harness/log-capture.js';
import { FIXTURES } from '../harness/paths.js';
import { startDnsServer, type TestDnsServer } from '../harness/dns-server.js';
import type { FilterReply } from '../../codec/index.js';
import { offlineServiceConfig } from '../harness/postern.js';

const RAW = readFileSync(path.join(FIXTURES, 'scan', 'messages', 'clean.eml'));
const ENVELOPE = { from: '<alice@example.org>', rcpts: ['<bob@example.net>'] };

let dns: TestDnsServer;
/** A DNS "server" on loopback that never answers: lookups hang until the resolver's timeout. */
let silent: dgram.Socket;
let silentAddr = '';
const services: PosternService[] = [];

before(async () => {
  dns = await startDnsServer({
    records: {
      'example.org': [{ type: 'MX', data: { preference: 10, exchange: 'mail.example.org' } }, { type: 'A', data: '192.0.2.1' }],
      'mail.example.org': [{ type: 'A', data: '192.0.2.1' }],
    },
  });
  silent = dgram.createSocket('udp4');
  await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()));
  silentAddr = `127.0.0.1:${silent.address().port}`;
});

after(async () => {
  for (const s of services) await s.stop().catch(() => {});
  silent?.close();
  await dns?.close();
});

/** A full config from a partial one (as the YAML loader would build it). */
function config(over: Record<string, unknown>): PosternConfig {
  const base = {
    ...offlineServiceConfig(dns.server, 1000),
    server: { listen: 'inet:0@127.0.0.1', shutdownGraceMs: 200 },
  };
  return configSchema.parse(merge(base, over));
}

function merge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && cur && typeof cur === 'object' && !Array.isArray(cur)
      ? merge(cur as Record<string, unknown>, v as Record<string, unknown>)
      : v;
  }
  return out;
}

async function startService(cfg: PosternConfig): Promise<{ service: PosternService; log: Captured }> {
  const log = capture();
  const service = new PosternService({ config: cfg, logger: log.logger });
  await service.start();
  services.push(service);
  return { service, log };
}

/** Open a negotiated session and send CONNECT (+ HELO unless the connect was refused). */
async function session(service: PosternService, ip: string): Promise<{ mta: MtaConnection; connect: FilterReply | undefined }> {
  const mta = await connectMilter(service.address, { postfixLike: true, timeoutMs: 20000, macros: { C: { j: 'mx.example.net' } } });
  await mta.negotiate();
  const connect = await mta.connect(`[${ip}]`, '4', 40000, ip);
  return { mta, connect };
}

const kind = (r: FilterReply | undefined): string => (r === undefined ? 'none' : r.type === 'replyCode' ? `replyCode ${r.text}` : r.type);

async function waitFor(log: Captured, pred: (l: Captured['lines'][number]) => boolean, ms = 15000): Promise<Captured['lines'][number]> {
  const until = Date.now() + ms;
  for (;;) {
    const hit = log.lines.find(pred);
    if (hit) return hit;
    if (Date.now() > until) throw new Error(`no such log line within ${ms} ms; have: ${log.lines.map((l) => l.msg).join(' | ')}`);
    await sleep(20);
  }
}

test('a reloaded policy.errorAction answers the timed-out steps of new sessions; running sessions keep theirs', { timeout: 60_000 }, async () => {
  // rDNS on, against a DNS server that never answers: the CONNECT step outlasts its 300 ms budget
  // and the session answers with the error action.
  const slow = {
    dns: { servers: [silentAddr], timeoutMs: 10_000, tries: 1 },
    connection: { client: { rejectAt: 'connect' }, rdns: { missing: { action: 'score', score: 1 } } },
    server: { timeouts: { connectMs: 300 } },
  };
  const { service } = await startService(config({ ...slow, policy: { errorAction: 'tempfail' } }));
  const a = await session(service, '192.0.2.10');
  assert.equal(kind(a.connect), 'tempfail');

  // opened before the reload, CONNECT sent after it: this session started under "tempfail"
  const early = await connectMilter(service.address, { postfixLike: true, timeoutMs: 20000 });
  await early.negotiate();

  await service.reload(config({ ...slow, policy: { errorAction: 'reject' } }));
  const b = await session(service, '192.0.2.11');
  assert.equal(kind(b.connect), 'reject', 'the new error action is in force for a new session');
  assert.equal(kind(await early.connect('[192.0.2.12]', '4', 40001, '192.0.2.12')), 'tempfail', 'a running session keeps the error action it started with');

  await service.reload(config({ ...slow, policy: { errorAction: 'quarantine' } }));
  const c = await session(service, '192.0.2.13');
  assert.equal(kind(c.connect), 'tempfail', 'quarantine cannot be said at CONNECT: tempfail, never an accept');
  for (const s of [a, b, c]) await s.mta.quit();
  await early.quit();
});

test('in-memory rate counts survive a reload that leaves the state section alone', { timeout: 60_000 }, async () => {
  // one-day window: a minute's window could end between the counted connections
  const limits = { connection: { rates: { connectionsPerClient: 2, concurrencyPerClient: 0, windowMs: 86_400_000 } } };
  const { service, log } = await startService(config({ ...limits, policy: { trace: { header: 'X-Trace-A' } } }));
  const ip = '192.0.2.20';
  for (let i = 0; i < 2; i++) {
    const s = await session(service, ip);
    assert.equal(kind(s.connect), 'continue', `connection ${i + 1} is within the limit`);
    await s.mta.quit();
  }
  await service.reload(config({ ...limits, policy: { trace: { header: 'X-Trace-B' } } }));
  const third = await session(service, ip);
  assert.match(kind(third.connect), /^replyCode 421 .*rate\.connections/, 'the third connection in the window is over the limit');
  await third.mta.quit();
  assert.equal(service.counterStores, 1);
  assert.ok(!log.lines.some((l) => /rate and concurrency counts start again/.test(l.msg)));

  // A changed state section is a new store (counts start again), and the reload says so.
  await service.reload(config({ ...limits, state: { redis: { keyPrefix: 'other:' } } }));
  await waitFor(log, (l) => /rate and concurrency counts start again/.test(l.msg));
  const fresh = await session(service, ip);
  assert.equal(kind(fresh.connect), 'continue');
  await fresh.mta.quit();
  // the replaced store is closed once no policy uses it (policy 2 was the last one using it)
  await waitFor(log, (l) => l.msg === 'old policy disposed' && l.generation === '2');
  assert.equal(service.counterStores, 1);
});

test('a session keeps working old modules past the grace time; they are disposed when it ends', { timeout: 120_000 }, async () => {
  // Real content worker threads: disposing the old policy destroys its pool.
  const cfg = (header: string) => config({ content: { workers: 1 }, policy: { trace: { header } }, server: { shutdownGraceMs: 200 } });
  const { service, log } = await startService(cfg('X-Trace-A'));
  const s = await session(service, '192.0.2.30');
  assert.equal(kind(s.connect), 'continue');
  await s.mta.helo('mail.example.org');
  assert.equal(kind((await s.mta.sendMessage(RAW, ENVELOPE)).final), 'accept');

  await service.reload(cfg('X-Trace-B'));
  await sleep(800); // well past shutdownGraceMs, the old disposal delay
  assert.equal(service.oldPoliciesLoaded, 1, 'the old policy is still loaded for the running session');
  const later = await s.mta.sendMessage(RAW, ENVELOPE);
  assert.equal(kind(later.final), 'accept', 'a later message of the old session is analysed by the old modules');
  assert.ok(later.modifications.some((m) => m.type === 'addHeader' && m.name === 'X-Trace-A'), 'still under the config it started with');

  const n = await session(service, '192.0.2.31');
  await n.mta.helo('mail.example.org');
  const fresh = await n.mta.sendMessage(RAW, ENVELOPE);
  assert.ok(fresh.modifications.some((m) => m.type === 'addHeader' && m.name === 'X-Trace-B'), 'a new session gets the new config');

  assert.ok(!log.lines.some((l) => l.msg === 'old policy disposed'));
  await s.mta.quit();
  const line = await waitFor(log, (l) => l.msg === 'old policy disposed');
  assert.equal(line.reason, 'last session ended');
  assert.equal(line.sessionsLeft, 0);
  assert.equal(service.oldPoliciesLoaded, 0);
  await n.mta.quit();
});

test('an old policy held by a session that never ends is disposed at the idle-time bound, and that session then fails closed', { timeout: 120_000 }, async () => {
  // The bound is max(idleMs, shutdownGraceMs) = 3000 ms here; messages every 200 ms keep the session
  // from idling out, also while the reload builds the new policy (worker start-up takes a while).
  const cfg = (header: string) =>
    config({ content: { workers: 1 }, policy: { trace: { header } }, server: { shutdownGraceMs: 200, timeouts: { idleMs: 3000 } } });
  const { service, log } = await startService(cfg('X-Trace-A'));
  const s = await session(service, '192.0.2.40');
  await s.mta.helo('mail.example.org');
  assert.equal(kind((await s.mta.sendMessage(RAW, ENVELOPE)).final), 'accept');
  let reloaded = false;
  const reload = service.reload(cfg('X-Trace-B')).then(() => void (reloaded = true));
  while (!reloaded) {
    assert.equal(kind((await s.mta.sendMessage(RAW, ENVELOPE)).final), 'accept');
    await sleep(200);
  }
  await reload;
  assert.equal(service.oldPoliciesLoaded, 1, 'the session still holds the old policy');
  const giveUp = Date.now() + 30_000;
  while (!log.lines.some((l) => /^old policy disposed/.test(l.msg))) {
    assert.ok(Date.now() < giveUp, 'the old policy was disposed at its bound');
    assert.equal(kind((await s.mta.sendMessage(RAW, ENVELOPE)).final), 'accept', 'before the bound, old modules still work');
    await sleep(200);
  }
  const line = await waitFor(log, (l) => /^old policy disposed/.test(l.msg));
  assert.equal(line.reason, 'time limit reached');
  assert.equal(line.sessionsLeft, 1);
  assert.equal(line.level, 40, 'disposing under a live session is a warning');
  await sleep(100);
  const after = await s.mta.sendMessage(RAW, ENVELOPE);
  assert.notEqual(after.final.type, 'accept', 'disposed modules never let a message through unchecked');
  assert.match(kind(after.final), /^(tempfail|replyCode 4)/);
  await s.mta.quit();
});
