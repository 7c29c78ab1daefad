// Finds Postern's own summary log line ("msg":"message", JSON, one per message) for a queue id, the
// most complete record of why a message was quarantined (deciding rule, every hit with its detail).
// Reads a log file the administrator names (--log FILE); never writes anything.
import { readFileSync } from 'node:fs';
import { QuarantineError, type PosternReason } from './types.js';

export interface LogRecord {
  queueId: string;
  verdict?: string;
  decidedBy?: string;
  score?: number;
  rules?: string[];
  details?: Array<{ rule: string; action?: string; detail?: string; score?: number }>;
}

/** Index the file's summary lines by queue id (the last line for an id wins). */
export function readPosternLog(file: string): Map<string, LogRecord> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new QuarantineError('bad-config', `cannot read Postern log ${file}: ${(err as Error).message}`);
  }
  const out = new Map<string, LogRecord>();
  for (const line of text.split('\n')) {
    if (!line.includes('"queueId"')) continue;
    let obj: Record<string, unknown>;
    try {
      obj = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (obj.msg !== 'message' || typeof obj.queueId !== 'string') continue;
    out.set(obj.queueId, obj as unknown as LogRecord);
  }
  return out;
}

export function reasonFromLog(r: LogRecord): PosternReason {
  const rule = r.decidedBy;
  const hit = r.details?.find((d) => d.rule === rule);
  const scored = (r.details ?? []).filter((d) => d.action === 'score' && d.score !== undefined).map((d) => `${d.rule}${d.score! >= 0 ? '+' : ''}${d.score}`);
  const detail =
    hit?.detail ?? (rule === 'score.quarantine' ? `message score ${r.score ?? '?'}${scored.length ? ` from ${scored.join(', ')}` : ''}` : undefined);
  return {
    source: 'postern-log',
    text: `${detail ?? (rule ? '(no detail logged)' : '(no deciding rule logged)')}${r.verdict && r.verdict !== 'quarantine' ? ` (logged verdict ${r.verdict})` : ''}`,
    ...(rule ? { rule } : {}),
    ...(r.rules ? { rules: r.rules } : {}),
    ...(r.score !== undefined ? { score: r.score } : {}),
  };
}
