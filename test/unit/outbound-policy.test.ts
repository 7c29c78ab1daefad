// The outbound PolicyModule as the engine sees it: shape, defaults, combined EOM results, bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createOutboundPolicy, outboundConfigSchema } from '../../src/policy/outbound/index.js';
import { silentLogger } from '../../src/log/logger.js';
import type { HeaderField, StageResult } from '../../src/policy/types.js';
import { config, eomContext, message, rcpt, rcptContext, session } from '../fixtures/outbound/helpers.js';

const logger = silentLogger();

test('module shape: id, layer, stages, reload, hidesInternalNames', () => {
  const p = createOutboundPolicy(config(), { logger });
  assert.equal(p.id, 'outbound');
  assert.equal(p.layer, 'outbound');
  assert.equal(typeof p.rcpt, 'function');
  assert.equal(typeof p.eom, 'function');
  assert.equal(typeof p.mail, 'function');
  assert.equal(typeof p.reload, 'function');
  assert.equal(p.hidesInternalNames, false);
});

test('defaults: every key has a default; loopback internal; autoreply reject; data-leak quarantine at 10', () => {
  const c = outboundConfigSchema.parse(undefined);
  assert.deepEqual(c.internalNetworks, ['127.0.0.0/8', '::1/128']);
  assert.equal(c.authenticatedIsInternal, true);
  assert.equal(c.autoreply.action, 'reject');
  assert.equal(c.dataLeak.card.threshold, 10);
  assert.equal(c.dataLeak.ssn.threshold, 10);
  assert.equal(c.dataLeak.card.action, 'quarantine');
  assert.deepEqual(c.dataLeak.directions, ['outbound']);
  assert.equal(c.hide.enabled, undefined);
  assert.throws(() => outboundConfigSchema.parse({ internalNetworks: 'x' }));
});

test('outbound EOM combines hiding and auto-reply refusal', async () => {
  const p = createOutboundPolicy(config({ localDomains: ['example.com'], hide: { internalDomains: ['corp.example.com'] } }), { logger });
  const headers: HeaderField[] = [
    { name: 'Received', value: 'from pc1.corp.example.com by mx' },
    { name: 'Subject', value: 'Out of Office: hi' },
  ];
  const r = (await p.eom!(eomContext(session({ address: '127.0.0.1' }), message({ headers, recipients: [rcpt('c@example.org')] })))) as StageResult;
  assert.deepEqual(r.hits.map((h) => [h.rule, h.action]), [['outbound.hide-names', 'log'], ['outbound.autoreply', 'reject']]);
  assert.deepEqual(r.headerChanges, [{ kind: 'change', name: 'Received', index: 1, value: '' }]);
});

test('bad input at EOM: missing/odd header values, binary junk, empty recipients, no crash', async () => {
  const p = createOutboundPolicy(config({ localDomains: ['example.com'], hide: { internalDomains: ['corp.example.com'] } }), { logger });
  const junk: HeaderField[] = [
    { name: 'Received', value: undefined as unknown as string },
    { name: '', value: '' },
    { name: 'Auto-Submitted', value: '\u0000\u0001\u0002' },
    { name: 'Message-ID', value: '<<<@@@>>>' },
    { name: 'Subject', value: Buffer.from([0xff, 0xfe, 0x00, 0x80]).toString('latin1') },
    { name: 'Content-Type', value: '\u0000multipart/report' },
  ];
  const s = session({ address: '127.0.0.1' });
  const r = (await p.eom!(eomContext(s, message({ headers: junk, recipients: [rcpt('c@example.org')] })))) as StageResult;
  assert.equal(r.direction, 'outbound');
  assert.equal(r.hits.find((h) => h.rule === 'outbound.autoreply')?.action, 'reject', 'garbage Auto-Submitted keyword counts');
  const none = (await p.eom!(eomContext(s, message({ headers: junk, recipients: [] })))) as StageResult;
  assert.equal(none.direction, 'internal');
  const odd = (await p.rcpt!(rcptContext(session({ address: 'garbage' }), message(), { address: '', raw: '<>', args: [], macros: {} }))) as StageResult;
  assert.ok(Array.isArray(odd.hits));
});

test('outbound disabled: no stage is implemented, so the server negotiates them away', () => {
  const p = createOutboundPolicy(config({ enabled: false, localDomains: ['example.com'] }), { logger });
  assert.equal(p.mail, undefined);
  assert.equal(p.rcpt, undefined);
  assert.equal(p.eom, undefined);
  assert.equal(p.hidesInternalNames, false);
});
