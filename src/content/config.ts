// Config section "content" (Layer 2): MIME parsing and conformance, attachments, archives, content
// rules, clamd, and how the content pipeline runs (worker threads).
import { z } from 'zod';
import { mimeConfigSchema } from './mime/config.js';
import { attachmentsConfigSchema } from './attachments/config.js';
import { archivesConfigSchema } from './archives/config.js';
import { contentRulesConfigSchema } from './rules/config.js';
import { clamdConfigSchema } from './clamd/config.js';

export const contentConfigSchema = z
  .object({
    enabled: z.boolean().default(true).describe('Run the content pipeline (MIME, attachments, archives, rules, clamd). Off only for a pure envelope filter.'),
    workers: z
      .number()
      .int()
      .min(0)
      .max(64)
      .default(2)
      .describe('Worker threads for content analysis, so one heavy message never stalls other sessions. 0 runs in the main thread (tests, tiny sites).'),
    mime: mimeConfigSchema,
    attachments: attachmentsConfigSchema,
    archives: archivesConfigSchema,
    rules: contentRulesConfigSchema,
    clamd: clamdConfigSchema,
  })
  .prefault({});
export type ContentConfig = z.infer<typeof contentConfigSchema>;
