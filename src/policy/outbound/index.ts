// Layer 3 policy module "outbound": publishes the message direction, enforces relay control and
// per-user permissions at RCPT, hides internal names in outbound headers and stops automatic replies
// and forwards to outside recipients at EOM. Data-leak scanning is a ContentCheck (createDataLeakCheck)
// run by the content pipeline. Stateless per message (everything is derived from the context), so one
// instance serves every session; it never touches sockets or milter frames and never throws for bad input.
import type { Logger } from '../../log/logger.js';
import type {
  Direction,
  EnvelopeChange,
  EomContext,
  PolicyModule,
  RcptContext,
  RuleAction,
  RuleHit,
  SmtpReply,
  StageContext,
  StageResult,
} from '../types.js';
import { AutoReplyDetector } from './autoreply.js';
import type { OutboundConfig } from './config.js';
import { createDirectionFacts, type DirectionFacts } from './direction.js';
import { InternalNames, hidesInternalNames, planHiding } from './hide.js';
import { Permissions, type EffectivePermissions } from './permissions.js';

export { outboundConfigSchema, type OutboundConfig } from './config.js';
export { hidesInternalNames, planHiding } from './hide.js';
export { createDataLeakCheck, DataLeakScanner } from './dataleak/check.js';
export { createDirectionFacts } from './direction.js';
export { AutoReplyDetector } from './autoreply.js';
export { OutboundConfigError } from './files.js';

export interface OutboundPolicy extends PolicyModule {
  readonly id: 'outbound';
  readonly layer: 'outbound';
  /** True when outbound mail gets internal names hidden: the engine must not add its trace header then. */
  readonly hidesInternalNames: boolean;
  /** Direction facts (origin, recipient classification) for the engine or other modules. */
  readonly direction: DirectionFacts;
  /** Re-read the per-user permissions file now (e.g. on SIGHUP). Never rejects. */
  reload(): Promise<void>;
}

type Configured = OutboundConfig['relay']['action'];

function reply(action: RuleAction, text: string, override?: SmtpReply): SmtpReply | undefined {
  if (action === 'reject') return override ?? { code: 550, enhanced: '5.7.1', text };
  if (action === 'tempfail') return { code: 451, enhanced: '4.7.1', text };
  return undefined;
}

function hit(rule: string, action: Configured, detail: string, where: string, text: string, override?: SmtpReply): RuleHit | undefined {
  if (action === 'off') return undefined;
  const a = action as RuleAction;
  const h: RuleHit = { rule, action: a, detail, where };
  const r = reply(a, text, override);
  if (r) h.reply = r;
  return h;
}

/** "<a@b>" for replies: the address the client gave, nothing about our side. */
const bracket = (address: string): string => `<${address.replace(/[\r\n<>]/g, '')}>`;

export function createOutboundPolicy(config: OutboundConfig, deps: { logger: Logger }): OutboundPolicy {
  const log = deps.logger;
  const dir = createDirectionFacts(config);
  const perms = new Permissions(config.permissions, log);
  const permsActive = config.permissions.enabled && !perms.trivial;
  const hiding = hidesInternalNames(config);
  const names = new InternalNames(config);
  const detector = config.autoreply.enabled && config.autoreply.action !== 'off' ? new AutoReplyDetector(config.autoreply) : undefined;
  if (config.permissions.file) void perms.reload();

  const permissionUnavailable = (where: string): RuleHit => {
    const a = config.permissions.failAction;
    const h: RuleHit = {
      rule: 'outbound.permissions-unavailable',
      action: a,
      detail: 'per-user permissions file could not be loaded',
      where,
    };
    const r = reply(a, 'Temporary policy failure, try again later');
    if (r) h.reply = a === 'tempfail' ? { code: 451, enhanced: '4.3.0', text: 'Temporary policy failure, try again later' } : r;
    return h;
  };

  /** A per-user permission at RCPT: its refusal when `allowed` says no; the fail action while the file is unavailable. */
  const permission = async (
    where: string,
    identities: readonly (string | undefined)[],
    allowed: (p: EffectivePermissions) => boolean,
    rule: string,
    detail: string,
    text: string,
  ): Promise<RuleHit | undefined> => {
    await perms.refresh();
    if (perms.unavailable) return permissionUnavailable(where);
    const p = perms.resolve(identities);
    return allowed(p) ? undefined : hit(rule, config.permissions.action, `${detail} (${p.source})`, where, text);
  };

  const rcpt = async (ctx: RcptContext): Promise<StageResult> => {
    if (!config.enabled) return { hits: [] };
    const { session, message } = ctx;
    const r = ctx.rcpt;
    const where = `rcpt ${bracket(r.address)}`;
    const origin = dir.origin(session);
    let cls = dir.classifyRecipient(r, session);
    const hits: RuleHit[] = [];

    if (!origin.ours) {
      if (cls === 'unknown') {
        if (config.unclassifiedRecipient === 'outside') cls = 'outside';
        else {
          const a = config.unclassifiedRecipient;
          hits.push({
            rule: 'outbound.rcpt-unclassified',
            action: a,
            detail: 'cannot tell whether the recipient is local: set outbound.localDomains or send {rcpt_mailer}',
            where,
            ...(a === 'quarantine'
              ? {}
              : {
                  reply:
                    a === 'tempfail'
                      ? { code: 451, enhanced: '4.3.0', text: 'Temporary policy failure, try again later' }
                      : { code: 550, enhanced: '5.7.1', text: 'Relay access denied' },
                }),
          });
        }
      }
      if (cls === 'outside' && config.relay.enabled) {
        const h = hit(
          'outbound.relay-denied',
          config.relay.action,
          'outside client, outside recipient, not authenticated',
          where,
          'Relay access denied',
          config.relay.reply,
        );
        if (h) hits.push(h);
      } else if (cls === 'local' && permsActive) {
        const sender = message.sender ?? '';
        const h = await permission(
          where,
          [r.address],
          (p) => p.receiveExternal || (sender !== '' && p.allowExternal.has(sender)),
          'outbound.user-receive-denied',
          'recipient may not receive external mail',
          `${bracket(r.address)}: recipient not permitted to receive external mail`,
        );
        if (h) hits.push(h);
      }
    } else if (cls !== 'local' && permsActive) {
      const h = await permission(
        where,
        [message.sender, origin.login],
        (p) => p.sendExternal || p.allowExternal.has(r.address),
        'outbound.user-send-denied',
        'sender may not mail external recipients',
        `${bracket(r.address)}: sender not permitted to mail external recipients`,
      );
      if (h) hits.push(h);
    }

    const refused = hits.some((h) => h.action === 'reject' || h.action === 'tempfail');
    const recipients = refused ? message.recipients : [...message.recipients, r];
    return { hits, direction: dir.decide(session, recipients) };
  };

  const eom = (ctx: EomContext): StageResult => {
    if (!config.enabled) return { hits: [] };
    const { session, message } = ctx;
    const direction: Direction = dir.decide(session, message.recipients);
    const result: StageResult = { hits: [], direction };
    const headers = message.headers ?? [];

    if (hiding && config.hide.directions.includes(direction)) {
      // Postern's own trace header would reveal the filter: never add it where names are hidden.
      result.suppressTrace = true;
      const plan = planHiding(headers, config, names);
      if (plan.changes.length > 0) {
        result.headerChanges = plan.changes;
        result.hits.push({ rule: 'outbound.hide-names', action: 'log', detail: plan.summary, where: 'headers' });
      }
    }

    if (detector && config.autoreply.directions.includes(direction)) {
      const sender = message.sender ?? '';
      if (!(sender && detector.exempt.has(sender))) {
        const outside = message.recipients.filter((r) => dir.classifyRecipient(r, session) !== 'local');
        if (outside.length > 0) {
          const verdict = detector.detect(headers, sender === '');
          if (verdict) {
            const rule = `outbound.${verdict.kind}`;
            const what = verdict.kind === 'autoreply' ? 'automatic reply' : 'automatic forward';
            const marks = verdict.indicators.join(', ');
            const action = config.autoreply.action;
            const internal = message.recipients.length - outside.length;
            if ((action === 'reject' || action === 'discard') && internal > 0) {
              const changes: EnvelopeChange[] = outside.map((r) => ({ kind: 'delRcpt', address: r.raw || bracket(r.address) }));
              result.envelopeChanges = changes;
              result.hits.push({
                rule,
                action: 'log',
                detail: `${what} (${marks}): ${outside.length} external recipient${outside.length > 1 ? 's' : ''} removed, delivered to ${internal} internal`,
                where: 'envelope',
              });
            } else {
              const h = hit(
                rule,
                action,
                `${what} (${marks}) to ${outside.length} external recipient${outside.length > 1 ? 's' : ''}`,
                'headers',
                'Automatic replies and forwards to external recipients are not permitted',
                config.autoreply.reply,
              );
              if (h) result.hits.push(h);
            }
          }
        }
      }
    }
    return result;
  };

  const mail = (ctx: StageContext): StageResult => {
    if (!config.enabled) return { hits: [] };
    // Mail from outside is inbound whatever its recipients; ours is decided at the first RCPT.
    return dir.origin(ctx.session).ours ? { hits: [] } : { hits: [], direction: 'inbound' };
  };

  if (!config.enabled) {
    // No stage methods: the server then negotiates those steps away (no replies, no headers).
    return { id: 'outbound', layer: 'outbound', hidesInternalNames: false, direction: dir, reload: async () => {} };
  }
  return {
    id: 'outbound',
    layer: 'outbound',
    hidesInternalNames: hiding,
    direction: dir,
    mail,
    rcpt,
    eom,
    reload: () => perms.reload(),
  };
}
