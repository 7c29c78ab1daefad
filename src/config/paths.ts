// Where shipped data lives and how relative paths in the config resolve: first against the config
// file's folder (when a config file was given), then the working directory, then the package root
// (so "rules/attachments.yaml" finds the shipped file from anywhere).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository / package root: two levels above dist/src/config or src/config. */
function findRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'rules'))) return dir;
    dir = path.dirname(dir);
  }
  return process.cwd();
}

export const PACKAGE_ROOT = findRoot();
let configDir: string | undefined;

/** Remember the loaded config file's folder for resolving relative paths. */
export function setConfigDir(dir: string | undefined): void {
  configDir = dir;
}

export function getConfigDir(): string | undefined {
  return configDir;
}

export function resolveDataPath(file: string): string {
  if (path.isAbsolute(file)) return file;
  const candidates = [
    ...(configDir ? [path.resolve(configDir, file)] : []),
    path.resolve(process.cwd(), file),
    path.resolve(PACKAGE_ROOT, file),
  ];
  return candidates.find((c) => existsSync(c)) ?? candidates[candidates.length - 1]!;
}
