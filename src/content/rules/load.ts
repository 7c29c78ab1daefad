// Loads and compiles content rule files (YAML). Every pattern is compiled with re2-wasm (linear
// time); a bad file, a duplicate id or an invalid pattern throws RulesFileError naming the file
// and the rule. Loading happens once, at start-up or reload, never per message.
import { readFileSync } from 'node:fs';
import { RE2 } from 're2-wasm';
import { parse } from 'yaml';
import { z } from 'zod';
import { ruleActionSchema } from '../../config/common.js';
import { RulesFileError, resolveRulesFile } from './files.js';
import { foldCase } from './fold.js';
import { requirementOfAny, type Requirement } from './prefilter.js';

export const SCOPES = ['subject', 'body', 'html', 'attachment-names', 'headers'] as const;
export type Scope = (typeof SCOPES)[number];

const ruleSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'lower-case letters, digits, ".", "_", "-" (max 64)'),
    description: z.string().optional(),
    weight: z.number().finite().default(1),
    action: ruleActionSchema.default('score'),
    scope: z.union([z.enum(SCOPES), z.array(z.enum(SCOPES)).min(1)]).default(['subject', 'body']),
    words: z.array(z.union([z.string().min(1), z.number()]).transform(String)).default([]),
    regex: z.union([z.string().min(1), z.array(z.string().min(1))]).default([]),
  })
  .strict()
  .refine((r) => r.words.length > 0 || (Array.isArray(r.regex) ? r.regex.length > 0 : true), { message: 'a rule needs words or regex' });

const fileSchema = z.object({ rules: z.array(z.unknown()).default([]) }).strict();

export interface CompiledRule {
  id: string;
  description?: string;
  weight: number;
  action: z.infer<typeof ruleActionSchema>;
  scopes: Scope[];
  /** One RE2 (flags "giu") for all words and patterns of the rule. */
  matcher: RE2;
  file: string;
  /**
   * Pre-filter (speed only; `matcher` decides): each phrase as its case-folded words (see
   * phraseMayMatch). Absent: the rule has no words.
   */
  phrases?: string[][];
  /** Pre-filter: the rule's regular expressions alone, as one alternation. Absent: no regex. */
  regexSource?: string;
  /** Pre-filter: what any match of those regular expressions must contain (absent: unknown). */
  regexNeed?: Requirement;
}

// re2-wasm runs in a fixed 16 MiB WebAssembly heap (no growth) and never frees a compiled RE2 by
// itself: compile each distinct pattern once per process (reloads and repeated checks reuse it) and
// free the objects made only to validate a single pattern.
const compiled = new Map<string, RE2>();
export function re2Cached(source: string, flags = 'giu'): RE2 {
  const key = `${flags}/${source}`;
  let re = compiled.get(key);
  if (!re) {
    re = new RE2(source, flags);
    compiled.set(key, re);
  }
  return re;
}
function validate(source: string): void {
  const re = new RE2(source, 'iu');
  (re as unknown as { wrapper?: { delete?: () => void } }).wrapper?.delete?.();
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** One word or phrase, escaped, whitespace-flexible (boundaries are added once per rule). */
export function phraseBody(word: string): string {
  return word.normalize('NFKC').trim().split(/\s+/u).map(escapeRe).join('\\s+');
}

/** A phrase as the case-folded words its pattern (phraseBody) requires in order. */
export function phrasePieces(word: string): string[] {
  return word.normalize('NFKC').trim().split(/\s+/u).map(foldCase);
}

/** Words/phrases: case-insensitive, not inside a longer word. One boundary pair for all of them. */
export function phrasesPattern(words: string[]): string {
  return `(?:^|[^\\p{L}\\p{N}_])(?:${words.map(phraseBody).join('|')})(?:$|[^\\p{L}\\p{N}_])`;
}

export function compileRulesFile(file: string, text?: string): CompiledRule[] {
  const resolved = text === undefined ? resolveRulesFile(file) : file;
  let doc: unknown;
  try {
    doc = parse(text ?? readFileSync(resolved, 'utf8'));
  } catch (e) {
    throw new RulesFileError('RULES_FILE_INVALID', `${resolved}: not valid YAML: ${(e as Error).message}`);
  }
  const top = fileSchema.safeParse(doc ?? {});
  if (!top.success) throw new RulesFileError('RULES_FILE_INVALID', `${resolved}: ${top.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ')}`);
  const out: CompiledRule[] = [];
  const ids = new Set<string>();
  top.data.rules.forEach((raw, index) => {
    const label = `${resolved}: rule #${index + 1}${raw && typeof raw === 'object' && 'id' in raw ? ` (${String((raw as { id: unknown }).id)})` : ''}`;
    const r = ruleSchema.safeParse(raw);
    if (!r.success) throw new RulesFileError('RULES_FILE_INVALID', `${label}: ${r.error.issues.map((i) => `${i.path.join('.') || '(rule)'}: ${i.message}`).join('; ')}`);
    const rule = r.data;
    if (ids.has(rule.id)) throw new RulesFileError('RULES_FILE_INVALID', `${label}: duplicate rule id "${rule.id}"`);
    ids.add(rule.id);
    const regexes = Array.isArray(rule.regex) ? rule.regex : [rule.regex];
    const alternatives: string[] = [];
    if (rule.words.length > 0) alternatives.push(phrasesPattern(rule.words));
    const regexParts: string[] = [];
    const regexSources: string[] = [];
    for (const re of regexes) {
      const src = re.normalize('NFKC');
      try {
        validate(src);
      } catch (e) {
        throw new RulesFileError('RULES_PATTERN_INVALID', `${label}: invalid regex /${re}/ (RE2 syntax, no look-around or back-references): ${(e as Error).message}`);
      }
      alternatives.push(`(?:${src})`);
      regexParts.push(`(?:${src})`);
      regexSources.push(src);
    }
    const regexNeed = regexSources.length ? requirementOfAny(regexSources) : null;
    let matcher: RE2;
    try {
      matcher = re2Cached(alternatives.join('|'));
    } catch (e) {
      throw new RulesFileError('RULES_PATTERN_INVALID', `${label}: rule does not compile: ${(e as Error).message}`);
    }
    out.push({
      id: rule.id,
      ...(rule.description ? { description: rule.description } : {}),
      weight: rule.weight,
      action: rule.action,
      scopes: Array.isArray(rule.scope) ? rule.scope : [rule.scope],
      matcher,
      file: resolved,
      ...(rule.words.length > 0 ? { phrases: rule.words.map(phrasePieces) } : {}),
      ...(regexParts.length > 0 ? { regexSource: regexParts.join('|') } : {}),
      ...(regexNeed ? { regexNeed } : {}),
    });
  });
  return out;
}

export function loadRuleFiles(files: string[]): CompiledRule[] {
  const all: CompiledRule[] = [];
  const seen = new Map<string, string>();
  for (const f of files) {
    for (const r of compileRulesFile(f)) {
      const prev = seen.get(r.id);
      if (prev) throw new RulesFileError('RULES_FILE_INVALID', `${r.file}: rule "${r.id}" already defined in ${prev}`);
      seen.set(r.id, r.file);
      all.push(r);
    }
  }
  return all;
}
