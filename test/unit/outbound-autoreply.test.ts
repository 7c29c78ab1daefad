// Auto-reply / auto-forward leakage: detection per indicator, localised subjects, real bounces and DSNs
// from the corpus (they must pass), mixed recipients (DELRCPT of outside ones), malformed headers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AutoReplyDetector } from '../../src/policy/outbound/autoreply.js';
import { createOutboundPolicy } from '../../src/policy/outbound/index.js';
import { silentLogger } from '../../src/log/logger.js';
import type { HeaderField, StageResult } from '../../src/policy/types.js';
import { config, eomContext, fixture, message, milterHeaders, rcpt, session } from '../fixtures/outbound/helpers.js';

const H = (name: string, value: string): HeaderField => ({ name, value });
const detector = new AutoReplyDetector(config().autoreply);
const base = [H('From', 'Alice <alice@example.com>'), H('To', 'carol@example.org')];
const detect = (extra: HeaderField[], nullSender = false) => detector.detect([...base, ...extra], nullSender);

test('shipped subject patterns load from rules/autoreply.yaml', () => {
  assert.ok(detector.patternCount >= 30);
});

test('RFC 3834 Auto-Submitted: anything but "no" is automatic; comments ignored', () => {
  assert.equal(detect([H('Auto-Submitted', 'auto-replied')])?.kind, 'autoreply');
  assert.equal(detect([H('Auto-Submitted', 'auto-generated (vacation)')])?.kind, 'autoreply');
  assert.equal(detect([H('Auto-Submitted', 'AUTO-NOTIFIED')])?.kind, 'autoreply');
  assert.equal(detect([H('Auto-Submitted', 'auto-forwarded')])?.kind, 'autoforward');
  assert.equal(detect([H('Auto-Submitted', 'no')]), undefined);
  assert.equal(detect([H('Auto-Submitted', ' no (manual)')]), undefined);
  assert.deepEqual(detect([H('Auto-Submitted', 'auto-replied')])?.indicators, ['Auto-Submitted']);
});

test('X-Autoreply, X-Autorespond, Precedence auto_reply/bulk/junk', () => {
  assert.equal(detect([H('X-Autoreply', 'yes')])?.kind, 'autoreply');
  assert.equal(detect([H('X-Autorespond', 'Out of office')])?.kind, 'autoreply');
  assert.equal(detect([H('X-Autoreply', 'no')]), undefined);
  for (const v of ['auto_reply', 'bulk', 'Junk']) assert.ok(detect([H('Precedence', v)]), v);
  assert.equal(detect([H('Precedence', 'list')]), undefined);
  assert.equal(detect([H('Precedence', 'first-class')]), undefined);
});

test('Exchange: inbox-rules loop without reply marks = forward; with "Automatic reply:" = reply; X-Auto-Response-Suppress is not a mark', () => {
  assert.equal(detect([H('X-MS-Exchange-Inbox-Rules-Loop', 'alice@example.com'), H('Subject', 'FW: plans')])?.kind, 'autoforward');
  const oof = detect([H('X-MS-Exchange-Inbox-Rules-Loop', 'alice@example.com'), H('Subject', 'Automatic reply: plans')]);
  assert.equal(oof?.kind, 'autoreply');
  assert.deepEqual(oof?.indicators, ['X-MS-Exchange-Inbox-Rules-Loop', 'subject']);
  assert.equal(detect([H('X-MS-Exchange-Organization-AutoForwarded', 'true')])?.kind, 'autoforward');
  assert.equal(detect([H('X-MS-Exchange-Organization-AutoForwarded', 'false')]), undefined);
  assert.equal(detect([H('X-MS-Exchange-ForwardingLoop', 'alice@example.com;tenant')])?.kind, 'autoforward');
  assert.equal(detect([H('X-MS-Exchange-Generated-Message-Source', 'Mailbox Rules Agent')])?.kind, 'autoreply');
  assert.equal(detect([H('X-Auto-Response-Suppress', 'All'), H('Subject', 'Quarterly numbers')]), undefined);
});

test('localised subjects, RFC 2047 encoded, and near misses', () => {
  const yes = [
    'Out of Office: budget',
    'Automatic reply: budget',
    'AutoReply: x',
    'Abwesenheitsnotiz: Termin',
    'Automatische Antwort: Termin',
    '=?UTF-8?Q?R=C3=A9ponse_automatique_:_r=C3=A9union?=',
    '=?ISO-8859-1?Q?Respuesta_autom=E1tica:_hola?=',
    '=?UTF-8?B?0JDQstGC0L7QvNCw0YLQuNGH0LXRgdC60LjQuSDQvtGC0LLQtdGCOiDQv9GA0LjQstC10YI=?=',
    '=?UTF-8?B?6Ieq5YuV5b+c562U?=',
    'Risposta automatica: ciao',
    'Automatisch antwoord: vergadering',
  ];
  for (const s of yes) assert.equal(detect([H('Subject', s)])?.kind, 'autoreply', s);
  const no = ['Re: out of office plans for December', 'Your Vacation Winning !', 'Invoice 42', '', 'Fwd: Automatic reply: x'];
  for (const s of no) assert.equal(detect([H('Subject', s)]), undefined, s);
});

test('config subject patterns are RE2 and extend the shipped list', () => {
  const d = new AutoReplyDetector(config({ autoreply: { subjectPatterns: ['^ticket received\\b'] } }).autoreply);
  assert.ok(d.detect([H('Subject', 'Ticket received #123')], false));
  assert.throws(() => new AutoReplyDetector(config({ autoreply: { subjectPatterns: ['(?<=x)y'] } }).autoreply), /invalid RE2/);
});

test('null sender: real bounces and DSNs from the corpus pass', () => {
  for (const f of [
    'postal-mime/bounce.eml',
    'mailgun-flanker/office365.eml',
    'mailgun-flanker/zed.eml',
    'ruby-mail/report_422.eml',
    'ruby-mail/report_530.eml',
    'mimekit/bounce.txt',
  ]) {
    const headers = milterHeaders(fixture(f));
    assert.ok(headers.some((h) => /^(auto-submitted|precedence)$/i.test(h.name)), `${f} carries an automatic mark`);
    assert.equal(detector.detect(headers, true), undefined, f);
  }
});

test('null sender: a vacation reply sent with <> (RFC 3834 responders may) is still caught; "pass" lets it go', () => {
  const vac = [H('Auto-Submitted', 'auto-replied'), H('Subject', 'Out of office: re: plans'), H('Content-Type', 'text/plain')];
  assert.equal(detector.detect(vac, true)?.kind, 'autoreply');
  const report = [...vac.slice(0, 2), H('Content-Type', 'multipart/report; report-type=delivery-status; boundary=x')];
  assert.equal(detector.detect(report, true), undefined, 'a report is a DSN/MDN');
  const pass = new AutoReplyDetector(config({ autoreply: { nullSender: 'pass' } }).autoreply);
  assert.equal(pass.detect(vac, true), undefined);
});

test('the same corpus bounces sent with a real sender are flagged (their marks are real)', () => {
  assert.equal(detector.detect(milterHeaders(fixture('postal-mime/bounce.eml')), false)?.kind, 'autoreply');
  // Spam whose subject mentions "Vacation" is not an out-of-office.
  const spam = milterHeaders(fixture('apache-spamassassin/spam-004.eml'));
  const v = detector.detect(spam, false);
  assert.ok(!v || !v.indicators.includes('subject'));
});

test('malformed and huge headers: a verdict, no crash', () => {
  assert.equal(detect([H('Auto-Submitted', '')]), undefined);
  assert.equal(detect([H('Auto-Submitted', '((((')])?.kind, 'autoreply', 'garbage keyword other than "no" counts');
  assert.ok(detect([H('Auto-Submitted', `auto-replied ${'x'.repeat(2_000_000)}`)]));
  assert.ok(detect([H('Subject', `Out of office ${'\u0000\uffff'.repeat(500_000)}`)]));
  assert.equal(detect([H('Subject', '=?bogus-charset?Q?=ZZ=?=')]), undefined);
  assert.equal(detect([H('Subject', '=?UTF-8?B?!!!?=')]), undefined);
  const many: HeaderField[] = [];
  for (let i = 0; i < 50_000; i++) many.push(H('X-Noise', String(i)));
  many.push(H('X-Autoreply', 'yes'));
  assert.equal(detect(many)?.kind, 'autoreply');
});

// ---- through the policy module at EOM ----

const logger = silentLogger();
const CFG = config({ localDomains: ['example.com'] });
const inside = session({ address: '127.0.0.1' });
const OOF = [H('Subject', 'Automatic reply: plans'), H('Auto-Submitted', 'auto-replied')];

async function eom(cfg: typeof CFG, recipients: string[], headers = OOF, sender = 'alice@example.com', s = inside) {
  const p = createOutboundPolicy(cfg, { logger });
  return (await p.eom!(eomContext(s, message({ sender, headers, recipients: recipients.map((r) => rcpt(r)) })))) as StageResult;
}

test('out-of-office to an outside recipient: reject 550 5.7.1 with a clear text', async () => {
  const r = await eom(CFG, ['carol@example.org']);
  assert.equal(r.direction, 'outbound');
  assert.equal(r.hits.length, 1);
  assert.equal(r.hits[0]!.rule, 'outbound.autoreply');
  assert.equal(r.hits[0]!.action, 'reject');
  assert.deepEqual(r.hits[0]!.reply, {
    code: 550,
    enhanced: '5.7.1',
    text: 'Automatic replies and forwards to external recipients are not permitted',
  });
  assert.match(r.hits[0]!.detail, /automatic reply \(subject, Auto-Submitted\) to 1 external recipient/);
});

test('out-of-office to an inside recipient: delivered untouched', async () => {
  const r = await eom(CFG, ['bob@example.com']);
  assert.equal(r.direction, 'internal');
  assert.equal(r.hits.length, 0);
  assert.equal(r.envelopeChanges, undefined);
});

test('mixed recipients: outside ones removed with DELRCPT (raw form), internal delivered, logged', async () => {
  const r = await eom(CFG, ['bob@example.com', 'carol@example.org', 'dan@example.net']);
  assert.deepEqual(r.envelopeChanges, [
    { kind: 'delRcpt', address: '<carol@example.org>' },
    { kind: 'delRcpt', address: '<dan@example.net>' },
  ]);
  assert.equal(r.hits[0]!.action, 'log');
  assert.match(r.hits[0]!.detail, /2 external recipients removed, delivered to 1 internal/);
});

test('auto-forward rule id, discard option, log option, exempt sender, bounce passes', async () => {
  const fwd = await eom(CFG, ['carol@example.org'], [H('X-MS-Exchange-Inbox-Rules-Loop', 'alice@example.com'), H('Subject', 'FW: x')]);
  assert.equal(fwd.hits[0]!.rule, 'outbound.autoforward');
  const discard = await eom(config({ localDomains: ['example.com'], autoreply: { action: 'discard' } }), ['carol@example.org']);
  assert.equal(discard.hits[0]!.action, 'discard');
  assert.equal(discard.hits[0]!.reply, undefined);
  const exempt = await eom(config({ localDomains: ['example.com'], autoreply: { exemptSenders: ['@example.com'] } }), ['carol@example.org']);
  assert.equal(exempt.hits.length, 0);
  const bounce = milterHeaders(fixture('postal-mime/bounce.eml'));
  const b = await eom(CFG, ['carol@example.org'], bounce, '');
  assert.equal(b.hits.filter((h) => h.rule.startsWith('outbound.auto')).length, 0);
  const off = await eom(config({ localDomains: ['example.com'], autoreply: { action: 'off' } }), ['carol@example.org']);
  assert.equal(off.hits.length, 0);
});

test('inbound auto-replies are not this rule\'s business (direction limit)', async () => {
  const r = await eom(CFG, ['bob@example.com'], OOF, 'x@example.net', session({ address: '198.51.100.7' }));
  assert.equal(r.direction, 'inbound');
  assert.equal(r.hits.length, 0);
});

test('subject markers survive doubled spaces and invisible characters', async () => {
  const { AutoReplyDetector } = await import('../../src/policy/outbound/autoreply.js');
  const { outboundConfigSchema } = await import('../../src/policy/outbound/config.js');
  const d = new AutoReplyDetector(outboundConfigSchema.parse({}).autoreply);
  assert.equal(d.subjectMatches('Out  of office: back Monday'), true);
  assert.equal(d.subjectMatches('\u200bOut of\u00a0office: back Monday'), true);
  assert.equal(d.subjectMatches('Outcome of the office party'), false);
});
