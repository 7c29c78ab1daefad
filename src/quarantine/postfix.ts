// Postfix backend of `postern quarantine`: Postfix puts a message Postern quarantines
// (SMFIR_QUARANTINE) in its hold queue. Listing is `postqueue -j` (queue_name "hold"), the content
// `postcat -q`, release `postsuper -H` (then `postqueue -i` to deliver now), delete `postsuper -d`.
// Postfix keeps no reason text for a milter hold (it logs only "milter-hold: ... milter triggers
// HOLD action"), so Postern's reason is read from its trace header in the held message, or from
// Postern's own log when given. It must never act on a message outside the hold queue.
import { readPosternLog, reasonFromLog, type LogRecord } from './postern-log.js';
import { lastHeader, parseHeaderLines, parseTrace, reasonFromTrace } from './trace.js';
import { requireTool, run, runOk } from './tools.js';
import { QuarantineError, checkQueueId, type HeldMessage, type PosternReason, type QuarantineBackend, type ShownMessage } from './types.js';

export interface PostfixBackendOptions {
  /** Postfix configuration directory (-c DIR); default: Postfix's own default. */
  configDir?: string;
  /** Name of Postern's trace header (policy.trace.header). */
  traceHeader?: string;
  /** Postern's JSON log, for the full reason. */
  logFile?: string;
}

interface PostqueueEntry {
  queue_name: string;
  queue_id: string;
  arrival_time?: number;
  message_size?: number;
  sender?: string;
  recipients?: Array<{ address: string }>;
}

/** Parse `postqueue -j` output (one JSON object per line). */
export function parsePostqueueJson(text: string): PostqueueEntry[] {
  const out: PostqueueEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as PostqueueEntry);
    } catch {
      throw new QuarantineError('tool-failed', `postqueue -j printed a line that is not JSON: ${line.slice(0, 200)}`);
    }
  }
  return out;
}

/** The sections of `postcat -e -h` output: envelope record lines and the header block. */
export function parsePostcat(text: string): { envelope: string[]; headers: Array<[string, string]> } {
  const envelope: string[] = [];
  const headerLines: string[] = [];
  let section = '';
  for (const line of text.split('\n')) {
    const m = /^\*\*\* (.+?) (?:\S+\/)?[A-Za-z0-9]+ \*\*\*$/.exec(line);
    if (m) {
      section = m[1]!;
      continue;
    }
    if (section === 'ENVELOPE RECORDS') envelope.push(line);
    else if (section === 'MESSAGE CONTENTS') headerLines.push(line);
  }
  return { envelope, headers: parseHeaderLines(headerLines) };
}

export class PostfixQuarantine implements QuarantineBackend {
  readonly mta = 'postfix' as const;
  private log: Map<string, LogRecord> | undefined;

  constructor(private readonly opts: PostfixBackendOptions = {}) {}

  describe(): string {
    return `Postfix hold queue${this.opts.configDir ? ` (postfix -c ${this.opts.configDir})` : ''}`;
  }

  private c(): string[] {
    return this.opts.configDir ? ['-c', this.opts.configDir] : [];
  }

  private async held(): Promise<PostqueueEntry[]> {
    const postqueue = requireTool('postqueue', 'list the Postfix queue');
    const r = await runOk(postqueue, [...this.c(), '-j']);
    return parsePostqueueJson(r.stdout).filter((e) => e.queue_name === 'hold');
  }

  private async entry(id: string): Promise<PostqueueEntry> {
    checkQueueId(id);
    const e = (await this.held()).find((x) => x.queue_id === id);
    if (!e) throw new QuarantineError('unknown-id', `no message ${id} in the ${this.describe()}`);
    return e;
  }

  private async postcat(id: string): Promise<{ envelope: string[]; headers: Array<[string, string]> }> {
    const postcat = requireTool('postcat', 'read a queued message');
    const r = await run(postcat, [...this.c(), '-e', '-h', '-q', id]);
    if (r.exitCode !== 0) {
      throw new QuarantineError(/not found/i.test(r.stderr) ? 'unknown-id' : 'tool-failed', `postcat -q ${id}: ${r.stderr.trim() || `exit ${r.exitCode}`}`);
    }
    return parsePostcat(r.stdout);
  }

  private reason(id: string, headers: Array<[string, string]>): PosternReason {
    if (this.opts.logFile) {
      this.log ??= readPosternLog(this.opts.logFile);
      const rec = this.log.get(id);
      if (rec) return reasonFromLog(rec);
    }
    const name = this.opts.traceHeader ?? 'X-Postern';
    const value = lastHeader(headers, name);
    const t = value !== undefined ? parseTrace(value) : undefined;
    if (t) return reasonFromTrace(t);
    return { source: 'none', text: `no ${name} trace header: not held by Postern, or its trace header is off (pass --log FILE)` };
  }

  private toHeld(e: PostqueueEntry, reason: PosternReason): HeldMessage {
    return {
      mta: 'postfix',
      id: e.queue_id,
      ...(e.arrival_time ? { arrival: new Date(e.arrival_time * 1000) } : {}),
      sender: e.sender ?? '',
      recipients: (e.recipients ?? []).map((r) => r.address),
      size: e.message_size ?? 0,
      reason,
    };
  }

  async list(): Promise<HeldMessage[]> {
    const out: HeldMessage[] = [];
    for (const e of await this.held()) {
      let reason: PosternReason;
      try {
        reason = this.reason(e.queue_id, (await this.postcat(e.queue_id)).headers);
      } catch (err) {
        // Released or deleted between postqueue and postcat, or postcat not permitted: say so.
        reason = { source: 'none', text: `(cannot read the message: ${(err as Error).message})` };
      }
      out.push(this.toHeld(e, reason));
    }
    return out;
  }

  async show(id: string): Promise<ShownMessage> {
    const e = await this.entry(id);
    const pc = await this.postcat(id);
    return { ...this.toHeld(e, this.reason(id, pc.headers)), headers: pc.headers, envelopeText: pc.envelope.join('\n').trim() };
  }

  async release(id: string): Promise<void> {
    await this.entry(id);
    const postsuper = requireTool('postsuper', 'release a held message');
    const r = await runOk(postsuper, [...this.c(), '-H', id]);
    if (!/released from hold|Released from hold: 1/i.test(r.stderr + r.stdout)) {
      throw new QuarantineError('tool-failed', `postsuper -H ${id} did not release it: ${(r.stderr + r.stdout).trim() || 'no output'}`);
    }
    // Deliver now rather than at the next deferred-queue scan (postqueue -i, Postfix >= 2.4; else a flush).
    const postqueue = requireTool('postqueue', 'schedule delivery');
    const f = await run(postqueue, [...this.c(), '-i', id]);
    if (f.exitCode !== 0) await run(postqueue, [...this.c(), '-f']);
  }

  async delete(id: string): Promise<void> {
    await this.entry(id);
    const postsuper = requireTool('postsuper', 'delete a held message');
    // Name the queue: only a message in "hold" may be deleted by this command.
    const r = await runOk(postsuper, [...this.c(), '-d', id, 'hold']);
    if (!/removed|Deleted: 1/i.test(r.stderr + r.stdout)) {
      throw new QuarantineError('tool-failed', `postsuper -d ${id} hold removed nothing: ${(r.stderr + r.stdout).trim() || 'no output'}`);
    }
  }
}
