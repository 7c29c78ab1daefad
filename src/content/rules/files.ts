// Finds shipped rule files (rules/*.yaml): absolute paths as given; relative paths against the
// working directory first, then the package root (found by walking up from this module to
// package.json), so both `node dist/...` and installed copies find rules/. Never reads the file.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export class RulesFileError extends Error {
  readonly code: string;
  constructor(code: 'RULES_FILE_NOT_FOUND' | 'RULES_FILE_INVALID' | 'RULES_PATTERN_INVALID', message: string) {
    super(message);
    this.name = 'RulesFileError';
    this.code = code;
  }
}

function packageRoot(): string | undefined {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'rules'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return undefined;
}

export function resolveRulesFile(file: string): string {
  if (path.isAbsolute(file)) {
    if (existsSync(file)) return file;
    throw new RulesFileError('RULES_FILE_NOT_FOUND', `rules file not found: ${file}`);
  }
  const candidates = [path.resolve(process.cwd(), file)];
  const root = packageRoot();
  if (root) candidates.push(path.join(root, file));
  for (const c of candidates) if (existsSync(c)) return c;
  throw new RulesFileError('RULES_FILE_NOT_FOUND', `rules file not found: ${file} (looked in ${candidates.join(', ')})`);
}
