// `postern quarantine` parsing and formatting without an MTA: the trace header, sendmail's mailq
// output and queue files, postcat/postqueue output, Postern log lines, queue id checks, the list table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { formatTrace } from '../../src/policy/trace.js';
import { lastHeader, parseHeaderLines, parseTrace, reasonFromMtaText, reasonFromTrace } from '../../src/quarantine/trace.js';
import { parseMailq, parseQueueFile, queueDirectories } from '../../src/quarantine/sendmail.js';
import { parsePostcat, parsePostqueueJson } from '../../src/quarantine/postfix.js';
import { readPosternLog, reasonFromLog } from '../../src/quarantine/postern-log.js';
import { checkQueueId, QuarantineError } from '../../src/quarantine/types.js';
import { formatList } from '../../src/quarantine/format.js';
import { createBackend } from '../../src/quarantine/index.js';

test('trace header round trip: what the engine writes, parseTrace reads', () => {
  const v = formatTrace({
    verdict: 'quarantine',
    wouldBe: 'quarantine',
    direction: 'inbound',
    score: 3.5,
    sessionId: 'abc123',
    hits: [
      { rule: 'archive.encrypted', action: 'quarantine', detail: 'x' },
      { rule: 'content.phish.verify-account', action: 'score', score: 2.5, detail: 'y' },
      { rule: 'dnsbl.test', action: 'reject', detail: 'z', monitor: true },
    ],
  });
  const t = parseTrace(v)!;
  assert.equal(t.verdict, 'quarantine');
  assert.equal(t.direction, 'inbound');
  assert.equal(t.score, 3.5);
  assert.equal(t.sessionId, 'abc123');
  assert.deepEqual(t.rules, [
    { rule: 'archive.encrypted', action: 'quarantine', monitor: false },
    { rule: 'content.phish.verify-account', action: '+2.5', monitor: false },
    { rule: 'dnsbl.test', action: 'reject', monitor: true },
  ]);
  const r = reasonFromTrace(t);
  assert.equal(r.rule, 'archive.encrypted');
  assert.equal(r.source, 'trace-header');
  assert.match(r.text, /also hit: content\.phish\.verify-account, dnsbl\.test/);
});

test('score quarantine: no rule asked for it, the score did', () => {
  const t = parseTrace('quarantine; dir=internal; score=10; rules=content.spam.pharma(+3),content.spam.crypto-extortion(+4),content.spam.advance-fee(+3); id=x')!;
  const r = reasonFromTrace(t);
  assert.equal(r.rule, 'score.quarantine');
  assert.equal(r.text, 'message score 10 from content.spam.pharma+3, content.spam.crypto-extortion+4, content.spam.advance-fee+3');
});

test('monitor mode and non-quarantine verdicts are not passed off as Postern quarantines', () => {
  const t = parseTrace('accept (monitor: would quarantine); dir=inbound; score=0; rules=archive.encrypted(monitor:quarantine); id=q')!;
  assert.equal(t.wouldBe, 'quarantine');
  const r = reasonFromTrace(t);
  assert.equal(r.rule, undefined);
  assert.match(r.text, /not quarantined by Postern \(trace verdict: accept, monitor: would quarantine\)/);
  assert.equal(parseTrace('some other header'), undefined);
  assert.equal(parseTrace('accept; dir=inbound; score=0; rules=none; id=z')!.rules.length, 0);
});

test('truncated rule lists keep the count', () => {
  const t = parseTrace('quarantine; dir=inbound; score=12; rules=a.b(+6),c.d(+6),...+3; id=z')!;
  assert.equal(t.truncated, 3);
  assert.match(reasonFromTrace(t).text, /\+3 more/);
});

test('the reason text sent with SMFIR_QUARANTINE', () => {
  assert.deepEqual(reasonFromMtaText('postern archive.encrypted: 1 encrypted zip entry'), { source: 'mta', rule: 'archive.encrypted', text: '1 encrypted zip entry' });
  assert.deepEqual(reasonFromMtaText('held by smoke test'), { source: 'mta', text: 'held by smoke test' });
});

test('headers: folded lines joined, the last occurrence wins (a forged one comes first)', () => {
  const h = parseHeaderLines(['X-Postern: accept; dir=inbound; score=0; rules=none; id=forged', 'Subject: a', '\tb', 'X-Postern: quarantine; dir=inbound;', ' score=0; rules=archive.encrypted(quarantine); id=real', '', 'Body: not a header']);
  assert.deepEqual(h.map(([n]) => n), ['X-Postern', 'Subject', 'X-Postern']);
  assert.equal(h[1]![1], 'a b');
  assert.equal(parseTrace(lastHeader(h, 'x-postern')!)!.sessionId, 'real');
});

test('sendmail mailq -qQ output', () => {
  const text = [
    '\t\t/tmp/q/mqueue (2 requests)',
    '-----Q-ID----- --Size-- -----Q-Time----- ------------Sender/Recipient-----------',
    '6B3E6kEq011507        6 Thu Dec  3 14:06 <alice@example.org>',
    '     QUARANTINE: postern score.quarantine: message score 2.5 reached the quar',
    '\t\t\t\t\t <bob@example.test>',
    '\t\t\t\t\t <carol@example.test>',
    '6B3E6kEq011508*     420 Thu Dec  3 14:07 <>',
    '     QUARANTINE: postern archive.encrypted: 1 encrypted zip entry',
    '\t\t\t\t\t <dave@example.test>',
    '\t\tTotal requests: 2',
  ].join('\n');
  const q = parseMailq(text);
  assert.equal(q.length, 2);
  assert.deepEqual(q[0], { id: '6B3E6kEq011507', size: 6, sender: 'alice@example.org', reason: 'postern score.quarantine: message score 2.5 reached the quar', recipients: ['bob@example.test', 'carol@example.test'] });
  assert.equal(q[1]!.sender, '');
  assert.equal(parseMailq('/tmp/q/mqueue is empty\n\t\tTotal requests: 0\n').length, 0);
});

test('sendmail hf queue file: full reason, arrival, envelope, headers', () => {
  const hf = [
    'V8', 'T1796306807', 'K1796306811', 'N0', 'P60155',
    'qpostern score.quarantine: message score 2.5 reached the quarantine threshold 2',
    'Fbs', '$_localhost [127.0.0.1]', 'S<alice@example.org>',
    'rRFC822; bob@example.test', 'RPFD:<bob@example.test>', 'RPFD:<carol@example.test>',
    'H?P?Return-Path: <g>', 'H??Received: from client (localhost [127.0.0.1])', '\tby mx.postern.test; Thu, 3 Dec 2026 14:06:47 GMT',
    'H??Subject: please verify your account', 'H??X-Postern: quarantine; dir=outbound; score=2.5; rules=content.phish.verify-account(+2.5); id=mox942',
    '.', '',
  ].join('\n');
  const q = parseQueueFile(hf);
  assert.equal(q.arrival?.getTime(), 1796306807000);
  assert.equal(q.sender, 'alice@example.org');
  assert.deepEqual(q.recipients, ['bob@example.test', 'carol@example.test']);
  assert.equal(q.reason, 'postern score.quarantine: message score 2.5 reached the quarantine threshold 2');
  assert.deepEqual(q.headers.map(([n]) => n), ['Return-Path', 'Received', 'Subject', 'X-Postern']);
  assert.match(q.headers[1]![1], /by mx\.postern\.test/);
  assert.ok(q.envelope.includes('S<alice@example.org>'));
});

test('sendmail QueueDirectory, with a trailing * glob', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'postern-qdirs-'));
  try {
    mkdirSync(path.join(dir, 'q1'));
    mkdirSync(path.join(dir, 'q2'));
    writeFileSync(path.join(dir, 'qx'), '');
    assert.deepEqual(queueDirectories(`O QueueDirectory=${dir}/q*\n`).sort(), [path.join(dir, 'q1'), path.join(dir, 'q2')]);
    assert.deepEqual(queueDirectories('O QueueDirectory=/var/spool/mqueue\n'), ['/var/spool/mqueue']);
    assert.deepEqual(queueDirectories('# none\n'), ['/var/spool/mqueue']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('postcat -e -h and postqueue -j output', () => {
  const out = [
    '*** ENVELOPE RECORDS hold/BCAC9162427 ***',
    'sender: alice@example.org',
    'recipient: bob@example.test',
    '*** MESSAGE CONTENTS hold/BCAC9162427 ***',
    'Received: from client.postern.test (localhost [127.0.0.1])',
    '\tby mx.postern.test (Postfix) with ESMTP id BCAC9162427;',
    'Subject: hi',
    'X-Postern: quarantine; dir=internal; score=2.5; rules=content.phish.verify-account(+2.5); id=mo16p2',
    '',
    '*** HEADER EXTRACTED hold/BCAC9162427 ***',
    '*** MESSAGE FILE END hold/BCAC9162427 ***',
  ].join('\n');
  const p = parsePostcat(out);
  assert.deepEqual(p.envelope, ['sender: alice@example.org', 'recipient: bob@example.test']);
  assert.deepEqual(p.headers.map(([n]) => n), ['Received', 'Subject', 'X-Postern']);
  const j = parsePostqueueJson('{"queue_name":"hold","queue_id":"A1B2C3D4E5","arrival_time":1,"message_size":2,"sender":"a@b","recipients":[{"address":"c@d"}]}\n\n');
  assert.equal(j[0]!.queue_id, 'A1B2C3D4E5');
  assert.throws(() => parsePostqueueJson('not json'), (e: unknown) => e instanceof QuarantineError && e.code === 'tool-failed');
});

test('Postern log: the summary line for a queue id gives the deciding rule and its detail', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'postern-qlog-'));
  try {
    const f = path.join(dir, 'log');
    writeFileSync(f, [
      'not json "queueId"',
      JSON.stringify({ msg: 'message', queueId: 'AAAAA1', verdict: 'quarantine', decidedBy: 'archive.encrypted', score: 0, rules: ['archive.encrypted'], details: [{ rule: 'archive.encrypted', action: 'quarantine', detail: '1 encrypted zip entry' }] }),
      JSON.stringify({ msg: 'message', queueId: 'BBBBB2', verdict: 'quarantine', decidedBy: 'score.quarantine', score: 11, rules: ['content.spam.pharma'] }),
      JSON.stringify({ msg: 'message', queueId: 'DDDDD4', verdict: 'quarantine', decidedBy: 'score.quarantine', score: 7, details: [{ rule: 'a.b', action: 'score', score: 3 }, { rule: 'c.d', action: 'score', score: 4 }, { rule: 'e.f', action: 'log' }] }),
      JSON.stringify({ msg: 'other', queueId: 'CCCCC3' }),
    ].join('\n'));
    const m = readPosternLog(f);
    assert.deepEqual([...m.keys()], ['AAAAA1', 'BBBBB2', 'DDDDD4']);
    assert.equal(reasonFromLog(m.get('DDDDD4')!).text, 'message score 7 from a.b+3, c.d+4');
    assert.deepEqual(reasonFromLog(m.get('AAAAA1')!), { source: 'postern-log', text: '1 encrypted zip entry', rule: 'archive.encrypted', rules: ['archive.encrypted'], score: 0 });
    assert.equal(reasonFromLog(m.get('BBBBB2')!).text, 'message score 11');
    assert.throws(() => readPosternLog(path.join(dir, 'missing')), (e: unknown) => e instanceof QuarantineError && e.code === 'bad-config');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('queue ids: letters and digits only; ALL and options refused', () => {
  assert.equal(checkQueueId('BCAC9162427'), 'BCAC9162427');
  assert.equal(checkQueueId('6B3E6kEq011507'), '6B3E6kEq011507');
  for (const bad of ['ALL', 'all', '-d', 'A/B', '../x', '', 'AB']) {
    assert.throws(() => checkQueueId(bad), (e: unknown) => e instanceof QuarantineError && e.code === 'bad-id', bad);
  }
});

test('list table: one line per message, reason last', () => {
  const s = formatList([
    { mta: 'postfix', id: 'BCAC9162427', arrival: new Date(2026, 11, 3, 14, 6, 7), sender: 'alice@example.org', recipients: ['bob@example.test', 'carol@example.test'], size: 354, reason: { source: 'trace-header', rule: 'score.quarantine', text: 'message score 2.5' } },
    { mta: 'postfix', id: 'DDDD1', sender: '', recipients: [], size: 1, reason: { source: 'none', text: 'no X-Postern trace header' } },
  ]);
  const lines = s.trimEnd().split('\n');
  assert.match(lines[0]!, /^QUEUE-ID\s+ARRIVED\s+SIZE\s+SENDER\s+RECIPIENTS\s+POSTERN REASON$/);
  assert.match(lines[1]!, /^BCAC9162427\s+2026-12-03 14:06:07\s+354\s+alice@example\.org\s+bob@example\.test,carol@example\.test\s+score\.quarantine: message score 2\.5$/);
  assert.match(lines[2]!, /^DDDD1\s+-\s+1\s+<>\s+-\s+no X-Postern trace header$/);
  assert.equal(lines[3], '2 quarantined messages');
  assert.equal(formatList([]), 'no quarantined messages\n');
});

test('backend choice: explicit MTA, sendmail paths from --config-dir', () => {
  assert.equal(createBackend({ mta: 'postfix', configDir: '/etc/postfix' }).describe(), 'Postfix hold queue (postfix -c /etc/postfix)');
  assert.equal(createBackend({ mta: 'sendmail', configDir: '/etc/mail' }).describe(), 'sendmail quarantine (/etc/mail/sendmail.cf)');
  assert.equal(createBackend({ cfFile: '/x/test.cf' }).mta, 'sendmail');
});
