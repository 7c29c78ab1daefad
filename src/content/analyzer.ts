// Runs the content pipeline either in a pool of worker threads (piscina) or in this thread, behind
// one interface. A worker crash or timeout is an error for that message only (error action applies).
import { createHash } from 'node:crypto';
import { Piscina } from 'piscina';
import type { PosternConfig } from '../config/schema.js';
import { getConfigDir } from '../config/paths.js';
import type { Logger } from '../log/logger.js';
import { createContentPipeline, type ContentInput, type ContentReport } from './pipeline.js';
import type { WorkerTask } from './worker.js';

export interface ContentAnalyzer {
  analyze(message: { raw?: Buffer; spoolPath?: string }, input: ContentInput, budgetMs: number): Promise<ContentReport>;
  /** Load rule files in every worker now; rejects with the first problem (bad rule file, bad pattern). */
  warmUp(): Promise<void>;
  close(): Promise<void>;
}

export function createContentAnalyzer(config: PosternConfig, logger: Logger): ContentAnalyzer {
  if (config.content.workers === 0) {
    const pipeline = createContentPipeline(config, logger);
    return {
      async analyze(message, input, budgetMs) {
        const raw = message.raw ?? (await import('node:fs')).readFileSync(message.spoolPath!);
        return pipeline.analyze(raw, input, AbortSignal.timeout(budgetMs));
      },
      async warmUp() {},
      async close() {},
    };
  }
  const configKey = createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 16);
  const pool = new Piscina({
    filename: new URL('./worker.js', import.meta.url).href,
    minThreads: config.content.workers,
    maxThreads: config.content.workers,
    idleTimeout: 60_000,
  });
  return {
    analyze(message, input, budgetMs) {
      const task: WorkerTask = { configKey, config, input, budgetMs };
      const configDir = getConfigDir();
      if (configDir) task.configDir = configDir;
      if (message.spoolPath) task.spoolPath = message.spoolPath;
      else task.raw = message.raw!;
      return pool.run(task) as Promise<ContentReport>;
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
