// `postern demo` (what `npm run demo` runs) end to end: the compiled CLI starts its private Postfix,
// Postern, DNS server and (when installed) clamd, sends its messages and prints the table. Asserted:
// each row's verdict and outcome, the exit code, and that the Postfix instance is gone afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { CLAMD_BINARY } from '../harness/clamd.js';
import { CLI } from '../harness/postern.js';
import { runTool } from '../harness/smtp-client.js';

const skip =
  process.getuid?.() !== 0
    ? 'SKIPPED: the demo needs root (it starts a private Postfix)'
    : spawnSync('postconf', ['-d', 'mail_version']).status !== 0
      ? 'SKIPPED: Postfix not installed (run scripts/install-test-deps.sh)'
      : false;
if (skip) console.warn(`\n*** ${skip} ***\n`);

const EXPECTED: Array<[string, string, RegExp, RegExp]> = [
  // name, verdict, reply, outcome
  ['clean', 'accept', /^250 /, /delivered/],
  ['spam-like', 'quarantine', /^250 /, /held \(hold queue\)/],
  ['executable', 'reject', /^554 5\.7\.1 /, /refused/],
  ['encrypted-zip', 'quarantine', /^250 /, /held \(hold queue\)/],
  ['eicar', 'reject', /^554 5\.7\.1 virus found/, /refused/],
  ['mime-trick', 'reject', /^554 5\.6\.0 /, /refused/],
  ['out-of-office', 'reject', /^550 5\.7\.1 /, /refused/],
];

test('postern demo refuses to run without root, with a clear message', { skip: process.getuid?.() !== 0 ? 'needs root to drop to nobody' : false }, () => {
  const r = spawnSync(process.execPath, [CLI, 'demo'], { uid: 65534, gid: 65534, encoding: 'utf8', timeout: 60000 });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /postern demo: the demo starts a private Postfix instance, which needs root/);
  assert.equal(r.stdout, '');
});

test('postern demo prints the table with the expected verdicts and cleans up', { skip, timeout: 240000 }, async () => {
  const r = await runTool(process.execPath, [CLI, 'demo'], 200000);
  console.log(r.stdout);
  assert.equal(r.exitCode, 0, `exit ${r.exitCode}\n${r.stdout}\n${r.stderr}`);
  const lines = r.stdout.split('\n');
  const header = lines.findIndex((l) => /^MESSAGE\s+SMTP REPLY\s+VERDICT\s+RULES\s+DELIVERED\/HELD$/.test(l));
  assert.ok(header >= 0, 'table header printed');
  const cols = ['MESSAGE', 'SMTP REPLY', 'VERDICT', 'RULES', 'DELIVERED/HELD'].map((c) => lines[header]!.indexOf(c));
  const rowOf = (name: string) => {
    const l = lines.slice(header + 2).find((x) => x.startsWith(name + ' '));
    if (!l) return undefined;
    return cols.map((start, i) => l.slice(start, cols[i + 1] ?? undefined).trim());
  };
  const clamd = existsSync(CLAMD_BINARY);
  for (const [name, verdict, reply, outcome] of EXPECTED) {
    const row = rowOf(name);
    if (name === 'eicar' && !clamd) {
      assert.equal(row, undefined, 'no EICAR row without clamd');
      assert.match(r.stdout, /skipped: eicar \(needs clamd\)/);
      continue;
    }
    assert.ok(row, `row for ${name}`);
    assert.equal(row[2], verdict, `${name}: verdict`);
    assert.match(row[1]!, reply, `${name}: reply`);
    assert.match(row[4]!, outcome, `${name}: outcome`);
  }
  assert.match(rowOf('encrypted-zip')![3]!, /archive\.encrypted/);
  assert.match(rowOf('executable')![3]!, /attachment\.blocked-name/);
  assert.match(rowOf('out-of-office')![3]!, /outbound\.autoreply/);
  assert.match(rowOf('spam-like')![3]!, /^score\.quarantine,content\.spam/);
  // The demo lists its hold queue with `postern quarantine list` before cleaning up.
  assert.match(r.stdout, /postern quarantine list --config-dir \S+:\n\s+QUEUE-ID\s+ARRIVED/);
  assert.match(r.stdout, /^\s+[0-9A-F]+\s+.*alice@example\.org\s+bob@example\.test\s+archive\.encrypted: /m);
  assert.match(r.stdout, /^\s+[0-9A-F]+\s+.*winner@example\.com\s+bob@example\.test\s+score\.quarantine: message score \d+/m);
  assert.match(r.stdout, /^\s+2 quarantined messages$/m);
  // The private Postfix instance is gone.
  const dir = /private instance (\S+),/.exec(r.stdout)?.[1];
  assert.ok(dir, 'instance directory printed');
  // Gone, or reclaimed since by another live test process (slots are shared): never owned by a dead demo.
  if (existsSync(`${dir}/owner`)) {
    const owner = Number(readFileSync(`${dir}/owner`, 'utf8').trim());
    assert.doesNotThrow(() => process.kill(owner, 0), `slot ${dir} still owned by the exited demo (${owner})`);
  }
  assert.match(r.stdout, /Everything the demo started has been stopped and removed/);
});
