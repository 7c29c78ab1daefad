// The data-leak content check (rule ids dataleak.card, dataleak.ssn, dataleak.iban, dataleak.<dictionary>):
// counts distinct valid sensitive values in the decoded text of every part (and, optionally, the raw
// bytes of parts without text; UTF-16 bytes are decoded, and UTF-16 text runs anywhere in binary bytes
// are pulled out), after folding obfuscation (normalize.ts),
// and fires per rule at its threshold. Text it could not see whole (a part's text cut by a parser
// limit, the scan budget) is reported as dataleak.incomplete — never a silent pass. Hits carry counts
// only — the matched data never leaves this file (not in details, not in logs).
import type { RE2 } from 're2-wasm';
import type { ContentCheck, ContentEnvironment, ParsedMessage } from '../../../content/types.js';
import type { Direction, RuleAction, RuleHit } from '../../types.js';
import type { DataLeakConfig, DictionaryConfig, OutboundConfig } from '../config.js';
import { dictionarySchema } from '../config.js';
import { OutboundConfigError, compileRe2, readYamlFile } from '../files.js';
import { decodeUtf16, foldForScan, foldLatin1ForScan, utf16Encoding, utf16TextRuns } from './normalize.js';
import { scanCards, scanIbans, scanSsns } from './scan.js';

/** Most distinct values remembered per rule; counts beyond are reported as "at least". */
const MAX_DISTINCT = 100_000;
/** re2-wasm copies its input on every call: dictionaries run on chunks of about this size (cut at line ends). */
const CHUNK = 64 * 1024;

interface CompiledDictionary {
  config: DictionaryConfig;
  regexes: RE2[];
  /** The whole-word regex (last in regexes) whose group 1 is the word; undefined when no words. */
  wordsRegex?: RE2;
}

export interface LeakCounts {
  card: number;
  ssn: number;
  iban: number;
  dictionaries: Record<string, number>;
  /** Characters scanned (text and binary). */
  scanned: number;
  /** Set when the scan stopped early (time budget, error): counts are a lower bound; yields failAction. */
  incomplete?: string;
  /** What the scan could not see whole (text cut by a limit, scan size bound): yields incompleteAction. */
  cut?: string[];
}

/** Most cut parts named in a dataleak.incomplete detail. */
const MAX_CUTS_NAMED = 3;

/** A dataleak.incomplete hit, with its own SMTP reply when it refuses (the scan, not the data, is the reason). */
function incompleteHit(action: RuleAction, detail: string): RuleHit {
  const hit: RuleHit = { rule: 'dataleak.incomplete', action, detail, where: 'message' };
  if (action === 'reject') {
    hit.reply = { code: 550, enhanced: '5.7.1', text: 'Message refused: it could not be fully scanned for sensitive data' };
  } else if (action === 'tempfail') {
    hit.reply = { code: 451, enhanced: '4.7.1', text: 'Message not accepted for now: it could not be fully scanned for sensitive data, try again later' };
  }
  return hit;
}

class DistinctCounter {
  private readonly seen = new Set<string>();
  private overflow = 0;
  add(v: string): void {
    if (this.seen.size < MAX_DISTINCT) this.seen.add(v);
    else if (!this.seen.has(v)) this.overflow++;
  }
  get count(): number {
    return this.seen.size + this.overflow;
  }
}

function escapeRe2(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}

function compileDictionary(d: DictionaryConfig): CompiledDictionary {
  const flags = d.caseInsensitive ? 'gi' : 'g';
  const regexes = d.patterns.map((p) => compileRe2(p, flags, `dataleak.${d.id}`));
  let wordsRegex: RE2 | undefined;
  if (d.words.length > 0) {
    const alt = d.words.map((w) => escapeRe2(w.trim()).replace(/\s+/g, '\\s+')).join('|');
    // Whole words in any script: not preceded or followed by a letter, digit or underscore.
    wordsRegex = compileRe2(`(?:^|[^\\p{L}\\p{N}_])(${alt})(?:[^\\p{L}\\p{N}_]|$)`, flags, `dataleak.${d.id} words`);
    regexes.push(wordsRegex);
  }
  return { config: d, regexes, wordsRegex };
}

function* chunks(text: string): Generator<string> {
  let i = 0;
  while (i < text.length) {
    let end = Math.min(text.length, i + CHUNK);
    if (end < text.length) {
      const nl = text.lastIndexOf('\n', end);
      if (nl > i) end = nl + 1;
    }
    yield text.slice(i, end);
    i = end;
  }
}

function countRegex(re: RE2, text: string, counter: DistinctCounter, ci: boolean, words: boolean): void {
  for (const chunk of chunks(text)) {
    re.lastIndex = 0;
    let guard = 0;
    for (;;) {
      const m = re.exec(chunk);
      if (!m) break;
      const whole = m[0] ?? '';
      const value = (words ? m[1] : undefined) ?? whole;
      counter.add(ci ? value.toLowerCase() : value);
      if (whole.length === 0) re.lastIndex++;
      else if (words) re.lastIndex = Math.max(m.index + 1, re.lastIndex - 1); // the boundary char may precede the next word
      if (++guard > MAX_DISTINCT * 4) break;
    }
  }
}

/** Compiled data-leak rules; build once at start-up (throws OutboundConfigError for bad patterns/files). */
export class DataLeakScanner {
  readonly dictionaries: CompiledDictionary[];
  constructor(readonly config: DataLeakConfig) {
    const dicts: DictionaryConfig[] = [...config.dictionaries];
    if (config.dictionaryFile) {
      const data = readYamlFile(config.dictionaryFile) as { dictionaries?: unknown };
      const list = data?.dictionaries ?? [];
      if (!Array.isArray(list)) throw new OutboundConfigError(`${config.dictionaryFile}: "dictionaries" must be a list`);
      for (const raw of list) {
        const r = dictionarySchema.safeParse(raw);
        if (!r.success) throw new OutboundConfigError(`${config.dictionaryFile}: bad dictionary: ${r.error.message}`);
        dicts.push(r.data);
      }
    }
    const ids = new Set<string>();
    for (const d of dicts) {
      if (['card', 'ssn', 'iban', 'incomplete'].includes(d.id) || ids.has(d.id))
        throw new OutboundConfigError(`dataleak dictionary id "${d.id}" is reserved or used twice`);
      ids.add(d.id);
    }
    this.dictionaries = dicts.map(compileDictionary);
  }

  appliesTo(direction: Direction): boolean {
    return this.config.enabled && this.config.directions.includes(direction);
  }

  /** Count distinct valid values in the message. Never throws for bad content. */
  count(message: ParsedMessage, signal?: AbortSignal): LeakCounts {
    const cfg = this.config;
    const card = new DistinctCounter();
    const ssn = new DistinctCounter();
    const iban = new DistinctCounter();
    const dict = this.dictionaries.map(() => new DistinctCounter());
    let scanned = 0;
    let incomplete: string | undefined;
    const cut: string[] = [];

    const scanText = (raw: string, folded: boolean): void => {
      const text = folded ? raw : foldForScan(raw);
      if (cfg.card.enabled) scanCards(text, (v) => card.add(v));
      if (cfg.ssn.enabled) scanSsns(text, (v) => ssn.add(v), cfg.ssnUnformatted);
      if (cfg.iban.enabled) scanIbans(text, (v) => iban.add(v));
      this.dictionaries.forEach((d, k) => {
        for (const re of d.regexes) countRegex(re, text, dict[k]!, d.config.caseInsensitive, re === d.wordsRegex);
      });
    };

    const texts: Array<() => string | undefined> = [() => message.subject ?? ''];
    /** Getters whose text comes folded already (binary bytes read as latin1). */
    const prefolded = new Set<() => string | undefined>();
    for (const part of message.parts ?? []) {
      const c = part.content as unknown as Uint8Array | undefined;
      const bytes = c ? Buffer.from(c.buffer, c.byteOffset, c.byteLength) : undefined;
      // UTF-16 text (csv/txt exported by spreadsheets, with or without BOM) is unreadable as latin1 or
      // as a mislabelled charset: decode it too (values already counted from part.text count once).
      const utf16 = bytes && (typeof part.text === 'string' || cfg.scanBinaryParts) ? utf16Encoding(bytes) : undefined;
      if (typeof part.text === 'string') {
        texts.push(() => part.text);
        if (part.textTruncated) cut.push(`part ${part.path}: ${part.textTruncated}`);
      } else if (cfg.scanBinaryParts && bytes && !utf16) {
        const latin1 = (): string => foldLatin1ForScan(bytes);
        prefolded.add(latin1);
        texts.push(latin1);
        // UTF-16 text inside a binary file (a .doc's text stream after its header and tables)
        texts.push(() => utf16TextRuns(bytes));
      }
      if (bytes && utf16) texts.push(() => decodeUtf16(bytes, utf16));
      // a PDF's or an office document's text as a reader shows it (the bytes above are compressed or split into runs)
      if (typeof part.documentText === 'string') {
        const documentText = part.documentText;
        texts.push(() => documentText);
        if (part.documentTextTruncated) cut.push(`part ${part.path}: ${part.documentTextTruncated}`);
      }
    }
    for (const get of texts) {
      if (signal?.aborted) {
        incomplete = 'time budget exhausted';
        break;
      }
      const text = get();
      if (text === undefined || text.length === 0) continue;
      if (scanned + text.length > cfg.maxScanBytes) {
        cut.push(`more than ${cfg.maxScanBytes} characters to scan (outbound.dataLeak.maxScanBytes)`);
        break;
      }
      scanned += text.length;
      scanText(text, prefolded.has(get));
    }
    const dictionaries: Record<string, number> = {};
    this.dictionaries.forEach((d, k) => (dictionaries[d.config.id] = dict[k]!.count));
    return {
      card: card.count, ssn: ssn.count, iban: iban.count, dictionaries, scanned,
      ...(incomplete ? { incomplete } : {}),
      ...(cut.length > 0 ? { cut } : {}),
    };
  }

  /** Turn counts into hits (thresholds, actions, encryption allowance). Details carry counts only. */
  hits(counts: LeakCounts, encrypted: boolean): RuleHit[] {
    const out: RuleHit[] = [];
    const add = (
      rule: string,
      n: number,
      rc: { threshold: number; action: string; allowEncrypted: boolean },
      what: string,
    ): void => {
      if (rc.action === 'off' || n < rc.threshold) return;
      const approx = counts.incomplete || counts.cut ? 'at least ' : '';
      let action = rc.action as RuleAction;
      let detail = `${approx}${n} ${what} (threshold ${rc.threshold})`;
      if (encrypted && rc.allowEncrypted) {
        action = 'log';
        detail += ', allowed: message is encrypted';
      }
      const hit: RuleHit = { rule, action, detail, where: 'message' };
      if (action === 'reject' || action === 'tempfail') {
        hit.reply = {
          code: action === 'reject' ? 550 : 451,
          enhanced: action === 'reject' ? '5.7.1' : '4.7.1',
          text: 'Message refused: it appears to contain sensitive data that may not leave the organisation',
        };
      }
      out.push(hit);
    };
    const c = this.config;
    if (c.card.enabled) add('dataleak.card', counts.card, c.card, counts.card === 1 ? 'valid card number' : 'valid card numbers');
    if (c.ssn.enabled) add('dataleak.ssn', counts.ssn, c.ssn, counts.ssn === 1 ? 'valid SSN' : 'valid SSNs');
    if (c.iban.enabled) add('dataleak.iban', counts.iban, c.iban, counts.iban === 1 ? 'valid IBAN' : 'valid IBANs');
    for (const d of this.dictionaries) {
      const n = counts.dictionaries[d.config.id] ?? 0;
      add(`dataleak.${d.config.id}`, n, d.config, `${n === 1 ? 'match' : 'matches'} of dictionary ${d.config.id}`);
    }
    if (counts.incomplete) {
      out.push(incompleteHit(c.failAction, `data-leak scan incomplete: ${counts.incomplete}`));
    } else if (counts.cut && counts.cut.length > 0) {
      const named = counts.cut.slice(0, MAX_CUTS_NAMED).join('; ');
      const more = counts.cut.length > MAX_CUTS_NAMED ? `; and ${counts.cut.length - MAX_CUTS_NAMED} more` : '';
      out.push(incompleteHit(c.incompleteAction, `data-leak scan incomplete, not scanned: ${named}${more}`));
    }
    return out;
  }

  /** The helper the engine or pipeline can call directly: counts + hits for one parsed message. */
  evaluate(message: ParsedMessage, direction: Direction, signal?: AbortSignal): RuleHit[] {
    if (!this.appliesTo(direction)) return [];
    try {
      return this.hits(this.count(message, signal), message.encrypted === true);
    } catch (err) {
      return [incompleteHit(this.config.failAction, `data-leak scan failed: ${(err as Error).name}`)];
    }
  }
}

/** ContentCheck "dataleak" for the content pipeline. Accepts the whole outbound config or its dataLeak section. */
export function createDataLeakCheck(config: OutboundConfig | DataLeakConfig): ContentCheck & { scanner: DataLeakScanner } {
  const section: DataLeakConfig = 'dataLeak' in config ? config.dataLeak : config;
  const enabled = 'dataLeak' in config ? config.enabled && section.enabled : section.enabled;
  const scanner = new DataLeakScanner({ ...section, enabled });
  return {
    id: 'dataleak',
    scanner,
    run(message: ParsedMessage, env: ContentEnvironment): RuleHit[] {
      return scanner.evaluate(message, env.direction, env.signal);
    },
  };
}
