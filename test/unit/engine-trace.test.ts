// The engine's trace and score headers: forged copies that came with the message are removed,
// the real trace names the deciding rule, and monitor mode says what would have happened.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FilterReply } from '../../codec/index.js';
import { MilterServer } from '../../src/server/server.js';
import { PolicyEngine } from '../../src/policy/engine.js';
import { policyConfigSchema, type PolicyConfig } from '../../src/policy/config.js';
import { silentLogger } from '../../src/log/logger.js';
import type { PolicyModule } from '../../src/policy/types.js';
import { connectMilter } from '../harness/mta.js';

const servers: MilterServer[] = [];
after(async () => {
  for (const s of servers) await s.stop(100);
});

/** A real MilterServer on loopback running `modules` under `policy`; returns its address. */
async function listen(policy: PolicyConfig, modules: PolicyModule[], maxConnections = 2000): Promise<string> {
  const engine = new PolicyEngine({ policy, modules, logger: silentLogger(), spoolThresholdBytes: 1 << 20, spoolDir: '' });
  const server = new MilterServer(engine, {
    listen: 'inet:0@127.0.0.1', unixMode: 0o660, maxConnections, maxFrameLength: 1 << 20,
    timeouts: { connect: 5000, command: 5000, content: 5000, eom: 5000, idle: 60000 }, errorAction: 'tempfail', highWaterBytes: 4 << 20,
  }, silentLogger());
  servers.push(server);
  return server.listen();
}

async function run(policy: Record<string, unknown>, modules: PolicyModule[], raw: string) {
  // the test modules' rules are "test.*", a family the config schema refuses: set the patterns after parsing
  const { monitor, disabled, ...rest } = policy as { monitor?: string[]; disabled?: string[] };
  const parsed = policyConfigSchema.parse(rest);
  if (monitor) parsed.monitor = monitor;
  if (disabled) parsed.disabled = disabled;
  const mta = await connectMilter(await listen(parsed, modules), { timeoutMs: 5000 });
  await mta.negotiate();
  await mta.connect('client.example', 'inet4', 25, '192.0.2.10');
  await mta.helo('client.example');
  const result = await mta.sendMessage(Buffer.from(raw.replace(/\n/g, '\r\n')), { from: '<a@example.org>', rcpts: ['<b@example.test>'] });
  await mta.quit();
  return result;
}

/** A content-like module that needs headers and hits at end of message. */
const quarantining: PolicyModule = {
  id: 'test', layer: 'content', needsContent: true,
  eom: () => ({ hits: [{ rule: 'test.hold', action: 'quarantine', detail: 'held for review' }] }),
};

const FORGED = 'From: a@example.org\nX-Postern: accept; dir=inbound; score=0; rules=none; id=forged\nx-postern-score: -100\nX-Postern: accept; second forgery\nSubject: hi\n\nbody\n';

test('forged trace and score headers are deleted, last first, before the real trace is added', async () => {
  const r = await run({}, [quarantining], FORGED);
  const mods = r.modifications as FilterReply[];
  const changes = mods.filter((m) => m.type === 'changeHeader') as Array<Extract<FilterReply, { type: 'changeHeader' }>>;
  assert.deepEqual(
    changes.map((c) => [c.name, c.index, c.value]),
    [['X-Postern', 2, ''], ['X-Postern', 1, ''], ['X-Postern-Score', 1, '']],
  );
  const added = mods.find((m) => m.type === 'addHeader' && m.name === 'X-Postern') as Extract<FilterReply, { type: 'addHeader' }>;
  assert.match(added.value, /^ ?quarantine; by=test\.hold; dir=inbound; score=0; rules=test\.hold\(quarantine\)/);
  assert.ok(mods.some((m) => m.type === 'quarantine' && m.reason.startsWith('postern test.hold: held for review')));
  // deletions come before the new header, so the new one is never the one deleted
  assert.ok(mods.findIndex((m) => m.type === 'changeHeader') < mods.findIndex((m) => m.type === 'addHeader'));
});

test('monitor mode: delivered, and the trace says what would have happened and why', async () => {
  const r = await run({ monitor: ['test.*'] }, [quarantining], 'From: a@example.org\nSubject: hi\n\nbody\n');
  assert.equal(r.final.type, 'accept');
  const mods = r.modifications as FilterReply[];
  assert.ok(!mods.some((m) => m.type === 'quarantine'), 'monitor mode must not quarantine');
  const added = mods.find((m) => m.type === 'addHeader' && m.name === 'X-Postern') as Extract<FilterReply, { type: 'addHeader' }>;
  assert.match(added.value, /accept \(monitor: would quarantine\); by=test\.hold;/);
  assert.match(added.value, /test\.hold\(monitor:quarantine\)/);
});

test('monitor patterns: a family prefix covers its failure id too; an exact verdict id does not', async () => {
  // a check that could not run (clamd down, say) tempfails
  const unavailable: PolicyModule = {
    id: 'test', layer: 'content', needsContent: true,
    eom: () => ({ hits: [{ rule: 'test.unavailable', action: 'tempfail', detail: 'scanner down' }] }),
  };
  const raw = 'From: a@example.org\nSubject: hi\n\nbody\n';
  const family = await run({ monitor: ['test.*'] }, [unavailable], raw);
  assert.equal(family.final.type, 'accept');
  const added = (family.modifications as FilterReply[]).find((m) => m.type === 'addHeader' && m.name === 'X-Postern') as Extract<FilterReply, { type: 'addHeader' }>;
  assert.match(added.value, /accept \(monitor: would tempfail\); by=test\.unavailable;/);
  const exact = await run({ monitor: ['test.infected'] }, [unavailable], raw);
  // a tempfail with the rule's own text comes as a 4xx reply code
  assert.equal(exact.final.type, 'replyCode');
  assert.match((exact.final as { text: string }).text, /^4\d\d /);
});

test('a forged trace header with white space before the colon is removed too', async () => {
  const r = await run({}, [quarantining], 'From: a@example.org\nX-Postern : accept; forged\nSubject: hi\n\nbody\n');
  const changes = (r.modifications as FilterReply[]).filter((m) => m.type === 'changeHeader') as Array<Extract<FilterReply, { type: 'changeHeader' }>>;
  assert.deepEqual(changes.map((c) => [c.name, c.index, c.value]), [['X-Postern', 1, '']]);
});

test('end of message without MAIL FROM is never accepted', async () => {
  const address = await listen(policyConfigSchema.parse({}), [quarantining], 1);
  const mta = await connectMilter(address, { timeoutMs: 5000 });
  await mta.negotiate();
  await mta.connect('client.example', 'inet4', 25, '192.0.2.10');
  const answer = await mta.eom();
  assert.equal(answer.final.type, 'replyCode');
  assert.match((answer.final as Extract<FilterReply, { type: 'replyCode' }>).text, /^451 4\.7\.1 .*protocol\.no-envelope/);
  // maxConnections 1: a second connection is closed at once while the first is open
  const second = await connectMilter(address, { timeoutMs: 3000 });
  await assert.rejects(second.negotiate());
  await mta.quit();
});

test('a hold the MTA does not allow (no SMFIF_QUARANTINE offered) is never turned into a delivery', async () => {
  const mta = await connectMilter(await listen(policyConfigSchema.parse({}), [quarantining], 10), { timeoutMs: 5000 });
  await mta.negotiate({ version: 6, actions: 0x1ff & ~0x20, protocol: 0x1fffff });
  await mta.connect('client.example', 'inet4', 25, '192.0.2.10');
  const r = await mta.sendMessage(Buffer.from('From: a@example.org\r\nSubject: hi\r\n\r\nbody\r\n'), { from: '<a@example.org>', rcpts: ['<b@example.test>'] });
  assert.equal(r.final.type, 'tempfail');
  assert.equal(r.modifications.length, 0);
  await mta.quit();
});

test('a configured accept at MAIL skips its layer for that message only; the next message is checked again', async () => {
  // one connection-layer module: "accept" for the allow-listed sender, "reject" at RCPT for everyone
  const layered: PolicyModule = {
    id: 'test', layer: 'envelope',
    mail: (ctx) => (ctx.message.sender === 'vip@example.org' ? { hits: [{ rule: 'test.allow', action: 'accept', detail: 'allow-listed sender' }] } : { hits: [] }),
    rcpt: () => ({ hits: [{ rule: 'test.deny', action: 'reject', detail: 'refused' }] }),
  };
  const mta = await connectMilter(await listen(policyConfigSchema.parse({}), [layered]), { timeoutMs: 5000 });
  await mta.negotiate();
  await mta.connect('client.example', 'inet4', 25, '192.0.2.10');
  await mta.helo('client.example');
  const body = Buffer.from('From: a@example.org\r\nSubject: hi\r\n\r\nbody\r\n');
  const first = await mta.sendMessage(body, { from: '<vip@example.org>', rcpts: ['<b@example.test>'] });
  assert.equal(first.rcptReplies[0]?.type, 'continue', `the allow-listed sender passes: ${JSON.stringify(first)}`);
  const second = await mta.sendMessage(body, { from: '<other@example.org>', rcpts: ['<b@example.test>'] });
  const refused = second.rcptReplies[0];
  assert.ok(refused !== undefined && refused.type !== 'continue', `second message was not checked: ${JSON.stringify(second)}`);
  await mta.quit();
});
