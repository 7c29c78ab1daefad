// Config section "contentRules": which YAML rule files score message text, and the default
// message-score thresholds the engine applies (header / quarantine / reject).
import { z } from 'zod';
import { failActionSchema } from '../../config/common.js';

export const contentRulesConfigSchema = z
  .object({
    enabled: z.boolean().default(true).describe('Word/phrase/regex rules give cheap spam and phishing signals the score thresholds act on.'),
    files: z
      .array(z.string().min(1))
      .default(['rules/content.yaml'])
      .describe('Rule files (YAML, see rules/README.md), loaded in order; rule ids must be unique across files.'),
    thresholds: z
      .object({
        header: z.number().default(3).describe('Score at which the X-Postern-Score/spam header is added.'),
        quarantine: z.number().default(8).describe('Score at which the message is quarantined.'),
        reject: z.number().default(15).describe('Score at which the message is rejected (550 5.7.1).'),
      })
      .prefault({})
      .describe('Message-level score thresholds, applied by the engine to the sum of score hits.'),
    maxTextChars: z
      .number()
      .int()
      .positive()
      .default(512 * 1024)
      .describe('Characters of each text item (subject, body part, header) scanned; bounds CPU (re2-wasm ~1 s per MB of mixed text with the starter set).'),
    maxCountedMatches: z
      .number()
      .int()
      .positive()
      .default(50)
      .describe('Matches counted per rule and text item (the count is shown in the hit, not multiplied into the score).'),
    failAction: failActionSchema
      .default('tempfail')
      .describe('content.error: what to do when rule matching fails (never a silent accept).'),
  })
  .prefault({});

export type ContentRulesConfig = z.infer<typeof contentRulesConfigSchema>;
