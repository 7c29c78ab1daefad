// The clamd content check against a real clamd: parts, archive members, hash signatures, the raw
// message, and the fail action when clamd is gone, hangs, or is reached over TCP.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import AdmZip from 'adm-zip';
import { pino } from 'pino';
import { createClamdCheck, CLAMD_INFECTED, CLAMD_UNAVAILABLE } from '../../src/content/clamd/check.js';
import type { ContentEnvironment, ContentPart, ParsedMessage } from '../../src/content/types.js';
import type { Logger } from '../../src/log/logger.js';
import { EICAR, EICAR_SIGNATURE, HASH_FIXTURE, HASH_SIGNATURE, startClamd, type ClamdInstance } from '../harness/clamd.js';

let clamd: ClamdInstance;
before(async () => {
  clamd = await startClamd({ tcp: true });
});
after(async () => {
  await clamd?.stop();
});

function part(path: string, content: Buffer, extra: Partial<ContentPart> = {}): ContentPart {
  return {
    path,
    origin: 'mime',
    contentType: 'application/octet-stream',
    names: [],
    content,
    isAttachment: true,
    depth: 1,
    ...extra,
  };
}

function message(parts: ContentPart[]): ParsedMessage {
  return { headers: [], subject: 'test', parts, hits: [], encrypted: false, signed: false };
}

function env(raw = Buffer.from('Subject: test\r\n\r\nhello\r\n')): ContentEnvironment {
  return { direction: 'inbound', sender: 'a@example.test', recipients: ['b@example.test'], raw };
}

function captureLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { logger, lines };
}

const CLEAN = Buffer.from('Dear colleague,\r\nplease find the minutes attached.\r\n');

test('clean parts and clean raw message: no hit', async () => {
  const check = createClamdCheck({ address: clamd.address });
  assert.equal(check.id, 'clamd');
  const hits = await check.run(message([part('1', CLEAN, { isAttachment: false, contentType: 'text/plain' }), part('2', Buffer.from('%PDF-1.4 nothing'))]), env());
  assert.deepEqual(hits, []);
});

test('EICAR in a part: clamd.infected, reject 554 naming the signature, where = part path and name', async () => {
  const check = createClamdCheck({ address: clamd.address, scanRaw: false });
  const hits = await check.run(message([part('1', CLEAN), part('2', EICAR, { names: ['eicar.com'] })]), env());
  assert.equal(hits.length, 1);
  const h = hits[0]!;
  assert.equal(h.rule, CLAMD_INFECTED);
  assert.equal(h.action, 'reject');
  assert.equal(h.where, 'part 2 eicar.com');
  assert.match(h.detail, new RegExp(EICAR_SIGNATURE));
  assert.equal(h.reply?.code, 554);
  assert.equal(h.reply?.enhanced, '5.7.1');
  assert.match(String(h.reply?.text), /^virus found: Eicar-Test-Signature/);
});

test('EICAR inside a zip: found both as the expanded archive member and in the zip part itself', async () => {
  const zip = new AdmZip();
  zip.addFile('docs/readme.txt', CLEAN);
  zip.addFile('docs/eicar.com', EICAR);
  const zipBytes = zip.toBuffer();
  const check = createClamdCheck({ address: clamd.address, scanRaw: false });
  const hits = await check.run(
    message([
      part('2', zipBytes, { names: ['docs.zip'], trueType: 'zip' }),
      part('2/archive:docs/readme.txt', CLEAN, { origin: 'archive', names: ['docs/readme.txt'], depth: 2 }),
      part('2/archive:docs/eicar.com', EICAR, { origin: 'archive', names: ['docs/eicar.com'], depth: 2 }),
    ]),
    env(),
  );
  const wheres = hits.filter((h) => h.rule === CLAMD_INFECTED).map((h) => h.where).sort();
  assert.deepEqual(wheres, ['part 2 docs.zip', 'part 2/archive:docs/eicar.com docs/eicar.com']);
});

test('a file matched by the hash signature (test.hdb)', async () => {
  const check = createClamdCheck({ address: clamd.address, scanRaw: false });
  const hits = await check.run(message([part('1.3', await readFile(HASH_FIXTURE), { names: ['hash-target.txt'] })]), env());
  assert.equal(hits.length, 1);
  assert.equal(hits[0]!.rule, CLAMD_INFECTED);
  assert.match(hits[0]!.detail, new RegExp(HASH_SIGNATURE.replace(/\./g, '\\.')));
});

test('raw message scan: clamd decodes the base64 attachment itself even when no part was given', async () => {
  const raw = Buffer.from(
    [
      'From: a@example.test',
      'To: b@example.test',
      'Subject: report',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain',
      '',
      'see attachment',
      '--b1',
      'Content-Type: application/octet-stream; name="x.com"',
      'Content-Transfer-Encoding: base64',
      '',
      EICAR.toString('base64'),
      '--b1--',
      '',
    ].join('\r\n'),
  );
  const check = createClamdCheck({ address: clamd.address });
  const hits = await check.run(message([]), env(raw));
  assert.equal(hits.length, 1);
  assert.equal(hits[0]!.rule, CLAMD_INFECTED);
  assert.equal(hits[0]!.where, 'raw message');
});

test('quarantine as the infected action', async () => {
  const check = createClamdCheck({ address: clamd.address, infectedAction: 'quarantine', scanRaw: false });
  const hits = await check.run(message([part('1', EICAR)]), env());
  assert.equal(hits[0]!.action, 'quarantine');
});

test('TCP mode: same verdicts over 127.0.0.1', async () => {
  const check = createClamdCheck({ address: `tcp:127.0.0.1:${clamd.tcpPort}` });
  assert.deepEqual(await check.run(message([part('1', CLEAN)]), env()), []);
  const hits = await check.run(message([part('1', CLEAN), part('2', EICAR)]), env());
  assert.equal(hits.length, 1);
  assert.equal(hits[0]!.rule, CLAMD_INFECTED);
});

test('many parts with bounded concurrency: every part scanned, the infected one named', async () => {
  const parts = Array.from({ length: 25 }, (_, i) => part(String(i + 1), Buffer.from(`part ${i} ${'x'.repeat(i * 100)}`)));
  parts[17] = part('18', EICAR, { names: ['p18.bin'] });
  const check = createClamdCheck({ address: clamd.address, concurrency: 3 });
  const hits = await check.run(message(parts), env());
  assert.deepEqual(hits.map((h) => h.where), ['part 18 p18.bin']);
});

test('clamd stopped (socket absent): clamd.unavailable with tempfail 451 4.7.1 and an error log line', async () => {
  const own = await startClamd();
  const address = own.address;
  await own.stop();
  const { logger, lines } = captureLogger();
  const check = createClamdCheck({ address }, logger);
  const hits = await check.run(message([part('1', CLEAN)]), env());
  assert.equal(hits.length, 1);
  const h = hits[0]!;
  assert.equal(h.rule, CLAMD_UNAVAILABLE);
  assert.equal(h.action, 'tempfail');
  assert.equal(h.reply?.code, 451);
  assert.equal(h.reply?.enhanced, '4.7.1');
  assert.match(h.detail, /CLAMD_CONNECT/);
  const errors = lines.filter((l) => l.level === 50);
  assert.equal(errors.length, 1);
  assert.equal(errors[0]!.rule, CLAMD_UNAVAILABLE);
  assert.equal(errors[0]!.code, 'CLAMD_CONNECT');
});

test('default config with no clamd at the address still fails closed (never accepts unscanned mail)', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'postern-clamd-none-'));
  try {
    const check = createClamdCheck({ address: `unix:${dir}/clamd.ctl`, failAction: 'reject' });
    const hits = await check.run(message([]), env());
    assert.equal(hits[0]!.rule, CLAMD_UNAVAILABLE);
    assert.equal(hits[0]!.action, 'reject');
    // The 451 default reply does not fit a reject: left to the engine's default 5xx.
    assert.equal(hits[0]!.reply, undefined);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('clamd accepts but never answers: timeout -> clamd.unavailable tempfail', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'postern-clamd-hang-'));
  const sockPath = path.join(dir, 'hang.sock');
  const conns = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    conns.add(s);
    s.on('error', () => {});
    s.resume(); // swallow the upload, never answer
  });
  await new Promise<void>((r) => srv.listen(sockPath, r));
  try {
    const { logger, lines } = captureLogger();
    const check = createClamdCheck({ address: `unix:${sockPath}`, scanTimeoutMs: 150 }, logger);
    const hits = await check.run(message([part('1', CLEAN), part('2', CLEAN)]), env());
    assert.equal(hits.length, 1);
    assert.equal(hits[0]!.rule, CLAMD_UNAVAILABLE);
    assert.equal(hits[0]!.action, 'tempfail');
    assert.match(hits[0]!.detail, /CLAMD_TIMEOUT/);
    assert.match(hits[0]!.detail, /3 of 3/);
    assert.ok(lines.some((l) => l.level === 50 && l.code === 'CLAMD_TIMEOUT'));
    // The per-message budget ends the whole run even when each scan alone would be allowed longer.
    const budgeted = createClamdCheck({ address: `unix:${sockPath}`, scanTimeoutMs: 60000, messageBudgetMs: 150 });
    const bh = await budgeted.run(message([part('1', CLEAN)]), env());
    assert.equal(bh[0]!.rule, CLAMD_UNAVAILABLE);
    assert.match(bh[0]!.detail, /CLAMD_TIMEOUT/);
  } finally {
    for (const s of conns) s.destroy();
    await new Promise<void>((r) => srv.close(() => r()));
    await rm(dir, { recursive: true, force: true });
  }
});

test('enabled: false scans nothing and says so in the log', async () => {
  const { logger, lines } = captureLogger();
  const check = createClamdCheck({ enabled: false, address: clamd.address }, logger);
  assert.deepEqual(await check.run(message([part('1', EICAR)]), env()), []);
  assert.ok(lines.some((l) => l.level === 40 && /disabled/.test(String(l.msg))));
});

test('part over maxStreamBytes: clamd.unavailable (fail action), not a silent pass', async () => {
  const check = createClamdCheck({ address: clamd.address, maxStreamBytes: 4096, scanRaw: false });
  const hits = await check.run(message([part('1', CLEAN), part('2', Buffer.alloc(5000, 0x41), { names: ['big.bin'] })]), env());
  assert.equal(hits.length, 1);
  assert.equal(hits[0]!.rule, CLAMD_UNAVAILABLE);
  assert.equal(hits[0]!.action, 'tempfail');
  assert.equal(hits[0]!.where, 'part 2 big.bin');
  assert.match(hits[0]!.detail, /CLAMD_SIZE_LIMIT/);
});

test('the caller\'s abort signal ends scanning with clamd.unavailable', async () => {
  const ac = new AbortController();
  ac.abort(new Error('pipeline budget'));
  const check = createClamdCheck({ address: clamd.address });
  const hits = await check.run(message([part('1', EICAR)]), { ...env(), signal: ac.signal });
  assert.equal(hits.length, 1);
  assert.equal(hits[0]!.rule, CLAMD_UNAVAILABLE);
  assert.match(hits[0]!.detail, /CLAMD_ABORTED/);
});
