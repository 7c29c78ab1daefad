// Config section "clamd": where clamd listens, how long to wait for it, what to do with infected mail
// and what to do when scanning cannot be done. Schema only; no I/O here.
import { z } from 'zod';
import { failActionSchema, millisSchema, ruleActionSchema, smtpReplySchema } from '../../config/common.js';
import { DEFAULT_CLAMD_ADDRESS, parseClamdAddress } from './address.js';

const addressSchema = z.string().superRefine((value, ctx) => {
  try {
    parseClamdAddress(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});

export const clamdConfigSchema = z
  .object({
    enabled: z
      .boolean()
      .default(true)
      .describe('A mail gateway must scan for viruses; when clamd is absent the fail action applies, not an accept. Turn off only where another scanner runs.'),
    address: addressSchema
      .default(DEFAULT_CLAMD_ADDRESS)
      .describe('Where clamd listens: "unix:/path" (or a bare absolute path) or "tcp:host:port" ("tcp:[::1]:3310"). The default is the socket of Debian\'s clamav-daemon, so a stock install needs no setting.'),
    connectTimeoutMs: millisSchema
      .default(2000)
      .describe('A local clamd accepts in microseconds; a connect that takes seconds means it is overloaded or gone, so fail fast and apply the fail action.'),
    scanTimeoutMs: millisSchema
      .default(30000)
      .describe('Time for one scan (upload plus clamd\'s answer). Large archives take seconds; a clamd that accepts but never answers must not hold the SMTP session open.'),
    messageBudgetMs: millisSchema
      .default(60000)
      .describe('Total time for all scans of one message; stays below Postfix milter_content_timeout (300 s) so the MTA gets a real verdict instead of its own default action.'),
    concurrency: z
      .number()
      .int()
      .min(1)
      .max(64)
      .default(4)
      .describe('Scans in flight at once per message: parallel parts finish sooner without letting one message take all of clamd\'s MaxThreads.'),
    chunkSize: z
      .number()
      .int()
      .min(1024)
      .max(16 * 1024 * 1024)
      .default(65536)
      .describe('Bytes per INSTREAM chunk; 64 KiB matches clamd\'s own clients and keeps memory per scan small.'),
    maxStreamBytes: z
      .number()
      .int()
      .positive()
      .default(25 * 1024 * 1024)
      .describe('Keep equal to clamd\'s StreamMaxLength (25M by default, also in Debian\'s clamd.conf): bigger data is not sent, since clamd would refuse it; it counts as "unavailable" (fail action), so keep it above the MTA\'s message_size_limit.'),
    scanRaw: z
      .boolean()
      .default(true)
      .describe('Also scan the raw message once, so clamd\'s own MIME parser sees the original and catches what Postern\'s decoding might read differently.'),
    scanParts: z
      .boolean()
      .default(true)
      .describe('Scan each decoded leaf part (archive members included), so signatures match even where clamd would not decode the same way.'),
    infectedAction: ruleActionSchema
      .exclude(['accept', 'score', 'off'])
      .default('reject')
      .describe('Mail carrying a virus is refused at SMTP time so the sender learns of it and no copy is kept; "quarantine" holds it for review instead.'),
    infectedReply: smtpReplySchema
      .default({ code: 554, enhanced: '5.7.1', text: 'virus found: {signature}' })
      .describe('Reply for infected mail; "{signature}" is replaced by the first signature clamd named (printable ASCII only).'),
    failAction: failActionSchema
      .default('tempfail')
      .describe('When clamd is down, times out, refuses the size or errors, the mail waits and the sender retries: unscanned mail is never accepted.'),
    failReply: smtpReplySchema
      .default({ code: 451, enhanced: '4.7.1', text: 'virus scanner unavailable, try again later' })
      .describe('Reply when scanning could not be done; says nothing about the cause, which goes to the log.'),
  })
  .prefault({});

export type ClamdConfig = z.infer<typeof clamdConfigSchema>;
