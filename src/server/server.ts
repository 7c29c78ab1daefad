// The listening milter server: accepts MTA connections on TCP or a unix socket, gives each its own
// MilterSession, and stops gracefully (stop accepting, let in-flight messages finish, then close).
import { chmodSync, existsSync, lstatSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import net from 'node:net';
import type { Logger } from '../log/logger.js';
import type { HandlerFactory } from './handler.js';
import { MilterSession, type SessionOptions } from './session.js';
import { parseListenSpec, type ListenSpec } from './socket-spec.js';

export interface ServerOptions extends SessionOptions {
  listen: string;
  /** File mode for a unix socket (default 0o660). */
  unixMode: number;
  /** Connections served at once; more are closed at once (the MTA applies its milter default action). */
  maxConnections: number;
}

export class MilterServer {
  private readonly server: net.Server;
  private readonly sessions = new Set<MilterSession>();
  private readonly spec: ListenSpec;
  private nextId = 0;
  private stopping = false;
  private readonly idPrefix = Date.now().toString(36).slice(-5);

  constructor(
    private factory: HandlerFactory,
    private readonly options: ServerOptions,
    private readonly log: Logger,
  ) {
    this.spec = parseListenSpec(options.listen);
    this.server = net.createServer((socket) => this.accept(socket));
    this.server.on('error', (err) => this.log.error({ err: err.message }, 'listener error'));
  }

  get activeSessions(): number {
    return this.sessions.size;
  }

  /**
   * Replace the handler factory for new connections (reload); running sessions keep theirs (and its
   * error action) until they end.
   */
  setFactory(factory: HandlerFactory): void {
    this.factory = factory;
  }

  /** Start listening; resolves with the bound address text (useful with port 0 in tests). */
  listen(): Promise<string> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once('error', onError);
      const done = () => {
        this.server.off('error', onError);
        const addr = this.server.address();
        if (this.spec.kind === 'unix') {
          chmodSync(this.spec.path, this.options.unixMode);
          resolve(`unix:${this.spec.path}`);
        } else {
          const a = addr as net.AddressInfo;
          resolve(`inet:${a.port}@${a.address}`);
        }
      };
      if (this.spec.kind === 'unix') {
        // Node reports a missing directory as EACCES: name the real cause
        const dir = dirname(this.spec.path);
        if (!existsSync(dir)) {
          this.server.off('error', onError);
          reject(new Error(`cannot listen on unix:${this.spec.path}: directory ${dir} does not exist (create it, owned by the user Postern runs as)`));
          return;
        }
        removeStaleSocket(this.spec.path);
        this.server.listen(this.spec.path, done);
      } else {
        this.server.listen({ port: this.spec.port, host: this.spec.host, backlog: 1024 }, done);
      }
    });
  }

  /** The TCP port bound (0 for unix sockets). */
  get port(): number {
    const a = this.server.address();
    return a && typeof a === 'object' ? a.port : 0;
  }

  private accept(socket: net.Socket): void {
    if (this.stopping) {
      socket.destroy();
      return;
    }
    if (this.sessions.size >= this.options.maxConnections) {
      this.log.warn({ active: this.sessions.size, limit: this.options.maxConnections }, 'too many milter connections; refusing one');
      socket.destroy();
      return;
    }
    const id = `${this.idPrefix}${(this.nextId++).toString(36)}`;
    const factory = this.factory;
    const detach = factory.attach?.();
    const session = new MilterSession(id, socket, factory, this.options, this.log);
    this.sessions.add(session);
    void session.done.then(() => {
      this.sessions.delete(session);
      detach?.();
    });
  }

  /**
   * Graceful stop: no new connections; sessions close after their current message; after
   * `graceMs` anything left is cut. Resolves when every session has ended.
   */
  async stop(graceMs = 30000): Promise<void> {
    this.stopping = true;
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    const poll = setInterval(() => {
      for (const s of this.sessions) s.closeWhenIdle();
    }, 50);
    for (const s of this.sessions) s.closeWhenIdle();
    const all = Promise.all([...this.sessions].map((s) => s.done));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), graceMs)));
    const outcome = await Promise.race([all, timedOut]);
    clearInterval(poll);
    if (timer) clearTimeout(timer);
    if (outcome === 'timeout') {
      this.log.warn({ left: this.sessions.size }, 'grace period over; cutting remaining sessions');
      for (const s of this.sessions) s.destroy('shutdown');
    }
    await closed;
    if (this.spec.kind === 'unix') removeStaleSocket(this.spec.path);
  }
}

function removeStaleSocket(path: string): void {
  if (existsSync(path) && lstatSync(path).isSocket()) unlinkSync(path);
}
