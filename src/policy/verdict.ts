// Turns rule hits into one verdict: monitor and disabled patterns, severity order, score thresholds,
// and the SMTP reply (every reply names the rule that caused it).
import type { PolicyConfig } from './config.js';
import type { RuleAction, RuleHit, SmtpReply } from './types.js';

export type FinalAction = 'accept' | 'reject' | 'tempfail' | 'discard' | 'quarantine';

export interface Verdict {
  action: FinalAction;
  /** The hit that decided (absent for a plain accept). */
  decidedBy?: RuleHit;
  reply?: SmtpReply;
  score: number;
  /** What would have happened without monitor mode (differs from action only then). */
  wouldBe: FinalAction;
  /** The hit that would have decided, when monitor mode changed the outcome. */
  wouldBeBy?: RuleHit;
}

/** Severity: the most severe acting hit wins. Discard beats tempfail: it is a deliberate decision. */
const SEVERITY: Record<RuleAction, number> = { reject: 6, discard: 5, tempfail: 4, quarantine: 3, score: 1, log: 0, accept: 0 };

/** Compiled rule-id patterns: exact ids or prefixes written "family.*". */
export class RulePatterns {
  private readonly exact = new Set<string>();
  private readonly prefixes: string[] = [];
  constructor(patterns: readonly string[]) {
    for (const p of patterns) {
      if (p === '*') this.prefixes.push('');
      else if (p.endsWith('.*')) this.prefixes.push(p.slice(0, -1));
      else this.exact.add(p);
    }
  }
  matches(rule: string): boolean {
    if (this.exact.has(rule)) return true;
    for (const p of this.prefixes) if (rule.startsWith(p)) return true;
    return false;
  }
}

export class HitPolicy {
  private readonly monitor: RulePatterns;
  private readonly disabled: RulePatterns;
  constructor(private readonly config: PolicyConfig) {
    this.monitor = new RulePatterns(config.mode === 'monitor' ? ['*'] : config.monitor);
    this.disabled = new RulePatterns(config.disabled);
  }

  /** Drop disabled hits and mark monitored ones; returns new objects, never mutates input. */
  prepare(hits: readonly RuleHit[], stage: RuleHit['stage']): RuleHit[] {
    const out: RuleHit[] = [];
    for (const h of hits) {
      if (this.disabled.matches(h.rule)) continue;
      const monitor = h.monitor === true || this.monitor.matches(h.rule);
      out.push({ ...h, stage: h.stage ?? stage, ...(monitor ? { monitor: true } : {}) });
    }
    return out;
  }

  /** The most severe hit that acts (reject/tempfail/discard/quarantine), ignoring monitored ones. */
  strongest(hits: readonly RuleHit[], includeMonitored = false): RuleHit | undefined {
    let best: RuleHit | undefined;
    for (const h of hits) {
      if (h.monitor && !includeMonitored) continue;
      if (SEVERITY[h.action] < 3) continue;
      if (!best || SEVERITY[h.action] > SEVERITY[best.action]) best = h;
    }
    return best;
  }

  score(hits: readonly RuleHit[], includeMonitored = false): number {
    let s = 0;
    for (const h of hits) if (h.action === 'score' && (includeMonitored || !h.monitor)) s += h.score ?? 0;
    return Math.round(s * 100) / 100;
  }

  /** The verdict for a whole message at end of data. */
  decide(hits: readonly RuleHit[]): Verdict {
    const real = this.decideOnce(hits, false);
    const would = this.decideOnce(hits, true);
    const verdict: Verdict = { ...real, wouldBe: would.action };
    if (would.action !== real.action && would.decidedBy) verdict.wouldBeBy = would.decidedBy;
    return verdict;
  }

  private decideOnce(hits: readonly RuleHit[], includeMonitored: boolean): Omit<Verdict, 'wouldBe'> {
    const score = this.score(hits, includeMonitored);
    const strongest = this.strongest(hits, includeMonitored);
    const { scoring } = this.config;
    let decided = strongest;
    if (!decided || SEVERITY[decided.action] < SEVERITY.reject) {
      const scoreHit = scoreVerdict(score, scoring.reject, scoring.quarantine);
      if (scoreHit && (!decided || SEVERITY[scoreHit.action] > SEVERITY[decided.action])) decided = scoreHit;
    }
    if (!decided) return { action: 'accept', score };
    const action = decided.action as FinalAction;
    const result: Omit<Verdict, 'wouldBe'> = { action, decidedBy: decided, score };
    if (action === 'reject' || action === 'tempfail') result.reply = replyFor(decided);
    return result;
  }
}

function scoreVerdict(score: number, reject: number, quarantine: number): RuleHit | undefined {
  if (score >= reject) {
    return { rule: 'score.reject', action: 'reject', detail: `message score ${score} reached the reject threshold ${reject}`, reply: { code: 550, enhanced: '5.7.1', text: 'Message refused as spam' } };
  }
  if (score >= quarantine) return { rule: 'score.quarantine', action: 'quarantine', detail: `message score ${score} reached the quarantine threshold ${quarantine}` };
  return undefined;
}

/** The SMTP reply for a reject/tempfail hit: its own or a default, always naming the rule id. */
export function replyFor(hit: RuleHit): SmtpReply {
  const base: SmtpReply =
    hit.reply ??
    (hit.action === 'tempfail'
      ? { code: 451, enhanced: '4.7.1', text: 'Temporary failure, please try again later' }
      : { code: 550, enhanced: '5.7.1', text: 'Message refused by policy' });
  const lines = typeof base.text === 'string' ? [base.text] : [...base.text];
  const last = lines[lines.length - 1] ?? '';
  if (!last.includes(hit.rule)) lines[lines.length - 1] = `${last} (${hit.rule})`.trim();
  // The class of the code must match the action, whatever a rule file said.
  if (hit.action === 'tempfail' && base.code >= 500) return { code: 451, enhanced: '4.7.1', text: lines };
  if (hit.action === 'reject' && base.code < 500) return { code: 550, enhanced: '5.7.1', text: lines };
  return { ...base, text: lines.length === 1 ? lines[0]! : lines };
}
