// A pino logger that keeps its lines in memory, for tests that assert what was logged.
import { pino } from 'pino';
import type { Logger } from '../../src/log/logger.js';

export interface Captured {
  logger: Logger;
  lines: { level: number; msg: string; [k: string]: unknown }[];
}

export function capture(): Captured {
  const lines: Captured['lines'] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s)) }) as unknown as Logger;
  return { logger, lines };
}
