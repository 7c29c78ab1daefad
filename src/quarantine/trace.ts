// Reads Postern's trace header (src/policy/trace.ts writes it) back into a verdict, score and rule
// list, and turns it into the "Postern reason" of a held message. Pure functions, no I/O.
// The header is only as trustworthy as the message: a sender could forge one, so callers take the
// LAST occurrence (milter-added headers are appended after the sender's) and say where it came from.
import type { PosternReason } from './types.js';

export interface TraceRule {
  rule: string;
  /** "quarantine", "reject", "+2.5"... as written in the trace. */
  action: string;
  monitor: boolean;
}

export interface TraceInfo {
  verdict: string;
  /** Set when monitor mode changed the verdict: what it would have been. */
  wouldBe?: string;
  direction?: string;
  score?: number;
  rules: TraceRule[];
  /** Rules cut from the header for length ("...+N"). */
  truncated: number;
  sessionId?: string;
  /** The rule that decided the verdict ("by=" in the trace). */
  decidedBy?: string;
}

/** Parse a trace header value; undefined when it does not look like one. */
export function parseTrace(value: string): TraceInfo | undefined {
  const parts = value.replace(/\r?\n[ \t]*/g, ' ').split(';').map((p) => p.trim());
  const head = parts.shift();
  if (!head) return undefined;
  const hm = /^([a-z]+)(?:\s+\(monitor: would ([a-z]+)\))?$/.exec(head);
  if (!hm) return undefined;
  const info: TraceInfo = { verdict: hm[1]!, rules: [], truncated: 0 };
  if (hm[2]) info.wouldBe = hm[2];
  for (const p of parts) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    const k = p.slice(0, eq);
    const v = p.slice(eq + 1);
    if (k === 'dir') info.direction = v;
    else if (k === 'by') info.decidedBy = v;
    else if (k === 'score') {
      const n = Number(v);
      if (Number.isFinite(n)) info.score = n;
    } else if (k === 'id') info.sessionId = v;
    else if (k === 'rules' && v !== 'none') {
      for (const m of v.matchAll(/([^,()]+)\(([^)]*)\)/g)) {
        const monitor = m[2]!.startsWith('monitor:');
        info.rules.push({ rule: m[1]!.trim(), action: monitor ? m[2]!.slice(8) : m[2]!, monitor });
      }
      const cut = /\.\.\.\+(\d+)$/.exec(v);
      if (cut) info.truncated = Number(cut[1]);
    }
  }
  return info;
}

/** The Postern reason a trace header gives for a held message. */
export function reasonFromTrace(t: TraceInfo): PosternReason {
  const rules = t.rules.map((r) => r.rule);
  const base = { source: 'trace-header' as const, rules, ...(t.score !== undefined ? { score: t.score } : {}) };
  if (t.verdict !== 'quarantine') {
    return { ...base, text: `not quarantined by Postern (trace verdict: ${t.verdict}${t.wouldBe ? `, monitor: would ${t.wouldBe}` : ''})` };
  }
  const acting = t.decidedBy && t.decidedBy !== 'score.quarantine'
    ? [t.decidedBy]
    : t.rules.filter((r) => r.action === 'quarantine' && !r.monitor).map((r) => r.rule);
  if (acting.length > 0) {
    const others = rules.filter((r) => !acting.includes(r));
    return { ...base, rule: acting.join(','), text: `rule action quarantine${others.length ? ` (also hit: ${others.join(', ')})` : ''}` };
  }
  // No rule asked for quarantine itself: the message score reached policy.scoring.quarantine.
  const scored = t.rules.filter((r) => /^[+-]/.test(r.action) && !r.monitor).map((r) => `${r.rule}${r.action}`);
  return {
    ...base,
    rule: 'score.quarantine',
    text: `message score ${t.score ?? '?'}${scored.length ? ` from ${scored.join(', ')}` : ''}${t.truncated ? `, +${t.truncated} more` : ''}`,
  };
}

/** The reason text Postern sends with SMFIR_QUARANTINE: "postern RULE: detail" (cut to 100 chars). */
export function reasonFromMtaText(text: string): PosternReason {
  const m = /^postern ([^\s:]+): ?(.*)$/s.exec(text.trim());
  if (!m) return { source: 'mta', text: text.trim() || '(no reason recorded)' };
  return { source: 'mta', rule: m[1]!, text: m[2]!.trim() || '(no detail)' };
}

/** The last header with this name (case-insensitive) among (name, value) pairs. */
export function lastHeader(headers: ReadonlyArray<readonly [string, string]>, name: string): string | undefined {
  const n = name.toLowerCase();
  for (let i = headers.length - 1; i >= 0; i--) if (headers[i]![0].toLowerCase() === n) return headers[i]![1];
  return undefined;
}

/** Split an RFC 5322 header block (lines, folded or not) into (name, unfolded value) pairs. */
export function parseHeaderLines(lines: readonly string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const line of lines) {
    if (line === '') break;
    if (/^[ \t]/.test(line) && out.length > 0) {
      out[out.length - 1]![1] += ' ' + line.trim();
      continue;
    }
    const c = line.indexOf(':');
    if (c <= 0) continue;
    out.push([line.slice(0, c), line.slice(c + 1).trim()]);
  }
  return out;
}
