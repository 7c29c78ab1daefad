// Transport end to end: real messages from ../shared/corpus (and a small fallback set in
// test/fixtures/e2e/corpus for a bare clone) go client → private Postfix (examples/ settings) →
// Postern (compiled CLI, default policy, test DNS + real clamd) → sink. Every message the policy
// accepts must arrive with its body byte-identical (after the transport's normal changes: dot-
// stuffing undone, CRLF line ends) and Postern's trace header added. Several messages per SMTP
// session with RSET between; a client that vanishes mid-DATA delivers nothing and breaks nothing.
// Every process started here is stopped in after hooks, whatever happens.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { corpusSkipReason, SHARED_CORPUS } from '../harness/paths.js';
import { smtpSession, type SmtpReply } from '../harness/smtp-client.js';
import { E2E_FIXTURES } from './lib/cases.js';
import { MARKER, queueIdOf, wireBody } from './lib/play.js';
import { startRig, type Rig } from './lib/rig.js';
import { baseConfig, startWorld, type World } from './lib/world.js';

/** Corpus folders whose licences are MIT, Apache-2.0 or BSD (see ../shared/corpus/SOURCES.md). */
const PERMISSIVE = ['ruby-mail', 'nodemailer-mailparser', 'zone-eu-mailsplit', 'postal-mime', 'mailgun-flanker', 'enmime', 'zbateson-mail-mime-parser', 'rspamd', 'apache-spamassassin', 'mimekit', 'php-mime-mail-parser', 'spamscope-mail-parser', 'haraka', 'postalsys-mailauth', 'apache-james-mime4j/testmsgs'];
const WANT_DELIVERED = 100;
const MAX_BYTES = 1_000_000;
const PER_SESSION = 8;
const PARALLEL = 4;

interface Candidate {
  name: string;
  raw: Buffer;
}

/** A message the transport carries unchanged: a header block of real fields, a blank line, short lines, no NUL. */
function transportable(raw: Buffer): boolean {
  if (raw.length === 0 || raw.length > MAX_BYTES || raw.includes(0)) return false;
  const text = raw.toString('latin1');
  if (/^From /.test(text)) return false; // mbox separator line
  const sep = /\r?\n\r?\n/.exec(text);
  if (!sep) return false;
  const head = text.slice(0, sep.index).split(/\r?\n/);
  if (!head.every((l, i) => /^[!-9;-~]+:/.test(l) || (i > 0 && /^[ \t]/.test(l)))) return false;
  // Postfix's smtp client folds lines over 998 octets (smtp_line_length_limit); bare CR is rewritten.
  return text.split('\n').every((l) => l.length <= 990) && !/\r(?!\n)/.test(text);
}

function fromManifest(): Candidate[] {
  const manifest = path.join(SHARED_CORPUS, 'MANIFEST.tsv');
  const out: Candidate[] = [];
  for (const line of readFileSync(manifest, 'utf8').split('\n').slice(1)) {
    const [file, kind, label, bytes, , features = ''] = line.split('\t');
    if (kind !== 'message' || !file || Number(bytes) > MAX_BYTES) continue;
    if (label === 'spam' || /mbox|line>998/.test(features)) continue;
    if (!PERMISSIVE.some((p) => file.startsWith(`${p}/`))) continue;
    const raw = readFileSync(path.join(SHARED_CORPUS, file));
    if (transportable(raw)) out.push({ name: file, raw });
  }
  return out;
}

function fallback(): Candidate[] {
  const root = path.join(E2E_FIXTURES, 'corpus');
  const out: Candidate[] = [];
  const walk = (dir: string) => {
    for (const f of readdirSync(dir).sort()) {
      const p = path.join(dir, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (!/LICENSE|README/.test(f)) out.push({ name: path.relative(root, p), raw: readFileSync(p) });

    }
  };
  if (existsSync(root)) walk(root);
  return out.filter((c) => transportable(c.raw));
}

interface Sent {
  c: Candidate;
  id: string;
  reply: SmtpReply;
  queueId?: string;
}

/** Send messages over one SMTP session each batch, RSET between messages. */
async function sendBatch(rig: Rig, batch: Candidate[]): Promise<Sent[]> {
  const s = await smtpSession({ port: rig.smtpPort, timeoutMs: 60000 });
  const out: Sent[] = [];
  try {
    assert.equal(s.greeting.code, 220, s.greeting.text);
    assert.equal((await s.ehlo('client.example.org')).code, 250);
    for (const c of batch) {
      const id = randomUUID();
      const mail = await s.mailFrom('alice@example.org');
      assert.equal(mail.code, 250, `${c.name}: MAIL ${mail.code} ${mail.text}`);
      const rcpt = await s.rcptTo('bob@example.test');
      assert.equal(rcpt.code, 250, `${c.name}: RCPT ${rcpt.code} ${rcpt.text}`);
      const d = await s.data(Buffer.concat([Buffer.from(`${MARKER}: ${id}\r\n`), c.raw]));
      assert.equal(d.dataReply.code, 354, `${c.name}: DATA ${d.dataReply.code} ${d.dataReply.text}`);
      out.push({ c, id, reply: d, ...(queueIdOf('postfix', d) ? { queueId: queueIdOf('postfix', d)! } : {}) });
      const r = await s.rset();
      assert.equal(r.code, 250, `RSET ${r.code} ${r.text}`);
    }
    await s.quit();
  } finally {
    s.close();
  }
  return out;
}

async function waitFor<T>(fn: () => T | undefined, timeoutMs: number): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Send candidates until `want` were accepted and delivered (or candidates run out); check each. */
async function runTransport(rig: Rig, candidates: Candidate[], want: number): Promise<{ delivered: number; refused: string[]; held: string[] }> {
  let delivered = 0;
  const refused: string[] = [];
  const held: string[] = [];
  let next = 0;
  const failures: string[] = [];
  const worker = async () => {
    while (delivered < want && next < candidates.length) {
      const batch = candidates.slice(next, next + PER_SESSION);
      next += batch.length;
      for (const sent of await sendBatch(rig, batch)) {
        const code = sent.reply.code;
        if (code >= 400) {
          // A policy refusal names its rule in parentheses; anything else is a transport failure.
          if (!/\([a-z0-9.-]+\)/.test(sent.reply.text)) failures.push(`${sent.c.name}: refused without a Postern rule: ${code} ${sent.reply.text}`);
          refused.push(`${sent.c.name}: ${code} ${sent.reply.text}`);
          continue;
        }
        const summary = await waitFor(() => rig.postern.messages().find((l) => l.queueId === sent.queueId), 10000);
        if (summary?.verdict === 'quarantine') {
          held.push(`${sent.c.name}: ${JSON.stringify(summary.rules)}`);
          continue;
        }
        const m = await waitFor(() => rig.delivered().find((x) => x.header(MARKER).includes(sent.id)), 20000);
        if (!m) {
          failures.push(`${sent.c.name}: accepted (${sent.reply.text}, Postern ${JSON.stringify(summary)}) but never delivered`);
          continue;
        }
        const want = wireBody(sent.c.raw);
        if (!m.body.equals(want)) failures.push(`${sent.c.name}: body changed (${m.body.length} bytes delivered, ${want.length} sent)`);
        else if (!m.header('X-Postern').some((v) => /^accept/.test(v))) failures.push(`${sent.c.name}: no "X-Postern: accept..." header (${JSON.stringify(m.header('X-Postern'))})`);
        else delivered++;
      }
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  assert.deepEqual(failures, [], `transport failures:\n${failures.join('\n')}`);
  return { delivered, refused, held };
}

let world: World | undefined;
let rig: Rig | undefined;

describe('Postfix → Postern → sink: real messages', { timeout: 15 * 60_000 }, () => {
  before(async () => {
    world = await startWorld();
    rig = await startRig('postfix', baseConfig(world));
  });
  after(async () => {
    await rig?.stop();
    await world?.stop();
  });

  test('fallback set from test/fixtures/e2e/corpus (runs in a bare clone)', async (t) => {
    const set = fallback();
    assert.ok(set.length >= 10, `only ${set.length} fallback messages`);
    const r = await runTransport(rig!, set, set.length);
    t.diagnostic(`delivered ${r.delivered}/${set.length}; refused: ${r.refused.join(' | ') || 'none'}; held: ${r.held.join(' | ') || 'none'}`);
    assert.ok(r.delivered >= 10, `only ${r.delivered} delivered`);
  });

  const skip = corpusSkipReason();
  test(`at least ${WANT_DELIVERED} corpus messages delivered unchanged with the trace header`, { skip }, async (t) => {
    const candidates = fromManifest();
    t.diagnostic(`${candidates.length} transportable candidates`);
    const r = await runTransport(rig!, candidates, WANT_DELIVERED);
    t.diagnostic(`delivered ${r.delivered}; refused by policy ${r.refused.length}; held ${r.held.length}`);
    for (const x of r.refused) t.diagnostic(`refused: ${x}`);
    for (const x of r.held) t.diagnostic(`held: ${x}`);
    assert.ok(r.delivered >= WANT_DELIVERED, `only ${r.delivered} delivered`);
  });

  let abortMark = 0;
  test('a client vanishing mid-DATA: nothing delivered, the next sessions are fine', async () => {
    const id = randomUUID();
    abortMark = rig!.postern.logs().length;
    const s = await smtpSession({ port: rig!.smtpPort });
    await s.ehlo('client.example.org');
    assert.equal((await s.mailFrom('alice@example.org')).code, 250);
    assert.equal((await s.rcptTo('bob@example.test')).code, 250);
    const d = await s.abortMidData(`${MARKER}: ${id}\r\nSubject: half\r\nFrom: alice@example.org\r\n\r\nfirst line of a body that never ends\r\n`);
    assert.equal(d.code, 354);
    await waitFor(() => (/lost connection after DATA/.test(rig!.mtaLog()) ? true : undefined), 10000);
    // Postfix aborts the milter transaction; Postern must stay healthy for the sessions after it.
    for (let i = 0; i < 3; i++) {
      const next = await smtpSession({ port: rig!.smtpPort });
      await next.ehlo('client.example.org');
      assert.equal((await next.mailFrom('alice@example.org')).code, 250);
      assert.equal((await next.rcptTo('bob@example.test')).code, 250);
      const okId = randomUUID();
      const r = await next.data(`${MARKER}: ${okId}\r\nSubject: after ${i}\r\nFrom: alice@example.org\r\nDate: Thu, 3 Dec 2026 10:00:00 +0000\r\n\r\nstill fine\r\n`);
      assert.equal(r.code, 250, r.text);
      await next.quit();
      assert.ok(await waitFor(() => rig!.delivered().find((m) => m.header(MARKER).includes(okId)), 15000), `message ${i} after the abort not delivered`);
    }
    assert.equal(rig!.delivered().find((m) => m.header(MARKER).includes(id)), undefined, 'half message delivered');
    assert.equal(rig!.postern.process.exitCode, null, 'Postern exited');
  });

  test('Postern logs the message aborted mid-DATA', async () => {
    const lines = rig!.postern.logs().slice(abortMark);
    const aborted = lines.find((l) => /abort/i.test(String(l.msg)) || l.verdict === 'aborted');
    assert.ok(aborted, `Postern logged no aborted message; its lines since the abort:\n${lines.map((l) => JSON.stringify(l)).join('\n')}`);
  });
});
