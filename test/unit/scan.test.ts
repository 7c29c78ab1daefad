// `postern scan`: the real CLI (compiled, as a child process) on fixture messages, with a loopback DNS
// server for the sender-domain and reverse-DNS checks and clamd pointed at nothing or at a real clamd.
// Asserts verdicts, exit codes, the JSON shape, the rules with where/why, header changes, mbox and
// folder scanning, and that a check that could not run shows as tempfail (never an accept).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { CLI } from '../harness/postern.js';
import { FIXTURES } from '../harness/paths.js';
import { freePort } from '../harness/net.js';
import { startDnsServer, type TestDnsServer } from '../harness/dns-server.js';
import { CLAMD_BINARY, EICAR, EICAR_SIGNATURE, startClamd } from '../harness/clamd.js';
import { splitMbox, splitMessage, addressesOf, envelopeFromHeaders, isMbox } from '../../src/cli/scan-input.js';
import { looksLikeMessage } from '../../src/cli/scan-sniff.js';
import * as B from '../fixtures/attachments/build.js';

const MSG = path.join(FIXTURES, 'scan', 'messages');
let dns: TestDnsServer;
let dir: string;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'scan', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

function json(r: Run): Array<Record<string, any>> {
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
}

/** A config file for the test DNS server, local domain example.net, clamd as given. */
function config(name: string, extra: Record<string, any> = {}): string {
  const base: Record<string, any> = {
    dns: { servers: [dns.server], timeoutMs: 2000, tries: 2 },
    connection: { localDomains: ['example.net'] },
    outbound: { localDomains: ['example.net'] },
    content: { clamd: { enabled: false } },
  };
  const merged = deepMerge(base, extra);
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, stringify(merged));
  return file;
}

function deepMerge(a: Record<string, any>, b: Record<string, any>): Record<string, any> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) {
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && a[k] && typeof a[k] === 'object' ? deepMerge(a[k], v) : v;
  }
  return out;
}

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'postern-scan-'));
  dns = await startDnsServer({
    records: {
      'example.org': [{ type: 'MX', data: { preference: 10, exchange: 'mail.example.org' } }, { type: 'A', data: '192.0.2.1' }],
      'mail.example.org': [{ type: 'A', data: '192.0.2.1' }],
      '1.2.0.192.in-addr.arpa': [{ type: 'PTR', data: 'mail.example.org' }],
    },
    rcodes: { 'broken.example': 'SERVFAIL' },
  });
});

after(async () => {
  await dns.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a clean message is accepted: exit 0, JSON with verdict, reply, rules, headers, timings, file', async () => {
  const r = await run([path.join(MSG, 'clean.eml'), '--config', config('clean'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const [o] = json(r);
  assert.equal(o!.verdict, 'accept');
  assert.equal(o!.file, path.join(MSG, 'clean.eml'));
  assert.equal(o!.reply, undefined);
  assert.ok(Array.isArray(o!.rules));
  // Envelope defaults come from the message: Return-Path, and every To address (folded, quoted comma).
  assert.equal(o!.envelope.from, 'alice@example.org');
  assert.deepEqual(o!.envelope.rcpts, ['bob@example.net', 'carol@example.net']);
  assert.equal(o!.envelope.clientIp, '192.0.2.1');
  assert.equal(o!.direction, 'inbound');
  const trace = (o!.headers as Array<Record<string, string>>).find((h) => h.name === 'X-Postern');
  assert.ok(trace, 'trace header added');
  assert.equal(trace!.op, 'add');
  assert.match(trace!.value!, /accept/);
  for (const stage of ['connect', 'helo', 'mail', 'rcpt', 'eom', 'total']) assert.equal(typeof o!.timings[stage], 'number', stage);
});

test('an executable attachment is rejected: exit 10, the rule with where and why, the reply naming it', async () => {
  const r = await run([path.join(MSG, 'exe-attachment.eml'), '--config', config('exe'), '--json']);
  assert.equal(r.code, 10, r.stderr);
  const [o] = json(r);
  assert.equal(o!.verdict, 'reject');
  assert.equal(o!.decidedAt, 'eom');
  assert.match(o!.reply, /^5\d\d 5\.\d+\.\d+ .*attachment\./);
  const hit = (o!.rules as Array<Record<string, any>>).find((h) => h.rule === 'attachment.blocked-name');
  assert.ok(hit, JSON.stringify(o!.rules));
  assert.equal(hit!.action, 'reject');
  assert.match(`${hit!.where} ${hit!.detail}`, /invoice\.exe/);
  assert.deepEqual(o!.headers, [], 'a refused message gets no header changes');
});

test('human output names verdict, reply, rules, headers and timings', async () => {
  const r = await run([path.join(MSG, 'exe-attachment.eml'), '--config', config('exe-h')]);
  assert.equal(r.code, 10);
  assert.match(r.stdout, /^verdict: +REJECT at eom$/m);
  assert.match(r.stdout, /^reply: +5\d\d /m);
  assert.match(r.stdout, /attachment\.blocked-name +reject +\[eom: .*invoice\.exe/);
  assert.match(r.stdout, /^timings: .*total/m);
  const clean = await run([path.join(MSG, 'clean.eml'), '--config', config('clean-h')]);
  assert.equal(clean.code, 0);
  assert.match(clean.stdout, /^ +\+ X-Postern: /m);
});

test('monitor mode: accepted (exit 0) but shows what would have happened', async () => {
  const r = await run([path.join(MSG, 'exe-attachment.eml'), '--config', config('monitor', { policy: { monitor: ['attachment.*'] } }), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const [o] = json(r);
  assert.equal(o!.verdict, 'accept');
  assert.equal(o!.wouldBe, 'reject');
  const hit = (o!.rules as Array<Record<string, any>>).find((h) => h.rule === 'attachment.blocked-name');
  assert.equal(hit!.monitor, true);
});

test('quarantine and discard have their own exit codes (12, 13)', async () => {
  const q = await run([path.join(MSG, 'exe-attachment.eml'), '--config', config('q', { content: { attachments: { actions: { blockedName: 'quarantine', blockedType: 'quarantine' } } } }), '--json']);
  assert.equal(q.code, 12, q.stderr);
  const [qo] = json(q);
  assert.equal(qo!.verdict, 'quarantine');
  assert.ok((qo!.actions as Array<Record<string, string>>).some((a) => a.type === 'quarantine' && /attachment\./.test(a.reason!)));
  const d = await run([path.join(MSG, 'exe-attachment.eml'), '--config', config('d', { content: { attachments: { actions: { blockedName: 'discard', blockedType: 'discard' } } } }), '--json']);
  assert.equal(d.code, 13, d.stderr);
  assert.equal(json(d)[0]!.verdict, 'discard');
});

test('clamd unreachable: tempfail (exit 11) with clamd.unavailable, never an accept', async () => {
  const port = await freePort();
  const file = config('noclamd', { content: { clamd: { enabled: true, address: `tcp:127.0.0.1:${port}`, connectTimeoutMs: 500 } } });
  const r = await run([path.join(MSG, 'clean.eml'), '--config', file, '--json']);
  assert.equal(r.code, 11, r.stderr);
  const [o] = json(r);
  assert.equal(o!.verdict, 'tempfail');
  assert.match(o!.reply, /^4\d\d /);
  assert.ok((o!.rules as Array<Record<string, any>>).some((h) => h.rule === 'clamd.unavailable' && h.action === 'tempfail'));
});

test('DNS failure for the sender domain: tempfail at MAIL (sender.dns-temp), exit 11', async () => {
  const r = await run([path.join(MSG, 'clean.eml'), '--config', config('dnsfail'), '--from', 'x@broken.example', '--json']);
  assert.equal(r.code, 11, r.stderr);
  const [o] = json(r);
  assert.equal(o!.verdict, 'tempfail');
  assert.equal(o!.decidedAt, 'mail');
  assert.ok((o!.rules as Array<Record<string, any>>).some((h) => h.rule === 'sender.dns-temp'));
});

test('--from/--rcpt override the headers; a refused recipient ends the scan at RCPT like an MTA', async () => {
  const r = await run([path.join(MSG, 'clean.eml'), '--config', config('relay'), '--from', '<alice@example.org>', '--rcpt', 'someone@elsewhere.example', '--json']);
  assert.equal(r.code, 10, r.stderr);
  const [o] = json(r);
  assert.equal(o!.decidedAt, 'rcpt');
  assert.deepEqual(o!.envelope.rcpts, ['someone@elsewhere.example']);
  assert.equal(o!.recipients[0].accepted, false);
  const hit = (o!.rules as Array<Record<string, any>>).find((h) => h.action === 'reject');
  assert.match(hit!.where, /rcpt <someone@elsewhere\.example>/);
  // One refused and one accepted recipient: the message goes on for the accepted one.
  const two = await run([path.join(MSG, 'clean.eml'), '--config', config('relay2'), '--rcpt', 'someone@elsewhere.example', '--rcpt', 'bob@example.net', '--json']);
  assert.equal(two.code, 0, two.stderr);
  assert.equal(json(two)[0]!.decidedAt, 'eom');
});

test('an mbox is split into messages: one JSON line each plus totals; exit is the most severe verdict', async () => {
  const r = await run([path.join(MSG, 'three.mbox'), '--config', config('mbox'), '--json']);
  assert.equal(r.code, 10, r.stderr);
  const lines = json(r);
  assert.equal(lines.length, 4);
  assert.deepEqual(lines.slice(0, 3).map((l) => l.file), [1, 2, 3].map((i) => `${path.join(MSG, 'three.mbox')}#${i}`));
  assert.deepEqual(lines.slice(0, 3).map((l) => l.verdict), ['accept', 'reject', 'accept']);
  assert.deepEqual(lines[3], { totals: { messages: 3, errors: 0, verdicts: { accept: 2, reject: 1, tempfail: 0, quarantine: 0, discard: 0 }, skipped: 0 } });
});

test('a folder is scanned recursively: one line per message plus a totals line', async () => {
  const r = await run([MSG, '--config', config('folder')]);
  assert.equal(r.code, 10, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 6); // clean, exe, 3 from the mbox, totals
  assert.match(lines[0]!, /^ACCEPT +\S*clean\.eml/);
  assert.match(lines[1]!, /^REJECT +\S*exe-attachment\.eml .*rules=.*attachment\.blocked-name/);
  assert.equal(lines[5], 'total: 5 messages: accept 3, reject 2');
});

test('--offline switches the network checks off and says so', async () => {
  const r = await run([path.join(MSG, 'clean.eml'), '--offline', '--config', config('offline', { dns: { servers: ['127.0.0.1:9'], timeoutMs: 200 } }), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const [o] = json(r);
  assert.equal(o!.verdict, 'accept');
  assert.ok((o!.notes as string[]).some((n) => /sender\.dns-temp off/.test(n)));
});

test('usage and input errors: exit 2 for usage, 1 for a bad file or config', async () => {
  assert.equal((await run([])).code, 2);
  assert.equal((await run(['x.eml', '--bogus'])).code, 2);
  assert.equal((await run(['x.eml', '--client-ip', 'not-an-ip'])).code, 2);
  const help = await run(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /10 reject +11 tempfail +12 quarantine +13 discard/);
  const missing = await run([path.join(dir, 'nope.eml')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nope\.eml: cannot read: ENOENT/);
  const bad = path.join(dir, 'bad.yaml');
  writeFileSync(bad, 'policy:\n  mode: sometimes\n');
  const r = await run([path.join(MSG, 'clean.eml'), '--config', bad]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /bad\.yaml:2: policy\.mode/);
});

test('real clamd: EICAR is rejected as clamd.infected (skips when clamd is not installed)', { timeout: 120_000 }, async (t) => {
  if (!existsSync(CLAMD_BINARY)) {
    t.skip(`${CLAMD_BINARY} not installed`);
    return;
  }
  const clamd = await startClamd();
  try {
    const msgDir = path.join(dir, 'eicar');
    mkdirSync(msgDir, { recursive: true });
    const file = path.join(msgDir, 'eicar.eml');
    writeFileSync(
      file,
      Buffer.concat([
        Buffer.from('From: alice@example.org\r\nTo: bob@example.net\r\nSubject: test\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nhi\r\n--x\r\nContent-Type: application/octet-stream; name=t.txt\r\nContent-Disposition: attachment; filename=t.txt\r\n\r\n'),
        EICAR,
        Buffer.from('\r\n--x--\r\n'),
      ]),
    );
    const r = await run([file, '--config', config('clamd', { content: { clamd: { enabled: true, address: clamd.address } } }), '--json']);
    assert.equal(r.code, 10, r.stderr);
    const [o] = json(r);
    const hit = (o!.rules as Array<Record<string, any>>).find((h) => h.rule === 'clamd.infected');
    assert.ok(hit, JSON.stringify(o!.rules));
    assert.match(`${hit!.detail} ${o!.reply}`, new RegExp(EICAR_SIGNATURE));
  } finally {
    await clamd.stop();
  }
});

// ------------------------------------------------------------------ input splitting (pure)

test('headers are split as an MTA sends them: folded lines joined by LF, leading space kept, raw bytes', () => {
  const raw = Buffer.from('Subject: Lunch on\r\n\tThursday?\r\nX-Bytes: caf\xe9\r\nTo: a@b\r\n\r\nline1\nline2\r\n', 'latin1');
  const s = splitMessage(raw, true);
  assert.deepEqual(s.headers.map((h) => [h.name, h.value]), [
    ['Subject', ' Lunch on\n\tThursday?'],
    ['X-Bytes', ' caf\ufffd'],
    ['To', ' a@b'],
  ]);
  assert.deepEqual([...s.headers[1]!.raw], [...Buffer.from(' caf\xe9', 'latin1')]);
  assert.equal(s.body.toString(), 'line1\r\nline2\r\n');
  assert.equal(splitMessage(raw, false).headers[0]!.value, 'Lunch on\n\tThursday?');
  // A line that is not a header field starts the body, as in Postfix.
  const odd = splitMessage(Buffer.from('A: 1\r\nnot a header\r\nmore\r\n'), true);
  assert.deepEqual(odd.headers.map((h) => h.name), ['A']);
  assert.equal(odd.body.toString(), 'not a header\r\nmore\r\n');
});

test('mbox: split on From lines, >From unescaped once; addresses and envelope defaults', () => {
  const mbox = Buffer.from('From a@b Thu Dec  3 10:00:00 2026\nSubject: 1\n\n>From x\n>>From y\n\nFrom c@d Thu Dec  3 10:00:01 2026\nSubject: 2\n\nbody\n');
  assert.ok(isMbox(mbox));
  assert.ok(!isMbox(Buffer.from('From: a@b\n\nx\n')));
  const parts = splitMbox(mbox).map((b) => b.toString());
  assert.deepEqual(parts, ['Subject: 1\n\nFrom x\n>From y\n', 'Subject: 2\n\nbody\n']);
  assert.deepEqual(addressesOf(' "Q, R" <q@x.example>, plain@y.example (comment, here), Group: g@z.example;'), ['q@x.example', 'plain@y.example', 'g@z.example']);
  const h = (name: string, value: string) => ({ name, value, raw: Buffer.from(value) });
  assert.deepEqual(envelopeFromHeaders([h('From', ' A <a@x.example>'), h('To', ' b@y.example')]), { from: 'a@x.example', rcpts: ['b@y.example'] });
  assert.deepEqual(envelopeFromHeaders([h('Return-Path', ' <>'), h('From', ' a@x.example')]), { from: '', rcpts: [] });
});

test('embedded defaults, offline: unclassifiable recipients tempfail as in the server; --rcpt-mailer classifies them', async () => {
  const plain = await run([path.join(MSG, 'clean.eml'), '--offline', '--json']);
  assert.equal(plain.code, 11, plain.stderr);
  const [o] = json(plain);
  assert.equal(o!.decidedAt, 'rcpt');
  assert.ok((o!.rules as Array<Record<string, any>>).some((h) => h.rule === 'outbound.rcpt-unclassified'));
  const local = await run([path.join(MSG, 'clean.eml'), '--offline', '--rcpt-mailer', 'local', '--json']);
  assert.equal(local.code, 0, local.stderr);
  assert.equal(json(local)[0]!.verdict, 'accept');
});

/** A folder holding a message, a zip, a PNG (and, in a subfolder, a Maildir-style message without extension). */
function mixedFolder(name: string): { dir: string; eml: string; zip: string; png: string; maildir: string } {
  const d = path.join(dir, name);
  mkdirSync(path.join(d, 'cur'), { recursive: true });
  const eml = path.join(d, 'clean.eml');
  writeFileSync(eml, readFileSync(path.join(MSG, 'clean.eml')));
  const zip = path.join(d, 'invoice.zip');
  writeFileSync(zip, B.zip([{ name: 'invoice.exe', data: B.pe() }]));
  const png = path.join(d, 'logo.png');
  writeFileSync(png, Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('\0\0\0\rIHDR\0\0\0\x01', 'latin1'), Buffer.alloc(40)]));
  const maildir = path.join(d, 'cur', '1700000000.M1P1.host:2,S');
  writeFileSync(maildir, readFileSync(path.join(MSG, 'clean.eml')));
  return { dir: d, eml, zip, png, maildir };
}

test('a folder: only messages are scanned; a zip and a PNG are "skipped (not a message)" and counted, exit code unchanged', async () => {
  const f = mixedFolder('mixed');
  const human = await run([f.dir, '--offline', '--config', config('mixed')]);
  assert.equal(human.code, 0, human.stderr);
  const lines = human.stdout.trim().split('\n').filter((l) => !l.startsWith('note:'));
  // sorted by name: clean.eml, cur/ (the Maildir message), invoice.zip, logo.png
  assert.deepEqual(lines.map((l) => l.split(/ +/)[0]), ['ACCEPT', 'ACCEPT', 'SKIPPED', 'SKIPPED', 'total:']);
  assert.match(lines[1]!, /^ACCEPT +\S*1700000000\.M1P1\.host:2,S /);
  assert.equal(lines[2], `SKIPPED    ${f.zip} (not a message)`);
  assert.equal(lines[3], `SKIPPED    ${f.png} (not a message)`);
  assert.equal(lines[4], 'total: 2 messages: accept 2; 2 files skipped (not a message)');
  assert.doesNotMatch(human.stderr, /postern scan:/, 'a skipped file is not an error');

  const r = await run([f.dir, '--offline', '--config', config('mixed-json'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = json(r);
  assert.deepEqual(out.filter((o) => o.skipped !== undefined), [{ file: f.zip, skipped: 'not a message' }, { file: f.png, skipped: 'not a message' }]);
  assert.deepEqual(out.filter((o) => o.verdict !== undefined).map((o) => [o.file, o.verdict]), [[f.eml, 'accept'], [f.maildir, 'accept']]);
  // no rule of any scanned message came from the zip or the PNG
  assert.ok(!JSON.stringify(out).includes('invoice.exe'));
  assert.deepEqual(out.at(-1), { totals: { messages: 2, errors: 0, verdicts: { accept: 2, reject: 0, tempfail: 0, quarantine: 0, discard: 0 }, skipped: 2 } });
});

test('a FILE argument is always scanned, even a zip; a folder with nothing but non-messages is an error (exit 1)', async () => {
  const f = mixedFolder('file-arg');
  const z = await run([f.zip, '--offline', '--config', config('file-arg'), '--json']);
  assert.equal(json(z).length, 1);
  assert.equal(json(z)[0]!.file, f.zip);
  assert.equal(typeof json(z)[0]!.verdict, 'string');
  assert.equal(json(z)[0]!.skipped, undefined);
  const only = path.join(dir, 'only-binaries');
  mkdirSync(only);
  writeFileSync(path.join(only, 'a.zip'), readFileSync(f.zip));
  writeFileSync(path.join(only, 'b.png'), readFileSync(f.png));
  const r = await run([only, '--offline', '--config', config('only')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no messages found in .*only-binaries \(2 files skipped: not a message\)/);
  const help = await run(['--help']);
  assert.match(help.stdout, /skipped \(not a message\)/);
});

test('what looks like a message: .eml, a non-Outlook .msg, a header field first; not binaries, text or Outlook items', () => {
  const msgText = Buffer.from('Received: from x\r\n\tby y\r\nSubject: hi\r\n\r\nbody\r\n');
  assert.equal(looksLikeMessage('a/noext', msgText), true);
  assert.equal(looksLikeMessage('a/obs', Buffer.from('Subject : old style\n\nbody\n')), true);
  assert.equal(looksLikeMessage('a/x.eml', Buffer.from('garbage without header')), true);
  assert.equal(looksLikeMessage('a/x.msg', msgText), true);
  assert.equal(looksLikeMessage('a/x.msg', Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0])), false);
  assert.equal(looksLikeMessage('a/readme.txt', Buffer.from('Dear team: here is the plan\n')), false);
  // a byte order mark, a blank first line or an indented first field (saved or malformed mail): still messages
  assert.equal(looksLikeMessage('a/bom', Buffer.from('\ufeffFrom: <a@example.org>\nSubject: x\n\nbody\n')), true);
  assert.equal(looksLikeMessage('a/blank', Buffer.from('   \r\nMIME-Version: 1.0\r\n\r\nbody\r\n')), true);
  assert.equal(looksLikeMessage('a/indent', Buffer.from(' From: a@example.org\n\nbody\n')), true);
  assert.equal(looksLikeMessage('a/bom-mbox', Buffer.from('\ufeffFrom - Mon Jan 1 00:00:00 2024\nSubject: x\n')), true);
  assert.equal(looksLikeMessage('a/smtp', Buffer.from('HELO example.com\r\nMAIL FROM:<a@example.org>\r\n')), false);
  assert.equal(looksLikeMessage('a/code', Buffer.from('// Not an RFC-822 Document\n')), false);
  assert.equal(looksLikeMessage('a/x.bin', Buffer.from('MZ\x90\0\x03:x\n', 'latin1')), false);
  assert.equal(looksLikeMessage('a/x.zip', B.zip([{ name: 'a:b', data: 'x' }])), false);
});
