// Relay control and per-user / per-group permissions at RCPT (outbound.relay-denied,
// outbound.user-send-denied, outbound.user-receive-denied), including the reloadable file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, utimesSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createOutboundPolicy } from '../../src/policy/outbound/index.js';
import { silentLogger } from '../../src/log/logger.js';
import type { StageResult } from '../../src/policy/types.js';
import { config, message, rcpt, rcptContext, session } from '../fixtures/outbound/helpers.js';

const logger = silentLogger();
const LOCAL = ['example.com'];
const outside = session({ address: '198.51.100.7' });
const inside = session({ address: '127.0.0.1' });
const authed = (login: string) => session({ address: '198.51.100.7', macros: { '{auth_authen}': login } });

async function rcptResult(cfg: unknown, s = outside, r = rcpt('carol@example.org'), sender = 'x@example.net'): Promise<StageResult> {
  const p = createOutboundPolicy(config(cfg), { logger });
  return (await p.rcpt!(rcptContext(s, message({ sender }), r))) as StageResult;
}

test('relay: outside client to outside domain is refused at RCPT with 5.7.1, no internal detail', async () => {
  const r = await rcptResult({ localDomains: LOCAL });
  assert.equal(r.hits.length, 1);
  const h = r.hits[0]!;
  assert.equal(h.rule, 'outbound.relay-denied');
  assert.equal(h.action, 'reject');
  assert.deepEqual(h.reply, { code: 550, enhanced: '5.7.1', text: 'Relay access denied' });
  assert.equal(r.direction, 'inbound');
});

test('relay: outside client to local domain, internal network / authenticated to outside: no hit', async () => {
  assert.equal((await rcptResult({ localDomains: LOCAL }, outside, rcpt('bob@example.com'))).hits.length, 0);
  const a = await rcptResult({ localDomains: LOCAL }, inside);
  assert.equal(a.hits.length, 0);
  assert.equal(a.direction, 'outbound');
  assert.equal((await rcptResult({ localDomains: LOCAL }, authed('alice'))).hits.length, 0);
});

test('relay: {rcpt_mailer} inference without local domains (Postfix smtp = outside)', async () => {
  const s = session({ address: '198.51.100.7', macros: { v: 'Postfix 3.7.11' } });
  const denied = await rcptResult({}, s, rcpt('carol@example.org', 'smtp'));
  assert.equal(denied.hits[0]?.rule, 'outbound.relay-denied');
  const ok = await rcptResult({}, s, rcpt('bob@example.com', 'relay'));
  assert.equal(ok.hits.length, 0);
});

test('unclassifiable recipient from outside: fail action (tempfail), never silently accepted', async () => {
  const r = await rcptResult({}, outside, rcpt('who@where.example'));
  assert.equal(r.hits[0]?.rule, 'outbound.rcpt-unclassified');
  assert.equal(r.hits[0]?.action, 'tempfail');
  assert.equal(r.hits[0]?.reply?.code, 451);
  const asOutside = await rcptResult({ unclassifiedRecipient: 'outside' }, outside, rcpt('who@where.example'));
  assert.equal(asOutside.hits[0]?.rule, 'outbound.relay-denied');
});

test('relay action and reply are configurable; relay can be off', async () => {
  const r = await rcptResult({ localDomains: LOCAL, relay: { action: 'tempfail' } });
  assert.equal(r.hits[0]?.action, 'tempfail');
  assert.equal(r.hits[0]?.reply?.code, 451);
  const off = await rcptResult({ localDomains: LOCAL, relay: { enabled: false } });
  assert.equal(off.hits.length, 0);
  const custom = await rcptResult({ localDomains: LOCAL, relay: { reply: { code: 554, enhanced: '5.7.1', text: 'no' } } });
  assert.equal(custom.hits[0]?.reply?.code, 554);
});

const PERMS = {
  localDomains: LOCAL,
  permissions: {
    users: {
      'intern@example.com': { sendExternal: false, allowExternal: ['partner.example', 'boss@home.example'] },
      kiosk: { sendExternal: false },
      'vip@example.com': { receiveExternal: true },
    },
    groups: [
      { name: 'lab', members: ['@lab.example.com', 'lab1@example.com', 'vip@example.com'], receiveExternal: false },
    ],
  },
};

test('per-user: sender not permitted to mail outside, only that recipient refused, reply reveals nothing internal', async () => {
  const r = await rcptResult(PERMS, inside, rcpt('carol@example.org'), 'intern@example.com');
  assert.equal(r.hits[0]?.rule, 'outbound.user-send-denied');
  assert.equal(r.hits[0]?.action, 'reject');
  assert.deepEqual(r.hits[0]?.reply, {
    code: 550,
    enhanced: '5.7.1',
    text: '<carol@example.org>: sender not permitted to mail external recipients',
  });
  assert.ok(!String(r.hits[0]?.reply?.text).includes('intern'));
  // Internal recipients and allow-listed partners pass.
  assert.equal((await rcptResult(PERMS, inside, rcpt('bob@example.com'), 'intern@example.com')).hits.length, 0);
  assert.equal((await rcptResult(PERMS, inside, rcpt('x@partner.example'), 'intern@example.com')).hits.length, 0);
  assert.equal((await rcptResult(PERMS, inside, rcpt('boss@home.example'), 'intern@example.com')).hits.length, 0);
  assert.equal((await rcptResult(PERMS, inside, rcpt('other@home.example'), 'intern@example.com')).hits.length, 1);
  // Others may.
  assert.equal((await rcptResult(PERMS, inside, rcpt('carol@example.org'), 'bob@example.com')).hits.length, 0);
});

test('per-user: SASL login name is an identity too', async () => {
  const r = await rcptResult(PERMS, authed('kiosk'), rcpt('carol@example.org'), 'someone@example.com');
  assert.equal(r.hits[0]?.rule, 'outbound.user-send-denied');
});

test('per-group: receive from Internet denied; user entry overrides group', async () => {
  const r = await rcptResult(PERMS, outside, rcpt('lab1@example.com'), 'stranger@example.net');
  assert.equal(r.hits[0]?.rule, 'outbound.user-receive-denied');
  assert.equal(r.hits[0]?.reply?.text, '<lab1@example.com>: recipient not permitted to receive external mail');
  assert.equal(r.direction, 'inbound');
  const dom = await rcptResult(PERMS, outside, rcpt('x@lab.example.com'), 'stranger@example.net');
  assert.equal(dom.hits.length, 1, 'outside lab.example.com is not local with localDomains [example.com] -> relay');
  assert.equal(dom.hits[0]?.rule, 'outbound.relay-denied');
  assert.equal((await rcptResult(PERMS, outside, rcpt('vip@example.com'), 'stranger@example.net')).hits.length, 0);
  // Internal senders may still mail the lab.
  assert.equal((await rcptResult(PERMS, inside, rcpt('lab1@example.com'), 'bob@example.com')).hits.length, 0);
});

test('permissions file: loaded, re-read on mtime change and via reload(); bad file keeps last good version', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'postern-perm-'));
  try {
    const file = path.join(dir, 'perms.yaml');
    writeFileSync(file, 'users:\n  "alice@example.com": { sendExternal: false }\n');
    const p = createOutboundPolicy(config({ localDomains: LOCAL, permissions: { file, checkIntervalMs: 0 } }), { logger });
    const ask = async (sender: string) =>
      ((await p.rcpt!(rcptContext(inside, message({ sender }), rcpt('carol@example.org')))) as StageResult).hits;
    assert.equal((await ask('alice@example.com'))[0]?.rule, 'outbound.user-send-denied');
    assert.equal((await ask('bob@example.com')).length, 0);

    writeFileSync(file, 'users:\n  "bob@example.com": { sendExternal: false }\n');
    const later = new Date(Date.now() + 5000);
    utimesSync(file, later, later);
    assert.equal((await ask('alice@example.com')).length, 0, 'mtime change re-read');
    assert.equal((await ask('bob@example.com'))[0]?.rule, 'outbound.user-send-denied');

    writeFileSync(file, 'users: [this is: not valid');
    await p.reload();
    assert.equal((await ask('bob@example.com'))[0]?.rule, 'outbound.user-send-denied', 'last good version kept');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a relative permissions file is found beside the config file, like every other data file', async () => {
  const { setConfigDir, getConfigDir } = await import('../../src/config/paths.js');
  const dir = mkdtempSync(path.join(tmpdir(), 'postern-perm-rel-'));
  const before = getConfigDir();
  try {
    writeFileSync(path.join(dir, 'perms-beside-config.yaml'), 'users:\n  "alice@example.com": { sendExternal: false }\n');
    setConfigDir(dir); // what loading /that/dir/postern.yaml does
    const p = createOutboundPolicy(config({ localDomains: LOCAL, permissions: { file: 'perms-beside-config.yaml', checkIntervalMs: 0 } }), { logger });
    const r = (await p.rcpt!(rcptContext(inside, message({ sender: 'alice@example.com' }), rcpt('carol@example.org')))) as StageResult;
    assert.equal(r.hits[0]?.rule, 'outbound.user-send-denied');
  } finally {
    setConfigDir(before);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('permissions file missing from the start: fail action, not accept', async () => {
  const p = createOutboundPolicy(
    config({ localDomains: LOCAL, permissions: { file: '/nonexistent/postern-perms.yaml', checkIntervalMs: 0 } }),
    { logger },
  );
  const r = (await p.rcpt!(rcptContext(inside, message(), rcpt('carol@example.org')))) as StageResult;
  assert.equal(r.hits[0]?.rule, 'outbound.permissions-unavailable');
  assert.equal(r.hits[0]?.action, 'tempfail');
  assert.equal(r.hits[0]?.reply?.code, 451);
});

test('rcpt publishes direction including the accepted recipient, excluding a refused one', async () => {
  const p = createOutboundPolicy(config({ localDomains: LOCAL }), { logger });
  const m = message({ recipients: [rcpt('bob@example.com')] });
  const internal = (await p.rcpt!(rcptContext(inside, m, rcpt('dave@example.com')))) as StageResult;
  assert.equal(internal.direction, 'internal');
  const out = (await p.rcpt!(rcptContext(inside, m, rcpt('carol@example.org')))) as StageResult;
  assert.equal(out.direction, 'outbound');
  const mail = (await p.mail!({ session: outside, message: message(), earlierHits: [] })) as StageResult;
  assert.equal(mail.direction, 'inbound');
});

test('outbound disabled: no RCPT check at all', () => {
  const p = createOutboundPolicy(config({ enabled: false, localDomains: LOCAL }), { logger });
  assert.equal(p.rcpt, undefined);
});
