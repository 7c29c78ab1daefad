// Rule family "unknown commands": smtp.unknown-commands once a session sent more than N commands the
// MTA did not know (SMFIC_UNKNOWN). Default reply 421 so the MTA ends the session.
import type { RuleHit } from '../types.js';
import type { ConnectionConfig } from './config.js';
import { reply, ruleHit } from './hits.js';

const TOO_MANY = reply(421, '4.7.0', 'Too many unknown commands, closing connection (smtp.unknown-commands)');

export function unknownCommandsHit(cfg: ConnectionConfig['unknownCommands'], count: number): RuleHit | undefined {
  if (count <= cfg.limit) return undefined;
  return ruleHit('smtp.unknown-commands', cfg.rule, TOO_MANY, `${count} unknown commands (limit ${cfg.limit})`);
}
