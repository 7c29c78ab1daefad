// Config section "policy": how rule hits become verdicts — monitor mode, scoring thresholds, the
// error action, and the trace header.
import { z } from 'zod';
import { failActionSchema } from '../config/common.js';

/**
 * The first part of every rule id Postern produces (rule ids are `family.name...`; module and check
 * failures are `<module or check id>.error`). A monitor/disabled entry naming another family cannot
 * match anything: almost surely a typo, so the config is refused instead of silently ignoring it.
 */
export const RULE_FAMILIES = [
  'archive', 'attachment', 'attachments', 'clamd', 'client', 'connection', 'content', 'content-rules', 'dataleak',
  'dnsbl', 'helo', 'input', 'mime', 'outbound', 'protocol', 'rate', 'rcpt', 'rdns', 'rfc', 'score', 'sender',
] as const;

const rulePattern = z.string().superRefine((p, ctx) => {
  if (p === '*') return;
  const family = p.split('.')[0]!;
  if (!(RULE_FAMILIES as readonly string[]).includes(family) || !/^[a-z0-9-]+\.(\*|[a-z0-9][a-z0-9._-]*)$/.test(p)) {
    ctx.addIssue({
      code: 'custom',
      message: `"${p}" matches no rule: use a rule id (family.name, as shown in logs and the trace header), a prefix ending in ".*", or "*"; families: ${RULE_FAMILIES.join(', ')}`,
    });
  }
});

export const policyConfigSchema = z
  .object({
    mode: z
      .enum(['enforce', 'monitor'])
      .default('enforce')
      .describe('monitor: every rule is evaluated, logged and counted, and the trace header says what would have happened, but nothing is refused. How a site trials Postern.'),
    monitor: z
      .array(rulePattern)
      .default([])
      .describe(
        'Rule ids (or prefixes ending in ".*") to run in monitor mode while the rest enforce: how a site turns on a new rule safely. ' +
          'A prefix covers the family\'s failure ids too ("clamd.*" covers clamd.unavailable): a monitored check that cannot run is logged and ' +
          'marked "(monitor)" in the trace, not enforced. To trial a check but still tempfail when it is down, list its verdict ids exactly (clamd.infected).',
      ),
    disabled: z.array(rulePattern).default([]).describe('Rule ids (or prefixes ending in ".*") switched off entirely (failure ids of the family included; to stop a check from running at all, switch it off in its own section).'),
    errorAction: failActionSchema
      .default('tempfail')
      .describe('Answer when a check fails or times out. tempfail makes the sending MTA retry later: no mail is lost and none passes unchecked.'),
    scoring: z
      .object({
        header: z.number().default(5).describe('Score at or above which the score header is added (mail still delivered).'),
        quarantine: z.number().default(10).describe('Score at or above which the message is held in the MTA quarantine.'),
        reject: z.number().default(20).describe('Score at or above which the message is refused (550 5.7.1).'),
        headerName: z.string().default('X-Postern-Score').describe('Header that carries the score when the header threshold is reached.'),
      })
      .prefault({}),
    trace: z
      .object({
        enabled: z.boolean().default(true).describe('Add a trace header to delivered mail: verdict, direction, score and rules hit.'),
        header: z.string().regex(/^[\x21-\x39\x3b-\x7e]+$/).default('X-Postern').describe('Name of the trace header.'),
      })
      .prefault({}),
  })
  .prefault({});
export type PolicyConfig = z.infer<typeof policyConfigSchema>;

/**
 * The answer for a whole step that fails or times out: the configured error action where a milter
 * reply can carry it (quarantine exists only at end of message, so it answers tempfail there).
 */
export function sessionErrorAction(policy: Pick<PolicyConfig, 'errorAction'>): 'tempfail' | 'reject' {
  return policy.errorAction === 'reject' ? 'reject' : 'tempfail';
}
