// Plays one resolved case through a rig (MTA + Postern) over SMTP and checks every expectation:
// replies per step, per recipient, delivery (found in the sink by a marker header), delivered
// headers and body, the MTA quarantine and Postern's summary log line. Assertion messages carry the
// whole SMTP transcript and Postern's lines for the case, so a failure says what really happened.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { OUTSIDE_CLIENT } from './world.js';
import type { Rig } from './rig.js';
import type { DeliveredMessage } from '../../harness/sink.js';
import { smtpSession, SmtpClientError, type SmtpReply, type SmtpSession } from '../../harness/smtp-client.js';
import { STEPS, type ReplyExpect, type ResolvedCase, type Step } from './cases.js';

export const MARKER = 'X-E2E-Case';

export interface Outcome {
  replies: Partial<Record<Step, SmtpReply>>;
  rcpts: SmtpReply[];
  commands: SmtpReply[];
  /** The step whose reply decided the transaction (first refusal, or eom). */
  decided: Step;
  transcript: string[];
  queueId?: string;
  delivered?: DeliveredMessage;
  sentBody?: Buffer;
  closedEarly?: string;
}

const ok = (r: SmtpReply | undefined) => r !== undefined && r.code >= 200 && r.code < 400;

/** Body as the client puts it on the wire once un-dot-stuffed: CRLF line ends, final CRLF. */
export function wireBody(raw: Buffer): Buffer {
  const text = raw.toString('latin1').replace(/\r?\n/g, '\r\n');
  const m = /\r\n\r\n/.exec(text);
  let body = m ? text.slice(m.index + 4) : '';
  if (body.length > 0 && !body.endsWith('\r\n')) body += '\r\n';
  return Buffer.from(body, 'latin1');
}

export function queueIdOf(mta: 'postfix' | 'sendmail', r: SmtpReply): string | undefined {
  const m = mta === 'postfix' ? /queued as ([0-9A-Za-z]+)/.exec(r.text) : /^2\.0\.0 ([0-9A-Za-z]+) Message accepted/m.exec(r.text);
  return m?.[1];
}

export async function playCase(rig: Rig, c: ResolvedCase): Promise<Outcome> {
  const id = `${c.name}/${c.mta}/${randomUUID().slice(0, 8)}`;
  const out: Outcome = { replies: {}, rcpts: [], commands: [], decided: 'eom', transcript: [] };
  const log = (dir: string, s: string) => out.transcript.push(`${dir} ${s}`);
  const rec = (step: Step, r: SmtpReply): SmtpReply => {
    out.replies[step] = r;
    log('S:', `${r.code} ${r.text.replace(/\n/g, ' | ')}`);
    return r;
  };
  let s: SmtpSession | undefined;
  try {
    const v6 = c.client.ipv6 && rig.mta === 'sendmail';
    if (v6 && !rig.ipv6Port) throw new Error('this rig has no IPv6 listener');
    s = await smtpSession({ port: v6 ? rig.ipv6Port! : rig.smtpPort, ...(v6 ? { host: '::1' } : {}), timeoutMs: 30000 });
    log('C:', v6 ? '(connect [::1])' : '(connect)');
    if (!ok(rec('connect', s.greeting))) return decide(out, 'connect');
    if (rig.mta === 'postfix' && c.client.outside) {
      log('C:', 'EHLO e2e-xclient.example.org');
      await s.ehlo('e2e-xclient.example.org');
      const attrs = {
        ADDR: c.client.addr ?? (c.client.ipv6 ? 'IPV6:2001:db8::10' : OUTSIDE_CLIENT.addr),
        NAME: c.client.name ?? (c.client.ipv6 ? '[UNAVAILABLE]' : OUTSIDE_CLIENT.name),
      };
      log('C:', `XCLIENT ${Object.entries(attrs).map(([k, v]) => `${k}=${v}`).join(' ')}`);
      const x = await s.raw(`XCLIENT ADDR=${attrs.ADDR} NAME=${attrs.NAME}`);
      // XCLIENT restarts the session: its reply is the new greeting (where Postfix shows a connect refusal).
      if (!ok(rec('connect', x))) return decide(out, 'connect');
    }
    log('C:', `EHLO ${c.helo}`);
    if (!ok(rec('helo', await s.ehlo(c.helo)))) return decide(out, 'helo');
    for (const cmd of c.commands) {
      log('C:', cmd);
      const r = await s.raw(cmd);
      log('S:', `${r.code} ${r.text}`);
      out.commands.push(r);
    }
    if (c.noMail) return decide(out, 'helo');
    log('C:', `MAIL FROM:<${c.from}>`);
    if (!ok(rec('mail', await s.mailFrom(c.from)))) return decide(out, 'mail');
    for (const r of c.rcpts) {
      log('C:', `RCPT TO:<${r}>`);
      const rr = await s.rcptTo(r);
      log('S:', `${rr.code} ${rr.text}`);
      out.rcpts.push(rr);
    }
    const firstBad = out.rcpts.find((r) => !ok(r));
    if (firstBad) out.replies.rcpt = firstBad;
    else if (out.rcpts.length) out.replies.rcpt = out.rcpts[out.rcpts.length - 1];
    if (!out.rcpts.some(ok)) return decide(out, 'rcpt');
    const msg = Buffer.concat([Buffer.from(`${MARKER}: ${id}\r\n`), c.message ?? Buffer.from('Subject: e2e\r\n\r\nhello\r\n')]);
    out.sentBody = wireBody(msg);
    log('C:', `DATA (${msg.length} bytes)`);
    const d = await s.data(msg);
    rec('data', d.dataReply);
    if (d.dataReply.code !== 354) return decide(out, 'data');
    rec('eom', d);
    out.queueId = queueIdOf(rig.mta, d);
    decide(out, 'eom');
    try {
      await s.quit();
    } catch {
      /* server hung up */
    }
    if (ok(d)) out.delivered = await waitDelivered(rig, id, c.expect.delivered === false || !!c.expect.quarantine ? 1500 : 30000);
    return out;
  } catch (e) {
    if (e instanceof SmtpClientError && e.code === 'closed') {
      out.closedEarly = e.message;
      log('!!', e.message);
      return out;
    }
    throw e;
  } finally {
    s?.close();
  }
}

function decide(out: Outcome, step: Step): Outcome {
  out.decided = step;
  return out;
}

async function waitDelivered(rig: Rig, id: string, timeoutMs: number): Promise<DeliveredMessage | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = rig.delivered().find((x) => x.header(MARKER).includes(id));
    if (m || Date.now() > deadline) return m;
    await new Promise((r) => setTimeout(r, 50));
  }
}

function codeMatches(want: ReplyExpect['code'], got: number): boolean {
  if (want === undefined) return true;
  if (Array.isArray(want)) return want.includes(got);
  if (want === '2xx') return got >= 200 && got < 300;
  if (want === '4xx') return got >= 400 && got < 500;
  if (want === '5xx') return got >= 500 && got < 600;
  return want === got;
}

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function checkReply(what: string, want: ReplyExpect, got: SmtpReply | undefined, ctx: string): void {
  assert.ok(got, `${what}: no reply (step not reached)\n${ctx}`);
  assert.ok(codeMatches(want.code, got.code), `${what}: expected code ${JSON.stringify(want.code)}, got ${got.code} ${got.text}\n${ctx}`);
  if (want.enhanced) assert.equal(got.enhanced, want.enhanced, `${what}: enhanced code, reply "${got.code} ${got.text}"\n${ctx}`);
  for (const t of list(want.text)) assert.ok(got.text.toLowerCase().includes(t.toLowerCase()), `${what}: reply "${got.code} ${got.text}" lacks "${t}"\n${ctx}`);
  for (const t of list(want.notText)) assert.ok(!got.text.toLowerCase().includes(t.toLowerCase()), `${what}: reply "${got.code} ${got.text}" contains "${t}"\n${ctx}`);
}

/** Check every expectation of the case against what happened. */
export async function checkOutcome(rig: Rig, c: ResolvedCase, out: Outcome, posternLines: Array<Record<string, unknown>>): Promise<void> {
  const e = c.expect;
  const ctx = () =>
    `--- ${c.name} via ${c.mta} ---\n${out.transcript.join('\n')}\n--- Postern lines ---\n${posternLines
      .filter((l) => l.msg !== 'config reloaded')
      .map((l) => JSON.stringify(l))
      .join('\n')}`;
  const step = e.step ?? 'eom';
  assert.equal(out.closedEarly, undefined, `connection closed early: ${out.closedEarly}\n${ctx()}`);
  assert.equal(out.decided, step, `expected the transaction to be decided at ${step}, it was decided at ${out.decided}\n${ctx()}`);
  // Every step before the deciding one must have passed.
  for (const st of STEPS.slice(0, STEPS.indexOf(step))) {
    if (st === 'rcpt') continue; // per-recipient refusals are allowed; see expect.rcpts
    if (out.replies[st]) assert.ok(ok(out.replies[st]), `step ${st} refused before ${step}\n${ctx()}`);
  }
  checkReply(`reply at ${step}`, e.reply ?? { code: step === 'eom' ? '2xx' : [550, 554, 553, 552, 501, 421, 450, 451, 452] }, out.replies[step], ctx());
  for (const [st, want] of Object.entries(e.replies ?? {})) checkReply(`reply at ${st}`, want!, out.replies[st as Step], ctx());
  (e.rcpts ?? []).forEach((want, i) => checkReply(`RCPT #${i + 1} <${c.rcpts[i]}>`, want, out.rcpts[i], ctx()));
  (e.commands ?? []).forEach((want, i) => checkReply(`command "${c.commands[i]}"`, want, out.commands[i], ctx()));

  const accepted = step === 'eom' && ok(out.replies.eom);
  if (e.quarantine) {
    assert.ok(accepted, `quarantine expected but the message was not accepted\n${ctx()}`);
    assert.ok(out.queueId, `no queue id in "${out.replies.eom?.text}"\n${ctx()}`);
    const held = await rig.findHeld(out.queueId!);
    assert.ok(held, `message ${out.queueId} not in the ${rig.mta === 'postfix' ? 'hold queue' : 'sendmail quarantine'}\n${ctx()}\n${rig.mtaLog().split('\n').slice(-15).join('\n')}`);
    for (const r of list(e.quarantine.reason)) assert.ok(held.reason.includes(r), `quarantine reason "${held.reason}" lacks "${r}"\n${ctx()}`);
  } else if (accepted && out.queueId && e.delivered !== false) {
    const held = await rig.findHeld(out.queueId, 0);
    assert.equal(held, undefined, `message unexpectedly quarantined: ${held?.reason}\n${ctx()}`);
  }
  const wantDelivered = e.delivered ?? (accepted && !e.quarantine);
  if (!wantDelivered) {
    assert.equal(out.delivered, undefined, `message was delivered but should not have been\n${ctx()}`);
  } else {
    assert.ok(out.delivered, `message not delivered to the sink\n${ctx()}\n${rig.mtaLog().split('\n').slice(-15).join('\n')}`);
    const m = out.delivered!;
    if (e.deliveredTo) assert.deepEqual([...(m.envelope?.rcptTo ?? [])].sort(), [...e.deliveredTo].sort(), `delivered recipients\n${ctx()}`);
    for (const [name, subs] of Object.entries(e.headers ?? {})) {
      const vals = m.header(name);
      assert.ok(vals.length > 0, `delivered message lacks ${name}\nheaders: ${m.headers.map((h) => h.raw).join('\n')}\n${ctx()}`);
      for (const sub of list(subs)) {
        assert.ok(vals.some((v) => v.toLowerCase().includes(sub.toLowerCase())), `${name} ${JSON.stringify(vals)} lacks "${sub}"\n${ctx()}`);
      }
    }
    for (const name of e.absentHeaders ?? []) {
      assert.deepEqual(m.header(name), [], `delivered message has ${name}: ${m.header(name).join(' | ')}\n${ctx()}`);
    }
    for (const re of e.headersNotMatch ?? []) {
      const rx = new RegExp(re, 'i');
      const bad = m.headers.filter((h) => rx.test(h.raw));
      assert.deepEqual(bad.map((h) => h.raw), [], `delivered headers match /${re}/\n${ctx()}`);
    }
    if (e.bodyUnchanged !== false) {
      assert.ok(out.sentBody, 'no body sent');
      if (!m.body.equals(out.sentBody!)) {
        assert.fail(`delivered body differs from the body sent (${m.body.length} vs ${out.sentBody!.length} bytes); first difference at byte ${firstDiff(m.body, out.sentBody!)}\n${ctx()}`);
      }
    }
  }
  if (e.log) {
    const line = findSummary(posternLines, e.log.msg, c);
    assert.ok(line, `no Postern summary line ("${e.log.msg ?? 'message'}")\n${ctx()}`);
    if (e.log.verdict) assert.equal(line.verdict, e.log.verdict, `Postern verdict\n${ctx()}`);
    const rules = (line.rules as string[] | undefined) ?? [];
    for (const r of e.log.rules ?? []) assert.ok(rules.some((x) => x === r || x.startsWith(`${r}(`)), `Postern rules ${JSON.stringify(rules)} lack ${r}\n${ctx()}`);
  }
}

function findSummary(lines: Array<Record<string, unknown>>, msg = 'message', c: ResolvedCase): Record<string, unknown> | undefined {
  // A summary of the previous case can arrive late (written at ABORT/close): match the sender too.
  const hits = lines.filter((l) => l.msg === msg && (msg !== 'message' || l.from === c.from));
  return hits[hits.length - 1];
}

function firstDiff(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}
