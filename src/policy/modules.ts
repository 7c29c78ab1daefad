// Builds the policy modules a config asks for, in the order they run, with the shared services
// they need (resolver, counter store, content analyzer). The only place that knows every family.
import type { Logger } from '../log/logger.js';
import type { PosternConfig } from '../config/schema.js';
import type { PolicyModule } from './types.js';
import { createResolver } from '../dns/index.js';
import { createCounterStore, type StoreLease } from '../state/index.js';
import { createConnectionPolicy } from './connection/index.js';
import { createOutboundPolicy } from './outbound/index.js';
import { createContentAnalyzer, type ContentAnalyzer } from '../content/analyzer.js';
import { createContentModule } from '../content/module.js';
import { ClamdClient } from '../content/clamd/client.js';

export interface ModuleSet {
  modules: PolicyModule[];
  /** Re-read reloadable data files (per-user permissions...) without a full rebuild. */
  reloadData(): Promise<void>;
  /** Release timers, sockets and connections held by the modules. */
  dispose(): Promise<void>;
}

export interface BuildOptions {
  /**
   * The counter store to use (kept across reloads by the service) and how to give it back; the set
   * calls `release` instead of closing the store. Absent: the set opens its own store and closes it.
   */
  store?: StoreLease;
}

export async function buildModules(config: PosternConfig, logger: Logger, options: BuildOptions = {}): Promise<ModuleSet> {
  const modules: PolicyModule[] = [];
  const closers: Array<() => Promise<void> | void> = [];
  const dispose = async () => {
    for (const close of closers) {
      try {
        await close();
      } catch (err) {
        logger.warn({ err: String(err) }, 'module shutdown problem');
      }
    }
  };

  try {
    const resolver = createResolver(config.dns);
    const lease = options.store;
    const store = lease ? lease.store : createCounterStore(config.state);
    closers.push(lease ? () => lease.release() : () => store.close());
    const connection = createConnectionPolicy(config.connection, { resolver, store, logger });
    modules.push(connection);

    const outbound = createOutboundPolicy(config.outbound, { logger });
    modules.push(outbound);

    if (config.content.enabled) {
      const analyzer = closedFailsLoudly(createContentAnalyzer(config, logger));
      closers.push(() => analyzer.close());
      await analyzer.warmUp();
      if (config.content.clamd.enabled) void checkClamd(config, logger);
      modules.push(createContentModule(analyzer, Math.max(1000, config.server.timeouts.eomMs - 5000), logger));
    }

    return { modules, reloadData: () => outbound.reload(), dispose };
  } catch (err) {
    // A set that failed to build releases what it had opened (worker threads, the store or its lease).
    await dispose();
    throw err;
  }
}

/** Thrown by an analyzer used after its policy was disposed (the error action answers the message). */
export class AnalyzerClosedError extends Error {
  readonly code = 'ANALYZER_CLOSED';
  constructor() {
    super('content analyzer already closed (its policy was disposed after a reload)');
    this.name = 'AnalyzerClosedError';
  }
}

/**
 * An analyzer that refuses work once closed. A destroyed worker pool would otherwise quietly start new
 * threads for a late caller (leaking them); a disposed policy must fail, never half-work.
 */
function closedFailsLoudly(inner: ContentAnalyzer): ContentAnalyzer {
  let closed = false;
  return {
    analyze: (message, input, budgetMs) => (closed ? Promise.reject(new AnalyzerClosedError()) : inner.analyze(message, input, budgetMs)),
    warmUp: () => inner.warmUp(),
    stats: () => inner.stats(),
    close: () => {
      closed = true;
      return inner.close();
    },
  };
}

/** Say at start-up, loudly, when clamd cannot be reached: every message will be tempfailed until it can. */
async function checkClamd(config: PosternConfig, logger: Logger): Promise<void> {
  const c = config.content.clamd;
  const client = new ClamdClient({ address: c.address, connectTimeoutMs: c.connectTimeoutMs, scanTimeoutMs: c.scanTimeoutMs, chunkSize: c.chunkSize });
  try {
    await client.ping();
    logger.info({ clamd: c.address }, 'clamd answers');
  } catch (err) {
    logger.error(
      { clamd: c.address, err: err instanceof Error ? err.message : String(err) },
      'clamd is not reachable: mail will be TEMPFAILED until it is (start clamav-daemon, set content.clamd.address, or content.clamd.enabled: false)',
    );
  }
}
