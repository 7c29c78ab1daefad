// MilterServer + PolicyEngine driven over real loopback sockets by the MTA simulator
// (test/harness/mta.ts): negotiation, refusals at each stage, many messages per connection, aborts,
// failing and slow modules, malformed input isolated to one connection, Postfix-style macros,
// sendmail-style MAIL without ABORT, IPv6 prefixes, unix sockets and graceful stop.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { Cmd, Proto, type FilterReply } from '../../codec/index.js';
import { MilterServer, type ServerOptions } from '../../src/server/server.js';
import { PolicyEngine } from '../../src/policy/engine.js';
import { policyConfigSchema } from '../../src/policy/config.js';
import { silentLogger } from '../../src/log/logger.js';
import type { PolicyModule, RuleHit, Stage, StageResult } from '../../src/policy/types.js';
import { connectMilter, MtaError, splitMessage, type MtaConnection, type MtaOptions } from '../harness/mta.js';

const MESSAGE = Buffer.from(
  [
    'From: Alice <alice@example.org>',
    'To: Bob <bob@example.test>',
    'Subject: server test',
    'X-Folded: first',
    '\tsecond',
    'X-Empty:',
    '',
    'Hello Bob,',
    'bye',
    '',
  ].join('\r\n'),
);

interface Running {
  server: MilterServer;
  address: string;
  connect(opts?: MtaOptions): Promise<MtaConnection>;
}

const started: MilterServer[] = [];
after(async () => {
  for (const s of started) await s.stop(100).catch(() => {});
});

async function start(modules: PolicyModule[], over: Partial<ServerOptions> = {}): Promise<Running> {
  const engine = new PolicyEngine({
    policy: policyConfigSchema.parse({}),
    modules,
    logger: silentLogger(),
    spoolThresholdBytes: 1 << 20,
    spoolDir: '',
  });
  const server = new MilterServer(
    engine,
    {
      listen: 'inet:0@127.0.0.1',
      unixMode: 0o660, maxConnections: 2000,
      maxFrameLength: 1024 * 1024 + 1,
      timeouts: { connect: 5000, command: 5000, content: 5000, eom: 5000, idle: 60000 },
      errorAction: 'tempfail',
      highWaterBytes: 4 << 20,
      ...over,
    },
    silentLogger(),
  );
  const address = await server.listen();
  started.push(server);
  return { server, address, connect: (opts) => connectMilter(address, { timeoutMs: 5000, ...opts }) };
}

/** A module answering `hits` at one stage (optionally only when `when` says so). */
function at(stage: Stage, hits: RuleHit[] | ((ctx: any) => StageResult | undefined), extra: Partial<PolicyModule> = {}): PolicyModule {
  const fn = typeof hits === 'function' ? hits : () => ({ hits });
  return { id: `test-${stage}`, layer: 'envelope', [stage]: (ctx: any, x?: any) => fn({ ...ctx, extra: x }), ...extra } as PolicyModule;
}

const rejectHit: RuleHit = { rule: 'test.reject', action: 'reject', detail: 'test', reply: { code: 554, enhanced: '5.7.1', text: 'no thanks 100%' } };
const REJECT_TEXT = '554 5.7.1 no thanks 100%% (test.reject)';

/** A module that adds a header at end of message, computed from the context. */
function eomHeader(name: string, value: (ctx: any) => string, extra: Partial<PolicyModule> = {}): PolicyModule {
  return {
    id: 'test-hdr',
    layer: 'content',
    eom: (ctx) => ({ hits: [], headerChanges: [{ kind: 'add', name, value: value(ctx) }] }),
    ...extra,
  };
}

function added(mods: FilterReply[], name: string): string | undefined {
  const m = mods.find((r) => r.type === 'addHeader' && r.name === name);
  return m && m.type === 'addHeader' ? m.value : undefined;
}

async function session(r: Running, opts?: MtaOptions): Promise<MtaConnection> {
  const c = await r.connect(opts);
  await c.negotiate();
  await c.connect('client.example', '4', 40000, '192.0.2.10');
  await c.helo('helo.example');
  return c;
}

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 10));
}

describe('negotiation', () => {
  test('asks only for the steps and replies the policy needs', async () => {
    const r = await start([eomHeader('X-T', () => 'x')]);
    const c = await r.connect();
    const reply = await c.negotiate();
    assert.equal(reply.version, 6);
    assert.equal(reply.actions & ~0x1ff, 0);
    const p = reply.protocol;
    for (const f of [Proto.NR_CONN, Proto.NR_HELO, Proto.NR_MAIL, Proto.NR_RCPT, Proto.NR_DATA, Proto.NR_HDR, Proto.NR_EOH, Proto.NOBODY, Proto.NOUNKNOWN, Proto.HDR_LEADSPC]) {
      assert.ok((p & f) !== 0, `flag 0x${f.toString(16)} in 0x${p.toString(16)}`);
    }
    assert.equal(p & Proto.NOHDRS, 0, 'headers are needed by an eom module');
    // Every step but EOM goes unanswered.
    assert.equal(await c.connect('h', '4', 1, '192.0.2.1'), undefined);
    assert.equal(await c.helo('h'), undefined);
    const res = await c.sendMessage(MESSAGE, { from: '<a@example.org>', rcpts: ['<b@example.test>'] });
    assert.equal(res.final.type, 'accept');
    assert.equal(added(res.modifications, 'X-T'), ' x', 'leading space supplied under HDR_LEADSPC');
    assert.ok(added(res.modifications, 'X-Postern')?.startsWith(' accept'));
    await c.quit();
  });

  test('a rcpt module gets RCPT answered; mail stays unanswered', async () => {
    const r = await start([at('rcpt', [])]);
    const c = await r.connect();
    const reply = await c.negotiate();
    assert.equal(reply.protocol & Proto.NR_RCPT, 0);
    assert.ok((reply.protocol & Proto.NR_MAIL) !== 0);
    assert.ok((reply.protocol & Proto.NOHDRS) !== 0);
    await c.connect('h', '4', 1, '192.0.2.1');
    assert.equal(await c.mail('<a@example.org>'), undefined);
    assert.deepEqual(await c.rcpt('<b@example.test>'), { type: 'continue' });
    await c.quit();
  });

  test('an old MTA without NR flags gets a reply to every step (emulated no-reply)', async () => {
    const r = await start([eomHeader('X-T', () => 'x')]);
    const c = await r.connect();
    const reply = await c.negotiate({ version: 2, actions: 0x0f, protocol: 0x7f });
    assert.equal(reply.version, 2);
    assert.equal(reply.actions & ~0x0f, 0);
    assert.equal(reply.protocol & ~0x7f, 0);
    assert.deepEqual(await c.connect('h', '4', 1, '192.0.2.1'), { type: 'continue' });
    assert.deepEqual(await c.helo('h'), { type: 'continue' });
    const res = await c.sendMessage(MESSAGE, { from: '<a@example.org>', rcpts: ['<b@example.test>'] });
    assert.equal(res.final.type, 'accept');
    assert.equal(added(res.modifications, 'X-T'), 'x', 'no HDR_LEADSPC: the MTA adds the space');
    await c.quit();
  });

  test('MTA version below 2 closes the connection', async () => {
    const r = await start([]);
    const c = await r.connect();
    await assert.rejects(c.negotiate({ version: 1 }), (e: unknown) => e instanceof MtaError && e.code === 'CLOSED');
    await c.closed;
  });
});

describe('refusals at each stage', () => {
  const cases: Array<[Stage, string]> = [
    ['connect', 'connect'], ['helo', 'helo'], ['mail', 'mail'], ['rcpt', 'rcpt'], ['data', 'data'],
    ['header', 'eoh'], ['eoh', 'eoh'], ['eom', 'eom'],
  ];
  for (const [stage, answeredAt] of cases) {
    test(`reject at ${stage} is answered at ${answeredAt} with the rule's reply text`, async () => {
      const r = await start([at(stage, [rejectHit])]);
      const c = await r.connect();
      await c.negotiate();
      const conn = await c.connect('client.example', '4', 40000, '192.0.2.10');
      if (stage === 'connect') {
        assert.deepEqual(conn, { type: 'replyCode', text: REJECT_TEXT });
        c.destroy();
        return;
      }
      const helo = await c.helo('helo.example');
      if (stage === 'helo') {
        assert.deepEqual(helo, { type: 'replyCode', text: REJECT_TEXT });
        c.destroy();
        return;
      }
      const res = await c.sendMessage(MESSAGE, { from: '<a@example.org>', rcpts: ['<b@example.test>'] });
      assert.equal(res.stage, answeredAt);
      assert.deepEqual(res.final, { type: 'replyCode', text: REJECT_TEXT });
      assert.deepEqual(res.modifications, []);
      await c.quit();
    });
  }

  test('unknown command refused with its reply', async () => {
    const r = await start([at('unknown', [rejectHit])]);
    const c = await session(r);
    assert.deepEqual(await c.unknown('XYZZY now'), { type: 'replyCode', text: REJECT_TEXT });
    await c.quit();
  });

  test('rcpt refusal concerns that recipient only', async () => {
    const r = await start([at('rcpt', (ctx) => ({ hits: ctx.rcpt.address.startsWith('bad') ? [rejectHit] : [] }))]);
    const c = await session(r);
    const res = await c.sendMessage(MESSAGE, { from: '<a@example.org>', rcpts: ['<bad@example.test>', '<good@example.test>'] });
    assert.deepEqual(res.rcptReplies, [{ type: 'replyCode', text: REJECT_TEXT }, { type: 'continue' }]);
    assert.equal(res.stage, 'eom');
    assert.equal(res.final.type, 'accept');
    await c.quit();
  });
});

describe('messages and connection state', () => {
  test('several messages per connection with (double) ABORT between: message state reset, connection state kept', async () => {
    const r = await start([eomHeader('X-State', (ctx) => `${ctx.message.recipients.length} ${ctx.message.sender} ${ctx.session.client.hostname} ${ctx.session.helo}`)]);
    const c = await session(r, { postfixLike: true });
    for (let i = 1; i <= 3; i++) {
      const rcpts = Array.from({ length: i }, (_, k) => `<r${k}@example.test>`);
      const res = await c.sendMessage(MESSAGE, { from: `<s${i}@example.org>`, rcpts });
      assert.equal(res.final.type, 'accept');
      assert.equal(added(res.modifications, 'X-State'), ` ${i} s${i}@example.org client.example helo.example`);
    }
    await c.quit();
  });

  test('abort mid-message: the next message starts clean', async () => {
    const r = await start([eomHeader('X-State', (ctx) => `${ctx.message.recipients.length} ${ctx.message.headers.length}`)]);
    const c = await session(r);
    await c.mail('<a@example.org>');
    await c.rcpt('<one@example.test>');
    await c.rcpt('<two@example.test>');
    await c.data();
    await c.header('Subject', ' half');
    c.abort();
    const res = await c.sendMessage(MESSAGE, { from: '<a@example.org>', rcpts: ['<b@example.test>'] });
    assert.equal(res.final.type, 'accept');
    assert.equal(added(res.modifications, 'X-State'), ' 1 5', 'one recipient, the five headers of MESSAGE');
    await c.quit();
  });

  test('quarantine: quarantine frame then accept', async () => {
    const r = await start([at('eom', [{ rule: 'test.hold', action: 'quarantine', detail: 'held' }])]);
    const c = await session(r);
    const res = await c.sendMessage(MESSAGE, { from: '<a@example.org>', rcpts: ['<b@example.test>'] });
    assert.equal(res.final.type, 'accept');
    const q = res.modifications.find((m) => m.type === 'quarantine');
    assert.ok(q && q.type === 'quarantine' && q.reason.includes('test.hold'));
    assert.equal(res.modifications[res.modifications.length - 1], q, 'quarantine comes after header changes');
    await c.quit();
  });

  test('a throwing module yields tempfail; the next message on the connection works', async () => {
    let calls = 0;
    const thrower: PolicyModule = { id: 'thrower', layer: 'content', eom: () => { if (calls++ === 0) throw new Error('boom'); return { hits: [] }; } };
    const r = await start([thrower]);
    const c = await session(r, { postfixLike: true });
    const first = await c.sendMessage(MESSAGE, { from: '<a@example.org>', rcpts: ['<b@example.test>'] });
    assert.equal(first.final.type, 'replyCode');
    assert.match((first.final as { text: string }).text, /^451 4\.7\.1 .*\(thrower\.error\)$/);
    assert.deepEqual(first.modifications, []);
    const second = await c.sendMessage(MESSAGE, { from: '<a@example.org>', rcpts: ['<b@example.test>'] });
    assert.equal(second.final.type, 'accept');
    await c.quit();
  });

  test('a module slower than the stage timeout yields tempfail; the connection goes on', async () => {
    let calls = 0;
    const slow: PolicyModule = {
      id: 'slow', layer: 'content',
      eom: async () => { if (calls++ === 0) await new Promise((res) => setTimeout(res, 1500)); return { hits: [] }; },
    };
    const r = await start([slow], { timeouts: { connect: 5000, command: 5000, content: 5000, eom: 100, idle: 60000 } });
    const c = await session(r, { postfixLike: true });
    const first = await c.sendMessage(MESSAGE, { from: '<a@example.org>', rcpts: ['<b@example.test>'] });
    assert.deepEqual(first.final, { type: 'tempfail' });
    const second = await c.sendMessage(MESSAGE, { from: '<a@example.org>', rcpts: ['<b@example.test>'] });
    assert.equal(second.final.type, 'accept');
    await c.quit();
  });

  test('a step that times out where no reply is allowed (NR_HDR) still fails the message at EOM', async () => {
    let calls = 0;
    const slowHeader: PolicyModule = {
      id: 'slowhdr', layer: 'content',
      header: async () => { if (calls++ === 0) await new Promise((res) => setTimeout(res, 1500)); return { hits: [] }; },
    };
    const r = await start([slowHeader], { timeouts: { connect: 5000, command: 5000, content: 100, eom: 5000, idle: 60000 } });
    const c = await r.connect({ postfixLike: true });
    const neg = await c.negotiate();
    assert.ok((neg.protocol & Proto.NR_HDR) !== 0);
    await c.connect('client.example', '4', 40000, '192.0.2.10');
    await c.helo('helo.example');
    const first = await c.sendMessage(MESSAGE, { from: '<a@example.org>', rcpts: ['<b@example.test>'] });
    assert.equal(first.stage, 'eom');
    assert.deepEqual(first.final, { type: 'tempfail' }, 'never a silent accept after a failed check');
    assert.deepEqual(first.modifications, []);
    const second = await c.sendMessage(MESSAGE, { from: '<a@example.org>', rcpts: ['<b@example.test>'] });
    assert.equal(second.final.type, 'accept', 'the failure belonged to the first message only');
    await c.quit();
  });

  test('a CONNECT step that times out is answered with the error action', async () => {
    const slowConnect: PolicyModule = {
      id: 'slowconn', layer: 'envelope',
      connect: async () => { await new Promise((res) => setTimeout(res, 1500)); return { hits: [] }; },
    };
    const r = await start([slowConnect, eomHeader('X-T', () => 'x')], { timeouts: { connect: 100, command: 5000, content: 5000, eom: 5000, idle: 60000 } });
    const c = await r.connect();
    await c.negotiate({ protocol: 0x1fffff & ~Proto.NR_CONN });
    assert.equal(await c.connect('client.example', '4', 40000, '192.0.2.10').then((x) => x?.type), 'tempfail');
    c.destroy();
  });

  test('postfix-like: D frame before every event, D L per header, D B per body chunk; macros reach the policy', async () => {
    const mod = eomHeader('X-Macros', (ctx) => [ctx.session.macro('j'), ctx.session.macro('daemon_name'), ctx.session.macro('{i}'), ctx.session.macro('rcpt_addr')].join(','), { needsContent: true });
    const r = await start([mod]);
    const c = await r.connect({
      postfixLike: true,
      macros: { C: { j: 'mx.example', '{daemon_name}': 'smtpd', v: '' }, M: [['{mail_addr}', 'a@example.org']], R: { '{rcpt_addr}': 'b@example.test' }, T: { i: 'QID1' }, L: [], B: [] },
    });
    await c.negotiate();
    await c.connect('client.example', '4', 40000, '192.0.2.10');
    await c.helo('helo.example');
    c.macro(Cmd.ABORT, [['odd', 'one'], ['lonely', '']]); // a stage libmilter ignores; tolerated
    const big = Buffer.concat([MESSAGE, Buffer.alloc(150000, 'x'), Buffer.from('\r\n')]);
    const res = await c.sendMessage(big, { from: '<a@example.org>', rcpts: ['<b@example.test>'] });
    assert.equal(res.final.type, 'accept');
    assert.equal(added(res.modifications, 'X-Macros'), ' mx.example,smtpd,QID1,b@example.test');
    await c.quit();
  });

  test('sendmail style: new MAIL after an early refusal, without ABORT', async () => {
    const r = await start([
      at('mail', (ctx) => ({ hits: ctx.message.sender === 'bad@example.org' ? [rejectHit] : [] })),
      eomHeader('X-State', (ctx) => `${ctx.message.sender} ${ctx.message.recipients.length}`),
    ]);
    const c = await session(r);
    const bad = await c.sendMessage(MESSAGE, { from: '<bad@example.org>', rcpts: ['<b@example.test>'] });
    assert.equal(bad.stage, 'mail');
    assert.deepEqual(bad.final, { type: 'replyCode', text: REJECT_TEXT });
    const good = await c.sendMessage(MESSAGE, { from: '<good@example.org>', rcpts: ['<b@example.test>', '<c@example.test>'] });
    assert.equal(good.final.type, 'accept');
    assert.equal(added(good.modifications, 'X-State'), ' good@example.org 2');
    await c.quit();
  });

  test('sendmail IPv6: address with "IPv6:" prefix is normalised', async () => {
    const r = await start([eomHeader('X-Client', (ctx) => `${ctx.session.client.family} ${ctx.session.client.address} ${ctx.session.client.port}`)]);
    const c = await r.connect();
    await c.negotiate();
    await c.connect('[IPv6:2001:DB8::1]', '6', 2525, 'IPv6:2001:DB8::1');
    await c.helo('h');
    const res = await c.sendMessage(MESSAGE, { from: '<a@example.org>', rcpts: ['<b@example.test>'] });
    assert.equal(added(res.modifications, 'X-Client'), ' inet6 2001:db8::1 2525');
    await c.quit();
  });

  test('connect families: unix (port 0) and unknown (nothing after family)', async () => {
    const r = await start([eomHeader('X-Client', (ctx) => `${ctx.session.client.family} ${ctx.session.client.address ?? '-'}`)]);
    for (const [fam, addr, want] of [['L', '/var/run/x.sock', 'unix -'], ['U', undefined, 'unknown -']] as const) {
      const c = await r.connect();
      await c.negotiate();
      await c.connect('localhost', fam, 0, addr);
      const res = await c.sendMessage(MESSAGE, { from: '<a@example.org>', rcpts: ['<b@example.test>'] });
      assert.equal(added(res.modifications, 'X-Client'), ` ${want}`);
      await c.quit();
    }
  });
});

describe('connection reuse and odd sequences', () => {
  test('QUIT_NC: a new CONNECT on the same socket without a new OPTNEG', async () => {
    const r = await start([eomHeader('X-Client', (ctx) => ctx.session.client.hostname)]);
    const c = await session(r);
    let res = await c.sendMessage(MESSAGE, { from: '<a@example.org>', rcpts: ['<b@example.test>'] });
    assert.equal(added(res.modifications, 'X-Client'), ' client.example');
    c.quitNewConnection();
    await c.connect('second.example', '4', 40001, '192.0.2.11');
    await c.helo('second.example');
    res = await c.sendMessage(MESSAGE, { from: '<a@example.org>', rcpts: ['<b@example.test>'] });
    assert.equal(added(res.modifications, 'X-Client'), ' second.example');
    await c.quit();
  });

  test('BODYEOB carrying data is taken as a last body chunk', async () => {
    const r = await start([eomHeader('X-Size', (ctx) => String(ctx.source.size), { needsContent: true })]);
    const c = await session(r);
    await c.mail('<a@example.org>');
    await c.rcpt('<b@example.test>');
    await c.header('Subject', ' s');
    await c.eoh();
    await c.body(Buffer.from('one\r\n'));
    c.sendCommand({ type: 'eob', chunk: Buffer.from('two\r\n') });
    const mods: FilterReply[] = [];
    let final: FilterReply;
    for (;;) {
      final = await c.readReply('EOM');
      if (final.type === 'accept' || final.type === 'continue') break;
      mods.push(final);
    }
    assert.equal(final.type, 'accept');
    assert.equal(added(mods, 'X-Size'), ` ${'Subject: s\r\n\r\none\r\ntwo\r\n'.length}`);
    await c.quit();
  });

  test('a second OPTNEG on the connection starts over', async () => {
    const r = await start([eomHeader('X-T', () => 'x')]);
    const c = await session(r);
    await c.mail('<a@example.org>');
    const again = await c.negotiate();
    assert.equal(again.version, 6);
    await c.connect('client.example', '4', 40000, '192.0.2.10');
    const res = await c.sendMessage(MESSAGE, { from: '<a@example.org>', rcpts: ['<b@example.test>'] });
    assert.equal(res.final.type, 'accept');
    await c.quit();
  });

  test('a step before option negotiation closes the connection; macros before it are ignored', async () => {
    const r = await start([]);
    const c = await r.connect();
    c.macro(Cmd.CONNECT, { j: 'mx' });
    c.sendCommand({ type: 'helo', name: 'early' });
    await c.closed;
    assert.ok(c.isClosed);
  });
});

describe('MTA simulator message splitting', () => {
  const raw = Buffer.from('Subject: hi\r\nX-Fold: a\r\n\tb\r\n c\r\nX-Tab:\tt\r\nX-Empty:\r\n\r\nbody\nline\r\n');
  test('without HDR_LEADSPC: one leading space stripped, folds joined with bare LF, body CRLF', () => {
    const { headers, body } = splitMessage(raw, false);
    assert.deepEqual(headers, [['Subject', 'hi'], ['X-Fold', 'a\n\tb\n c'], ['X-Tab', '\tt'], ['X-Empty', '']]);
    assert.equal(body.toString(), 'body\r\nline\r\n');
  });
  test('with HDR_LEADSPC: values verbatim', () => {
    assert.deepEqual(splitMessage(raw, true).headers[0], ['Subject', ' hi']);
  });
  test('a non-header line ends the header block', () => {
    const { headers, body } = splitMessage(Buffer.from('A: 1\nnot a header\nmore\n'), false);
    assert.deepEqual(headers, [['A', '1']]);
    assert.equal(body.toString(), 'not a header\r\nmore\r\n');
  });
});

describe('faults stay on their own connection', () => {
  const bad: Array<[string, (c: MtaConnection) => void]> = [
    ['unknown command code', (c) => c.sendRaw(Buffer.from([0, 0, 0, 1, 0x5a]))],
    ['oversize frame', (c) => c.sendRaw(Buffer.from([0x00, 0x98, 0x96, 0x80, Cmd.BODY]))],
    ['frame with length 0', (c) => c.sendRaw(Buffer.from([0, 0, 0, 0]))],
    ['malformed CONNECT payload', (c) => c.sendRaw(Buffer.from([0, 0, 0, 4, Cmd.CONNECT, 0x68, 0, 0x39]))],
    ['short OPTNEG payload', (c) => c.sendRaw(Buffer.from([0, 0, 0, 3, Cmd.OPTNEG, 0, 6]))],
  ];
  test('malformed input closes only that connection while a healthy session completes its message', async () => {
    const r = await start([eomHeader('X-T', () => 'ok')], { maxFrameLength: 70000 });
    const healthy = await session(r, { postfixLike: true });
    await healthy.mail('<a@example.org>');
    await healthy.rcpt('<b@example.test>');
    await healthy.data();
    await healthy.header('Subject', ' before');
    for (const [name, send] of bad) {
      const c = await r.connect();
      if (name !== 'short OPTNEG payload') await c.negotiate();
      send(c);
      await c.closed; // the server closed it
      assert.ok(c.isClosed, name);
    }
    await healthy.header('To', ' after');
    await healthy.eoh();
    const res = await healthy.eom();
    assert.equal(res.final.type, 'accept');
    assert.equal(added(res.modifications, 'X-T'), ' ok');
    await healthy.quit();
  });

  test('a body chunk of exactly 65535 bytes (len 65536) is accepted', async () => {
    const r = await start([eomHeader('X-Size', (ctx) => String(ctx.source.size), { needsContent: true })], { maxFrameLength: 65536 });
    const c = await session(r);
    await c.mail('<a@example.org>');
    await c.rcpt('<b@example.test>');
    await c.header('Subject', ' s');
    await c.eoh();
    await c.body(Buffer.alloc(65535, 'a'));
    const res = await c.eom();
    assert.equal(res.final.type, 'accept');
    assert.equal(added(res.modifications, 'X-Size'), ` ${'Subject: s\r\n\r\n'.length + 65535}`);
    await c.quit();
  });

  test('peer vanishing mid-message ends the session (abort + close reach the policy)', async () => {
    const events: string[] = [];
    const r = await start([{ id: 'watch', layer: 'envelope', rcpt: () => ({ hits: [] }), reset: () => events.push('reset'), close: () => events.push('close') }]);
    const c = await session(r);
    await c.mail('<a@example.org>');
    await c.rcpt('<b@example.test>');
    await until(() => r.server.activeSessions === 1);
    c.destroy();
    await until(() => r.server.activeSessions === 0);
    assert.deepEqual(events, ['reset', 'close']);
  });

  test('EOF right after negotiation is a normal close', async () => {
    const r = await start([]);
    const c = await r.connect();
    await c.negotiate();
    c.socket.end();
    await until(() => r.server.activeSessions === 0);
  });
});

describe('listening and stopping', () => {
  test('unix socket with mode 0660', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'postern-srv-'));
    const sock = path.join(dir, 'milter.sock');
    try {
      const r = await start([eomHeader('X-T', () => 'unix')], { listen: `unix:${sock}`, unixMode: 0o660 });
      assert.equal(r.address, `unix:${sock}`);
      assert.ok(statSync(sock).isSocket());
      assert.equal(statSync(sock).mode & 0o777, 0o660);
      const c = await session(r);
      const res = await c.sendMessage(MESSAGE, { from: '<a@example.org>', rcpts: ['<b@example.test>'] });
      assert.equal(added(res.modifications, 'X-T'), ' unix');
      await c.quit();
      await r.server.stop(1000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('unix socket in a directory that does not exist: the error says so (not EACCES)', async () => {
    const dir = path.join(tmpdir(), `postern-missing-${process.pid}-${Date.now()}`);
    await assert.rejects(start([], { listen: `unix:${dir}/milter.sock` }), (err: Error) => {
      assert.match(err.message, /directory .*postern-missing-.* does not exist/);
      return true;
    });
  });

  test('graceful stop drains an in-flight message, then closes; no new connections', async () => {
    // RCPT is answered, so the server has seen the message start before stop() is called.
    const r = await start([at('rcpt', []), eomHeader('X-T', () => 'drained')]);
    const c = await session(r);
    await c.mail('<a@example.org>');
    assert.deepEqual(await c.rcpt('<b@example.test>'), { type: 'continue' });
    await c.header('Subject', ' s');
    let stopped = false;
    const stopping = r.server.stop(10000).then(() => (stopped = true));
    await new Promise((res) => setTimeout(res, 120)); // let the drain poll run at least once
    assert.equal(stopped, false, 'waits for the in-flight message');
    const port = Number(/^inet:(\d+)@/.exec(r.address)![1]);
    await assert.rejects(
      new Promise<void>((res, rej) => {
        const s = net.connect({ port, host: '127.0.0.1' }, () => { s.destroy(); res(); });
        s.on('error', rej);
      }),
    );
    await c.eoh();
    const res = await c.eom();
    assert.equal(res.final.type, 'accept');
    assert.equal(added(res.modifications, 'X-T'), ' drained');
    await stopping;
    await c.closed;
  });
});
