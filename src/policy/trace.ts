// The trace header value: verdict, direction, score and the rules that fired, short enough for one
// header line (RFC 5322's 998-octet limit), so an administrator can see why mail was treated so.
import type { Direction, RuleHit } from './types.js';

export interface TraceInput {
  verdict: string;
  wouldBe: string;
  direction: Direction;
  score: number;
  hits: readonly RuleHit[];
  sessionId: string;
  /** The rule that decided the verdict (or the would-be verdict in monitor mode). */
  decidedBy?: string;
}

const MAX = 900;

export function formatTrace(t: TraceInput): string {
  const head = t.wouldBe !== t.verdict ? `${t.verdict} (monitor: would ${t.wouldBe})` : t.verdict;
  const parts = [head];
  if (t.decidedBy) parts.push(`by=${t.decidedBy}`);
  parts.push(`dir=${t.direction}`, `score=${t.score}`);
  const rules = t.hits
    .filter((h) => h.action !== 'log' || h.monitor)
    .map((h) => {
      const what = h.action === 'score' ? `${h.score !== undefined && h.score >= 0 ? '+' : ''}${h.score ?? 0}` : h.action;
      return `${h.rule}(${h.monitor ? 'monitor:' : ''}${what})`;
    });
  const uniq = [...new Set(rules)];
  let list = uniq.join(',');
  if (list.length > MAX - 100) {
    let cut = '';
    let kept = 0;
    for (const r of uniq) {
      if (cut.length + r.length + 20 > MAX - 100) break;
      cut += (cut ? ',' : '') + r;
      kept++;
    }
    list = `${cut ? `${cut},` : ''}...+${uniq.length - kept}`;
  }
  parts.push(`rules=${list || 'none'}`, `id=${t.sessionId}`);
  return parts.join('; ');
}
