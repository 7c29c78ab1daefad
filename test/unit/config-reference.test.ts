// docs/CONFIG.md is generated from the schema (npm run docs) and must not drift: this test compares the
// file with freshly generated text, and checks the reference lists every key with its default.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../harness/paths.js';
import { configReference, renderConfigReference } from '../../src/config/reference.js';
import { defaultConfig } from '../../src/config/load.js';

test('docs/CONFIG.md equals the reference generated from the schema (run `npm run docs` after a schema change)', () => {
  const file = path.join(REPO_ROOT, 'docs', 'CONFIG.md');
  const current = readFileSync(file, 'utf8');
  const fresh = renderConfigReference();
  if (current !== fresh) {
    const a = current.split('\n');
    const b = fresh.split('\n');
    const i = a.findIndex((l, n) => l !== b[n]);
    assert.fail(`docs/CONFIG.md is out of date (first difference at line ${i + 1}):\n  file: ${a[i]}\n  schema: ${b[i]}\nrun: npm run docs`);
  }
});

test('every leaf key of the effective defaults is documented, with its default and a description', () => {
  const entries = new Map(configReference().flatMap((s) => s.entries).map((e) => [e.key, e]));
  const leaves: Array<[string, unknown]> = [];
  const walk = (v: unknown, key: string) => {
    if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0) {
      for (const [k, sub] of Object.entries(v)) walk(sub, `${key}.${k}`);
    } else leaves.push([key, v]);
  };
  for (const [k, v] of Object.entries(defaultConfig())) walk(v, k);
  assert.ok(leaves.length > 100);
  // A leaf is documented by its own row or by the row of a small value object holding it (an SMTP reply).
  const rowOf = (k: string): string | undefined => {
    for (let key = k; key.includes('.'); key = key.slice(0, key.lastIndexOf('.'))) if (entries.has(key)) return key;
    return undefined;
  };
  const undocumented = leaves.filter(([k]) => rowOf(k) === undefined).map(([k]) => k);
  assert.deepEqual(undocumented, []);
  const defaults = defaultConfig() as unknown as Record<string, unknown>;
  const at = (k: string) => k.split('.').reduce<unknown>((o, p) => (o as Record<string, unknown>)[p], defaults);
  for (const [k] of leaves) assert.equal(entries.get(rowOf(k)!)!.default, `\`${JSON.stringify(at(rowOf(k)!))}\``, k);
  const noDescription = [...entries.values()].filter((e) => e.description === '' && !/\[\]\./.test(e.key)).map((e) => e.key);
  assert.deepEqual(noDescription, [], 'keys without .describe()');
});

test('the reference shows types, enums and ranges', () => {
  const text = renderConfigReference();
  assert.match(text, /^\| `policy\.mode` \| "enforce" \\\| "monitor" \| `"enforce"` \| monitor: /m);
  assert.match(text, /^\| `dns\.tries` \| integer 1\.\.5 \| `2` \| /m);
  assert.match(text, /^\| `metrics\.enabled` \| boolean \| `false` \| /m);
  assert.match(text, /^\| `connection\.dnsbl\.zones\[\]\.zone` \| string \| \(none\) \| /m);
});
