// Layer 1 connection policy: one test (or more) per rule, driven with StageContext objects built here,
// against the real DNS server harness (loopback) for everything that resolves.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { z } from 'zod';
import { startDnsServer, type TestDnsServer } from '../harness/dns-server.js';
import { createResolver, dnsConfigSchema } from '../../src/dns/index.js';
import { MemoryCounterStore, StoreError, type CounterStore } from '../../src/state/index.js';
import { connectionConfigSchema, createConnectionPolicy, ConnectionConfigError, type ConnectionPolicy } from '../../src/policy/connection/index.js';
import type { ClientInfo, MessageFacts, Recipient, RuleHit, SessionFacts, StageContext } from '../../src/policy/types.js';
import type { Resolver } from '../../src/dns/types.js';
import { capture, type Captured } from '../harness/log-capture.js';

// ------------------------------------------------------------------ fixtures

let dns: TestDnsServer;
let resolver: Resolver & { clearCache(): void };

before(async () => {
  dns = await startDnsServer({
    records: {
      'example.test': [{ type: 'MX', data: { preference: 10, exchange: 'mx.example.test' } }],
      'a-only.test': [{ type: 'A', data: '192.0.2.99' }],
      'v6-only.test': [{ type: 'AAAA', data: '2001:db8::99' }],
      'txt-only.test': [{ type: 'TXT', data: 'x' }],
      'nullmx.test': [{ type: 'MX', data: { preference: 0, exchange: '.' } }],
      'sender.test': [{ type: 'MX', data: { preference: 10, exchange: 'mx.sender.test' } }],
      // FCrDNS: good.example.test ⇄ 192.0.2.1; 192.0.2.2 has a PTR whose A points elsewhere.
      '1.2.0.192.in-addr.arpa': [{ type: 'PTR', data: 'good.example.test' }],
      'good.example.test': [{ type: 'A', data: '192.0.2.1' }],
      '2.2.0.192.in-addr.arpa': [{ type: 'PTR', data: 'liar.example.test' }],
      'liar.example.test': [{ type: 'A', data: '198.51.100.1' }],
      'v6host.example.test': [{ type: 'AAAA', data: '2001:db8::1' }],
    },
    rcodes: { 'servfail.test': 'SERVFAIL', '4.2.0.192.in-addr.arpa': 'SERVFAIL' },
    delays: { 'slow.test': Infinity },
  });
  // 2001:db8::1 → v6host.example.test
  dns.set('1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa', [{ type: 'PTR', data: 'v6host.example.test' }]);
  resolver = createResolver(dnsConfigSchema.parse({ servers: [dns.server], timeoutMs: 300, tries: 1 }));
});

after(async () => {
  await dns.close();
});


type Cfg = z.input<typeof connectionConfigSchema>;

function policy(cfg: Cfg = {}, opts: { store?: CounterStore; log?: Captured; localNames?: string[]; now?: () => number } = {}): ConnectionPolicy {
  return createConnectionPolicy(connectionConfigSchema.parse(cfg), {
    resolver,
    store: opts.store ?? new MemoryCounterStore(),
    logger: (opts.log ?? capture()).logger,
    localNames: opts.localNames ?? [],
    ...(opts.now ? { now: opts.now } : {}),
  });
}

let sid = 0;

/** Plays one SMTP session against the module the way the engine will. */
class Session {
  readonly macros = new Map<string, string>();
  readonly facts: SessionFacts;
  message: MessageFacts = Session.newMessage();
  readonly all: RuleHit[] = [];

  constructor(
    readonly p: ConnectionPolicy,
    client: Partial<ClientInfo> = {},
    macros: Record<string, string> = {},
  ) {
    for (const [k, v] of Object.entries(macros)) this.macros.set(k.replace(/^\{|\}$/g, ''), v);
    const m = this.macros;
    this.facts = {
      sessionId: `s${++sid}`,
      client: { hostname: 'unknown', address: '203.0.113.9', port: 25000, family: 'inet4', ...client },
      unknownCommands: 0,
      macro: (name: string) => m.get(name.replace(/^\{|\}$/g, '')),
    };
  }

  static newMessage(): MessageFacts {
    return { senderArgs: [], recipients: [], attemptedRecipients: 0, headers: [] };
  }

  get ctx(): StageContext {
    return { session: this.facts, message: this.message, earlierHits: this.all };
  }

  private keep(hits: RuleHit[]): RuleHit[] {
    this.all.push(...hits);
    return hits;
  }

  async connect(): Promise<RuleHit[]> {
    return this.keep((await this.p.connect!(this.ctx)).hits);
  }
  async helo(name: string): Promise<RuleHit[]> {
    this.facts.helo = name;
    return this.keep((await this.p.helo!(this.ctx)).hits);
  }
  async mail(sender: string, raw = `<${sender}>`): Promise<RuleHit[]> {
    this.message = Session.newMessage();
    this.message.sender = sender;
    this.message.senderRaw = raw;
    return this.keep((await this.p.mail!(this.ctx)).hits);
  }
  async rcpt(address: string, raw = `<${address}>`): Promise<RuleHit[]> {
    const rcpt: Recipient = { address, raw, args: [], macros: {} };
    const hits = (await this.p.rcpt!({ ...this.ctx, rcpt })).hits;
    this.message.attemptedRecipients++;
    if (!hits.some((h) => h.action === 'reject' || h.action === 'tempfail')) this.message.recipients.push(rcpt);
    return this.keep(hits);
  }
  async data(): Promise<RuleHit[]> {
    return this.keep((await this.p.data!(this.ctx)).hits);
  }
  async eom(): Promise<RuleHit[]> {
    const source = { size: 0, read: async () => Buffer.alloc(0) };
    return this.keep((await this.p.eom!({ ...this.ctx, source })).hits);
  }
  async unknown(cmd: string): Promise<RuleHit[]> {
    this.facts.unknownCommands++;
    return this.keep((await this.p.unknown!(this.ctx, cmd)).hits);
  }
  reset(): void {
    this.p.reset!(this.facts);
    this.message = Session.newMessage();
  }
  close(): void {
    this.p.close!(this.facts);
  }
}

const ids = (hs: RuleHit[]): string[] => hs.map((h) => h.rule);
const only = (hs: RuleHit[], id: string): RuleHit => {
  const h = hs.find((x) => x.rule === id);
  assert.ok(h, `expected hit ${id}, got ${JSON.stringify(ids(hs))}`);
  return h;
};

/** Default-ish config for rule tests that do not want DNS work: rDNS off, sender domain check off. */
// A one-day counter window: the rate tests count a few events on the real clock, and a fixed window that
// ended between two of them (a one-minute window does every minute) would split their count.
const NODNS: Cfg = {
  rdns: { missing: { action: 'off' }, mismatch: { action: 'off' } },
  sender: { domainMissing: { action: 'off' } },
  rates: { windowMs: 86_400_000 },
};
const merge = (a: Cfg, b: Cfg): Cfg => {
  const out: Record<string, unknown> = { ...(a as object) };
  for (const [k, v] of Object.entries(b as object)) {
    const prev = out[k];
    out[k] = prev && typeof prev === 'object' && !Array.isArray(prev) && v && typeof v === 'object' && !Array.isArray(v) ? merge(prev as Cfg, v as Cfg) : v;
  }
  return out as Cfg;
};

// ------------------------------------------------------------------ schema

describe('config', () => {
  test('defaults of the embedded policy', () => {
    const c = connectionConfigSchema.parse(undefined);
    assert.equal(c.sender.domainMissing.action, 'reject');
    assert.equal(c.sourceRoute.action, 'reject');
    assert.equal(c.helo.syntax.action, 'reject');
    assert.equal(c.recipients.softLimit, 100);
    assert.equal(c.recipients.hardLimit, 500);
    assert.equal(c.unknownCommands.limit, 10);
    assert.ok(c.rates.connectionsPerClient > 0 && c.rates.concurrencyPerClient > 0);
    assert.deepEqual(c.dnsbl.zones, []);
    assert.deepEqual(c.client.allow, []);
    assert.deepEqual(c.client.deny, []);
    assert.equal(c.rdns.missing.action, 'score');
    assert.equal(c.rdns.mismatch.action, 'score');
    assert.equal(c.client.rejectAt, 'mail');
    assert.equal(c.rates.failAction, 'tempfail');
  });

  test('every key has a .describe() reason', () => {
    assertDescribed(connectionConfigSchema, 'connection');
  });

  test('invalid CIDR and invalid pattern are load errors naming the entry', () => {
    assert.throws(() => policy({ client: { deny: ['192.0.2.0/33'] } }), (e: unknown) => e instanceof ConnectionConfigError && /192\.0\.2\.0\/33/.test(e.message));
    assert.throws(() => policy({ sender: { patterns: ['ok', '(unclosed'] } }), (e: unknown) => e instanceof ConnectionConfigError && e.message.includes('(unclosed'));
    assert.throws(() => policy({ sender: { patterns: ['(a)\\1'] } }), ConnectionConfigError); // backreference: not RE2
  });
});

test('rules/dnsbl.yaml: ships no active zone; its commented entries are valid zone configs', async () => {
  const { readFileSync } = await import('node:fs');
  const { parse } = await import('yaml');
  const text = readFileSync('rules/dnsbl.yaml', 'utf8');
  assert.deepEqual(parse(text), { zones: [] });
  const body = text.split('zones: []')[1]!.split('\n').filter((l) => /^# {2}[ -]/.test(l)).map((l) => l.slice(1)).filter((l) => !/^\s*#/.test(l));
  const zones = (parse(`zones:\n${body.join('\n')}`) as { zones: unknown[] }).zones;
  assert.ok(zones.length >= 5);
  const cfg = connectionConfigSchema.parse({ dnsbl: { zones } });
  assert.ok(cfg.dnsbl.zones.every((z) => z.zone.includes('.') && z.returnCodes.length > 0));
  policy({ dnsbl: { zones: cfg.dnsbl.zones } }); // return codes compile as CIDR lists
});

function assertDescribed(schema: unknown, path: string): void {
  let s = schema as { description?: string; _zod: { def: { type: string; innerType?: unknown; shape?: Record<string, unknown>; element?: unknown } } };
  let described = Boolean(s.description);
  let optional = false;
  while (['default', 'prefault', 'optional', 'nullable'].includes(s._zod.def.type)) {
    optional ||= s._zod.def.type === 'optional';
    s = s._zod.def.innerType as typeof s;
    described ||= Boolean(s.description);
  }
  if (path.includes('.')) assert.ok(described, `${path} has no .describe()`);
  // Optional values (reply overrides) reuse src/config/common.ts shapes: described where used, not inside.
  if (s._zod.def.type === 'object' && !optional) for (const [k, v] of Object.entries(s._zod.def.shape ?? {})) assertDescribed(v, `${path}.${k}`);
  const el = s._zod.def.element as typeof s | undefined;
  if (s._zod.def.type === 'array' && el?._zod.def.type === 'object') for (const [k, v] of Object.entries(el._zod.def.shape ?? {})) assertDescribed(v, `${path}[].${k}`);
}

// ------------------------------------------------------------------ client lists

describe('client lists', () => {
  test('client.allow: accept at CONNECT, every later Layer 1 check skipped, no DNS', async () => {
    const p = policy({ client: { allow: ['192.0.2.0/24'] }, localDomains: ['example.test'] });
    dns.resetCounts();
    const s = new Session(p, { address: '192.0.2.77' });
    const h = await s.connect();
    assert.deepEqual(ids(h), ['client.allow']);
    assert.equal(h[0]!.action, 'accept');
    assert.deepEqual(await s.helo('not valid'), []);
    assert.deepEqual(await s.mail('x@nowhere.invalid'), []);
    assert.deepEqual(await s.rcpt('someone@elsewhere.test'), []);
    assert.equal(dns.count(), 0);
    s.close();
    assert.equal(p.activeSessions, 0);
  });

  test('client.allow by verified host name (exact and .suffix), not by "[addr]" or a forged name', async () => {
    const p = policy(merge(NODNS, { client: { allowHostnames: ['.partner.test', 'mx.friend.test'] } }));
    assert.deepEqual(ids(await new Session(p, { hostname: 'a.b.partner.test' }).connect()), ['client.allow']);
    assert.deepEqual(ids(await new Session(p, { hostname: 'MX.Friend.Test.' }).connect()), ['client.allow']);
    assert.deepEqual(ids(await new Session(p, { hostname: 'partner.test' }).connect()), []);
    assert.deepEqual(ids(await new Session(p, { hostname: '[203.0.113.9]' }).connect()), []);
    assert.deepEqual(ids(await new Session(p, { hostname: 'mx.friend.test' }, { client_resolve: 'FORGED' }).connect()), []);
  });

  test('client.deny deferred to MAIL by default, with full reply, then sticky', async () => {
    const log = capture();
    const p = policy({ client: { deny: ['203.0.113.0/24', '2001:db8:bad::/48'] } }, { log });
    dns.resetCounts();
    const s = new Session(p);
    assert.deepEqual(await s.connect(), []);
    assert.deepEqual(await s.helo('mail.example.test'), []);
    const h = only(await s.mail('a@example.test'), 'client.deny');
    assert.equal(h.action, 'reject');
    assert.deepEqual(h.reply && [h.reply.code, h.reply.enhanced], [554, '5.7.1']);
    assert.match(String(h.reply!.text), /client\.deny/);
    assert.deepEqual(ids(await s.mail('b@example.test')), ['client.deny'], 'sticky on a second MAIL');
    assert.deepEqual(ids(await s.rcpt('c@example.test')), ['client.deny']);
    assert.equal(dns.count(), 0, 'no DNS work for a denied client');
  });

  test('client.rejectAt connect / helo; HELO skipped → given at MAIL', async () => {
    const atConnect = policy({ client: { deny: ['203.0.113.9'], rejectAt: 'connect' } });
    assert.deepEqual(ids(await new Session(atConnect).connect()), ['client.deny']);
    const atHelo = policy({ client: { deny: ['203.0.113.9'], rejectAt: 'helo' } });
    const s = new Session(atHelo);
    assert.deepEqual(await s.connect(), []);
    assert.deepEqual(ids(await s.helo('mail.example.test')), ['client.deny']);
    const noHelo = new Session(atHelo);
    await noHelo.connect();
    assert.deepEqual(ids(await noHelo.mail('a@example.test')), ['client.deny']);
  });

  test('client.deny matches sendmail "IPv6:" addresses, bracketed and IPv4-mapped forms', async () => {
    const p = policy(merge(NODNS, { client: { deny: ['2001:db8:bad::/48', '198.51.100.7'], rejectAt: 'connect' } }));
    assert.deepEqual(ids(await new Session(p, { family: 'inet6', address: 'IPv6:2001:db8:bad::5' }).connect()), ['client.deny']);
    assert.deepEqual(ids(await new Session(p, { family: 'inet6', address: '2001:db8:bad:0:0:0:0:5' }).connect()), ['client.deny']);
    assert.deepEqual(ids(await new Session(p, { family: 'inet6', address: '::ffff:198.51.100.7' }).connect()), ['client.deny']);
    assert.deepEqual(ids(await new Session(p, { address: '[198.51.100.7]' }).connect()), ['client.deny']);
    assert.deepEqual(ids(await new Session(p, { family: 'inet6', address: '2001:db8:900d::5' }).connect()), []);
  });

  test('client.hostname-deny on the MTA-verified name; tempfail action gets a 4xx reply', async () => {
    const p = policy(merge(NODNS, { client: { denyHostnames: ['.dialup.test'], denyAction: 'tempfail', rejectAt: 'connect' } }));
    const h = only(await new Session(p, { hostname: 'x1.dialup.test' }).connect(), 'client.hostname-deny');
    assert.equal(h.action, 'tempfail');
    assert.equal(h.reply!.code, 451);
    assert.equal(h.reply!.enhanced, '4.7.1');
    assert.deepEqual(await new Session(p, { hostname: '[203.0.113.9]' }).connect(), []);
  });
});

// ------------------------------------------------------------------ bad input

describe('bad input', () => {
  test('malformed client IPv6 → warn + input.client tempfail (deferred), never accept', async () => {
    const log = capture();
    const p = policy(NODNS, { log });
    const s = new Session(p, { family: 'inet6', address: '2001:db8::zz' });
    assert.deepEqual(await s.connect(), []);
    const h = only(await s.mail('a@example.test'), 'input.client');
    assert.equal(h.action, 'tempfail');
    assert.equal(h.reply!.code, 451);
    assert.ok(log.lines.some((l) => l.level === 40 && l['rule'] === 'input.client'));
  });

  test('client host name with NUL → input.client; missing address for inet4 → input.client', async () => {
    const p = policy(merge(NODNS, { client: { rejectAt: 'connect' } }));
    assert.deepEqual(ids(await new Session(p, { hostname: 'a\0b.test' }).connect()), ['input.client']);
    assert.deepEqual(ids(await new Session(p, { address: undefined }).connect()), ['input.client']);
    // unix-socket and unknown family clients carry no address: nothing to check, not an error
    assert.deepEqual(await new Session(p, { family: 'unix', address: undefined }).connect(), []);
  });

  test('sender with NUL, overlong recipient, HELO with NUL → input.envelope reject', async () => {
    const log = capture();
    const p = policy(NODNS, { log });
    const s = new Session(p);
    await s.connect();
    const hh = only(await s.helo('bad\0helo'), 'input.envelope');
    assert.equal(hh.action, 'reject');
    await s.helo('mail.example.test');
    const m = only(await s.mail('a\0b@example.test'), 'input.envelope');
    assert.equal(m.reply!.code, 501);
    await s.mail('a@example.test');
    const long = `${'x'.repeat(1001)}@example.test`;
    assert.deepEqual(ids(await s.rcpt(long)), ['input.envelope']);
    assert.ok(log.lines.filter((l) => l['rule'] === 'input.envelope').length >= 3);
  });

  test('missing macros and facts never crash', async () => {
    const p = policy(NODNS);
    const s = new Session(p);
    await s.connect();
    (s.facts as { helo?: string }).helo = undefined;
    assert.deepEqual(ids((await p.helo!(s.ctx)).hits), ['input.client']);
    const r = await p.mail!({ ...s.ctx, message: Session.newMessage() });
    assert.deepEqual(ids(r.hits), ['input.client']);
  });
});

// ------------------------------------------------------------------ HELO

describe('helo', () => {
  const p = () => policy(NODNS, { localNames: ['mx.ours.test', '192.0.2.25'] });

  test('helo.syntax: FQDN and address literals pass, garbage is refused 501 5.5.2', async () => {
    const s = new Session(p());
    await s.connect();
    for (const ok of ['mail.example.test', 'MAIL.Example.Test.', '[198.51.100.3]', '[IPv6:2001:db8::3]', 'win_box.corp.test']) {
      assert.deepEqual(await s.helo(ok), [], ok);
    }
    for (const bad of ['localhost', 'foo', '', 'a..b.test', '-x.test', '[300.1.1.1]', '[IPv6:2001:db8::zz]', '[1.2.3.4', 'x.123', 'a b.test', '1.2.3']) {
      const h = only(await s.helo(bad), 'helo.syntax');
      assert.deepEqual([h.action, h.reply!.code, h.reply!.enhanced], ['reject', 501, '5.5.2'], bad);
    }
  });

  test('helo.bare-ip scores by default', async () => {
    const s = new Session(p());
    await s.connect();
    const h = only(await s.helo('198.51.100.3'), 'helo.bare-ip');
    assert.equal(h.action, 'score');
    assert.equal(h.score, 2);
    assert.deepEqual(ids(await s.helo('2001:db8::3')), ['helo.bare-ip']);
  });

  test('helo.own-name: localNames, macro j, our address literal, {daemon_addr}', async () => {
    const s = new Session(p(), {}, { j: 'relay.ours.test', daemon_addr: '198.51.100.25' });
    await s.connect();
    assert.deepEqual(ids(await s.helo('mx.ours.test')), ['helo.own-name']);
    assert.deepEqual(ids(await s.helo('Relay.Ours.Test')), ['helo.own-name']);
    assert.deepEqual(ids(await s.helo('[192.0.2.25]')), ['helo.own-name']);
    assert.deepEqual(ids(await s.helo('[198.51.100.25]')), ['helo.own-name']);
    assert.equal(only(await s.helo('mx.ours.test'), 'helo.own-name').reply!.code, 550);
  });

  test('a refused HELO is given again at MAIL/RCPT until a good HELO replaces it', async () => {
    const s = new Session(p());
    await s.connect();
    await s.helo('junk');
    assert.deepEqual(ids(await s.mail('a@example.test')), ['helo.syntax']);
    await s.helo('mail.example.test');
    assert.deepEqual(await s.mail('a@example.test'), []);
  });

  test('internal clients are exempt from HELO checks', async () => {
    const s = new Session(p(), { address: '127.0.0.1' });
    await s.connect();
    assert.deepEqual(await s.helo('localhost'), []);
  });

  test('helo.mismatch with an address literal (opt-in)', async () => {
    const q = policy(merge(NODNS, { helo: { mismatch: { action: 'score' } } }));
    const s = new Session(q);
    await s.connect();
    assert.deepEqual(ids(await s.helo('[198.51.100.1]')), ['helo.mismatch']);
    assert.deepEqual(await s.helo('[203.0.113.9]'), []);
  });
});

// ------------------------------------------------------------------ sender, routes

describe('sender and source routes', () => {
  test('route.source-route in MAIL and RCPT', async () => {
    const p = policy(NODNS);
    const s = new Session(p);
    await s.connect();
    const m = only(await s.mail('user@c.test', '<@a.test,@b.test:user@c.test>'), 'route.source-route');
    assert.deepEqual([m.reply!.code, m.reply!.enhanced], [553, '5.1.7']);
    await s.mail('a@example.test');
    const r = only(await s.rcpt('user@c.test', '<@a.test:user@c.test>'), 'route.source-route');
    assert.equal(r.reply!.enhanced, '5.1.3');
    const off = policy(merge(NODNS, { sourceRoute: { action: 'off' } }));
    const t = new Session(off);
    await t.connect();
    assert.deepEqual(await t.mail('user@c.test', '<@a.test:user@c.test>'), []);
  });

  test('sender.pattern with RE2, case-insensitive; null sender passes', async () => {
    const p = policy(merge(NODNS, { sender: { patterns: ['^spammer@', '@evil\\.test$', '^(a+)+$'] } }));
    const s = new Session(p);
    await s.connect();
    assert.deepEqual(ids(await s.mail('SPAMMER@example.test')), ['sender.pattern']);
    assert.deepEqual(ids(await s.mail('x@Evil.test')), ['sender.pattern']);
    assert.deepEqual(await s.mail('fine@example.test'), []);
    assert.deepEqual(await s.mail('', '<>'), []);
    // catastrophic-backtracking shape runs in linear time on RE2
    assert.deepEqual(await s.mail(`${'a'.repeat(900)}!`), []);
  });

  test('sender.domain-missing: MX, A-only, AAAA-only exist; NXDOMAIN and no-address → 550 5.1.8', async () => {
    const p = policy({});
    const s = new Session(p, { address: '192.0.2.1', hostname: 'good.example.test' });
    await s.connect();
    await s.helo('good.example.test');
    assert.deepEqual(ids(await s.mail('a@example.test')), []);
    assert.deepEqual(ids(await s.mail('a@a-only.test')), []);
    assert.deepEqual(ids(await s.mail('a@v6-only.test')), []);
    const nx = only(await s.mail('a@does-not-exist.test'), 'sender.domain-missing');
    assert.deepEqual([nx.action, nx.reply!.code, nx.reply!.enhanced], ['reject', 550, '5.1.8']);
    assert.deepEqual(ids(await s.mail('a@txt-only.test')), ['sender.domain-missing']);
    const nm = only(await s.mail('a@nullmx.test'), 'sender.domain-missing');
    assert.equal(nm.reply!.enhanced, '5.7.27');
    assert.deepEqual(ids(await s.mail('a@bad_domain!.test')), ['sender.domain-missing']);
  });

  test('sender.dns-temp: SERVFAIL and timeout → 451 4.4.3, never 5xx', async () => {
    const p = policy({});
    const s = new Session(p, { address: '192.0.2.1' });
    await s.connect();
    for (const d of ['servfail.test', 'slow.test']) {
      const h = only(await s.mail(`a@${d}`), 'sender.dns-temp');
      assert.deepEqual([h.action, h.reply!.code, h.reply!.enhanced], ['tempfail', 451, '4.4.3'], d);
    }
    const forced = policy({ sender: { dnsTemp: { action: 'reject' } } });
    const t = new Session(forced, { address: '192.0.2.1' });
    await t.connect();
    assert.equal(only(await t.mail('a@servfail.test'), 'sender.dns-temp').action, 'tempfail');
  });

  test('sender domain: null sender, domain literal, internal and authenticated clients are not looked up', async () => {
    const p = policy({});
    dns.resetCounts();
    const s = new Session(p, { address: '192.0.2.1' });
    await s.connect();
    assert.deepEqual(await s.mail('', '<>'), []);
    assert.deepEqual(await s.mail('a@[192.0.2.1]'), []);
    const internal = new Session(p, { address: '127.0.0.1' });
    await internal.connect();
    assert.deepEqual(await internal.mail('a@does-not-exist.test'), []);
    const auth = new Session(p, { address: '192.0.2.1' }, { auth_authen: 'alice' });
    await auth.connect();
    assert.deepEqual(await auth.mail('a@does-not-exist-2.test'), []);
    assert.equal(dns.count('does-not-exist.test') + dns.count('does-not-exist-2.test'), 0);
  });
});

// ------------------------------------------------------------------ relay, limits

describe('recipients', () => {
  test('rcpt.relay-denied unless local domain, internal network or authenticated', async () => {
    const p = policy(merge(NODNS, { localDomains: ['example.test', '.sub.test'] }));
    const s = new Session(p);
    await s.connect();
    await s.mail('a@sender.test');
    assert.deepEqual(await s.rcpt('bob@example.test'), []);
    assert.deepEqual(await s.rcpt('bob@EXAMPLE.TEST'), []);
    assert.deepEqual(await s.rcpt('bob@x.sub.test'), []);
    assert.deepEqual(await s.rcpt('postmaster'), []);
    const h = only(await s.rcpt('bob@elsewhere.test'), 'rcpt.relay-denied');
    assert.deepEqual([h.action, h.reply!.code, h.reply!.enhanced, h.where], ['reject', 550, '5.7.1', 'rcpt <bob@elsewhere.test>']);
    assert.deepEqual(ids(await s.rcpt('bob@sub.test')), ['rcpt.relay-denied'], '.sub.test means subdomains only');

    const auth = new Session(p, {}, { '{auth_authen}': 'alice' });
    await auth.connect();
    await auth.mail('a@sender.test');
    assert.deepEqual(await auth.rcpt('bob@elsewhere.test'), []);
    const internal = new Session(p, { address: '::1', family: 'inet6' });
    await internal.connect();
    await internal.mail('a@sender.test');
    assert.deepEqual(await internal.rcpt('bob@elsewhere.test'), []);
  });

  test('relay control is off when no local domains are configured', async () => {
    const s = new Session(policy(NODNS));
    await s.connect();
    await s.mail('a@sender.test');
    assert.deepEqual(await s.rcpt('bob@anywhere.test'), []);
  });

  test('rcpt.soft-limit: 452 4.5.3 per recipient beyond N accepted', async () => {
    const s = new Session(policy(merge(NODNS, { recipients: { softLimit: 3 } })));
    await s.connect();
    await s.mail('a@sender.test');
    for (let i = 0; i < 3; i++) assert.deepEqual(await s.rcpt(`r${i}@example.test`), []);
    for (let i = 3; i < 5; i++) {
      const h = only(await s.rcpt(`r${i}@example.test`), 'rcpt.soft-limit');
      assert.deepEqual([h.action, h.reply!.code, h.reply!.enhanced], ['tempfail', 452, '4.5.3']);
    }
    assert.equal(s.message.recipients.length, 3);
    assert.deepEqual(await s.data(), []);
    s.reset();
    await s.mail('a@sender.test');
    assert.deepEqual(await s.rcpt('again@example.test'), [], 'new message, new count');
  });

  test('rcpt.hard-limit: more than M attempted → whole message refused at DATA with 5.5.3', async () => {
    const s = new Session(policy(merge(NODNS, { recipients: { softLimit: 2, hardLimit: 4 } })));
    await s.connect();
    await s.mail('a@sender.test');
    for (let i = 0; i < 5; i++) await s.rcpt(`r${i}@example.test`);
    const h = only(await s.data(), 'rcpt.hard-limit');
    assert.deepEqual([h.action, h.reply!.code, h.reply!.enhanced], ['reject', 550, '5.5.3']);
    assert.deepEqual(await s.eom(), [], 'decided once, at DATA');
  });

  test('rcpt.hard-limit uses the engine count when larger, and falls back to EOM without DATA', async () => {
    const s = new Session(policy(merge(NODNS, { recipients: { hardLimit: 4 } })));
    await s.connect();
    await s.mail('a@sender.test');
    await s.rcpt('r@example.test');
    s.message.attemptedRecipients = 9; // e.g. recipients the MTA refused before us are still counted by the engine
    assert.deepEqual(ids(await s.eom()), ['rcpt.hard-limit']);
  });
});

// ------------------------------------------------------------------ rates

describe('rates', () => {
  test('rate.connections: over the limit → 421 4.7.0 at CONNECT, sticky, whatever rejectAt', async () => {
    const p = policy(merge(NODNS, { rates: { connectionsPerClient: 2 } }));
    for (let i = 0; i < 2; i++) {
      const s = new Session(p);
      assert.deepEqual(await s.connect(), []);
      s.close();
    }
    const s = new Session(p);
    const h = only(await s.connect(), 'rate.connections');
    assert.deepEqual([h.action, h.reply!.code, h.reply!.enhanced], ['tempfail', 421, '4.7.0']);
    assert.deepEqual(ids(await s.helo('mail.example.test')), ['rate.connections']);
    assert.deepEqual(await new Session(p, { address: '203.0.113.10' }).connect(), [], 'other client unaffected');
  });

  test('rate.concurrency: slots released at close', async () => {
    const p = policy(merge(NODNS, { rates: { concurrencyPerClient: 2 } }));
    const a = new Session(p);
    const b = new Session(p);
    assert.deepEqual(await a.connect(), []);
    assert.deepEqual(await b.connect(), []);
    const c = new Session(p);
    assert.deepEqual(ids(await c.connect()), ['rate.concurrency']);
    c.close();
    a.close();
    assert.deepEqual(await new Session(p).connect(), []);
  });

  test('IPv6 clients are counted per /64', async () => {
    const p = policy(merge(NODNS, { rates: { connectionsPerClient: 1 } }));
    assert.deepEqual(await new Session(p, { family: 'inet6', address: '2001:db8:1:2::1' }).connect(), []);
    assert.deepEqual(ids(await new Session(p, { family: 'inet6', address: '2001:db8:1:2::ffff' }).connect()), ['rate.connections']);
    assert.deepEqual(await new Session(p, { family: 'inet6', address: '2001:db8:1:3::1' }).connect(), []);
  });

  test('rate.messages and rate.recipients per client and per sender', async () => {
    const p = policy(merge(NODNS, { rates: { messagesPerClient: 2, recipientsPerClient: 3, messagesPerSender: 1 } }));
    const s = new Session(p);
    await s.connect();
    assert.deepEqual(await s.mail('a@sender.test'), []);
    for (let i = 0; i < 3; i++) assert.deepEqual(await s.rcpt(`r${i}@example.test`), []);
    const r = only(await s.rcpt('r3@example.test'), 'rate.recipients');
    assert.deepEqual([r.action, r.reply!.code, r.reply!.enhanced], ['tempfail', 451, '4.7.1']);
    const perSender = only(await s.mail('A@sender.test'), 'rate.messages');
    assert.match(perSender.detail, /sender/);
    const perClient = only(await s.mail('b@sender.test'), 'rate.messages');
    assert.match(perClient.detail, /client/);
    assert.equal(perClient.reply!.code, 451);

    const bounces = policy(merge(NODNS, { rates: { messagesPerSender: 1 } }));
    const b = new Session(bounces);
    await b.connect();
    assert.deepEqual(await b.mail('', '<>'), []);
    assert.deepEqual(await b.mail('', '<>'), [], 'the null sender is not counted per sender');
  });

  test('internal clients are not rate limited', async () => {
    const p = policy(merge(NODNS, { rates: { connectionsPerClient: 1 } }));
    for (let i = 0; i < 3; i++) assert.deepEqual(await new Session(p, { address: '127.0.0.1' }).connect(), []);
  });

  test('store failure → rate.unavailable with the fail action (tempfail), logged, never accept', async () => {
    const failing: CounterStore = {
      incr: async () => {
        throw new StoreError('redis down');
      },
      acquire: async () => {
        throw new StoreError('redis down');
      },
      release: () => undefined,
      close: async () => undefined,
    };
    const log = capture();
    const p = policy(NODNS, { store: failing, log });
    const s = new Session(p);
    const h = only(await s.connect(), 'rate.unavailable');
    assert.deepEqual([h.action, h.reply!.code], ['tempfail', 451]);
    assert.ok(log.lines.some((l) => l.level === 40 && l['rule'] === 'rate.unavailable'));
    const q = policy(merge(NODNS, { rates: { failAction: 'reject' } }), { store: failing });
    assert.equal(only(await new Session(q).connect(), 'rate.unavailable').reply!.code, 550);
  });
});

// ------------------------------------------------------------------ unknown commands, lifecycle

describe('unknown commands and session state', () => {
  test('smtp.unknown-commands past N → 421', async () => {
    const s = new Session(policy(merge(NODNS, { unknownCommands: { limit: 2 } })));
    await s.connect();
    assert.deepEqual(await s.unknown('FOO'), []);
    assert.deepEqual(await s.unknown('BAR'), []);
    const h = only(await s.unknown('BAZ'), 'smtp.unknown-commands');
    assert.deepEqual([h.action, h.reply!.code, h.reply!.enhanced], ['tempfail', 421, '4.7.0']);
  });

  test('state is per session and dropped at close; a stage without CONNECT still works', async () => {
    const p = policy(merge(NODNS, { client: { deny: ['203.0.113.9'] } }));
    const a = new Session(p);
    const b = new Session(p, { address: '198.51.100.5' });
    await a.connect();
    await b.connect();
    assert.equal(p.activeSessions, 2);
    assert.deepEqual(ids(await a.mail('x@sender.test')), ['client.deny']);
    assert.deepEqual(await b.mail('x@sender.test'), []);
    a.close();
    b.close();
    assert.equal(p.activeSessions, 0);
    const late = new Session(p);
    assert.deepEqual(ids(await late.mail('x@sender.test')), ['client.deny']);
    late.close();
  });

  test('disabled module returns nothing and implements no stages', () => {
    const p = policy({ enabled: false });
    assert.equal(p.connect, undefined);
    assert.equal(p.layer, 'envelope');
  });
});
