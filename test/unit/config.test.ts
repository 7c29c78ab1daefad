// Config loading as an administrator meets it: `postern check-config` (the real CLI) names the file,
// line and key of each problem and exits non-zero; `postern show-config` prints the effective config
// (shipped defaults merged with the file). Line numbers are asserted for every kind of mistake.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { CLI } from '../harness/postern.js';
import { ConfigError, defaultConfig, parseConfigText } from '../../src/config/load.js';

let dir: string;

before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'postern-config-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** check-config on `text`; returns the stderr line(s) with the temp dir stripped. */
async function check(name: string, text: string): Promise<{ code: number | null; out: string }> {
  const file = write(name, text);
  const r = await cli(['check-config', file]);
  return { code: r.code, out: (r.stdout + r.stderr).split(`${dir}${path.sep}`).join('').trim() };
}

test('check-config: a valid file passes with exit 0', async () => {
  const r = await check('ok.yaml', 'policy:\n  mode: monitor\n  monitor: ["helo.*"]\nlog:\n  level: warn\n');
  assert.equal(r.code, 0);
  assert.equal(r.out, 'ok.yaml: OK');
});

test('check-config: a monitor/disabled entry that can match no rule is refused with its line', async () => {
  const r = await check('typo.yaml', 'policy:\n  monitor:\n    - attachment.*\n    - atachment.blocked-name\n  disabled: ["rfc.missing-date", "nosuch"]\n');
  assert.equal(r.code, 1);
  assert.match(r.out, /typo\.yaml:4.*policy\.monitor\.1.*"atachment\.blocked-name" matches no rule/);
  assert.match(r.out, /typo\.yaml:5.*policy\.disabled\.1.*"nosuch" matches no rule/);
  assert.doesNotMatch(r.out, /attachment\.\*"|rfc\.missing-date"/);
});

test('check-config: unknown key, nested and at the top, with its line', async () => {
  const nested = await check('unknown.yaml', 'log:\n  level: info\npolicy:\n  mode: enforce\n  scoring:\n    header: 5\n    rejct: 20\n');
  assert.equal(nested.code, 1);
  assert.equal(nested.out, 'unknown.yaml:7: policy.scoring.rejct: unknown key "rejct"');
  const top = await check('top.yaml', 'log:\n  level: info\nbogus: 1\n');
  assert.equal(top.code, 1);
  assert.equal(top.out, 'top.yaml:1: (top): unknown key(s) "bogus"');
});

test('check-config: wrong type and bad enum value point at the value line', async () => {
  const type = await check('type.yaml', 'policy:\n  scoring:\n    header: 5\n    reject: "twenty"\n');
  assert.equal(type.code, 1);
  assert.equal(type.out, 'type.yaml:4: policy.scoring.reject: Invalid input: expected number, received string');
  const en = await check('enum.yaml', 'server:\n  listen: inet:10027@127.0.0.1\npolicy:\n\n  mode: sometimes\n');
  assert.equal(en.code, 1);
  assert.equal(en.out, 'enum.yaml:5: policy.mode: Invalid option: expected one of "enforce"|"monitor"');
  const list = await check('list.yaml', 'policy:\n  monitor: helo.syntax\n');
  assert.match(list.out, /^list\.yaml:2: policy\.monitor: .*expected array/);
});

test('check-config: YAML syntax error and duplicate key with their lines', async () => {
  const syn = await check('syntax.yaml', 'policy:\n  mode: enforce\n  monitor: [a, b\nlog:\n  level: info\n');
  assert.equal(syn.code, 1);
  // The parser notices the unclosed flow sequence where the next block starts.
  assert.match(syn.out, /^syntax\.yaml:4: .*end with a \]/);
  const dup = await check('dup.yaml', 'policy:\n  mode: enforce\n  errorAction: tempfail\n  mode: monitor\n');
  assert.equal(dup.code, 1);
  assert.equal(dup.out, 'dup.yaml:4: Map keys must be unique');
});

test('check-config: several problems are all listed, in line order', async () => {
  const r = await check('many.yaml', 'policy:\n  mode: sometimes\n  scoring:\n    rejct: 1\nlog:\n  level: loud\n');
  assert.equal(r.code, 1);
  assert.deepEqual(r.out.split('\n').map((l) => l.split(':').slice(0, 2).join(':')), ['many.yaml:2', 'many.yaml:4', 'many.yaml:6']);
});

test('check-config: a bad pattern in the config and a bad regex in a rules file, with lines', async () => {
  const pat = await check('pattern.yaml', 'connection:\n  sender:\n    patterns:\n      - "^ok$"\n      - "(unclosed"\n');
  assert.equal(pat.code, 1);
  assert.match(pat.out, /^pattern\.yaml:5: connection\.sender\.patterns: invalid pattern "\(unclosed"/);
  write('bad-rules.yaml', 'rules:\n  - id: test.ok\n    weight: 1\n    words: [hello]\n  - id: test.bad\n    weight: 1\n    regex:\n      - "fine"\n      - "(unclosed"\n');
  // Default content.workers (2) builds the pipeline in worker threads: check-config must still load rule files.
  const rules = await check('rules.yaml', `content:\n  rules:\n    files: [${JSON.stringify(path.join(dir, 'bad-rules.yaml'))}]\n`);
  assert.equal(rules.code, 1);
  assert.match(rules.out, /^bad-rules\.yaml:9: rule #2 \(test\.bad\): invalid regex \/\(unclosed\/.* \(via rules\.yaml\)$/);
  write('bad-weight.yaml', 'rules:\n  - id: test.ok\n    words: [hello]\n    weight: "x"\n');
  const weight = await check('weight.yaml', `content:\n  rules:\n    files: [${JSON.stringify(path.join(dir, 'bad-weight.yaml'))}]\n`);
  assert.match(weight.out, /^bad-weight\.yaml:4: rule #1 \(test\.ok\): weight: /);
});

test('check-config: a missing file is an error (exit 1) naming it', async () => {
  const r = await cli(['check-config', path.join(dir, 'absent.yaml')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /absent\.yaml: cannot read: ENOENT/);
});

test('parseConfigText: problems carry file, line and key', () => {
  try {
    parseConfigText('policy:\n  scoring:\n    header: x\n', 'inline.yaml');
    assert.fail('should throw');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.code, 'CONFIG_INVALID');
    assert.deepEqual(err.problems.map((p) => [p.file, p.line, p.key]), [['inline.yaml', 3, 'policy.scoring.header']]);
  }
});

test('show-config: your value where you set one, the defaults everywhere else', async () => {
  const file = write('show.yaml', 'policy:\n  trace:\n    header: X-Site-Trace\ndns:\n  timeoutMs: 750\n');
  const r = await cli(['show-config', '--config', file]);
  assert.equal(r.code, 0, r.stderr);
  const shown = parse(r.stdout) as ReturnType<typeof defaultConfig>;
  const defaults = defaultConfig();
  assert.equal(shown.policy.trace.header, 'X-Site-Trace');
  assert.equal(shown.dns.timeoutMs, 750);
  assert.equal(shown.policy.trace.enabled, defaults.policy.trace.enabled);
  assert.equal(shown.dns.tries, defaults.dns.tries);
  assert.deepEqual(shown.content, defaults.content);
  assert.deepEqual({ ...shown, policy: defaults.policy, dns: defaults.dns }, defaults);
  const json = await cli(['show-config', '--config', file, '--json']);
  assert.equal((JSON.parse(json.stdout) as typeof defaults).policy.trace.header, 'X-Site-Trace');
  const defs = await cli(['show-config', '--config', file, '--defaults']);
  assert.deepEqual(parse(defs.stdout), defaults);
  const bad = await cli(['show-config', '--config', write('showbad.yaml', 'policy:\n  mode: x\n')]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /showbad\.yaml:2: policy\.mode/);
});
