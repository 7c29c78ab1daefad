// Public surface of the state module: pick the configured CounterStore.
import type { StateConfig } from './config.js';
import { MemoryCounterStore } from './memory.js';
import { RedisCounterStore } from './redis.js';
import type { CounterStore } from './types.js';

export * from './types.js';
export { MemoryCounterStore } from './memory.js';
export { RedisCounterStore, type RedisStoreOptions } from './redis.js';
export { stateConfigSchema, type StateConfig } from './config.js';
export { CounterStoreKeeper, type StoreLease } from './keeper.js';

export function createCounterStore(config: StateConfig): CounterStore {
  if (config.backend === 'redis') return new RedisCounterStore(config.redis);
  return new MemoryCounterStore();
}
