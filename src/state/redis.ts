// Redis CounterStore (ioredis): counters shared by several Postern instances.
// Every Redis problem surfaces as StoreError so the caller applies its fail action; never a fake count.
import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import type { CounterStore } from './types.js';
import { StoreError } from './types.js';

// INCR + PEXPIRE on first use, atomically.
const INCR_LUA = `local c = redis.call('INCR', KEYS[1])
if c == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return c`;

// Sorted set of holders scored by expiry: drop expired, add/refresh this one, count, keep the key alive.
const ACQUIRE_LUA = `redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return redis.call('ZCARD', KEYS[1])`;

export interface RedisStoreOptions {
  url: string;
  keyPrefix: string;
  commandTimeoutMs: number;
  connectTimeoutMs: number;
}

type PosternRedis = Redis & {
  posternIncr(key: string, windowMs: number): Promise<number>;
  posternAcquire(key: string, now: number, exp: number, id: string, ttl: number): Promise<number>;
};

export class RedisCounterStore implements CounterStore {
  private readonly redis: PosternRedis;
  private readonly waitMs: number;

  constructor(opts: RedisStoreOptions) {
    this.waitMs = opts.commandTimeoutMs;
    // loaded here, not at import: ioredis costs ~15 MB of memory that a memory-backed store never needs
    const { Redis: RedisClient } = createRequire(import.meta.url)('ioredis') as typeof import('ioredis');
    const redis = new RedisClient(opts.url, {
      keyPrefix: opts.keyPrefix,
      commandTimeout: opts.commandTimeoutMs,
      connectTimeout: opts.connectTimeoutMs,
      // Fail fast while disconnected: a queued command would stall the SMTP session instead.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (times) => Math.min(times * 200, 2000),
      lazyConnect: false,
    });
    redis.on('error', () => {
      /* surfaced per command as StoreError; avoid unhandled 'error' events */
    });
    redis.defineCommand('posternIncr', { numberOfKeys: 1, lua: INCR_LUA });
    redis.defineCommand('posternAcquire', { numberOfKeys: 1, lua: ACQUIRE_LUA });
    this.redis = redis as PosternRedis;
  }

  /** Resolves once connected (or rejects with StoreError on the first connection error). */
  async ready(): Promise<void> {
    if (this.redis.status === 'ready') return;
    await new Promise<void>((resolve, reject) => {
      const ok = (): void => { cleanup(); resolve(); };
      const bad = (e: Error): void => { cleanup(); reject(new StoreError(`redis: ${e.message}`, { cause: e })); };
      const cleanup = (): void => { this.redis.off('ready', ok); this.redis.off('error', bad); };
      this.redis.once('ready', ok);
      this.redis.once('error', bad);
    });
  }

  /**
   * Commands are not queued while disconnected (enableOfflineQueue off), so wait — at most
   * commandTimeoutMs — for a (re)connection first: the first sessions after start-up are not
   * tempfailed just because the connection was still being set up, and an outage fails in bounded time.
   */
  private async connected(): Promise<void> {
    const st = this.redis.status;
    if (st === 'ready') return;
    if (st === 'end' || st === 'close') throw new StoreError(`redis connection ${st}`);
    await new Promise<void>((resolve, reject) => {
      const ok = (): void => { cleanup(); resolve(); };
      const t = setTimeout(() => { cleanup(); reject(new StoreError(`redis not connected (${this.redis.status}) within ${this.waitMs} ms`)); }, this.waitMs);
      const cleanup = (): void => { clearTimeout(t); this.redis.off('ready', ok); };
      this.redis.once('ready', ok);
    });
  }

  async incr(key: string, windowMs: number): Promise<number> {
    const t = Date.now();
    const k = `r:${key}:${windowMs}:${Math.floor(t / windowMs)}`;
    try {
      await this.connected();
      return Number(await this.redis.posternIncr(k, windowMs));
    } catch (e) {
      throw new StoreError(`redis incr failed: ${(e as Error).message}`, { cause: e });
    }
  }

  async acquire(key: string, id: string, ttlMs: number): Promise<number> {
    try {
      await this.connected();
      const t = Date.now();
      return Number(await this.redis.posternAcquire(`c:${key}`, t, t + ttlMs, id, ttlMs));
    } catch (e) {
      throw new StoreError(`redis acquire failed: ${(e as Error).message}`, { cause: e });
    }
  }

  async release(key: string, id: string): Promise<void> {
    try {
      await this.redis.zrem(`c:${key}`, id);
    } catch {
      // Holder expires by its TTL; release must never throw.
    }
  }

  async close(): Promise<void> {
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }
}
