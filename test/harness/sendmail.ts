// Starts a private sendmail 8.17 daemon for end-to-end tests, from the tree unpacked by
// scripts/install-test-deps.sh (sendmail is not installed: Postfix owns /usr/sbin/sendmail).
// The .cf is built with m4 from examples/sendmail/postern.mc (the shipped fragment, milter address
// substituted) plus test-only lines: own queue/pid/status files in a temp dir, a loopback port,
// everything relayed to the in-process sink (sink.ts). It must never listen off loopback nor use
// the system's /etc/mail.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitForPort } from './net.js';
import { REPO_ROOT } from './paths.js';
import { startSink, type DeliveredMessage, type Sink, type SinkOptions } from './sink.js';
import { runTool, type ToolResult } from './smtp-client.js';

export const SENDMAIL_DIR = path.resolve(process.env.POSTERN_SENDMAIL_DIR ?? '/var/cache/postern-test/sendmail');
export const SENDMAIL_BIN = path.join(SENDMAIL_DIR, 'usr', 'libexec', 'sendmail', 'sendmail');
export const SENDMAIL_CF_DIR = path.join(SENDMAIL_DIR, 'usr', 'share', 'sendmail', 'cf');
export const EXAMPLE_SENDMAIL_MC = path.join(REPO_ROOT, 'examples', 'sendmail', 'postern.mc');
/** The milter socket written in the example (Postern's default listener). */
export const EXAMPLE_SENDMAIL_MILTER = 'inet:10027@127.0.0.1';

export class SendmailHarnessError extends Error {
  constructor(public readonly code: 'not-installed' | 'build-failed' | 'start-failed' | 'timeout', message: string) {
    super(message);
    this.name = 'SendmailHarnessError';
  }
}

/** True when the unpacked sendmail and m4 are present. */
export function sendmailAvailable(): boolean {
  return existsSync(SENDMAIL_BIN) && existsSync(path.join(SENDMAIL_CF_DIR, 'm4', 'cf.m4'))
    && spawnSync('m4', ['--version']).status === 0;
}

export interface SendmailOptions {
  /** Full milter socket in sendmail syntax (e.g. `inet:PORT@127.0.0.1`). Default: no milter. */
  milter?: string;
  /** Shortcut: the example's socket with its port replaced. */
  milterPort?: number;
  /** Replace the example's INPUT_MAIL_FILTER equates (F=, T=) entirely. */
  milterEquates?: string;
  /** Extra .mc lines appended before the MAILER() lines (test-specific FEATUREs, defines). */
  extraMc?: string[];
  /** Apply examples/sendmail/postern.mc (default true). */
  useExample?: boolean;
  /** Queue run interval for -q (default 1m). */
  queueInterval?: string;
  sink?: Omit<SinkOptions, 'host' | 'port'>;
  keepDir?: boolean;
}

export interface QuarantinedEntry {
  queueId: string;
  size: number;
  sender: string;
  reason: string;
  recipients: string[];
}

export interface SendmailInstance {
  smtpPort: number;
  host: string;
  dir: string;
  cfFile: string;
  /** The generated .mc text. */
  mc: string;
  sink: Sink;
  delivered(): DeliveredMessage[];
  waitForDelivered(n: number, timeoutMs?: number): Promise<DeliveredMessage[]>;
  /** Raw `mailq` output (all queued, not quarantined). */
  mailq(args?: string[]): Promise<ToolResult>;
  /** Quarantined messages (`mailq -qQ`). */
  quarantined(): Promise<QuarantinedEntry[]>;
  waitForQuarantined(n: number, timeoutMs?: number): Promise<QuarantinedEntry[]>;
  /** Run this instance's sendmail binary with its cf (e.g. ['-qQ', '-qI…'] or ['-bt']). */
  run(args: string[], input?: Buffer | string): Promise<ToolResult>;
  stop(): Promise<void>;
}

const live = new Map<string, { pidFile: string; keep: boolean }>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const cleanup = () => {
    for (const [dir, l] of live) {
      killGroup(l.pidFile, 'SIGKILL');
      killByDir(dir);
      if (!l.keep) rmSync(dir, { recursive: true, force: true });
    }
    live.clear();
  };
  process.on('exit', cleanup);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => { cleanup(); process.exit(128 + (sig === 'SIGINT' ? 2 : 15)); });
  }
}

function readPid(file: string): number | undefined {
  try {
    const n = Number(readFileSync(file, 'utf8').split('\n')[0]!.trim());
    return Number.isInteger(n) && n > 1 ? n : undefined;
  } catch { return undefined; }
}

/** Running (a zombie waiting to be reaped by init counts as gone). */
function alive(pid: number): boolean {
  try { process.kill(pid, 0); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false; }
  try { return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return true; }
}

/** sendmail -bd calls setsid(): its pid is its process group, which holds its delivery children. */
function killGroup(pidFile: string, sig: NodeJS.Signals): number | undefined {
  const pid = readPid(pidFile);
  if (!pid) return undefined;
  try { process.kill(-pid, sig); } catch { try { process.kill(pid, sig); } catch { /* gone */ } }
  return pid;
}

let unshareOk: boolean | undefined;
/** Can we run sendmail in its own UTS + mount namespace (root, unshare(1), kernel allows it)? */
function canUnshare(): boolean {
  if (unshareOk === undefined) {
    unshareOk = spawnSync('unshare', ['--uts', '--mount', 'true'], { stdio: 'ignore' }).status === 0;
    if (!unshareOk) console.warn('sendmail harness: unshare(1) unavailable; sendmail may sleep 60 s if the hostname has no dot');
  }
  return unshareOk;
}

/**
 * The command line running the unpacked sendmail with args. sendmail sleeps 60 s at every start
 * (daemon, mailq, queue run) when the machine's hostname has no dot and does not resolve to a
 * dotted name; it does so before reading the .cf, so confDOMAIN_NAME cannot help. So each run gets
 * its own UTS + mount namespace: hostname mx.postern.test and our hosts file over /etc/hosts (no
 * DNS query leaves the machine either). Nothing outside the namespace changes.
 */
export function sendmailCommand(dir: string, args: string[]): [string, string[]] {
  if (!canUnshare()) return [SENDMAIL_BIN, args];
  return ['unshare', ['--uts', '--mount', 'sh', '-c',
    'hostname mx.postern.test && mount --bind "$1" /etc/hosts && shift && exec "$@"',
    'sh', path.join(dir, 'hosts'), SENDMAIL_BIN, ...args]];
}

/** The example fragment with the milter socket replaced, or its INPUT_MAIL_FILTER removed. */
export function exampleSendmailMc(milter: string | undefined, equates?: string): string {
  let text = readFileSync(EXAMPLE_SENDMAIL_MC, 'utf8');
  const re = /^INPUT_MAIL_FILTER\(`([^']*)', `([^']*)'\)(?:dnl)?[ \t]*$/m;
  const m = re.exec(text);
  if (!m) throw new SendmailHarnessError('build-failed', `no INPUT_MAIL_FILTER line in ${EXAMPLE_SENDMAIL_MC}`);
  if (milter === undefined) return text.replace(re, 'dnl (no milter in this test)');
  let eq = equates ?? m[2]!.replace(/^S=[^,]*,?\s*/, '');
  eq = `S=${milter}${eq ? ', ' + eq : ''}`;
  text = text.replace(re, `INPUT_MAIL_FILTER(\`${m[1]}', \`${eq}')dnl`);
  return text;
}

/**
 * Start a private sendmail; a daemon that does not come up (seen now and then while other suites
 * load the machine) is cleaned up and started again, up to three times, each on a new port.
 */
export async function startSendmail(options: SendmailOptions = {}): Promise<SendmailInstance> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startSendmailOnce(options);
    } catch (e) {
      if (!(e instanceof SendmailHarnessError) || e.code !== 'start-failed' || attempt >= 3) throw e;
      console.warn(`sendmail harness: start attempt ${attempt} failed, retrying: ${e.message.split('\n')[0]}`);
    }
  }
}

async function startSendmailOnce(options: SendmailOptions): Promise<SendmailInstance> {
  if (!sendmailAvailable()) throw new SendmailHarnessError('not-installed', `sendmail not found in ${SENDMAIL_DIR}: run scripts/install-test-deps.sh as root`);
  installExitHook();
  const sink = await startSink({ ...(options.sink ?? {}) });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'postern-sendmail-'));
  const keep = options.keepDir ?? process.env.POSTERN_KEEP_TEST_DIRS === '1';
  const pidFile = path.join(dir, 'sendmail.pid');
  live.set(dir, { pidFile, keep });
  try {
    const queueDir = path.join(dir, 'mqueue');
    mkdirSync(queueDir, { mode: 0o700 });
    writeFileSync(path.join(dir, 'statistics'), '');
    writeFileSync(path.join(dir, 'local-host-names'), '');
    writeFileSync(path.join(dir, 'aliases'), 'postmaster: root\n');
    writeFileSync(path.join(dir, 'service.switch'), 'hosts files\naliases files\n');
    writeFileSync(path.join(dir, 'hosts'), '127.0.0.1 localhost\n127.0.1.1 mx.postern.test mx\n');
    const smtpPort = await freePort();
    const milter = options.milter ?? (options.milterPort !== undefined ? `inet:${options.milterPort}@127.0.0.1` : undefined);
    const example = options.useExample === false ? '' : exampleSendmailMc(milter, options.milterEquates);
    const q = (s: string) => `\`${s}'`;
    const mc = [
      'divert(-1)dnl',
      '# private test instance (generated by test/harness/sendmail.ts)',
      'divert(0)dnl',
      `include(${q(path.join(SENDMAIL_CF_DIR, 'm4', 'cf.m4'))})dnl`,
      `OSTYPE(${q('linux')})dnl`,
      `define(${q('confDOMAIN_NAME')}, ${q('mx.postern.test')})dnl`,
      `define(${q('QUEUE_DIR')}, ${q(queueDir)})dnl`,
      `define(${q('confPID_FILE')}, ${q(pidFile)})dnl`,
      `define(${q('STATUS_FILE')}, ${q(path.join(dir, 'statistics'))})dnl`,
      `define(${q('ALIAS_FILE')}, ${q(path.join(dir, 'aliases'))})dnl`,
      `define(${q('confCW_FILE')}, ${q('-o ' + path.join(dir, 'local-host-names'))})dnl`,
      `define(${q('confSERVICE_SWITCH_FILE')}, ${q(path.join(dir, 'service.switch'))})dnl`,
      `define(${q('confHOSTS_FILE')}, ${q(path.join(dir, 'hosts'))})dnl`,
      `define(${q('HELP_FILE')}, ${q(path.join(dir, 'helpfile'))})dnl`,
      `define(${q('confDONT_PROBE_INTERFACES')}, ${q('True')})dnl`,
      `define(${q('confDELIVERY_MODE')}, ${q('background')})dnl`,
      `define(${q('confTO_CONNECT')}, ${q('5s')})dnl`,
      `define(${q('confTO_INITIAL')}, ${q('10s')})dnl`,
      `define(${q('confMIN_QUEUE_AGE')}, ${q('0')})dnl`,
      // A busy test machine easily has a load average above sendmail's defaults (RefuseLA = 12 and
      // QueueLA = 8 per CPU): it would stop listening or only queue. Tests must not depend on load.
      `define(${q('confREFUSE_LA')}, ${q('10000')})dnl`,
      `define(${q('confQUEUE_LA')}, ${q('10000')})dnl`,
      `define(${q('confDELAY_LA')}, ${q('0')})dnl`,
      `define(${q('confCONNECTION_RATE_THROTTLE')}, ${q('0')})dnl`,
      `define(${q('confMAX_DAEMON_CHILDREN')}, ${q('0')})dnl`,
      `define(${q('SMART_HOST')}, ${q('esmtp:[127.0.0.1]')})dnl`,
      `define(${q('ESMTP_MAILER_ARGS')}, ${q(`TCP $h ${sink.port}`)})dnl`,
      `define(${q('RELAY_MAILER_ARGS')}, ${q(`TCP $h ${sink.port}`)})dnl`,
      `define(${q('SMTP_MAILER_ARGS')}, ${q(`TCP $h ${sink.port}`)})dnl`,
      `DAEMON_OPTIONS(${q(`Port=${smtpPort}, Addr=127.0.0.1, Name=MTA`)})dnl`,
      `FEATURE(${q('accept_unresolvable_domains')})dnl`,
      `FEATURE(${q('nocanonify')})dnl`,
      `FEATURE(${q('promiscuous_relay')})dnl`,
      example,
      ...(options.extraMc ?? []),
      `MAILER(${q('local')})dnl`,
      `MAILER(${q('smtp')})dnl`,
      '',
    ].join('\n');
    const mcFile = path.join(dir, 'test.mc');
    const cfFile = path.join(dir, 'test.cf');
    writeFileSync(mcFile, mc);
    const m4 = spawnSync('m4', [`-D_CF_DIR_=${SENDMAIL_CF_DIR}/`, mcFile], { encoding: 'utf8' });
    if (m4.status !== 0) throw new SendmailHarnessError('build-failed', `m4 failed: ${m4.stderr}`);
    writeFileSync(cfFile, m4.stdout);

    // The daemon forks and keeps its stdio: give it a file, not a pipe (a pipe would keep
    // spawnSync waiting for the daemon's lifetime).
    const outFile = path.join(dir, 'sendmail.out');
    const outFd = openSync(outFile, 'w');
    const [cmd, args] = sendmailCommand(dir, ['-C', cfFile, '-bd', `-q${options.queueInterval ?? '1m'}`]);
    const st = spawnSync(cmd, args, { stdio: ['ignore', outFd, outFd], timeout: 90000 });
    closeSync(outFd);
    const startOut = () => readFileSync(outFile, 'utf8');
    if (st.status !== 0) throw new SendmailHarnessError('start-failed', `sendmail -bd failed (${st.status}): ${startOut()}`);
    try {
      await waitForPort(smtpPort, '127.0.0.1', 15000);
    } catch (e) {
      throw new SendmailHarnessError('start-failed', `sendmail did not listen on ${smtpPort}: ${(e as Error).message}\n${startOut()}`);
    }

    const run = (args: string[], input?: Buffer | string) => {
      const [c, a] = sendmailCommand(dir, ['-C', cfFile, ...args]);
      return runTool(c, a, 30000, input);
    };
    const instance: SendmailInstance = {
      smtpPort,
      host: '127.0.0.1',
      dir,
      cfFile,
      mc,
      sink,
      delivered: () => [...sink.messages],
      waitForDelivered: (n, timeoutMs = 15000) => sink.waitFor(n, timeoutMs).catch(async (e: Error) => {
        const q = await run(['-bp']).catch(() => ({ stdout: '' }));
        throw new SendmailHarnessError('timeout', `${e.message}\n--- mailq ---\n${q.stdout}`);
      }),
      mailq: (args = []) => run(['-bp', ...args]),
      async quarantined() { return parseMailq((await run(['-bp', '-qQ'])).stdout); },
      async waitForQuarantined(n, timeoutMs = 15000) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const qq = await instance.quarantined();
          if (qq.length >= n) return qq;
          if (Date.now() > deadline) throw new SendmailHarnessError('timeout', `${qq.length} of ${n} quarantined after ${timeoutMs} ms`);
          await new Promise((r) => setTimeout(r, 150));
        }
      },
      run,
      async stop() {
        await stopSendmail(dir, pidFile, keep);
        await sink.stop();
      },
    };
    return instance;
  } catch (e) {
    await stopSendmail(dir, pidFile, keep);
    await sink.stop();
    throw e;
  }
}

/** Kill every process whose command line names this instance's directory (its own temp dir). */
function killByDir(dir: string): void {
  let entries: string[] = [];
  try { entries = readdirSync('/proc'); } catch { return; }
  for (const e of entries) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${e}/cmdline`, 'latin1').includes(`${dir}/`)) process.kill(Number(e), 'SIGKILL');
    } catch { /* gone or not ours to read */ }
  }
}

async function stopSendmail(dir: string, pidFile: string, keep: boolean): Promise<void> {
  const pid = killGroup(pidFile, 'SIGTERM');
  if (pid) {
    const deadline = Date.now() + 5000;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    killGroup(pidFile, 'SIGKILL');
  }
  // A daemon that never wrote its pid file (start failed or still starting) is found by its -C path.
  killByDir(dir);
  live.delete(dir);
  if (!keep) rmSync(dir, { recursive: true, force: true });
}

/** Parse `mailq` (sendmail -bp) output. */
export function parseMailq(text: string): QuarantinedEntry[] {
  const out: QuarantinedEntry[] = [];
  let cur: QuarantinedEntry | undefined;
  for (const line of text.split('\n')) {
    const head = /^(\w{6,})[*X-]?\s+(\d+)\s+\w{3} \w{3} [ \d]\d \d\d:\d\d\s+(\S+)\s*$/.exec(line);
    if (head) {
      cur = { queueId: head[1]!, size: Number(head[2]), sender: head[3]!.replace(/^<|>$/g, ''), reason: '', recipients: [] };
      out.push(cur);
      continue;
    }
    if (!cur) continue;
    const qr = /^\s+QUARANTINE:\s*(.*)$/.exec(line);
    if (qr) { cur.reason = qr[1]!; continue; }
    const rc = /^\s+(<[^>]*>|\S+@\S+)\s*$/.exec(line);
    if (rc) { cur.recipients.push(rc[1]!.replace(/^<|>$/g, '')); continue; }
    if (/^\s+\(/.test(line)) continue; // delivery status text
    if (/Total requests|^\s*$/.test(line)) cur = undefined;
  }
  return out;
}
