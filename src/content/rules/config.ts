// Config section "content.rules": which YAML rule files score message text. The message-score
// thresholds (header / quarantine / reject) live in policy.scoring, applied by the engine.
import { z } from 'zod';
import { failActionSchema } from '../../config/common.js';

export const contentRulesConfigSchema = z
  .object({
    enabled: z.boolean().default(true).describe('Word/phrase/regex rules give cheap spam and phishing signals the score thresholds act on.'),
    files: z
      .array(z.string().min(1))
      .default(['rules/content.yaml'])
      .describe('Rule files (YAML, see rules/README.md), loaded in order; rule ids must be unique across files.'),
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
