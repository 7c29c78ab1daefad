// Rule family "recipient limits": rcpt.soft-limit (452 4.5.3 per recipient beyond N accepted ones)
// and rcpt.hard-limit (whole message refused at DATA when more than M recipients were attempted).
// Attempted = the larger of our own RCPT count and the engine's message.attemptedRecipients.
import type { RuleHit } from '../types.js';
import type { ConnectionConfig } from './config.js';
import { reply, ruleHit } from './hits.js';

const SOFT = reply(452, '4.5.3', 'Too many recipients (rcpt.soft-limit)');
const HARD = reply(550, '5.5.3', 'Too many recipients for one message (rcpt.hard-limit)');

/** `accepted` = recipients already accepted in this message (not counting the current one). */
export function softLimitHit(cfg: ConnectionConfig['recipients'], accepted: number, where: string): RuleHit | undefined {
  if (accepted < cfg.softLimit) return undefined;
  return ruleHit('rcpt.soft-limit', cfg.soft, SOFT, `more than ${cfg.softLimit} recipients`, where);
}

export function hardLimitHit(cfg: ConnectionConfig['recipients'], attempted: number): RuleHit | undefined {
  if (attempted <= cfg.hardLimit) return undefined;
  return ruleHit('rcpt.hard-limit', cfg.hard, HARD, `${attempted} recipients attempted, limit ${cfg.hardLimit}`);
}
