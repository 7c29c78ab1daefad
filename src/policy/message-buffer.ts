// Rebuilds the raw message (headers as the MTA sent them, blank line, body) from milter HEADER and
// BODY frames, keeping exactly one copy: in memory while small, in a temporary file once it grows
// past the spool threshold. It must never lose bytes: header values are kept as their exact bytes.
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { MessageSource } from './types.js';

const CRLF = Buffer.from('\r\n');

/**
 * Bytes all MessageBuffers of this process may hold in memory together. Past it, the buffer that
 * grows spools to disk even below its own threshold, so many concurrent messages cannot add up to
 * sessions x threshold (100 sessions x 8 MiB would be 800 MB).
 */
let memoryBudget = 32 * 1024 * 1024;
let inMemory = 0;

/** Set the process-wide in-memory budget (bytes) of message buffers. */
export function setMessageMemoryBudget(bytes: number): void {
  memoryBudget = Math.max(0, bytes);
}

const COLON = Buffer.from(':');
const COLON_SPACE = Buffer.from(': ');

export class MessageBuffer implements MessageSource {
  private chunks: Buffer[] = [];
  private bytes = 0;
  private fd: number | undefined;
  private dir: string | undefined;
  private file: string | undefined;
  private bodyStarted = false;
  /** Bytes of `chunks` counted in the process-wide total. */
  private held = 0;

  constructor(
    private readonly spoolThreshold: number,
    private readonly spoolDir: string,
    /** True when header values arrive with their leading space (SMFIP_HDR_LEADSPC). */
    private readonly leadingSpaceKept: boolean,
  ) {}

  get size(): number {
    return this.bytes;
  }

  get spoolPath(): string | undefined {
    return this.file;
  }

  /** Append one header; folded lines inside the value come with bare LF from the MTA. */
  addHeader(name: string, rawValue: Buffer): void {
    const value = rawValue.includes(0x0a) ? Buffer.from(rawValue.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1') : rawValue;
    this.append(Buffer.from(name, 'utf8'));
    this.append(this.leadingSpaceKept ? COLON : COLON_SPACE);
    this.append(value);
    this.append(CRLF);
  }

  /** Everything after this is body. */
  endHeaders(): void {
    if (this.bodyStarted) return;
    this.bodyStarted = true;
    this.append(CRLF);
  }

  addBody(chunk: Buffer): void {
    if (!this.bodyStarted) this.endHeaders();
    this.append(chunk);
  }

  private append(buf: Buffer): void {
    if (buf.length === 0) return;
    this.bytes += buf.length;
    if (this.fd !== undefined) {
      writeSync(this.fd, buf);
      return;
    }
    this.chunks.push(buf);
    this.held += buf.length;
    inMemory += buf.length;
    if (this.bytes > this.spoolThreshold || inMemory > memoryBudget) this.spill();
  }

  /** Forget the bytes this buffer held in memory (after spilling or disposing). */
  private release(): void {
    inMemory -= this.held;
    this.held = 0;
  }

  private spill(): void {
    const dir = mkdtempSync(path.join(this.spoolDir || tmpdir(), 'postern-'));
    const file = path.join(dir, 'message.eml');
    try {
      this.fd = openSync(file, 'wx', 0o600);
    } catch (err) {
      // e.g. out of file descriptors: the step fails (error action); the next append tries again
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    this.dir = dir;
    this.file = file;
    for (const c of this.chunks) writeSync(this.fd, c);
    this.chunks = [];
    this.release();
  }

  async read(): Promise<Buffer> {
    if (!this.bodyStarted) this.endHeaders();
    if (this.file !== undefined) return readFileSync(this.file);
    if (this.chunks.length !== 1) this.chunks = [Buffer.concat(this.chunks, this.bytes)];
    return this.chunks[0]!;
  }

  /** Free memory and remove any spool file. Safe to call twice. */
  dispose(): void {
    this.chunks = [];
    this.release();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
    this.file = undefined;
  }
}
