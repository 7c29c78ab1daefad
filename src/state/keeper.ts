// Keeps counter stores alive across config reloads: a reload whose "state" section is unchanged gets
// the store already in use (rate and concurrency counts carry on), and a store is closed only when
// the last policy using it lets go. It must never close a store that a loaded policy still uses.
import type { StateConfig } from './config.js';
import type { CounterStore } from './types.js';

interface Entry {
  store: CounterStore;
  users: number;
}

/** One use of a store: the store, and how to give it back (once). */
export interface StoreLease {
  store: CounterStore;
  /** True when the store was already in use (counts carried over). */
  reused: boolean;
  release(): Promise<void>;
}

export class CounterStoreKeeper {
  private readonly live = new Map<string, Entry>();

  constructor(private readonly create: (config: StateConfig) => CounterStore) {}

  /** A store for `config`: the live one when an identical state section is in use, else a new one. */
  take(config: StateConfig): StoreLease {
    const key = JSON.stringify(config);
    let entry = this.live.get(key);
    const reused = entry !== undefined;
    if (entry === undefined) {
      entry = { store: this.create(config), users: 0 };
      this.live.set(key, entry);
    }
    entry.users++;
    const e = entry;
    let held = true;
    return {
      store: e.store,
      reused,
      release: async () => {
        if (!held) return;
        held = false;
        if (--e.users > 0) return;
        if (this.live.get(key) === e) this.live.delete(key);
        await e.store.close();
      },
    };
  }

  /** Stores open now (tests, logs). */
  get size(): number {
    return this.live.size;
  }
}
