// `postern serve`: run the milter service until SIGTERM/SIGINT; SIGHUP reloads the config
// (on error the old config stays in force and the error is logged).
import { writeFileSync, rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, defaultConfig, loadConfigFile } from '../config/load.js';
import type { PosternConfig } from '../config/schema.js';
import { createLogger } from '../log/logger.js';
import { PosternService } from '../service.js';
import { MetricsService } from '../metrics/index.js';

export async function runServe(args: string[]): Promise<number> {
  // A SIGHUP while starting (rule compilation takes seconds) must neither kill the process (Node's
  // default for SIGHUP) nor be lost: remember it and reload once started.
  let earlyHup = false;
  const onEarlyHup = () => void (earlyHup = true);
  process.on('SIGHUP', onEarlyHup);
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string', short: 'c' },
      listen: { type: 'string', short: 'l' },
      'pid-file': { type: 'string' },
      'log-level': { type: 'string' },
    },
  });
  const load = (): PosternConfig => (values.config ? loadConfigFile(values.config).config : defaultConfig());
  let config: PosternConfig;
  try {
    config = load();
  } catch (err) {
    process.stderr.write(`postern: ${err instanceof ConfigError ? err.message : String(err)}\n`);
    return 1;
  }
  const level = (values['log-level'] ?? config.log.level) as PosternConfig['log']['level'];
  const logger = createLogger({ level, ...(config.log.file ? { destination: config.log.file } : {}) });
  const metrics = new MetricsService(config.metrics, logger);
  try {
    await metrics.start();
  } catch (err) {
    process.stderr.write(`postern: metrics.listen ${config.metrics.listen}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  const service = new PosternService({ config, logger, observer: metrics.metrics, ...(values.listen ? { listen: values.listen } : {}) });
  await service.start();
  if (values['pid-file']) writeFileSync(values['pid-file'], `${process.pid}\n`);
  logger.info({ config: values.config ?? '(embedded defaults)', pid: process.pid }, 'postern started');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, active: service.activeSessions }, 'stopping: draining sessions');
    await service.stop();
    await metrics.stop();
    if (values['pid-file']) rmSync(values['pid-file'], { force: true });
    logger.info('stopped');
    logger.flush();
    setTimeout(() => process.exit(0), 50);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  // Reloads run one at a time, in signal order: a SIGHUP during a reload re-reads the file after it.
  let reloading: Promise<void> = Promise.resolve();
  process.on('SIGHUP', () => {
    reloading = reloading.then(async () => {
      try {
        const next = load();
        await service.reload(next);
        logger.info({ config: values.config ?? '(embedded defaults)' }, 'config reloaded');
        await metrics.reloaded(true, next.metrics);
      } catch (err) {
        void metrics.reloaded(false);
        logger.error({ err: err instanceof Error ? err.message : String(err) }, 'config reload failed; old config stays in force');
      }
    });
  });
  process.off('SIGHUP', onEarlyHup);
  if (earlyHup) process.emit('SIGHUP', 'SIGHUP');
  return -1; // keep running
}
