// Worker-thread entry for content analysis: builds the pipeline once per config and analyses the
// messages the main thread hands over, so CPU-heavy parsing never stalls the milter event loop.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createLogger, type Logger } from '../log/logger.js';
import type { PosternConfig } from '../config/schema.js';
import { setConfigDir } from '../config/paths.js';
import { createContentPipeline, type ContentInput, type ContentPipeline, type ContentReport } from './pipeline.js';
import { runTestHooks } from './test-hooks.js';

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
    ? readSpool(task.spoolPath)
    : Buffer.from(task.raw!.buffer, task.raw!.byteOffset, task.raw!.byteLength);
  try {
    runTestHooks(raw); // no-op unless POSTERN_TEST_HOOKS=1 (tests only)
    return await cached.pipeline.analyze(raw, task.input, AbortSignal.timeout(task.budgetMs));
  } finally {
    if (raw.length >= BIG_MESSAGE) collectGarbage();
  }
}

// Spooled (big) messages are read into one buffer per worker, reused from message to message: a
// fresh 20 MB allocation per message fragments the thread's malloc arena and RSS keeps growing. Safe
// because a worker analyses one message at a time and nothing of the report refers to the raw bytes
// (parts are decoded copies). Very big messages get their own buffer, dropped afterwards.
const REUSE_MAX = 64 * 1024 * 1024;
let spoolBuffer: Buffer | undefined;
function readSpool(file: string): Buffer {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    let buf: Buffer;
    if (size > REUSE_MAX) buf = Buffer.allocUnsafeSlow(size);
    else {
      if (!spoolBuffer || spoolBuffer.length < size) spoolBuffer = Buffer.allocUnsafeSlow(Math.max(size, 1 << 20));
      buf = spoolBuffer;
    }
    let off = 0;
    while (off < size) {
      const n = readSync(fd, buf, off, size - off, off);
      if (n <= 0) break;
      off += n;
    }
    return buf.subarray(0, off);
  } finally {
    closeSync(fd);
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
