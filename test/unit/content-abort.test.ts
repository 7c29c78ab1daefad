// A content worker stuck in synchronous code (attacker finding 1b): with real worker threads, a
// message whose analysis never yields is stopped at the end of its budget (queued ones leave the
// queue), its admission place is freed, the verdict is the configured error action (never an
// accept), and the next message is analysed normally by a fresh worker. The stuck worker is the
// test-only hook in src/content/test-hooks.ts, switched on for this process by POSTERN_TEST_HOOKS=1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AnalysisTimeoutError, createContentAnalyzer } from '../../src/content/analyzer.js';
import { BLOCK_SYNC_HEADER, runTestHooks } from '../../src/content/test-hooks.js';
import { defaultConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/log/logger.js';
import { buildRuntime } from '../../src/service.js';
import { scanConfig } from '../../src/cli/scan.js';
import { ScanObserver, scanMessage, type ScanOptions } from '../../src/cli/scan-run.js';
import { mimeMessage, type Attachment } from '../fixtures/messages.js';

// worker threads copy the environment when they start, so this must come before any pool exists
process.env.POSTERN_TEST_HOOKS = '1';

function message(subject: string, extraHeader?: string, attachment?: Attachment): Buffer {
  const headers = ['From: a@example.com', 'To: b@example.org', `Subject: ${subject}`, ...(extraHeader ? [extraHeader] : [])];
  return mimeMessage(headers, attachment ? 'See the attached document.' : 'Hello.', attachment);
}

const stuck = (n: number) => message(`stuck ${n}`, BLOCK_SYNC_HEADER);
/** Analysed normally, this gives attachment.active-content: proof that a worker really analysed it. */
const launchPdf = () =>
  message('document', undefined, {
    name: 'doc.pdf',
    type: 'application/pdf',
    data: Buffer.from('%PDF-1.7\n1 0 obj << /Type /Action /S /Launch /F (calc.exe) >> endobj\n%%EOF\n', 'latin1'),
  });
const rules = (hits: { rule: string }[]): string[] => hits.map((h) => h.rule).sort();
const input = { direction: 'inbound' as const, sender: 'a@example.com', recipients: ['b@example.org'], smtputf8: false };

test('test hook: inert without POSTERN_TEST_HOOKS=1, and only for the marker header line', () => {
  // each call would spin for a minute (and then throw) if the hook fired
  runTestHooks(stuck(0), {});
  runTestHooks(stuck(0), { POSTERN_TEST_HOOKS: '0' });
  runTestHooks(message('plain'), { POSTERN_TEST_HOOKS: '1' });
  runTestHooks(Buffer.from(`Subject: x\r\n\r\n${BLOCK_SYNC_HEADER}\r\n`), { POSTERN_TEST_HOOKS: '1' }); // in the body: not a header
});

test('analyzer: both workers stuck are stopped after their budget and replaced; a queued message leaves the queue; places are freed', async () => {
  const config = structuredClone(defaultConfig());
  config.log.level = 'error';
  config.content.clamd.enabled = false;
  config.content.workers = 2;
  const analyzer = createContentAnalyzer(config, silentLogger());
  try {
    await analyzer.warmUp();
    // the two workers take the first two; the third waits in the pool's queue and its deadline passes there
    const running = [analyzer.analyze({ raw: stuck(1) }, input, 1500), analyzer.analyze({ raw: stuck(2) }, input, 1500)];
    const queued = analyzer.analyze({ raw: stuck(3) }, input, 300);
    await new Promise((r) => setImmediate(r));
    assert.equal(analyzer.stats().admitted, 3);
    const isTimeout = (e: unknown) => e instanceof AnalysisTimeoutError && e.code === 'ANALYSIS_TIMEOUT';
    await assert.rejects(queued, isTimeout);
    assert.equal(analyzer.stats().admitted, 2, 'the queued message freed its admission place');
    for (const r of await Promise.allSettled(running)) {
      assert.ok(r.status === 'rejected' && isTimeout(r.reason), r.status === 'rejected' ? String(r.reason) : 'a stuck message was answered');
    }
    assert.deepEqual(analyzer.stats(), { admitted: 0, waiting: 0, bytesInFlight: 0 });
    // both old threads spin for a minute: only a fresh worker can answer this
    const report = await analyzer.analyze({ raw: launchPdf() }, input, 60_000);
    assert.ok(rules(report.hits).includes('attachment.active-content'), `got ${rules(report.hits).join(', ')}`);
    assert.deepEqual(analyzer.stats(), { admitted: 0, waiting: 0, bytesInFlight: 0 });
  } finally {
    await analyzer.close();
  }
});

test('engine: a stuck message gets the error action (tempfail, content.error), then a fresh worker analyses the next one', async () => {
  const base = structuredClone(defaultConfig());
  base.log.level = 'error';
  const config = scanConfig(base, true, []);
  config.content.workers = 1; // scanConfig runs content in-thread; this test is about the pool
  // content budget max(1000, eomMs - 5000) = 4 s, stopped ~1 s later, well before eomMs; 4 s leaves a
  // fresh worker (start-up ~1 s, more on a loaded machine) time for the next message
  config.server.timeouts.eomMs = 9000;
  const observer = new ScanObserver();
  const runtime = await buildRuntime(config, silentLogger(), observer);
  const opts: ScanOptions = { clientIp: '192.0.2.10', helo: 'mail.example.com', from: 'a@example.com', rcpts: ['b@example.org'], rcptMailer: 'local' };
  try {
    const s = await scanMessage(runtime.engine, observer, config, 'stuck.eml', stuck(1), opts);
    assert.equal(s.verdict, 'tempfail', JSON.stringify(s.rules));
    assert.match(s.reply ?? '', /^4/);
    const err = s.rules.find((h) => h.rule === 'content.error');
    assert.ok(err, `content.error expected in ${JSON.stringify(s.rules)}`);
    assert.match(err.detail, /budget/);
    // the only thread is the stuck one (spinning for a minute) unless it was replaced
    const r = await scanMessage(runtime.engine, observer, config, 'doc.eml', launchPdf(), opts);
    const ids = r.rules.map((h) => h.rule);
    assert.ok(ids.includes('attachment.active-content'), `got ${ids.join(', ')}`);
    assert.ok(!ids.includes('content.error'));
    assert.notEqual(r.verdict, 'accept');
  } finally {
    await runtime.modules.dispose();
  }
});
