// One generation of the handler factory (what one loaded config built): counts the sessions that use
// it, and once a reload has replaced it, releases its resources when the last of those sessions ends —
// or at a time limit, so a session that never ends cannot hold old resources forever. It must never
// release resources while a session may still use them, except at that limit (and then it says so).
import type { Wanted } from '../../codec/index.js';
import type { Logger } from '../log/logger.js';
import type { HandlerFactory, MilterHandler, SessionEnvironment } from './handler.js';

export interface GenerationOptions {
  /** Shown in logs ("1", "2"... in load order). */
  label: string;
  /** Answer for a failed or timed-out step in this generation's sessions. */
  errorAction: 'tempfail' | 'reject';
  /** Release what this generation holds (modules, worker threads, connections). Called once. */
  dispose: () => Promise<void>;
  log: Logger;
}

export class FactoryGeneration implements HandlerFactory {
  private users = 0;
  private retiredAt: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private disposing: Promise<void> | undefined;

  constructor(
    private readonly inner: HandlerFactory,
    private readonly options: GenerationOptions,
  ) {}

  get label(): string {
    return this.options.label;
  }

  /** True once dispose has started (resources released or being released). */
  get disposed(): boolean {
    return this.disposing !== undefined;
  }

  wanted(): Wanted {
    return this.inner.wanted();
  }

  create(env: SessionEnvironment): MilterHandler {
    return this.inner.create(env);
  }

  errorAction(): 'tempfail' | 'reject' {
    return this.options.errorAction;
  }

  attach(): () => void {
    this.users++;
    let attached = true;
    return () => {
      if (!attached) return;
      attached = false;
      this.users--;
      if (this.retiredAt !== undefined && this.users === 0) void this.dispose('last session ended');
    };
  }

  /**
   * No new session will use this generation: release it when its last session ends, and after
   * `maxMs` at the latest (sessions still using it then get the error action from their failing steps).
   */
  retire(maxMs: number): void {
    if (this.retiredAt !== undefined) return;
    this.retiredAt = Date.now();
    if (this.users === 0) {
      void this.dispose('no session was using it');
      return;
    }
    this.options.log.info(
      { generation: this.label, sessions: this.users, maxMs },
      'config replaced: the old policy stays loaded until the sessions using it end',
    );
    this.timer = setTimeout(() => void this.dispose('time limit reached'), maxMs);
    this.timer.unref();
  }

  /** Release now (service stop, time limit, last session). Safe to call more than once. */
  dispose(reason: string): Promise<void> {
    if (this.disposing) return this.disposing;
    if (this.timer) clearTimeout(this.timer);
    const fields = {
      generation: this.label,
      reason,
      sessionsLeft: this.users,
      ...(this.retiredAt !== undefined ? { retiredMs: Date.now() - this.retiredAt } : {}),
    };
    if (this.users > 0 && this.retiredAt !== undefined) {
      this.options.log.warn(fields, 'old policy disposed while sessions still use it: their later steps answer with the error action');
    } else if (this.retiredAt !== undefined) {
      this.options.log.info(fields, 'old policy disposed');
    }
    this.disposing = this.options.dispose().catch((err: unknown) => {
      this.options.log.warn({ generation: this.label, err: err instanceof Error ? err.message : String(err) }, 'policy dispose problem');
    });
    return this.disposing;
  }
}
