// Test harness: starts a private, real clamd (Debian package clamav-daemon) on a unix socket in a temp
// dir (and optionally TCP on a free loopback port) with a tiny signature database: EICAR as a body
// signature (test.ndb) and MD5 signatures of chosen fixture files (test.hdb). No signature download.
// It must never touch the system clamd, its socket or /var/lib/clamav, and never listen off loopback.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ClamdClient } from '../../src/content/clamd/client.js';
import { freePort } from './net.js';
import { FIXTURES } from './paths.js';

/** The 68-byte EICAR test string, built at run time so no source file carries it verbatim. */
export const EICAR = Buffer.from(
  'WDVPIVAlQEFQWzRcUFpYNTQoUF4pN0NDKTd9JEVJQ0FSLVNUQU5EQVJELUFOVElWSVJVUy1URVNULUZJTEUhJEgrSCo=',
  'base64',
);
/** Name of the EICAR body signature in test.ndb (clamd reports it with ".UNOFFICIAL" appended). */
export const EICAR_SIGNATURE = 'Eicar-Test-Signature';
/** Fixture matched by MD5 in test.hdb, and its signature name. */
export const HASH_FIXTURE = path.join(FIXTURES, 'clamd', 'hash-target.txt');
export const HASH_SIGNATURE = 'Postern.Test.HashTarget';

export const CLAMD_BINARY = process.env.POSTERN_CLAMD ?? '/usr/sbin/clamd';

export interface StartClamdOptions {
  /** Also listen on TCP 127.0.0.1:<free port>. */
  tcp?: boolean;
  /** Extra files to add to test.hdb: { file, name }. HASH_FIXTURE is always there. */
  hashFiles?: { file: string; name: string }[];
  /** clamd StreamMaxLength (e.g. "1M"); clamd's default is 25M. */
  streamMaxLength?: string;
  /** Extra raw clamd.conf lines. */
  extraConfig?: string[];
  /** How long to wait for PONG (default 30 s). */
  startTimeoutMs?: number;
}

export interface ClamdInstance {
  socketPath: string;
  tcpPort?: number;
  /** "unix:/tmp/.../clamd.ctl" for config. */
  address: string;
  dir: string;
  pid: number;
  /** Milliseconds from spawn to first PONG. */
  startMs: number;
  /** Stop clamd, wait for it to exit, remove the temp dir. Safe to call twice. */
  stop(): Promise<void>;
  /** clamd's log so far (for failure messages). */
  log(): Promise<string>;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort when a test crashes before calling stop(): never leave a clamd behind.
  process.on('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
  // The test runner stops a timed-out file with a signal: take clamd down too, then die as asked.
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.once(sig, () => {
      for (const child of running) child.kill('SIGKILL');
      process.kill(process.pid, sig);
    });
  }
}

export async function startClamd(opts: StartClamdOptions = {}): Promise<ClamdInstance> {
  if (!existsSync(CLAMD_BINARY)) {
    throw new Error(`${CLAMD_BINARY} not found: install the Debian package clamav-daemon (or set POSTERN_CLAMD)`);
  }
  installExitHook();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'postern-clamd-'));
  const db = path.join(dir, 'db');
  const tmp = path.join(dir, 'tmp');
  await mkdir(db);
  await mkdir(tmp);
  // Offset "*": anywhere in the scanned data (not only at byte 0), so EICAR inside a larger part matches.
  await writeFile(path.join(db, 'test.ndb'), `${EICAR_SIGNATURE}:0:*:${EICAR.toString('hex')}\n`);
  const hashFiles = [{ file: HASH_FIXTURE, name: HASH_SIGNATURE }, ...(opts.hashFiles ?? [])];
  const hdb: string[] = [];
  for (const h of hashFiles) {
    const data = await readFile(h.file);
    hdb.push(`${createHash('md5').update(data).digest('hex')}:${data.length}:${h.name}`);
  }
  await writeFile(path.join(db, 'test.hdb'), hdb.join('\n') + '\n');

  const socketPath = path.join(dir, 'clamd.ctl');
  const tcpPort = opts.tcp ? await freePort() : undefined;
  const conf = [
    `LocalSocket ${socketPath}`,
    'LocalSocketMode 600',
    'FixStaleSocket yes',
    ...(tcpPort ? [`TCPSocket ${tcpPort}`, 'TCPAddr 127.0.0.1'] : []),
    `PidFile ${path.join(dir, 'clamd.pid')}`,
    `LogFile ${path.join(dir, 'clamd.log')}`,
    'LogTime yes',
    `DatabaseDirectory ${db}`,
    `TemporaryDirectory ${tmp}`,
    // Foreground: clamd stays our child, so stop() can wait for its exit and the exit hook can kill it.
    'Foreground yes',
    // No User line: clamd (1.4) runs as whoever starts it, root included, and owns its temp dir.
    'SelfCheck 0',
    'MaxThreads 8',
    ...(opts.streamMaxLength ? [`StreamMaxLength ${opts.streamMaxLength}`] : []),
    ...(opts.extraConfig ?? []),
  ];
  const confPath = path.join(dir, 'clamd.conf');
  await writeFile(confPath, conf.join('\n') + '\n');

  const started = Date.now();
  const child = spawn(CLAMD_BINARY, ['-c', confPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  child.stdout?.on('data', (d: Buffer) => { output = (output + d.toString()).slice(-20000); });
  child.stderr?.on('data', (d: Buffer) => { output = (output + d.toString()).slice(-20000); });
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      running.delete(child);
      resolve();
    });
    child.on('error', (err) => {
      output += `\nspawn error: ${err.message}`;
      exited ??= { code: -1, signal: null };
      running.delete(child);
      resolve();
    });
  });

  const readLog = async (): Promise<string> => {
    try {
      return await readFile(path.join(dir, 'clamd.log'), 'utf8');
    } catch {
      return '';
    }
  };
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (!exited) {
      child.kill('SIGTERM');
      const killTimer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exitPromise;
      clearTimeout(killTimer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  const client = new ClamdClient({ address: { kind: 'unix', path: socketPath }, connectTimeoutMs: 1000, scanTimeoutMs: 2000 });
  const deadline = started + (opts.startTimeoutMs ?? 30000);
  try {
    for (;;) {
      if (exited) throw new Error(`clamd exited during start-up (${JSON.stringify(exited)})`);
      if (existsSync(socketPath)) {
        try {
          await client.ping();
          break;
        } catch {
          /* not ready yet */
        }
      }
      if (Date.now() > deadline) throw new Error(`clamd did not answer PING within ${opts.startTimeoutMs ?? 30000} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  } catch (err) {
    const log = await readLog();
    await stop();
    throw new Error(`${(err as Error).message} [temp dir ${dir} removed]\n--- clamd output ---\n${output}\n--- clamd.log ---\n${log}`);
  }
  const startMs = Date.now() - started;

  return {
    socketPath,
    ...(tcpPort ? { tcpPort } : {}),
    address: `unix:${socketPath}`,
    dir,
    pid: child.pid as number,
    startMs,
    stop,
    log: readLog,
  };
}
