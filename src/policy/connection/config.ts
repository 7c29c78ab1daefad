// Config section "connection": Layer 1 (connection and envelope policy). Schema and defaults only;
// every default carries its reason in .describe(). Must never do I/O or compile patterns (index.ts does).
import { z } from 'zod';
import { failActionSchema, ruleActionSchema, smtpReplySchema } from '../../config/common.js';

type Act = z.infer<typeof ruleActionSchema>;

/** One on/off, tunable rule: action, score (for action "score"), optional reply override. */
function rule(id: string, d: { action: Act; score?: number }, why: string) {
  return z
    .object({
      action: ruleActionSchema
        .default(d.action)
        .describe(`What ${id} does when it fires ("off" disables it). Default "${d.action}": ${why}`),
      score: z
        .number()
        .default(d.score ?? 0)
        .describe(`Score added when the action is "score". Default ${d.score ?? 0}: ${why}`),
      reply: smtpReplySchema
        .optional()
        .describe(`Reply override for reject/tempfail; absent = the built-in reply of ${id}, which names the rule.`),
    })
    .prefault({})
    .describe(`Rule ${id}.`);
}

const cidrList = (why: string) =>
  z.array(z.string().min(1)).default([]).describe(`Addresses or CIDR ranges (IPv4 and IPv6). ${why}`);

const dnsblZoneSchema = z.object({
  zone: z.string().min(1).describe('DNSBL zone, e.g. "zen.spamhaus.org"; the rule id is dnsbl.<zone>.'),
  action: ruleActionSchema.default('score').describe('Default "score": one list alone should not reject mail unless the site trusts it that much.'),
  weight: z.number().default(3).describe('Score added when listed (action "score"). Default 3: a strong signal, not a verdict alone.'),
  returnCodes: z
    .array(z.string().min(1))
    .default(['127.0.0.0/24'])
    .describe('Answers that count as "listed" (addresses or CIDR). Default 127.0.0.0/24: lists use 127.0.0.x; other answers (e.g. Spamhaus 127.255.255.x error codes) are not listings.'),
  ipv6: z.boolean().default(false).describe('Query IPv6 clients (nibble-reversed). Default off: most lists only cover IPv4.'),
  reply: smtpReplySchema.optional().describe('Reply override for reject/tempfail.'),
});

export const connectionConfigSchema = z
  .object({
    enabled: z.boolean().default(true).describe('Layer 1 as a whole; on because it is the cheapest defence.'),
    internalNetworks: cidrList(
      'Clients trusted to relay and exempt from DNSBL/rDNS/HELO/sender-domain/rate checks. Default loopback only: local submission (sendmail(1), non_smtpd_milters) must never be refused.',
    ).default(['127.0.0.0/8', '::1/128']),
    localDomains: z
      .array(z.string().min(1))
      .default([])
      .describe('Domains we receive mail for ("example.org", ".example.org" = subdomains too). Empty = relay control off here; the MTA still does its own (reject_unauth_destination).'),
    localNames: z
      .array(z.string().min(1))
      .default([])
      .describe('Our own host names and addresses, added to the MTA macro j and {daemon_addr}, for helo.own-name.'),
    client: z
      .object({
        allow: cidrList('Allow list (client.allow): accepted, every later Layer 1 check skipped. Empty until a site configures it.'),
        deny: cidrList('Deny list (client.deny). Empty until a site configures it.'),
        allowHostnames: z
          .array(z.string().min(1))
          .default([])
          .describe('Client host names allowed (exact, or ".example.org" for any subdomain). Uses the MTA-verified name only.'),
        denyHostnames: z
          .array(z.string().min(1))
          .default([])
          .describe('Client host names denied (client.hostname-deny); exact or ".suffix".'),
        rejectAt: z
          .enum(['connect', 'helo', 'mail'])
          .default('mail')
          .describe(
            'Stage at which connect-time rejections (deny lists, DNSBL and rDNS rejects, bad client data) are given. Default "mail": sendmail ignores reply text at CONNECT, ' +
              'some clients retry at once after an early refusal, and at MAIL the log shows the sender; the decision is still made at CONNECT and no further checks run.',
          ),
        denyAction: ruleActionSchema.default('reject').describe('Action of client.deny and client.hostname-deny. Reject: an explicit operator decision.'),
        denyReply: smtpReplySchema.optional().describe('Reply override for client.deny / client.hostname-deny.'),
      })
      .prefault({})
      .describe('Client address and host-name lists.'),
    dnsbl: z
      .object({
        zones: z.array(dnsblZoneSchema).default([]).describe('DNSBL zones. Empty by default: lists have usage terms; see rules/dnsbl.yaml for well-known zones.'),
        canaryIntervalMs: z
          .number()
          .int()
          .positive()
          .default(3_600_000)
          .describe('How often each zone is re-tested (127.0.0.2 listed, 127.0.0.1 not). Hourly: catches dead or answer-everything lists quickly.'),
        canaryRetryMs: z
          .number()
          .int()
          .positive()
          .default(300_000)
          .describe('Re-test interval of a zone that failed its canary (disabled meanwhile).'),
      })
      .prefault({})
      .describe('DNS block lists, all zones queried concurrently at CONNECT.'),
    rdns: z
      .object({
        missing: rule('rdns.missing', { action: 'score', score: 1.5 }, 'many small legitimate hosts lack PTR records; it is a hint, not proof.'),
        mismatch: rule('rdns.mismatch', { action: 'score', score: 1 }, 'PTR without matching forward lookup (FCrDNS failure) is common for misconfigured but legitimate hosts.'),
        maxNames: z.number().int().min(1).max(10).default(3).describe('PTR names whose forward lookup is checked; bounds DNS work per client.'),
      })
      .prefault({})
      .describe('Forward-confirmed reverse DNS, verified by Postern itself (PTR then A/AAAA).'),
    helo: z
      .object({
        syntax: rule('helo.syntax', { action: 'reject' }, 'RFC 5321 requires an FQDN or an address literal; garbage HELO is almost only sent by bots.'),
        bareIp: rule('helo.bare-ip', { action: 'score', score: 2 }, 'an address without [brackets] is invalid but sent by some misconfigured legitimate servers.'),
        ownName: rule('helo.own-name', { action: 'reject' }, 'no outside client legitimately greets us with our own name or address.'),
        mismatch: rule('helo.mismatch', { action: 'off', score: 0.5 }, 'HELO names often differ from rDNS for legitimate mail servers; opt in.'),
        allowUnderscore: z.boolean().default(true).describe('Accept "_" in HELO labels: invalid in host names but common in Windows machine names.'),
      })
      .prefault({})
      .describe('HELO/EHLO argument checks (clients in internalNetworks are exempt).'),
    sender: z
      .object({
        domainMissing: rule('sender.domain-missing', { action: 'reject' }, 'mail from a domain that does not exist cannot be answered or bounced (RFC 5321 4.1.4).'),
        dnsTemp: rule('sender.dns-temp', { action: 'tempfail' }, 'a DNS failure is temporary; the client retries, nothing is lost.'),
        pattern: rule('sender.pattern', { action: 'reject' }, 'deny patterns are explicit operator decisions.'),
        patterns: z
          .array(z.string().min(1))
          .default([])
          .describe('Deny patterns on the sender address (RE2 syntax, case-insensitive, linear time). Empty until configured.'),
      })
      .prefault({})
      .describe('MAIL FROM checks. The null sender <> always passes (bounces must get through).'),
    sourceRoute: rule('route.source-route', { action: 'reject' }, 'source routes are deprecated (RFC 5321 appendix C) and used to probe relays.'),
    relay: rule('rcpt.relay-denied', { action: 'reject' }, 'we are not an open relay; only used when localDomains is set.'),
    recipients: z
      .object({
        softLimit: z.number().int().min(1).default(100).describe('Recipients per message beyond this get 452 4.5.3 and are retried later. 100 is the RFC 5321 minimum a server must accept.'),
        soft: rule('rcpt.soft-limit', { action: 'tempfail' }, 'RFC 5321 4.5.3.1.10: 452 makes the client send the rest in another transaction.'),
        hardLimit: z.number().int().min(1).default(500).describe('A message with more attempted recipients is refused whole at DATA; 500 is far above normal use and typical of dictionary attacks.'),
        hard: rule('rcpt.hard-limit', { action: 'reject' }, 'a message sprayed at this many recipients is abuse.'),
      })
      .prefault({})
      .describe('Recipient count limits per message.'),
    rates: z
      .object({
        windowMs: z.number().int().positive().default(60_000).describe('Fixed window for rate counters; one minute reacts fast and costs one counter per key.'),
        connectionsPerClient: z.number().int().min(0).default(120).describe('Connections per client per window (0 = off). Generous: a busy legitimate server rarely opens two per second.'),
        messagesPerClient: z.number().int().min(0).default(600).describe('Messages (MAIL) per client per window (0 = off). Generous default for list servers.'),
        recipientsPerClient: z.number().int().min(0).default(3000).describe('Recipients per client per window (0 = off).'),
        concurrencyPerClient: z.number().int().min(0).default(20).describe('Simultaneous sessions per client (0 = off). Postfix defaults to 50 per client for all its clients; 20 milter sessions is plenty for one peer.'),
        messagesPerSender: z.number().int().min(0).default(0).describe('Messages per sender address per window (0 = off). Off: sender addresses are forgeable, so a forger could throttle a real sender.'),
        recipientsPerSender: z.number().int().min(0).default(0).describe('Recipients per sender address per window (0 = off), for the same reason.'),
        ipv6PrefixLength: z.number().int().min(32).max(128).default(64).describe('IPv6 clients are counted per prefix: one host usually owns a whole /64.'),
        concurrencyTtlMs: z.number().int().positive().default(3_600_000).describe('A session slot not released (crash) expires after this.'),
        failAction: failActionSchema.default('tempfail').describe('When the counter store (Redis) fails: tempfail, as for every check that cannot run; clients retry, nothing is lost.'),
        rules: z
          .object({
            connections: rule('rate.connections', { action: 'tempfail' }, 'over-rate clients are told to come back later (421 4.7.0).'),
            messages: rule('rate.messages', { action: 'tempfail' }, '451 4.7.1: retry later, nothing is lost.'),
            recipients: rule('rate.recipients', { action: 'tempfail' }, '451 4.7.1 per recipient: retry later, nothing is lost.'),
            concurrency: rule('rate.concurrency', { action: 'tempfail' }, '421 4.7.0: too many sessions at once.'),
          })
          .prefault({})
          .describe('Actions and replies of the rate rules.'),
      })
      .prefault({})
      .describe('Rate and concurrency limits (DoS), stored in the state backend.'),
    unknownCommands: z
      .object({
        limit: z.number().int().min(0).default(10).describe('Unknown SMTP commands tolerated per session; past this the session is ended. 10: typos happen, scanners send many.'),
        rule: rule('smtp.unknown-commands', { action: 'tempfail' }, 'a 421 reply ends the session without refusing any mail permanently.'),
      })
      .prefault({})
      .describe('SMFIC_UNKNOWN counting.'),
    badInput: z
      .object({
        clientAction: failActionSchema.default('tempfail').describe('Malformed client data from the MTA (bad address, NUL): tempfail, it is likely a configuration problem, not the sender.'),
        envelopeAction: failActionSchema.default('reject').describe('Malformed addresses or HELO from the client (NUL, > 1000 octets): reject, retrying cannot fix them.'),
      })
      .prefault({})
      .describe('Bad input handling (rule ids input.client, input.envelope).'),
  })
  .prefault({});
export type ConnectionConfig = z.infer<typeof connectionConfigSchema>;
export type RuleConfig = ConnectionConfig['helo']['syntax'];
export type DnsblZoneConfig = ConnectionConfig['dnsbl']['zones'][number];
