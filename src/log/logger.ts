// The one structured logger (pino) every module receives; modules never create their own.
import { pino, type Logger as PinoLogger, type LevelWithSilent } from 'pino';

export type Logger = PinoLogger;

export interface LoggerOptions {
  level?: LevelWithSilent;
  /** Where to write: a file descriptor (1 = stdout, 2 = stderr) or a file path. */
  destination?: number | string;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const dest = pino.destination({ dest: options.destination ?? 1, sync: false });
  return pino({ level: options.level ?? 'info', base: { svc: 'postern' } }, dest);
}

/** A logger that discards everything (tests that do not look at logs). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
