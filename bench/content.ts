// Content-pipeline benchmark (issue 4, "Memory and speed"): runs createContentPipeline (clamd off) in
// this process over every message of the shared corpus, several rounds, and prints msgs/s, MB/s,
// per-message p50/p99/max, the ten slowest messages and the time split per stage (parse, archives,
// each check — the timings the pipeline itself returns). No pass/fail: figures only. Run it on one
// core for per-core figures:  taskset -c 0 node dist/bench/content.js [--rounds 7] [--warmup 4]
//   [--direction inbound|outbound] [--corpus DIR] [--json]
// Messages are read into memory first (file I/O is not part of the figure).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultConfig } from '../src/config/load.js';
import { createContentPipeline, type ContentInput } from '../src/content/pipeline.js';

const { values: args } = parseArgs({
  options: {
    corpus: { type: 'string', default: path.resolve(process.env.POSTERN_SHARED ?? path.join(process.cwd(), '..', 'shared'), 'corpus') },
    rounds: { type: 'string', default: '7' },
    warmup: { type: 'string', default: '4' },
    direction: { type: 'string', default: 'inbound' },
    json: { type: 'boolean', default: false },
  },
});

// clamav-testfiles-xored are stored XOR-encoded as upstream does (see the corpus SOURCES.md).
const XOR_KEY = Buffer.from(
  'bhcftqarohcdiayfohalohkgmoefxrrgfnczssgybajvkzjaahpfrlqsratkhhfvpxytculmwgmtyzujlbjlgrhtwxhzpjazlibbwepffyjyfkjwzyofgpopoueurinpdujkphxwhnaxfkaiwrpzdqsnwughtejr',
);

/** The same message set as the corpus-wide tests: MANIFEST "message"/"message-xored" plus mime-evasion mails. */
function loadCorpus(dir: string): { rel: string; raw: Buffer }[] {
  const manifest = readFileSync(path.join(dir, 'MANIFEST.tsv'), 'utf8').split('\n').slice(1);
  const rels: string[] = [];
  for (const line of manifest) {
    const [rel, kind] = line.split('\t');
    if (rel && (kind === 'message' || kind === 'message-xored')) rels.push(rel);
  }
  for (const sub of ['hide-content', 'hide-filename']) {
    const d = path.join(dir, 'mime-evasion', sub);
    if (existsSync(d)) for (const f of readdirSync(d).sort()) if (f.endsWith('.eml')) rels.push(`mime-evasion/${sub}/${f}`);
  }
  return rels.map((rel) => {
    const raw = readFileSync(path.join(dir, rel));
    if (rel.endsWith('.xor')) for (let i = 0; i < raw.length; i++) raw[i] = raw[i]! ^ XOR_KEY[i % XOR_KEY.length]!;
    return { rel, raw };
  });
}

function pct(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

if (!existsSync(path.join(args.corpus, 'MANIFEST.tsv'))) {
  console.error(`bench:content: corpus not found at ${args.corpus} (set --corpus or POSTERN_SHARED)`);
  process.exit(2);
}
const messages = loadCorpus(args.corpus);
const totalBytes = messages.reduce((n, m) => n + m.raw.length, 0);
const config = defaultConfig();
config.content.clamd.enabled = false;
const pipeline = createContentPipeline(config);
const input: ContentInput = {
  direction: args.direction === 'outbound' ? 'outbound' : 'inbound',
  sender: 'sender@example.com',
  recipients: ['rcpt@example.org'],
  smtputf8: false,
};
const rounds = Math.max(1, Number(args.rounds));
const warmup = Math.max(0, Number(args.warmup));

// Warm-up: the first rounds are slow while V8 compiles the hot JavaScript and WebAssembly (RE2,
// 7-Zip) with its optimising compilers, on background threads whose CPU time this process pays; a
// long-running service pays that once. Their figures are printed too (the first is the cold start).
const warmupRates: number[] = [];
for (let w = 0; w < warmup; w++) {
  const cpu0 = process.cpuUsage();
  for (const m of messages) await pipeline.analyze(m.raw, input);
  const u = process.cpuUsage(cpu0);
  warmupRates.push(messages.length / ((u.user + u.system) / 1e6));
}

const perMessage = new Map<string, number[]>();
const stageTotals = new Map<string, number>();
const roundRates: number[] = [];
const cpuRates: number[] = [];
const all: number[] = [];
const allCpu: number[] = [];
const cpuMs = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1000;
for (let r = 0; r < rounds; r++) {
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  for (const m of messages) {
    const s = performance.now();
    const c = process.cpuUsage();
    const report = await pipeline.analyze(m.raw, input);
    allCpu.push(cpuMs(process.cpuUsage(c)));
    const ms = performance.now() - s;
    all.push(ms);
    let list = perMessage.get(m.rel);
    if (!list) perMessage.set(m.rel, (list = []));
    list.push(ms);
    for (const [k, v] of Object.entries(report.timings)) stageTotals.set(k, (stageTotals.get(k) ?? 0) + v);
  }
  const secs = (performance.now() - start) / 1000;
  roundRates.push(messages.length / secs);
  cpuRates.push(messages.length / (cpuMs(process.cpuUsage(cpu0)) / 1000));
}
allCpu.sort((a, b) => a - b);
all.sort((a, b) => a - b);
const totalMs = all.reduce((a, b) => a + b, 0);
const rates = [...roundRates].sort((a, b) => a - b);
const medianRate = rates[Math.floor(rates.length / 2)]!;
// Messages per CPU-second of this process (all its threads, GC included): the per-core figure even
// when the core is shared with other work (wall-clock rates then drop, CPU time does not).
const cpuSorted = [...cpuRates].sort((a, b) => a - b);
const medianCpuRate = cpuSorted[Math.floor(cpuSorted.length / 2)]!;
const mbps = (medianRate * totalBytes) / messages.length / 1e6;
const slowest = [...perMessage.entries()]
  .map(([rel, l]) => ({ rel, ms: [...l].sort((a, b) => a - b)[Math.floor(l.length / 2)]!, bytes: messages.find((m) => m.rel === rel)!.raw.length }))
  .sort((a, b) => b.ms - a.ms)
  .slice(0, 10);
const stages = [...stageTotals.entries()].sort((a, b) => b[1] - a[1]);
const stageSum = stages.reduce((n, [, v]) => n + v, 0);

if (args.json) {
  console.log(JSON.stringify({
    messages: messages.length, bytes: totalBytes, rounds, direction: input.direction, msgsPerSec: medianRate, roundRates, msgsPerCpuSec: medianCpuRate, cpuRates, warmupRates, mbPerSec: mbps,
    p50: pct(all, 50), p99: pct(all, 99), cpuP50: pct(allCpu, 50), cpuP99: pct(allCpu, 99), max: all[all.length - 1], slowest, stages: Object.fromEntries(stages.map(([k, v]) => [k, v / rounds])),
  }));
} else {
  const f = (n: number, d = 2): string => n.toFixed(d);
  console.log(`content pipeline (in-process, clamd off, direction ${input.direction}), node ${process.version}, pid ${process.pid}`);
  console.log(`corpus: ${messages.length} messages, ${f(totalBytes / 1e6)} MB (${args.corpus})`);
  console.log(`rounds: ${rounds} (+${warmup} warm-up)`);
  console.log('');
  console.log(`  msgs/s wall (median)  ${f(medianRate, 0).padStart(8)}   rounds: ${roundRates.map((r) => r.toFixed(0)).join(' ')}`);
  console.log(`  msgs per CPU-second   ${f(medianCpuRate, 0).padStart(8)}   rounds: ${cpuRates.map((r) => r.toFixed(0)).join(' ')}  (per-core figure, immune to sharing)`);
  if (warmupRates.length) console.log(`  warm-up msgs/CPU-s              rounds: ${warmupRates.map((r) => r.toFixed(0)).join(' ')}  (first = cold start, JIT compiling)`);
  console.log(`  MB/s wall             ${f(mbps).padStart(8)}   per CPU-second ${f((medianCpuRate * totalBytes) / messages.length / 1e6)}`);
  console.log(`  per message p50       ${f(pct(all, 50), 3).padStart(8)} ms wall  ${f(pct(allCpu, 50), 3).padStart(8)} ms CPU`);
  console.log(`  per message p99       ${f(pct(all, 99), 3).padStart(8)} ms wall  ${f(pct(allCpu, 99), 3).padStart(8)} ms CPU`);
  console.log(`  per message max       ${f(all[all.length - 1]!, 3).padStart(8)} ms`);
  console.log(`  total time per round  ${f(totalMs / rounds, 1).padStart(8)} ms`);
  console.log('');
  console.log('time per stage (ms per round, share of the staged time):');
  for (const [k, v] of stages) console.log(`  ${k.padEnd(16)} ${f(v / rounds, 1).padStart(9)}  ${f((100 * v) / (stageSum || 1), 1).padStart(5)} %`);
  console.log('');
  console.log('10 slowest messages (median ms over rounds):');
  for (const s of slowest) console.log(`  ${f(s.ms, 2).padStart(9)} ms  ${String(s.bytes).padStart(9)} B  ${s.rel}`);
}
