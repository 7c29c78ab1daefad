// Connection timers of the milter server over real loopback sockets: a connection that sends nothing,
// one that stops (or trickles) mid-frame, and one silent between frames are closed, logged and
// reported to the observer, and free their connection slot; normal pauses between messages on a
// reused connection and our own slow steps are not cut. Plus the full service: the metric
// postern_connection_timeouts_total scraped over HTTP from a real `postern serve`.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeCommand } from '../../codec/index.js';
import { MilterServer, type ServerOptions } from '../../src/server/server.js';
import type { ConnectionTimeoutKind } from '../../src/server/session.js';
import { PolicyEngine } from '../../src/policy/engine.js';
import { policyConfigSchema } from '../../src/policy/config.js';
import type { PolicyModule } from '../../src/policy/types.js';
import { serverConfigSchema } from '../../src/server/config.js';
import { capture } from '../harness/log-capture.js';
import { connectMilter } from '../harness/mta.js';
import { freePort } from '../harness/net.js';
import { startPostern } from '../harness/postern.js';

const MESSAGE = Buffer.from('From: a@example.org\r\nTo: b@example.test\r\nSubject: t\r\n\r\nhello\r\n');
const ENVELOPE = { from: '<a@example.org>', rcpts: ['<b@example.test>'] };
/** Guard so a broken timer fails the test instead of hanging it (not a timing assertion). */
const GUARD_MS = 15000;

const servers: MilterServer[] = [];
after(async () => {
  for (const s of servers) await s.stop(100).catch(() => {});
});

async function start(timeouts: Partial<ServerOptions['timeouts']>, modules: PolicyModule[] = [], over: Partial<ServerOptions> = {}) {
  const log = capture();
  const timedOut: ConnectionTimeoutKind[] = [];
  const engine = new PolicyEngine({ policy: policyConfigSchema.parse({}), modules, logger: log.logger, spoolThresholdBytes: 1 << 20, spoolDir: '' });
  const server = new MilterServer(
    engine,
    {
      listen: 'inet:0@127.0.0.1', unixMode: 0o660, maxConnections: 2000, maxFrameLength: 1024 * 1024 + 1,
      timeouts: { connect: 5000, command: 5000, content: 5000, eom: 5000, idle: 60000, firstFrame: 60000, frame: 60000, ...timeouts },
      errorAction: 'tempfail', highWaterBytes: 4 << 20,
      onTimeout: (k) => timedOut.push(k),
      ...over,
    },
    log.logger,
  );
  const address = await server.listen();
  servers.push(server);
  return { server, address, log, timedOut, port: server.port };
}

/** Open a raw socket; resolves `closed` when the server closes it. */
async function rawSocket(port: number): Promise<{ socket: net.Socket; closed: Promise<'closed'> }> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  await new Promise((r) => socket.once('connect', r));
  socket.on('error', () => {});
  socket.resume(); // read (and drop) replies, or the close is never seen
  const closed = new Promise<'closed'>((r) => socket.once('close', () => r('closed')));
  return { socket, closed };
}

async function within<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${GUARD_MS} ms`)), GUARD_MS);
  });
  try {
    return await Promise.race([p, guard]);
  } finally {
    clearTimeout(timer);
  }
}

const optneg = encodeCommand({ type: 'optneg', version: 6, actions: 0x1ff, protocol: 0x1fffff });

test('a connection that sends nothing is closed after firstFrame, logged, counted, and frees its slot', async () => {
  const r = await start({ firstFrame: 150 }, [], { maxConnections: 1 });
  const { closed } = await rawSocket(r.port);
  assert.equal(await within(closed, 'silent connection closed'), 'closed');
  assert.deepEqual(r.timedOut, ['first-frame']);
  const line = r.log.lines.find((l) => l.timeout === 'first-frame');
  assert.ok(line, 'warn line logged');
  assert.equal(line!.level, 40);
  assert.match(line!.msg, /no complete milter frame since the connection opened/);
  // the only slot is free again: a real MTA connection is served
  await within((async () => { while (r.server.activeSessions > 0) await sleep(10); })(), 'slot freed');
  const c = await connectMilter(r.address);
  await c.negotiate();
  await c.connect('h', '4', 1, '192.0.2.1');
  assert.equal((await c.sendMessage(MESSAGE, ENVELOPE)).final.type, 'accept');
  await c.quit();
});

test('a first frame trickled byte by byte does not extend the first-frame deadline', async () => {
  const r = await start({ firstFrame: 300 });
  const { socket, closed } = await rawSocket(r.port);
  let i = 0;
  const trickle = setInterval(() => {
    if (i < optneg.length - 1) socket.write(optneg.subarray(i, ++i)); // never the last byte
  }, 20);
  try {
    assert.equal(await within(closed, 'trickling connection closed'), 'closed');
  } finally {
    clearInterval(trickle);
  }
  assert.deepEqual(r.timedOut, ['first-frame']);
});

test('a frame begun and never finished (or trickled) after negotiation is closed as a frame timeout', async () => {
  const r = await start({ frame: 200, idle: 60000 });
  for (const trickled of [false, true]) {
    const { socket, closed } = await rawSocket(r.port);
    socket.write(optneg);
    const mail = encodeCommand({ type: 'mail', args: ['<a@example.org>'] });
    socket.write(mail.subarray(0, 6)); // header and one byte of the payload
    let i = 6;
    const trickle = trickled ? setInterval(() => i < mail.length - 1 && socket.write(mail.subarray(i, ++i)), 20) : undefined;
    try {
      assert.equal(await within(closed, 'stalled frame closed'), 'closed');
    } finally {
      if (trickle) clearInterval(trickle);
    }
  }
  assert.deepEqual(r.timedOut, ['frame', 'frame']);
  assert.ok(r.log.lines.some((l) => l.timeout === 'frame' && /a frame begun but not completed/.test(l.msg)));
});

test('a frame whose rest waits unread while we hold reading paused (our slow step, backpressure) is not cut', async () => {
  // frame timeout 300 ms; every queued frame pauses reading (high water 1 byte); CONNECT takes 900 ms.
  let mailSeen = false;
  const slowConnect = {
    id: 'slow', layer: 'connection',
    connect: async () => (await sleep(900), { hits: [] }),
    mail: () => ((mailSeen = true), { hits: [] }),
  } as unknown as PolicyModule;
  const r = await start({ frame: 300, idle: 60000, connect: 5000 }, [slowConnect], { highWaterBytes: 1 });
  const { socket, closed } = await rawSocket(r.port);
  const mail = encodeCommand({ type: 'mail', args: ['<a@example.org>'] });
  // one write: negotiation, CONNECT, HELO and the first bytes of MAIL (a write split by the network)
  socket.write(Buffer.concat([
    optneg,
    encodeCommand({ type: 'connect', hostname: 'h', family: 'inet4', port: 1, address: '192.0.2.1' }),
    encodeCommand({ type: 'helo', name: 'client.example.org' }),
    mail.subarray(0, 6),
  ]));
  await sleep(100);
  socket.write(mail.subarray(6)); // the rest arrives while reading is paused
  const outcome = await Promise.race([closed, sleep(2000).then(() => 'open' as const)]);
  assert.equal(outcome, 'open', 'the connection was closed while Postern itself held reading paused');
  assert.deepEqual(r.timedOut, []);
  assert.ok(mailSeen, 'MAIL, completed after reading resumed, reached the policy');
  socket.destroy();
});

test('a negotiated connection silent between frames is closed after idle', async () => {
  const r = await start({ idle: 200 });
  const c = await connectMilter(r.address);
  await c.negotiate();
  await c.connect('h', '4', 1, '192.0.2.1');
  await within(c.closed, 'idle connection closed');
  assert.deepEqual(r.timedOut, ['idle']);
});

test('pauses shorter than idle between messages, and our own slow step longer than idle, are not cut', async () => {
  // idle 400 ms; the EOM module takes 900 ms (its own budget is 5 s): the MTA is waiting for us then.
  const slowEom: PolicyModule = { id: 'slow', layer: 'content', eom: async () => (await sleep(900), { hits: [] }) } as unknown as PolicyModule;
  const r = await start({ idle: 400, eom: 5000 }, [slowEom]);
  const c = await connectMilter(r.address);
  await c.negotiate();
  await c.connect('h', '4', 1, '192.0.2.1');
  for (let i = 0; i < 3; i++) {
    assert.equal((await c.sendMessage(MESSAGE, ENVELOPE)).final.type, 'accept', `message ${i + 1}`);
    await sleep(150); // the SMTP client takes its time before the next MAIL
  }
  await c.quit();
  assert.deepEqual(r.timedOut, []);
});

test('defaults: idle longer than the MTA SMTP timeouts, first frame at Postfix milter_connect_timeout', () => {
  const t = serverConfigSchema.parse({}).timeouts;
  assert.equal(t.idleMs, 3600000);
  assert.ok(t.idleMs > 300000, 'longer than Postfix smtpd_timeout');
  assert.equal(t.firstFrameMs, 30000);
  assert.equal(t.frameMs, 300000);
});

test('postern serve: a silent connection is closed and counted in postern_connection_timeouts_total', async () => {
  const metricsPort = await freePort();
  const postern = await startPostern({
    config: {
      server: { timeouts: { firstFrameMs: 200 } },
      content: { workers: 0, clamd: { enabled: false } },
      metrics: { enabled: true, listen: `127.0.0.1:${metricsPort}` },
    },
  });
  try {
    const { closed } = await rawSocket(postern.port);
    await within(closed, 'silent connection closed by postern serve');
    await postern.waitForLog((l) => l.timeout === 'first-frame');
    const body = await new Promise<string>((resolve, reject) => {
      http.get(`http://127.0.0.1:${metricsPort}/metrics`, (res) => {
        let b = '';
        res.on('data', (d) => (b += d));
        res.on('end', () => resolve(b));
      }).on('error', reject);
    });
    assert.match(body, /^postern_connection_timeouts_total\{kind="first-frame"\} 1$/m);
    assert.match(body, /^postern_connection_timeouts_total\{kind="idle"\} 0$/m);
  } finally {
    await postern.stop();
  }
});
