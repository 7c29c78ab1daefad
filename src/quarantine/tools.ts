// Runs the MTA's own command-line tools (postqueue, postcat, postsuper, sendmail) without a shell
// and finds them on PATH or in the usual sbin directories. Arguments are passed as a list: nothing
// here ever builds a shell command line from a queue id.
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { QuarantineError } from './types.js';

export interface ToolOutput {
  exitCode: number;
  stdout: string;
  stderr: string;
}

const SBIN = ['/usr/sbin', '/usr/local/sbin', '/sbin', '/usr/bin', '/usr/local/bin', '/bin'];

/** Absolute path of an executable (a path is checked as is), or undefined. */
export function findTool(name: string): string | undefined {
  const ok = (p: string) => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (name.includes('/')) return ok(name) ? path.resolve(name) : undefined;
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), ...SBIN];
  for (const d of dirs) {
    const p = path.join(d, name);
    if (ok(p)) return p;
  }
  return undefined;
}

export function requireTool(name: string, why: string): string {
  const p = findTool(name);
  if (!p) throw new QuarantineError('tool-missing', `${name} not found (needed to ${why}); is the MTA installed and its sbin directory on PATH?`);
  return p;
}

/** Run a tool; never throws for a non-zero exit (callers decide), only when it cannot start. */
export function run(cmd: string, args: string[], timeoutMs = 60000): Promise<ToolOutput> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d: Buffer) => err.push(d));
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', (e) => {
      clearTimeout(t);
      reject(new QuarantineError('tool-missing', `cannot run ${cmd}: ${e.message}`));
    });
    p.on('close', (code, signal) => {
      clearTimeout(t);
      resolve({ exitCode: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/** Run and fail with the tool's own words when it exits non-zero. */
export async function runOk(cmd: string, args: string[], timeoutMs?: number): Promise<ToolOutput> {
  const r = await run(cmd, args, timeoutMs);
  if (r.exitCode !== 0) {
    const said = (r.stderr || r.stdout).trim().split('\n').slice(-5).join('\n');
    throw new QuarantineError('tool-failed', `${path.basename(cmd)} ${args.join(' ')} failed (exit ${r.exitCode}): ${said || 'no output'}`);
  }
  return r;
}
