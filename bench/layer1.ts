// Layer 1 latency benchmark (issue 3, "Performance"): what the connection policy adds to one SMTP
// session when no DNS work is needed. Drives the policy engine in-process (no sockets, so socket noise
// does not hide a sub-millisecond figure) through whole sessions — CONNECT, HELO, MAIL, 3 RCPT, DATA,
// 6 headers, EOH, body, EOM, close — with and without the connection module, interleaved in batches so
// machine noise hits both alike, and prints p50/p99 per session and the difference.
// Variants of the connection module:
//   no-dns  the shipped defaults with the DNS-based checks off (sender domain, rDNS; no DNSBL zones)
//   cached  the shipped defaults with every DNS check on (sender domain, rDNS, FCrDNS, one DNSBL zone)
//           against a loopback test DNS server, measured once every answer is in Postern's cache
//   node dist/bench/layer1.js [--sessions 20000] [--warmup 3000] [--json]
import { parseArgs } from 'node:util';
import { defaultConfig } from '../src/config/load.js';
import { configSchema } from '../src/config/schema.js';
import { createLogger } from '../src/log/logger.js';
import { PolicyEngine } from '../src/policy/engine.js';
import { createConnectionPolicy } from '../src/policy/connection/index.js';
import type { PolicyModule } from '../src/policy/types.js';
import type { MilterHandler, StepAnswer } from '../src/server/handler.js';
import { createResolver } from '../src/dns/index.js';
import { MemoryCounterStore } from '../src/state/memory.js';
import { ALL_ACTIONS, ALL_PROTOCOL } from '../codec/index.js';
import { startDnsServer } from '../test/harness/dns-server.js';

const { values: args } = parseArgs({
  options: {
    sessions: { type: 'string', default: '20000' },
    warmup: { type: 'string', default: '3000' },
    json: { type: 'boolean', default: false },
  },
});
const SESSIONS = Number(args.sessions);
const WARMUP = Number(args.warmup);
const logger = createLogger({ level: 'error', destination: 2 });

const dns = await startDnsServer({
  records: {
    'mail.client.example': [{ type: 'A', data: '192.0.2.10' }],
    '10.2.0.192.in-addr.arpa': [{ type: 'PTR', data: 'mail.client.example' }],
    'sender.example': [{ type: 'MX', data: { preference: 10, exchange: 'mx.sender.example' } }],
    'mx.sender.example': [{ type: 'A', data: '192.0.2.20' }],
  },
  dnsbl: [{ zone: 'bl.test.example' }],
});

function engineWith(modules: PolicyModule[]): PolicyEngine {
  const config = defaultConfig();
  return new PolicyEngine({ policy: config.policy, modules, logger, spoolThresholdBytes: 8 << 20, spoolDir: '' });
}

function connectionModule(variant: 'no-dns' | 'cached'): PolicyModule {
  const off = { action: 'off' };
  // rate counters stay on (their work is part of Layer 1) with limits one client cannot reach here
  const big = 1_000_000_000;
  const rates = { connectionsPerClient: big, messagesPerClient: big, recipientsPerClient: big, concurrencyPerClient: big };
  const config = configSchema.parse({
    dns: { servers: [dns.server] },
    connection: variant === 'no-dns'
      ? { rates, sender: { domainMissing: off, dnsTemp: off }, rdns: { missing: off, mismatch: off } }
      : { rates, dnsbl: { zones: [{ zone: 'bl.test.example' }] } },
  });
  const c = config.connection;
  const store = new MemoryCounterStore();
  return createConnectionPolicy(c, { resolver: createResolver(config.dns), store, logger });
}

const macros: Record<string, string> = {
  j: 'mx.example.org', '{daemon_name}': 'smtpd', '{client_addr}': '192.0.2.10', '{client_name}': 'mail.client.example',
  '{client_port}': '40000', '{client_ptr}': 'mail.client.example', i: 'ABC123', '{mail_addr}': 'alice@sender.example',
  '{rcpt_mailer}': 'local',
};
const HEADERS: Array<[string, string]> = [
  ['From', 'Alice <alice@sender.example>'], ['To', 'bob@example.org'], ['Subject', 'Layer 1 bench'],
  ['Date', 'Thu, 03 Dec 2026 12:00:00 +0000'], ['Message-ID', '<l1@sender.example>'], ['MIME-Version', '1.0'],
];
const BODY = Buffer.from('Hello Bob,\r\nlunch at noon?\r\n');
let sid = 0;

async function step(a: StepAnswer | Promise<StepAnswer> | undefined | Promise<StepAnswer | undefined>): Promise<string> {
  const r = await a;
  return r?.final.type ?? 'continue';
}

/** One whole session; returns its duration in ms and the end-of-message answer. */
async function session(engine: PolicyEngine): Promise<{ ms: number; eom: string }> {
  const t0 = process.hrtime.bigint();
  const h: MilterHandler = engine.create({
    sessionId: `s${sid++}`,
    macro: (name) => macros[name] ?? macros[`{${name}}`] ?? macros[name.replace(/^\{|\}$/g, '')],
    protocol: () => ALL_PROTOCOL,
    actions: () => ALL_ACTIONS,
  });
  let eom = 'none';
  if ((await step(h.connect({ hostname: 'mail.client.example', family: 'inet4', port: 40000, address: '192.0.2.10' }))) === 'continue'
    && (await step(h.helo('mail.client.example'))) === 'continue'
    && (await step(h.mail(['<alice@sender.example>']))) === 'continue') {
    for (const r of ['<bob@example.org>', '<carol@example.org>', '<dave@example.org>']) await step(h.rcpt([r]));
    await step(h.data());
    for (const [n, v] of HEADERS) await step(h.header(n, v, Buffer.from(v, 'latin1')));
    await step(h.eoh());
    await step(h.body(BODY));
    eom = await step(h.eom());
    h.abort();
  }
  h.close();
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, eom };
}

const variants: Array<{ label: string; engine: PolicyEngine }> = [
  { label: 'engine, no modules', engine: engineWith([]) },
  { label: 'engine + Layer 1 (DNS checks off)', engine: engineWith([connectionModule('no-dns')]) },
  { label: 'engine + Layer 1 (DNS on, cached)', engine: engineWith([connectionModule('cached')]) },
];

// warm-up: JIT, and fill the DNS cache (the cached variant must not wait on the network when measured)
const outcomes = new Map<string, Set<string>>();
for (let i = 0; i < WARMUP; i++) {
  for (const v of variants) {
    const r = await session(v.engine);
    if (!outcomes.has(v.label)) outcomes.set(v.label, new Set());
    outcomes.get(v.label)!.add(r.eom);
  }
}
dns.resetCounts();
const times = new Map<string, number[]>(variants.map((v) => [v.label, []]));
const BATCH = 200;
for (let done = 0; done < SESSIONS; done += BATCH) {
  for (const v of variants) {
    const list = times.get(v.label)!;
    for (let i = 0; i < BATCH && done + i < SESSIONS; i++) {
      const r = await session(v.engine);
      list.push(r.ms);
      outcomes.get(v.label)!.add(r.eom);
    }
  }
}
const queriesDuring = dns.queries.length;
await dns.close();

const pct = (s: number[], p: number): number => s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
const stats = variants.map((v) => {
  const s = [...times.get(v.label)!].sort((a, b) => a - b);
  return { label: v.label, n: s.length, p50: pct(s, 50), p99: pct(s, 99), mean: s.reduce((a, b) => a + b, 0) / s.length, eom: [...(outcomes.get(v.label) ?? [])].join('/') };
});
const base = stats[0]!;
if (args.json) {
  console.log(JSON.stringify({ sessions: SESSIONS, stats, dnsQueriesDuringMeasure: queriesDuring }));
} else {
  console.log(`Layer 1 per-session latency, in-process engine, ${SESSIONS} sessions per variant (+${WARMUP} warm-up), node ${process.version}`);
  console.log('session: CONNECT HELO MAIL 3xRCPT DATA 6 headers EOH body EOM, close');
  console.log('');
  console.log(`  ${'variant'.padEnd(36)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'mean ms'.padStart(8)}   added p50 / p99 / mean vs no modules`);
  for (const s of stats) {
    const add = s === base ? '' : `   +${(s.p50 - base.p50).toFixed(3)} / +${(s.p99 - base.p99).toFixed(3)} / +${(s.mean - base.mean).toFixed(3)} ms`;
    console.log(`  ${s.label.padEnd(36)} ${s.p50.toFixed(3).padStart(8)} ${s.p99.toFixed(3).padStart(8)} ${s.mean.toFixed(3).padStart(8)}${add}   (EOM answers: ${s.eom})`);
  }
  console.log('');
  console.log(`  DNS queries sent while measuring: ${queriesDuring} (0 = every answer came from the cache)`);
  console.log('  every session must reach EOM with "accept" (anything else means a check refused it: figures invalid)');
  console.log('  goal (issue 3): Layer 1 adds <= 0.2 ms p99 per session without DNS work');
}
process.exit(0);
