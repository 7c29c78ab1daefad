// Rule family "route": route.source-route for "<@a,@b:user@c>" in MAIL FROM or RCPT TO.
import type { RuleHit } from '../types.js';
import { isSourceRoute } from './addr.js';
import type { RuleCfg } from './hits.js';
import { reply, ruleHit } from './hits.js';

const MAIL = reply(553, '5.1.7', 'Source routes are not accepted (route.source-route)');
const RCPT = reply(553, '5.1.3', 'Source routes are not accepted (route.source-route)');

export function sourceRouteHit(cfg: RuleCfg, raw: string | undefined, address: string, where: 'mail from' | 'rcpt'): RuleHit | undefined {
  if (!isSourceRoute(raw) && !isSourceRoute(address)) return undefined;
  return ruleHit('route.source-route', cfg, where === 'rcpt' ? RCPT : MAIL, 'source-routed address', where);
}
