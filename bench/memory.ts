// Memory benchmark (issue 4, "Memory and speed"): starts the real server (`node <dist>/src/cli/main.js
// serve`, clamd off, Layer 1 without DNS, content workers 2) and pushes N concurrent messages of S MB
// each through it with the milter MTA simulator (test/harness/mta.ts), sampling the server process's
// RSS (/proc/PID/status VmRSS, and VmHWM — the kernel's own peak) every 50 ms. Prints the peak and
// what each session got. No pass/fail: figures only.
//   node dist/bench/memory.js [--sessions 100] [--size-mb 20] [--workers 2] [--spool-bytes 1048576]
//     [--high-water 262144] [--kind attachment|text] [--content on|off] [--dist dist]
// server.highWaterBytes is what each connection may queue before Postern stops reading it (4 MiB by
// default: 100 connections could queue 400 MB); spoolThresholdBytes what a message keeps in memory.
// Loopback only; the server's spool directory is a fresh temporary folder removed at the end.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { connectMilter } from '../test/harness/mta.js';
import { freePort, waitForPort } from '../test/harness/net.js';
import { mimeMessage } from '../test/fixtures/messages.js';

const { values: args } = parseArgs({
  options: {
    sessions: { type: 'string', default: '100' },
    'size-mb': { type: 'string', default: '20' },
    workers: { type: 'string', default: '2' },
    'spool-bytes': { type: 'string', default: String(1 << 20) },
    'high-water': { type: 'string', default: String(256 * 1024) },
    kind: { type: 'string', default: 'attachment' },
    content: { type: 'string', default: 'on' },
    dist: { type: 'string', default: path.resolve(path.dirname(new URL(import.meta.url).pathname), '..') },
    json: { type: 'boolean', default: false },
  },
});
const sessions = Number(args.sessions);
const sizeBytes = Math.round(Number(args['size-mb']) * 1024 * 1024);

/** A message of about `size` bytes: text body plus one base64 attachment, or a long text/plain body. */
function makeMessage(size: number, kind: string): Buffer {
  const head = [
    'From: Bench Sender <sender@example.com>',
    'To: rcpt@example.org',
    'Subject: memory benchmark message',
    'Date: Thu, 03 Dec 2026 12:00:00 +0000',
    'Message-ID: <memory-bench@example.com>',
  ];
  if (kind === 'text') {
    const line = 'The quarterly report is attached; lunch at noon? Nothing to see in this line of text.\r\n';
    return mimeMessage(head, line.repeat(Math.ceil(size / line.length)));
  }
  const binary = randomBytes(Math.floor((size * 3) / 4) - 4096);
  binary.write('%PDF-1.7\n', 0, 'latin1');
  return mimeMessage(head, 'Please find the document attached.', { name: 'report.pdf', type: 'application/pdf', data: binary });
}

function status(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? 0) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

const work = mkdtempSync(path.join(tmpdir(), 'postern-membench-'));
const spoolDir = path.join(work, 'spool');
const { mkdirSync } = await import('node:fs');
mkdirSync(spoolDir);
const port = await freePort();
const listen = `inet:${port}@127.0.0.1`;
const configFile = path.join(work, 'postern.yaml');
writeFileSync(
  configFile,
  [
    'log:',
    '  level: warn',
    'server:',
    `  spoolThresholdBytes: ${Number(args['spool-bytes'])}`,
    `  highWaterBytes: ${Number(args['high-water'])}`,
    `  spoolDir: ${JSON.stringify(spoolDir)}`,
    'connection:',
    '  # Layer 1 on, without DNS work: no DNSBL zones, rDNS and sender-domain checks off',
    '  rdns:',
    '    missing: { action: "off" }',
    '    mismatch: { action: "off" }',
    '  sender:',
    '    domainMissing: { action: "off" }',
    '    dnsTemp: { action: "off" }',
    'outbound:',
    '  localDomains: [example.org]',
    'content:',
    `  enabled: ${args.content !== 'off'}`,
    `  workers: ${Number(args.workers)}`,
    '  clamd:',
    '    enabled: false',
    '',
  ].join('\n'),
);

const main = path.join(args.dist, 'src', 'cli', 'main.js');
const child = spawn(process.execPath, [main, 'serve', '--config', configFile, '--listen', listen], { stdio: ['ignore', 'ignore', 'pipe'] });
let stderr = '';
child.stderr.on('data', (d: Buffer) => {
  stderr += d.toString();
  if (stderr.length > 20000) stderr = stderr.slice(-20000);
});
const cleanup = (): void => {
  if (child.exitCode === null) child.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
};
process.on('exit', cleanup);

// wait for the listener (30 s: rule compilation in the workers takes a few seconds)
try {
  await waitForPort(port, '127.0.0.1', 30000);
} catch {
  console.error(`bench:memory: server did not start:\n${stderr}`);
  process.exit(1);
}

const pid = child.pid!;
const idle = status(pid);
const raw = makeMessage(sizeBytes, args.kind);
let peakRss = 0;
const samples: number[] = [];
const t00 = performance.now();
let eoms = 0;
const timeline: string[] = [];
const sampler = setInterval(() => {
  const s = status(pid);
  if (s) {
    peakRss = Math.max(peakRss, s.rss);
    samples.push(s.rss);
    if (samples.length % 100 === 1) timeline.push(`${((performance.now() - t00) / 1000).toFixed(0)}s ${(s.rss / 1048576).toFixed(0)}MB eom:${eoms}`);
  }
}, 50);

const started = performance.now();
const results = await Promise.all(
  Array.from({ length: sessions }, async (_, i) => {
    const t0 = performance.now();
    try {
      const mta = await connectMilter(listen, { timeoutMs: 600_000, postfixLike: true });
      await mta.negotiate();
      await mta.connect(`client${i}.example.net`, '4', 25000 + i, `192.0.2.${(i % 250) + 1}`);
      await mta.helo(`client${i}.example.net`);
      const r = await mta.sendMessage(raw, { from: '<sender@example.com>', rcpts: ['<rcpt@example.org>'] });
      eoms++;
      await mta.quit();
      const final = r.final.type === 'replyCode' ? `reply ${(r.final as { text?: string }).text ?? ''}` : r.final.type;
      return { ok: true, stage: r.stage, final, ms: performance.now() - t0 };
    } catch (err) {
      return { ok: false, stage: 'error', final: (err as Error).message, ms: performance.now() - t0 };
    }
  }),
);
const seconds = (performance.now() - started) / 1000;
clearInterval(sampler);
const end = status(pid);
const hwm = end?.hwm ?? 0;
peakRss = Math.max(peakRss, end?.rss ?? 0);

const outcomes = new Map<string, number>();
for (const r of results) outcomes.set(`${r.stage}/${r.final}`, (outcomes.get(`${r.stage}/${r.final}`) ?? 0) + 1);
const lat = results.map((r) => r.ms).sort((a, b) => a - b);
const mb = (n: number): string => (n / 1024 / 1024).toFixed(1);
if (args.json) {
  console.log(JSON.stringify({ sessions, sizeBytes: raw.length, workers: Number(args.workers), spoolBytes: Number(args['spool-bytes']), kind: args.kind, idleRss: idle?.rss, peakRss, hwm, seconds, outcomes: Object.fromEntries(outcomes) }));
} else {
  console.log(`memory: ${sessions} concurrent sessions x ${mb(raw.length)} MB (${args.kind}), content workers ${args.workers}, spool threshold ${args['spool-bytes']} B, highWaterBytes ${args['high-water']} B, clamd off`);
  console.log(`server pid ${pid}, node ${process.version}`);
  console.log('');
  console.log(`  RSS idle (before)        ${mb(idle?.rss ?? 0).padStart(8)} MB`);
  console.log(`  RSS peak (sampled 50ms)  ${mb(peakRss).padStart(8)} MB`);
  console.log(`  VmHWM (kernel peak)      ${mb(hwm).padStart(8)} MB   <- the figure for the 300 MB goal`);
  console.log(`  RSS after                ${mb(end?.rss ?? 0).padStart(8)} MB`);
  console.log(`  wall time                ${seconds.toFixed(1).padStart(8)} s   (${((sessions * raw.length) / 1024 / 1024 / seconds).toFixed(1)} MB/s through the server)`);
  console.log(`  session time p50 / max   ${(lat[Math.floor(lat.length / 2)]! / 1000).toFixed(1)} s / ${(lat[lat.length - 1]! / 1000).toFixed(1)} s`);
  console.log(`  outcomes (stage/reply):  ${[...outcomes].map(([k, v]) => `${k} x${v}`).join(', ')}`);
  console.log(`  RSS every 5 s (time, RSS, sessions done): ${timeline.join(' | ')}`);
  const errs = results.filter((r) => !r.ok).slice(0, 3);
  for (const e of errs) console.log(`  error: ${e.final}`);
}
cleanup();
process.exit(0);
