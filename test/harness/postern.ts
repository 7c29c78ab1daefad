// Starts a real Postern (the compiled CLI, `postern serve`) as a child process on a free loopback
// port with a given config, collects its JSON log lines, and stops it. Used by protocol and e2e tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { freePort, waitForPort } from './net.js';

/** dist-X/test/harness/postern.js -> dist-X/src/cli/main.js */
export const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');

export interface PosternInstance {
  port: number;
  /** Milter address in libmilter notation (sendmail, miltertest): inet:PORT@127.0.0.1 */
  milter: string;
  /** Milter address in Postfix notation: inet:127.0.0.1:PORT */
  postfixMilter: string;
  process: ChildProcess;
  configFile: string;
  /** Parsed JSON log lines so far. */
  logs(): Array<Record<string, unknown>>;
  /** Summary lines ("message") so far. */
  messages(): Array<Record<string, unknown>>;
  waitForLog(pred: (l: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  reload(config: Record<string, unknown> | string): void;
  stop(): Promise<number | null>;
}

export interface StartPosternOptions {
  /** Config as an object (written as YAML) or YAML text. */
  config?: Record<string, unknown> | string;
  logLevel?: string;
  env?: NodeJS.ProcessEnv;
}

export async function startPostern(options: StartPosternOptions = {}): Promise<PosternInstance> {
  const dir = mkdtempSync(path.join(tmpdir(), 'postern-test-'));
  const configFile = path.join(dir, 'postern.yaml');
  // Write to a temporary name and rename, so a reload never reads a half-written (empty) file.
  const write = (c: Record<string, unknown> | string | undefined) => {
    writeFileSync(`${configFile}.new`, typeof c === 'string' ? c : stringify(c ?? {}));
    renameSync(`${configFile}.new`, configFile);
  };
  write(options.config);
  const port = await freePort();
  const args = [CLI, 'serve', '--config', configFile, '--listen', `inet:${port}@127.0.0.1`, '--log-level', options.logLevel ?? 'info'];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
  const lines: Array<Record<string, unknown>> = [];
  const waiters: Array<{ pred: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }> = [];
  let stderr = '';
  let partial = '';
  child.stdout!.on('data', (d: Buffer) => {
    partial += d.toString('utf8');
    let nl: number;
    while ((nl = partial.indexOf('\n')) !== -1) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      try {
        const obj = JSON.parse(line) as Record<string, unknown>;
        lines.push(obj);
        for (let i = waiters.length - 1; i >= 0; i--) {
          if (waiters[i]!.pred(obj)) {
            waiters[i]!.resolve(obj);
            waiters.splice(i, 1);
          }
        }
      } catch {
        /* not JSON: ignore */
      }
    }
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await Promise.race([
      waitForPort(port, '127.0.0.1', 20000),
      exited.then((code) => {
        throw new Error(`postern exited (${code}) before listening: ${stderr}`);
      }),
    ]);
  } catch (err) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    port,
    milter: `inet:${port}@127.0.0.1`,
    postfixMilter: `inet:127.0.0.1:${port}`,
    process: child,
    configFile,
    logs: () => lines,
    messages: () => lines.filter((l) => l.msg === 'message'),
    waitForLog(pred, timeoutMs = 10000) {
      const found = lines.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`log line not seen within ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
        waiters.push({ pred, resolve: (l) => (clearTimeout(t), resolve(l)) });
      });
    },
    reload(config) {
      write(config);
      child.kill('SIGHUP');
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
      const code = await exited;
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}

/**
 * Config sections for a service under test that must not depend on DNS answers or clamd: local domain
 * example.net, no reverse-DNS or sender-domain rules, content analysed in-thread with clamd off.
 */
export function offlineServiceConfig(dnsServer: string, dnsTimeoutMs: number): Record<string, unknown> {
  return {
    dns: { servers: [dnsServer], timeoutMs: dnsTimeoutMs, tries: 1 },
    connection: {
      localDomains: ['example.net'],
      rdns: { missing: { action: 'off' }, mismatch: { action: 'off' } },
      sender: { domainMissing: { action: 'off' }, dnsTemp: { action: 'off' } },
    },
    outbound: { localDomains: ['example.net'] },
    content: { workers: 0, clamd: { enabled: false } },
  };
}
