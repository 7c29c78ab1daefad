// Checks that go beyond the schema: build the policy once (rule files, regular expressions, socket
// addresses) and throw the first problem, exactly as `serve` would meet it at start-up.
import type { PosternConfig } from '../config/schema.js';
import { silentLogger } from '../log/logger.js';
import { buildRuntime } from '../service.js';
import { parseListenSpec } from '../server/socket-spec.js';

export async function validateRuntime(config: PosternConfig): Promise<void> {
  parseListenSpec(config.server.listen);
  // Content workers build their pipeline (and load rule files) lazily in their threads: build it here
  // in this thread instead, so a bad rules file is reported now and not at the first message.
  const runtime = await buildRuntime({ ...config, content: { ...config.content, workers: 0 } }, silentLogger());
  await runtime.modules.dispose();
}
