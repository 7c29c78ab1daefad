// Turns a MIME/RFC rule that fired into a RuleHit using the rule's configured action (the shared
// ambiguity verdict for action "ambiguity"). Knows nothing about parsing.
import type { RuleHit } from '../../policy/types.js';
import type { MimeConfig, MimeRuleAction } from './config.js';

export type RuleKey = {
  [K in keyof MimeConfig]: MimeConfig[K] extends { action: MimeRuleAction } ? K : never;
}[keyof MimeConfig];

export class HitSink {
  readonly hits: RuleHit[] = [];
  private readonly seen = new Map<string, number>();
  constructor(private readonly config: MimeConfig) {}

  /** Records a hit of `key` as rule id `rule`; at most 5 hits per rule id (the rest are counted in detail). */
  add(key: RuleKey, rule: string, detail: string, where?: string): void {
    const r = this.config[key] as { action: MimeRuleAction; score: number };
    if (r.action === 'off') return;
    const n = (this.seen.get(rule) ?? 0) + 1;
    this.seen.set(rule, n);
    if (n > 5) {
      const first = this.hits.find((h) => h.rule === rule);
      if (first) first.detail = first.detail.replace(/ \(\+\d+ more\)$/, '') + ` (+${n - 1} more)`;
      return;
    }
    let hit: RuleHit;
    if (r.action === 'ambiguity') {
      const a = this.config.ambiguity;
      hit = { rule, action: a.action, detail };
      if (a.action === 'score') hit.score = a.score;
      if (a.action === 'reject') hit.reply = a.reply;
    } else {
      hit = { rule, action: r.action, detail };
      if (r.action === 'score') hit.score = r.score;
      if (r.action === 'reject') hit.reply = this.config.malformedReply;
    }
    if (where !== undefined) hit.where = where;
    this.hits.push(hit);
  }

  has(rule: string): boolean {
    return this.seen.has(rule);
  }
}
