// sendmail backend of `postern quarantine`: sendmail quarantines the envelope when Postern answers
// SMFIR_QUARANTINE (the queue file qfID is renamed hfID and gets a "q" line with Postern's reason).
// Listing is `sendmail -C CF -bp -qQ` (mailq -qQ), details come from the hf file (full reason,
// arrival time, headers), release is `sendmail -C CF -qQ -qI<ID> -Q` (no reason = unquarantine) then
// `-qI<ID>` to deliver now, delete removes the hf/df/xf files. It must never touch a queue file of a
// message that is not quarantined.
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { readPosternLog, reasonFromLog, type LogRecord } from './postern-log.js';
import { lastHeader, parseHeaderLines, parseTrace, reasonFromMtaText, reasonFromTrace } from './trace.js';
import { findTool, run, runOk } from './tools.js';
import { QuarantineError, checkQueueId, type HeldMessage, type PosternReason, type QuarantineBackend, type ShownMessage } from './types.js';

export interface SendmailBackendOptions {
  /** The sendmail binary (or a wrapper running it); default $POSTERN_SENDMAIL or /usr/sbin/sendmail. */
  binary?: string;
  /** The .cf file; default /etc/mail/sendmail.cf. */
  cfFile?: string;
  traceHeader?: string;
  logFile?: string;
}

export interface MailqEntry {
  id: string;
  size: number;
  sender: string;
  reason: string;
  recipients: string[];
}

/** Parse `sendmail -bp [-qQ]` output. */
export function parseMailq(text: string): MailqEntry[] {
  const out: MailqEntry[] = [];
  let cur: MailqEntry | undefined;
  for (const line of text.split('\n')) {
    const head = /^([A-Za-z0-9]{6,})[*X-]?\s+(\d+)\s+\w{3} \w{3} [ \d]\d \d\d:\d\d\s+(\S*)\s*$/.exec(line);
    if (head) {
      cur = { id: head[1]!, size: Number(head[2]), sender: head[3]!.replace(/^<|>$/g, ''), reason: '', recipients: [] };
      out.push(cur);
      continue;
    }
    if (!cur) continue;
    const qr = /^\s+QUARANTINE:\s*(.*)$/.exec(line);
    if (qr) {
      cur.reason = qr[1]!;
      continue;
    }
    const rc = /^\s+(<[^>]*>|\S+@\S+)\s*$/.exec(line);
    if (rc) {
      cur.recipients.push(rc[1]!.replace(/^<|>$/g, ''));
      continue;
    }
    if (/Total requests|^\s*$/.test(line)) cur = undefined;
  }
  return out;
}

export interface QueueFile {
  arrival?: Date;
  sender: string;
  recipients: string[];
  reason?: string;
  headers: Array<[string, string]>;
  /** Envelope lines (everything before the first H line), for `show`. */
  envelope: string[];
}

/** Parse a sendmail qf/hf file (version 8 format). */
export function parseQueueFile(text: string): QueueFile {
  const qf: QueueFile = { sender: '', recipients: [], headers: [], envelope: [] };
  const headerLines: string[] = [];
  let inHeader = false;
  for (const line of text.split('\n')) {
    if (line === '.') break;
    if (inHeader && /^[ \t]/.test(line)) {
      headerLines.push(line);
      continue;
    }
    inHeader = false;
    const k = line[0];
    const v = line.slice(1);
    if (k === 'H') {
      // H?flags?Name: value — the ?..? part holds mailer flags the header depends on.
      headerLines.push(v.replace(/^\?[^?]*\?/, ''));
      inHeader = true;
      continue;
    }
    qf.envelope.push(line);
    if (k === 'T' && /^\d+$/.test(v)) qf.arrival = new Date(Number(v) * 1000);
    else if (k === 'S') qf.sender = v.replace(/^<|>$/g, '');
    else if (k === 'q') qf.reason = v;
    else if (k === 'R') qf.recipients.push(v.replace(/^[A-Za-z]*:/, '').replace(/^<|>$/g, ''));
  }
  qf.headers = parseHeaderLines(headerLines);
  return qf;
}

/** QueueDirectory from a .cf file, expanded to the directories it names (a trailing * is a glob). */
export function queueDirectories(cfText: string): string[] {
  const m = /^O QueueDirectory=(.+)$/m.exec(cfText);
  const dir = (m?.[1] ?? '/var/spool/mqueue').trim();
  if (!dir.endsWith('*')) return [dir];
  const parent = path.dirname(dir);
  const prefix = path.basename(dir).slice(0, -1);
  try {
    return readdirSync(parent)
      .filter((n) => n.startsWith(prefix))
      .map((n) => path.join(parent, n))
      .filter((p) => statSync(p).isDirectory());
  } catch {
    return [];
  }
}

export class SendmailQuarantine implements QuarantineBackend {
  readonly mta = 'sendmail' as const;
  private log: Map<string, LogRecord> | undefined;
  readonly binary: string;
  readonly cfFile: string;

  constructor(private readonly opts: SendmailBackendOptions = {}) {
    this.binary = opts.binary ?? process.env.POSTERN_SENDMAIL ?? '/usr/sbin/sendmail';
    this.cfFile = opts.cfFile ?? '/etc/mail/sendmail.cf';
  }

  describe(): string {
    return `sendmail quarantine (${this.cfFile})`;
  }

  private bin(): string {
    const b = findTool(this.binary);
    if (!b) throw new QuarantineError('tool-missing', `sendmail binary ${this.binary} not found (pass --sendmail PATH)`);
    if (!existsSync(this.cfFile)) {
      throw new QuarantineError('bad-config', `${this.cfFile} not found: is sendmail installed? (pass --config-dir DIR holding sendmail.cf, or --cf FILE)`);
    }
    return b;
  }

  private sm(args: string[]) {
    return runOk(this.bin(), ['-C', this.cfFile, ...args], 120000);
  }

  /** Find a queue file (hf/qf/df/xf + id) in the queue directories, with or without qf/df/xf subdirectories. */
  private queueFile(kind: 'hf' | 'qf' | 'df' | 'xf', id: string): string | undefined {
    const sub = kind === 'hf' ? 'qf' : kind;
    for (const d of queueDirectories(readFileSync(this.cfFile, 'utf8'))) {
      for (const p of [path.join(d, sub, kind + id), path.join(d, kind + id)]) if (existsSync(p)) return p;
    }
    return undefined;
  }

  private readHf(id: string): QueueFile | undefined {
    const f = this.queueFile('hf', id);
    if (!f) return undefined;
    try {
      return parseQueueFile(readFileSync(f, 'latin1'));
    } catch {
      return undefined;
    }
  }

  private reason(id: string, mtaText: string | undefined, headers: Array<[string, string]>): PosternReason {
    if (this.opts.logFile) {
      this.log ??= readPosternLog(this.opts.logFile);
      const rec = this.log.get(id);
      if (rec) return reasonFromLog(rec);
    }
    if (mtaText) {
      const r = reasonFromMtaText(mtaText);
      const t = lastHeader(headers, this.opts.traceHeader ?? 'X-Postern');
      const tr = t !== undefined ? parseTrace(t) : undefined;
      return tr ? { ...r, rules: tr.rules.map((x) => x.rule), ...(tr.score !== undefined ? { score: tr.score } : {}) } : r;
    }
    const t = lastHeader(headers, this.opts.traceHeader ?? 'X-Postern');
    const tr = t !== undefined ? parseTrace(t) : undefined;
    return tr ? reasonFromTrace(tr) : { source: 'none', text: '(no quarantine reason recorded)' };
  }

  private merge(e: MailqEntry, qf: QueueFile | undefined): HeldMessage {
    return {
      mta: 'sendmail',
      id: e.id,
      ...(qf?.arrival ? { arrival: qf.arrival } : {}),
      sender: qf?.sender ?? e.sender,
      recipients: qf?.recipients.length ? qf.recipients : e.recipients,
      size: e.size,
      reason: this.reason(e.id, qf?.reason ?? (e.reason || undefined), qf?.headers ?? []),
    };
  }

  private async quarantined(): Promise<MailqEntry[]> {
    const r = await this.sm(['-bp', '-qQ']);
    return parseMailq(r.stdout);
  }

  private async entry(id: string): Promise<MailqEntry> {
    checkQueueId(id);
    const e = (await this.quarantined()).find((x) => x.id === id);
    if (!e) throw new QuarantineError('unknown-id', `no message ${id} in the ${this.describe()}`);
    return e;
  }

  async list(): Promise<HeldMessage[]> {
    return (await this.quarantined()).map((e) => this.merge(e, this.readHf(e.id)));
  }

  async show(id: string): Promise<ShownMessage> {
    const e = await this.entry(id);
    const qf = this.readHf(id);
    return { ...this.merge(e, qf), headers: qf?.headers ?? [], envelopeText: (qf?.envelope ?? []).join('\n') };
  }

  async release(id: string): Promise<void> {
    await this.entry(id);
    // -Q without a reason un-quarantines the items selected by -qI (an exact, full id here).
    await this.sm(['-qQ', `-qI${id}`, '-Q']);
    if ((await this.quarantined()).some((x) => x.id === id)) {
      throw new QuarantineError('tool-failed', `sendmail -qQ -qI${id} -Q left ${id} in quarantine`);
    }
    // Deliver now instead of waiting for the next queue run (failure here only delays delivery).
    await run(this.bin(), ['-C', this.cfFile, `-qI${id}`], 120000);
  }

  async delete(id: string): Promise<void> {
    await this.entry(id);
    const hf = this.queueFile('hf', id);
    if (!hf) throw new QuarantineError('unknown-id', `quarantined file hf${id} not found in the queue directory of ${this.cfFile}`);
    rmSync(hf);
    for (const kind of ['df', 'xf'] as const) {
      const f = this.queueFile(kind, id);
      if (f) rmSync(f, { force: true });
    }
  }
}
