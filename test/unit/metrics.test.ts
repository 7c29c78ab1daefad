// Metrics: the abnormal-rejection watch and failure classification as units (fake clock), then the
// real CLI with metrics enabled, driven over the milter protocol by the MTA simulator, scraped over
// HTTP: messages by verdict/direction, rule hits, check failures, stage histograms, sessions, reloads,
// and the abnormal-rejection warning in the log.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { startPostern, type PosternInstance } from '../harness/postern.js';
import { connectMilter } from '../harness/mta.js';
import { freePort } from '../harness/net.js';
import { FIXTURES } from '../harness/paths.js';
import { startDnsServer, type TestDnsServer } from '../harness/dns-server.js';
import { RejectionWatch, networkOf, failureKind, isTimeout, PosternMetrics, parseHostPort } from '../../src/metrics/index.js';
import { defaultConfig } from '../../src/config/load.js';

const MSG = path.join(FIXTURES, 'scan', 'messages');

function memoryLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

const ABNORMAL = { enabled: true, recentWindowSec: 300, baselineWindowSec: 21600, factor: 5, minCount: 20, cooldownSec: 900, maxKeys: 100 };

test('networkOf: /24 for IPv4, /48 for IPv6 (mapped IPv4 as IPv4), nothing for junk', () => {
  assert.equal(networkOf('198.51.100.77'), '198.51.100.0/24');
  assert.equal(networkOf('2001:db8:abcd:12::1'), '2001:db8:abcd::/48');
  assert.equal(networkOf('IPv6:2001:db8::1'), '2001:db8:0::/48');
  assert.equal(networkOf('::ffff:192.0.2.9'), '192.0.2.0/24');
  assert.equal(networkOf('unknown'), undefined);
  assert.equal(networkOf(undefined), undefined);
});

test('abnormal rejections: a burst far above the baseline warns once per cooldown; a steady rate never does', () => {
  let now = 1_000_000_000_000;
  const { logger, lines } = memoryLogger();
  const w = new RejectionWatch(ABNORMAL, logger, undefined, () => now);
  // Six hours of a steady trickle from one network: 1 rejection every 2 minutes (0.5/min).
  for (let i = 0; i < 180; i++) {
    assert.deepEqual(w.rejection('203.0.113.5', 'helo.syntax'), []);
    now += 120_000;
  }
  // A burst from another host of the same /24: 40 rejections in 2 minutes (20/min, 40x the baseline).
  const warnings = [];
  for (let i = 0; i < 40; i++) {
    warnings.push(...w.rejection(`203.0.113.${10 + (i % 5)}`, 'helo.syntax'));
    now += 3000;
  }
  assert.deepEqual(warnings.map((x) => `${x.scope} ${x.key}`), ['network 203.0.113.0/24', 'rule helo.syntax']);
  assert.ok(warnings[0]!.recent >= 20);
  assert.ok(warnings[0]!.baselineRatePerMin > 0 && warnings[0]!.baselineRatePerMin < 1);
  const warn = lines.filter((l) => l.abnormal === true);
  assert.equal(warn.length, 2);
  assert.equal(warn[0]!.level, 40);
  assert.match(String(warn[0]!.msg), /abnormal rejections: network 203\.0\.113\.0\/24/);
  // Within the cooldown: still bursting, no new warning. After it: a new one.
  for (let i = 0; i < 30; i++) assert.deepEqual(w.rejection('203.0.113.20', 'helo.syntax'), []), (now += 1000);
  now += 900_000;
  const again = [];
  for (let i = 0; i < 60; i++) again.push(...w.rejection('203.0.113.20', undefined)), (now += 1000);
  assert.deepEqual(again.map((x) => x.key), ['203.0.113.0/24']);
});

test('abnormal rejections: below minCount nothing is news; a new network with a burst is; keys are bounded', () => {
  let now = 2_000_000_000_000;
  const { logger } = memoryLogger();
  const w = new RejectionWatch({ ...ABNORMAL, maxKeys: 10 }, logger, undefined, () => now);
  for (let i = 0; i < 19; i++) assert.deepEqual(w.rejection('198.51.100.1', undefined), []), (now += 1000);
  assert.equal(w.rejection('198.51.100.1', undefined).length, 1, 'the 20th rejection in 5 minutes from a new network warns');
  for (let i = 0; i < 50; i++) w.rejection(`10.${i}.0.1`, undefined);
  assert.ok(w.size <= 10);
  const off = new RejectionWatch({ ...ABNORMAL, enabled: false, minCount: 1 }, logger, undefined, () => now);
  assert.deepEqual(off.rejection('198.51.100.1', 'x'), []);
});

test('failureKind: clamd, DNS, store and module failures; findings are not failures', () => {
  assert.equal(failureKind({ rule: 'clamd.unavailable', action: 'tempfail', detail: 'connect ECONNREFUSED' }), 'clamd');
  assert.equal(failureKind({ rule: 'sender.dns-temp', action: 'tempfail', detail: 'SERVFAIL' }), 'dns');
  assert.equal(failureKind({ rule: 'dnsbl.zen.example', action: 'log', detail: 'lookup failed (ETIMEOUT); zone skipped for this client' }), 'dns');
  assert.equal(failureKind({ rule: 'rate.unavailable', action: 'tempfail', detail: 'counter store failed: x' }), 'store');
  assert.equal(failureKind({ rule: 'content.error', action: 'tempfail', detail: 'check failed: boom' }), 'module');
  assert.equal(failureKind({ rule: 'dnsbl.zen.example', action: 'score', detail: 'listed 127.0.0.2' }), undefined);
  assert.equal(failureKind({ rule: 'clamd.infected', action: 'reject', detail: 'Eicar' }), undefined);
  assert.ok(isTimeout('clamd could not scan 1 of 2 item(s): CLAMD_TIMEOUT clamd scan timed out after 30000 ms'));
  assert.ok(isTimeout('lookup failed (ETIMEOUT); zone skipped for this client'));
  assert.ok(!isTimeout('clamd could not scan 1 of 1 item(s): CLAMD_UNAVAILABLE connect ECONNREFUSED'));
});

test('PosternMetrics renders every family with known names', async () => {
  const { logger } = memoryLogger();
  const m = new PosternMetrics(defaultConfig().metrics, logger);
  m.sessionOpened();
  m.stageDone('connect', 2);
  m.hit({ rule: 'helo.syntax', action: 'reject', detail: 'x', monitor: true });
  m.messageDone({ sessionId: 's', client: { name: 'x' }, rcpts: [], direction: 'outbound', verdict: 'quarantine', score: 0, rules: [], size: 1, ms: 1 });
  m.refused({ stage: 'mail', verdict: 'reject', rule: 'client.deny', client: { name: 'x', address: '192.0.2.1' }, direction: 'inbound' });
  m.reloaded(true);
  const text = await m.registry.metrics();
  assert.match(text, /^postern_messages_total\{verdict="quarantine",direction="outbound"\} 1$/m);
  assert.match(text, /^postern_messages_total\{verdict="reject",direction="inbound"\} 1$/m);
  assert.match(text, /^postern_early_refusals_total\{verdict="reject",stage="mail"\} 1$/m);
  assert.match(text, /^postern_rule_hits_total\{rule="helo.syntax",action="reject",monitor="true"\} 1$/m);
  assert.match(text, /^postern_stage_duration_seconds_count\{stage="connect"\} 1$/m);
  assert.match(text, /^postern_active_sessions 1$/m);
  assert.match(text, /^postern_config_reloads_total\{result="success"\} 1$/m);
  assert.match(text, /^postern_config_reloads_total\{result="failure"\} 0$/m);
  assert.match(text, /^postern_process_cpu_user_seconds_total /m);
  assert.deepEqual(parseHostPort('[::1]:9127'), { host: '::1', port: 9127 });
  assert.throws(() => parseHostPort('9127'));
});

// ------------------------------------------------------------------ the real service, scraped over HTTP

let dns: TestDnsServer;
let postern: PosternInstance;
let metricsPort: number;
let baseConfig: Record<string, unknown>;

function scrape(pathname = '/metrics'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: metricsPort, path: pathname }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
      })
      .on('error', reject);
  });
}

function value(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

async function session(clientIp: string, file: string, rcpts = ['<bob@example.net>'], from = '<alice@example.org>') {
  const mta = await connectMilter(postern.milter, { postfixLike: true, macros: { C: { j: 'mx.example.net', '{daemon_name}': 'smtpd' } } });
  await mta.negotiate();
  const c = await mta.connect('[' + clientIp + ']', '4', 40000, clientIp);
  let result;
  if (!c || c.type === 'continue') {
    await mta.helo('mail.example.org');
    result = await mta.sendMessage(readFileSync(file), { from, rcpts });
  }
  await mta.quit();
  return result;
}

before(async () => {
  dns = await startDnsServer({
    records: {
      'example.org': [{ type: 'MX', data: { preference: 10, exchange: 'mail.example.org' } }, { type: 'A', data: '192.0.2.1' }],
      'mail.example.org': [{ type: 'A', data: '192.0.2.1' }],
    },
    rcodes: { 'broken.example': 'SERVFAIL' },
  });
  metricsPort = await freePort();
  baseConfig = {
    dns: { servers: [dns.server], timeoutMs: 2000, tries: 2 },
    connection: { localDomains: ['example.net'], rdns: { missing: { action: 'off' }, mismatch: { action: 'off' } } },
    outbound: { localDomains: ['example.net'] },
    content: { workers: 0, clamd: { enabled: false } },
    metrics: { enabled: true, listen: `127.0.0.1:${metricsPort}`, abnormal: { minCount: 3 } },
  };
  postern = await startPostern({ config: baseConfig });
});

after(async () => {
  await postern?.stop();
  await dns?.close();
});

test('scraped over HTTP: messages by verdict and direction, rule hits, stage latencies, sessions', async () => {
  const r1 = await session('192.0.2.10', path.join(MSG, 'clean.eml'));
  assert.equal(r1!.final.type, 'accept');
  const r2 = await session('192.0.2.11', path.join(MSG, 'exe-attachment.eml'));
  assert.equal(r2!.final.type, 'replyCode');
  // A refusal before end of message: relaying to an outside recipient is refused at RCPT.
  const r3 = await session('192.0.2.12', path.join(MSG, 'clean.eml'), ['<x@elsewhere.example>']);
  assert.equal(r3!.stage, 'rcpt');
  await postern.waitForLog((l) => l.msg === 'message' && l.verdict === 'reject' && (l.rcpts as unknown[]).length === 0);

  const res = await scrape();
  assert.equal(res.status, 200);
  assert.match(res.type, /text\/plain/);
  const t = res.body;
  assert.equal(value(t, 'postern_messages_total{verdict="accept",direction="inbound"}'), 1);
  assert.equal(value(t, 'postern_messages_total{verdict="reject",direction="inbound"}'), 2);
  assert.equal(value(t, 'postern_early_refusals_total{verdict="reject",stage="rcpt"}'), 1);
  assert.equal(value(t, 'postern_rule_hits_total{rule="attachment.blocked-name",action="reject",monitor="false"}'), 1);
  assert.ok(value(t, 'postern_stage_duration_seconds_count{stage="eom"}') >= 2);
  assert.ok(value(t, 'postern_stage_duration_seconds_count{stage="connect"}') >= 3);
  assert.equal(value(t, 'postern_sessions_total'), 3);
  assert.equal(value(t, 'postern_active_sessions'), 0);
  assert.equal((await scrape('/nothing')).status, 404);
});

test('abnormal rejections from one network are logged as a warning', async () => {
  for (let i = 0; i < 3; i++) await session(`198.51.100.${20 + i}`, path.join(MSG, 'exe-attachment.eml'));
  const w = await postern.waitForLog((l) => l.abnormal === true && l.scope === 'network');
  assert.equal(w.key, '198.51.100.0/24');
  assert.equal(w.level, 40);
  const t = (await scrape()).body;
  assert.ok(value(t, 'postern_abnormal_rejection_warnings_total{scope="network"}') >= 1);
});

test('clamd down and a DNS failure: counted as check failures by kind; reloads counted by result', async () => {
  const deadClamd = await freePort();
  postern.reload({ ...baseConfig, content: { workers: 0, clamd: { enabled: true, address: `tcp:127.0.0.1:${deadClamd}`, connectTimeoutMs: 300 } } });
  await postern.waitForLog((l) => l.msg === 'config reloaded');
  const r = await session('192.0.2.30', path.join(MSG, 'clean.eml'));
  assert.equal(r!.final.type, 'replyCode');
  assert.match((r!.final as { text: string }).text, /^4/);
  const dnsFail = await session('192.0.2.31', path.join(MSG, 'clean.eml'), ['<bob@example.net>'], '<x@broken.example>');
  assert.equal(dnsFail!.stage, 'mail');
  postern.reload('policy: [not, a, mapping\n');
  await postern.waitForLog((l) => typeof l.msg === 'string' && /config reload failed/.test(l.msg));
  const t = (await scrape()).body;
  assert.equal(value(t, 'postern_check_failures_total{rule="clamd.unavailable",kind="clamd",timeout="false"}'), 1);
  assert.equal(value(t, 'postern_check_failures_total{rule="sender.dns-temp",kind="dns",timeout="false"}'), 1);
  assert.equal(value(t, 'postern_config_reloads_total{result="success"}'), 1);
  assert.equal(value(t, 'postern_config_reloads_total{result="failure"}'), 1);
});
