// Text output of `postern quarantine`: the one-line-per-message list table and the `show` block.
// Pure formatting; the JSON form is the HeldMessage objects themselves (dates as ISO strings).
import type { HeldMessage, ShownMessage } from './types.js';

/** "2026-12-03 14:06:07" in local time ("-" when unknown). */
export function formatTime(d: Date | undefined): string {
  if (!d) return '-';
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

const cell = (s: string) => s.replace(/[\r\n\t]+/g, ' ');

/** One line per held message: id, arrival, size, sender, recipients, Postern reason (rule id first). */
export function formatList(items: readonly HeldMessage[]): string {
  if (items.length === 0) return 'no quarantined messages\n';
  const rows = items.map((m) => [
    m.id,
    formatTime(m.arrival),
    String(m.size),
    m.sender || '<>',
    m.recipients.join(',') || '-',
    cell(m.reason.rule ? `${m.reason.rule}: ${m.reason.text}` : m.reason.text),
  ]);
  const head = ['QUEUE-ID', 'ARRIVED', 'SIZE', 'SENDER', 'RECIPIENTS', 'POSTERN REASON'];
  const widths = head.map((h, i) => (i === head.length - 1 ? 0 : Math.max(h.length, ...rows.map((r) => r[i]!.length))));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n') + `\n${items.length} quarantined message${items.length === 1 ? '' : 's'}\n`;
}

export function formatShow(m: ShownMessage): string {
  const out = [
    `queue id:    ${m.id} (${m.mta})`,
    `arrived:     ${formatTime(m.arrival)}`,
    `size:        ${m.size}`,
    `sender:      ${m.sender || '<>'}`,
    `recipients:  ${m.recipients.join(', ') || '-'}`,
    `reason:      ${m.reason.rule ?? '(unknown rule)'}: ${cell(m.reason.text)}`,
    `reason from: ${m.reason.source}`,
  ];
  if (m.reason.rules?.length) out.push(`rules hit:   ${m.reason.rules.join(', ')}`);
  if (m.reason.score !== undefined) out.push(`score:       ${m.reason.score}`);
  out.push('', '--- envelope ---', m.envelopeText || '(none)', '', '--- headers ---');
  for (const [n, v] of m.headers) out.push(`${n}: ${v}`);
  return out.join('\n') + '\n';
}

export function toJson(m: HeldMessage): Record<string, unknown> {
  return { ...m, arrival: m.arrival ? m.arrival.toISOString() : null };
}
