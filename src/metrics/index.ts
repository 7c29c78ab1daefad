// Metrics for `postern serve`: the observer to hand to the engine, the HTTP endpoint when
// metrics.enabled, and the hooks the service calls on reload. One object per process.
import type { Logger } from '../log/logger.js';
import { PosternMetrics, type MetricsConfig } from './metrics.js';
import { startMetricsServer, type MetricsServer } from './server.js';

export { PosternMetrics, failureKind, isTimeout, STAGE_BUCKETS } from './metrics.js';
export { RejectionWatch, networkOf, type AbnormalConfig, type AbnormalWarning } from './abnormal.js';
export { startMetricsServer, parseHostPort, type MetricsServer } from './server.js';

export class MetricsService {
  readonly metrics: PosternMetrics;
  private server: MetricsServer | undefined;
  private listening: string | undefined;

  constructor(
    private config: MetricsConfig,
    private readonly logger: Logger,
  ) {
    this.metrics = new PosternMetrics(config, logger);
  }

  /** The endpoint address when serving ("127.0.0.1:9127"), else undefined. */
  get address(): string | undefined {
    return this.server?.address;
  }

  async start(): Promise<void> {
    if (!this.config.enabled) return;
    this.server = await startMetricsServer(this.metrics.registry, this.config.listen);
    this.listening = this.config.listen;
    this.logger.info({ metrics: `http://${this.server.address}/metrics` }, 'metrics endpoint listening');
  }

  /** After a config reload: count it, apply new settings, move the endpoint if its address changed. */
  async reloaded(ok: boolean, config?: MetricsConfig): Promise<void> {
    this.metrics.reloaded(ok);
    if (!ok || !config) return;
    this.metrics.reconfigure(config);
    const want = config.enabled ? config.listen : undefined;
    this.config = config;
    if (want === this.listening) return;
    try {
      await this.server?.close();
      this.server = undefined;
      this.listening = undefined;
      await this.start();
    } catch (err) {
      this.logger.error({ err: err instanceof Error ? err.message : String(err), listen: config.listen }, 'metrics endpoint could not move to the new address');
    }
  }

  async stop(): Promise<void> {
    await this.server?.close();
    this.server = undefined;
  }
}
