// Assembles a running Postern from a config: logger, shared services (DNS, counters), policy
// modules, the engine and the milter server; reloads the policy on request without dropping sessions.
// On reload, sessions keep the policy (modules, error action) they started with until they end; the
// old policy is released after its last session (bounded by the idle timeout), and the rate-counter
// store carries over when the "state" section did not change.
import type { Logger } from './log/logger.js';
import type { PosternConfig } from './config/schema.js';
import { MilterServer } from './server/server.js';
import type { ConnectionTimeoutKind } from './server/session.js';
import { PolicyEngine, type EngineObserver } from './policy/engine.js';
import { buildModules, type BuildOptions, type ModuleSet } from './policy/modules.js';
import { setMessageMemoryBudget } from './policy/message-buffer.js';
import { FactoryGeneration } from './server/generation.js';
import { CounterStoreKeeper, createCounterStore } from './state/index.js';
import { sessionErrorAction } from './policy/config.js';

export interface ServiceOptions {
  config: PosternConfig;
  logger: Logger;
  /** Overrides config.server.listen (CLI --listen). */
  listen?: string;
  observer?: EngineObserver & ServerObserver;
}

/** Server events worth counting (metrics). */
export interface ServerObserver {
  connectionTimedOut?(kind: ConnectionTimeoutKind): void;
}

export interface Runtime {
  engine: PolicyEngine;
  modules: ModuleSet;
}

/**
 * Build the policy (modules + engine) for one config. Throws on bad rule files, having released what
 * it opened; process-wide settings (message memory budget) change only once the build succeeded.
 */
export async function buildRuntime(config: PosternConfig, logger: Logger, observer?: EngineObserver, options: BuildOptions = {}): Promise<Runtime> {
  const modules = await buildModules(config, logger, options);
  let engine: PolicyEngine;
  try {
    engine = new PolicyEngine({
      policy: config.policy,
      modules: modules.modules,
      logger,
      spoolThresholdBytes: config.server.spoolThresholdBytes,
      spoolDir: config.server.spoolDir,
      ...(observer ? { observer } : {}),
    });
  } catch (err) {
    await modules.dispose();
    throw err;
  }
  setMessageMemoryBudget(config.server.memoryBudgetBytes);
  return { engine, modules };
}

/** The session-level answer for a failed or timed-out step ("quarantine" cannot be said there: tempfail). */

export class PosternService {
  private server: MilterServer | undefined;
  private runtime: Runtime | undefined;
  /** The policy new sessions get; replaced ones wait in `retired` for their last session. */
  private generation: FactoryGeneration | undefined;
  private readonly retired = new Set<FactoryGeneration>();
  private generations = 0;
  private readonly stores = new CounterStoreKeeper(createCounterStore);
  /** Longest an old policy stays loaded for sessions still using it (set at start). */
  private retireAfterMs = 0;
  private stopping = false;
  private config: PosternConfig;
  address = '';

  constructor(private readonly options: ServiceOptions) {
    this.config = options.config;
  }

  get currentConfig(): PosternConfig {
    return this.config;
  }

  get activeSessions(): number {
    return this.server?.activeSessions ?? 0;
  }

  /** Replaced policies still loaded because sessions use them (tests, logs). */
  get oldPoliciesLoaded(): number {
    for (const g of this.retired) if (g.disposed) this.retired.delete(g);
    return this.retired.size;
  }

  /** Counter stores open now: 1 unless a reload changed the state section and old sessions remain. */
  get counterStores(): number {
    return this.stores.size;
  }

  /** Build one policy generation; on error everything it opened is released. */
  private async build(config: PosternConfig): Promise<{ runtime: Runtime; generation: FactoryGeneration; storeReused: boolean }> {
    const { logger } = this.options;
    const lease = this.stores.take(config.state);
    let runtime: Runtime;
    try {
      runtime = await buildRuntime(config, logger, this.options.observer, { store: lease });
    } catch (err) {
      await lease.release();
      throw err;
    }
    const generation = new FactoryGeneration(runtime.engine, {
      label: String(++this.generations),
      errorAction: sessionErrorAction(config.policy),
      dispose: () => runtime.modules.dispose(),
      log: logger,
    });
    return { runtime, generation, storeReused: lease.reused };
  }

  async start(): Promise<string> {
    const { logger } = this.options;
    const built = await this.build(this.config);
    this.runtime = built.runtime;
    this.generation = built.generation;
    const s = this.config.server;
    // idleMs bounds how long a stuck connection lives; an old policy is not kept longer than that.
    this.retireAfterMs = Math.max(s.timeouts.idleMs, s.shutdownGraceMs);
    this.server = new MilterServer(
      built.generation,
      {
        listen: this.options.listen ?? s.listen,
        unixMode: parseInt(s.unixMode, 8),
        maxConnections: s.maxConnections,
        maxFrameLength: s.maxFrameBytes,
        timeouts: {
          connect: s.timeouts.connectMs, command: s.timeouts.commandMs, content: s.timeouts.contentMs, eom: s.timeouts.eomMs, idle: s.timeouts.idleMs,
          firstFrame: s.timeouts.firstFrameMs, frame: s.timeouts.frameMs,
        },
        onTimeout: (kind) => this.options.observer?.connectionTimedOut?.(kind),
        // fallback only: each session answers with the error action of the policy it started under
        errorAction: sessionErrorAction(this.config.policy),
        highWaterBytes: s.highWaterBytes,
      },
      logger,
    );
    this.address = await this.server.listen();
    logger.info({ listen: this.address, modules: this.runtime.modules.modules.map((m) => m.id) }, 'postern listening');
    return this.address;
  }

  /**
   * Swap in a new config for new connections; on any error the old one stays in force. Sessions
   * already running keep the policy they started with until they end (see FactoryGeneration).
   */
  async reload(config: PosternConfig): Promise<void> {
    if (this.stopping) throw new Error('service is stopping: reload ignored');
    const built = await this.build(config);
    if (this.stopping) {
      await built.generation.dispose('service stopping');
      throw new Error('service is stopping: reload ignored');
    }
    const old = this.generation;
    this.runtime = built.runtime;
    this.generation = built.generation;
    if (old && !built.storeReused) {
      this.options.logger.warn({ backend: config.state.backend }, 'config reloaded with a changed state section: rate and concurrency counts start again in a new counter store');
    }
    const startOnly = startOnlyChanges(this.config, config);
    if (startOnly.length > 0) {
      this.options.logger.warn(
        { keys: startOnly },
        `config reloaded, but ${startOnly.join(', ')} changed: ${startOnly.length === 1 ? 'it takes' : 'they take'} effect only at the next restart (the listening socket, connection limits and timeouts are set when the server starts)`,
      );
    }
    this.config = config;
    this.server?.setFactory(built.generation);
    if (old) {
      for (const g of this.retired) if (g.disposed) this.retired.delete(g);
      this.retired.add(old);
      // Old modules may hold worker threads or connections: released when their last session ends.
      old.retire(this.retireAfterMs);
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.server?.stop(this.config.server.shutdownGraceMs);
    const all = [...this.retired, ...(this.generation ? [this.generation] : [])];
    this.retired.clear();
    await Promise.all(all.map((g) => g.dispose('service stopped')));
  }
}

/** server.* keys the running server read at start (a reload does not change them). */
const START_ONLY_SERVER_KEYS = ['listen', 'unixMode', 'maxConnections', 'maxFrameBytes', 'timeouts', 'highWaterBytes'] as const;

/** Start-only keys whose value differs between two configs (for the reload warning). */
export function startOnlyChanges(before: PosternConfig, after: PosternConfig): string[] {
  return START_ONLY_SERVER_KEYS.filter((k) => JSON.stringify(before.server[k]) !== JSON.stringify(after.server[k])).map((k) => `server.${k}`);
}
