// Layer 1 checks that need DNS, against the loopback DNS server harness: FCrDNS (PTR + forward, IPv4
// and IPv6), HELO/rDNS match, DNSBL zones (listed, not listed, return-code filter, IPv6 nibbles,
// canary failures, timeouts, re-enable), and that repeated sessions are served from the cache.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { z } from 'zod';
import { startDnsServer, type TestDnsServer } from '../harness/dns-server.js';
import { createResolver, dnsConfigSchema, ptrName, reversedLabels } from '../../src/dns/index.js';
import { MemoryCounterStore } from '../../src/state/index.js';
import { connectionConfigSchema, createConnectionPolicy, type ConnectionPolicy } from '../../src/policy/connection/index.js';
import type { ClientInfo, MessageFacts, RuleHit, SessionFacts, StageContext } from '../../src/policy/types.js';
import { capture, type Captured } from '../harness/log-capture.js';

let dns: TestDnsServer;

before(async () => {
  dns = await startDnsServer({
    records: {
      '1.2.0.192.in-addr.arpa': [{ type: 'PTR', data: 'good.example.test' }],
      'good.example.test': [{ type: 'A', data: '192.0.2.1' }, { type: 'AAAA', data: '2001:db8::1' }],
      '2.2.0.192.in-addr.arpa': [{ type: 'PTR', data: 'liar.example.test' }],
      'liar.example.test': [{ type: 'A', data: '198.51.100.1' }],
      // two PTR names, the second one confirms
      '3.2.0.192.in-addr.arpa': [{ type: 'PTR', data: 'nope.example.test' }, { type: 'PTR', data: 'multi.example.test' }],
      'multi.example.test': [{ type: 'A', data: '192.0.2.3' }],
      [ptrName('2001:db8::1')!]: [{ type: 'PTR', data: 'good.example.test' }],
      'sender.test': [{ type: 'MX', data: { preference: 10, exchange: 'mx.sender.test' } }],
    },
    rcodes: { '4.2.0.192.in-addr.arpa': 'SERVFAIL' },
    dnsbl: [
      { zone: 'bl.test', listed: { '192.0.2.66': ['127.0.0.2'], '192.0.2.67': ['127.255.255.254'], '2001:db8::66': ['127.0.0.4'] } },
      { zone: 'rej.test', listed: { '192.0.2.66': ['127.0.0.3'] } },
      { zone: 'dead.test', canary: false, listed: { '192.0.2.66': ['127.0.0.2'] } },
      { zone: 'all.test', answerAll: '127.0.0.2' },
      { zone: 'slowbl.test' },
      { zone: 'v4only.test', listed: { '2001:db8::66': ['127.0.0.2'] } },
    ],
  });
  dns.setDelay(`${reversedLabels('192.0.2.66')}.slowbl.test`, Infinity);
});

after(async () => {
  await dns.close();
});


type Cfg = z.input<typeof connectionConfigSchema>;

function policy(cfg: Cfg, opts: { log?: Captured; now?: () => number; negativeTtlSec?: number } = {}): ConnectionPolicy {
  const base = dnsConfigSchema.parse({ servers: [dns.server], timeoutMs: 300, tries: 1 });
  const resolver = createResolver({ ...base, cache: { ...base.cache, negativeTtlSec: opts.negativeTtlSec ?? base.cache.negativeTtlSec } });
  return createConnectionPolicy(connectionConfigSchema.parse(cfg), {
    resolver,
    store: new MemoryCounterStore(),
    logger: (opts.log ?? capture()).logger,
    ...(opts.now ? { now: opts.now } : {}),
  });
}

let sid = 0;
function session(p: ConnectionPolicy, client: Partial<ClientInfo>, helo = 'mail.client.test') {
  const facts: SessionFacts = {
    sessionId: `d${++sid}`,
    client: { hostname: 'unknown', family: 'inet4', port: 1, ...client },
    unknownCommands: 0,
    macro: () => undefined,
    helo,
  };
  const message: MessageFacts = { sender: 'a@sender.test', senderRaw: '<a@sender.test>', senderArgs: [], recipients: [], attemptedRecipients: 0, headers: [] };
  const ctx: StageContext = { session: facts, message, earlierHits: [] };
  return {
    connect: async (): Promise<RuleHit[]> => (await p.connect!(ctx)).hits,
    helo: async (name = helo): Promise<RuleHit[]> => {
      facts.helo = name;
      return (await p.helo!(ctx)).hits;
    },
    mail: async (): Promise<RuleHit[]> => (await p.mail!(ctx)).hits,
    close: (): void => p.close!(facts),
  };
}

/** CONNECT, HELO, MAIL; returns every hit. */
async function run(p: ConnectionPolicy, client: Partial<ClientInfo>, helo?: string): Promise<RuleHit[]> {
  const s = session(p, client, helo);
  const out = [...(await s.connect()), ...(await s.helo()), ...(await s.mail())];
  s.close();
  return out;
}
const ids = (hs: RuleHit[]): string[] => hs.map((h) => h.rule).sort();
const only = (hs: RuleHit[], id: string): RuleHit => {
  const h = hs.find((x) => x.rule === id);
  assert.ok(h, `expected ${id} in ${JSON.stringify(ids(hs))}`);
  return h;
};

const NO_BL: Cfg = {};
const NO_RDNS: Cfg = { rdns: { missing: { action: 'off' }, mismatch: { action: 'off' } } };

describe('rDNS (FCrDNS verified through the resolver)', () => {
  test('PTR whose forward lookup matches: no hit, whatever the MTA reported ("[addr]", "unknown")', async () => {
    const p = policy(NO_BL);
    assert.deepEqual(await run(p, { address: '192.0.2.1', hostname: '[192.0.2.1]' }), []);
    assert.deepEqual(await run(p, { address: '192.0.2.1', hostname: 'unknown' }), []);
    assert.deepEqual(await run(p, { address: '192.0.2.3' }), [], 'second PTR name confirms');
    assert.deepEqual(await run(p, { family: 'inet6', address: '2001:db8::1' }), [], 'IPv6 PTR + AAAA');
    assert.deepEqual(await run(p, { family: 'inet6', address: 'IPv6:2001:db8::1' }), [], 'sendmail IPv6: prefix');
  });

  test('rdns.missing and rdns.mismatch score by default, given at MAIL', async () => {
    const p = policy(NO_BL);
    const s = session(p, { address: '203.0.113.50' });
    assert.deepEqual(await s.connect(), []);
    assert.deepEqual(await s.helo(), []);
    const m = only(await s.mail(), 'rdns.missing');
    assert.deepEqual([m.action, m.score], ['score', 1.5]);
    const mm = only(await run(p, { address: '192.0.2.2' }), 'rdns.mismatch');
    assert.deepEqual([mm.action, mm.score], ['score', 1]);
  });

  test('rdns.missing configured to reject: 550 at the rejectAt stage', async () => {
    const p = policy({ rdns: { missing: { action: 'reject' } }, client: { rejectAt: 'connect' } });
    const h = only(await session(p, { address: '203.0.113.51' }).connect(), 'rdns.missing');
    assert.equal(h.reply!.code, 550);
  });

  test('DNS failure: a log entry when scoring, a tempfail (never 5xx) when the rule would refuse', async () => {
    const p = policy(NO_BL);
    const hs = await run(p, { address: '192.0.2.4' });
    assert.deepEqual(hs.map((h) => [h.rule, h.action]), [['rdns.missing', 'log']]);
    const q = policy({ rdns: { missing: { action: 'reject' } } });
    const h = only(await run(q, { address: '192.0.2.4' }), 'rdns.missing');
    assert.deepEqual([h.action, h.reply!.code, h.reply!.enhanced], ['tempfail', 451, '4.4.3']);
  });

  test('helo.mismatch (opt-in) compares HELO with the verified client name', async () => {
    const p = policy({ ...NO_RDNS, helo: { mismatch: { action: 'score' } } });
    assert.deepEqual(ids(await run(p, { address: '192.0.2.1' }, 'other.example.test')), ['helo.mismatch']);
    assert.deepEqual(await run(p, { address: '192.0.2.1' }, 'good.example.test'), []);
  });

  test('internal clients are not looked up', async () => {
    const p = policy(NO_BL);
    dns.resetCounts();
    assert.deepEqual(await run(p, { address: '127.0.0.1' }, 'localhost'), []);
    assert.equal(dns.count(), 0);
  });
});

describe('DNSBL', () => {
  const zones = (...z: object[]): Cfg => ({ ...NO_RDNS, dnsbl: { zones: z } } as Cfg);

  test('listed IPv4 client scores with the zone weight; not listed: nothing', async () => {
    const p = policy(zones({ zone: 'bl.test', weight: 4 }));
    const h = only(await run(p, { address: '192.0.2.66' }), 'dnsbl.bl.test');
    assert.deepEqual([h.action, h.score], ['score', 4]);
    assert.deepEqual(await run(p, { address: '192.0.2.1' }), []);
  });

  test('reject zone: 554 5.7.1 at MAIL naming the zone; return-code filter', async () => {
    const p = policy(zones({ zone: 'rej.test', action: 'reject', returnCodes: ['127.0.0.3'] }, { zone: 'bl.test', action: 'reject', returnCodes: ['127.0.0.4/32'] }));
    const hs = await run(p, { address: '192.0.2.66' });
    assert.deepEqual(ids(hs), ['dnsbl.rej.test', 'dnsbl.bl.test'].sort());
    const rej = only(hs, 'dnsbl.rej.test');
    assert.deepEqual([rej.action, rej.reply!.code, rej.reply!.enhanced], ['reject', 554, '5.7.1']);
    assert.match(String(rej.reply!.text), /rej\.test/);
    assert.equal(only(hs, 'dnsbl.bl.test').action, 'log', '127.0.0.2 is outside the filter: not a listing');
    // the Spamhaus-style error answer 127.255.255.254 is never a listing with the default filter
    const q = policy(zones({ zone: 'bl.test', action: 'reject' }));
    assert.deepEqual(only(await run(q, { address: '192.0.2.67' }), 'dnsbl.bl.test').action, 'log');
  });

  test('IPv6 clients: nibble-reversed query only for zones with ipv6 on', async () => {
    const p = policy(zones({ zone: 'bl.test', ipv6: true }, { zone: 'v4only.test' }));
    dns.resetCounts();
    const hs = await run(p, { family: 'inet6', address: '2001:db8::66' });
    assert.deepEqual(ids(hs), ['dnsbl.bl.test']);
    assert.equal(dns.count(`${reversedLabels('2001:db8::66')}.bl.test`, 'A'), 1);
    assert.equal(dns.count(`${reversedLabels('2001:db8::66')}.v4only.test`), 0);
  });

  test('canary: a dead zone and an answer-everything zone are disabled, logged at error, never reject', async () => {
    const log = capture();
    const p = policy(zones({ zone: 'dead.test', action: 'reject' }, { zone: 'all.test', action: 'reject' }, { zone: 'bl.test' }), { log });
    const hs = await run(p, { address: '192.0.2.66' });
    assert.deepEqual(ids(hs), ['dnsbl.bl.test']);
    assert.deepEqual(p.dnsblStatus(), { 'dead.test': 'failed', 'all.test': 'failed', 'bl.test': 'ok' });
    const errors = log.lines.filter((l) => l.level === 50);
    assert.ok(errors.some((l) => l['zone'] === 'dead.test' && /127\.0\.0\.2 is not listed/.test(String(l['problem']))));
    assert.ok(errors.some((l) => l['zone'] === 'all.test' && /answers everything/.test(String(l['problem']))));
    assert.deepEqual(ids(await run(p, { address: '192.0.2.99' })), [], 'answer-everything zone does not list every client');
  });

  test('canary re-checked periodically: a fixed zone is re-enabled', async () => {
    let now = 1_000_000;
    const log = capture();
    dns.addDnsblZone({ zone: 'flip.test', canary: false, listed: { '192.0.2.66': ['127.0.0.2'] } });
    const p = policy(zones({ zone: 'flip.test' }), { log, now: () => now, negativeTtlSec: 0 });
    await p.checkDnsblZones();
    assert.equal(p.dnsblStatus()['flip.test'], 'failed');
    assert.deepEqual(await run(p, { address: '192.0.2.66' }), []);
    dns.addDnsblZone({ zone: 'flip.test', canary: true });
    dns.resetCounts();
    assert.deepEqual(await run(p, { address: '192.0.2.66' }), [], 'not due yet: still disabled');
    assert.equal(dns.count('2.0.0.127.flip.test'), 0);
    now += 300_001;
    await run(p, { address: '192.0.2.66' }); // due: re-test starts in the background
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(p.dnsblStatus()['flip.test'], 'ok');
    assert.ok(log.lines.some((l) => /re-enabled/.test(l.msg)));
    assert.deepEqual(ids(await run(p, { address: '192.0.2.66' })), ['dnsbl.flip.test']);
  });

  test('a lookup timeout is a log entry, never a rejection', async () => {
    const p = policy(zones({ zone: 'slowbl.test', action: 'reject' }));
    const hs = await run(p, { address: '192.0.2.66' });
    assert.deepEqual(hs.map((h) => [h.rule, h.action]), [['dnsbl.slowbl.test', 'log']]);
  });

  test('repeated sessions from one client are answered from the cache', async () => {
    const p = policy({ dnsbl: { zones: [{ zone: 'bl.test' }, { zone: 'rej.test' }] } } as Cfg);
    await run(p, { address: '192.0.2.66' });
    dns.resetCounts();
    const hs = await run(p, { address: '192.0.2.66' });
    assert.deepEqual(ids(hs), ['dnsbl.bl.test', 'dnsbl.rej.test', 'rdns.missing']);
    assert.equal(dns.count(), 0, JSON.stringify(dns.queries));
  });
});
