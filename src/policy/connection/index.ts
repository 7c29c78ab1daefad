// Layer 1 policy module (connection and envelope): wires the rule families (client lists, DNSBL, rDNS,
// HELO, sender, source routes, relay control, recipient limits, rates, unknown commands) to the SMTP
// stages and keeps per-session state keyed by sessionId. It only returns hits: the engine decides.
// It must never throw for bad input, never accept on a failed check, never hold state past close().
//
// Decisions (see also the .describe() texts in config.ts):
// - Stages: CONNECT decides client lists, rates/concurrency and starts DNSBL + FCrDNS lookups
//   concurrently; deny/DNSBL/rDNS hits are given at client.rejectAt (default MAIL: sendmail ignores
//   reply text at CONNECT). Rate/concurrency refusals are given at CONNECT at once (421 ends the session).
//   A refusal, once given, is given again at every later stage of the session (sticky); a refused HELO
//   is given again at MAIL/RCPT until a good HELO replaces it.
// - Session-level hits (client, DNSBL, rDNS, HELO) are emitted once per session; the engine is expected
//   to keep them for every message of the session (earlierHits), scores included.
// - client.allow: an 'accept' hit at CONNECT; this module then returns nothing for the session.
// - Trusted clients (internalNetworks; SMTP AUTH via {auth_authen} for relay and sender-domain checks)
//   skip DNSBL, rDNS, HELO, sender-domain and rate checks. No client address (unix socket, family
//   unknown): address-based checks do not apply, the rest do.
// - Relay control only when localDomains is non-empty; otherwise the MTA's own relay control decides.
// - Recipient limits: soft limit against message.recipients.length (accepted so far); hard limit against
//   max(own RCPT count, message.attemptedRecipients) at DATA, EOM as fallback when DATA is not seen.
// - Counter-store failures: rate.unavailable with rates.failAction (tempfail) — never accept.
// - DNS failures: tempfail for rules that would refuse, a 'log' hit for scoring rules and DNSBLs.
import type { Logger } from '../../log/logger.js';
import type { Resolver } from '../../dns/types.js';
import type { CounterStore } from '../../state/types.js';
import type { EomContext, PolicyModule, RcptContext, RuleHit, SessionFacts, StageContext, StageResult } from '../types.js';
import { NO_HITS } from '../types.js';
import { badText, CidrList, domainOf, normName, parseClientAddress, rateKeyOf, type IP } from './addr.js';
import { ClientLists } from './client-lists.js';
import type { ConnectionConfig } from './config.js';
import { Dnsbl } from './dnsbl.js';
import { heloHits } from './helo.js';
import { failHit, isBlocking, reply } from './hits.js';
import { Rates } from './rates.js';
import { hardLimitHit, softLimitHit } from './rcpt-limits.js';
import { rdnsHits, verifyRdns, type RdnsResult } from './rdns.js';
import { RelayControl } from './relay.js';
import { SenderChecks } from './sender.js';
import { newMessage, newSession, type SessionState } from './session.js';
import { sourceRouteHit } from './source-route.js';
import { unknownCommandsHit } from './unknown.js';

export { connectionConfigSchema, type ConnectionConfig } from './config.js';
export { ConnectionConfigError } from './errors.js';

export interface ConnectionDeps {
  resolver: Resolver;
  store: CounterStore;
  logger: Logger;
  /** Our own host names/addresses for the HELO check (added to config localNames, macro j, {daemon_addr}). */
  localNames?: string[];
  /** Clock (DNSBL canary scheduling). */
  now?: () => number;
}

/** The module plus a few handles for start-up and status output. */
export interface ConnectionPolicy extends PolicyModule {
  readonly id: 'connection';
  readonly layer: 'envelope';
  /** Run every DNSBL canary now (optional at start-up; otherwise the first session triggers it). */
  checkDnsblZones(): Promise<void>;
  dnsblStatus(): Record<string, 'unknown' | 'ok' | 'failed'>;
  /** Sessions with live state (tests, leak checks). */
  readonly activeSessions: number;
}

const STAGE_INDEX = { connect: 0, helo: 1, mail: 2 } as const;
const EMPTY: RuleHit[] = [];
const INPUT_CLIENT = reply(451, '4.3.0', 'Temporary local problem, try again later (input.client)');
const INPUT_ENVELOPE = reply(501, '5.5.4', 'Syntax error in parameters (input.envelope)');

const result = (hits: RuleHit[]): StageResult => (hits.length === 0 ? NO_HITS : { hits });

class Connection implements ConnectionPolicy {
  readonly id = 'connection' as const;
  readonly layer = 'envelope' as const;
  private readonly sessions = new Map<string, SessionState>();
  private readonly lists: ClientLists;
  private readonly internal: CidrList;
  private readonly dnsbl: Dnsbl;
  private readonly sender: SenderChecks;
  private readonly relay: RelayControl;
  private readonly rates: Rates;
  private readonly rejectIdx: number;
  private readonly ownNames = new Set<string>();
  private readonly ownAddresses: IP[] = [];
  private readonly rdnsOn: boolean;
  private readonly needRdns: boolean;
  private warnedNoOwnName = false;

  constructor(
    private readonly cfg: ConnectionConfig,
    private readonly deps: ConnectionDeps,
  ) {
    this.lists = new ClientLists(cfg.client);
    this.internal = new CidrList(cfg.internalNetworks, 'connection.internalNetworks');
    this.dnsbl = new Dnsbl(cfg.dnsbl, deps.resolver, deps.logger, deps.now);
    this.sender = new SenderChecks(cfg.sender);
    this.relay = new RelayControl(cfg.localDomains, cfg.relay);
    this.rates = new Rates(cfg.rates, deps.store, deps.logger);
    this.rejectIdx = STAGE_INDEX[cfg.client.rejectAt];
    for (const n of [...cfg.localNames, ...(deps.localNames ?? [])]) this.addOwn(n);
    this.rdnsOn = cfg.rdns.missing.action !== 'off' || cfg.rdns.mismatch.action !== 'off';
    this.needRdns = this.rdnsOn || cfg.helo.mismatch.action !== 'off';
  }

  get activeSessions(): number {
    return this.sessions.size;
  }

  checkDnsblZones(): Promise<void> {
    return this.dnsbl.checkAll();
  }

  dnsblStatus(): Record<string, 'unknown' | 'ok' | 'failed'> {
    return this.dnsbl.status();
  }

  private addOwn(n: string): void {
    const ip = parseClientAddress(n);
    if (ip !== undefined) this.ownAddresses.push(ip);
    else if (n.trim()) this.ownNames.add(normName(n));
  }

  // ---------------------------------------------------------------- stages

  async connect(ctx: StageContext): Promise<StageResult> {
    const s = ctx.session;
    const old = this.sessions.get(s.sessionId);
    if (old?.concurrencyKey !== undefined) this.rates.release(old.concurrencyKey, old.id);
    const st = newSession(s.sessionId);
    this.sessions.set(s.sessionId, st);
    const c = s.client;

    const host = typeof c.hostname === 'string' ? c.hostname : '';
    const badHost = badText(host);
    if (badHost !== undefined) st.deferred.push(this.inputClient(st, `client host name ${badHost}`));
    else st.hostname = verifiedHostname(host, s.macro('{client_resolve}'));

    if (c.family === 'inet4' || c.family === 'inet6') {
      const a = typeof c.address === 'string' ? c.address : '';
      const ip = badText(a) === undefined ? parseClientAddress(a) : undefined;
      if (ip === undefined) st.deferred.push(this.inputClient(st, `client address malformed or missing (family ${c.family})`));
      else st.ip = ip;
    }

    if (st.deferred.length === 0) {
      const allow = this.lists.allowed(st.ip, st.hostname);
      if (allow !== undefined) {
        st.accepted = true;
        return { hits: [allow] };
      }
      const deny = this.lists.denied(st.ip, st.hostname);
      if (deny !== undefined) st.deferred.push(deny);
    }
    if (st.ip !== undefined) st.internal = this.internal.has(st.ip);

    let hits = EMPTY;
    if (!st.deferred.some(isBlocking) && st.ip !== undefined && !st.internal) {
      st.rateKey = rateKeyOf(st.ip, this.cfg.rates.ipv6PrefixLength);
      if (this.rates.connectionChecks) {
        const r = await this.rates.connect(st.rateKey, st.id);
        st.concurrencyKey = r.slot;
        hits = r.hits;
        const b = hits.find(isBlocking);
        if (b !== undefined) {
          // DoS limits act at once (421 ends the session), whatever rejectAt says.
          st.block = b;
          st.flushed = true;
          return { hits: st.deferred.length ? [...st.deferred, ...hits] : hits };
        }
      }
      this.startDns(st, st.ip);
    }
    if (this.rejectIdx === 0) {
      const f = await this.flush(st);
      if (f.length) hits = hits.length ? [...hits, ...f] : f;
    }
    return result(hits);
  }

  async helo(ctx: StageContext): Promise<StageResult> {
    const st = await this.state(ctx);
    if (st.accepted) return NO_HITS;
    const pre = await this.prelude(st, 1);
    if (st.block !== undefined) return result(pre);
    st.heloBlock = undefined;
    if (st.internal) return result(pre);
    const helo = ctx.session.helo;
    let hits: RuleHit[];
    if (typeof helo !== 'string') {
      hits = [this.inputClient(st, 'HELO stage without a HELO name')];
    } else {
      const bad = badText(helo);
      if (bad !== undefined) {
        hits = [this.inputEnvelope(st, `HELO ${bad}`, 'helo')];
      } else {
        let rdns: RdnsResult | undefined;
        if (this.cfg.helo.mismatch.action !== 'off' && st.rdns !== undefined) rdns = await st.rdns;
        hits = heloHits(this.cfg.helo, { helo, clientIp: st.ip, ownNames: this.sessionOwnNames(ctx), ownAddresses: this.sessionOwnAddresses(ctx), rdns });
      }
    }
    st.heloBlock = hits.find(isBlocking);
    return result(pre.length ? [...pre, ...hits] : hits);
  }

  async mail(ctx: StageContext): Promise<StageResult> {
    const st = await this.state(ctx);
    if (st.accepted) return NO_HITS;
    st.msg = newMessage();
    const pre = await this.prelude(st, 2);
    if (st.block !== undefined) return result(pre);
    if (st.heloBlock !== undefined) return result([...pre, { ...st.heloBlock }]);
    const m = ctx.message;
    const sender = m.sender;
    if (typeof sender !== 'string') return result([...pre, this.inputClient(st, 'MAIL stage without a sender')]);
    const bad = badText(sender) ?? (m.senderRaw !== undefined ? badText(m.senderRaw) : undefined);
    if (bad !== undefined) return result([...pre, this.inputEnvelope(st, `sender address ${bad}`, 'mail from')]);

    const hits = pre.length ? [...pre] : [];
    const route = sourceRouteHit(this.cfg.sourceRoute, m.senderRaw, sender, 'mail from');
    if (route !== undefined) {
      hits.push(route);
      if (isBlocking(route)) return result(hits);
    }
    if (sender !== '') {
      const p = this.sender.pattern(sender);
      if (p !== undefined) {
        hits.push(p);
        if (isBlocking(p)) return result(hits);
      }
    }
    const trusted = st.internal || authenticated(ctx.session);
    const rate = st.rateKey !== undefined ? this.rates.message(st.rateKey, sender) : undefined;
    const dom = !trusted && sender !== '' && this.sender.domainCheckOn
      ? this.sender.domain(this.deps.resolver, domainOf(sender)).catch((e) => this.internalError('sender.dns-temp', e))
      : undefined;
    if (rate !== undefined) hits.push(...(await rate));
    if (dom !== undefined) {
      const h = await dom;
      if (h !== undefined) hits.push(h);
    }
    return result(hits);
  }

  async rcpt(ctx: RcptContext): Promise<StageResult> {
    const st = await this.state(ctx);
    if (st.accepted) return NO_HITS;
    st.msg.attempted++;
    const pre = await this.prelude(st, 3);
    if (st.block !== undefined) return result(pre);
    if (st.heloBlock !== undefined) return result([...pre, { ...st.heloBlock }]);
    const r = ctx.rcpt;
    const address = typeof r.address === 'string' ? r.address : '';
    const raw = typeof r.raw === 'string' ? r.raw : address;
    const bad = badText(address) ?? badText(raw);
    const where = bad === undefined ? `rcpt <${address.slice(0, 200)}>` : 'rcpt';
    if (bad !== undefined) return result([...pre, this.inputEnvelope(st, `recipient address ${bad}`, where)]);

    const hits = pre.length ? [...pre] : [];
    const route = sourceRouteHit(this.cfg.sourceRoute, raw, address, 'rcpt');
    if (route !== undefined) {
      hits.push(route);
      if (isBlocking(route)) return result(hits);
    }
    const soft = softLimitHit(this.cfg.recipients, ctx.message.recipients.length, where);
    if (soft !== undefined) {
      hits.push(soft);
      if (isBlocking(soft)) return result(hits);
    }
    if (this.relay.active && !st.internal && !authenticated(ctx.session)) {
      const h = this.relay.check(address, where);
      if (h !== undefined) hits.push(h);
    }
    if (st.rateKey !== undefined) hits.push(...(await this.rates.recipient(st.rateKey, ctx.message.sender ?? '', where)));
    return result(hits);
  }

  async data(ctx: StageContext): Promise<StageResult> {
    const st = await this.state(ctx);
    if (st.accepted) return NO_HITS;
    if (st.block !== undefined) return { hits: [{ ...st.block }] };
    return result(this.hardLimit(st, ctx));
  }

  eom(ctx: EomContext): StageResult {
    const st = this.sessions.get(ctx.session.sessionId);
    if (st === undefined || st.accepted || st.msg.hardChecked) return NO_HITS;
    return result(this.hardLimit(st, ctx));
  }

  async unknown(ctx: StageContext, command: string): Promise<StageResult> {
    const st = await this.state(ctx);
    if (st.accepted) return NO_HITS;
    st.unknown++;
    const n = Math.max(st.unknown, ctx.session.unknownCommands | 0);
    const h = unknownCommandsHit(this.cfg.unknownCommands, n);
    if (h === undefined) return NO_HITS;
    this.deps.logger.info({ session: st.id, rule: h.rule, count: n, command: String(command).slice(0, 64) }, 'unknown SMTP command limit exceeded');
    return { hits: [h] };
  }

  reset(session: SessionFacts): void {
    const st = this.sessions.get(session.sessionId);
    if (st !== undefined) st.msg = newMessage();
  }

  close(session: SessionFacts): void {
    const st = this.sessions.get(session.sessionId);
    if (st === undefined) return;
    if (st.concurrencyKey !== undefined) this.rates.release(st.concurrencyKey, st.id);
    this.sessions.delete(session.sessionId);
  }

  // ---------------------------------------------------------------- helpers

  /** Session state; if CONNECT was never seen (negotiated away, engine restart), build it now. */
  private async state(ctx: StageContext): Promise<SessionState> {
    const st = this.sessions.get(ctx.session.sessionId);
    if (st !== undefined) return st;
    this.deps.logger.debug({ session: ctx.session.sessionId }, 'connection policy: no CONNECT seen, evaluating client now');
    await this.connect(ctx);
    return this.sessions.get(ctx.session.sessionId)!;
  }

  /** Hits due before the checks of stage `idx`: a sticky refusal, or the deferred CONNECT decisions. */
  private async prelude(st: SessionState, idx: number): Promise<RuleHit[]> {
    if (st.block !== undefined) return [{ ...st.block }];
    if (!st.flushed && idx >= this.rejectIdx) return this.flush(st);
    return EMPTY;
  }

  private async flush(st: SessionState): Promise<RuleHit[]> {
    st.flushed = true;
    let hits = st.deferred;
    st.deferred = [];
    if (st.pending !== undefined) {
      const more = await st.pending;
      st.pending = undefined;
      if (more.length) hits = hits.length ? [...hits, ...more] : more;
    }
    const b = hits.find(isBlocking);
    if (b !== undefined) st.block = b;
    return hits;
  }

  /** Start DNSBL and FCrDNS lookups; their hits are given at client.rejectAt. */
  private startDns(st: SessionState, ip: IP): void {
    if (this.needRdns) {
      st.rdns = verifyRdns(this.deps.resolver, ip, this.cfg.rdns.maxNames).catch((e): RdnsResult => {
        this.deps.logger.error({ session: st.id, err: (e as Error)?.message }, 'rDNS check failed unexpectedly');
        return { status: 'temp', code: 'EXCEPTION' };
      });
    }
    const parts: Promise<RuleHit[]>[] = [];
    if (this.dnsbl.enabled) parts.push(this.dnsbl.check(ip).catch((e) => [this.internalError('dnsbl', e)]));
    if (this.rdnsOn && st.rdns !== undefined) parts.push(st.rdns.then((r) => rdnsHits(this.cfg.rdns, r, ip.toString())));
    if (parts.length === 1) st.pending = parts[0];
    else if (parts.length > 1) st.pending = Promise.all(parts).then((xs) => xs.flat());
  }

  private hardLimit(st: SessionState, ctx: StageContext): RuleHit[] {
    st.msg.hardChecked = true;
    const attempted = Math.max(st.msg.attempted, ctx.message.attemptedRecipients | 0);
    const h = hardLimitHit(this.cfg.recipients, attempted);
    return h === undefined ? EMPTY : [h];
  }

  private sessionOwnNames(ctx: StageContext): ReadonlySet<string> {
    const j = ctx.session.macro('j');
    if (j === undefined || j === '' || badText(j) !== undefined) {
      if (this.ownNames.size === 0 && !this.warnedNoOwnName) {
        this.warnedNoOwnName = true;
        this.deps.logger.warn({ rule: 'helo.own-name' }, 'macro j (MTA host name) missing and no localNames configured: helo.own-name can only check addresses');
      }
      return this.ownNames;
    }
    const n = normName(j);
    if (this.ownNames.has(n)) return this.ownNames;
    const s = new Set(this.ownNames);
    s.add(n);
    return s;
  }

  private sessionOwnAddresses(ctx: StageContext): readonly IP[] {
    let out: IP[] | undefined;
    for (const m of ['{daemon_addr}', '{if_addr}']) {
      const v = ctx.session.macro(m);
      const ip = v ? parseClientAddress(v) : undefined;
      // Wildcard listen addresses are not "our address" for this purpose.
      if (ip !== undefined && ip.range() !== 'unspecified') (out ??= [...this.ownAddresses]).push(ip);
    }
    return out ?? this.ownAddresses;
  }

  private inputClient(st: SessionState, detail: string): RuleHit {
    this.deps.logger.warn({ session: st.id, rule: 'input.client', detail }, 'bad client data from MTA; applying badInput.clientAction');
    return failHit('input.client', this.cfg.badInput.clientAction, INPUT_CLIENT, detail);
  }

  private inputEnvelope(st: SessionState, detail: string, where: string): RuleHit {
    this.deps.logger.warn({ session: st.id, rule: 'input.envelope', detail, where }, 'bad envelope input; applying badInput.envelopeAction');
    return failHit('input.envelope', this.cfg.badInput.envelopeAction, INPUT_ENVELOPE, detail, where);
  }

  private internalError(rule: string, e: unknown): RuleHit {
    this.deps.logger.error({ rule, err: (e as Error)?.message }, 'connection check failed unexpectedly');
    return failHit(rule, 'tempfail', reply(451, '4.3.0', `Temporary local problem (${rule})`), `check failed: ${(e as Error)?.message}`);
  }
}

/** The MTA-verified client name, or undefined for "unknown" / "[addr]" / names sendmail marks unverified. */
export function verifiedHostname(h: string, clientResolve: string | undefined): string | undefined {
  if (h === '' || h.charCodeAt(0) === 0x5b /* [ */ || h.toLowerCase() === 'unknown') return undefined;
  if (clientResolve !== undefined && clientResolve !== '' && clientResolve !== 'OK') return undefined;
  return normName(h);
}

function authenticated(s: SessionFacts): boolean {
  const a = s.macro('{auth_authen}');
  return a !== undefined && a !== '';
}

export function createConnectionPolicy(config: ConnectionConfig, deps: ConnectionDeps): ConnectionPolicy {
  if (!config.enabled) {
    return {
      id: 'connection',
      layer: 'envelope',
      checkDnsblZones: async () => undefined,
      dnsblStatus: () => ({}),
      activeSessions: 0,
    };
  }
  return new Connection(config, deps);
}

