// Decides the direction of a message (inbound / outbound / internal) and whether each recipient is
// local or outside, from session facts only (client address, SASL login, MTA daemon, recipient macros).
// Pure: no I/O, no state; never throws for odd macros (they just do not match).
//
// Rule (documented in the config schema as well):
//  * origin "ours"  = client address in internalNetworks, or {auth_authen} set (authenticatedIsInternal),
//                     or {daemon_name} in submissionDaemons. Otherwise origin is "outside".
//  * recipient local = its domain is in localDomains when those are configured; otherwise from the
//                     {rcpt_mailer} macro: Postfix local/virtual/relay/lmtp, sendmail local/prog/*file*/*include*
//                     are local; any other mailer is outside; no macro and no localDomains = "unknown".
//  * direction      = origin outside -> inbound; origin ours and any recipient outside/unknown -> outbound;
//                     origin ours and every recipient local -> internal (also before the first RCPT).
import type { Direction, Recipient, SessionFacts } from '../types.js';
import { CidrSet, DomainList, domainOf } from './addr.js';
import type { OutboundConfig } from './config.js';

export type RecipientClass = 'local' | 'outside' | 'unknown';
export type OriginReason = 'network' | 'auth' | 'daemon' | 'outside';

export interface Origin {
  ours: boolean;
  reason: OriginReason;
  /** SASL login name when the client authenticated. */
  login?: string;
}

export interface DirectionFacts {
  origin(session: SessionFacts): Origin;
  classifyRecipient(rcpt: Pick<Recipient, 'address' | 'macros'>, session: SessionFacts): RecipientClass;
  decide(session: SessionFacts, recipients: readonly Pick<Recipient, 'address' | 'macros'>[]): Direction;
  /** The MTA flavour in use for {rcpt_mailer} interpretation. */
  mtaOf(session: SessionFacts): 'postfix' | 'sendmail';
  readonly localDomains: DomainList;
}

function macroValue(macros: Readonly<Record<string, string>>, name: string): string | undefined {
  return macros[`{${name}}`] ?? macros[name];
}

export function createDirectionFacts(config: OutboundConfig): DirectionFacts {
  const networks = new CidrSet(config.internalNetworks);
  const daemons = new Set(config.submissionDaemons.map((d) => d.toLowerCase()));
  const localDomains = new DomainList(config.localDomains);
  const postfixLocal = new Set(config.localMailers.postfix.map((m) => m.toLowerCase()));
  const sendmailLocal = new Set(config.localMailers.sendmail.map((m) => m.toLowerCase()));

  const mtaOf = (session: SessionFacts): 'postfix' | 'sendmail' => {
    if (config.mta !== 'auto') return config.mta;
    const v = session.macro('v') ?? '';
    return /^postfix/i.test(v.trim()) ? 'postfix' : 'sendmail';
  };

  const origin = (session: SessionFacts): Origin => {
    const login = session.macro('{auth_authen}')?.trim() || undefined;
    if (networks.has(session.client.address)) return { ours: true, reason: 'network', login };
    if (login && config.authenticatedIsInternal) return { ours: true, reason: 'auth', login };
    const daemon = session.macro('{daemon_name}')?.trim().toLowerCase();
    if (daemon && daemons.has(daemon)) return { ours: true, reason: 'daemon', login };
    return { ours: false, reason: 'outside', login };
  };

  const classifyRecipient = (rcpt: Pick<Recipient, 'address' | 'macros'>, session: SessionFacts): RecipientClass => {
    if (localDomains.size > 0) {
      const d = domainOf(rcpt.address);
      // A bare local part ("postmaster") is always ours.
      if (!d) return rcpt.address.trim() ? 'local' : 'unknown';
      return localDomains.has(d) ? 'local' : 'outside';
    }
    const mailer = macroValue(rcpt.macros ?? {}, 'rcpt_mailer')?.trim().toLowerCase();
    if (!mailer) return 'unknown';
    const local = mtaOf(session) === 'postfix' ? postfixLocal : sendmailLocal;
    return local.has(mailer) ? 'local' : 'outside';
  };

  const decide = (session: SessionFacts, recipients: readonly Pick<Recipient, 'address' | 'macros'>[]): Direction => {
    if (!origin(session).ours) return 'inbound';
    for (const r of recipients) if (classifyRecipient(r, session) !== 'local') return 'outbound';
    return 'internal';
  };

  return { origin, classifyRecipient, decide, mtaOf, localDomains };
}
