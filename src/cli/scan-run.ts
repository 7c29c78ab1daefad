// Drives the policy engine for one message without an MTA, through the same code path as the server:
// the engine negotiates (as with Postfix's offer), a handler from engine.create() gets connect, helo,
// mail, rcpt(s), data, headers, eoh, body chunks and eom, with the macros an MTA would send, and the
// answers are read exactly as an MTA reads them (NO*/NR_* respected, a refusal ends the dialogue).
// It must never turn a check that could not run into an accept: the answers are reported as given.
import { hostname as osHostname } from 'node:os';
import { isIP } from 'node:net';
import {
  ALL_ACTIONS, ALL_PROTOCOL, CHUNK_SIZE, Cmd, Proto, expectsReply, negotiateAsFilter,
  type ConnectFamily, type FilterReply,
} from '../../codec/index.js';
import type { EngineObserver, MessageSummary, PolicyEngine } from '../policy/engine.js';
import type { MilterHandler, StepAnswer } from '../server/handler.js';
import type { RuleHit, Stage } from '../policy/types.js';
import type { PosternConfig } from '../config/schema.js';
import { envelopeFromHeaders, splitMessage } from './scan-input.js';
import { sessionErrorAction } from '../policy/config.js';

export type ScanVerdict = 'accept' | 'reject' | 'tempfail' | 'discard' | 'quarantine';

export interface ScanOptions {
  from?: string;
  rcpts?: string[];
  clientIp: string;
  /** Client host name as the MTA reports it; default "[ip]" (no verified reverse name). */
  clientName?: string;
  helo: string;
  /** SASL login ({auth_authen}): scan as authenticated submission. */
  auth?: string;
  /** {rcpt_mailer} for every recipient; unset by default (an offline scan cannot know the routing). */
  rcptMailer?: string;
}

export interface ScanRule {
  rule: string;
  action: string;
  detail: string;
  where?: string;
  stage?: string;
  score?: number;
  monitor?: boolean;
}

export interface HeaderChangeOut {
  op: 'add' | 'insert' | 'change' | 'delete';
  name: string;
  value?: string;
  index?: number;
}

export interface ScanResult {
  file: string;
  verdict: ScanVerdict;
  /** What would have happened without monitor mode (only when it differs). */
  wouldBe?: ScanVerdict;
  /** SMTP reply ("550 5.7.1 text") for reject/tempfail; absent otherwise. */
  reply?: string;
  /** The stage whose answer decided: connect, helo, mail, rcpt, data, eoh, body, eom. */
  decidedAt: string;
  envelope: { from: string; rcpts: string[]; clientIp: string; clientName: string; helo: string };
  /** Per-recipient answers (refused recipients only get a reply). */
  recipients: Array<{ rcpt: string; accepted: boolean; reply?: string }>;
  direction?: string;
  score?: number;
  rules: ScanRule[];
  headers: HeaderChangeOut[];
  /** Other modifications (envelope changes, quarantine reason). */
  actions: Array<Record<string, unknown>>;
  /** Milliseconds per stage plus "total". */
  timings: Record<string, number>;
  size: number;
}

const OFFER = { version: 6, actions: ALL_ACTIONS, protocol: ALL_PROTOCOL };

/** Observer that scan installs in its runtime; `target` is switched to the message being scanned. */
export class ScanObserver implements EngineObserver {
  target: { hits: RuleHit[]; timings: Record<string, number>; summary?: MessageSummary; stage?: { rcpt?: string } } | undefined;
  hit(h: RuleHit): void {
    if (!this.target) return;
    const copy = { ...h };
    if (copy.stage === 'rcpt' && !copy.where && this.target.stage?.rcpt) copy.where = `rcpt ${this.target.stage.rcpt}`;
    this.target.hits.push(copy);
  }
  stageDone(stage: Stage, ms: number): void {
    if (!this.target) return;
    this.target.timings[stage] = round((this.target.timings[stage] ?? 0) + ms);
  }
  messageDone(summary: MessageSummary): void {
    if (this.target) this.target.summary = summary;
  }
}

let counter = 0;

/** Scan one raw message with the engine; `observer` must be the one given to buildRuntime. */
export async function scanMessage(
  engine: PolicyEngine,
  observer: ScanObserver,
  config: PosternConfig,
  file: string,
  raw: Buffer,
  opts: ScanOptions,
): Promise<ScanResult> {
  const started = performance.now();
  const agreement = negotiateAsFilter(OFFER, engine.wanted());
  const protocol = agreement.protocol;
  const split = splitMessage(raw, (protocol & Proto.HDR_LEADSPC) !== 0);
  const guessed = envelopeFromHeaders(split.headers);
  const from = opts.from ?? guessed.from ?? 'sender@example.com';
  const rcpts = opts.rcpts && opts.rcpts.length > 0 ? opts.rcpts : guessed.rcpts.length > 0 ? guessed.rcpts : ['recipient@example.com'];
  const family: ConnectFamily = isIP(opts.clientIp) === 6 ? 'inet6' : 'inet4';
  const clientName = opts.clientName ?? `[${opts.clientIp}]`;
  const queueId = `SCAN${(++counter).toString(16).toUpperCase().padStart(6, '0')}`;

  // Macros as Postfix would send them (the names the engine asks for); {rcpt_mailer} stays unset
  // unless given: an offline scan cannot know how the MTA would route a recipient.
  const macros = new Map<string, string>([
    ['j', osHostname() || 'localhost'],
    ['_', `${clientName} [${opts.clientIp}]`],
    ['v', 'Postern scan'],
    ['daemon_name', 'postern-scan'],
    ['daemon_addr', '127.0.0.1'],
    ['client_addr', opts.clientIp],
    ['client_name', clientName],
    ['client_ptr', opts.clientName ?? ''],
    ['i', queueId],
    ['mail_addr', from],
  ]);
  if (opts.auth) {
    macros.set('auth_type', 'PLAIN');
    macros.set('auth_authen', opts.auth);
  }
  const env = {
    sessionId: `scan-${queueId}`,
    macro: (name: string) => macros.get(name.startsWith('{') && name.endsWith('}') ? name.slice(1, -1) : name),
    protocol: () => protocol,
    actions: () => agreement.actions,
  };

  const target: NonNullable<ScanObserver['target']> = { hits: [], timings: {}, stage: {} };
  observer.target = target;
  const result: ScanResult = {
    file,
    verdict: 'accept',
    decidedAt: 'eom',
    envelope: { from, rcpts, clientIp: opts.clientIp, clientName, helo: opts.helo },
    recipients: [],
    rules: [],
    headers: [],
    actions: [],
    timings: target.timings,
    size: raw.length,
  };
  const t = config.server.timeouts;
  const handler = engine.create(env);
  let inMessage = false;
  try {
    const ask = async (code: number, stage: string, run: () => StepAnswer | Promise<StepAnswer>, timeoutMs: number): Promise<FilterReply | undefined> => {
      const answer = await call(handler, stage, run, timeoutMs, sessionErrorAction(config.policy));
      if (!expectsReply(code, protocol)) return undefined;
      if (code === Cmd.BODYEOB) collectModifications(answer.modifications ?? [], result);
      return answer.final;
    };
    const refused = (r: FilterReply | undefined): boolean => r !== undefined && r.type !== 'continue' && r.type !== 'skip';
    const finish = (stage: string, r: FilterReply) => {
      result.decidedAt = stage;
      applyFinal(r, result);
    };

    const steps: Array<[number, string, () => StepAnswer | Promise<StepAnswer>, number]> = [
      [Cmd.CONNECT, 'connect', () => handler.connect({ hostname: clientName, family, port: 25000, address: opts.clientIp }), t.connectMs],
      [Cmd.HELO, 'helo', () => handler.helo(opts.helo), t.commandMs],
      [Cmd.MAIL, 'mail', () => handler.mail([`<${from}>`]), t.commandMs],
    ];
    for (const [code, stage, run, ms] of steps) {
      if (!sent(code, protocol)) continue;
      if (code === Cmd.MAIL) inMessage = true;
      const r = await ask(code, stage, run, ms);
      if (refused(r)) return done(finish(stage, r!));
    }

    let accepted = 0;
    let lastRefusal: FilterReply | undefined;
    for (const rcpt of rcpts) {
      target.stage!.rcpt = `<${rcpt}>`;
      macros.set('rcpt_addr', rcpt);
      macros.set('rcpt_host', rcpt.includes('@') ? rcpt.slice(rcpt.lastIndexOf('@') + 1) : '');
      if (opts.rcptMailer !== undefined) macros.set('rcpt_mailer', opts.rcptMailer);
      const r = sent(Cmd.RCPT, protocol) ? await ask(Cmd.RCPT, 'rcpt', () => handler.rcpt([`<${rcpt}>`]), t.commandMs) : undefined;
      if (r?.type === 'discard') return done(finish('rcpt', r));
      if (refused(r)) {
        lastRefusal = r;
        result.recipients.push({ rcpt, accepted: false, reply: replyText(r!) });
      } else {
        accepted++;
        result.recipients.push({ rcpt, accepted: true });
      }
    }
    target.stage!.rcpt = undefined;
    if (accepted === 0 && lastRefusal) return done(finish('rcpt', lastRefusal));

    if (sent(Cmd.DATA, protocol)) {
      const r = await ask(Cmd.DATA, 'data', () => handler.data(), t.commandMs);
      if (refused(r)) return done(finish('data', r!));
    }
    if (sent(Cmd.HEADER, protocol)) {
      for (const h of split.headers) {
        const r = await ask(Cmd.HEADER, 'header', () => handler.header(h.name, h.value, h.raw), t.contentMs);
        if (refused(r)) return done(finish('header', r!));
      }
    }
    if (sent(Cmd.EOH, protocol)) {
      const r = await ask(Cmd.EOH, 'eoh', () => handler.eoh(), t.contentMs);
      if (refused(r)) return done(finish('eoh', r!));
    }
    if (sent(Cmd.BODY, protocol)) {
      for (let at = 0; at < split.body.length; at += CHUNK_SIZE) {
        const chunk = split.body.subarray(at, Math.min(split.body.length, at + CHUNK_SIZE));
        const r = await ask(Cmd.BODY, 'body', () => handler.body(chunk), t.contentMs);
        if (r?.type === 'skip') break;
        if (refused(r)) return done(finish('body', r!));
      }
    }
    const r = await ask(Cmd.BODYEOB, 'eom', () => handler.eom(), t.eomMs);
    return done(finish('eom', r ?? { type: 'continue' }));
  } finally {
    if (inMessage) safe(() => handler.abort());
    safe(() => handler.close());
    observer.target = undefined;
  }

  function done(_: void): ScanResult {
    result.rules = target.hits.map(toRule);
    const s = target.summary;
    if (s) {
      result.direction = s.direction;
      result.score = s.score;
      if (s.monitorVerdict && s.monitorVerdict !== result.verdict) result.wouldBe = s.monitorVerdict as ScanVerdict;
    } else {
      const wouldBe = wouldBeOf(target.hits);
      if (wouldBe && SEVERITY[wouldBe]! > (SEVERITY[result.verdict] ?? 0)) result.wouldBe = wouldBe;
    }
    result.timings.total = round(performance.now() - started);
    return result;
  }
}

function sent(code: number, protocol: number): boolean {
  const skip: Record<number, number> = {
    [Cmd.CONNECT]: Proto.NOCONNECT, [Cmd.HELO]: Proto.NOHELO, [Cmd.MAIL]: Proto.NOMAIL, [Cmd.RCPT]: Proto.NORCPT,
    [Cmd.BODY]: Proto.NOBODY, [Cmd.HEADER]: Proto.NOHDRS, [Cmd.EOH]: Proto.NOEOH, [Cmd.DATA]: Proto.NODATA,
  };
  const flag = skip[code];
  return flag === undefined || (protocol & flag) === 0;
}

/** Run one step as the server does: a throw or a timeout becomes the error action, never an accept. */
async function call(
  handler: MilterHandler,
  stage: string,
  run: () => StepAnswer | Promise<StepAnswer>,
  timeoutMs: number,
  errorAction: 'tempfail' | 'reject',
): Promise<StepAnswer> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const r = run();
    if (!(r instanceof Promise)) return r;
    return await Promise.race([
      r,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${stage} took longer than ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (err) {
    handler.stepFailed?.(stage, err);
    return { final: { type: errorAction } };
  } finally {
    if (timer) clearTimeout(timer);
  }
}

function applyFinal(r: FilterReply, result: ScanResult): void {
  switch (r.type) {
    case 'replyCode':
      result.verdict = r.text.startsWith('4') ? 'tempfail' : 'reject';
      result.reply = replyText(r);
      return;
    case 'reject':
      result.verdict = 'reject';
      result.reply = '550 5.7.1 Command rejected';
      return;
    case 'tempfail':
      result.verdict = 'tempfail';
      result.reply = '451 4.7.1 Service unavailable - try again later';
      return;
    case 'discard':
      result.verdict = 'discard';
      return;
    default:
      if (result.actions.some((a) => a.type === 'quarantine')) result.verdict = 'quarantine';
      else result.verdict = 'accept';
  }
}

/** Reply text of a refusal as the SMTP client would see it (multi-line joined with " / "). */
function replyText(r: FilterReply): string {
  if (r.type === 'replyCode') return r.text.split(/\r\n/).map((l, i) => (i === 0 ? l : l.replace(/^\d{3}[- ]/, ''))).join(' / ').replace(/^(\d{3})-/, '$1 ');
  if (r.type === 'reject') return '550 5.7.1 Command rejected';
  if (r.type === 'tempfail') return '451 4.7.1 Service unavailable - try again later';
  return r.type;
}

function collectModifications(mods: FilterReply[], result: ScanResult): void {
  const strip = (v: string) => v.replace(/^ /, '');
  for (const m of mods) {
    switch (m.type) {
      case 'addHeader':
        result.headers.push({ op: 'add', name: m.name, value: strip(m.value) });
        break;
      case 'insertHeader':
        result.headers.push({ op: 'insert', name: m.name, value: strip(m.value), index: m.index });
        break;
      case 'changeHeader':
        result.headers.push(m.value === '' ? { op: 'delete', name: m.name, index: m.index } : { op: 'change', name: m.name, value: strip(m.value), index: m.index });
        break;
      default:
        result.actions.push({ ...m });
    }
  }
}

const SEVERITY: Record<string, number> = { reject: 6, discard: 5, tempfail: 4, quarantine: 3 };

/** For refusals before end of message: what monitored hits would have done. */
function wouldBeOf(hits: readonly RuleHit[]): ScanVerdict | undefined {
  let best: RuleHit | undefined;
  for (const h of hits) {
    if (!h.monitor || SEVERITY[h.action] === undefined) continue;
    if (!best || SEVERITY[h.action]! > SEVERITY[best.action]!) best = h;
  }
  return best ? (best.action as ScanVerdict) : undefined;
}

function toRule(h: RuleHit): ScanRule {
  const r: ScanRule = { rule: h.rule, action: h.action, detail: h.detail };
  if (h.where) r.where = h.where;
  if (h.stage) r.stage = h.stage;
  if (h.score !== undefined) r.score = h.score;
  if (h.monitor) r.monitor = true;
  return r;
}

function safe(f: () => void): void {
  try {
    f();
  } catch {
    /* a failing close must not hide the verdict */
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
