// Config section "outbound" (Layer 3): direction, relay and per-user control, hiding internal names,
// auto-reply / auto-forward leakage and data-leak checks. Every key has a default and a reason.
// This file only describes settings; it must never read files or touch the network.
import { z } from 'zod';
import { failActionSchema, ruleActionSchema, smtpReplySchema } from '../../config/common.js';

const directionSchema = z.enum(['inbound', 'outbound', 'internal']);
const directionsSchema = (def: Array<'inbound' | 'outbound' | 'internal'>, why: string) =>
  z.array(directionSchema).default(def).describe(why);

/** Per-user / per-group permission entry (fields left out inherit from the group, then the defaults). */
export const permissionEntrySchema = z.object({
  sendExternal: z.boolean().optional().describe('May this user send mail to outside (Internet) recipients?'),
  receiveExternal: z.boolean().optional().describe('May this user receive mail from outside senders?'),
  allowExternal: z
    .array(z.string().min(1))
    .optional()
    .describe(
      'Outside addresses ("a@partner.example") or domains ("partner.example", "@partner.example") this user may ' +
        'still exchange mail with when sendExternal/receiveExternal is false (a partner list).',
    ),
});
export type PermissionEntry = z.infer<typeof permissionEntrySchema>;

export const permissionGroupSchema = permissionEntrySchema.extend({
  name: z.string().min(1).describe('Group name, shown in logs only (never in SMTP replies).'),
  members: z
    .array(z.string().min(1))
    .default([])
    .describe('Members: addresses ("a@example.com"), SASL login names ("alice"), or whole domains ("@example.com").'),
});
export type PermissionGroup = z.infer<typeof permissionGroupSchema>;

/** What a permissions file contains (YAML or JSON): the same shape as the inline lists. */
export const permissionsFileSchema = z.object({
  users: z.record(z.string(), permissionEntrySchema).default({}),
  groups: z.array(permissionGroupSchema).default([]),
});
export type PermissionsFile = z.infer<typeof permissionsFileSchema>;

export const dictionarySchema = z.object({
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]*$/)
    .describe('Rule id suffix: hits are reported as dataleak.<id>.'),
  patterns: z
    .array(z.string().min(1))
    .default([])
    .describe('Regular expressions (RE2 syntax, run on re2-wasm: linear time) whose matches are counted.'),
  words: z
    .array(z.string().min(1))
    .default([])
    .describe('Literal words or phrases (e.g. project code names), matched as whole words, case-insensitively.'),
  caseInsensitive: z.boolean().default(true).describe('Match patterns case-insensitively.'),
  threshold: z.number().int().positive().default(1).describe('Fire when at least this many distinct matches are found.'),
  action: ruleActionSchema.default('quarantine').describe('What to do when the threshold is reached.'),
  allowEncrypted: z.boolean().default(false).describe('Only log (no action) when the message is marked S/MIME or PGP encrypted. Off by default: whatever is counted was found in readable text, and a sender can add an encrypted-looking part to any message.'),
});
export type DictionaryConfig = z.infer<typeof dictionarySchema>;

const builtinLeakRule = (threshold: number, what: string) =>
  z
    .object({
      enabled: z.boolean().default(true).describe(`Look for ${what}.`),
      threshold: z
        .number()
        .int()
        .positive()
        .default(threshold)
        .describe(`Fire at this many distinct valid ${what} in one message (one in a signature is not a leak).`),
      action: ruleActionSchema.default('quarantine').describe('What to do when the threshold is reached.'),
      allowEncrypted: z
        .boolean()
        .default(false)
        .describe('Only log (no action) when the message is marked S/MIME or PGP encrypted. Off by default: whatever is counted was found in readable text, and a sender can add an encrypted-looking part to any message.'),
    })
    .prefault({});

export const outboundConfigSchema = z
  .object({
    enabled: z.boolean().default(true).describe('Master switch for the outbound layer (Layer 3).'),
    internalNetworks: z
      .array(z.string().min(1))
      .default(['127.0.0.0/8', '::1/128'])
      .describe('CIDRs of our own clients and relays. Mail from here (or authenticated) is ours: outbound or internal.'),
    authenticatedIsInternal: z
      .boolean()
      .default(true)
      .describe('A client that authenticated (SMTP AUTH, macro {auth_authen}) sends as one of ours.'),
    submissionDaemons: z
      .array(z.string().min(1))
      .default(['ORIGINATING', 'submission', 'submissions', 'smtps', 'MSA'])
      .describe(
        'Values of the {daemon_name} macro whose mail is ours by definition (the submission port requires AUTH). ' +
          'Postfix sends $milter_macro_daemon_name (default $myhostname): set "-o milter_macro_daemon_name=ORIGINATING" ' +
          'on the submission/smtps services in master.cf; sendmail sends the DaemonPortOptions Name= (MSA on 587).',
      ),
    localDomains: z
      .array(z.string().min(1))
      .default([])
      .describe(
        'Domains whose mailboxes we host. "example.com" matches that domain only, ".example.com" its sub-domains. ' +
          'When empty, whether a recipient is local is inferred from the MTA\'s {rcpt_mailer} macro: Postfix ' +
          '"local", "virtual", "relay" (relay_domains, ours), "lmtp" are local, anything else (smtp...) is outside; ' +
          'sendmail "local", "prog", "*file*", "*include*" are local, "esmtp"/"smtp"/"smtp8"/"dsmtp"/"relay" outside.',
      ),
    mta: z
      .enum(['auto', 'postfix', 'sendmail'])
      .default('auto')
      .describe(
        'Which MTA names the {rcpt_mailer} values ("relay" means ours in Postfix, outside in sendmail). auto: Postfix ' +
          'when macro {v} starts with "Postfix" (Postfix sends v by default at CONNECT), else sendmail.',
      ),
    localMailers: z
      .object({
        postfix: z.array(z.string()).default(['local', 'virtual', 'relay', 'lmtp']),
        sendmail: z.array(z.string()).default(['local', 'prog', '*file*', '*include*']),
      })
      .prefault({})
      .describe('The {rcpt_mailer} values that mean "delivered here" per MTA (see localDomains).'),
    unclassifiedRecipient: failActionSchema
      .or(z.literal('outside'))
      .default('tempfail')
      .describe(
        'A recipient we cannot classify (no localDomains match possible and no {rcpt_mailer}) from an outside ' +
          'client: tempfail by default (fail safe, never an open relay nor a silent accept); "outside" treats it ' +
          'as outside (relay control then rejects it). From our own clients such a recipient counts as outside.',
      ),
    relay: z
      .object({
        enabled: z.boolean().default(true).describe('Only internal networks or authenticated users may mail outside domains.'),
        action: ruleActionSchema.default('reject').describe('Action for outbound.relay-denied (at RCPT: that recipient only).'),
        reply: smtpReplySchema
          .optional()
          .describe('Reply override; default "550 5.7.1 Relay access denied" (sendmail puts the address in front of RCPT replies itself).'),
      })
      .prefault({}),
    permissions: z
      .object({
        enabled: z.boolean().default(true).describe('Apply per-user / per-group permissions (no-op while no entries exist).'),
        defaults: permissionEntrySchema
          .default({ sendExternal: true, receiveExternal: true })
          .describe('Permissions of users listed nowhere.'),
        users: z
          .record(z.string(), permissionEntrySchema)
          .default({})
          .describe('Per user: key is an address, a SASL login name, or "@domain". User entries win over groups.'),
        groups: z
          .array(permissionGroupSchema)
          .default([])
          .describe('Groups, first matching group wins (after the user entry, before defaults).'),
        file: z
          .string()
          .optional()
          .describe(
            'Optional YAML/JSON file with {users, groups}; its entries are consulted before the inline ones. ' +
              'Re-read when its mtime changes (checked at most every checkIntervalMs) or on reload().',
          ),
        checkIntervalMs: z.number().int().nonnegative().default(5000).describe('How often to stat the permissions file.'),
        action: ruleActionSchema.default('reject').describe('Action for outbound.user-send-denied / user-receive-denied.'),
        failAction: failActionSchema
          .default('tempfail')
          .describe('When the permissions file was configured but never loaded successfully.'),
      })
      .prefault({}),
    hide: z
      .object({
        enabled: z
          .boolean()
          .optional()
          .describe('Hide internal names in outbound headers. Default: on as soon as internalDomains or internalHosts is set.'),
        internalDomains: z
          .array(z.string().min(1))
          .default([])
          .describe('Internal DNS domains ("corp.example.com" also matches "mx1.corp.example.com") never to be shown outside.'),
        internalHosts: z.array(z.string().min(1)).default([]).describe('Individual internal host names to hide.'),
        privateAddresses: z
          .boolean()
          .default(true)
          .describe('Treat RFC 1918 / RFC 4193 / loopback / link-local addresses and internalNetworks as internal in Received:.'),
        received: z
          .enum(['internal', 'all', 'off'])
          .default('internal')
          .describe(
            'Received: lines naming an internal host or address are deleted ("internal"), or every Received: the ' +
              'milter sees ("all"; the MTA\'s own line is not shown to milters and stays). Deleted rather than ' +
              'replaced: a rewritten line would be invented trace data, and the MTA\'s own line keeps the hop count.',
          ),
        publicDomain: z
          .string()
          .optional()
          .describe(
            'Right side for rewritten Message-ID/In-Reply-To/References ids that name an internal host. Default: ' +
              'first localDomains entry; when neither is set ids are left unchanged.',
          ),
        rewriteReferences: z
          .boolean()
          .default(true)
          .describe('Rewrite In-Reply-To/References with the same mapping, so threads stay consistent outside.'),
        removeHeaders: z
          .array(z.string().min(1))
          .default(['X-Originating-IP'])
          .describe('Headers deleted from outbound mail (they reveal client addresses).'),
        removeMailer: z.boolean().default(false).describe('Also delete X-Mailer and User-Agent (software versions).'),
        directions: directionsSchema(['outbound'], 'Directions where hiding applies (internal mail keeps its trace).'),
      })
      .prefault({}),
    autoreply: z
      .object({
        enabled: z.boolean().default(true).describe('Stop auto-replies / auto-forwards from leaving (outbound.autoreply / autoforward).'),
        action: z
          .enum(['reject', 'discard', 'quarantine', 'log', 'off'])
          .default('reject')
          .describe(
            'Action when every recipient is outside. With mixed recipients and reject/discard, the outside ' +
              'recipients are removed (DELRCPT) and the message is delivered to the internal ones.',
          ),
        reply: smtpReplySchema
          .optional()
          .describe('Reply override; default "550 5.7.1 Automatic replies and forwards to external recipients are not permitted".'),
        subjectPatternsFile: z
          .string()
          .default('rules/autoreply.yaml')
          .describe('RE2 subject patterns (localised "Out of Office" variants); relative paths from the working dir or the package root.'),
        subjectPatterns: z.array(z.string().min(1)).default([]).describe('Extra RE2 subject patterns (case-insensitive).'),
        precedence: z
          .array(z.string().min(1))
          .default(['auto_reply', 'bulk', 'junk'])
          .describe('Precedence: values taken as automatic (vacation(1) uses bulk/junk; newsletters too: exempt them).'),
        exemptSenders: z
          .array(z.string().min(1))
          .default([])
          .describe('Envelope senders (address or "@domain") whose automatic mail may leave (ticket systems, newsletters).'),
        nullSender: z
          .enum(['bounce-aware', 'pass'])
          .default('bounce-aware')
          .describe(
            'Null-sender mail: "pass" lets it all through; "bounce-aware" passes DSN/MDN reports and anything whose ' +
              'only marks are Auto-Submitted/Precedence (every bounce has them), but still stops null-sender ' +
              'vacation replies (RFC 3834 responders may use <>) caught by subject or X-Autoreply/Exchange headers.',
          ),
        directions: directionsSchema(['outbound'], 'Directions where the check runs.'),
      })
      .prefault({}),
    dataLeak: z
      .object({
        enabled: z.boolean().default(true).describe('Data-leak checks on decoded text and attachment text.'),
        directions: directionsSchema(['outbound'], 'Directions where data-leak checks run.'),
        card: builtinLeakRule(10, 'payment card numbers (Luhn, known IIN prefix, 13-19 digits)'),
        ssn: builtinLeakRule(10, 'US social security numbers (AAA-GG-SSSS, invalid ranges excluded)'),
        iban: builtinLeakRule(10, 'IBANs (country length and mod-97 checksum)'),
        ssnUnformatted: z.boolean().default(false).describe('Also count bare 9-digit SSNs (many false positives: phone numbers, ids).'),
        dictionaries: z.array(dictionarySchema).default([]).describe('User dictionaries (medical record numbers, code names...).'),
        dictionaryFile: z
          .string()
          .optional()
          .describe('Optional YAML file with {dictionaries: [...]} (see rules/dataleak.yaml), read at start-up.'),
        scanBinaryParts: z
          .boolean()
          .default(true)
          .describe('Scan the raw bytes of parts without text (CSV sent as octet-stream...) for numbers.'),
        documents: z
          .object({
            enabled: z
              .boolean()
              .default(true)
              .describe(
                'Read the text of PDFs, office documents (Word, Excel, PowerPoint, OpenDocument, flat ODF), RTF, and the XML and HTML members of archives ' +
                  'as a reader shows it, and scan that too: inside the file the text is compressed, and Word splits it into runs wherever formatting changes.',
              ),
            maxChars: z
              .number()
              .int()
              .positive()
              .default(16 * 1024 * 1024)
              .describe('Characters of document text read per message, all documents together; text beyond it is reported as dataleak.incomplete.'),
            pdfMaxInflatedBytes: z
              .number()
              .int()
              .positive()
              .default(64 * 1024 * 1024)
              .describe('Bytes decompressed from PDF streams per message, images aside (they are never decompressed); a PDF can hold a decompression bomb. Beyond it, dataleak.incomplete.'),
            pdfMaxStreams: z
              .number()
              .int()
              .positive()
              .default(20_000)
              .describe('PDF streams decoded per message; beyond it, dataleak.incomplete.'),
            encryptedPdf: z
              .enum(['ignore', 'incomplete'])
              .default('incomplete')
              .describe(
                'A PDF that needs a password to open (or uses certificate encryption), so its text cannot be read: "incomplete" reports dataleak.incomplete, ' +
                  'so the incomplete action applies (like attachment.encrypted-document for Office files); "ignore" scans the rest of the message. ' +
                  'PDFs locked only against printing or copying (empty user password) are decrypted and read either way.',
              ),
          })
          .prefault({}),
        maxScanBytes: z
          .number()
          .int()
          .positive()
          .default(64 * 1024 * 1024)
          .describe('Characters of text scanned per message; beyond it the check yields incompleteAction (never accept-unchecked).'),
        incompleteAction: failActionSchema
          .default('quarantine')
          .describe(
            'dataleak.incomplete when the scan could not see all the text: a part\'s text was cut by a parser limit ' +
              '(content.mime.maxTextBytes, HTML longer than 4 Mi characters) or maxScanBytes was reached. Quarantine: the cut is ' +
              'the same on every retry (tempfail would only delay a bounce for days), padding must not hide a leak ' +
              '(no accept), and a person can release a legitimate large document from the hold queue.',
          ),
        failAction: failActionSchema.default('tempfail').describe('When the scan cannot finish for a passing reason (time budget, error).'),
      })
      .prefault({}),
  })
  .prefault({});

export type OutboundConfig = z.infer<typeof outboundConfigSchema>;
export type DataLeakConfig = OutboundConfig['dataLeak'];
