// Assembles a running Postern from a config: logger, shared services (DNS, counters), policy
// modules, the engine and the milter server; reloads the policy on request without dropping sessions.
import type { Logger } from './log/logger.js';
import type { PosternConfig } from './config/schema.js';
import { MilterServer } from './server/server.js';
import type { ConnectionTimeoutKind } from './server/session.js';
import { PolicyEngine, type EngineObserver } from './policy/engine.js';
import { buildModules, type ModuleSet } from './policy/modules.js';
import { setMessageMemoryBudget } from './policy/message-buffer.js';

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

/** Build the policy (modules + engine) for one config. Throws on bad rule files. */
export async function buildRuntime(config: PosternConfig, logger: Logger, observer?: EngineObserver): Promise<Runtime> {
  setMessageMemoryBudget(config.server.memoryBudgetBytes);
  const modules = await buildModules(config, logger);
  const engine = new PolicyEngine({
    policy: config.policy,
    modules: modules.modules,
    logger,
    spoolThresholdBytes: config.server.spoolThresholdBytes,
    spoolDir: config.server.spoolDir,
    ...(observer ? { observer } : {}),
  });
  return { engine, modules };
}

export class PosternService {
  private server: MilterServer | undefined;
  private runtime: Runtime | undefined;
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

  async start(): Promise<string> {
    const { logger } = this.options;
    this.runtime = await buildRuntime(this.config, logger, this.options.observer);
    const s = this.config.server;
    this.server = new MilterServer(
      this.runtime.engine,
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
        errorAction: this.config.policy.errorAction === 'reject' ? 'reject' : 'tempfail',
        highWaterBytes: s.highWaterBytes,
      },
      logger,
    );
    this.address = await this.server.listen();
    logger.info({ listen: this.address, modules: this.runtime.modules.modules.map((m) => m.id) }, 'postern listening');
    return this.address;
  }

  /** Swap in a new config for new connections; on any error the old one stays in force. */
  async reload(config: PosternConfig): Promise<void> {
    const runtime = await buildRuntime(config, this.options.logger, this.options.observer);
    const old = this.runtime;
    this.runtime = runtime;
    const startOnly = startOnlyChanges(this.config, config);
    if (startOnly.length > 0) {
      this.options.logger.warn(
        { keys: startOnly },
        `config reloaded, but ${startOnly.join(', ')} changed: ${startOnly.length === 1 ? 'it takes' : 'they take'} effect only at the next restart (the listening socket, connection limits and timeouts are set when the server starts)`,
      );
    }
    this.config = config;
    this.server?.setFactory(runtime.engine);
    // Old modules may hold timers or connections; give in-flight sessions time before closing them.
    if (old) setTimeout(() => void old.modules.dispose(), this.config.server.shutdownGraceMs).unref();
  }

  async stop(): Promise<void> {
    await this.server?.stop(this.config.server.shutdownGraceMs);
    await this.runtime?.modules.dispose();
  }
}

/** server.* keys the running server read at start (a reload does not change them). */
const START_ONLY_SERVER_KEYS = ['listen', 'unixMode', 'maxConnections', 'maxFrameBytes', 'timeouts', 'highWaterBytes'] as const;

/** Start-only keys whose value differs between two configs (for the reload warning). */
export function startOnlyChanges(before: PosternConfig, after: PosternConfig): string[] {
  return START_ONLY_SERVER_KEYS.filter((k) => JSON.stringify(before.server[k]) !== JSON.stringify(after.server[k])).map((k) => `server.${k}`);
}
