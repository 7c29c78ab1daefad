// Hiding internal names: exact HeaderChange lists (1-based per-name indexes, deletions last-to-first),
// Message-ID rewriting, X-Originating-IP / X-Mailer removal, and a real message with *.internal hops.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hidesInternalNames, planHiding } from '../../src/policy/outbound/hide.js';
import { createOutboundPolicy } from '../../src/policy/outbound/index.js';
import { silentLogger } from '../../src/log/logger.js';
import type { HeaderChange, HeaderField, StageResult } from '../../src/policy/types.js';
import { config, eomContext, fixture, message, milterHeaders, rcpt, session } from '../fixtures/outbound/helpers.js';

const H = (name: string, value: string): HeaderField => ({ name, value });
const CFG = config({
  localDomains: ['example.com'],
  internalNetworks: ['127.0.0.0/8', '::1/128', '192.0.2.0/24'],
  hide: { internalDomains: ['corp.example.com', 'lan'], internalHosts: ['exch01'] },
});

/** Apply changes the way Postfix does (deleted headers removed, indexes shift), to check the plan. */
function applyPostfix(headers: HeaderField[], changes: HeaderChange[]): HeaderField[] {
  const out = headers.map((h) => ({ ...h }));
  for (const c of changes) {
    if (c.kind !== 'change') throw new Error('unexpected');
    let n = 0;
    const at = out.findIndex((h) => h.name.toLowerCase() === c.name.toLowerCase() && ++n === c.index);
    if (at < 0) continue;
    if (c.value === '') out.splice(at, 1);
    else out[at] = { name: out[at]!.name, value: c.value };
  }
  return out;
}

test('hidesInternalNames: on as soon as internal domains or hosts are configured; explicit switch wins', () => {
  assert.equal(hidesInternalNames(config()), false);
  assert.equal(hidesInternalNames(config({ hide: { internalDomains: ['corp.example.com'] } })), true);
  assert.equal(hidesInternalNames(config({ hide: { internalHosts: ['exch01'] } })), true);
  assert.equal(hidesInternalNames(config({ hide: { internalDomains: ['corp.example.com'], enabled: false } })), false);
  assert.equal(hidesInternalNames(config({ hide: { enabled: true } })), true);
  assert.equal(hidesInternalNames(config({ enabled: false, hide: { internalDomains: ['x'] } })), false);
});

test('repeated Received: internal ones deleted from the highest index down; external kept', () => {
  const headers = [
    H('Received', 'from mx.partner.example (mx.partner.example [198.51.100.20])\n\tby gw.example.com; Mon, 1 Jan 2026'), // 1 external
    H('Received', 'from pc17.corp.example.com (pc17.corp.example.com [10.1.2.3])\n\tby exch01.corp.example.com'), // 2
    H('Subject', 'hello'),
    H('Received', 'from [192.168.7.9] (helo=laptop)\n\tby relay (Postfix) with ESMTPSA'), // 3 private address
    H('Received', 'from unknown (HELO exch01) ([203.0.113.5])'), // 4 internal host
    H('Received', 'from a.example.net by b.example.net'), // 5 external
    H('RECEIVED', 'from build.lan by ci'), // 6 (name case differs)
  ];
  const plan = planHiding(headers, CFG);
  assert.deepEqual(plan.changes, [
    { kind: 'change', name: 'RECEIVED', index: 6, value: '' },
    { kind: 'change', name: 'Received', index: 4, value: '' },
    { kind: 'change', name: 'Received', index: 3, value: '' },
    { kind: 'change', name: 'Received', index: 2, value: '' },
  ]);
  assert.equal(plan.summary, '4 Received deleted');
  const after = applyPostfix(headers, plan.changes);
  assert.deepEqual(
    after.map((h) => h.value.split('\n')[0]),
    ['from mx.partner.example (mx.partner.example [198.51.100.20])', 'hello', 'from a.example.net by b.example.net'],
  );
});

test('received: all deletes every Received the milter saw; off keeps them', () => {
  const headers = [H('Received', 'a'), H('X', '1'), H('Received', 'b')];
  const all = planHiding(headers, config({ hide: { internalDomains: ['x.y'], received: 'all' } }));
  assert.deepEqual(all.changes, [
    { kind: 'change', name: 'Received', index: 2, value: '' },
    { kind: 'change', name: 'Received', index: 1, value: '' },
  ]);
  const off = planHiding([H('Received', 'from h.x.y')], config({ hide: { internalDomains: ['x.y'], received: 'off' } }));
  assert.deepEqual(off.changes, []);
});

test('Message-ID with internal host rewritten to the public domain (leading space kept); References consistent', () => {
  const headers = [
    H('Message-ID', ' <abc.123@exch01.corp.example.com>'),
    H('In-Reply-To', '<x1@PC-ALICE>'),
    H('References', '<r1@mail.partner.example>\n <x1@PC-ALICE>'),
    H('X-Originating-IP', '[10.1.2.3]'),
    H('X-Mailer', 'Thing 1.0'),
  ];
  const plan = planHiding(headers, CFG);
  assert.equal(plan.changes.length, 4);
  const [mid, irt, refs, xoip] = plan.changes as Array<Extract<HeaderChange, { kind: 'change' }>>;
  assert.equal(mid!.name, 'Message-ID');
  assert.equal(mid!.index, 1);
  assert.match(mid!.value, /^ <abc\.123\.[0-9a-z]+@example\.com>$/);
  assert.match(irt!.value, /^<x1\.[0-9a-z]+@example\.com>$/);
  assert.equal(refs!.value.split('\n')[0], '<r1@mail.partner.example>', 'external id untouched, folding kept');
  assert.equal(refs!.value.split('\n')[1], ` ${irt!.value}`, 'same id maps to the same value');
  assert.deepEqual(xoip, { kind: 'change', name: 'X-Originating-IP', index: 1, value: '' });
  assert.ok(!JSON.stringify(plan.changes.filter((c) => c.kind === 'change' && c.value)).match(/corp|exch01|PC-ALICE/i));
});

test('external Message-ID untouched; no public domain -> ids untouched', () => {
  assert.deepEqual(planHiding([H('Message-ID', '<a@mail.example.com>')], CFG).changes, []);
  const noPub = config({ hide: { internalDomains: ['corp.example.com'] } });
  assert.deepEqual(planHiding([H('Message-ID', '<a@h.corp.example.com>')], noPub).changes, []);
  const pub = config({ hide: { internalDomains: ['corp.example.com'], publicDomain: 'mail.example.org' } });
  assert.match((planHiding([H('Message-ID', '<a@h.corp.example.com>')], pub).changes[0] as { value: string }).value, /@mail\.example\.org>$/);
});

test('X-Mailer / User-Agent removed only with removeMailer; several X-Originating-IP deleted last first', () => {
  const headers = [H('X-Originating-IP', '1'), H('User-Agent', 'UA'), H('X-Mailer', 'M'), H('X-Originating-IP', '2')];
  assert.deepEqual(planHiding(headers, CFG).changes, [
    { kind: 'change', name: 'X-Originating-IP', index: 2, value: '' },
    { kind: 'change', name: 'X-Originating-IP', index: 1, value: '' },
  ]);
  const withMailer = config({ hide: { internalDomains: ['corp.example.com'], removeMailer: true } });
  assert.deepEqual(planHiding(headers, withMailer).changes, [
    { kind: 'change', name: 'User-Agent', index: 1, value: '' },
    { kind: 'change', name: 'X-Mailer', index: 1, value: '' },
    { kind: 'change', name: 'X-Originating-IP', index: 2, value: '' },
    { kind: 'change', name: 'X-Originating-IP', index: 1, value: '' },
  ]);
});

test('IPv6 and address literals in Received', () => {
  const headers = [
    H('Received', 'from host ([IPv6:fd00::5]) by gw'),
    H('Received', 'from host ([IPv6:2001:db8::1]) by gw'),
    H('Received', 'from host ([192.0.2.44]) by gw'), // internalNetworks
    H('Received', 'from host ([198.51.100.44]) by gw at 12:34:56'),
  ];
  assert.deepEqual(
    planHiding(headers, CFG).changes.map((c) => (c as { index: number }).index),
    [3, 1],
  );
});

test('real message: postal-mime bounce with *.internal hops (Postfix hides its own first Received)', () => {
  const headers = milterHeaders(fixture('postal-mime/bounce.eml'));
  const cfg = config({ localDomains: ['example.com'], hide: { internalDomains: ['internal'] } });
  const plan = planHiding(headers, cfg);
  const after = applyPostfix(headers, plan.changes);
  const text = after.map((h) => `${h.name}: ${h.value}`).join('\n');
  assert.ok(!/\.internal\b/.test(text.split('\n\n')[0]!.split('\nARC-')[0]!), 'no .internal name before the ARC headers');
  for (const h of after.filter((x) => x.name.toLowerCase() === 'received')) assert.ok(!/\binternal\b|\b10\.\d/.test(h.value), h.value);
  // Everything that is not Received / hidden headers is intact and in order.
  const keep = (hs: HeaderField[]) => hs.filter((h) => !['received', 'message-id'].includes(h.name.toLowerCase()));
  assert.deepEqual(keep(after), keep(headers));
  const mid = after.find((h) => h.name === 'Message-Id');
  assert.match(mid!.value, /^<20221010053722\.37BD05C00A2\.[0-9a-z]+@example\.com>$/, 'internal Message-Id host rewritten');
  assert.ok(plan.changes.every((c) => c.kind === 'change' && (c.value === '' || c.name === 'Message-Id')));
  assert.equal(plan.changes[0]!.kind === 'change' && plan.changes[0]!.name, 'Message-Id', 'value changes come before deletions');
});

test('policy eom: outbound message gets the changes; internal message does not; hit shows counts only', async () => {
  const p = createOutboundPolicy(CFG, { logger: silentLogger() });
  assert.equal(p.hidesInternalNames, true);
  const headers = [H('Received', 'from pc.corp.example.com'), H('Message-ID', '<1@pc.corp.example.com>')];
  const s = session({ address: '127.0.0.1' });
  const out = (await p.eom!(eomContext(s, message({ headers, recipients: [rcpt('c@example.org')] })))) as StageResult;
  assert.equal(out.direction, 'outbound');
  assert.equal(out.headerChanges?.length, 2);
  const hit = out.hits.find((h) => h.rule === 'outbound.hide-names');
  assert.equal(hit?.action, 'log');
  assert.equal(hit?.detail, '1 Received deleted, 1 message id rewritten');
  const internal = (await p.eom!(eomContext(s, message({ headers, recipients: [rcpt('b@example.com')] })))) as StageResult;
  assert.equal(internal.direction, 'internal');
  assert.equal(internal.headerChanges, undefined);
});

test('huge header block: linear, no crash', () => {
  const headers: HeaderField[] = [];
  for (let i = 0; i < 20000; i++) headers.push(H('Received', `from h${i}.corp.example.com ([10.0.${i % 250}.1]) by x`));
  headers.push(H('X-Junk', 'a'.repeat(1_000_000)));
  const plan = planHiding(headers, CFG);
  assert.equal(plan.changes.length, 20000);
  assert.deepEqual(plan.changes[0], { kind: 'change', name: 'Received', index: 20000, value: '' });
  assert.deepEqual(plan.changes[19999], { kind: 'change', name: 'Received', index: 1, value: '' });
});
