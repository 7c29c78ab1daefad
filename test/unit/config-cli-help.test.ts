// Admin UX of the config commands: `show-config` prints every key's reason as a YAML comment (and
// stays valid YAML equal to the effective config), `check-config` points policy-build errors without
// a key path (missing rule file, bad pattern, unreadable dictionary file) at the config line they come
// from, every command answers --help with exit 0, and a bad flag is a usage error (exit 2).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { CLI } from '../harness/postern.js';
import { commentedYaml } from '../../src/config/commented.js';
import { defaultConfig } from '../../src/config/load.js';

const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60000 });

test('show-config --defaults: reasons as comments, still the same config when parsed', () => {
  const r = run('show-config', '--defaults');
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(parse(r.stdout), JSON.parse(JSON.stringify(defaultConfig())));
  // a key and the start of its reason on the line(s) above it
  assert.match(r.stdout, /# Close a connection whose first milter frame[^]*?\n\s+firstFrameMs: 30000\n/);
  assert.match(r.stdout, /# dataleak\.incomplete when the scan could not see all the text[^]*?\n\s+incompleteAction: quarantine\n/);
  const comments = r.stdout.split('\n').filter((l) => /^\s*#/.test(l)).length;
  assert.ok(comments > 200, `${comments} comment lines`);
  assert.equal(commentedYaml({ nothing: 1 }), 'nothing: 1\n', 'no reason, no comment');
  const json = run('show-config', '--defaults', '--json');
  assert.equal(json.status, 0);
  assert.ok(!json.stdout.includes('#'));
});

test('check-config: policy-build errors name the config line they come from', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'postern-cc-'));
  try {
    const cases: Array<[string, number, RegExp]> = [
      ['content:\n  rules:\n    files: [/nonexistent/rules.yaml]\n', 3, /rules file not found: \/nonexistent\/rules\.yaml/],
      ['outbound:\n  dataLeak:\n    dictionaries:\n      - id: x\n        patterns: ["(unclosed"]\n', 5, /invalid RE2 pattern "\(unclosed"/],
      ['outbound:\n  dataLeak:\n    dictionaryFile: /nonexistent/dl.yaml\n', 3, /cannot read \/nonexistent\/dl\.yaml/],
      ['connection:\n  client:\n    deny:\n      - 192.0.2.0/24\n      - 203.0.113.0/33\n', 5, /invalid address or CIDR "203\.0\.113\.0\/33"/],
    ];
    cases.forEach(([yaml, line, what], i) => {
      const file = path.join(dir, `c${i}.yaml`);
      writeFileSync(file, yaml);
      const r = run('check-config', file);
      assert.equal(r.status, 1, r.stdout);
      assert.ok(r.stderr.startsWith(`${file}:${line}: `), r.stderr);
      assert.match(r.stderr, what);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--help for every command exits 0 and names its flags and exit codes; a bad flag exits 2', () => {
  for (const [cmd, flags] of [
    ['serve', ['--config', '--listen', '--pid-file', '--log-level', 'exit codes']],
    ['check-config', ['FILE', 'exit codes']],
    ['show-config', ['--config', '--defaults', '--json', 'exit codes']],
    ['reload', ['--pid-file', 'exit codes']],
    ['scan', ['--rcpt']],
    ['quarantine', ['--mta']],
  ] as const) {
    const r = run(cmd, '--help');
    assert.equal(r.status, 0, `${cmd}: ${r.stderr}`);
    for (const f of flags) assert.ok(r.stdout.includes(f), `${cmd} --help mentions ${f}`);
    // `postern help CMD` prints the same text as `postern CMD --help`
    const viaHelp = run('help', cmd);
    assert.equal(viaHelp.status, 0);
    assert.equal(viaHelp.stdout, r.stdout, `postern help ${cmd}`);
  }
  const top = run('--help');
  assert.equal(top.status, 0);
  assert.match(top.stdout, /exit codes: 0 success, 1 error, 2 usage error/);
  const bad = run('show-config', '--bogus');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /Unknown option '--bogus'[^]*postern show-config --help/);
  assert.equal(run('nosuch').status, 2);
});
