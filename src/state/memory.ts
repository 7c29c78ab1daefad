// In-process CounterStore: fixed-window counters and concurrency sets in Maps, swept lazily.
// Per process only: several Postern instances need the Redis store to share limits. Once closed it
// throws StoreError (fail action), never counts from zero again.
import type { CounterStore } from './types.js';
import { StoreError } from './types.js';

interface Window {
  start: number;
  count: number;
  windowMs: number;
}

export class MemoryCounterStore implements CounterStore {
  private readonly windows = new Map<string, Window>();
  private readonly holders = new Map<string, Map<string, number>>();
  private ops = 0;
  private closed = false;

  constructor(private readonly now: () => number = Date.now) {}

  incr(key: string, windowMs: number): number {
    this.open();
    const t = this.now();
    const start = t - (t % windowMs);
    if (++this.ops >= 4096) this.sweep(t);
    const w = this.windows.get(key);
    if (w === undefined || w.start !== start || w.windowMs !== windowMs) {
      this.windows.set(key, { start, count: 1, windowMs });
      return 1;
    }
    return ++w.count;
  }

  acquire(key: string, id: string, ttlMs: number): number {
    this.open();
    const t = this.now();
    let h = this.holders.get(key);
    if (h === undefined) {
      h = new Map();
      this.holders.set(key, h);
    } else {
      for (const [k, exp] of h) if (exp <= t) h.delete(k);
    }
    h.set(id, t + ttlMs);
    return h.size;
  }

  release(key: string, id: string): void {
    const h = this.holders.get(key);
    if (h === undefined) return;
    h.delete(id);
    if (h.size === 0) this.holders.delete(key);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.windows.clear();
    this.holders.clear();
  }

  /** Number of live counter keys (tests). */
  get size(): number {
    return this.windows.size;
  }

  /** A closed store has lost its counts: a count from it would be made up. */
  private open(): void {
    if (this.closed) throw new StoreError('memory counter store is closed');
  }

  private sweep(t: number): void {
    this.ops = 0;
    for (const [k, w] of this.windows) if (w.start + w.windowMs <= t) this.windows.delete(k);
  }
}
