// The counter-store contract behind rate limits and concurrency limits.
// Implementations must fail loudly (throw StoreError) rather than return a made-up count.

type Maybe<T> = T | Promise<T>;

export interface CounterStore {
  /**
   * Count one event under `key` in the current fixed window of `windowMs` and return the count in
   * that window including this event. Fixed windows: cheap (one key, one INCR), at worst 2x the limit
   * across a window boundary — acceptable for DoS limits.
   */
  incr(key: string, windowMs: number): Maybe<number>;
  /**
   * Register holder `id` under `key` (a concurrent session) and return how many holders `key` has now,
   * including this one. Holders expire after `ttlMs` in case release is never called (crash).
   */
  acquire(key: string, id: string, ttlMs: number): Maybe<number>;
  /** Remove holder `id` from `key`. Never throws. */
  release(key: string, id: string): Maybe<void>;
  close(): Promise<void>;
}

export class StoreError extends Error {
  readonly code = 'STATE_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
  }
}
