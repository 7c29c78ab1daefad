// Finds and reads shipped rule files (rules/*.yaml) and compiles user regular expressions on re2-wasm.
// Runs at start-up only; errors are typed (OutboundConfigError) so the caller can refuse to start.
import { readFileSync } from 'node:fs';
import { RE2 } from 're2-wasm';
import YAML from 'yaml';
import { resolveDataPath } from '../../config/paths.js';

export class OutboundConfigError extends Error {
  constructor(
    message: string,
    readonly code: 'EOUTBOUND_FILE' | 'EOUTBOUND_REGEX' = 'EOUTBOUND_FILE',
  ) {
    super(message);
    this.name = 'OutboundConfigError';
  }
}

/** Read a YAML file; a relative path resolves beside the config file, the working directory, then the package root. */
export function readYamlFile(file: string): unknown {
  const p = resolveDataPath(file);
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
