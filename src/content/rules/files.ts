// Finds rule files (rules/*.yaml): absolute paths as given; relative paths beside the config file,
// then the working directory, then the package root (src/config/paths.ts). Never reads the file.
import { existsSync } from 'node:fs';
import { resolveDataPath } from '../../config/paths.js';

export class RulesFileError extends Error {
  readonly code: string;
  constructor(code: 'RULES_FILE_NOT_FOUND' | 'RULES_FILE_INVALID' | 'RULES_PATTERN_INVALID', message: string) {
    super(message);
    this.name = 'RulesFileError';
    this.code = code;
  }
}


export function resolveRulesFile(file: string): string {
  const resolved = resolveDataPath(file);
  if (existsSync(resolved)) return resolved;
  throw new RulesFileError('RULES_FILE_NOT_FOUND', `rules file not found: ${file} (looked beside the config file, in the working directory and in the package)`);
}
