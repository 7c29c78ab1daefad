// Helpers for the MIME parser unit tests: build small raw messages inline and find hits/parts.
import type { RuleHit } from '../../src/policy/types.js';
import type { ParsedMessage } from '../../src/content/types.js';

/** Joins lines with CRLF into a Buffer (latin1, so tests can place raw 8-bit bytes). */
export function msg(...lines: string[]): Buffer {
  return Buffer.from(lines.join('\r\n'), 'latin1');
}

/** A minimal valid header block (From, Date, MIME-Version) followed by `extra` lines. */
export const HDR = ['From: a@example.com', 'To: b@example.com', 'Date: Thu, 3 Dec 2026 10:00:00 +0000', 'Subject: t', 'MIME-Version: 1.0'];

export function hit(m: ParsedMessage, rule: string): RuleHit | undefined {
  return m.hits.find((h) => h.rule === rule);
}

export function rules(m: ParsedMessage): string[] {
  return m.hits.map((h) => h.rule);
}

export const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');
