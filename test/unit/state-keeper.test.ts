// Counter stores across reloads: the keeper hands out the live store for an unchanged state section
// and closes a store only when its last user lets go; a closed memory store fails loudly (StoreError,
// so the fail action applies) instead of counting from zero again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CounterStoreKeeper, MemoryCounterStore, StoreError, stateConfigSchema, type CounterStore } from '../../src/state/index.js';

test('memory store: after close, incr and acquire throw StoreError; release stays silent', async () => {
  const s = new MemoryCounterStore();
  assert.equal(s.incr('k', 60_000), 1);
  await s.close();
  assert.throws(() => s.incr('k', 60_000), (e) => e instanceof StoreError && e.code === 'STATE_UNAVAILABLE');
  assert.throws(() => s.acquire('c', 'id', 1000), StoreError);
  s.release('c', 'id');
});

test('keeper: same state section shares one store; it closes when the last lease is released', async () => {
  const made: MemoryCounterStore[] = [];
  const keeper = new CounterStoreKeeper((): CounterStore => {
    const s = new MemoryCounterStore();
    made.push(s);
    return s;
  });
  const cfg = stateConfigSchema.parse({});
  const a = keeper.take(cfg);
  const b = keeper.take(stateConfigSchema.parse({}));
  assert.equal(a.reused, false);
  assert.equal(b.reused, true);
  assert.equal(a.store, b.store);
  assert.equal(a.store.incr('x', 60_000), 1);
  assert.equal(b.store.incr('x', 60_000), 2, 'counts carry over');

  const other = keeper.take(stateConfigSchema.parse({ redis: { keyPrefix: 'other:' } }));
  assert.notEqual(other.store, a.store, 'a changed section gets its own store');
  assert.equal(keeper.size, 2);

  await a.release();
  await a.release(); // once only
  assert.equal(b.store.incr('x', 60_000), 3, 'still open while b holds it');
  await b.release();
  assert.throws(() => made[0]!.incr('x', 60_000), StoreError, 'closed with its last lease');
  assert.equal(keeper.size, 1);
  const again = keeper.take(cfg);
  assert.equal(again.reused, false, 'a closed store is never handed out again');
  assert.equal(again.store.incr('x', 60_000), 1);
  await again.release();
  await other.release();
  assert.equal(keeper.size, 0);
});
