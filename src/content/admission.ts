// Admission of messages to content analysis by size: the messages being analysed (or waiting in the
// worker pool) together stay within a byte budget, so 100 big messages arriving at once are analysed
// a few at a time instead of all holding their raw bytes, decoded parts and text in the workers at
// once. Messages wait their turn in arrival order (first in, first out: a big message is never
// starved by small ones); one message is always admitted when nothing else runs, whatever its size.
// It never refuses: a message leaves the queue only when admitted or when its caller gives up
// (deadline), and then the caller's fail action applies.

/** Thrown (with code) when a message's deadline passes while it waits for admission. */
export class AdmissionTimeoutError extends Error {
  readonly code = 'ADMISSION_TIMEOUT';
  constructor(bytes: number, waitedMs: number) {
    super(`content analysis queue: a ${bytes}-byte message waited ${Math.round(waitedMs)} ms without being admitted`);
    this.name = 'AdmissionTimeoutError';
  }
}

interface Waiter {
  bytes: number;
  admit: () => void;
}

export class AdmissionGate {
  private inFlight = 0;
  private running = 0;
  private readonly queue: Waiter[] = [];

  /** @param budgetBytes bytes of messages admitted at the same time (0 = no limit). */
  constructor(private readonly budgetBytes: number) {}

  /** Bytes of the messages admitted and not yet released. */
  get bytesInFlight(): number {
    return this.inFlight;
  }

  /** Messages admitted and not yet released. */
  get admitted(): number {
    return this.running;
  }

  /** Messages waiting for admission. */
  get waiting(): number {
    return this.queue.length;
  }

  /**
   * Resolves with a release function once `bytes` may be analysed; rejects with
   * AdmissionTimeoutError when `timeoutMs` passes first. Call the release function exactly once
   * (extra calls are ignored) when the analysis has finished.
   */
  acquire(bytes: number, timeoutMs: number): Promise<() => void> {
    const size = Math.max(0, bytes);
    if (this.queue.length === 0 && this.fits(size)) return Promise.resolve(this.take(size));
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        bytes: size,
        admit: () => {
          clearTimeout(timer);
          resolve(this.take(size));
        },
      };
      const timer = setTimeout(() => {
        const i = this.queue.indexOf(waiter);
        if (i >= 0) this.queue.splice(i, 1);
        reject(new AdmissionTimeoutError(size, performance.now() - started));
        // the head may have changed: whoever is first now may fit
        this.drain();
      }, Math.max(0, timeoutMs));
      this.queue.push(waiter);
    });
  }

  private fits(bytes: number): boolean {
    return this.budgetBytes <= 0 || this.running === 0 || this.inFlight + bytes <= this.budgetBytes;
  }

  private take(bytes: number): () => void {
    this.inFlight += bytes;
    this.running++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight -= bytes;
      this.running--;
      this.drain();
    };
  }

  private drain(): void {
    while (this.queue.length > 0 && this.fits(this.queue[0]!.bytes)) this.queue.shift()!.admit();
  }
}
