// Milter-protocol load generator: plays N concurrent MTA sessions (default 64) against one milter and
// reports messages per second and the end-of-message round-trip latency (p50/p99). Built on codec/
// directly for speed: each message's frames are encoded once per agreed protocol and every run of
// unanswered frames goes out in one write with the next answered one, as Postfix pipelines them.
// Postfix flow: OPTNEG, (D) CONNECT, HELO, then per message MAIL, RCPT, DATA, headers, EOH, body,
// EOM, ABORT ABORT; QUIT. A new milter connection per SMTP session (Postfix's behaviour) is the
// default; --per-conn N sends N messages over one connection. Never connects off loopback by itself:
// the target is whatever --target says.
//
// usage: node dist/bench/load.js --target inet:PORT@127.0.0.1 [--sessions 64] [--duration 10 | --count N]
//        [--per-conn 1] [--warmup 1] [--postfix-like] [--corpus DIR | --generated] [--json] [--label NAME]
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  ALL_ACTIONS, ALL_PROTOCOL, CHUNK_SIZE, Cmd, FINAL_REPLIES, FrameDecoder, Proto, decodeReply, encodeCommand,
  expectsReply, stepSent, validateFilterNegotiation, type Frame, type MtaCommand,
} from '../codec/index.js';
import { parseMilterSpec, splitMessage } from '../test/harness/mta.js';

export interface LoadOptions {
  target: string;
  sessions: number;
  durationMs: number;
  count: number;
  perConn: number;
  warmupMs: number;
  postfixLike: boolean;
  messages: Buffer[];
  timeoutMs: number;
  /** PID of the milter under test (same machine): its CPU time is sampled over the measured window. */
  serverPid?: number;
}

export interface LoadResult {
  label: string;
  messages: number;
  connections: number;
  errors: number;
  refused: number;
  seconds: number;
  msgsPerSec: number;
  eomP50: number;
  eomP99: number;
  msgP50: number;
  msgP99: number;
  /** Milter CPU (user+system) per measured message, in microseconds (with serverPid). */
  serverCpuUsPerMsg?: number;
  /** Milter CPU seconds per wall second over the measured window (1 = one core busy). */
  serverCpuShare?: number;
  firstError?: string;
}

/** CPU seconds (user + system, all threads) a process has used, from /proc; undefined elsewhere. */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After "pid (comm) ": state is field 3, utime field 14, stime field 15 (1-based in proc(5)).
    return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

/** The default synthetic message: 12 headers, ~4 KB body. */
export function generatedMessage(i: number): Buffer {
  const headers = [
    `Received: from client${i}.example.org (client${i}.example.org [192.0.2.${(i % 250) + 1}]) by mx.example.test with ESMTP id Q${i}`,
    `Return-Path: <sender${i}@example.org>`,
    `From: Sender ${i} <sender${i}@example.org>`,
    `To: Rcpt <rcpt@example.test>`,
    `Subject: load test message ${i}`,
    `Date: Thu, 03 Dec 2026 12:00:00 +0000`,
    `Message-ID: <load-${i}@example.org>`,
    `MIME-Version: 1.0`,
    `Content-Type: text/plain; charset=utf-8`,
    `Content-Transfer-Encoding: 7bit`,
    `X-Mailer: postern-bench`,
    `X-Folded: first part\r\n\tsecond part`,
  ];
  const line = 'The quick brown fox jumps over the lazy dog 0123456789 abcdefghijklmnopq.\r\n';
  const body = line.repeat(Math.ceil(4096 / line.length)).slice(0, 4096);
  return Buffer.from(`${headers.join('\r\n')}\r\n\r\n${body}`);
}

/** Real messages from the shared corpus (kind "message", at most 64 KB), or undefined when absent. */
export function corpusMessages(dir: string, max = 400): Buffer[] | undefined {
  const manifest = path.join(dir, 'MANIFEST.tsv');
  if (!existsSync(manifest)) return undefined;
  const out: Buffer[] = [];
  for (const line of readFileSync(manifest, 'utf8').split('\n').slice(1)) {
    const [file, kind, , bytes] = line.split('\t');
    if (kind !== 'message' || !file || Number(bytes) > 65536) continue;
    try {
      out.push(readFileSync(path.join(dir, file)));
    } catch {
      continue;
    }
    if (out.length >= max) break;
  }
  return out.length > 0 ? out : undefined;
}

interface Step {
  /** Bytes to write (unanswered frames queued before it included). */
  bytes: Buffer;
  /** Whether the last frame is answered, and its code. */
  answered: boolean;
  code: number;
}

/** A message's frames grouped into writes for one agreed protocol. */
function plan(raw: Buffer, protocol: number, postfixLike: boolean, prelude: MtaCommand[], i: number): Step[] {
  const parsed = splitMessage(raw, (protocol & Proto.HDR_LEADSPC) !== 0);
  const cmds: MtaCommand[] = [...prelude];
  cmds.push({ type: 'mail', args: [`<sender${i}@example.org>`, 'BODY=8BITMIME', `SIZE=${raw.length}`] });
  cmds.push({ type: 'rcpt', args: ['<rcpt@example.test>'] });
  cmds.push({ type: 'data' });
  for (const [name, value] of parsed.headers) cmds.push({ type: 'header', name, value });
  cmds.push({ type: 'eoh' });
  for (let at = 0; at < parsed.body.length; at += CHUNK_SIZE) {
    cmds.push({ type: 'body', chunk: parsed.body.subarray(at, Math.min(parsed.body.length, at + CHUNK_SIZE)) });
  }
  cmds.push({ type: 'eob' });
  const steps: Step[] = [];
  let pending: Buffer[] = [];
  for (const cmd of cmds) {
    const code = encodeCommand(cmd)[4]!;
    if (!stepSent(code, protocol)) continue;
    if (postfixLike) pending.push(encodeCommand({ type: 'macro', stage: code, macros: [] }));
    pending.push(encodeCommand(cmd));
    if (expectsReply(code, protocol)) {
      steps.push({ bytes: Buffer.concat(pending), answered: true, code });
      pending = [];
    }
  }
  if (pending.length > 0) steps.push({ bytes: Buffer.concat(pending), answered: false, code: 0 });
  return steps;
}

const ABORT2 = Buffer.concat([encodeCommand({ type: 'abort' }), encodeCommand({ type: 'abort' })]);
const QUIT = encodeCommand({ type: 'quit' });

class Conn {
  private readonly decoder = new FrameDecoder({ maxFrameLength: 1 << 30 });
  private readonly inbox: Frame[] = [];
  private waiter: ((f: Frame | Error) => void) | undefined;
  private dead: Error | undefined;
  readonly closed: Promise<void>;

  constructor(readonly socket: net.Socket) {
    socket.setNoDelay(true);
    this.closed = new Promise((r) => socket.once('close', () => r()));
    socket.on('data', (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = this.decoder.push(chunk);
      } catch (err) {
        this.kill(err as Error);
        return;
      }
      for (const f of frames) {
        const w = this.waiter;
        if (w) {
          this.waiter = undefined;
          w(f);
        } else this.inbox.push(f);
      }
    });
    socket.on('error', (err) => this.kill(err));
    socket.on('close', () => this.kill(new Error('milter closed the connection')));
  }

  private kill(err: Error): void {
    this.dead ??= err;
    const w = this.waiter;
    this.waiter = undefined;
    w?.(this.dead);
  }

  next(timeoutMs: number): Promise<Frame> {
    const f = this.inbox.shift();
    if (f) return Promise.resolve(f);
    if (this.dead) return Promise.reject(this.dead);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = (x) => {
        clearTimeout(timer);
        if (x instanceof Error) reject(x);
        else resolve(x);
      };
    });
  }

  write(b: Buffer): void {
    this.socket.write(b);
  }
}

function connect(target: net.NetConnectOpts): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(target);
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Run the load; resolves with the figures measured after the warm-up. */
export async function runLoad(opts: LoadOptions, label = opts.target): Promise<LoadResult> {
  const target = parseMilterSpec(opts.target);
  const offer = { version: 6, actions: ALL_ACTIONS, protocol: ALL_PROTOCOL };
  const optneg = encodeCommand({ type: 'optneg', ...offer });
  const prelude: MtaCommand[] = [
    { type: 'connect', hostname: 'client.example.org', family: 'inet4', port: 40000, address: '192.0.2.1' },
    { type: 'helo', name: 'client.example.org' },
  ];
  const plans = new Map<string, Step[]>();
  const getPlan = (i: number, protocol: number, first: boolean): Step[] => {
    const key = `${i % opts.messages.length}:${protocol}:${first ? 1 : 0}`;
    let p = plans.get(key);
    if (!p) {
      p = plan(opts.messages[i % opts.messages.length]!, protocol, opts.postfixLike, first ? prelude : [], i);
      plans.set(key, p);
    }
    return p;
  };

  const start = performance.now();
  const measureFrom = start + opts.warmupMs;
  const deadline = opts.count > 0 ? Infinity : measureFrom + opts.durationMs;
  let issued = 0;
  let done = 0;
  let connections = 0;
  let errors = 0;
  let refused = 0;
  let firstError: string | undefined;
  const eomLat: number[] = [];
  const msgLat: number[] = [];
  let measuredStart = 0;
  let measuredEnd = 0;
  const countBudget = opts.count > 0 ? opts.count : Infinity;
  let cpuStart: number | undefined;
  let cpuStartAt = 0;
  const cpuTimer = opts.serverPid
    ? setTimeout(() => {
        cpuStart = processCpuSeconds(opts.serverPid!);
        cpuStartAt = performance.now();
      }, Math.max(0, opts.warmupMs))
    : undefined;
  if (opts.serverPid && opts.warmupMs <= 0) {
    cpuStart = processCpuSeconds(opts.serverPid);
    cpuStartAt = performance.now();
  }

  const worker = async (w: number): Promise<void> => {
    while (performance.now() < deadline && issued < countBudget) {
      let conn: Conn | undefined;
      try {
        conn = new Conn(await connect(target));
        connections++;
        conn.write(optneg);
        const o = decodeReply(await conn.next(opts.timeoutMs));
        if (o.type !== 'optneg') throw new Error(`OPTNEG answered with ${o.type}`);
        validateFilterNegotiation(offer, o);
        const protocol = o.protocol;
        for (let k = 0; k < opts.perConn && performance.now() < deadline && issued < countBudget; k++) {
          const i = issued++ * 7919 + w;
          const steps = getPlan(i, protocol, k === 0);
          const t0 = performance.now();
          let eomStart = t0;
          let ok = true;
          for (const s of steps) {
            if (s.code === Cmd.BODYEOB) eomStart = performance.now();
            conn.write(s.bytes);
            if (!s.answered) continue;
            for (;;) {
              const r = decodeReply(await conn.next(opts.timeoutMs));
              if (r.type === 'progress') continue;
              if (!FINAL_REPLIES.has(r.type)) {
                if (s.code === Cmd.BODYEOB) continue; // modification frames
                throw new Error(`unexpected ${r.type} after 0x${s.code.toString(16)}`);
              }
              if (s.code !== Cmd.BODYEOB && r.type !== 'continue') ok = false;
              break;
            }
            if (!ok) break;
          }
          const t1 = performance.now();
          conn.write(ABORT2);
          if (!ok) {
            refused++;
            continue;
          }
          if (t0 >= measureFrom && t1 <= deadline) {
            if (measuredStart === 0) measuredStart = t0;
            measuredEnd = t1;
            done++;
            eomLat.push(t1 - eomStart);
            msgLat.push(t1 - t0);
          }
        }
        conn.write(QUIT);
        conn.socket.end();
        await conn.closed;
      } catch (err) {
        errors++;
        firstError ??= err instanceof Error ? err.message : String(err);
        conn?.socket.destroy();
        if (errors > 1000) return;
      }
    }
  };
  await Promise.all(Array.from({ length: opts.sessions }, (_, w) => worker(w)));
  if (cpuTimer) clearTimeout(cpuTimer);
  const cpuEnd = opts.serverPid ? processCpuSeconds(opts.serverPid) : undefined;
  const cpuWall = (performance.now() - cpuStartAt) / 1000;
  const seconds = opts.count > 0 ? (measuredEnd - measuredStart) / 1000 : opts.durationMs / 1000;
  const e = Float64Array.from(eomLat).sort();
  const m = Float64Array.from(msgLat).sort();
  const result: LoadResult = {
    label,
    messages: done,
    connections,
    errors,
    refused,
    seconds,
    msgsPerSec: done / seconds,
    eomP50: percentile(e, 50),
    eomP99: percentile(e, 99),
    msgP50: percentile(m, 50),
    msgP99: percentile(m, 99),
  };
  if (cpuStart !== undefined && cpuEnd !== undefined && done > 0) {
    result.serverCpuUsPerMsg = ((cpuEnd - cpuStart) * 1e6) / done;
    result.serverCpuShare = (cpuEnd - cpuStart) / cpuWall;
  }
  if (firstError) result.firstError = firstError;
  return result;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      target: { type: 'string', short: 't' },
      sessions: { type: 'string', short: 'c', default: '64' },
      duration: { type: 'string', short: 'd', default: '10' },
      count: { type: 'string', short: 'n', default: '0' },
      'per-conn': { type: 'string', default: '1' },
      warmup: { type: 'string', default: '1' },
      'postfix-like': { type: 'boolean', default: false },
      corpus: { type: 'string' },
      generated: { type: 'boolean', default: false },
      timeout: { type: 'string', default: '10000' },
      json: { type: 'boolean', default: false },
      label: { type: 'string' },
      'server-pid': { type: 'string' },
    },
  });
  if (!values.target) {
    process.stderr.write('usage: load --target inet:PORT@127.0.0.1 [--sessions 64] [--duration 10 | --count N] [--per-conn 1] [--postfix-like] [--corpus DIR | --generated] [--json]\n');
    process.exit(2);
  }
  const corpusDir = values.corpus ?? path.resolve(process.cwd(), '..', 'shared', 'corpus');
  let messages = values.generated ? undefined : corpusMessages(corpusDir);
  let source = `corpus ${corpusDir} (${messages?.length ?? 0} messages <= 64 KB)`;
  if (!messages) {
    if (!values.generated) process.stderr.write(`load: corpus not found at ${corpusDir}; using generated 4 KB messages\n`);
    messages = Array.from({ length: 64 }, (_, i) => generatedMessage(i));
    source = 'generated 4 KB messages, 12 headers';
  }
  const opts: LoadOptions = {
    target: values.target,
    sessions: Number(values.sessions),
    durationMs: Number(values.duration) * 1000,
    count: Number(values.count),
    perConn: Number(values['per-conn']),
    warmupMs: Number(values.count) > 0 ? 0 : Number(values.warmup) * 1000,
    postfixLike: values['postfix-like'],
    messages,
    timeoutMs: Number(values.timeout),
  };
  if (values['server-pid']) opts.serverPid = Number(values['server-pid']);
  const r = await runLoad(opts, values.label ?? values.target);
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ ...r, source, sessions: opts.sessions, perConn: opts.perConn })}\n`);
  } else {
    process.stdout.write(
      `${r.label}: ${r.messages} msgs in ${r.seconds.toFixed(1)} s = ${r.msgsPerSec.toFixed(0)} msgs/s; ` +
        `EOM p50 ${r.eomP50.toFixed(2)} ms p99 ${r.eomP99.toFixed(2)} ms; message p50 ${r.msgP50.toFixed(2)} ms p99 ${r.msgP99.toFixed(2)} ms; ` +
        `${opts.sessions} sessions, ${opts.perConn} msg/conn, ${r.connections} connections, ${r.errors} errors, ${r.refused} refused` +
        (r.serverCpuUsPerMsg !== undefined ? `; milter CPU ${r.serverCpuUsPerMsg.toFixed(0)} us/msg, ${(r.serverCpuShare! * 100).toFixed(0)}% of a core` : '') +
        `${r.firstError ? ` (first error: ${r.firstError})` : ''}; ${source}\n`,
    );
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${path.resolve(process.argv[1])}`).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`load: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  });
}
