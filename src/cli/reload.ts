// `postern reload`: send SIGHUP to a running postern found through its pid file.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

export const DEFAULT_PID_FILE = '/run/postern/postern.pid';

export async function runReload(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { 'pid-file': { type: 'string' } } });
  const file = values['pid-file'] ?? DEFAULT_PID_FILE;
  let pid: number;
  try {
    pid = Number(readFileSync(file, 'utf8').trim());
  } catch {
    process.stderr.write(`postern reload: cannot read pid file ${file} (start serve with --pid-file ${file})\n`);
    return 1;
  }
  if (!Number.isInteger(pid) || pid <= 1) {
    process.stderr.write(`postern reload: ${file} holds no valid pid\n`);
    return 1;
  }
  try {
    process.kill(pid, 'SIGHUP');
  } catch (err) {
    process.stderr.write(`postern reload: cannot signal pid ${pid}: ${(err as NodeJS.ErrnoException).code}\n`);
    return 1;
  }
  process.stdout.write(`reload requested (pid ${pid}); the result is in postern's log\n`);
  return 0;
}
