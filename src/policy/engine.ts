// The policy engine: the milter handler behind every session. It keeps the session and message
// facts, asks each policy module at each stage, turns hits into SMTP answers (per recipient at RCPT,
// whole message at end of data), adds the trace header, and writes one summary log line per message.
// It must never accept a message whose checks failed: a module that throws yields the error action.
import { Action, MacroStage, Proto, formatReplyText, type FilterReply, type Wanted } from '../../codec/index.js';
import type { ConnectInfo, HandlerFactory, MilterHandler, SessionEnvironment, StepAnswer } from '../server/handler.js';
import type { Logger } from '../log/logger.js';
import { sessionErrorAction, type PolicyConfig } from './config.js';
import { MessageBuffer } from './message-buffer.js';
import { HitPolicy, replyFor, type Verdict } from './verdict.js';
import { formatTrace } from './trace.js';
import { normaliseClient, parsePath } from './address.js';
import type {
  Direction, EnvelopeChange, HeaderChange, HeaderField, MessageFacts, PolicyModule, Recipient, RuleHit,
  SessionFacts, Stage, StageContext, StageResult, SmtpReply,
} from './types.js';

export interface EngineOptions {
  policy: PolicyConfig;
  modules: readonly PolicyModule[];
  logger: Logger;
  spoolThresholdBytes: number;
  spoolDir: string;
  observer?: EngineObserver;
}

/** What metrics (or tests) can watch. */
export interface EngineObserver {
  stageDone?(stage: Stage, ms: number): void;
  hit?(hit: RuleHit): void;
  messageDone?(summary: MessageSummary): void;
  /** A message refused before end of message (connect/helo refusal, or MAIL/every RCPT refused). */
  refused?(refusal: RefusalSummary): void;
  sessionOpened?(): void;
  sessionClosed?(): void;
}

export interface MessageSummary {
  sessionId: string;
  queueId?: string;
  client: { name: string; address?: string };
  helo?: string;
  from?: string;
  rcpts: string[];
  direction: Direction;
  verdict: string;
  monitorVerdict?: string;
  reply?: string;
  score: number;
  rules: string[];
  /** Rule id of the hit that decided the verdict (absent for a plain accept). */
  decidedBy?: string;
  size: number;
  ms: number;
}

export interface RefusalSummary {
  stage: Stage;
  verdict: 'reject' | 'tempfail';
  rule: string;
  client: { name: string; address?: string };
  direction: Direction;
}

type Answer = StepAnswer;
const CONTINUE: Answer = Object.freeze({ final: { type: 'continue' } }) as Answer;

/** Macros Postern asks the MTA for, per stage (SMFIM_* lists in the negotiation). */
const SYMBOLS = [
  { stage: MacroStage.CONNECT, macros: ['j', '_', 'v', '{daemon_name}', '{daemon_addr}', '{if_addr}', '{client_addr}', '{client_name}', '{client_port}', '{client_ptr}', '{client_resolve}'] },
  { stage: MacroStage.HELO, macros: ['{tls_version}', '{cipher}', '{cipher_bits}', '{cert_subject}', '{cert_issuer}'] },
  { stage: MacroStage.ENVFROM, macros: ['i', '{auth_type}', '{auth_authen}', '{auth_author}', '{mail_addr}', '{mail_host}', '{mail_mailer}'] },
  { stage: MacroStage.ENVRCPT, macros: ['i', '{rcpt_addr}', '{rcpt_host}', '{rcpt_mailer}'] },
  { stage: MacroStage.DATA, macros: ['i'] },
  { stage: MacroStage.EOH, macros: ['i'] },
  { stage: MacroStage.EOM, macros: ['i', '{msg_id}', '{auth_authen}'] },
];

export class PolicyEngine implements HandlerFactory {
  readonly hitPolicy: HitPolicy;
  private readonly wantedFlags: Wanted;

  constructor(readonly options: EngineOptions) {
    this.hitPolicy = new HitPolicy(options.policy);
    this.wantedFlags = computeWanted(options.modules);
  }

  wanted(): Wanted {
    return this.wantedFlags;
  }

  create(env: SessionEnvironment): MilterHandler {
    return new EngineSession(this, env);
  }
}

function has(modules: readonly PolicyModule[], method: keyof PolicyModule): boolean {
  return modules.some((m) => typeof m[method] === 'function');
}

/** Request only the steps and answers the loaded modules need; everything else is NO* or NR_*. */
export function computeWanted(modules: readonly PolicyModule[]): Wanted {
  const needContent = modules.some((m) => m.needsContent === true);
  const needHeaders = needContent || has(modules, 'header') || has(modules, 'eoh') || has(modules, 'eom');
  let protocol = Proto.NR_HDR | Proto.NR_BODY;
  if (!has(modules, 'connect')) protocol |= Proto.NR_CONN;
  if (!has(modules, 'helo')) protocol |= Proto.NR_HELO;
  if (!has(modules, 'mail')) protocol |= Proto.NR_MAIL;
  if (!has(modules, 'rcpt')) protocol |= Proto.NR_RCPT;
  if (!has(modules, 'data')) protocol |= Proto.NR_DATA;
  if (!has(modules, 'eoh') && !has(modules, 'header')) protocol |= Proto.NR_EOH;
  if (has(modules, 'unknown')) {
    // answered
  } else protocol |= Proto.NOUNKNOWN | Proto.NR_UNKN;
  if (!needHeaders) protocol |= Proto.NOHDRS | Proto.NOEOH;
  else protocol |= Proto.HDR_LEADSPC;
  if (!needContent) protocol |= Proto.NOBODY;
  const actions =
    Action.ADDHDRS | Action.CHGHDRS | Action.QUARANTINE | Action.ADDRCPT | Action.DELRCPT | Action.CHGFROM | Action.ADDRCPT_PAR;
  return { actions, protocol, symbolLists: SYMBOLS };
}

class EngineSession implements MilterHandler {
  private readonly modules: readonly PolicyModule[];
  private readonly policy: PolicyConfig;
  private readonly log: Logger;
  private readonly facts: SessionFacts;
  private message: MessageFacts = newMessage();
  /** Bumped when the session gives a step up (timeout, failure): that step's late result is dropped. */
  private stepEpoch = 0;
  /** Hits of the connection (connect, helo, unknown): they count for every message of the session. */
  private sessionHits: RuleHit[] = [];
  /** Hits of the current message (mail .. eom), excluding per-recipient refusals. */
  private messageHits: RuleHit[] = [];
  /** Per-recipient refusals: shown in the trace, never turned into a message verdict. */
  private rcptRefusals: RuleHit[] = [];
  private headerChanges: HeaderChange[] = [];
  private envelopeChanges: EnvelopeChange[] = [];
  private suppressTrace = false;
  /** Layers a configured `accept` switched off: for the connection (CONNECT/HELO) or this message only. */
  private readonly acceptedLayers = new Set<PolicyModule['layer']>();
  private readonly messageAcceptedLayers = new Set<PolicyModule['layer']>();
  private buffer: MessageBuffer | undefined;
  private messageStart = 0;
  private inMessage = false;
  /** DATA (or a header) was seen for the current message. */
  private dataSeen = false;
  private lastRefusal: { hit: RuleHit; reply: SmtpReply } | undefined;
  private failed: string | undefined;

  constructor(
    private readonly engine: PolicyEngine,
    private readonly env: SessionEnvironment,
  ) {
    this.modules = engine.options.modules;
    this.policy = engine.options.policy;
    this.log = engine.options.logger;
    this.facts = {
      sessionId: env.sessionId,
      client: { hostname: 'unknown', family: 'unknown' },
      unknownCommands: 0,
      macro: (name: string) => env.macro(name),
    };
    engine.options.observer?.sessionOpened?.();
  }

  private context(): StageContext {
    return { session: this.facts, message: this.message, earlierHits: [...this.sessionHits, ...this.messageHits] };
  }

  /**
   * Ask every module that implements `stage`; a throwing module becomes an error-action hit.
   * A step whose message was aborted while it ran (the session timed it out, answered the error
   * action and moved on, or the connection ended) returns nothing and changes nothing: its hits,
   * header and recipient changes belong to no later message. The same holds for a step the session
   * gave up on (timed out and answered with the error action) within the same message.
   */
  private async run(stage: Stage, call: (m: PolicyModule) => StageResult | Promise<StageResult> | undefined): Promise<RuleHit[]> {
    const started = performance.now();
    const message = this.message;
    const epoch = this.stepEpoch;
    const skipped = (l: PolicyModule['layer']): boolean => this.acceptedLayers.has(l) || this.messageAcceptedLayers.has(l);
    const active = this.modules.filter((m) => !skipped(m.layer) || m.layer === 'content');
    // an accept at MAIL or later ends with its message: the next message of the session is checked again
    const accepted = stage === 'connect' || stage === 'helo' ? this.acceptedLayers : this.messageAcceptedLayers;
    const results = await Promise.all(
      active.map(async (m): Promise<[PolicyModule, StageResult | undefined]> => {
        try {
          return [m, await call(m)];
        } catch (err) {
          const detail = `check failed: ${err instanceof Error ? err.message : String(err)}`;
          this.log.error({ session: this.facts.sessionId, module: m.id, stage, err: detail }, 'policy module failed');
          return [m, { hits: [{ rule: `${m.id}.error`, action: this.policy.errorAction, detail }] }];
        }
      }),
    );
    if (this.message !== message || this.stepEpoch !== epoch) {
      this.log.warn({ session: this.facts.sessionId, stage }, 'policy step finished after it was given up; result dropped');
      return [];
    }
    const hits: RuleHit[] = [];
    for (const [m, r] of results) {
      if (!r) continue;
      const prepared = this.engine.hitPolicy.prepare(r.hits, stage);
      for (const h of prepared) {
        if (h.action === 'accept' && !h.monitor) accepted.add(m.layer);
        this.engine.options.observer?.hit?.(h);
      }
      hits.push(...prepared);
      if (r.direction) this.message.direction = r.direction;
      if (r.headerChanges) this.headerChanges.push(...r.headerChanges);
      if (r.envelopeChanges) this.envelopeChanges.push(...r.envelopeChanges);
      if (r.suppressTrace) this.suppressTrace = true;
    }
    this.engine.options.observer?.stageDone?.(stage, performance.now() - started);
    return hits;
  }

  /** Answer for a stage before end of message: refuse on reject/tempfail, otherwise continue. */
  private answer(hits: readonly RuleHit[]): Answer {
    const strongest = this.engine.hitPolicy.strongest(hits);
    if (!strongest || (strongest.action !== 'reject' && strongest.action !== 'tempfail')) return CONTINUE;
    const reply = replyFor(strongest);
    this.lastRefusal = { hit: strongest, reply };
    return { final: { type: 'replyCode', text: formatReplyText(reply) } };
  }

  async connect(info: ConnectInfo): Promise<Answer> {
    this.facts.client = normaliseClient(info);
    const hits = await this.run('connect', (m) => m.connect?.(this.context()));
    this.sessionHits.push(...hits);
    const answer = this.answer(hits);
    if (answer !== CONTINUE) this.logRefusal('connect');
    return answer;
  }

  async helo(name: string): Promise<Answer> {
    this.facts.helo = name;
    const hits = await this.run('helo', (m) => m.helo?.(this.context()));
    // A repeated HELO (after STARTTLS) replaces the earlier HELO's findings.
    this.sessionHits = this.sessionHits.filter((h) => h.stage !== 'helo').concat(hits);
    const answer = this.answer(hits);
    if (answer !== CONTINUE) this.logRefusal('helo');
    return answer;
  }

  async mail(args: string[]): Promise<Answer> {
    this.startMessage();
    const raw = args[0] ?? '';
    this.message.sender = parsePath(raw);
    this.message.senderRaw = raw;
    this.message.senderArgs = args.slice(1);
    this.message.queueId = this.env.macro('i');
    const hits = await this.run('mail', (m) => m.mail?.(this.context()));
    this.messageHits.push(...hits);
    return this.answer(hits);
  }

  async rcpt(args: string[]): Promise<Answer> {
    const message = this.message;
    const raw = args[0] ?? '';
    const rcpt: Recipient = {
      address: parsePath(raw),
      raw,
      args: args.slice(1),
      macros: {
        rcpt_mailer: this.env.macro('rcpt_mailer') ?? '',
        rcpt_host: this.env.macro('rcpt_host') ?? '',
        rcpt_addr: this.env.macro('rcpt_addr') ?? '',
      },
    };
    message.attemptedRecipients++;
    const epoch = this.stepEpoch;
    const hits = await this.run('rcpt', (m) => m.rcpt?.({ ...this.context(), rcpt }));
    // given up meanwhile (see run): the session answered already; this recipient is not added
    if (this.message !== message || this.stepEpoch !== epoch) return { final: { type: sessionErrorAction(this.policy) } };
    const answer = this.answer(hits);
    if (answer === CONTINUE) {
      message.recipients.push(rcpt); // the message this RCPT belonged to (see run)
      this.messageHits.push(...hits);
    } else {
      // The refusal concerns this recipient only; other hits of the stage still count for the message.
      const refusal = this.lastRefusal!.hit;
      this.rcptRefusals.push({ ...refusal, where: refusal.where ?? `rcpt ${raw}` });
      this.messageHits.push(...hits.filter((h) => h !== refusal && h.action !== 'reject' && h.action !== 'tempfail'));
    }
    return answer;
  }

  async data(): Promise<Answer> {
    this.dataSeen = true;
    this.message.queueId ??= this.env.macro('i');
    const hits = await this.run('data', (m) => m.data?.(this.context()));
    this.messageHits.push(...hits);
    return this.answer(hits);
  }

  async header(name: string, value: string, raw: Buffer): Promise<Answer> {
    if (!this.inMessage) this.startMessage();
    const field: HeaderField = { name, value };
    this.message.headers.push(field);
    this.ensureBuffer().addHeader(name, raw);
    if (this.modules.some((m) => m.header)) {
      const hits = await this.run('header', (m) => m.header?.(this.context(), field));
      this.messageHits.push(...hits);
    }
    return CONTINUE; // headers are never answered (NR_HDR); their hits act at EOH or end of message
  }

  async eoh(): Promise<Answer> {
    this.message.queueId ??= this.env.macro('i');
    this.ensureBuffer().endHeaders();
    const hits = await this.run('eoh', (m) => m.eoh?.(this.context()));
    this.messageHits.push(...hits);
    return this.answer(this.messageHits.filter((h) => h.stage === 'header' || h.stage === 'eoh'));
  }

  body(chunk: Buffer): Answer {
    this.ensureBuffer().addBody(chunk);
    return CONTINUE;
  }

  async unknown(line: string): Promise<Answer> {
    this.facts.unknownCommands++;
    const hits = await this.run('unknown', (m) => m.unknown?.(this.context(), line));
    for (const h of hits) h.where ??= 'unknown command';
    this.sessionHits.push(...hits);
    return this.answer(hits);
  }

  async eom(): Promise<Answer> {
    this.message.queueId ??= this.env.macro('i');
    const source = this.ensureBuffer();
    const message = this.message;
    const epoch = this.stepEpoch;
    const eomHits = await this.run('eom', (m) => m.eom?.({ ...this.context(), source }));
    // Aborted or given up meanwhile (see run): the session already answered; never decide on other facts.
    if (this.message !== message || this.stepEpoch !== epoch) return { final: { type: sessionErrorAction(this.policy) } };
    this.messageHits.push(...eomHits);
    if (this.message.sender === undefined) {
      // End of message without MAIL FROM: no MTA does this; never pass such a message unchecked.
      this.messageHits.push({ rule: 'protocol.no-envelope', action: this.policy.errorAction, detail: 'end of message without MAIL FROM', stage: 'eom' });
    }
    const hits = [...this.sessionHits, ...this.messageHits];
    const verdict = this.engine.hitPolicy.decide(hits);
    const answer = this.buildAnswer(verdict, hits);
    this.summarise(verdict, hits, answer);
    this.inMessage = false;
    return answer;
  }

  private buildAnswer(verdict: Verdict, hits: readonly RuleHit[]): Answer {
    switch (verdict.action) {
      case 'reject':
      case 'tempfail':
        return { final: { type: 'replyCode', text: formatReplyText(verdict.reply!) } };
      case 'discard':
        return { final: { type: 'discard' } };
      case 'accept':
      case 'quarantine': {
        const mods = this.modifications(verdict, hits);
        if (verdict.action === 'quarantine') {
          const by = verdict.decidedBy!;
          mods.push({ type: 'quarantine', reason: `postern ${by.rule}: ${by.detail}`.slice(0, 100) });
        }
        const allowed = this.allowed(mods);
        if (allowed.length < mods.length && mods.some((m) => !allowed.includes(m) && m.type !== 'addHeader')) {
          // A hold, a recipient removal or a header hiding the policy asked for cannot be carried
          // out: delivering anyway would pass the message without it. Answer the error action.
          this.log.error({ session: this.facts.sessionId }, 'a required modification is not allowed by the MTA; answering with the error action');
          return { final: { type: sessionErrorAction(this.policy) } };
        }
        return { final: { type: 'accept' }, modifications: allowed };
      }
    }
  }

  /** Header and envelope changes to send at end of message, in an order that keeps indexes valid. */
  private modifications(verdict: Verdict, hits: readonly RuleHit[]): FilterReply[] {
    const leadingSpace = (this.env.protocol() & Proto.HDR_LEADSPC) !== 0;
    const v = (value: string) => (leadingSpace && value !== '' && !/^[ \t]/.test(value) ? ` ${value}` : value);
    const mods: FilterReply[] = [];
    for (const c of this.headerChanges) {
      if (c.kind === 'add') mods.push({ type: 'addHeader', name: c.name, value: v(c.value) });
      else if (c.kind === 'insert') mods.push({ type: 'insertHeader', index: c.index, name: c.name, value: v(c.value) });
      else mods.push({ type: 'changeHeader', index: c.index, name: c.name, value: v(c.value) });
    }
    for (const c of this.envelopeChanges) {
      if (c.kind === 'delRcpt') mods.push({ type: 'delRcpt', rcpt: c.address });
      else if (c.kind === 'addRcpt') mods.push(c.args ? { type: 'addRcptPar', rcpt: c.address, args: c.args } : { type: 'addRcpt', rcpt: c.address });
      else mods.push(c.args ? { type: 'changeFrom', from: c.address, args: c.args } : { type: 'changeFrom', from: c.address });
    }
    const { scoring, trace } = this.policy;
    // Headers that look like ours but came with the message are forgeries: remove them (last first,
    // so Postfix's index shifting cannot hit the wrong one) before adding the real ones.
    for (const name of [trace.header, scoring.headerName]) {
      const lower = name.toLowerCase();
      // Obsolete syntax allows white space before the colon ("X-Postern :"): readers take it as ours.
      // MTAs count header indexes case-insensitively by name.
      const count = this.message.headers.filter((h) => h.name.trimEnd().toLowerCase() === lower).length;
      for (let i = count; i >= 1; i--) mods.push({ type: 'changeHeader', index: i, name, value: '' });
    }
    if (verdict.score >= scoring.header) {
      mods.push({ type: 'addHeader', name: scoring.headerName, value: v(`${verdict.score} (threshold ${scoring.header})`) });
    }
    if (trace.enabled && !this.suppressTrace) {
      mods.push({ type: 'addHeader', name: trace.header, value: v(this.traceValue(verdict, hits)) });
    }
    return mods;
  }

  /** Drop modifications the MTA did not allow us (the caller refuses the message if one mattered). */
  private allowed(mods: FilterReply[]): FilterReply[] {
    const acts = this.env.actions();
    const need: Partial<Record<FilterReply['type'], number>> = {
      addHeader: Action.ADDHDRS, insertHeader: Action.ADDHDRS, changeHeader: Action.CHGHDRS, quarantine: Action.QUARANTINE,
      addRcpt: Action.ADDRCPT, addRcptPar: Action.ADDRCPT_PAR, delRcpt: Action.DELRCPT, changeFrom: Action.CHGFROM,
    };
    return mods.filter((m) => {
      const flag = need[m.type];
      if (flag === undefined || (acts & flag) !== 0) return true;
      this.log.warn({ session: this.facts.sessionId, modification: m.type }, 'MTA did not allow this modification; skipped');
      return false;
    });
  }

  private traceValue(verdict: Verdict, hits: readonly RuleHit[]): string {
    return formatTrace({
      verdict: verdict.action,
      wouldBe: verdict.wouldBe,
      direction: this.message.direction ?? 'inbound',
      score: verdict.score,
      hits: [...hits, ...this.rcptRefusals],
      sessionId: this.facts.sessionId,
      ...(verdict.decidedBy ?? verdict.wouldBeBy ? { decidedBy: (verdict.decidedBy ?? verdict.wouldBeBy)!.rule } : {}),
    });
  }

  private summarise(verdict: Verdict, hits: readonly RuleHit[], answer: Answer): void {
    const summary: MessageSummary = {
      sessionId: this.facts.sessionId,
      client: { name: this.facts.client.hostname, ...(this.facts.client.address ? { address: this.facts.client.address } : {}) },
      from: this.message.sender ?? '',
      rcpts: this.message.recipients.map((r) => r.address),
      direction: this.message.direction ?? 'inbound',
      verdict: verdict.action,
      score: verdict.score,
      rules: [...hits, ...this.rcptRefusals].map((h) => `${h.rule}${h.monitor ? '(monitor)' : ''}`),
      size: this.buffer?.size ?? 0,
      ms: Math.round((performance.now() - this.messageStart) * 100) / 100,
    };
    if (this.message.queueId) summary.queueId = this.message.queueId;
    if (this.facts.helo !== undefined) summary.helo = this.facts.helo;
    if (verdict.wouldBe !== verdict.action) summary.monitorVerdict = verdict.wouldBe;
    if (verdict.decidedBy) summary.decidedBy = verdict.decidedBy.rule;
    if (answer.final.type === 'replyCode') summary.reply = answer.final.text;
    if (this.failed) summary.rules.push(`error:${this.failed}`);
    this.log.info({ msg: 'message', ...summary, details: hits.filter((h) => h.action !== 'log' || h.monitor).slice(0, 50).map(brief) });
    this.engine.options.observer?.messageDone?.(summary);
  }

  /** Summary line for a connection refused before any message (connect/helo). */
  private logRefusal(stage: Stage): void {
    const r = this.lastRefusal!;
    this.log.info({
      msg: 'connection refused',
      sessionId: this.facts.sessionId,
      stage,
      client: { name: this.facts.client.hostname, address: this.facts.client.address },
      helo: this.facts.helo,
      verdict: r.hit.action,
      reply: `${r.reply.code} ${r.reply.enhanced}`,
      rules: [r.hit.rule],
      details: [brief(r.hit)],
    });
    this.observeRefusal(stage, r.hit);
  }

  private observeRefusal(stage: Stage, hit: RuleHit): void {
    this.engine.options.observer?.refused?.({
      stage,
      verdict: hit.action === 'tempfail' ? 'tempfail' : 'reject',
      rule: hit.rule,
      client: { name: this.facts.client.hostname, ...(this.facts.client.address ? { address: this.facts.client.address } : {}) },
      direction: this.message.direction ?? 'inbound',
    });
  }

  private ensureBuffer(): MessageBuffer {
    if (!this.buffer) {
      const leadingSpace = (this.env.protocol() & Proto.HDR_LEADSPC) !== 0;
      this.buffer = new MessageBuffer(this.engine.options.spoolThresholdBytes, this.engine.options.spoolDir, leadingSpace);
    }
    return this.buffer;
  }

  private startMessage(): void {
    if (this.inMessage) this.abort();
    this.inMessage = true;
    this.messageStart = performance.now();
  }

  stepFailed(step: string, error: unknown): void {
    this.stepEpoch++;
    this.failed = `${step}: ${error instanceof Error ? error.message : String(error)}`;
  }

  abort(): void {
    if (this.inMessage && (this.buffer || this.dataSeen) && !(this.lastRefusal && this.message.recipients.length === 0)) {
      // The message ended before end of data (client gone mid-DATA, RSET after DATA, MTA abort):
      // nothing was delivered; say so once, with what was known.
      this.log.info({
        msg: 'message',
        sessionId: this.facts.sessionId,
        queueId: this.message.queueId,
        client: { name: this.facts.client.hostname, address: this.facts.client.address },
        helo: this.facts.helo,
        from: this.message.sender,
        rcpts: this.message.recipients.map((r) => r.address),
        verdict: 'aborted',
        detail: 'the message ended before end of data; nothing was delivered',
        size: this.buffer?.size ?? 0,
        ms: Math.round((performance.now() - this.messageStart) * 100) / 100,
      });
    } else if (this.inMessage && this.lastRefusal && this.message.recipients.length === 0) {
      // The message ended before DATA because it (or every recipient) was refused: log it once.
      const r = this.lastRefusal;
      this.log.info({
        msg: 'message',
        sessionId: this.facts.sessionId,
        client: { name: this.facts.client.hostname, address: this.facts.client.address },
        helo: this.facts.helo,
        from: this.message.sender,
        rcpts: [],
        verdict: r.hit.action,
        reply: `${r.reply.code} ${r.reply.enhanced}`,
        rules: [...this.messageHits, ...this.rcptRefusals].map((h) => h.rule),
        details: [...this.messageHits, ...this.rcptRefusals].slice(0, 50).map(brief),
        ms: Math.round((performance.now() - this.messageStart) * 100) / 100,
      });
      this.observeRefusal(r.hit.stage ?? 'rcpt', r.hit);
    }
    for (const m of this.modules) {
      try {
        m.reset?.(this.facts);
      } catch (err) {
        this.log.error({ module: m.id, err: String(err) }, 'module reset failed');
      }
    }
    this.buffer?.dispose();
    this.buffer = undefined;
    this.message = newMessage();
    this.messageAcceptedLayers.clear();
    this.messageHits = [];
    this.rcptRefusals = [];
    this.headerChanges = [];
    this.envelopeChanges = [];
    this.suppressTrace = false;
    this.lastRefusal = undefined;
    this.failed = undefined;
    this.inMessage = false;
    this.dataSeen = false;
  }

  close(): void {
    if (this.inMessage) this.abort();
    this.buffer?.dispose();
    for (const m of this.modules) {
      try {
        m.close?.(this.facts);
      } catch (err) {
        this.log.error({ module: m.id, err: String(err) }, 'module close failed');
      }
    }
    this.engine.options.observer?.sessionClosed?.();
  }
}

function newMessage(): MessageFacts {
  return { senderArgs: [], recipients: [], attemptedRecipients: 0, headers: [] };
}

function brief(h: RuleHit): Record<string, unknown> {
  const out: Record<string, unknown> = { rule: h.rule, action: h.action, detail: h.detail };
  if (h.score !== undefined) out.score = h.score;
  if (h.where) out.where = h.where;
  if (h.stage) out.stage = h.stage;
  if (h.monitor) out.monitor = true;
  return out;
}
