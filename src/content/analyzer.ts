// Runs the content pipeline either in a pool of worker threads (piscina) or in this thread, behind
// one interface, behind an admission gate that bounds the bytes analysed at once. A worker crash or
// timeout (including a deadline that passes in the admission queue) is an error for that message only
// (error action applies). A worker stuck in synchronous code (which its own AbortSignal cannot reach)
// is terminated and replaced once the message's budget has passed, so it never holds a thread.
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { Piscina } from 'piscina';
import type { PosternConfig } from '../config/schema.js';
import { getConfigDir } from '../config/paths.js';
import type { Logger } from '../log/logger.js';
import { AdmissionGate } from './admission.js';
import type { ContentInput, ContentPipeline, ContentReport } from './pipeline.js';
import type { WorkerTask } from './worker.js';

export interface AnalyzedMessage {
  raw?: Buffer;
  spoolPath?: string;
  /** Raw size in bytes (for admission); read from raw or the spool file when absent. */
  size?: number;
}

export interface ContentAnalyzer {
  analyze(message: AnalyzedMessage, input: ContentInput, budgetMs: number): Promise<ContentReport>;
  /** Load rule files in every worker now; rejects with the first problem (bad rule file, bad pattern). */
  warmUp(): Promise<void>;
  /** Messages admitted to analysis and waiting for admission now (content.analysisBudgetBytes). */
  stats(): { admitted: number; waiting: number; bytesInFlight: number };
  close(): Promise<void>;
}

/** Thrown (with code) when a worker has not answered by the end of the message's budget: it was stopped and replaced. */
export class AnalysisTimeoutError extends Error {
  readonly code = 'ANALYSIS_TIMEOUT';
  constructor(budgetMs: number) {
    super(`content analysis did not finish within its ${budgetMs} ms budget; the worker was stopped and replaced`);
    this.name = 'AnalysisTimeoutError';
  }
}

/**
 * How long after the budget the main thread waits before stopping the worker: the worker's own
 * AbortSignal.timeout (started a little later, when it picks the task up) ends cooperative checks
 * first and keeps the worker; only a worker that cannot answer is terminated.
 */
export const ABORT_GRACE_MS = 1000;

type Run = (message: AnalyzedMessage, input: ContentInput, budgetMs: number) => Promise<ContentReport>;

export function createContentAnalyzer(config: PosternConfig, logger: Logger): ContentAnalyzer {
  const gate = new AdmissionGate(config.content.analysisBudgetBytes);
  const inner = config.content.workers === 0 ? inThread(config, logger) : pooled(config);
  return {
    async analyze(message, input, budgetMs) {
      // The budget covers the wait for admission and the analysis: one deadline for both.
      const deadline = performance.now() + budgetMs;
      const release = await gate.acquire(sizeOf(message), budgetMs);
      try {
        return await inner.run(message, input, Math.max(1, Math.round(deadline - performance.now())));
      } finally {
        release();
      }
    },
    warmUp: () => inner.warmUp(),
    stats: () => ({ admitted: gate.admitted, waiting: gate.waiting, bytesInFlight: gate.bytesInFlight }),
    close: () => inner.close(),
  };
}

function sizeOf(message: AnalyzedMessage): number {
  if (message.size !== undefined) return message.size;
  if (message.raw) return message.raw.length;
  try {
    return statSync(message.spoolPath!).size;
  } catch {
    return 0; // the analysis itself reports the unreadable file
  }
}

/** workers: 0 — the pipeline in this thread. */
function inThread(config: PosternConfig, logger: Logger): { run: Run; warmUp(): Promise<void>; close(): Promise<void> } {
  // loaded on first use: with worker threads the main thread never needs the parsers and rules
  let pipeline: Promise<ContentPipeline> | undefined;
  const load = (): Promise<ContentPipeline> =>
    (pipeline ??= import('./pipeline.js').then((m) => m.createContentPipeline(config, logger)));
  return {
    async run(message, input, budgetMs) {
      const p = await load();
      const raw = message.raw ?? readFileSync(message.spoolPath!);
      return p.analyze(raw, input, AbortSignal.timeout(budgetMs));
    },
    async warmUp() {
      await load(); // bad rule files fail here, at start-up or reload
    },
    async close() {},
  };
}

/** A pool of worker threads (piscina); spooled messages reach a worker by path, never copied. */
function pooled(config: PosternConfig): { run: Run; warmUp(): Promise<void>; close(): Promise<void> } {
  const configKey = createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 16);
  const pool = new Piscina({
    filename: new URL('./worker.js', import.meta.url).href,
    minThreads: config.content.workers,
    maxThreads: config.content.workers,
    idleTimeout: 60_000,
    resourceLimits: { maxYoungGenerationSizeMb: config.content.workerYoungGenerationMb },
  });
  return {
    run(message, input, budgetMs) {
      const task: WorkerTask = { configKey, config, input, budgetMs };
      const configDir = getConfigDir();
      if (configDir) task.configDir = configDir;
      if (message.spoolPath) task.spoolPath = message.spoolPath;
      else task.raw = message.raw!;
      // Queued: leaves the queue. Running: piscina terminates the thread and starts a fresh one.
      const stop = new AbortController();
      const timer = setTimeout(() => stop.abort(new AnalysisTimeoutError(budgetMs)), budgetMs + ABORT_GRACE_MS);
      return (pool.run(task, { signal: stop.signal }) as Promise<ContentReport>)
        .catch((err: unknown) => {
          throw stop.signal.aborted ? (stop.signal.reason as AnalysisTimeoutError) : err;
        })
        .finally(() => clearTimeout(timer));
    },
    async warmUp() {
      const dummy = { direction: 'inbound' as const, sender: '', recipients: [], smtputf8: false };
      const configDir = getConfigDir();
      await Promise.all(
        Array.from({ length: config.content.workers }, () =>
          pool.run({ configKey, config, input: dummy, budgetMs: 1000, warmup: true, ...(configDir ? { configDir } : {}) } satisfies WorkerTask),
        ),
      );
    },
    async close() {
      await pool.destroy();
    },
  };
}
