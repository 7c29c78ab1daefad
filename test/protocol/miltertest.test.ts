// Runs every Lua script in test/protocol/ through the real miltertest (Debian package `miltertest`)
// against a real Postern started with the embedded default policy.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../harness/paths.js';
import { startPostern, type PosternInstance } from '../harness/postern.js';
import { startDnsServer, type TestDnsServer } from '../harness/dns-server.js';

const DIR = path.join(REPO_ROOT, 'test', 'protocol');

function miltertest(script: string, defines: Record<string, string>): Promise<{ code: number; out: string }> {
  const args = ['-s', script, ...Object.entries(defines).flatMap(([k, v]) => ['-D', `${k}=${v}`])];
  return new Promise((resolve) => {
    execFile('miltertest', args, { timeout: 60000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, out: `${stdout}${stderr}` });
    });
  });
}

describe('miltertest scripts against postern serve', () => {
  let postern: PosternInstance;
  let dns: TestDnsServer;
  before(async () => {
    // The sender domains of the scripts exist; nothing else does (the DNS server never recurses).
    dns = await startDnsServer({
      records: {
        'example.org': [{ type: 'MX', data: { preference: 10, exchange: 'mx.example.org' } }],
        'mx.example.org': [{ type: 'A', data: '198.51.100.25' }],
        '7.100.51.198.in-addr.arpa': [{ type: 'PTR', data: 'client.example.org' }],
        'client.example.org': [{ type: 'A', data: '198.51.100.7' }],
      },
    });
    postern = await startPostern({
      config: {
        dns: { servers: [dns.server] },
        policy: { trace: { header: 'X-Postern' } },
        connection: {
          localDomains: ['example.test'],
          client: { deny: ['192.0.2.66'], rejectAt: 'connect' },
          sender: { patterns: ['^spammer@'] },
        },
        outbound: { localDomains: ['example.test'] },
        content: { workers: 1, clamd: { enabled: false } },
      },
    });
  });
  after(async () => {
    await postern?.stop();
    await dns?.close();
  });

  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.lua')).sort()) {
    it(file, async () => {
      const { code, out } = await miltertest(path.join(DIR, file), { MILTER: postern.milter, TRACE: 'X-Postern' });
      assert.equal(code, 0, `miltertest ${file} failed:\n${out}`);
      assert.match(out, /^ok /m);
    });
  }
});
