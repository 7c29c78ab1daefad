// Picks the quarantine backend for `postern quarantine`: Postfix (hold queue) or sendmail
// (quarantined queue items), from --mta or by looking for each MTA's tools.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PostfixQuarantine } from './postfix.js';
import { SendmailQuarantine } from './sendmail.js';
import { findTool } from './tools.js';
import { QuarantineError, type MtaKind, type QuarantineBackend } from './types.js';

export { QuarantineError } from './types.js';
export type { HeldMessage, ShownMessage, PosternReason, QuarantineBackend, MtaKind } from './types.js';

export interface BackendOptions {
  mta?: MtaKind | 'auto';
  /** Postfix: its config directory (-c). sendmail: a directory holding sendmail.cf. */
  configDir?: string;
  /** sendmail: the .cf file (wins over configDir). */
  cfFile?: string;
  /** sendmail: the binary (or a wrapper). */
  sendmail?: string;
  traceHeader?: string;
  logFile?: string;
}

/** auto: postqueue present → postfix; else a sendmail.cf present → sendmail. */
export function detectMta(o: BackendOptions): MtaKind {
  if (o.cfFile || o.sendmail) return 'sendmail';
  if (o.configDir && existsSync(path.join(o.configDir, 'main.cf'))) return 'postfix';
  if (o.configDir && existsSync(path.join(o.configDir, 'sendmail.cf'))) return 'sendmail';
  if (findTool('postqueue')) return 'postfix';
  if (existsSync('/etc/mail/sendmail.cf')) return 'sendmail';
  throw new QuarantineError('no-mta', 'neither Postfix (postqueue) nor sendmail (/etc/mail/sendmail.cf) found: install one, or pass --mta and its paths');
}

export function createBackend(o: BackendOptions): QuarantineBackend {
  const mta = !o.mta || o.mta === 'auto' ? detectMta(o) : o.mta;
  const common = { ...(o.traceHeader ? { traceHeader: o.traceHeader } : {}), ...(o.logFile ? { logFile: o.logFile } : {}) };
  if (mta === 'postfix') return new PostfixQuarantine({ ...common, ...(o.configDir ? { configDir: o.configDir } : {}) });
  const cfFile = o.cfFile ?? (o.configDir ? path.join(o.configDir, 'sendmail.cf') : undefined);
  return new SendmailQuarantine({ ...common, ...(cfFile ? { cfFile } : {}), ...(o.sendmail ? { binary: o.sendmail } : {}) });
}
