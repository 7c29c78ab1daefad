// End to end: a real Postern quarantines mail in a real Postfix (hold queue) and a real sendmail
// (quarantined queue items); `postern quarantine list` shows each with Postern's rule, `release`
// delivers it to the sink, `delete` removes it. Two deterministic quarantines, no clamd: an
// encrypted zip (archive.encrypted, a rule whose action is quarantine) and a phishing phrase with
// policy.scoring.quarantine lowered to 2 (score.quarantine).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runTool, sendMail } from '../harness/smtp-client.js';
import { startDnsServer, type TestDnsServer } from '../harness/dns-server.js';
import { CLI, startPostern, type PosternInstance } from '../harness/postern.js';
import { startPostfix, type PostfixInstance } from '../harness/postfix.js';
import { sendmailAvailable, sendmailCommand, startSendmail, type SendmailInstance } from '../harness/sendmail.js';
import { DNS_RECORDS } from './lib/world.js';
import * as B from '../fixtures/attachments/build.js';
import { mimeMessage } from '../fixtures/messages.js';

const CONFIG = (dns: TestDnsServer) => ({
  dns: { servers: [dns.server], timeoutMs: 1500, tries: 1 },
  content: { clamd: { enabled: false } },
  policy: { scoring: { quarantine: 2 } },
});

function zipMessage(tag: string): string {
  const zip = B.zip([{ name: 'report.pdf', data: 'ciphertext', encrypted: true, method: 0 }]);
  const headers = [
    'From: Alice <alice@example.org>',
    'To: Bob <bob@example.test>',
    `Subject: quarterly figures ${tag}`,
    'Date: Thu, 03 Dec 2026 10:00:00 +0000',
    `Message-ID: <zip-${tag}@example.org>`,
  ];
  return mimeMessage(headers, 'The figures are attached, password as agreed.', { name: 'figures.zip', type: 'application/zip', data: zip }).toString('latin1');
}

function phishMessage(tag: string): string {
  return [
    'From: Service Desk <desk@example.org>',
    'To: Carol <carol@example.test>',
    `Subject: please verify your account ${tag}`,
    'Date: Thu, 03 Dec 2026 10:00:00 +0000',
    `Message-ID: <phish-${tag}@example.org>`,
    '',
    'Click the link below.',
    '',
  ].join('\r\n');
}

function cli(args: string[]) {
  return runTool(process.execPath, [CLI, 'quarantine', ...args], 120000);
}

let dns: TestDnsServer;
let postern: PosternInstance;
let work: string;

before(async () => {
  dns = await startDnsServer({ records: DNS_RECORDS });
  postern = await startPostern({ config: CONFIG(dns) });
  work = mkdtempSync(path.join(tmpdir(), 'postern-quarantine-e2e-'));
});
after(async () => {
  await postern?.stop();
  await dns?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('postern quarantine with Postfix (hold queue)', () => {
  let pf: PostfixInstance;
  before(async () => {
    // header_checks HOLD: a message Postfix holds by itself, after Postern accepted it.
    pf = await startPostfix({ milterPort: postern.port, headerChecks: ['/^Subject: held by header_checks/ HOLD'] });
  });
  after(async () => {
    await pf?.stop();
  });

  test('quarantine, list with the rule, show, release → delivered, delete → gone', async () => {
    const a = await sendMail({ port: pf.smtpPort, from: 'alice@example.org', to: ['bob@example.test'], data: zipMessage('pf') });
    assert.equal(a.accepted, true, a.last.text);
    const b = await sendMail({ port: pf.smtpPort, from: 'desk@example.org', to: ['carol@example.test', 'dave@example.test'], data: phishMessage('pf') });
    assert.equal(b.accepted, true, b.last.text);
    const held = await pf.waitForHold(2);
    assert.equal(pf.delivered().length, 0);
    const idOf = (sender: string) => held.find((h) => h.sender === sender)!.queue_id;
    const zipId = idOf('alice@example.org');
    const phishId = idOf('desk@example.org');

    // list (text): one line per message with the rule id.
    const list = await cli(['list', '--mta', 'postfix', '--config-dir', pf.configDir]);
    assert.equal(list.exitCode, 0, list.stderr);
    console.log(list.stdout);
    const lineOf = (id: string) => list.stdout.split('\n').find((l) => l.startsWith(id + ' ')) ?? '';
    assert.match(lineOf(zipId), /alice@example\.org\s+bob@example\.test\s+archive\.encrypted: rule action quarantine/);
    assert.match(lineOf(phishId), /desk@example\.org\s+carol@example\.test,dave@example\.test\s+score\.quarantine: message score 2\.5 from content\.phish\.verify-account\+2\.5/);
    assert.match(list.stdout, /2 quarantined messages/);

    // list (JSON), auto-detected MTA: reason read from the trace header.
    const json = await cli(['list', '--config-dir', pf.configDir, '--json']);
    assert.equal(json.exitCode, 0, json.stderr);
    const items = JSON.parse(json.stdout) as Array<{ id: string; mta: string; size: number; arrival: string; reason: { rule: string; source: string } }>;
    const zipItem = items.find((i) => i.id === zipId)!;
    assert.equal(zipItem.mta, 'postfix');
    assert.equal(zipItem.reason.rule, 'archive.encrypted');
    assert.equal(zipItem.reason.source, 'trace-header');
    assert.ok(zipItem.size > 0);
    assert.ok(Math.abs(Date.parse(zipItem.arrival) - Date.now()) < 10 * 60 * 1000);

    // --log: the reason from Postern's own summary line for the queue id (deciding rule + detail).
    const logFile = path.join(work, 'postern.log');
    writeFileSync(logFile, postern.logs().map((l) => JSON.stringify(l)).join('\n') + '\n');
    const withLog = await cli(['show', zipId, '--config-dir', pf.configDir, '--log', logFile, '--json']);
    assert.equal(withLog.exitCode, 0, withLog.stderr);
    const shown = JSON.parse(withLog.stdout) as { reason: { rule: string; source: string; text: string }; headers: Array<[string, string]> };
    assert.equal(shown.reason.source, 'postern-log');
    assert.equal(shown.reason.rule, 'archive.encrypted');
    assert.match(shown.reason.text, /encrypted zip entr/);
    assert.ok(shown.headers.some(([n, v]) => n === 'Subject' && v === 'quarterly figures pf'));

    const show = await cli(['show', phishId, '--config-dir', pf.configDir]);
    assert.equal(show.exitCode, 0, show.stderr);
    assert.match(show.stdout, /reason: +score\.quarantine/);
    assert.match(show.stdout, /X-Postern: quarantine; /);

    // release → delivered to the sink, no longer held.
    const rel = await cli(['release', zipId, '--config-dir', pf.configDir]);
    assert.equal(rel.exitCode, 0, rel.stderr);
    const [m] = await pf.waitForDelivered(1, 20000);
    assert.equal(m!.header('subject')[0], 'quarterly figures pf');
    assert.deepEqual(m!.envelope?.rcptTo, ['bob@example.test']);
    assert.deepEqual((await pf.holdQueue()).map((h) => h.queue_id), [phishId]);

    // delete → gone from every queue, never delivered.
    const del = await cli(['delete', phishId, '--config-dir', pf.configDir]);
    assert.equal(del.exitCode, 0, del.stderr);
    assert.equal((await pf.queue()).length, 0);
    const empty = await cli(['list', '--config-dir', pf.configDir]);
    assert.match(empty.stdout, /no quarantined messages/);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(pf.delivered().length, 1);
  });

  test('unknown or invalid id: clear message, non-zero exit, nothing touched', async () => {
    const r = await cli(['release', 'ABCDEF12345', '--config-dir', pf.configDir]);
    assert.equal(r.exitCode, 3);
    assert.match(r.stderr, /no message ABCDEF12345 in the Postfix hold queue/);
    const bad = await cli(['delete', 'ALL', '--config-dir', pf.configDir]);
    assert.equal(bad.exitCode, 2);
    assert.match(bad.stderr, /not a queue id/);
  });

  test('a message held by something other than Postern says so', async () => {
    const r = await sendMail({
      port: pf.smtpPort, from: 'alice@example.org', to: ['bob@example.test'],
      data: 'From: alice@example.org\r\nTo: bob@example.test\r\nSubject: held by header_checks\r\nDate: Thu, 03 Dec 2026 10:00:00 +0000\r\nMessage-ID: <hc@example.org>\r\n\r\nhello\r\n',
    });
    assert.equal(r.accepted, true, r.last.text);
    const [h] = await pf.waitForHold(1);
    const list = await cli(['list', '--config-dir', pf.configDir, '--json']);
    assert.equal(list.exitCode, 0, list.stderr);
    const [item] = JSON.parse(list.stdout) as Array<{ id: string; reason: { rule?: string; text: string; source: string } }>;
    assert.equal(item!.id, h!.queue_id);
    assert.equal(item!.reason.rule, undefined);
    assert.match(item!.reason.text, /^not quarantined by Postern \(trace verdict: accept\)/);
    const del = await cli(['delete', h!.queue_id, '--config-dir', pf.configDir]);
    assert.equal(del.exitCode, 0, del.stderr);
    assert.equal((await pf.queue()).length, 0);
  });
});

describe('postern quarantine with sendmail (quarantined queue items)', { skip: sendmailAvailable() ? false : 'SKIPPED: sendmail not unpacked (run scripts/install-test-deps.sh)' }, () => {
  let sm: SendmailInstance;
  let wrapper: string;
  before(async () => {
    try {
      sm = await startSendmail({ milterPort: postern.port });
    } catch (e) {
      // Seen under heavy parallel load: "sendmail did not listen on PORT" (harness start-up, not
      // what this file tests). One retry, said out loud.
      console.warn(`*** sendmail harness start failed, retrying once: ${(e as Error).message.split('\n')[0]} ***`);
      sm = await startSendmail({ milterPort: postern.port });
    }
    // The harness runs sendmail in its own UTS namespace (dotted hostname, no 60 s start-up sleep):
    // give the CLI the same command line as a wrapper script.
    const [cmd, args] = sendmailCommand(sm.dir, []);
    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    wrapper = path.join(work, 'sendmail-wrapper.sh');
    writeFileSync(wrapper, `#!/bin/sh\nexec ${[cmd, ...args].map(q).join(' ')} "$@"\n`);
    chmodSync(wrapper, 0o755);
  });
  after(async () => {
    await sm?.stop();
  });

  test('quarantine, list with the stored reason, release → delivered, delete → gone', async () => {
    const a = await sendMail({ port: sm.smtpPort, from: 'alice@example.org', to: ['bob@example.test'], data: zipMessage('sm') });
    assert.equal(a.accepted, true, a.last.text);
    const b = await sendMail({ port: sm.smtpPort, from: 'desk@example.org', to: ['carol@example.test'], data: phishMessage('sm') });
    assert.equal(b.accepted, true, b.last.text);
    const held = await sm.waitForQuarantined(2);
    const zipId = held.find((h) => h.sender === 'alice@example.org')!.queueId;
    const phishId = held.find((h) => h.sender === 'desk@example.org')!.queueId;
    const opts = ['--mta', 'sendmail', '--cf', sm.cfFile, '--sendmail', wrapper];

    const list = await cli(['list', ...opts]);
    assert.equal(list.exitCode, 0, list.stderr);
    console.log(list.stdout);
    const lineOf = (id: string) => list.stdout.split('\n').find((l) => l.startsWith(id + ' ')) ?? '';
    assert.match(lineOf(zipId), /alice@example\.org\s+bob@example\.test\s+archive\.encrypted: 1 encrypted zip entry/);
    assert.match(lineOf(phishId), /score\.quarantine: message score 2\.5 reached the quarantine threshold 2/);

    const json = JSON.parse((await cli(['list', ...opts, '--json'])).stdout) as Array<{ id: string; reason: { source: string; rule: string } }>;
    assert.equal(json.find((i) => i.id === zipId)!.reason.source, 'mta');

    const show = await cli(['show', zipId, ...opts]);
    assert.equal(show.exitCode, 0, show.stderr);
    assert.match(show.stdout, /Subject: quarterly figures sm/);

    const rel = await cli(['release', zipId, ...opts]);
    assert.equal(rel.exitCode, 0, rel.stderr);
    const [m] = await sm.waitForDelivered(1, 30000);
    assert.equal(m!.header('subject')[0], 'quarterly figures sm');

    const del = await cli(['delete', phishId, ...opts]);
    assert.equal(del.exitCode, 0, del.stderr);
    assert.deepEqual(await sm.quarantined(), []);
    assert.match((await sm.mailq()).stdout, /is empty|Total requests: 0/);

    const unknown = await cli(['release', phishId, ...opts]);
    assert.equal(unknown.exitCode, 3);
    assert.match(unknown.stderr, /no message .* in the sendmail quarantine/);
  });

  test('missing sendmail binary: clear error, exit 1', async () => {
    const r = await cli(['list', '--mta', 'sendmail', '--cf', sm.cfFile, '--sendmail', '/nonexistent/sendmail']);
    assert.equal(r.exitCode, 1);
    assert.match(r.stderr, /sendmail binary \/nonexistent\/sendmail not found/);
  });
});
