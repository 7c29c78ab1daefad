// Finds and reads shipped rule files (rules/*.yaml) and compiles user regular expressions on re2-wasm.
// Runs at start-up only; errors are typed (OutboundConfigError) so the caller can refuse to start.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RE2 } from 're2-wasm';
import YAML from 'yaml';

export class OutboundConfigError extends Error {
  constructor(
    message: string,
    readonly code: 'EOUTBOUND_FILE' | 'EOUTBOUND_REGEX' = 'EOUTBOUND_FILE',
  ) {
    super(message);
    this.name = 'OutboundConfigError';
  }
}

/** Absolute path as given; relative: the working directory first, then the package root (where rules/ is). */
export function resolveShipped(file: string): string {
  if (path.isAbsolute(file)) return file;
  const fromCwd = path.resolve(process.cwd(), file);
  if (existsSync(fromCwd)) return fromCwd;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const candidate = path.join(dir, file);
    if (existsSync(path.join(dir, 'package.json')) && existsSync(candidate)) return candidate;
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return fromCwd;
}

export function readYamlFile(file: string): unknown {
  const p = resolveShipped(file);
  try {
    return YAML.parse(readFileSync(p, 'utf8')) ?? {};
  } catch (err) {
    throw new OutboundConfigError(`cannot read ${p}: ${(err as Error).message}`);
  }
}

/** Compile an RE2 expression (always unicode; "g" for counting, "i" when asked). */
export function compileRe2(pattern: string, flags: string, what: string): RE2 {
  try {
    return new RE2(pattern, flags.includes('u') ? flags : `${flags}u`);
  } catch (err) {
    throw new OutboundConfigError(`${what}: invalid RE2 pattern ${JSON.stringify(pattern)}: ${(err as Error).message}`, 'EOUTBOUND_REGEX');
  }
}
