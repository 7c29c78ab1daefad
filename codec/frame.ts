// Milter framing: 4-byte big-endian length (command byte included), command byte, payload.
// FrameDecoder accepts input split at any byte and many frames per chunk, and refuses a frame
// above its size limit before buffering it, so a peer can never make it hold unbounded memory.
import { MilterProtocolError } from './errors.js';

export interface Frame {
  /** Command or reply code byte. */
  code: number;
  /** Payload without the code byte. May be a view into the caller's chunk: copy it to keep it. */
  payload: Buffer;
}

/** Default maximum frame length: 1 MiB + 1 covers MDS_1M bodies and large macro/header packets. */
export const DEFAULT_MAX_FRAME = 1024 * 1024 + 1;

const EMPTY = Buffer.alloc(0);

export class FrameDecoder {
  private readonly maxFrame: number;
  private parts: Buffer[] = [];
  private buffered = 0;
  private failed: MilterProtocolError | undefined;

  constructor(options: { maxFrameLength?: number } = {}) {
    this.maxFrame = options.maxFrameLength ?? DEFAULT_MAX_FRAME;
  }

  /** Bytes received but not yet part of a complete frame. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /**
   * Feed bytes; returns every frame completed by them, in order.
   * Throws MilterProtocolError on a bad length; the decoder then stays failed (the stream is lost).
   */
  push(chunk: Buffer): Frame[] {
    if (this.failed) throw this.failed;
    const frames: Frame[] = [];
    let data = chunk;
    if (this.buffered > 0) {
      this.parts.push(chunk);
      this.buffered += chunk.length;
      // Only join once we know a whole frame (or at least its header) is available.
      if (this.buffered < 4) return frames;
      const need = this.peekLength();
      if (need === undefined || this.buffered < 4 + need) return frames;
      data = Buffer.concat(this.parts, this.buffered);
      this.parts = [];
      this.buffered = 0;
    }
    let offset = 0;
    while (data.length - offset >= 4) {
      const len = data.readUInt32BE(offset);
      this.check(len);
      if (data.length - offset - 4 < len) break;
      const code = data[offset + 4]!;
      const payload = len > 1 ? data.subarray(offset + 5, offset + 4 + len) : EMPTY;
      frames.push({ code, payload });
      offset += 4 + len;
    }
    if (offset < data.length) {
      const rest = data.subarray(offset);
      this.parts = [rest];
      this.buffered = rest.length;
      if (this.buffered >= 4) this.check(rest.readUInt32BE(0));
    }
    return frames;
  }

  private peekLength(): number | undefined {
    const head = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, Math.min(this.buffered, 8));
    if (head.length < 4) return undefined;
    const len = head.readUInt32BE(0);
    this.check(len);
    return len;
  }

  private check(len: number): void {
    if (len === 0) this.fail(new MilterProtocolError('FRAME_EMPTY', 'frame length 0 (no command byte)'));
    if (len > this.maxFrame) {
      this.fail(new MilterProtocolError('FRAME_TOO_LARGE', `frame length ${len} exceeds limit ${this.maxFrame}`));
    }
  }

  private fail(err: MilterProtocolError): never {
    this.failed = err;
    this.parts = [];
    this.buffered = 0;
    throw err;
  }
}

/** One frame as bytes: header and payload in a single buffer (one write per frame). */
export function encodeFrame(code: number, payload: Buffer | readonly Buffer[] = EMPTY): Buffer {
  const pieces = Buffer.isBuffer(payload) ? [payload] : payload;
  let size = 0;
  for (const p of pieces) size += p.length;
  const out = Buffer.allocUnsafe(5 + size);
  out.writeUInt32BE(size + 1, 0);
  out[4] = code;
  let at = 5;
  for (const p of pieces) {
    p.copy(out, at);
    at += p.length;
  }
  return out;
}
