// Smoke test of the real-component harness, with no milter: private Postfix and sendmail start,
// relay to the sink, show the hardening from the shipped examples (banner, VRFY), the hold queue
// is readable, and a milter that cannot be reached makes Postfix tempfail (fail-safe example).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort } from '../harness/net.js';
import { startPostfix, type PostfixInstance } from '../harness/postfix.js';
import { sendmailAvailable, startSendmail, type SendmailInstance } from '../harness/sendmail.js';
import { sendMail, smtpSession, swaks } from '../harness/smtp-client.js';

const MESSAGE = [
  'From: Alice <alice@example.org>',
  'To: Bob <bob@example.test>',
  'Subject: harness smoke',
  'Message-ID: <smoke-1@example.org>',
  'X-Folded: first part',
  '\tsecond part',
  '',
  'Hello Bob,',
  '.a line starting with a dot',
  '',
  'bye',
  '',
].join('\r\n');

describe('Postfix harness (no milter)', () => {
  let pf: PostfixInstance;
  before(async () => {
    pf = await startPostfix({ headerChecks: ['/^Subject: please hold/ HOLD held by smoke test'], localDomains: ['local.test'] });
  });
  after(async () => { await pf?.stop(); });

  test('delivers to the sink with headers and body intact', async () => {
    const r = await sendMail({ port: pf.smtpPort, from: 'alice@example.org', to: ['bob@example.test'], data: MESSAGE });
    assert.equal(r.accepted, true, r.last.text);
    const [m] = await pf.waitForDelivered(1);
    assert.ok(m);
    assert.equal(m.envelope?.mailFrom, 'alice@example.org');
    assert.deepEqual(m.envelope?.rcptTo, ['bob@example.test']);
    assert.deepEqual(m.header('subject'), ['harness smoke']);
    assert.deepEqual(m.header('x-folded'), ['first part\tsecond part']);
    assert.equal(m.header('received').length, 1);
    assert.equal(m.body.toString('utf8'), 'Hello Bob,\r\n.a line starting with a dot\r\n\r\nbye\r\n');
  });

  test('XCLIENT makes Postfix see 192.0.2.10', async () => {
    const s = await smtpSession({ port: pf.smtpPort });
    await s.ehlo('client.example.org');
    const x = await s.xclient({ ADDR: '192.0.2.10', NAME: 'client.example.org', HELO: 'client.example.org' });
    assert.equal(x.code, 220, x.text);
    assert.equal(x.ehlo?.code, 250);
    // 192.0.2.10 is outside mynetworks: relaying to a foreign domain is refused now...
    assert.equal((await s.mailFrom('alice@example.org')).code, 250);
    const foreign = await s.rcptTo('someone@elsewhere.invalid');
    assert.equal(foreign.code, 554, foreign.text);
    assert.match(foreign.text, /Relay access denied/);
    await s.quit();
    await pf.waitForLog(/connect from client\.example\.org\[192\.0\.2\.10\]/);
  });

  test('banner names no software, VRFY refused', async () => {
    const s = await smtpSession({ port: pf.smtpPort });
    assert.equal(s.greeting.code, 220);
    assert.doesNotMatch(s.greeting.text, /postfix|sendmail|\d+\.\d+\.\d+/i);
    assert.match(s.greeting.text, /^mx\.postern\.test ESMTP$/);
    await s.ehlo('client.example.org');
    const v = await s.raw('VRFY root');
    assert.equal(v.code, 502, v.text);
    await s.quit();
  });

  test('abortMidData: a session cut during DATA delivers nothing', async () => {
    const before = pf.delivered().length;
    const s = await smtpSession({ port: pf.smtpPort });
    await s.ehlo('client.example.org');
    assert.equal((await s.mailFrom('alice@example.org')).code, 250);
    assert.equal((await s.rcptTo('bob@example.test')).code, 250);
    const r = await s.abortMidData('Subject: cut\r\n\r\nhalf a bo');
    assert.equal(r.code, 354);
    await pf.waitForLog(/lost connection after DATA/);
    assert.equal(pf.delivered().length, before);
  });

  test('local delivery (localDomains) and sendmail(1) submission', async () => {
    const r = await sendMail({ port: pf.smtpPort, from: 'alice@example.org', to: ['joe@local.test'], data: 'Subject: local\r\n\r\nhi\r\n' });
    assert.equal(r.accepted, true, r.last.text);
    const before = pf.delivered().length;
    const sub = await pf.sendmail(['-f', 'cron@example.org', 'dave@example.test'], 'Subject: via sendmail\n\nhello\n');
    assert.equal(sub.exitCode, 0, sub.stderr);
    const all = await pf.waitForDelivered(before + 1);
    assert.ok(all.some((m) => m.envelope?.mailFrom === 'cron@example.org' && m.header('subject')[0] === 'via sendmail'));
    const deadline = Date.now() + 10000;
    while (pf.mailbox('joe@local.test').length === 0 && Date.now() < deadline) await new Promise((x) => setTimeout(x, 100));
    assert.deepEqual(pf.mailbox('joe@local.test').map((m) => m.header('subject')[0]), ['local']);
  });

  test('swaks works against the instance', async () => {
    const r = await swaks(['--server', `127.0.0.1:${pf.smtpPort}`, '--from', 'a@example.org', '--to', 'c@example.test', '--silent', '2']);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
  });

  test('hold queue listing (header_checks HOLD, postsuper)', async () => {
    const r = await sendMail({
      port: pf.smtpPort, from: 'alice@example.org', to: ['carol@example.test'],
      data: 'Subject: please hold\r\nFrom: alice@example.org\r\n\r\nbody\r\n',
    });
    assert.equal(r.accepted, true, r.last.text);
    const held = await pf.waitForHold(1);
    assert.equal(held.length, 1);
    assert.equal(held[0]!.sender, 'alice@example.org');
    assert.deepEqual(held[0]!.recipients.map((x) => x.address), ['carol@example.test']);
    const before = pf.delivered().length;
    const rel = await pf.postsuper(['-H', 'ALL']);
    assert.equal(rel.exitCode, 0, rel.stderr);
    await pf.flushQueue();
    const all = await pf.waitForDelivered(before + 1);
    assert.deepEqual(all[all.length - 1]!.header('subject'), ['please hold']);
    assert.equal((await pf.holdQueue()).length, 0);
  });
});

describe('Postfix fail-safe: milter unreachable, milter_default_action=tempfail', () => {
  let pf: PostfixInstance;
  before(async () => {
    const closed = await freePort(); // nothing listens there
    pf = await startPostfix({ milterPort: closed });
  });
  after(async () => { await pf?.stop(); });

  test('the example config answers 4xx instead of accepting unchecked', async () => {
    assert.equal(pf.params.milter_default_action, 'tempfail');
    assert.match(pf.params.smtpd_milters!, /^inet:127\.0\.0\.1:\d+$/);
    const r = await sendMail({ port: pf.smtpPort, from: 'alice@example.org', to: ['bob@example.test'], data: MESSAGE });
    assert.equal(r.accepted, false);
    assert.ok(r.last.code >= 400 && r.last.code < 500, `expected 4xx, got ${r.last.code} ${r.last.text}`);
    assert.equal(pf.delivered().length, 0);
  });
});

test('startPostfix fails loudly when smtpd cannot run with the given settings', async () => {
  await assert.rejects(
    startPostfix({ main: { smtpd_relay_restrictions: 'permit', smtpd_recipient_restrictions: 'permit' } }),
    (e: Error & { code?: string }) => e.code === 'start-failed' && /no greeting[\s\S]*reject_unauth_destination/.test(e.message),
  );
});

describe('sendmail harness (no milter)', { skip: sendmailAvailable() ? false : 'sendmail not unpacked (run scripts/install-test-deps.sh)' }, () => {
  let sm: SendmailInstance;
  before(async () => {
    sm = await startSendmail({ sink: { rcptReply: (a) => (a.startsWith('defer@') ? '451 4.3.0 try later' : undefined) } });
  });
  after(async () => { await sm?.stop(); });

  test('delivers to the sink with headers and body intact', async () => {
    const r = await sendMail({ port: sm.smtpPort, from: 'alice@example.org', to: ['bob@example.test'], data: MESSAGE });
    assert.equal(r.accepted, true, r.last.text);
    const [m] = await sm.waitForDelivered(1);
    assert.ok(m);
    assert.equal(m.envelope?.mailFrom, 'alice@example.org');
    assert.deepEqual(m.envelope?.rcptTo, ['bob@example.test']);
    assert.deepEqual(m.header('subject'), ['harness smoke']);
    assert.deepEqual(m.header('x-folded'), ['first part\tsecond part']);
    assert.equal(m.body.toString('utf8'), 'Hello Bob,\r\n.a line starting with a dot\r\n\r\nbye\r\n');
  });

  test('banner names no software, VRFY refused', async () => {
    const s = await smtpSession({ port: sm.smtpPort });
    assert.equal(s.greeting.code, 220);
    assert.doesNotMatch(s.greeting.text, /postfix|sendmail|\d+\.\d+\.\d+/i);
    assert.match(s.greeting.text, /^mx\.postern\.test ESMTP$/);
    await s.ehlo('client.example.org');
    const v = await s.raw('VRFY root');
    assert.ok(v.code === 252 || v.code >= 500, `${v.code} ${v.text}`);
    assert.doesNotMatch(v.text, /root@|<root/);
    await s.quit();
  });

  test('quarantined() lists a queued message put in quarantine', async () => {
    const r = await sendMail({ port: sm.smtpPort, from: 'alice@example.org', to: ['defer@example.test'], data: MESSAGE });
    assert.equal(r.accepted, true, r.last.text);
    const id = r.last.text.split(' ')[1]!;
    // The sink defers defer@…: the message stays queued until we quarantine it.
    const deadline = Date.now() + 10000;
    while (!(await sm.mailq()).stdout.includes('Deferred') && Date.now() < deadline) await new Promise((x) => setTimeout(x, 100));
    const q = await sm.run(['-Qheld by smoke test', `-qI${id}`]);
    assert.equal(q.exitCode, 0, q.stderr);
    const held = await sm.waitForQuarantined(1);
    assert.equal(held[0]!.queueId, id);
    assert.equal(held[0]!.reason, 'held by smoke test');
    assert.deepEqual(held[0]!.recipients, ['defer@example.test']);
  });
});

describe('sendmail fail-safe: milter unreachable, F=T', { skip: sendmailAvailable() ? false : 'sendmail not unpacked' }, () => {
  let sm: SendmailInstance;
  before(async () => { sm = await startSendmail({ milterPort: await freePort() }); });
  after(async () => { await sm?.stop(); });

  test('the example config answers 4xx instead of accepting unchecked', async () => {
    assert.match(sm.mc, /INPUT_MAIL_FILTER\(`postern', `S=inet:\d+@127\.0\.0\.1, F=T, /);
    const r = await sendMail({ port: sm.smtpPort, from: 'alice@example.org', to: ['bob@example.test'], data: MESSAGE });
    assert.equal(r.accepted, false);
    assert.ok(r.last.code >= 400 && r.last.code < 500, `expected 4xx, got ${r.last.code} ${r.last.text}`);
    assert.equal(sm.delivered().length, 0);
  });
});
