// RFC 5322 / 2045 conformance checks over the raw message: line lengths, NUL, bare CR, 8-bit
// header bytes, header sizes and counts, duplicate single-instance headers, missing From/Date.
// One linear pass over the bytes; it records hits, never changes or copies the message.
import type { MimeConfig } from './config.js';
import type { HitSink } from './hits.js';
import type { HeaderBlock } from './headers.js';

/** Scans every line of the raw message once. */
export function checkRawLines(raw: Buffer, headerEnd: number, config: MimeConfig, sink: HitSink): void {
  const soft = config.lineLength.limit;
  const hard = config.lineLengthHard.limit;
  let pos = 0;
  let line = 0;
  let longest = 0;
  let longestLine = 0;
  let overSoft = 0;
  let overHard = 0;
  let firstOverHard = 0;
  while (pos < raw.length) {
    let nl = raw.indexOf(10, pos);
    if (nl < 0) nl = raw.length;
    line++;
    let len = nl - pos;
    if (len > 0 && raw[nl - 1] === 13) len--;
    if (len > soft) {
      overSoft++;
      if (len > longest) {
        longest = len;
        longestLine = line;
      }
      if (len > hard) {
        overHard++;
        if (!firstOverHard) firstOverHard = line;
      }
    }
    pos = nl + 1;
  }
  if (overHard) {
    sink.add('lineLengthHard', 'rfc.line-length-hard',
      `${overHard} line(s) over ${hard} octets, longest ${longest} octets (line ${longestLine})`,
      `line ${firstOverHard}`);
  } else if (overSoft) {
    sink.add('lineLength', 'rfc.line-length',
      `${overSoft} line(s) over ${soft} octets, longest ${longest} octets (line ${longestLine})`,
      `line ${longestLine}`);
  }
  let nul = 0;
  let firstNul = -1;
  for (let i = raw.indexOf(0); i >= 0; i = raw.indexOf(0, i + 1)) {
    if (firstNul < 0) firstNul = i;
    nul++;
  }
  if (nul) sink.add('nul', 'rfc.nul', `${nul} NUL byte(s), first at offset ${firstNul}`, firstNul < headerEnd ? 'header' : 'body');
  let bareCr = 0;
  let firstCr = -1;
  for (let i = raw.indexOf(13); i >= 0; i = raw.indexOf(13, i + 1)) {
    if (raw[i + 1] !== 10) {
      if (firstCr < 0) firstCr = i;
      bareCr++;
    }
  }
  if (bareCr) sink.add('bareCr', 'rfc.bare-cr', `${bareCr} bare CR byte(s), first at offset ${firstCr}`, firstCr < headerEnd ? 'header' : 'body');
}

const SINGLE = ['from', 'sender', 'to', 'subject', 'date', 'message-id', 'content-type', 'content-transfer-encoding', 'mime-version'];

/** Checks a header block; `top` for the message's own header (From/Date/8-bit/duplicates). */
export function checkHeaders(
  block: HeaderBlock,
  where: string,
  top: boolean,
  smtputf8: boolean,
  config: MimeConfig,
  sink: HitSink,
): void {
  const headers = block.headers;
  if (block.count > config.headerCount.limit) {
    sink.add('headerCount', 'rfc.header-count', `${block.count} header fields (limit ${config.headerCount.limit})`, where);
  }
  for (const h of headers) {
    if (h.length > config.headerLength.limit) {
      sink.add('headerLength', 'rfc.header-length', `${h.name} is ${h.length} octets unfolded (limit ${config.headerLength.limit})`, `${where} ${h.name}`);
    } else if ((h.key === 'content-type' || h.key === 'content-disposition') && h.length > config.mimeHeaderLength.limit) {
      sink.add('mimeHeaderLength', 'rfc.mime-header-length', `${h.name} is ${h.length} octets unfolded (limit ${config.mimeHeaderLength.limit})`, `${where} ${h.name}`);
    }
  }
  if (!top) return;
  if (!smtputf8) {
    const bad = headers.find((h) => /[\x80-\xff]/.test(h.value));
    if (bad) sink.add('eightBitHeader', 'rfc.8bit-header', `8-bit bytes in header ${bad.name} without SMTPUTF8`, `header ${bad.name}`);
  }
  const byKey = new Map<string, string[]>();
  for (const h of headers) {
    if (!SINGLE.includes(h.key)) continue;
    const list = byKey.get(h.key) ?? [];
    list.push(h.value);
    byKey.set(h.key, list);
  }
  for (const [key, values] of byKey) {
    if (values.length < 2) continue;
    const norm = new Set(values.map((v) => v.replace(/\s+/g, ' ').trim().toLowerCase()));
    const name = headers.find((h) => h.key === key)!.name;
    if (norm.size > 1) {
      sink.add('duplicateHeader', 'rfc.duplicate-header', `${values.length} ${name} headers with different values`, `header ${name}`);
    } else {
      sink.add('duplicateHeaderSame', 'rfc.duplicate-header-same', `${values.length} identical ${name} headers`, `header ${name}`);
    }
  }
  if (!byKey.has('from')) sink.add('missingFrom', 'rfc.missing-from', 'no From header', 'header');
  if (!headers.some((h) => h.key === 'date')) sink.add('missingDate', 'rfc.missing-date', 'no Date header', 'header');
}
