// The clamd client against a real clamd (test/harness/clamd.ts) and against fake servers for the
// failure modes clamd itself will not produce on demand (accepts and never answers).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { ClamdClient } from '../../src/content/clamd/client.js';
import { ClamdConnectError, ClamdError, ClamdSizeLimitError, ClamdTimeoutError } from '../../src/content/clamd/errors.js';
import { EICAR, EICAR_SIGNATURE, HASH_FIXTURE, HASH_SIGNATURE, startClamd, type ClamdInstance } from '../harness/clamd.js';
import { freePort } from '../harness/net.js';

let clamd: ClamdInstance;
before(async () => {
  clamd = await startClamd({ tcp: true, streamMaxLength: '1M' });
  console.log(`# clamd started in ${clamd.startMs} ms (pid ${clamd.pid})`);
});
after(async () => {
  await clamd?.stop();
});

test('PING and VERSION over the unix socket', async () => {
  const c = new ClamdClient({ address: clamd.address });
  await c.ping();
  assert.match(await c.version(), /^ClamAV \d+\.\d+/);
});

test('clean buffer, EICAR and hash signature over the unix socket', async () => {
  const c = new ClamdClient({ address: clamd.address });
  assert.deepEqual(await c.scan(Buffer.from('hello, nothing to see here\r\n')), { infected: false });
  assert.deepEqual(await c.scan(Buffer.alloc(0)), { infected: false });
  const v = await c.scan(EICAR);
  assert.equal(v.infected, true);
  assert.ok(v.infected && v.signatures[0]?.startsWith(EICAR_SIGNATURE), JSON.stringify(v));
  const h = await c.scan(await readFile(HASH_FIXTURE));
  assert.ok(h.infected && h.signatures[0]?.startsWith(HASH_SIGNATURE), JSON.stringify(h));
});

test('a buffer sent in many small chunks: EICAR straddling chunk boundaries is found', async () => {
  const c = new ClamdClient({ address: clamd.address, chunkSize: 7 });
  const data = Buffer.concat([Buffer.alloc(3001, 0x41), EICAR, Buffer.alloc(5000, 0x42)]);
  const v = await c.scan(data);
  assert.ok(v.infected && v.signatures[0]?.startsWith(EICAR_SIGNATURE));
  const big = Buffer.alloc(900 * 1024, 0x20); // many 64 KiB chunks, under the 1M limit
  assert.deepEqual(await new ClamdClient({ address: clamd.address }).scan(big), { infected: false });
});

test('TCP mode: PING and EICAR over 127.0.0.1', async () => {
  assert.ok(clamd.tcpPort);
  const c = new ClamdClient({ address: `tcp:127.0.0.1:${clamd.tcpPort}` });
  await c.ping();
  const v = await c.scan(EICAR);
  assert.ok(v.infected && v.signatures[0]?.startsWith(EICAR_SIGNATURE));
});

test('stream over clamd StreamMaxLength: clamd\'s refusal is read and typed, even mid-upload', async () => {
  const c = new ClamdClient({ address: clamd.address, maxStreamBytes: 64 * 1024 * 1024 });
  // clamd answers "INSTREAM size limit exceeded. ERROR" and closes while we are still uploading.
  // The client reads that answer between chunks; rarely clamd's close wins the race and the next
  // write fails with EPIPE first: then the error is CLAMD_PROTOCOL naming the likely cause.
  await assert.rejects(c.scan(Buffer.alloc(3 * 1024 * 1024, 0x61)), (err: unknown) => {
    assert.ok(err instanceof ClamdError, String(err));
    if (err instanceof ClamdSizeLimitError) {
      assert.equal(err.code, 'CLAMD_SIZE_LIMIT');
      assert.match(err.message, /size limit exceeded/);
    } else {
      assert.equal(err.code, 'CLAMD_PROTOCOL');
      assert.match(err.message, /StreamMaxLength/);
    }
    return true;
  });
});

test('stream over the client\'s maxStreamBytes: refused locally with CLAMD_SIZE_LIMIT, nothing sent', async () => {
  const c = new ClamdClient({ address: clamd.address, maxStreamBytes: 1024 * 1024 });
  await assert.rejects(c.scan(Buffer.alloc(1024 * 1024 + 1)), (err: unknown) => {
    assert.ok(err instanceof ClamdSizeLimitError);
    assert.equal(err.code, 'CLAMD_SIZE_LIMIT');
    assert.equal(err.limit, 1024 * 1024);
    return true;
  });
  assert.deepEqual(await c.scan(Buffer.alloc(1024 * 1024, 0x20)), { infected: false }); // exactly at the limit
});

test('socket absent: connect error with ENOENT', async () => {
  const c = new ClamdClient({ address: `unix:${path.join(clamd.dir, 'nope.ctl')}` });
  await assert.rejects(c.scan(EICAR), (err: unknown) => {
    assert.ok(err instanceof ClamdConnectError);
    assert.equal(err.code, 'CLAMD_CONNECT');
    assert.equal(err.sysCode, 'ENOENT');
    return true;
  });
});

test('TCP port closed: connect error with ECONNREFUSED', async () => {
  const port = await freePort();
  const c = new ClamdClient({ address: `tcp:127.0.0.1:${port}` });
  await assert.rejects(c.ping(), (err: unknown) => err instanceof ClamdConnectError && err.sysCode === 'ECONNREFUSED');
});

test('server accepts but never answers: scan timeout, and PING times out too', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'postern-clamd-hang-'));
  const sockPath = path.join(dir, 'hang.sock');
  const conns = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    conns.add(s);
    s.on('data', () => {});
    s.on('error', () => {});
  });
  await new Promise<void>((r) => srv.listen(sockPath, r));
  try {
    const c = new ClamdClient({ address: `unix:${sockPath}`, scanTimeoutMs: 200 });
    await assert.rejects(c.scan(EICAR), (err: unknown) => err instanceof ClamdTimeoutError && err.phase === 'scan' && err.code === 'CLAMD_TIMEOUT');
    await assert.rejects(c.ping(), ClamdTimeoutError);
  } finally {
    for (const s of conns) s.destroy();
    await new Promise<void>((r) => srv.close(() => r()));
    await rm(dir, { recursive: true, force: true });
  }
});

test('server closes without answering: protocol error, not clean', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'postern-clamd-close-'));
  const sockPath = path.join(dir, 'close.sock');
  const srv = net.createServer((s) => {
    s.on('error', () => {});
    s.resume(); // read, so the client's close is seen and srv.close() can finish
    s.end();
  });
  await new Promise<void>((r) => srv.listen(sockPath, r));
  try {
    const c = new ClamdClient({ address: `unix:${sockPath}` });
    await assert.rejects(c.scan(EICAR), (err: unknown) => err instanceof ClamdError && err.code === 'CLAMD_PROTOCOL');
  } finally {
    await new Promise<void>((r) => srv.close(() => r()));
    await rm(dir, { recursive: true, force: true });
  }
});

test('abort signal ends a scan with CLAMD_ABORTED', async () => {
  const c = new ClamdClient({ address: clamd.address });
  const ac = new AbortController();
  ac.abort(new Error('budget'));
  await assert.rejects(c.scan(EICAR, ac.signal), { code: 'CLAMD_ABORTED' });
});

test('harness: a clamd that cannot start is reported with its output and leaves nothing behind', async () => {
  await assert.rejects(startClamd({ extraConfig: ['NoSuchClamdOption yes'], startTimeoutMs: 5000 }), (err: unknown) => {
    const msg = (err as Error).message;
    assert.match(msg, /NoSuchClamdOption/);
    const dir = /\[temp dir (\S+) removed\]/.exec(msg)?.[1];
    assert.ok(dir, msg);
    assert.equal(existsSync(dir), false);
    return true;
  });
});
