// Summarises the JSON lines written by bench/load.ts (several rounds per target and mode) into one
// table: median msgs/s, EOM p50/p99 and the ratio to libmilter accept-only, plus the goal check.
// usage: node dist/bench/table.js results.jsonl [baseline-label] [postern-label]
import { readFileSync } from 'node:fs';

interface Row {
  label: string;
  perConn: number;
  sessions: number;
  msgsPerSec: number;
  eomP50: number;
  eomP99: number;
  msgP99: number;
  errors: number;
  refused: number;
  serverCpuUsPerMsg?: number;
  serverCpuShare?: number;
  firstError?: string;
}

const [file, baseline = 'libmilter accept-only', postern = 'postern serve'] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: table results.jsonl [baseline-label] [postern-label]\n');
  process.exit(2);
}
const rows: Row[] = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Row);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const modes = [...new Set(rows.map((r) => r.perConn))].sort((a, b) => a - b);
let goalLine = '';
for (const mode of modes) {
  const inMode = rows.filter((r) => r.perConn === mode);
  const labels = [...new Set(inMode.map((r) => r.label))];
  const summary = labels.map((label) => {
    const rs = inMode.filter((r) => r.label === label);
    return {
      label,
      rounds: rs.length,
      msgs: median(rs.map((r) => r.msgsPerSec)),
      p50: median(rs.map((r) => r.eomP50)),
      p99: median(rs.map((r) => r.eomP99)),
      msgP99: median(rs.map((r) => r.msgP99)),
      cpu: median(rs.map((r) => r.serverCpuUsPerMsg ?? NaN)),
      share: median(rs.map((r) => r.serverCpuShare ?? NaN)),
      errors: rs.reduce((a, r) => a + r.errors + r.refused, 0),
      firstError: rs.find((r) => r.firstError)?.firstError,
    };
  });
  const base = summary.find((s) => s.label === baseline)?.msgs ?? NaN;
  const sessions = inMode[0]?.sessions ?? 0;
  process.stdout.write(`\n${sessions} concurrent sessions, ${mode === 1 ? '1 message per milter connection (Postfix: new connection per SMTP session)' : `${mode} messages per milter connection`}; medians of ${summary[0]?.rounds ?? 0} rounds\n`);
  const head = ['milter', 'msgs/s', 'EOM p50 ms', 'EOM p99 ms', 'msg p99 ms', `× ${baseline}`, 'milter CPU µs/msg', 'milter CPU % core', 'errors'];
  const body = summary.map((s) => [
    s.label, s.msgs.toFixed(0), s.p50.toFixed(2), s.p99.toFixed(2), s.msgP99.toFixed(2), (s.msgs / base).toFixed(2),
    Number.isFinite(s.cpu) ? s.cpu.toFixed(0) : '-', Number.isFinite(s.share) ? (s.share * 100).toFixed(0) : '-', String(s.errors),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  process.stdout.write(`${line(head)}\n|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|\n`);
  for (const r of body) process.stdout.write(`${line(r)}\n`);
  for (const s of summary) if (s.firstError) process.stdout.write(`  ${s.label}: first error: ${s.firstError}\n`);
  const p = summary.find((s) => s.label === postern);
  if (p && Number.isFinite(base)) {
    const ok = p.msgs >= base && p.p99 <= 2;
    goalLine += `goal (${mode} msg/conn): ${postern} ${(p.msgs / base).toFixed(2)}× ${baseline} (want ≥ 1.00), EOM p99 ${p.p99.toFixed(2)} ms (want ≤ 2): ${ok ? 'MET' : 'MISSED'}\n`;
  }
}
if (goalLine) process.stdout.write(`\n${goalLine}`);
