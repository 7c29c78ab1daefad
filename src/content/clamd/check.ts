// The clamd content check: scans every decoded leaf part (archive members included) and the raw
// message once, a few at a time, within a per-message time budget. Infected -> "clamd.infected";
// any failure to get a verdict -> "clamd.unavailable" with the fail action and a loud log line.
// It must never return "no hits" for mail it could not scan.
import type { RuleAction, RuleHit, SmtpReply } from '../../policy/types.js';
import type { Logger } from '../../log/logger.js';
import type { ContentCheck, ContentEnvironment, ContentPart, ParsedMessage } from '../types.js';
import { ClamdClient } from './client.js';
import { type ClamdConfig, clamdConfigSchema } from './config.js';
import { ClamdAbortedError, ClamdError, ClamdProtocolError, ClamdTimeoutError } from './errors.js';
import type { ScanVerdict } from './reply.js';

export const CLAMD_INFECTED = 'clamd.infected';
export const CLAMD_UNAVAILABLE = 'clamd.unavailable';

interface ScanItem {
  where: string;
  data: Buffer;
}

type Outcome = { item: ScanItem; verdict: ScanVerdict } | { item: ScanItem; error: ClamdError };

/** Minimal client surface the check needs (tests may substitute their own). */
export interface ClamdScanner {
  readonly label: string;
  scan(data: Buffer, signal?: AbortSignal): Promise<ScanVerdict>;
}

export interface ClamdCheckOptions {
  /** Use this scanner instead of a ClamdClient built from the config. */
  scanner?: ClamdScanner;
}

/**
 * Build the clamd check. `config` may be partial (it is parsed with the schema's defaults).
 */
export function createClamdCheck(
  config: Partial<ClamdConfig> | ClamdConfig | undefined,
  logger?: Logger,
  options: ClamdCheckOptions = {},
): ContentCheck {
  const cfg = clamdConfigSchema.parse(config ?? {});
  const scanner: ClamdScanner =
    options.scanner ??
    new ClamdClient({
      address: cfg.address,
      connectTimeoutMs: cfg.connectTimeoutMs,
      scanTimeoutMs: cfg.scanTimeoutMs,
      chunkSize: cfg.chunkSize,
      maxStreamBytes: cfg.maxStreamBytes,
    });
  const log = logger?.child({ check: 'clamd', clamd: scanner.label });
  if (!cfg.enabled) log?.warn('clamd scanning is disabled by configuration: mail is not scanned for viruses');

  return {
    id: 'clamd',
    async run(message: ParsedMessage, env: ContentEnvironment): Promise<RuleHit[]> {
      if (!cfg.enabled) return [];
      const items: ScanItem[] = [];
      if (cfg.scanParts) {
        for (const part of message.parts) if (part.content.length > 0) items.push({ where: partWhere(part), data: part.content });
      }
      if (cfg.scanRaw && env.raw.length > 0) items.push({ where: 'raw message', data: env.raw });
      if (items.length === 0) return [];

      const budget = new AbortController();
      const budgetTimer = setTimeout(
        () => budget.abort(new ClamdTimeoutError('scan', cfg.messageBudgetMs)),
        cfg.messageBudgetMs,
      );
      // The caller's signal (pipeline budget) also ends our scans. (No AbortSignal.any: Node 20.0-20.2.)
      const onOuterAbort = (): void => budget.abort(env.signal?.reason);
      if (env.signal?.aborted) onOuterAbort();
      else env.signal?.addEventListener('abort', onOuterAbort, { once: true });
      const signal = budget.signal;
      let outcomes: Outcome[];
      try {
        outcomes = await mapLimited(items, cfg.concurrency, async (item): Promise<Outcome> => {
          try {
            return { item, verdict: await scanner.scan(item.data, signal) };
          } catch (err) {
            return { item, error: asClamdError(err, signal) };
          }
        });
      } finally {
        clearTimeout(budgetTimer);
        env.signal?.removeEventListener('abort', onOuterAbort);
      }
      return toHits(outcomes, cfg, log);
    },
  };
}

function toHits(outcomes: Outcome[], cfg: ClamdConfig, log: Logger | undefined): RuleHit[] {
  const hits: RuleHit[] = [];
  const failures: { item: ScanItem; error: ClamdError }[] = [];
  for (const o of outcomes) {
    if ('error' in o) {
      failures.push(o);
      continue;
    }
    if (!o.verdict.infected) continue;
    const signature = o.verdict.signatures.join(', ');
    const first = safeForReply(o.verdict.signatures[0] ?? 'unknown');
    const reply = replyFor(cfg.infectedAction, {
      ...cfg.infectedReply,
      text: mapText(cfg.infectedReply.text, (t) => t.split('{signature}').join(first)),
    });
    log?.warn({ rule: CLAMD_INFECTED, where: o.item.where, signature }, 'clamd found a virus');
    hits.push({
      rule: CLAMD_INFECTED,
      action: cfg.infectedAction,
      ...(reply ? { reply } : {}),
      detail: `clamd: ${signature}`,
      where: o.item.where,
    });
  }
  if (failures.length > 0) {
    const first = failures[0] as { item: ScanItem; error: ClamdError };
    const codes = [...new Set(failures.map((f) => f.error.code))].join(',');
    log?.error(
      {
        rule: CLAMD_UNAVAILABLE,
        code: first.error.code,
        codes,
        failed: failures.length,
        scans: outcomes.length,
        where: first.item.where,
        err: first.error.message,
        action: cfg.failAction,
      },
      `clamd scan failed (${first.error.message}): applying ${cfg.failAction} to unscanned mail`,
    );
    const reply = replyFor(cfg.failAction, cfg.failReply);
    hits.push({
      rule: CLAMD_UNAVAILABLE,
      action: cfg.failAction,
      ...(reply ? { reply } : {}),
      detail: `clamd could not scan ${failures.length} of ${outcomes.length} item(s): ${first.error.code} ${first.error.message}`,
      where: first.item.where,
    });
  }
  return hits;
}

/** "part 2.1 invoice.zip" / "part 2.1/archive:a.exe a.exe". */
function partWhere(part: ContentPart): string {
  const name = part.names[0];
  return name ? `part ${part.path} ${name}` : `part ${part.path}`;
}

/** A reply fits only when its class matches the action; otherwise the engine's default is used. */
function replyFor(action: RuleAction, reply: SmtpReply): SmtpReply | undefined {
  if (action === 'reject' && reply.code >= 500) return reply;
  if (action === 'tempfail' && reply.code >= 400 && reply.code < 500) return reply;
  if (action === 'reject' || action === 'tempfail') return undefined;
  return reply;
}

function mapText(text: string | string[], f: (t: string) => string): string | string[] {
  return Array.isArray(text) ? text.map(f) : f(text);
}

/** Signature names go into an SMTP reply: printable ASCII only, bounded length. */
function safeForReply(name: string): string {
  return name.replace(/[^\x21-\x7e]/g, '?').slice(0, 200);
}

function asClamdError(err: unknown, signal: AbortSignal): ClamdError {
  if (err instanceof ClamdAbortedError && signal.reason instanceof ClamdTimeoutError) {
    return new ClamdTimeoutError('scan', signal.reason.timeoutMs);
  }
  if (err instanceof ClamdError) return err;
  return new ClamdProtocolError(`clamd scan failed: ${err instanceof Error ? err.message : String(err)}`, undefined, { cause: err });
}

/** Run fn over items with at most `limit` in flight; results in input order. */
async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
