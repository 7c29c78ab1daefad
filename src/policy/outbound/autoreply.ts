// Recognises automatic replies (out-of-office, vacation, auto-acknowledgements) and automatic forwards
// from their headers and Subject. Used at EOM on outbound mail. Pure after construction; never throws
// for malformed headers (a header that cannot be read is simply not an indicator).
//
// Indicators and what they mean:
//  * Auto-Submitted (RFC 3834): any keyword other than "no" (auto-replied, auto-generated, auto-notified;
//    a keyword containing "forward" marks a forward). Comments "(...)" are ignored.
//  * X-Autoreply, X-Autorespond: set by vacation programs and many autoresponders ("yes").
//  * Precedence: auto_reply / bulk / junk (configurable): vacation(1) and others mark their replies so.
//  * X-MS-Exchange-Inbox-Rules-Loop: Exchange stamps it when a mailbox rule redirected, forwarded or
//    auto-replied to the message (value = the mailbox) — reply or forward, decided by the other marks.
//  * X-MS-Exchange-Generated-Message-Source: Exchange marks system-generated messages with the agent
//    that made them ("Mailbox Rules Agent" for inbox rules / OOF): automatic.
//  * X-MS-Exchange-Organization-AutoForwarded: true, X-MS-Exchange-ForwardingLoop: automatic forward.
//  * NOT an indicator: X-Auto-Response-Suppress — the sender's request that nobody auto-reply to it
//    (Outlook and bulk mailers set it on ordinary mail).
//  * Subject patterns (rules/autoreply.yaml + config), RE2, case-insensitive, on the decoded Subject.
import type { HeaderField } from '../types.js';
import { AddressList } from './addr.js';
import type { OutboundConfig } from './config.js';
import { compileRe2, readYamlFile } from './files.js';
import { decodeHeaderValue } from './rfc2047.js';
import type { RE2 } from 're2-wasm';

export type AutomaticKind = 'autoreply' | 'autoforward';

export interface AutomaticVerdict {
  kind: AutomaticKind;
  /** Which marks were found (header names / "subject"), for the trace. Never header values. */
  indicators: string[];
}

/** Longest header value looked at: a huge malformed header is truncated, not scanned whole. */
const MAX_VALUE = 4096;

function firstToken(value: string): string {
  return value
    .slice(0, MAX_VALUE)
    .replace(/\([^()]*\)/g, ' ')
    .trim()
    .split(/[\s;,]+/)[0]!
    .toLowerCase();
}

export class AutoReplyDetector {
  private readonly patterns: RE2[];
  private readonly precedence: Set<string>;
  readonly exempt: AddressList;

  constructor(private readonly config: OutboundConfig['autoreply']) {
    const sources: string[] = [];
    if (config.subjectPatternsFile) {
      const data = readYamlFile(config.subjectPatternsFile) as { subjectPatterns?: unknown };
      const list = data?.subjectPatterns;
      if (Array.isArray(list)) for (const p of list) if (typeof p === 'string' && p) sources.push(p);
    }
    sources.push(...config.subjectPatterns);
    this.patterns = sources.map((p) => compileRe2(p, 'i', 'outbound.autoreply subject pattern'));
    this.precedence = new Set(config.precedence.map((p) => p.toLowerCase()));
    this.exempt = new AddressList(config.exemptSenders);
  }

  get patternCount(): number {
    return this.patterns.length;
  }

  subjectMatches(subject: string): boolean {
    // Invisible format characters and runs of white space must not hide a marker ("Out  of office").
    const s = subject
      .slice(0, MAX_VALUE)
      .normalize('NFKC')
      .replace(/\p{Cf}/gu, '')
      .replace(/\s+/g, ' ')
      .trim();
    for (const re of this.patterns) {
      re.lastIndex = 0;
      if (re.test(s)) return true;
    }
    return false;
  }

  /**
   * Classify a message. `nullSender`: the envelope sender is <>. Returns undefined for ordinary mail,
   * for bounces / DSN / MDN reports, and (nullSender "bounce-aware") for null-sender mail whose only marks
   * are Auto-Submitted / Precedence, which every bounce carries.
   */
  detect(headers: readonly HeaderField[], nullSender: boolean): AutomaticVerdict | undefined {
    if (nullSender && this.config.nullSender === 'pass') return undefined;
    const weak: string[] = []; // marks every bounce also has
    const strong: string[] = [];
    let forward = false;
    let reply = false;
    let ruleLoop = false;
    let isReport = false;
    let subject = '';

    for (const h of headers) {
      const name = h.name.trim().toLowerCase();
      const raw = typeof h.value === 'string' ? h.value : '';
      switch (name) {
        case 'auto-submitted': {
          const kw = firstToken(raw);
          if (kw && kw !== 'no') {
            weak.push('Auto-Submitted');
            if (kw.includes('forward')) forward = true;
            else if (kw === 'auto-replied') reply = true;
          }
          break;
        }
        case 'x-autoreply':
        case 'x-autorespond':
        case 'x-autoresponder': {
          const kw = firstToken(raw);
          if (kw !== 'no' && kw !== 'false' && kw !== '0') {
            strong.push(h.name.trim());
            reply = true;
          }
          break;
        }
        case 'precedence':
          if (this.precedence.has(firstToken(raw))) weak.push('Precedence');
          break;
        case 'x-ms-exchange-inbox-rules-loop':
          strong.push(h.name.trim());
          ruleLoop = true;
          break;
        case 'x-ms-exchange-generated-message-source':
          strong.push(h.name.trim());
          break;
        case 'x-ms-exchange-organization-autoforwarded':
          if (firstToken(raw) === 'true') {
            strong.push(h.name.trim());
            forward = true;
          }
          break;
        case 'x-ms-exchange-forwardingloop':
          strong.push(h.name.trim());
          forward = true;
          break;
        case 'content-type':
          if (/^\s*multipart\/report\b/i.test(raw.slice(0, MAX_VALUE))) isReport = true;
          break;
        case 'subject':
          if (!subject) subject = decodeHeaderValue(raw.slice(0, MAX_VALUE));
          break;
        default:
          break;
      }
    }
    if (subject && this.subjectMatches(subject)) {
      strong.push('subject');
      reply = true;
    }
    if (nullSender) {
      // Bounces, delayed-delivery warnings, read receipts and feedback reports are not auto-replies.
      if (isReport || strong.length === 0) return undefined;
    }
    const indicators = [...new Set([...strong, ...weak])];
    if (indicators.length === 0) return undefined;
    // A mailbox rule that acted without any reply mark (no "Automatic reply:" subject, no auto-replied) forwarded.
    const kind: AutomaticKind = reply ? 'autoreply' : forward || ruleLoop ? 'autoforward' : 'autoreply';
    return { kind, indicators };
  }
}
