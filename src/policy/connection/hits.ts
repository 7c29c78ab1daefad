// Building RuleHits from rule config: action, score, reply with the class fitted to the action.
// Must never produce a reject with a 4xx reply or a tempfail with a 5xx one (MTAs refuse such replies).
import type { RuleAction, RuleHit, SmtpReply } from '../types.js';
import type { ConfiguredAction } from '../../config/common.js';

export interface RuleCfg {
  action: ConfiguredAction;
  score: number;
  reply?: SmtpReply | undefined;
}

/** Make a reply fit the action's class: 5xx for reject, 4xx for tempfail. */
export function fitReply(reply: SmtpReply, action: RuleAction): SmtpReply {
  if (action === 'tempfail' && reply.code >= 500) {
    return { code: 451, enhanced: '4' + reply.enhanced.slice(1), text: reply.text };
  }
  if (action === 'reject' && reply.code < 500) {
    return { code: 550, enhanced: '5' + reply.enhanced.slice(1), text: reply.text };
  }
  return reply;
}

/** The hit for rule `id` per its config, or undefined when the rule is off. */
export function ruleHit(
  id: string,
  cfg: RuleCfg,
  defaultReply: SmtpReply,
  detail: string,
  where?: string,
): RuleHit | undefined {
  const action = cfg.action;
  if (action === 'off') return undefined;
  const hit: RuleHit = { rule: id, action, detail };
  if (where !== undefined) hit.where = where;
  if (action === 'score') hit.score = cfg.score;
  else if (action === 'reject' || action === 'tempfail') hit.reply = fitReply(cfg.reply ?? defaultReply, action);
  return hit;
}

/** A hit for a check that could not run: the fail action (tempfail/reject/quarantine). */
export function failHit(
  id: string,
  action: 'tempfail' | 'reject' | 'quarantine',
  reply: SmtpReply,
  detail: string,
  where?: string,
): RuleHit {
  const hit: RuleHit = { rule: id, action, detail };
  if (where !== undefined) hit.where = where;
  if (action !== 'quarantine') hit.reply = fitReply(reply, action);
  return hit;
}

/** A log-only hit (shown in the trace, no effect). */
export function logHit(id: string, detail: string, where?: string): RuleHit {
  const hit: RuleHit = { rule: id, action: 'log', detail };
  if (where !== undefined) hit.where = where;
  return hit;
}

export const isBlocking = (h: RuleHit): boolean => h.action === 'reject' || h.action === 'tempfail';

export const reply = (code: number, enhanced: string, text: string): SmtpReply => ({ code, enhanced, text });
