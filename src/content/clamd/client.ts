// A small clamd client: INSTREAM (scan a Buffer sent in length-prefixed chunks), PING and VERSION,
// over a unix socket or TCP, with separate connect and scan timeouts and an optional AbortSignal.
// It only talks to clamd and reports typed errors; it never decides what a verdict means for mail.
import net from 'node:net';
import { type ClamdAddress, formatClamdAddress, parseClamdAddress } from './address.js';
import {
  ClamdAbortedError,
  ClamdConnectError,
  ClamdError,
  ClamdProtocolError,
  ClamdSizeLimitError,
  ClamdTimeoutError,
} from './errors.js';
import { parseInstreamReply, type ScanVerdict } from './reply.js';

export interface ClamdClientOptions {
  /** Where clamd listens: a parsed address or "unix:/path", "/path", "tcp:host:port". */
  address: ClamdAddress | string;
  /** Time allowed to establish the connection (default 2000 ms). */
  connectTimeoutMs?: number;
  /** Time allowed from connected to the complete reply, upload included (default 30000 ms). */
  scanTimeoutMs?: number;
  /** Bytes per INSTREAM chunk (default 64 KiB). */
  chunkSize?: number;
  /**
   * Largest stream to send (default 25 MiB, clamd's default StreamMaxLength). Bigger data is refused
   * here with ClamdSizeLimitError, without a round trip: clamd would refuse it anyway, and when it
   * does so mid-upload the refusal can be lost to EPIPE.
   */
  maxStreamBytes?: number;
  /** Largest reply accepted before giving up (default 64 KiB); guards against a runaway peer. */
  maxReplyBytes?: number;
}

const ZERO = Buffer.alloc(4);
const INSTREAM = Buffer.from('zINSTREAM\0', 'latin1');
const PING = Buffer.from('zPING\0', 'latin1');
const VERSION = Buffer.from('zVERSION\0', 'latin1');

type Writer = (socket: net.Socket, replyStarted: () => boolean) => Promise<void>;

export class ClamdClient {
  readonly address: ClamdAddress;
  readonly connectTimeoutMs: number;
  readonly scanTimeoutMs: number;
  readonly chunkSize: number;
  readonly maxReplyBytes: number;
  readonly maxStreamBytes: number;

  constructor(options: ClamdClientOptions) {
    this.address = typeof options.address === 'string' ? parseClamdAddress(options.address) : options.address;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 2000;
    this.scanTimeoutMs = options.scanTimeoutMs ?? 30000;
    this.chunkSize = Math.max(1, Math.min(options.chunkSize ?? 65536, 0x7fffffff));
    this.maxReplyBytes = options.maxReplyBytes ?? 65536;
    this.maxStreamBytes = options.maxStreamBytes ?? 25 * 1024 * 1024;
  }

  /** Human-readable address for logs. */
  get label(): string {
    return formatClamdAddress(this.address);
  }

  /** Scan bytes with INSTREAM. Resolves with the verdict; rejects with a ClamdError subclass. */
  async scan(data: Buffer, signal?: AbortSignal): Promise<ScanVerdict> {
    if (data.length > this.maxStreamBytes) throw new ClamdSizeLimitError(undefined, data.length, this.maxStreamBytes);
    const chunkSize = this.chunkSize;
    const reply = await this.request(async (socket, replyStarted) => {
      await write(socket, INSTREAM);
      for (let off = 0; off < data.length; off += chunkSize) {
        // clamd answers early only to refuse (size limit): stop sending, read the answer.
        if (replyStarted() || socket.destroyed) return;
        const piece = data.subarray(off, off + chunkSize);
        const header = Buffer.allocUnsafe(4);
        header.writeUInt32BE(piece.length, 0);
        socket.write(header);
        await write(socket, piece);
        // Let the event loop poll the socket between chunks: an early refusal is then read before
        // the next write would hit the closed connection (EPIPE) and lose the reply.
        await new Promise<void>((r) => setImmediate(r));
      }
      if (!replyStarted() && !socket.destroyed) socket.write(ZERO);
    }, signal);
    return parseInstreamReply(reply);
  }

  /** PING: resolves when clamd answers PONG. */
  async ping(signal?: AbortSignal): Promise<void> {
    const reply = (await this.request(async (s) => write(s, PING), signal)).toString('latin1').replace(/\0/g, '').trim();
    if (reply !== 'PONG') throw new ClamdProtocolError(`clamd answered PING with ${JSON.stringify(reply.slice(0, 100))}`, reply);
  }

  /** VERSION: e.g. "ClamAV 1.4.6/27000/Mon Dec 1 09:00:00 2026" (no database: "ClamAV 1.4.6"). */
  async version(signal?: AbortSignal): Promise<string> {
    const reply = (await this.request(async (s) => write(s, VERSION), signal)).toString('latin1').replace(/\0/g, '').trim();
    if (!reply.startsWith('ClamAV')) throw new ClamdProtocolError(`unexpected VERSION reply ${JSON.stringify(reply.slice(0, 100))}`, reply);
    return reply;
  }

  /**
   * One clamd connection: connect, run the writer, read until clamd closes (clamd closes after each
   * command outside IDSESSION), return every byte it sent.
   */
  private request(writer: Writer, signal?: AbortSignal): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      if (signal?.aborted) {
        reject(new ClamdAbortedError(signal.reason));
        return;
      }
      const a = this.address;
      const socket = a.kind === 'unix' ? net.connect({ path: a.path }) : net.connect({ host: a.host, port: a.port });
      const chunks: Buffer[] = [];
      let received = 0;
      let connected = false;
      let settled = false;
      let socketError: Error | undefined;
      let scanTimer: NodeJS.Timeout | undefined;
      const connectTimer = setTimeout(() => fail(new ClamdTimeoutError('connect', this.connectTimeoutMs)), this.connectTimeoutMs);

      const cleanup = (): void => {
        clearTimeout(connectTimer);
        if (scanTimer) clearTimeout(scanTimer);
        signal?.removeEventListener('abort', onAbort);
      };
      const fail = (err: ClamdError): void => {
        if (settled) return;
        settled = true;
        cleanup();
        socket.destroy();
        reject(err);
      };
      const succeed = (): void => {
        if (settled) return;
        settled = true;
        cleanup();
        socket.destroy();
        resolve(Buffer.concat(chunks, received));
      };
      const onAbort = (): void => fail(new ClamdAbortedError(signal?.reason));
      signal?.addEventListener('abort', onAbort, { once: true });

      socket.on('connect', () => {
        connected = true;
        clearTimeout(connectTimer);
        scanTimer = setTimeout(() => fail(new ClamdTimeoutError('scan', this.scanTimeoutMs)), this.scanTimeoutMs);
        writer(socket, () => received > 0).catch((err: unknown) => {
          // A write error also arrives as an 'error' event; the reply (if any) decides on 'close'.
          socketError ??= err instanceof Error ? err : new Error(String(err));
        });
      });
      socket.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > this.maxReplyBytes) {
          fail(new ClamdProtocolError(`clamd reply longer than ${this.maxReplyBytes} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      socket.on('end', succeed);
      socket.on('error', (err: NodeJS.ErrnoException) => {
        if (!connected) {
          fail(new ClamdConnectError(`cannot connect to clamd at ${formatClamdAddress(a)}: ${err.code ?? err.message}`, err.code, { cause: err }));
          return;
        }
        socketError ??= err;
      });
      socket.on('close', () => {
        if (settled) return;
        // Closed after sending something (e.g. size-limit refusal followed by EPIPE on our side):
        // let the reply parser judge what we have.
        if (received > 0) {
          succeed();
          return;
        }
        const why = socketError ? ` (${(socketError as NodeJS.ErrnoException).code ?? socketError.message})` : '';
        const hint = socketError && socket.bytesWritten > 0 ? ` during upload after ${socket.bytesWritten} bytes; StreamMaxLength exceeded?` : '';
        fail(new ClamdProtocolError(`clamd closed the connection without a reply${why}${hint}`, undefined, { cause: socketError }));
      });
    });
  }
}

/** Write and wait for the kernel to take it when the socket buffer is full. */
function write(socket: net.Socket, data: Buffer): Promise<void> {
  if (socket.write(data)) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}
