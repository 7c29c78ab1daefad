// `postern demo`: a private Postfix and a Postern on loopback, a handful of messages, a table of what
// happened to each. It reuses the end-to-end test harness, compiled into dist/test/harness/ by the
// same build (the package must be built from a full checkout: dist/test/ has to exist).
// Everything it starts listens on 127.0.0.1 only, DNS included (an in-process server answering for
// the demo domains, nothing forwarded), and everything is stopped and removed before it returns.
import { existsSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { CLAMD_BINARY, startClamd, type ClamdInstance } from '../../test/harness/clamd.js';
import { startDnsServer, type Rr, type TestDnsServer } from '../../test/harness/dns-server.js';
import { startPostern, type PosternInstance } from '../../test/harness/postern.js';
import { PostfixHarnessError, startPostfix, type PostfixInstance } from '../../test/harness/postfix.js';
import { sendMail, type SendMailResult } from '../../test/harness/smtp-client.js';
import { formatList } from '../quarantine/format.js';
import { PostfixQuarantine } from '../quarantine/postfix.js';
import { demoMessages, type DemoMessage } from './messages.js';

export class DemoError extends Error {
  constructor(
    public readonly code: 'not-root' | 'no-postfix' | 'start-failed',
    message: string,
  ) {
    super(message);
    this.name = 'DemoError';
  }
}

export interface DemoRow {
  name: string;
  about: string;
  expect: string;
  /** SMTP reply that decided (e.g. "250 2.0.0 Ok: queued as 4Zx..."). */
  reply: string;
  /** Postern's verdict from its summary log line ("-" when none was logged). */
  verdict: string;
  rules: string[];
  decidedBy?: string;
  /** delivered | held (hold queue) | refused | in queue | lost */
  outcome: string;
  queueId?: string;
}

export interface DemoResult {
  rows: DemoRow[];
  clamd: string;
  skipped: string[];
  /** The private Postfix instance's config directory (removed again unless kept). */
  postfixDir: string;
  /** `postern quarantine list --config-dir DIR` output for the instance, taken before cleanup. */
  quarantineList: string;
}

export interface DemoOptions {
  log?: (s: string) => void;
  /** Called with the result while everything still runs (e.g. --keep waits here for Ctrl-C). */
  beforeCleanup?: (r: DemoResult) => Promise<void>;
}

const OUTSIDE = { ADDR: '192.0.2.10', NAME: 'client.example.org' };

const zone = (d: string): Record<string, Rr[]> => ({
  [d]: [{ type: 'A', data: '192.0.2.1' }, { type: 'MX', data: { preference: 10, exchange: `mx.${d}` } }],
  [`mx.${d}`]: [{ type: 'A', data: '192.0.2.1' }],
});

/** The demo's whole DNS: the demo domains, the outside client's forward-confirmed name, localhost. */
export const DEMO_DNS: Record<string, Rr[]> = {
  ...zone('example.org'),
  ...zone('example.com'),
  ...zone('example.test'),
  ...zone('outside.example'),
  'client.example.org': [{ type: 'A', data: '192.0.2.10' }],
  '10.2.0.192.in-addr.arpa': [{ type: 'PTR', data: 'client.example.org' }],
  '1.0.0.127.in-addr.arpa': [{ type: 'PTR', data: 'localhost' }],
  localhost: [{ type: 'A', data: '127.0.0.1' }],
};

/** Root and an installed Postfix, or a DemoError saying what is missing. */
export function preflight(): void {
  if (process.getuid?.() !== 0) {
    throw new DemoError('not-root', 'the demo starts a private Postfix instance, which needs root: run it as root (sudo npm run demo)');
  }
  const pc = spawnSync('postconf', ['-d', 'mail_version'], { encoding: 'utf8' });
  if (pc.status !== 0) {
    throw new DemoError('no-postfix', 'Postfix is not installed (postconf not found): install it (apt-get install postfix, "No configuration") and run the demo again');
  }
}

const messageId = (data: string) => /^Message-I[dD]:\s*(\S+)/m.exec(data)?.[1];

function shortReply(r: SendMailResult): string {
  const last = r.last;
  return `${last.code} ${last.text.replace(/\s+/g, ' ')}`;
}

export async function runDemo(opts: DemoOptions = {}): Promise<DemoResult> {
  const say = opts.log ?? (() => undefined);
  preflight();
  let dns: TestDnsServer | undefined;
  let clamd: ClamdInstance | undefined;
  let postern: PosternInstance | undefined;
  let pf: PostfixInstance | undefined;
  let clamdNote: string;
  // Interrupted (Ctrl-C, kill): the Postfix and clamd harnesses kill their daemons on exit; the
  // Postern child and the temp dirs are ours to remove, synchronously, before the process goes.
  const emergency = () => {
    if (postern && postern.process.exitCode === null) postern.process.kill('SIGKILL');
    if (postern) rmSync(path.dirname(postern.configFile), { recursive: true, force: true });
    if (clamd) rmSync(clamd.dir, { recursive: true, force: true });
  };
  const onSignal = (sig: NodeJS.Signals) => {
    emergency();
    process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGHUP' ? 1 : 15));
  };
  process.on('exit', emergency);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.prependOnceListener(sig, onSignal);
  try {
    dns = await startDnsServer({ records: DEMO_DNS });
    say(`DNS:     in-process test server on ${dns.server} (demo domains only, nothing forwarded)`);
    if (existsSync(CLAMD_BINARY)) {
      clamd = await startClamd();
      clamdNote = `private clamd (${CLAMD_BINARY}) with the EICAR test signature, ${clamd.address}`;
    } else {
      clamdNote = `not installed (${CLAMD_BINARY} missing): content.clamd disabled, EICAR message skipped`;
    }
    say(`clamd:   ${clamdNote}`);
    postern = await startPostern({
      config: {
        dns: { servers: [dns.server], timeoutMs: 1500, tries: 1 },
        content: { clamd: clamd ? { address: clamd.address } : { enabled: false } },
      },
    });
    say(`Postern: postern serve on ${postern.milter} (embedded defaults, DNS and clamd as above)`);
    try {
      pf = await startPostfix({ milterPort: postern.port });
    } catch (e) {
      if (e instanceof PostfixHarnessError) throw new DemoError(e.code === 'not-root' ? 'not-root' : e.code === 'not-installed' ? 'no-postfix' : 'start-failed', e.message);
      throw e;
    }
    say(`Postfix: private instance ${pf.configDir}, smtpd on 127.0.0.1:${pf.smtpPort}, relaying to a sink on 127.0.0.1:${pf.sink.port}`);
    say('');

    const rows: DemoRow[] = [];
    const skipped: string[] = [];
    const sent: Array<{ msg: DemoMessage; row: DemoRow }> = [];
    for (const msg of demoMessages()) {
      if (msg.needsClamd && !clamd) {
        skipped.push(`${msg.name} (needs clamd)`);
        continue;
      }
      const mark = postern.messages().length;
      const r = await sendMail({
        port: pf.smtpPort,
        from: msg.from,
        to: msg.to,
        data: msg.data,
        helo: msg.outside ? OUTSIDE.NAME : 'localhost',
        ...(msg.outside ? { xclient: OUTSIDE } : {}),
      });
      // Postern writes its summary line just after answering: give it a moment.
      const deadline = Date.now() + 5000;
      while (postern.messages().length <= mark && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
      const line = postern.messages()[mark];
      const queueId = r.accepted ? /queued as ([A-Za-z0-9]+)/.exec(r.last.text)?.[1] : undefined;
      const row: DemoRow = {
        name: msg.name,
        about: msg.about,
        expect: msg.expect,
        reply: shortReply(r),
        verdict: typeof line?.verdict === 'string' ? line.verdict : '-',
        rules: Array.isArray(line?.rules) ? (line!.rules as string[]) : [],
        ...(typeof line?.decidedBy === 'string' ? { decidedBy: line.decidedBy } : {}),
        outcome: r.accepted ? 'in queue' : 'refused',
        ...(queueId ? { queueId } : {}),
      };
      rows.push(row);
      sent.push({ msg, row });
    }

    // Where did the accepted ones end up: the sink (delivered) or Postfix's hold queue (quarantine)?
    const deadline = Date.now() + 20000;
    for (;;) {
      const held = new Set((await pf.holdQueue()).map((h) => h.queue_id));
      const deliveredIds = new Set(pf.delivered().map((m) => m.header('message-id')[0]));
      let pending = 0;
      for (const { msg, row } of sent) {
        if (row.outcome === 'refused') continue;
        if (row.queueId && held.has(row.queueId)) row.outcome = 'held (hold queue)';
        else if (deliveredIds.has(messageId(msg.data) ?? '')) row.outcome = 'delivered';
        else pending++;
      }
      if (pending === 0 || Date.now() > deadline) break;
      await new Promise((res) => setTimeout(res, 200));
    }
    let quarantineList: string;
    try {
      quarantineList = formatList(await new PostfixQuarantine({ configDir: pf.configDir }).list());
    } catch (e) {
      quarantineList = `(postern quarantine list failed: ${(e as Error).message})\n`;
    }
    const result: DemoResult = { rows, clamd: clamdNote, skipped, postfixDir: pf.configDir, quarantineList };
    if (opts.beforeCleanup) await opts.beforeCleanup(result);
    return result;
  } finally {
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(sig, onSignal);
    await pf?.stop().catch(() => undefined);
    await postern?.stop().catch(() => undefined);
    await clamd?.stop().catch(() => undefined);
    await dns?.close().catch(() => undefined);
    process.off('exit', emergency);
  }
}

const fit = (s: string, n: number) => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);

/** Deciding rule first, each rule once, at most about 60 characters ("+N" for the rest). */
function ruleList(r: DemoRow): string {
  const all = [...new Set([...(r.decidedBy ? [r.decidedBy] : []), ...r.rules])];
  let out = '';
  let n = 0;
  for (const x of all) {
    if (out && out.length + x.length + 1 > 60) break;
    out += (out ? ',' : '') + x;
    n++;
  }
  return (out || '-') + (n < all.length ? ` +${all.length - n}` : '');
}

/** The result table: message, SMTP reply, verdict, rules, outcome. */
export function formatDemoTable(rows: readonly DemoRow[]): string {
  const head = ['MESSAGE', 'SMTP REPLY', 'VERDICT', 'RULES', 'DELIVERED/HELD'];
  const cells = rows.map((r) => [r.name, fit(r.reply, 64), r.verdict, ruleList(r), r.outcome]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((x, i) => x.padEnd(widths[i]!)).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(head), rule, ...cells.map(line)].join('\n') + '\n';
}
