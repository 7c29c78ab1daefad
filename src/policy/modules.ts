// Builds the policy modules a config asks for, in the order they run, with the shared services
// they need (resolver, counter store, content analyzer). The only place that knows every family.
import type { Logger } from '../log/logger.js';
import type { PosternConfig } from '../config/schema.js';
import type { PolicyModule } from './types.js';
import { createResolver } from '../dns/index.js';
import { createCounterStore } from '../state/index.js';
import { createConnectionPolicy } from './connection/index.js';
import { createOutboundPolicy } from './outbound/index.js';
import { createContentAnalyzer } from '../content/analyzer.js';
import { createContentModule } from '../content/module.js';
import { ClamdClient } from '../content/clamd/client.js';

export interface ModuleSet {
  modules: PolicyModule[];
  /** Re-read reloadable data files (per-user permissions...) without a full rebuild. */
  reloadData(): Promise<void>;
  /** Release timers, sockets and connections held by the modules. */
  dispose(): Promise<void>;
}

export async function buildModules(config: PosternConfig, logger: Logger): Promise<ModuleSet> {
  const modules: PolicyModule[] = [];
  const closers: Array<() => Promise<void> | void> = [];

  const resolver = createResolver(config.dns);
  const store = createCounterStore(config.state);
  closers.push(() => store.close());
  const connection = createConnectionPolicy(config.connection, { resolver, store, logger });
  modules.push(connection);

  const outbound = createOutboundPolicy(config.outbound, { logger });
  modules.push(outbound);

  if (config.content.enabled) {
    const analyzer = createContentAnalyzer(config, logger);
    closers.push(() => analyzer.close());
    try {
      await analyzer.warmUp();
    } catch (err) {
      await analyzer.close();
      throw err;
    }
    if (config.content.clamd.enabled) void checkClamd(config, logger);
    modules.push(createContentModule(analyzer, Math.max(1000, config.server.timeouts.eomMs - 5000), logger));
  }

  return {
    modules,
    reloadData: () => outbound.reload(),
    async dispose() {
      for (const close of closers) {
        try {
          await close();
        } catch (err) {
          logger.warn({ err: String(err) }, 'module shutdown problem');
        }
      }
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
