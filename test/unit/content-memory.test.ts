// Memory bounds of content analysis (issue 4): the admission gate (bytes analysed at once, FIFO,
// never a refusal), spooled messages reaching real worker threads by path with the same verdict as
// in-memory ones, and true-type hints found in bounded windows exactly as in the whole file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AdmissionGate, AdmissionTimeoutError } from '../../src/content/admission.js';
import { createContentAnalyzer } from '../../src/content/analyzer.js';
import { detectType } from '../../src/content/attachments/magic.js';
import { defaultConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/log/logger.js';
import { mimeMessage } from '../fixtures/messages.js';

const MB = 1024 * 1024;

test('admission gate: admitted bytes stay within the budget; first in, first out; one always runs', async () => {
  const gate = new AdmissionGate(30 * MB);
  const order: string[] = [];
  const a = await gate.acquire(20 * MB, 10_000);
  assert.equal(gate.admitted, 1);
  // 20 + 20 > 30: waits; the small one behind it waits too (no overtaking, so big ones never starve)
  const pb = gate.acquire(20 * MB, 10_000).then((r) => (order.push('b'), r));
  const pc = gate.acquire(1 * MB, 10_000).then((r) => (order.push('c'), r));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, []);
  assert.equal(gate.waiting, 2);
  assert.equal(gate.bytesInFlight, 20 * MB);
  a();
  a(); // a second release is ignored
  const b = await pb;
  const c = await pc;
  assert.deepEqual(order, ['b', 'c']);
  assert.equal(gate.admitted, 2);
  assert.equal(gate.bytesInFlight, 21 * MB);
  b();
  c();
  assert.equal(gate.bytesInFlight, 0);
  // bigger than the whole budget: admitted when nothing else runs (never refused)
  const huge = await gate.acquire(100 * MB, 10_000);
  assert.equal(gate.admitted, 1);
  huge();
});

test('admission gate: a deadline passing in the queue rejects with a typed error and frees the place', async () => {
  const gate = new AdmissionGate(10 * MB);
  const a = await gate.acquire(8 * MB, 1000);
  const late = gate.acquire(8 * MB, 20);
  const after = gate.acquire(1 * MB, 10_000);
  await assert.rejects(late, (e: unknown) => e instanceof AdmissionTimeoutError && e.code === 'ADMISSION_TIMEOUT');
  // the one behind the expired waiter fits beside `a` and is admitted at once
  const r = await after;
  assert.equal(gate.admitted, 2);
  assert.equal(gate.waiting, 0);
  r();
  a();
});

/** A message of about `size` bytes with a PDF attachment that declares /Launch (attachment.active-content). */
function pdfMessage(size: number): Buffer {
  const pdf = Buffer.alloc(Math.floor((size * 3) / 4), 0x20);
  pdf.write('%PDF-1.7\n1 0 obj << /Type /Action /S /Launch /F (calc.exe) >> endobj\n', 0, 'latin1');
  for (let i = 200; i + 16 < pdf.length; i += 997) pdf.write('stream data ', i, 'latin1');
  return mimeMessage(['From: a@example.com', 'To: b@example.org', 'Subject: memory test'], 'See the attached document.', {
    name: 'doc.pdf', type: 'application/pdf', data: pdf,
  });
}

test('worker threads: a spooled message reaches the worker by path with the in-memory verdict; big ones are analysed one at a time', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'postern-memtest-'));
  const raw = pdfMessage(3 * MB);
  const file = path.join(dir, 'message.eml');
  writeFileSync(file, raw);
  const config = structuredClone(defaultConfig());
  config.log.level = 'error';
  config.content.clamd.enabled = false;
  config.content.workers = 2;
  // room for one of these messages at a time, not two
  config.content.analysisBudgetBytes = Math.floor(raw.length * 1.5);
  const analyzer = createContentAnalyzer(config, silentLogger());
  const inThreadConfig = structuredClone(config);
  inThreadConfig.content.workers = 0;
  const local = createContentAnalyzer(inThreadConfig, silentLogger());
  try {
    await analyzer.warmUp();
    const input = { direction: 'inbound' as const, sender: 'a@example.com', recipients: ['b@example.org'], smtputf8: false };
    const reference = await local.analyze({ raw }, input, 60_000);
    const rules = (r: { hits: { rule: string }[] }): string[] => r.hits.map((h) => h.rule).sort();
    assert.ok(rules(reference).includes('attachment.active-content'), `expected attachment.active-content in ${rules(reference).join(', ')}`);

    let maxAdmitted = 0;
    const jobs = [0, 1, 2, 3].map((i) => {
      const p = analyzer.analyze(i % 2 ? { spoolPath: file } : { raw }, input, 60_000);
      maxAdmitted = Math.max(maxAdmitted, analyzer.stats().admitted);
      return p.then((r) => {
        maxAdmitted = Math.max(maxAdmitted, analyzer.stats().admitted);
        return r;
      });
    });
    // all four were handed over at once: one runs, three wait their turn in the gate
    assert.deepEqual({ admitted: analyzer.stats().admitted, waiting: analyzer.stats().waiting }, { admitted: 1, waiting: 3 });
    const reports = await Promise.all(jobs);
    assert.equal(maxAdmitted, 1);
    for (const r of reports) {
      assert.deepEqual(rules(r), rules(reference));
      assert.deepEqual(r.parts.map((p) => [p.path, p.size, p.trueType]), reference.parts.map((p) => [p.path, p.size, p.trueType]));
    }
    assert.deepEqual(analyzer.stats(), { admitted: 0, waiting: 0, bytesInFlight: 0 });
  } finally {
    await analyzer.close();
    await local.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('PDF hints: names across the edges of the scanning windows are found, exactly as in one pass', () => {
  const WINDOW = 256 * 1024;
  for (const at of [WINDOW - 1, WINDOW - 4, WINDOW - 33, WINDOW, 3 * WINDOW - 2]) {
    const pdf = Buffer.alloc(4 * WINDOW, 0x20);
    pdf.write('%PDF-1.4\n', 0, 'latin1');
    pdf.write('/Launch ', at, 'latin1');
    assert.deepEqual(detectType(pdf).hints, ['launch'], `"/Launch" at ${at}`);
  }
  // a long run of name characters: only its first 32 count, as in one pass ("/JavaScript" hidden after 40 letters is not a name)
  const pdf = Buffer.alloc(2 * WINDOW, 0x20);
  pdf.write('%PDF-1.4\n', 0, 'latin1');
  pdf.write(`/${'x'.repeat(20)}JavaScript`, WINDOW - 10, 'latin1');
  pdf.write('/J#61vaScript', WINDOW + 100, 'latin1');
  assert.deepEqual(detectType(pdf).hints, ['javascript']);
  const none = Buffer.alloc(2 * WINDOW, 0x20);
  none.write('%PDF-1.4\n', 0, 'latin1');
  none.write(`/${'x'.repeat(40)}JavaScript`, WINDOW - 10, 'latin1');
  assert.deepEqual(detectType(none).hints, []);
});
