// The content-rules ContentCheck: runs compiled word/phrase/regex rules (RE2, linear time) over the
// decoded, NFKC-normalised subject, body text, HTML source, attachment names and header values, and
// returns one `content.<id>` hit per rule that matched (action 'score' by default, with the rule's
// weight). It never applies thresholds: the engine sums scores and compares with policy.scoring.
import type { RuleAction, RuleHit } from '../../policy/types.js';
import type { ContentCheck, ParsedMessage } from '../types.js';
import { contentRulesConfigSchema, type ContentRulesConfig } from './config.js';
import type { RE2 } from 're2-wasm';
import { loadRuleFiles, re2Cached, SCOPES, type CompiledRule, type Scope } from './load.js';
import { AsciiWords, asciiWordHash, foldCase, isAsciiWordPiece, phraseMayMatch } from './fold.js';
import { requirementMet } from './prefilter.js';
import { htmlToText, prepareText } from './text.js';

export interface ContentRulesCheck extends ContentCheck {
  readonly rules: readonly CompiledRule[];
}

interface TextItem {
  scope: Scope;
  label: string;
  /** Work on this text, shared by items of one message with the same scope and text. */
  shared: SharedText;
}

interface SharedText {
  text: string;
  /** Case-folded text, made on first use by the literal pre-filter. */
  folded?: string;
  /** Its ASCII words (for phrases), made on first use. */
  words?: AsciiWords;
  /** Whether the scope's combined regex matches anywhere, found on first use. */
  regexMaybe?: boolean;
  /** Match counts per rule already computed on this text. */
  counts?: Map<CompiledRule, number>;
}

const isHtml = (ct: string): boolean => ct === 'text/html' || ct === 'application/xhtml+xml';

function collect(message: ParsedMessage, max: number, used: ReadonlySet<Scope>): TextItem[] {
  const items: TextItem[] = [];
  // a message may repeat one text many times (hundreds of identical parts): prepare and match it once
  // (keyed by scope, then by the text itself: no concatenated copy of a big text as a key)
  const memo = new Map<Scope, Map<string, SharedText>>();
  const item = (scope: Scope, label: string, input: string): TextItem => {
    let byText = memo.get(scope);
    if (!byText) memo.set(scope, (byText = new Map()));
    let shared = byText.get(input);
    if (!shared) byText.set(input, (shared = { text: prepareText(input, max) }));
    return { scope, label, shared };
  };
  // items of a scope no rule looks at are not built (no rule could match them)
  if (message.subject && used.has('subject')) items.push(item('subject', 'subject', message.subject));
  if (used.has('headers')) for (const h of message.headers ?? []) {
    items.push(item('headers', `header ${h.name}`, `${h.name}: ${h.value}`));
  }
  for (const part of message.parts ?? []) {
    if (used.has('attachment-names')) for (const n of part.names ?? []) items.push(item('attachment-names', `name ${part.path}`, n));
    const ct = (part.contentType ?? '').toLowerCase();
    const content = part.content instanceof Uint8Array ? Buffer.from(part.content.buffer, part.content.byteOffset, part.content.byteLength) : undefined;
    if (used.has('html') && (isHtml(ct) || part.trueType === 'html')) {
      if (content) items.push(item('html', `html ${part.path}`, content.subarray(0, max * 4).toString('utf8')));
    }
    if (part.isAttachment || part.origin === 'archive' || !used.has('body')) continue;
    let text = part.text;
    if (text === undefined && content && ct.startsWith('text/')) {
      const raw = content.subarray(0, max * 4).toString('utf8');
      text = isHtml(ct) ? htmlToText(raw) : raw;
    }
    if (text) items.push(item('body', `body ${part.path}`, text));
  }
  return items;
}

function countMatches(rule: CompiledRule, text: string, cap: number): number {
  const re = rule.matcher;
  re.lastIndex = 0;
  let n = 0;
  while (n < cap) {
    const m = re.exec(text);
    if (!m) break;
    n++;
    // A zero-length match would not advance; step past it.
    if (m[0]!.length === 0) re.lastIndex = (m.index ?? re.lastIndex) + 1;
    // Phrase patterns consume one boundary character on each side; step back one so adjacent
    // phrases ("spam spam") are both counted.
    else if (m[0]!.length >= 2 && /[^\p{L}\p{N}_]$/u.test(m[0]!)) re.lastIndex -= 1;
    if (re.lastIndex > text.length) break;
  }
  re.lastIndex = 0;
  return n;
}

export function createContentRulesCheck(input: Partial<ContentRulesConfig> | ContentRulesConfig = {}, preloaded?: CompiledRule[]): ContentRulesCheck {
  const config = contentRulesConfigSchema.parse(input);
  const rules = preloaded ?? (config.enabled ? loadRuleFiles(config.files) : []);
  const used = new Set<Scope>(rules.flatMap((r) => r.scopes));
  // Pre-filter, for speed only (re2-wasm copies the whole text on every call): a rule runs its own
  // matcher on an item only when one of its phrases may match the folded text, or what its regular
  // expressions need (prefilter.ts) is in it — or, for expressions that analysis cannot read, when
  // one RE2 holding all such expressions of the scope matches (run once per item). Counts and hits
  // stay exactly those of the rule matchers.
  const scopeRegex = new Map<Scope, RE2 | null>();
  for (const scope of SCOPES) {
    const sources = [...new Set(rules.filter((r) => r.scopes.includes(scope) && r.regexSource && !r.regexNeed).map((r) => r.regexSource!))];
    if (!sources.length) continue;
    try {
      scopeRegex.set(scope, re2Cached(sources.join('|'), 'iu'));
    } catch {
      scopeRegex.set(scope, null); // too big for one RE2: every regex rule runs its own matcher
    }
  }
  // per phrase, the hash of its longest word made of ASCII word characters (when it has one)
  const phraseKeys = new Map<CompiledRule, (number | undefined)[]>();
  for (const rule of rules) {
    if (!rule.phrases) continue;
    phraseKeys.set(rule, rule.phrases.map((pieces) => {
      const ascii = pieces.filter(isAsciiWordPiece).sort((a, b) => b.length - a.length);
      return ascii.length ? asciiWordHash(ascii[0]!) : undefined;
    }));
  }
  const maybe = (rule: CompiledRule, scope: Scope, t: SharedText): boolean => {
    if (rule.phrases === undefined && rule.regexSource === undefined) return true; // no pre-filter data
    if (rule.phrases) {
      t.folded ??= foldCase(t.text);
      const keys = phraseKeys.get(rule)!;
      for (let k = 0; k < rule.phrases.length; k++) {
        const key = keys[k];
        if (key !== undefined && !(t.words ??= new AsciiWords(t.folded)).mayHave(key)) continue;
        if (phraseMayMatch(t.folded, rule.phrases[k]!)) return true;
      }
    }
    if (rule.regexNeed) {
      t.folded ??= foldCase(t.text);
      return requirementMet(t.folded, rule.regexNeed, t.text);
    }
    if (rule.regexSource !== undefined) {
      const re = scopeRegex.get(scope);
      if (!re) return true;
      t.regexMaybe ??= re.test(t.text);
      return t.regexMaybe;
    }
    return false;
  };
  const count = (rule: CompiledRule, scope: Scope, t: SharedText): number => {
    let n = t.counts?.get(rule);
    if (n === undefined) {
      n = maybe(rule, scope, t) ? countMatches(rule, t.text, config.maxCountedMatches) : 0;
      (t.counts ??= new Map()).set(rule, n);
    }
    return n;
  };
  return {
    id: 'content-rules',
    rules,
    run(message: ParsedMessage): RuleHit[] {
      if (!config.enabled) return [];
      try {
        const items = collect(message, config.maxTextChars, used);
        const hits: RuleHit[] = [];
        for (const rule of rules) {
          const where: string[] = [];
          let total = 0;
          for (const item of items) {
            if (!rule.scopes.includes(item.scope)) continue;
            const n = count(rule, item.scope, item.shared);
            if (n > 0) {
              total += n;
              where.push(`${item.label} x${n}`);
            }
          }
          if (total === 0 || rule.action === 'off') continue;
          const hit: RuleHit = {
            rule: `content.${rule.id}`,
            action: rule.action as RuleAction,
            detail: `${rule.description ?? rule.id}: ${total} match${total === 1 ? '' : 'es'}`,
            where: where.slice(0, 8).join(', ') + (where.length > 8 ? `, +${where.length - 8} more` : ''),
          };
          if (rule.action === 'score') hit.score = rule.weight;
          if (rule.action === 'reject') hit.reply = { code: 550, enhanced: '5.7.1', text: 'Message content rejected by policy' };
          if (rule.action === 'tempfail') hit.reply = { code: 451, enhanced: '4.7.1', text: 'Message content deferred by policy' };
          hits.push(hit);
        }
        return hits;
      } catch (e) {
        return [{ rule: 'content.error', action: config.failAction, detail: `content rules failed: ${(e as Error).message}` }];
      }
    },
  };
}
