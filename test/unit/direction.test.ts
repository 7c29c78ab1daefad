// Direction matrix: origin (network, SASL login, submission daemon, outside) x recipients (local
// domains, Postfix / sendmail {rcpt_mailer}, unknown).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDirectionFacts } from '../../src/policy/outbound/direction.js';
import { config, rcpt, session } from '../fixtures/outbound/helpers.js';

const POSTFIX = { v: 'Postfix 3.7.11' };

test('origin: internal network, auth, submission daemon, outside', () => {
  const d = createDirectionFacts(config({ internalNetworks: ['10.0.0.0/8', '::1/128', '127.0.0.0/8'] }));
  assert.deepEqual(d.origin(session({ address: '10.1.2.3' })).reason, 'network');
  assert.deepEqual(d.origin(session({ address: '127.0.0.1' })).reason, 'network');
  assert.deepEqual(d.origin(session({ address: '::ffff:10.9.9.9' })).reason, 'network');
  assert.deepEqual(d.origin(session({ address: '::1' })).reason, 'network');
  const auth = d.origin(session({ address: '198.51.100.7', macros: { '{auth_authen}': 'alice' } }));
  assert.equal(auth.ours, true);
  assert.equal(auth.reason, 'auth');
  assert.equal(auth.login, 'alice');
  assert.equal(d.origin(session({ address: '198.51.100.7', macros: { '{daemon_name}': 'submission' } })).reason, 'daemon');
  assert.equal(d.origin(session({ address: '198.51.100.7', macros: { '{daemon_name}': 'smtpd' } })).ours, false);
  assert.equal(d.origin(session({ address: '198.51.100.7' })).ours, false);
  assert.equal(d.origin(session({ address: 'not-an-ip' })).ours, false);
});

test('authenticatedIsInternal=false: a login alone does not make mail ours', () => {
  const d = createDirectionFacts(config({ authenticatedIsInternal: false }));
  assert.equal(d.origin(session({ macros: { '{auth_authen}': 'alice' } })).ours, false);
});

test('default internal networks are loopback only', () => {
  const d = createDirectionFacts(config());
  assert.equal(d.origin(session({ address: '127.0.0.1' })).ours, true);
  assert.equal(d.origin(session({ address: '10.0.0.1' })).ours, false);
});

test('recipient: local domains (exact and sub-domain forms)', () => {
  const d = createDirectionFacts(config({ localDomains: ['example.com', '.corp.example.com'] }));
  const s = session();
  assert.equal(d.classifyRecipient(rcpt('bob@example.com'), s), 'local');
  assert.equal(d.classifyRecipient(rcpt('bob@EXAMPLE.COM.'), s), 'local');
  assert.equal(d.classifyRecipient(rcpt('bob@hr.corp.example.com'), s), 'local');
  assert.equal(d.classifyRecipient(rcpt('bob@corp.example.com'), s), 'outside');
  assert.equal(d.classifyRecipient(rcpt('bob@sub.example.com'), s), 'outside');
  assert.equal(d.classifyRecipient(rcpt('bob@example.org', 'local'), s), 'outside', 'localDomains win over the mailer');
  assert.equal(d.classifyRecipient(rcpt('postmaster'), s), 'local');
});

test('recipient: Postfix {rcpt_mailer} — local, virtual, relay (relay_domains), lmtp are ours; smtp outside', () => {
  const d = createDirectionFacts(config());
  const s = session({ macros: POSTFIX });
  assert.equal(d.mtaOf(s), 'postfix');
  for (const m of ['local', 'virtual', 'relay', 'lmtp']) assert.equal(d.classifyRecipient(rcpt('x@y.z', m), s), 'local', m);
  for (const m of ['smtp', 'error', 'custom']) assert.equal(d.classifyRecipient(rcpt('x@y.z', m), s), 'outside', m);
});

test('recipient: sendmail {rcpt_mailer} — local ours; esmtp/smtp/relay outside', () => {
  const d = createDirectionFacts(config());
  const s = session({ macros: { v: '8.17.1.9', j: 'mx.example.com' } });
  assert.equal(d.mtaOf(s), 'sendmail');
  assert.equal(d.classifyRecipient(rcpt('x@y.z', 'local'), s), 'local');
  for (const m of ['esmtp', 'smtp', 'relay', 'dsmtp', 'smtp8']) assert.equal(d.classifyRecipient(rcpt('x@y.z', m), s), 'outside', m);
  const forced = createDirectionFacts(config({ mta: 'postfix' }));
  assert.equal(forced.classifyRecipient(rcpt('x@y.z', 'relay'), s), 'local', 'mta: postfix forces Postfix meaning');
});

test('recipient: unknown without local domains and without macro', () => {
  const d = createDirectionFacts(config());
  assert.equal(d.classifyRecipient(rcpt('x@y.z'), session()), 'unknown');
});

test('direction matrix', () => {
  const d = createDirectionFacts(config({ localDomains: ['example.com'] }));
  const inside = session({ address: '127.0.0.1' });
  const authed = session({ address: '198.51.100.7', macros: { '{auth_authen}': 'alice' } });
  const submission = session({ address: '198.51.100.7', macros: { '{daemon_name}': 'submission' } });
  const outside = session({ address: '198.51.100.7' });
  const local = rcpt('bob@example.com');
  const remote = rcpt('carol@example.org');
  const cases: Array<[string, ReturnType<typeof session>, ReturnType<typeof rcpt>[], string]> = [
    ['ours, no rcpt yet', inside, [], 'internal'],
    ['network -> local', inside, [local], 'internal'],
    ['network -> remote', inside, [remote], 'outbound'],
    ['network -> mixed', inside, [local, remote], 'outbound'],
    ['auth -> local', authed, [local], 'internal'],
    ['auth -> remote', authed, [remote], 'outbound'],
    ['submission -> remote', submission, [remote], 'outbound'],
    ['outside -> local', outside, [local], 'inbound'],
    ['outside -> remote (relay attempt)', outside, [remote], 'inbound'],
  ];
  for (const [name, s, rs, want] of cases) assert.equal(d.decide(s, rs), want, name);
});

test('direction: unknown recipient class counts as outside for our own mail', () => {
  const d = createDirectionFacts(config());
  assert.equal(d.decide(session({ address: '127.0.0.1' }), [rcpt('x@y.z')]), 'outbound');
  assert.equal(d.decide(session({ address: '127.0.0.1', macros: POSTFIX }), [rcpt('x@y.z', 'virtual')]), 'internal');
});

test('addresses parse as strictly as Layer 1: dotted quads only, brackets/IPv6:/zone ids accepted; bad networks named', async () => {
  const { CidrSet, isPrivateAddress, parseIp } = await import('../../src/policy/outbound/addr.js');
  for (const odd of ['127.1', '0x7f.0.0.1', '10.1', '012.0.0.1', 'not-an-ip', '']) assert.equal(parseIp(odd), undefined, odd);
  assert.equal(parseIp('[IPv6:2001:db8::1]')?.toString(), '2001:db8::1');
  assert.equal(parseIp('fe80::1%eth0')?.toString(), 'fe80::1');
  assert.equal(parseIp('::ffff:10.1.2.3')?.toString(), '10.1.2.3');
  // a Received: header saying "10.1" is not taken for an internal address
  assert.equal(isPrivateAddress('10.1'), false);
  assert.equal(isPrivateAddress('10.0.0.1'), true);
  assert.throws(() => new CidrSet(['10.0.0.0/8', '127.1']), /outbound\.internalNetworks: invalid address or CIDR "127\.1"/);
  const d = createDirectionFacts(config({ internalNetworks: ['10.0.0.0/8'] }));
  assert.equal(d.origin(session({ address: '10.1' })).reason === 'network', false);
});
