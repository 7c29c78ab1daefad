// A small SMTP client for end-to-end tests (plain net socket, no library, no pipelining): one
// command, one complete (possibly multi-line) reply. Also a wrapper around the swaks tool.
// Loopback only by default; it must never be pointed at a host off this machine.
import net from 'node:net';
import { spawn } from 'node:child_process';

export interface SmtpReply {
  code: number;
  /** Enhanced status code of the last line, e.g. "5.7.1", when present. */
  enhanced?: string;
  /** Text of each line without the "250-" prefix. */
  lines: string[];
  /** The lines joined with "\n". */
  text: string;
}

export class SmtpClientError extends Error {
  constructor(public readonly code: 'timeout' | 'closed' | 'connect' | 'protocol', message: string) {
    super(message);
    this.name = 'SmtpClientError';
  }
}

export interface SmtpSessionOptions {
  port: number;
  host?: string;
  /** Per reply; default 30 s. */
  timeoutMs?: number;
}

export interface DataOptions {
  /** Turn bare LF into CRLF before sending (default true). Off to send the bytes as given. */
  normalizeLineEnds?: boolean;
}

export interface SmtpSession {
  /** The 220 greeting (or whatever the server said first). */
  greeting: SmtpReply;
  ehlo(name?: string): Promise<SmtpReply>;
  helo(name?: string): Promise<SmtpReply>;
  /** XCLIENT attrs (e.g. {ADDR: '192.0.2.10', NAME: 'x.example'}); on 220 sends EHLO again (reply in .ehlo). */
  xclient(attrs: Record<string, string>): Promise<SmtpReply & { ehlo?: SmtpReply }>;
  mailFrom(addr: string, params?: string): Promise<SmtpReply>;
  rcptTo(addr: string, params?: string): Promise<SmtpReply>;
  /** DATA + message (dot-stuffed, CRLF-terminated) + ".". Returns the final reply (or the DATA reply if not 354). */
  data(message: Buffer | string, opts?: DataOptions): Promise<SmtpReply & { dataReply: SmtpReply }>;
  rset(): Promise<SmtpReply>;
  noop(): Promise<SmtpReply>;
  quit(): Promise<SmtpReply>;
  /** Send one line as is (CRLF appended) and read one reply. */
  raw(line: string): Promise<SmtpReply>;
  /** DATA, then part of the message, then destroy the socket. Returns the DATA reply. */
  abortMidData(partial: Buffer | string): Promise<SmtpReply>;
  /** Destroy the socket now. */
  close(): void;
  readonly closed: boolean;
}

/** Dot-stuff and terminate a message; bare LF becomes CRLF unless normalize is false. */
export function encodeData(message: Buffer | string, normalize = true): Buffer {
  let buf = typeof message === 'string' ? Buffer.from(message, 'utf8') : message;
  if (normalize) {
    const s = buf.toString('latin1').replace(/\r?\n/g, '\r\n');
    buf = Buffer.from(s, 'latin1');
  }
  const out: Buffer[] = [];
  let start = 0;
  while (start < buf.length) {
    const nl = buf.indexOf(0x0a, start);
    const end = nl < 0 ? buf.length : nl + 1;
    if (buf[start] === 0x2e) out.push(Buffer.from('.'));
    out.push(buf.subarray(start, end));
    start = end;
  }
  const joined = Buffer.concat(out);
  const tail = joined.length === 0 || joined.subarray(-2).toString('latin1') === '\r\n' ? '' : '\r\n';
  return Buffer.concat([joined, Buffer.from(tail + '.\r\n', 'latin1')]);
}

function parseReply(lines: string[]): SmtpReply {
  const code = Number(lines[lines.length - 1]!.slice(0, 3));
  const texts = lines.map((l) => l.slice(4));
  const last = texts[texts.length - 1] ?? '';
  const m = /^([245]\.\d{1,3}\.\d{1,3})(\s|$)/.exec(last);
  return { code, ...(m ? { enhanced: m[1] } : {}), lines: texts, text: texts.join('\n') };
}

export async function smtpSession(opts: SmtpSessionOptions): Promise<SmtpSession> {
  const host = opts.host ?? '127.0.0.1';
  const timeoutMs = opts.timeoutMs ?? 30000;
  const sock = net.connect({ port: opts.port, host });
  let buf = '';
  let pending: string[] = [];
  const replies: SmtpReply[] = [];
  let waiter: (() => void) | undefined;
  let isClosed = false;
  let lastHelo = 'client.postern.test';

  sock.setNoDelay(true);
  sock.on('data', (chunk: Buffer) => {
    buf += chunk.toString('latin1');
    for (;;) {
      const nl = buf.indexOf('\n');
      if (nl < 0) break;
      const line = buf.slice(0, nl).replace(/\r$/, '');
      buf = buf.slice(nl + 1);
      pending.push(Buffer.from(line, 'latin1').toString('utf8'));
      if (/^\d{3}(?!-)/.test(line)) { replies.push(parseReply(pending)); pending = []; }
    }
    waiter?.();
  });
  sock.on('close', () => { isClosed = true; waiter?.(); });
  sock.on('error', () => { isClosed = true; waiter?.(); });

  await new Promise<void>((resolve, reject) => {
    const onErr = (e: Error) => reject(new SmtpClientError('connect', `connect ${host}:${opts.port}: ${e.message}`));
    sock.once('error', onErr);
    sock.once('connect', () => { sock.off('error', onErr); resolve(); });
  });

  const nextReply = (what: string): Promise<SmtpReply> => new Promise((resolve, reject) => {
    const check = () => {
      if (replies.length > 0) { cleanup(); resolve(replies.shift()!); return; }
      if (isClosed) { cleanup(); reject(new SmtpClientError('closed', `connection closed while waiting for reply to ${what}`)); }
    };
    const t = setTimeout(() => { cleanup(); reject(new SmtpClientError('timeout', `no reply to ${what} after ${timeoutMs} ms`)); }, timeoutMs);
    const cleanup = () => { clearTimeout(t); waiter = undefined; };
    waiter = check;
    check();
  });

  const send = (data: string | Buffer) => { if (!sock.destroyed) sock.write(data); };
  const cmd = (line: string): Promise<SmtpReply> => { send(line + '\r\n'); return nextReply(line.split(' ', 1)[0]!); };

  const greeting = await nextReply('connect');

  const session: SmtpSession = {
    greeting,
    ehlo(name = lastHelo) { lastHelo = name; return cmd(`EHLO ${name}`); },
    helo(name = lastHelo) { lastHelo = name; return cmd(`HELO ${name}`); },
    async xclient(attrs) {
      const line = 'XCLIENT ' + Object.entries(attrs).map(([k, v]) => `${k.toUpperCase()}=${v}`).join(' ');
      const r = await cmd(line);
      if (r.code === 220) return { ...r, ehlo: await session.ehlo(attrs.HELO ?? attrs.helo ?? lastHelo) };
      return r;
    },
    mailFrom(addr, params) { return cmd(`MAIL FROM:<${addr}>${params ? ' ' + params : ''}`); },
    rcptTo(addr, params) { return cmd(`RCPT TO:<${addr}>${params ? ' ' + params : ''}`); },
    async data(message, dopts = {}) {
      const dataReply = await cmd('DATA');
      if (dataReply.code !== 354) return { ...dataReply, dataReply };
      send(encodeData(message, dopts.normalizeLineEnds ?? true));
      const r = await nextReply('end of data');
      return { ...r, dataReply };
    },
    rset() { return cmd('RSET'); },
    noop() { return cmd('NOOP'); },
    async quit() {
      const r = await cmd('QUIT');
      sock.end();
      return r;
    },
    raw(line) { return cmd(line); },
    async abortMidData(partial) {
      const r = await cmd('DATA');
      if (r.code === 354) {
        await new Promise<void>((resolve) => sock.write(partial, () => resolve()));
        await new Promise((res) => setTimeout(res, 50));
      }
      sock.destroy();
      return r;
    },
    close() { sock.destroy(); },
    get closed() { return isClosed; },
  };
  return session;
}

export interface SendMailOptions {
  port: number;
  host?: string;
  from: string;
  to: string[];
  data: Buffer | string;
  helo?: string;
  /** XCLIENT attributes sent after the first EHLO (Postfix). */
  xclient?: Record<string, string>;
  mailParams?: string;
  timeoutMs?: number;
}

export interface SendMailResult {
  greeting: SmtpReply;
  ehlo?: SmtpReply;
  xclient?: SmtpReply & { ehlo?: SmtpReply };
  mail?: SmtpReply;
  rcpt: SmtpReply[];
  data?: SmtpReply & { dataReply: SmtpReply };
  quit?: SmtpReply;
  /** True when the message was accepted (2xx after the final dot). */
  accepted: boolean;
  /** The last reply received (the one that decided the outcome). */
  last: SmtpReply;
}

/** One whole transaction; stops at the first refusal (MAIL, all RCPTs, DATA), then QUIT. */
export async function sendMail(o: SendMailOptions): Promise<SendMailResult> {
  const s = await smtpSession({ port: o.port, ...(o.host ? { host: o.host } : {}), ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}) });
  const res: SendMailResult = { greeting: s.greeting, rcpt: [], accepted: false, last: s.greeting };
  const finish = async () => {
    if (!s.closed) {
      try { res.quit = await s.quit(); } catch { /* server already hung up */ }
    }
    s.close();
    return res;
  };
  try {
    if (s.greeting.code !== 220) return await finish();
    res.ehlo = res.last = await s.ehlo(o.helo ?? 'client.postern.test');
    if (res.ehlo.code !== 250) return await finish();
    if (o.xclient) {
      res.xclient = res.last = await s.xclient({ HELO: o.helo ?? 'client.postern.test', ...o.xclient });
      if (res.xclient.code !== 220) return await finish();
      if (res.xclient.ehlo) res.last = res.xclient.ehlo;
    }
    res.mail = res.last = await s.mailFrom(o.from, o.mailParams);
    if (res.mail.code !== 250) return await finish();
    for (const r of o.to) {
      const rr = await s.rcptTo(r);
      res.rcpt.push(rr);
      res.last = rr;
    }
    if (!res.rcpt.some((r) => r.code >= 200 && r.code < 300)) return await finish();
    res.data = await s.data(o.data);
    res.last = res.data;
    res.accepted = res.data.code >= 200 && res.data.code < 300;
    return await finish();
  } catch (e) {
    s.close();
    if (e instanceof SmtpClientError && e.code === 'closed') return res;
    throw e;
  }
}

export interface ToolResult { exitCode: number; stdout: string; stderr: string }

/** Run swaks with the given arguments (no stdin). */
export function swaks(args: string[], timeoutMs = 60000): Promise<ToolResult> {
  return runTool('swaks', args, timeoutMs);
}

/** Run a program, collecting its output; never throws for a non-zero exit. */
export function runTool(cmd: string, args: string[], timeoutMs = 60000, input?: Buffer | string): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout!.on('data', (d: Buffer) => out.push(d));
    p.stderr!.on('data', (d: Buffer) => err.push(d));
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', (e) => { clearTimeout(t); reject(e); });
    p.on('close', (code, signal) => {
      clearTimeout(t);
      resolve({ exitCode: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    if (input !== undefined) p.stdin!.end(input);
  });
}
