// Prometheus metrics of a running Postern: an EngineObserver that counts messages, rule hits, check
// failures, sessions and stage latencies into its own prom-client registry, plus the reload counter
// and the abnormal-rejection watch. Counting only: it must never change a verdict or throw into the
// engine (every hook is wrapped).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from '../log/logger.js';
import type { PosternConfig } from '../config/schema.js';
import type { EngineObserver, MessageSummary, RefusalSummary } from '../policy/engine.js';
import type { RuleHit, Stage } from '../policy/types.js';
import { RejectionWatch } from './abnormal.js';

export type MetricsConfig = PosternConfig['metrics'];

/** Stage latency buckets (seconds): sub-millisecond list lookups up to content scans near the EOM timeout. */
export const STAGE_BUCKETS = [0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * What kind of check failed, from a hit's rule id and detail, or undefined when the hit is a finding,
 * not a failure. Failure hits are the ones carrying a fail action (or logged as "lookup failed").
 */
export function failureKind(hit: Pick<RuleHit, 'rule' | 'detail' | 'action'>): 'clamd' | 'dns' | 'store' | 'module' | undefined {
  const { rule, detail } = hit;
  if (rule === 'clamd.unavailable') return 'clamd';
  if (rule === 'sender.dns-temp') return 'dns';
  if (rule === 'rate.unavailable' || rule === 'outbound.permissions-unavailable') return 'store';
  if ((rule.startsWith('dnsbl.') || rule.startsWith('rdns.')) && /lookup failed/i.test(detail)) return 'dns';
  if (rule.endsWith('.error') || rule === 'dataleak.incomplete' || /^check failed:/.test(detail)) return 'module';
  return undefined;
}

/** Whether a failure detail describes a timeout (clamd CLAMD_TIMEOUT, DNS ETIMEOUT, a step budget). */
export function isTimeout(detail: string): boolean {
  return /timeout|timed out|took longer than/i.test(detail);
}

export class PosternMetrics implements EngineObserver {
  readonly registry = new Registry();
  private readonly messages: Counter<'verdict' | 'direction'>;
  private readonly refusals: Counter<'verdict' | 'stage'>;
  private readonly hits: Counter<'rule' | 'action' | 'monitor'>;
  private readonly failures: Counter<'rule' | 'kind' | 'timeout'>;
  private readonly stages: Histogram<'stage'>;
  private readonly active: Gauge;
  private readonly sessions: Counter;
  private readonly connectionTimeouts: Counter<'kind'>;
  private readonly reloads: Counter<'result'>;
  private readonly abnormalWarnings: Counter<'scope'>;
  readonly watch: RejectionWatch;

  constructor(
    config: MetricsConfig,
    private readonly logger: Logger,
    now: () => number = Date.now,
  ) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'postern_' });
    this.messages = new Counter({
      name: 'postern_messages_total',
      help: 'Messages decided, by verdict (accept, reject, tempfail, discard, quarantine) and direction; refusals before end of message included.',
      labelNames: ['verdict', 'direction'],
      registers,
    });
    this.refusals = new Counter({
      name: 'postern_early_refusals_total',
      help: 'Refusals before end of message (connect, helo, mail, or every rcpt refused), by verdict and stage.',
      labelNames: ['verdict', 'stage'],
      registers,
    });
    this.hits = new Counter({
      name: 'postern_rule_hits_total',
      help: 'Rule hits by rule id and action; monitor="true" for rules evaluated in monitor mode (counted, not acted on).',
      labelNames: ['rule', 'action', 'monitor'],
      registers,
    });
    this.failures = new Counter({
      name: 'postern_check_failures_total',
      help: 'Checks that could not run (clamd down or timing out, DNS failures, counter store errors, module errors), by rule id, kind (clamd, dns, store, module) and timeout ("true" when the failure was a timeout).',
      labelNames: ['rule', 'kind', 'timeout'],
      registers,
    });
    this.stages = new Histogram({
      name: 'postern_stage_duration_seconds',
      help: 'Time the policy took per milter stage (connect, helo, mail, rcpt, data, header, eoh, eom, unknown).',
      labelNames: ['stage'],
      buckets: STAGE_BUCKETS,
      registers,
    });
    this.active = new Gauge({ name: 'postern_active_sessions', help: 'Milter sessions open now.', registers });
    this.sessions = new Counter({ name: 'postern_sessions_total', help: 'Milter sessions opened since start.', registers });
    this.connectionTimeouts = new Counter({
      name: 'postern_connection_timeouts_total',
      help: 'Milter connections closed by a connection timer, by kind (first-frame: nothing complete after connecting; frame: a frame begun and not finished; idle: no frame between frames).',
      labelNames: ['kind'],
      registers,
    });
    for (const kind of ['first-frame', 'frame', 'idle']) this.connectionTimeouts.inc({ kind }, 0);
    this.reloads = new Counter({
      name: 'postern_config_reloads_total',
      help: 'Config reloads (SIGHUP / postern reload), by result (success, failure; on failure the old config stays).',
      labelNames: ['result'],
      registers,
    });
    this.abnormalWarnings = new Counter({
      name: 'postern_abnormal_rejection_warnings_total',
      help: 'Warnings logged because the rejection rate of one client network or rule jumped far above its baseline, by scope (network, rule).',
      labelNames: ['scope'],
      registers,
    });
    // Counters with known labels start at 0 so dashboards see them before the first event.
    this.reloads.inc({ result: 'success' }, 0);
    this.reloads.inc({ result: 'failure' }, 0);
    this.watch = new RejectionWatch(config.abnormal, logger, (w) => this.abnormalWarnings.inc({ scope: w.scope }), now);
  }

  /** Apply a reloaded config's abnormal-watch settings. */
  reconfigure(config: MetricsConfig): void {
    this.watch.reconfigure(config.abnormal);
  }

  /** Count a config reload attempt. */
  reloaded(ok: boolean): void {
    this.reloads.inc({ result: ok ? 'success' : 'failure' });
  }

  // ------------------------------------------------------------------ EngineObserver

  stageDone(stage: Stage, ms: number): void {
    this.guard(() => this.stages.observe({ stage }, ms / 1000));
  }

  hit(h: RuleHit): void {
    this.guard(() => {
      this.hits.inc({ rule: h.rule, action: h.action, monitor: h.monitor ? 'true' : 'false' });
      const kind = failureKind(h);
      if (kind) this.failures.inc({ rule: h.rule, kind, timeout: isTimeout(h.detail) ? 'true' : 'false' });
    });
  }

  messageDone(s: MessageSummary): void {
    this.guard(() => {
      this.messages.inc({ verdict: s.verdict, direction: s.direction });
      if (s.verdict === 'reject') this.watch.rejection(s.client.address, s.decidedBy);
    });
  }

  refused(r: RefusalSummary): void {
    this.guard(() => {
      this.messages.inc({ verdict: r.verdict, direction: r.direction });
      this.refusals.inc({ verdict: r.verdict, stage: r.stage });
      if (r.verdict === 'reject') this.watch.rejection(r.client.address, r.rule);
    });
  }

  sessionOpened(): void {
    this.guard(() => {
      this.active.inc();
      this.sessions.inc();
    });
  }

  sessionClosed(): void {
    this.guard(() => this.active.dec());
  }

  /** A connection timer closed a milter connection (ServerObserver). */
  connectionTimedOut(kind: string): void {
    this.guard(() => this.connectionTimeouts.inc({ kind }));
  }

  private guard(f: () => void): void {
    try {
      f();
    } catch (err) {
      this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'metrics update failed');
    }
  }
}
