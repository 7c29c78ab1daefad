// Shared building blocks for the config schema: rule actions, SMTP replies, durations.
// Every section schema in the project is built from these so the same words mean the same thing.
import { z } from 'zod';

/** What a rule does when it fires (see RuleAction in src/policy/types.ts). */
export const ruleActionSchema = z.enum(['accept', 'reject', 'tempfail', 'discard', 'quarantine', 'score', 'log', 'off']);
export type ConfiguredAction = z.infer<typeof ruleActionSchema>;

/** What to do when a check cannot run (DNS timeout, clamd down, a module throws). Never "accept". */
export const failActionSchema = z.enum(['tempfail', 'reject', 'quarantine']);

/** A reply override: `{ code: 550, enhanced: "5.7.1", text: "..." }`. */
export const smtpReplySchema = z.object({
  code: z.number().int().min(400).max(599),
  enhanced: z.string().regex(/^[245]\.\d{1,3}\.\d{1,3}$/),
  text: z.union([z.string().min(1), z.array(z.string().min(1)).min(1).max(32)]),
});

/** Milliseconds as a positive integer. */
export const millisSchema = z.number().int().positive();
