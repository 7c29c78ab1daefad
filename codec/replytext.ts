// Building SMTP reply text for SMFIR_REPLYCODE so both MTAs take it: code and enhanced-status class
// agree, every '%' is doubled (sendmail formats the text with printf; Postfix turns '%%' back into
// '%'), at most 32 lines of at most 980 characters, no CR/LF inside a line, no NUL.
import { MilterProtocolError } from './errors.js';

export interface ReplySpec {
  code: number;
  enhanced?: string;
  text: string | readonly string[];
}

export const MAX_REPLY_LINES = 32;
export const MAX_REPLY_LINE = 980;

/** Produce the REPLYCODE payload text, or throw BAD_REPLY naming what is wrong. */
export function formatReplyText(spec: ReplySpec): string {
  const { code } = spec;
  if (!Number.isInteger(code) || code < 400 || code > 599) {
    throw new MilterProtocolError('BAD_REPLY', `reply code ${code} is not 4xx or 5xx`);
  }
  const cls = String(code)[0]!;
  const enhanced = spec.enhanced ?? `${cls}.0.0`;
  if (!/^[245]\.\d{1,3}\.\d{1,3}$/.test(enhanced) || enhanced[0] !== cls) {
    throw new MilterProtocolError('BAD_REPLY', `enhanced code ${enhanced} does not match reply code ${code}`);
  }
  const lines = (typeof spec.text === 'string' ? [spec.text] : [...spec.text]).map(sanitiseLine);
  if (lines.length === 0) lines.push('');
  if (lines.length > MAX_REPLY_LINES) {
    throw new MilterProtocolError('BAD_REPLY', `reply has ${lines.length} lines, limit ${MAX_REPLY_LINES}`);
  }
  return lines
    .map((line, i) => `${code}${i === lines.length - 1 ? ' ' : '-'}${enhanced} ${line}`.trimEnd())
    .join('\r\n');
}

/** Strip what may not appear in a reply line and double '%'. Over-long lines are cut, not refused. */
function sanitiseLine(line: string): string {
  // eslint-disable-next-line no-control-regex
  let clean = line.replace(/[\r\n\0]+/g, ' ').replace(/[\x01-\x1f\x7f]/g, ' ');
  if (clean.length > MAX_REPLY_LINE - 20) clean = clean.slice(0, MAX_REPLY_LINE - 23) + '...';
  return clean.replace(/%/g, '%%');
}
