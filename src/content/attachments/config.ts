// Config section "attachments": which file names and true types are blocked and what each rule does.
import { z } from 'zod';
import { failActionSchema, ruleActionSchema, smtpReplySchema } from '../../config/common.js';

const ext = z.string().min(1).max(64).regex(/^\.?[^./\\\s]+$/, 'an extension like "exe" or ".exe"');

export const DEFAULT_BLOCKED_TYPES = [
  'pe', 'mz', 'elf', 'macho', 'script', 'lnk', 'msi', 'hta', 'java-class', 'jar', 'msix', 'onenote',
  'iso', 'udf', 'vhd', 'vhdx', 'dmg',
] as const;

export const attachmentsConfigSchema = z
  .object({
    enabled: z.boolean().default(true).describe('Attachment name/type blocking is a core Layer 2 defence; off only for testing.'),
    rulesFile: z
      .string()
      .default('rules/attachments.yaml')
      .describe('YAML list of blocked extensions (by family) and decoy extensions; shipped defaults follow attack-surface-reduction lists.'),
    addExtensions: z.array(ext).default([]).describe('Extensions to block in addition to the rules file (e.g. "zip" for sites that refuse archives).'),
    removeExtensions: z.array(ext).default([]).describe('Extensions from the rules file to allow here (e.g. "cab" for a site that exchanges cabinets).'),
    replaceExtensions: z
      .array(ext)
      .nullable()
      .default(null)
      .describe('When set, this list replaces the rules file entirely (addExtensions/removeExtensions still apply).'),
    blockedTypes: z
      .array(z.string().min(1))
      .default([...DEFAULT_BLOCKED_TYPES])
      .describe('True types (from magic bytes) blocked whatever the name or declared type: native code, scripts, shortcuts, installers, disk images.'),
    maxNameLength: z
      .number()
      .int()
      .positive()
      .default(150)
      .describe('Names this long push the real extension out of sight in mail clients (EVASION 5.2 #12).'),
    maxSpaceRun: z
      .number()
      .int()
      .positive()
      .default(10)
      .describe('A whitespace run this long inside a name hides the extension ("photo.jpg          .scr").'),
    scriptTypeNeedsName: z
      .boolean()
      .default(true)
      .describe('Only treat "#!" content as a blocked script when the part is an attachment/named/archive member: inline body text starting with #! is common.'),
    actions: z
      .object({
        blockedName: ruleActionSchema.default('reject').describe('attachment.blocked-name: a name ends in a blocked extension.'),
        blockedType: ruleActionSchema.default('reject').describe('attachment.blocked-type: content is an executable/installer/etc. whatever its name.'),
        doubleExtension: ruleActionSchema.default('reject').describe('attachment.double-extension: "invoice.pdf.exe" or "x.exe.gz" style disguise.'),
        bidiName: ruleActionSchema.default('reject').describe('attachment.bidi-name: bidi override/isolate characters reverse how the name reads (U+202E).'),
        invisibleName: ruleActionSchema.default('quarantine').describe('attachment.invisible-name: zero-width/format or control characters in a name.'),
        clsidName: ruleActionSchema.default('reject').describe('attachment.clsid-name: a {CLSID} suffix makes Explorer open the file by class, not extension.'),
        longName: ruleActionSchema.default('quarantine').describe('attachment.long-name: very long names hide the extension.'),
        paddedName: ruleActionSchema.default('reject').describe('attachment.padded-name: long whitespace runs hide the extension.'),
        encryptedDocument: ruleActionSchema
          .default('quarantine')
          .describe('attachment.encrypted-document: password-protected Office file (cannot be scanned; the password is usually in the body).'),
        macro: ruleActionSchema.default('quarantine').describe('attachment.macro: Office/OpenDocument file with VBA/XLM macros; held for review, not refused.'),
        activeContent: ruleActionSchema
          .default('quarantine')
          .describe('attachment.active-content: HTML that assembles a download in the browser (HTML smuggling), a PDF Launch action, an RTF embedded object, an SVG with script: ways to deliver code that no name or type rule sees.'),
      })
      .prefault({})
      .describe('Action per rule; "off" disables a rule.'),
    failAction: failActionSchema
      .default('tempfail')
      .describe('attachment.error: what to do when the check itself fails on a part (never a silent accept).'),
    reply: smtpReplySchema
      .optional()
      .describe('Reply override for reject/tempfail; by default 554 5.7.1 (or 451 4.7.1) naming the file.'),
  })
  .prefault({});

export type AttachmentsConfig = z.infer<typeof attachmentsConfigSchema>;
