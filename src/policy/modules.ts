// Builds the policy modules a config asks for, in the order they run, with the shared services
// they need (resolver, counter store). The only place that knows every module family.
import type { Logger } from '../log/logger.js';
import type { PosternConfig } from '../config/schema.js';
import type { PolicyModule } from './types.js';

export interface ModuleSet {
  modules: PolicyModule[];
  /** Release timers, sockets and connections held by the modules. */
  dispose(): Promise<void>;
}

export async function buildModules(_config: PosternConfig, _logger: Logger): Promise<ModuleSet> {
  const modules: PolicyModule[] = [];
  return { modules, dispose: async () => {} };
}
