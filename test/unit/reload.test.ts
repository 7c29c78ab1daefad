// Reload under load: the real `postern serve` (child process) gets continuous milter sessions from the
// MTA simulator while SIGHUP arrives several times with valid and invalid configs in between. Asserts
// zero dropped sessions, every message answered, invalid configs logged with the old one kept, a
// changed setting (the trace header name) in force for new connections, and in-flight connections
// finishing under the config they started with.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { offlineServiceConfig, startPostern, type PosternInstance } from '../harness/postern.js';
import { connectMilter } from '../harness/mta.js';
import { FIXTURES } from '../harness/paths.js';
import { startDnsServer, type TestDnsServer } from '../harness/dns-server.js';

const RAW = readFileSync(path.join(FIXTURES, 'scan', 'messages', 'clean.eml'));
const WORKERS = 6;
const MESSAGES_PER_CONNECTION = 3;

let dns: TestDnsServer;
let postern: PosternInstance;

function config(traceHeader: string): Record<string, unknown> {
  return {
    // No DNS-based rule: under a loaded test machine a DNS timeout would tempfail a message, which
    // is right for the product but not what this test is about.
    ...offlineServiceConfig(dns.server, 500),
    policy: { trace: { header: traceHeader } },
    server: { shutdownGraceMs: 2000 },
  };
}

interface ConnectionRecord {
  /** Trace header name in force when the connection negotiated; undefined while a reload was pending. */
  expected: string | undefined;
  headers: string[];
  finals: string[];
  /** Reload signals sent while this connection was open. */
  spanned: number;
  error?: string;
}

before(async () => {
  dns = await startDnsServer({
    records: {
      'example.org': [{ type: 'MX', data: { preference: 10, exchange: 'mail.example.org' } }, { type: 'A', data: '192.0.2.1' }],
      'mail.example.org': [{ type: 'A', data: '192.0.2.1' }],
    },
  });
  postern = await startPostern({ config: config('X-Trace-A') });
});

after(async () => {
  await postern?.stop();
  await dns?.close();
});

test('SIGHUP under load: no dropped session, old config kept on error, new setting for new connections', { timeout: 120_000 }, async () => {
  let current: string | undefined = 'X-Trace-A';
  let running = true;
  let signals = 0;
  const records: ConnectionRecord[] = [];

  const worker = async (w: number) => {
    let n = 0;
    while (running) {
      const rec: ConnectionRecord = { expected: undefined, headers: [], finals: [], spanned: -signals };
      records.push(rec);
      try {
        const mta = await connectMilter(postern.milter, { postfixLike: true, timeoutMs: 15000, macros: { C: { j: 'mx.example.net' } } });
        rec.expected = current;
        await mta.negotiate();
        if (current !== rec.expected) rec.expected = undefined; // a reload landed during negotiation
        const ip = `192.0.2.${100 + w}`;
        await mta.connect(`[${ip}]`, '4', 40000 + n, ip);
        await mta.helo('mail.example.org');
        for (let i = 0; i < MESSAGES_PER_CONNECTION; i++) {
          const r = await mta.sendMessage(RAW, { from: '<alice@example.org>', rcpts: ['<bob@example.net>'] });
          rec.finals.push(r.final.type === 'replyCode' ? `replyCode ${r.final.text}` : r.final.type);
          const trace = r.modifications.find((m) => m.type === 'addHeader' && /^X-Trace-/.test(m.name));
          rec.headers.push(trace && trace.type === 'addHeader' ? trace.name : '(none)');
          await sleep(15);
        }
        rec.spanned += signals;
        await mta.quit();
      } catch (err) {
        rec.error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      }
      n++;
    }
  };

  const reloadTo = async (cfg: Record<string, unknown> | string, ok: boolean, header?: string) => {
    const before = postern.logs().length;
    current = undefined; // ambiguous until the service says the reload is done
    signals++;
    postern.reload(cfg);
    const line = await postern.waitForLog(
      (l) => postern.logs().indexOf(l) >= before && (l.msg === 'config reloaded' || /config reload failed/.test(String(l.msg))),
      15000,
    );
    assert.equal(line.msg === 'config reloaded', ok, JSON.stringify(line));
    return { line, header };
  };

  const workers = Array.from({ length: WORKERS }, (_, i) => worker(i));
  await sleep(400);
  // 1. valid: new trace header name
  await reloadTo(config('X-Trace-B'), true);
  current = 'X-Trace-B';
  await sleep(400);
  // 2. invalid YAML: logged, old config (B) stays
  const bad1 = await reloadTo('policy:\n  mode: [enforce\n', false);
  current = 'X-Trace-B';
  assert.match(String(bad1.line.err), /postern\.yaml:\d+: /, 'the error names file and line');
  await sleep(300);
  // 3. invalid by schema: logged with file, line and key; old config stays
  const bad2 = await reloadTo({ ...config('X-Trace-Z'), policy: { mode: 'sometimes' } }, false);
  current = 'X-Trace-B';
  assert.match(String(bad2.line.err), /postern\.yaml:\d+: policy\.mode: /);
  await sleep(300);
  // 4. valid again
  await reloadTo(config('X-Trace-C'), true);
  current = 'X-Trace-C';
  await sleep(400);
  // 5. several SIGHUPs back to back (valid, invalid, valid): the last valid one wins
  // (signals may coalesce; every handler reads the file as it is then, so the last write wins).
  const before5 = postern.logs().length;
  current = undefined;
  signals += 3;
  postern.reload(config('X-Trace-D'));
  postern.reload('nonsense: [');
  postern.reload(config('X-Trace-E'));
  await postern.waitForLog((l) => postern.logs().indexOf(l) >= before5 && l.msg === 'config reloaded', 15000);
  await sleep(1000); // let any handler still running finish
  current = 'X-Trace-E';
  await sleep(500);
  running = false;
  await Promise.all(workers);

  const errors = records.filter((r) => r.error !== undefined);
  assert.deepEqual(errors.map((r) => r.error), [], 'no session dropped or failed');
  const messages = records.flatMap((r) => r.finals);
  assert.ok(messages.length >= WORKERS * MESSAGES_PER_CONNECTION * 3, `enough traffic (${messages.length} messages)`);
  assert.ok(messages.every((f) => f === 'accept'), `every message answered with accept: ${[...new Set(messages)].join(',')}`);
  for (const r of records) {
    assert.equal(r.finals.length, MESSAGES_PER_CONNECTION);
    // A connection keeps the config it started with, for all its messages, whatever reloads happen meanwhile.
    assert.equal(new Set(r.headers).size, 1, `one config per connection: ${r.headers.join(',')}`);
    if (r.expected !== undefined) assert.equal(r.headers[0], r.expected);
  }
  assert.ok(records.some((r) => r.spanned > 0 && !r.error), 'some connections were open across a reload');
  const seen = new Set(records.map((r) => r.headers[0]));
  for (const h of ['X-Trace-A', 'X-Trace-B', 'X-Trace-C', 'X-Trace-E']) assert.ok(seen.has(h), `${h} was in force at some point`);
  assert.ok(!seen.has('X-Trace-Z'), 'the invalid config never took effect');
  // Connections opened after the last reload use the last valid config.
  const last = records.filter((r) => r.expected === 'X-Trace-E');
  assert.ok(last.length > 0);
  // The engine logged every message; the service is still up.
  assert.equal(postern.process.exitCode, null);
  assert.ok(postern.logs().some((l) => /config reload failed; old config stays in force/.test(String(l.msg))));
});
