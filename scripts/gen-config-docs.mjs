// Writes docs/CONFIG.md from the config schema (`npm run docs`, which builds first). With --check,
// exits 1 when the file differs from the generated text instead of writing it.
// Usage: node scripts/gen-config-docs.mjs [--dist DIR] [--check] [OUT.md]
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const distAt = args.indexOf('--dist');
const dist = path.resolve(root, distAt !== -1 ? args[distAt + 1] : 'dist');
const target = path.resolve(root, args.find((a) => a.endsWith('.md')) ?? 'docs/CONFIG.md');
const { renderConfigReference } = await import(pathToFileURL(path.join(dist, 'src', 'config', 'reference.js')).href);
const text = renderConfigReference();
if (args.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    /* missing counts as different */
  }
  if (current !== text) {
    process.stderr.write(`${path.relative(root, target)} is out of date: run npm run docs\n`);
    process.exitCode = 1;
  } else process.stdout.write(`${path.relative(root, target)} is up to date\n`);
} else {
  mkdirSync(path.dirname(target), { recursive: true });
  writeFileSync(target, text);
  process.stdout.write(`wrote ${path.relative(root, target)}\n`);
}
