// Worker-thread entry for content analysis: builds the pipeline once per config and analyses the
// messages the main thread hands over, so CPU-heavy parsing never stalls the milter event loop.
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createLogger, type Logger } from '../log/logger.js';
import type { PosternConfig } from '../config/schema.js';
import { setConfigDir } from '../config/paths.js';
import { createContentPipeline, type ContentInput, type ContentPipeline, type ContentReport } from './pipeline.js';

export interface WorkerTask {
  configKey: string;
  config: PosternConfig;
  raw?: Uint8Array;
  spoolPath?: string;
  input: ContentInput;
  budgetMs: number;
  /** Folder of the config file, for relative rule-file paths (module state is per thread). */
  configDir?: string;
  /** Only build the pipeline (load and compile rule files), so bad files fail at start-up. */
  warmup?: boolean;
}

let cached: { key: string; pipeline: ContentPipeline } | undefined;
let logger: Logger | undefined;

export default async function analyze(task: WorkerTask): Promise<ContentReport> {
  if (!cached || cached.key !== task.configKey) {
    setConfigDir(task.configDir);
    logger ??= createLogger({ level: task.config.log.level, destination: task.config.log.file || 1 });
    cached = { key: task.configKey, pipeline: createContentPipeline(task.config, logger) };
  }
  if (task.warmup) return { hits: [], parts: [], encrypted: false, timings: {} };
  const raw = task.spoolPath
    ? readFileSync(task.spoolPath)
    : Buffer.from(task.raw!.buffer, task.raw!.byteOffset, task.raw!.byteLength);
  try {
    return await cached.pipeline.analyze(raw, task.input, AbortSignal.timeout(task.budgetMs));
  } finally {
    if (raw.length >= BIG_MESSAGE) collectGarbage();
  }
}

// A big message leaves tens of MB of garbage (raw bytes, decoded parts, strings) that V8 would keep
// until its heap grows much further, multiplied by the worker count: collect it at once instead, so
// peak memory stays workers x one message's working set. A full GC costs a few ms per big message.
const BIG_MESSAGE = 4 * 1024 * 1024;
let gcFn: (() => void) | null | undefined;
function collectGarbage(): void {
  if (gcFn === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc');
      gcFn = runInNewContext('gc') as () => void;
    } catch {
      gcFn = null;
    }
  }
  gcFn?.();
}
