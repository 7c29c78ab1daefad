// Test-only hooks honoured by the content worker, so tests can reproduce a worker stuck in synchronous
// code (a WebAssembly loop, a catastrophic parse) with real worker threads. Inert unless the
// environment has POSTERN_TEST_HOOKS=1: production never sets it, and then this does nothing at all.
// It must never change a verdict or touch a message when the variable is unset.

/** Header that asks a test-hook-enabled worker to block synchronously. */
export const BLOCK_SYNC_HEADER = 'X-Postern-Test-Hook: block-sync';

/** How long a blocked worker spins at most: a safety net so a broken abort fails a test instead of hanging it. */
const BLOCK_LIMIT_MS = 60_000;

/** Thrown when a blocked worker was not stopped from outside within BLOCK_LIMIT_MS. */
export class TestHookError extends Error {
  readonly code = 'TEST_HOOK_NOT_STOPPED';
  constructor() {
    super(`test hook: synchronous block ran ${BLOCK_LIMIT_MS} ms without the worker being stopped`);
    this.name = 'TestHookError';
  }
}

/**
 * With POSTERN_TEST_HOOKS=1 and the BLOCK_SYNC_HEADER line in the message's header section, spin
 * synchronously (no await, so no AbortSignal can interrupt it) like a runaway parser would.
 */
export function runTestHooks(raw: Uint8Array, env: NodeJS.ProcessEnv = process.env): void {
  if (env.POSTERN_TEST_HOOKS !== '1') return;
  const head = Buffer.from(raw.buffer, raw.byteOffset, Math.min(raw.byteLength, 16 * 1024)).toString('latin1');
  const end = head.search(/\r?\n\r?\n/);
  const headers = end >= 0 ? head.slice(0, end) : head;
  if (!headers.split(/\r?\n/).includes(BLOCK_SYNC_HEADER)) return;
  const until = Date.now() + BLOCK_LIMIT_MS;
  while (Date.now() < until) {
    // busy on purpose: only terminating the thread ends this early
  }
  throw new TestHookError();
}
