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
    analysisBudgetBytes: z
      .number()
      .int()
      .min(0)
      .default(32 * 1024 * 1024)
      .describe(
        'Messages analysed at the same time (raw size, summed) stay within this many bytes; the next one waits its turn (a wait, not a refusal: only its end-of-message timeout can tempfail it). A message is always analysed when nothing else is, whatever its size. Analysis needs about twice to three times the raw size in memory (raw bytes, decoded parts, text), so this bounds peak memory when many big messages arrive at once. 0 = no limit.',
      ),
    workerYoungGenerationMb: z
      .number()
      .int()
      .min(1)
      .max(256)
      .default(4)
      .describe(
        "V8 young-generation size of each content worker (resourceLimits.maxYoungGenerationSizeMb). V8 grows it to tens of MB under big messages and keeps it; a small one costs a few more quick collections and keeps each worker's memory down.",
      ),
    mime: mimeConfigSchema,
    attachments: attachmentsConfigSchema,
    archives: archivesConfigSchema,
    rules: contentRulesConfigSchema,
    clamd: clamdConfigSchema,
  })
  .prefault({});
export type ContentConfig = z.infer<typeof contentConfigSchema>;
