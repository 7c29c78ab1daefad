// Human-readable output of `postern scan`: a block for one message, one line per message for many,
// and the totals line. Formatting only; the JSON form is the ScanResult itself.
import type { ScanResult } from './scan-run.js';
import type { ScanTotals } from './scan.js';

export function formatHuman(r: ScanResult): string {
  const out: string[] = [];
  out.push(`file:      ${r.file}`);
  out.push(`verdict:   ${r.verdict.toUpperCase()}${r.wouldBe ? ` (monitor mode: would be ${r.wouldBe})` : ''} at ${r.decidedAt}`);
  if (r.reply) out.push(`reply:     ${r.reply}`);
  const e = r.envelope;
  out.push(`envelope:  from <${e.from}> to ${e.rcpts.map((x) => `<${x}>`).join(', ')}`);
  out.push(`client:    ${e.clientName === `[${e.clientIp}]` ? e.clientName : `${e.clientName} [${e.clientIp}]`} helo ${e.helo}`);
  const refused = r.recipients.filter((x) => !x.accepted);
  for (const x of refused) out.push(`           recipient <${x.rcpt}> refused: ${x.reply ?? ''}`);
  const facts: string[] = [];
  if (r.direction) facts.push(`direction ${r.direction}`);
  if (r.score !== undefined) facts.push(`score ${r.score}`);
  facts.push(`size ${r.size} bytes`);
  out.push(`message:   ${facts.join(', ')}`);
  if (r.rules.length === 0) out.push('rules:     (none fired)');
  else {
    out.push('rules:');
    for (const h of r.rules) {
      const action = `${h.action}${h.action === 'score' && h.score !== undefined ? ` ${h.score >= 0 ? '+' : ''}${h.score}` : ''}${h.monitor ? ' (monitor)' : ''}`;
      out.push(`  ${h.rule.padEnd(28)} ${action.padEnd(18)} [${h.stage ?? '?'}${h.where ? `: ${h.where}` : ''}] ${h.detail}`);
    }
  }
  if (r.headers.length === 0) out.push('headers:   (no changes)');
  else {
    out.push('headers:');
    for (const h of r.headers) {
      const sign = h.op === 'add' ? '+' : h.op === 'insert' ? `+[${h.index}]` : h.op === 'delete' ? `-[${h.index}]` : `~[${h.index}]`;
      out.push(`  ${sign} ${h.name}${h.value !== undefined ? `: ${h.value.replace(/\n/g, '\n      ')}` : ''}`);
    }
  }
  for (const a of r.actions) out.push(`action:    ${JSON.stringify(a)}`);
  out.push(`timings:   ${Object.entries(r.timings).map(([k, v]) => `${k} ${v} ms`).join(', ')}`);
  return `${out.join('\n')}\n`;
}

export function formatLine(r: ScanResult): string {
  const rules = r.rules.filter((h) => h.action !== 'log' || h.monitor).map((h) => `${h.rule}${h.monitor ? '(monitor)' : ''}`);
  const parts = [r.verdict.toUpperCase().padEnd(10), r.file];
  if (r.wouldBe) parts.push(`would-be=${r.wouldBe}`);
  if (r.score !== undefined && r.score !== 0) parts.push(`score=${r.score}`);
  if (rules.length > 0) parts.push(`rules=${rules.join(',')}`);
  if (r.reply) parts.push(`"${r.reply}"`);
  parts.push(`${r.timings.total ?? 0}ms`);
  return `${parts.join(' ')}\n`;
}

/** The line of a file in a folder that was not scanned (not a message). */
export function formatSkipped(file: string, reason: string): string {
  return `${'SKIPPED'.padEnd(10)} ${file} (${reason})\n`;
}

export function formatTotals(t: ScanTotals): string {
  const counts = Object.entries(t.verdicts)
    .filter(([, n]) => n > 0)
    .map(([v, n]) => `${v} ${n}`);
  if (t.errors > 0) counts.push(`error ${t.errors}`);
  const skipped = t.skipped > 0 ? `; ${t.skipped} file${t.skipped === 1 ? '' : 's'} skipped (not a message)` : '';
  return `total: ${t.messages} message${t.messages === 1 ? '' : 's'}: ${counts.join(', ') || 'none'}${skipped}\n`;
}
