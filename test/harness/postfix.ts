// Starts a private, throw-away Postfix instance for end-to-end tests: own config, queue and data
// directories, smtpd on a free loopback port, every test domain relayed to an in-process SMTP sink
// (sink.ts) so delivered messages can be read back. The Postern-relevant settings come from
// examples/postfix/main.cf, so the tests exercise the shipped example.
// It must never touch the default Postfix instance (beyond listing the slot directories in
// /etc/postfix/main.cf, which `postfix -c DIR` requires) and never listen off loopback.
//
// Slots: `postfix -c DIR` only accepts a DIR listed literally (no globs) in the default main.cf's
// alternate_config_directories, so instances live in a fixed pool of directories
// POSTFIX_POOL_PARENT/0..POSTFIX_POOL_SIZE-1 (listed once by scripts/install-test-deps.sh, or by
// ensurePostfixPool() here). A slot is claimed with an atomic mkdir; a slot whose owner process
// died is reclaimed (its master killed). So test files running in parallel never collide.
import { spawnSync } from 'node:child_process';
import { chownSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePort, waitForPort } from './net.js';
import { REPO_ROOT } from './paths.js';
import { parseMessage, startSink, type DeliveredMessage, type Sink, type SinkOptions } from './sink.js';
import { runTool, type ToolResult } from './smtp-client.js';

/** Keep in sync with scripts/install-test-deps.sh. */
export const POSTFIX_POOL_PARENT = '/var/tmp/postern-postfix';
export const POSTFIX_POOL_SIZE = 32;
export const EXAMPLE_POSTFIX_MAIN_CF = path.join(REPO_ROOT, 'examples', 'postfix', 'main.cf');
/** The milter address written in the example (Postern's default listener). */
export const EXAMPLE_MILTER_ADDRESS = 'inet:127.0.0.1:10027';
export const DEFAULT_TEST_DOMAINS = ['example.test', 'example.com', 'example.net', 'example.org'];

let masterPath: string | undefined;
/** Postfix's master(8) binary (daemon_directory/master; /usr/lib/postfix/sbin on Debian). */
function master(): string {
  if (!masterPath) {
    const r = spawnSync('postconf', ['-dh', 'daemon_directory'], { encoding: 'utf8' });
    const dir = r.status === 0 && r.stdout.trim() ? r.stdout.trim() : '/usr/lib/postfix/sbin';
    masterPath = path.join(dir, 'master');
  }
  return masterPath;
}

export class PostfixHarnessError extends Error {
  constructor(public readonly code: 'not-installed' | 'not-root' | 'no-slot' | 'start-failed' | 'timeout', message: string) {
    super(message);
    this.name = 'PostfixHarnessError';
  }
}

export interface PostfixOptions {
  /** smtpd_milters value, e.g. `inet:127.0.0.1:PORT`. Default: none (no milter). */
  milters?: string;
  /** Shortcut: the example's smtpd_milters with its port replaced by this one. */
  milterPort?: number;
  /** non_smtpd_milters value (for sendmail(1) submissions). Default: none. */
  nonSmtpdMilters?: string;
  /** Overrides the example's milter_default_action. */
  milterDefaultAction?: 'accept' | 'reject' | 'tempfail' | 'quarantine';
  /** Extra/overriding main.cf parameters, applied last. */
  main?: Record<string, string>;
  /** Lines of a regexp: header_checks table (e.g. `/^Subject: hold me/ HOLD`). */
  headerChecks?: string[];
  /** Domains relayed to the sink (default example.test/.com/.net/.org). */
  testDomains?: string[];
  /** Domains delivered locally (virtual(8)) into one maildir, DIR/mailboxes/maildir/; read with mailbox(). */
  localDomains?: string[];
  /** Apply examples/postfix/main.cf (default true). */
  useExample?: boolean;
  /** Options for the sink (e.g. refuse some recipients). */
  sink?: Omit<SinkOptions, 'host' | 'port'>;
  /** Keep the directory after stop() (also POSTERN_KEEP_TEST_DIRS=1); the slot is reclaimed by the next start once this process is gone. */
  keepDir?: boolean;
}

export interface QueueEntry {
  queue_name: string;
  queue_id: string;
  arrival_time: number;
  message_size: number;
  sender: string;
  recipients: Array<{ address: string; delay_reason?: string }>;
  [k: string]: unknown;
}

export interface PostfixInstance {
  smtpPort: number;
  host: string;
  configDir: string;
  /** The main.cf parameters the instance runs with. */
  params: Record<string, string>;
  sink: Sink;
  /** Messages the sink received so far. */
  delivered(): DeliveredMessage[];
  waitForDelivered(n: number, timeoutMs?: number): Promise<DeliveredMessage[]>;
  /** All queued messages (postqueue -j). */
  queue(): Promise<QueueEntry[]>;
  /** Messages in the hold queue (where milter quarantine puts them). */
  holdQueue(): Promise<QueueEntry[]>;
  /** Poll holdQueue() until it has at least n entries. */
  waitForHold(n: number, timeoutMs?: number): Promise<QueueEntry[]>;
  flushQueue(): Promise<ToolResult>;
  postsuper(args: string[]): Promise<ToolResult>;
  /** `postcat -q ID` output (the queue file, with envelope and content). */
  postcat(queueId: string, args?: string[]): Promise<ToolResult>;
  /** Submit with this instance's sendmail(1) (goes through non_smtpd_milters). */
  sendmail(args: string[], message: Buffer | string): Promise<ToolResult>;
  /** Messages delivered locally (localDomains) to an address, or to a local part in any local domain. */
  mailbox(addressOrLocalpart: string): DeliveredMessage[];
  /** Contents of this instance's maillog_file. */
  log(): string;
  waitForLog(re: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

const live = new Map<string, { masterPidFile: string; keep: boolean }>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const cleanup = () => {
    for (const [dir, l] of live) {
      killMaster(l.masterPidFile);
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
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) && n > 1 ? n : undefined;
  } catch { return undefined; }
}

/** Running (a zombie waiting to be reaped by init counts as gone). */
function alive(pid: number): boolean {
  try { process.kill(pid, 0); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false; }
  try { return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return true; }
}

/** Kill a master and its daemons (master calls setsid(): its pid is their process group). */
function killMaster(pidFile: string, sig: NodeJS.Signals = 'SIGKILL'): void {
  const pid = readPid(pidFile);
  if (!pid || !alive(pid)) return;
  try { process.kill(-pid, sig); } catch { try { process.kill(pid, sig); } catch { /* gone */ } }
}

function sh(cmd: string, args: string[]): { status: number; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { status: r.status ?? 1, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

/** Make sure /etc/postfix/main.cf exists and lists every slot directory. Idempotent; root only. */
export function ensurePostfixPool(): void {
  if (!existsSync(master())) throw new PostfixHarnessError('not-installed', 'Postfix is not installed: run scripts/install-test-deps.sh as root');
  if (process.getuid?.() !== 0) throw new PostfixHarnessError('not-root', 'the Postfix harness must run as root');
  mkdirSync(POSTFIX_POOL_PARENT, { recursive: true, mode: 0o755 });
  const want = Array.from({ length: POSTFIX_POOL_SIZE }, (_, i) => `${POSTFIX_POOL_PARENT}/${i}`);
  const listed = () => {
    if (!existsSync('/etc/postfix/main.cf')) return false;
    const cur = sh('postconf', ['-h', 'alternate_config_directories']).out.split(/[\s,]+/);
    return want.every((d) => cur.includes(d));
  };
  if (listed()) return;
  // Several test processes may get here at once: serialise with an atomic mkdir lock.
  const lock = path.join(POSTFIX_POOL_PARENT, '.lock');
  const deadline = Date.now() + 10000;
  for (;;) {
    try { mkdirSync(lock); break; } catch {
      if (Date.now() > deadline) { rmSync(lock, { recursive: true, force: true }); continue; }
      spawnSync('sleep', ['0.1']);
    }
  }
  try {
    if (!existsSync('/etc/postfix/main.cf')) copyFileSync('/usr/share/postfix/main.cf.debian', '/etc/postfix/main.cf');
    if (!listed()) {
      const r = sh('postconf', ['-e', `alternate_config_directories = ${want.join(' ')}`]);
      if (r.status !== 0) throw new PostfixHarnessError('start-failed', `postconf -e alternate_config_directories failed: ${r.out}`);
    }
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Claim a free slot directory (atomic mkdir), reclaiming ones whose owner process is gone. */
function claimSlot(): string {
  for (let i = 0; i < POSTFIX_POOL_SIZE; i++) {
    const dir = `${POSTFIX_POOL_PARENT}/${i}`;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        mkdirSync(dir, { mode: 0o755 });
        writeFileSync(path.join(dir, 'owner'), String(process.pid));
        return dir;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const owner = readPid(path.join(dir, 'owner'));
      let age = 0;
      try { age = Date.now() - statSync(dir).mtimeMs; } catch { continue; }
      if ((owner !== undefined && alive(owner)) || (owner === undefined && age < 10000)) break;
      // Stale: move it aside atomically (only one reclaimer wins), stop its master, delete it.
      const trash = `${POSTFIX_POOL_PARENT}/.stale-${i}-${process.pid}-${Date.now()}`;
      try { renameSync(dir, trash); } catch { continue; }
      killMaster(path.join(trash, 'queue', 'pid', 'master.pid'));
      rmSync(trash, { recursive: true, force: true });
    }
  }
  throw new PostfixHarnessError('no-slot', `all ${POSTFIX_POOL_SIZE} Postfix slots under ${POSTFIX_POOL_PARENT} are in use`);
}

/** Parse a main.cf-style file into ordered name → value (continuation lines joined). */
export function parseMainCf(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let last: string | undefined;
  for (const line of text.split('\n')) {
    if (/^\s*(#|$)/.test(line)) continue;
    if (/^\s/.test(line)) { if (last) out[last] = `${out[last]} ${line.trim()}`.trim(); continue; }
    const m = /^([A-Za-z0-9_]+)\s*=\s*(.*)$/.exec(line);
    if (m) { last = m[1]!; out[last] = m[2]!.trim(); }
  }
  return out;
}

/** The example's settings with the milter address replaced. */
export function examplePostfixSettings(milterAddress?: string): Record<string, string> {
  const p = parseMainCf(readFileSync(EXAMPLE_POSTFIX_MAIN_CF, 'utf8'));
  if (milterAddress !== undefined) {
    for (const k of Object.keys(p)) p[k] = p[k]!.split(EXAMPLE_MILTER_ADDRESS).join(milterAddress);
  }
  return p;
}

function masterCf(smtpPort: number): string {
  // chroot off everywhere (the column after "unpriv"): a private instance has no chroot jail.
  return `# private test instance (generated by test/harness/postfix.ts)
127.0.0.1:${smtpPort} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`;
}

function formatMainCf(params: Record<string, string>): string {
  return '# private test instance (generated by test/harness/postfix.ts)\n'
    + Object.entries(params).map(([k, v]) => `${k} = ${v}`).join('\n') + '\n';
}

function readMaildir(dir: string): DeliveredMessage[] {
  const out: DeliveredMessage[] = [];
  for (const sub of ['new', 'cur']) {
    const d = path.join(dir, sub);
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d).sort()) out.push(parseFile(path.join(d, f)));
  }
  return out;
}

function parseFile(file: string): DeliveredMessage { return parseMessage(readFileSync(file), file); }

export async function startPostfix(options: PostfixOptions = {}): Promise<PostfixInstance> {
  ensurePostfixPool();
  installExitHook();
  const sink = await startSink({ ...(options.sink ?? {}) });
  let dir: string | undefined;
  try {
    dir = claimSlot();
    const keep = options.keepDir ?? process.env.POSTERN_KEEP_TEST_DIRS === '1';
    const masterPidFile = path.join(dir, 'queue', 'pid', 'master.pid');
    live.set(dir, { masterPidFile, keep });
    const queueDir = path.join(dir, 'queue');
    const dataDir = path.join(dir, 'data');
    mkdirSync(queueDir, { mode: 0o755 });
    mkdirSync(dataDir, { mode: 0o700 });
    const pf = sh('id', ['-u', 'postfix']);
    const pg = sh('id', ['-g', 'postfix']);
    chownSync(dataDir, Number(pf.out.trim()), Number(pg.out.trim()));

    const smtpPort = await freePort();
    const testDomains = options.testDomains ?? DEFAULT_TEST_DOMAINS;
    const base: Record<string, string> = {
      compatibility_level: '3.6',
      queue_directory: queueDir,
      data_directory: dataDir,
      maillog_file: path.join(dir, 'postfix.log'),
      maillog_file_prefixes: dir,
      myhostname: 'mx.postern.test',
      mydomain: 'postern.test',
      myorigin: '$myhostname',
      mydestination: '',
      local_recipient_maps: '',
      alias_maps: '',
      alias_database: '',
      inet_interfaces: '127.0.0.1',
      inet_protocols: 'ipv4',
      mynetworks: '127.0.0.0/8',
      relayhost: `[127.0.0.1]:${sink.port}`,
      relay_domains: testDomains.join(' '),
      smtpd_relay_restrictions: 'permit_mynetworks, reject_unauth_destination',
      smtpd_recipient_restrictions: 'permit_mynetworks, reject_unauth_destination',
      smtpd_authorized_xclient_hosts: '127.0.0.0/8',
      smtp_connect_timeout: '5s',
      smtp_tls_security_level: 'none',
      smtpd_tls_security_level: 'none',
      queue_run_delay: '1s',
      minimal_backoff_time: '1s',
      maximal_backoff_time: '2s',
      biff: 'no',
      append_dot_mydomain: 'no',
    };
    if (options.localDomains?.length) {
      const mbox = path.join(dir, 'mailboxes');
      mkdirSync(mbox, { mode: 0o777 });
      chownSync(mbox, 65534, 65534);
      Object.assign(base, {
        virtual_mailbox_domains: options.localDomains.join(' '),
        virtual_mailbox_base: mbox,
        // One maildir for every local recipient (virtual(8) forbids $1 in regexp results);
        // mailbox() picks a recipient's messages by the Delivered-To header virtual adds.
        virtual_mailbox_maps: 'static:maildir/',
        virtual_uid_maps: 'static:65534',
        virtual_gid_maps: 'static:65534',
        virtual_minimum_uid: '100',
      });
    }
    const example = options.useExample === false ? {} : examplePostfixSettings(
      options.milterPort !== undefined ? `inet:127.0.0.1:${options.milterPort}` : undefined);
    const params: Record<string, string> = { ...base, ...example };
    params.smtpd_milters = options.milters ?? (options.milterPort !== undefined ? example.smtpd_milters ?? '' : '');
    params.non_smtpd_milters = options.nonSmtpdMilters ?? '';
    if (options.milterDefaultAction) params.milter_default_action = options.milterDefaultAction;
    if (options.headerChecks) {
      const hc = path.join(dir, 'header_checks');
      writeFileSync(hc, options.headerChecks.join('\n') + '\n');
      params.header_checks = `regexp:${hc}`;
    }
    Object.assign(params, options.main ?? {});

    writeFileSync(path.join(dir, 'main.cf'), formatMainCf(params));
    writeFileSync(path.join(dir, 'master.cf'), masterCf(smtpPort));
    // Postfix re-reads a config file until its mtime is older than "now" (300 ms steps), so a file
    // written this very second costs up to 2 s per command: date them in the past.
    backdate(dir);

    // check-fatal creates the queue subdirectories (post-install create-missing) and validates;
    // master -w returns once the daemon is up (much faster than `postfix start`'s checks).
    const chk = sh('postfix', ['-c', dir, 'check-fatal']);
    if (chk.status !== 0) throw new PostfixHarnessError('start-failed', `postfix check failed: ${chk.out}\n${safeRead(path.join(dir, 'postfix.log'))}`);
    const st = sh(master(), ['-c', dir, '-w']);
    if (st.status !== 0) throw new PostfixHarnessError('start-failed', `postfix master failed to start: ${st.out}\n${safeRead(path.join(dir, 'postfix.log'))}`);
    await waitForPort(smtpPort, '127.0.0.1', 10000);
    // master accepts the connection even when smtpd dies at once on a bad setting (it then
    // throttles and the client hangs): read a real greeting so a broken config fails here, loudly.
    const logFile = path.join(dir, 'postfix.log');
    const fatalLines = () => safeRead(logFile).split('\n').filter((l) => /fatal:|panic:|bad command startup/.test(l)).join('\n');
    let greeting: string | undefined;
    const greetDeadline = Date.now() + 15000;
    while (!greeting && Date.now() < greetDeadline && !fatalLines()) greeting = await readGreeting(smtpPort, 1000);
    if (!greeting) {
      throw new PostfixHarnessError('start-failed', `Postfix smtpd sent no greeting\n${fatalLines() || tail(safeRead(logFile), 20)}`);
    }

    const d = dir;
    const pc = (cmd: string, args: string[], input?: Buffer | string) => runTool(cmd, ['-c', d, ...args], 30000, input);
    const instance: PostfixInstance = {
      smtpPort,
      host: '127.0.0.1',
      configDir: d,
      params,
      sink,
      delivered: () => [...sink.messages],
      waitForDelivered: (n, timeoutMs = 15000) => sink.waitFor(n, timeoutMs).catch((e: Error) => {
        throw new PostfixHarnessError('timeout', `${e.message}\n--- postfix log ---\n${tail(safeRead(path.join(d, 'postfix.log')), 40)}`);
      }),
      async queue() {
        const r = await pc('postqueue', ['-j']);
        return r.stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as QueueEntry);
      },
      async holdQueue() { return (await instance.queue()).filter((e) => e.queue_name === 'hold'); },
      async waitForHold(n, timeoutMs = 15000) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const h = await instance.holdQueue();
          if (h.length >= n) return h;
          if (Date.now() > deadline) throw new PostfixHarnessError('timeout', `hold queue has ${h.length} of ${n} after ${timeoutMs} ms`);
          await new Promise((r) => setTimeout(r, 150));
        }
      },
      flushQueue: () => pc('postqueue', ['-f']),
      postsuper: (args) => pc('postsuper', args),
      postcat: (id, args = []) => pc('postcat', [...args, '-q', id]),
      sendmail: (args, message) => runTool('/usr/sbin/sendmail', ['-C', d, ...args], 30000, message),
      mailbox: (address) => readMaildir(path.join(d, 'mailboxes', 'maildir'))
        .filter((msg) => address.includes('@')
          ? msg.header('delivered-to').some((v) => v.toLowerCase() === address.toLowerCase())
          : msg.header('delivered-to').some((v) => v.toLowerCase().startsWith(address.toLowerCase() + '@'))),
      log: () => safeRead(path.join(d, 'postfix.log')),
      async waitForLog(re, timeoutMs = 15000) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const text = instance.log();
          const m = re.exec(text);
          if (m) return m[0];
          if (Date.now() > deadline) throw new PostfixHarnessError('timeout', `no log line matching ${re} after ${timeoutMs} ms\n${tail(text, 40)}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      },
      async stop() {
        await stopInstance(d, masterPidFile, keep);
        await sink.stop();
      },
    };
    return instance;
  } catch (e) {
    if (dir) await stopInstance(dir, path.join(dir, 'queue', 'pid', 'master.pid'), false);
    await sink.stop();
    throw e;
  }
}

async function stopInstance(dir: string, masterPidFile: string, keep: boolean): Promise<void> {
  if (!live.has(dir) && !existsSync(dir)) return;
  const pid = readPid(masterPidFile);
  if (pid && alive(pid)) {
    // The instance is thrown away: no need for `postfix stop`'s orderly shutdown (≈1.7 s).
    // master calls setsid(), so its pid is the process group of every Postfix daemon it runs.
    killMaster(masterPidFile, 'SIGKILL');
    const deadline = Date.now() + 5000;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }
  live.delete(dir);
  if (!keep) rmSync(dir, { recursive: true, force: true });
}

/** The first line the server sends, or undefined on timeout/close. Sends QUIT afterwards. */
function readGreeting(port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host: '127.0.0.1' });
    let buf = '';
    const done = (v: string | undefined) => { clearTimeout(t); sock.removeAllListeners('data'); if (v) sock.end('QUIT\r\n'); else sock.destroy(); resolve(v); };
    const t = setTimeout(() => done(undefined), timeoutMs);
    sock.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      const nl = buf.indexOf('\n');
      if (nl >= 0) done(buf.slice(0, nl).trim());
    });
    sock.on('error', () => done(undefined));
    sock.on('close', () => done(undefined));
  });
}

/** Set every regular file directly in dir to an mtime 10 s ago. */
function backdate(dir: string): void {
  const past = new Date(Date.now() - 10000);
  for (const f of readdirSync(dir, { withFileTypes: true })) {
    if (f.isFile()) utimesSync(path.join(dir, f.name), past, past);
  }
}

function safeRead(file: string): string {
  try { return readFileSync(file, 'utf8'); } catch { return ''; }
}

function tail(text: string, n: number): string {
  return text.split('\n').slice(-n).join('\n');
}
