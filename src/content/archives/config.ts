// Config section "archives": how deep and how much we open archives, and what over-limit or
// unreadable archives lead to. Limits are checked BEFORE inflating (declared sizes) and enforced
// again while inflating (actual bytes), so a bomb costs at most the configured budget.
import { z } from 'zod';
import { ruleActionSchema } from '../../config/common.js';

export const archivesConfigSchema = z
  .object({
    enabled: z.boolean().default(true).describe('Archive members must be seen by the attachment check and clamd; archives are the commonest wrapper for payloads.'),
    maxDepth: z
      .number()
      .int()
      .min(1)
      .max(16)
      .default(4)
      .describe('Archive nesting levels opened (zip in zip in ...). Deeper nesting is reported as archive.unchecked (EVASION 5.2 #16, #19).'),
    maxEntries: z
      .number()
      .int()
      .positive()
      .default(1000)
      .describe('Entries per archive; more is a classic bomb/exhaustion trick (clamav MaxFiles).'),
    maxTotalEntries: z
      .number()
      .int()
      .positive()
      .default(5000)
      .describe('Members produced for one message across all archives.'),
    maxDeclaredBytes: z
      .number()
      .int()
      .positive()
      .default(100 * 1024 * 1024)
      .describe('Sum of declared uncompressed sizes of one archive, checked before inflating anything.'),
    maxMemberBytes: z
      .number()
      .int()
      .positive()
      .default(50 * 1024 * 1024)
      .describe('Largest single member we inflate; larger members are unchecked.'),
    maxInflatedBytes: z
      .number()
      .int()
      .positive()
      .default(200 * 1024 * 1024)
      .describe('Actual bytes inflated for one message across all archives (memory budget; declared sizes may lie).'),
    maxRatio: z
      .number()
      .positive()
      .default(200)
      .describe('Per-entry uncompressed/compressed ratio above which an entry is treated as a bomb...'),
    ratioMinBytes: z
      .number()
      .int()
      .nonnegative()
      .default(1024 * 1024)
      .describe('...but only for entries at least this large (small sparse files compress very well legitimately).'),
    tarContentMaxBytes: z
      .number()
      .int()
      .positive()
      .default(10 * 1024 * 1024)
      .describe('tar members up to this size get their content attached; larger ones are listed by name only.'),
    actions: z
      .object({
        unchecked: ruleActionSchema.default('quarantine').describe('archive.unchecked: over a limit, corrupt, unsupported method, or a disk-image partition whose file system is not read: content was not (fully) checked.'),
        encrypted: ruleActionSchema.default('quarantine').describe('archive.encrypted: password-protected members cannot be scanned; a favourite malware wrapper.'),
        nameMismatch: ruleActionSchema
          .default('quarantine')
          .describe(
            'archive.name-mismatch: extractors disagree about a member — a zip local header name differs from the central directory name, a RAR entry our header reader lists is not in the 7-Zip listing, or the UDF tree of an ISO differs from its ISO 9660 tree.',
          ),
        hiddenEntry: ruleActionSchema
          .default('quarantine')
          .describe(
            'archive.hidden-entry: a zip local file header that no central-directory record lists — streaming extractors unpack it, directory readers (and a name check reading the directory) do not see it (EVASION 5.2 #17). Its name and content are checked as well.',
          ),
        unsupported: ruleActionSchema
          .default('quarantine')
          .describe(
            'archive.unsupported: a container we cannot look inside (ACE; RAR, ARJ, LZH, zstd and disk images are opened): names and true types inside go unchecked, as with archive.unchecked; clamd still scans it.',
          ),
      })
      .prefault({})
      .describe('Action per archive rule; "off" disables a rule.'),
  })
  .prefault({});

export type ArchivesConfig = z.infer<typeof archivesConfigSchema>;
