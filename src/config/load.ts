// Loading and validating the configuration: shipped defaults, then the administrator's YAML file
// overriding only what it names. Errors name the file, line and key and say what was expected.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument, isNode, isMap, isSeq, isScalar, type Node } from 'yaml';
import { z } from 'zod';
import { configSchema, type PosternConfig } from './schema.js';
import { setConfigDir } from './paths.js';

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  override readonly name = 'ConfigError';
  constructor(
    message: string,
    readonly problems: ConfigProblem[],
  ) {
    super(message);
  }
}

export interface ConfigProblem {
  file: string;
  line?: number;
  key: string;
  message: string;
}

export interface LoadedConfig {
  config: PosternConfig;
  file?: string;
}

/** The effective config with nothing but defaults (the embedded policy). */
export function defaultConfig(): PosternConfig {
  return configSchema.parse({});
}

/** Parse and validate YAML text; `file` is only used in messages. */
export function parseConfigText(text: string, file: string): PosternConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => ({
      file,
      line: e.linePos?.[0]?.line ?? lineCounter.linePos(e.pos[0]).line,
      key: '',
      message: e.message.split('\n')[0]!,
    }));
    throw new ConfigError(formatProblems(problems), problems);
  }
  const data: unknown = doc.toJS() ?? {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    const problems = [{ file, line: 1, key: '', message: 'expected a mapping of sections (server:, policy:, ...)' }];
    throw new ConfigError(formatProblems(problems), problems);
  }
  const result = configSchema.safeParse(data);
  // Sections are plain (stripping) objects: a misspelt nested key would vanish silently, so look for
  // keys the schema does not know anywhere in the document.
  const unknown = unknownKeys(doc.contents, inputSchema(), []).map((u) => ({
    file,
    line: lineCounter.linePos(u.offset).line,
    key: u.path.join('.'),
    message: `unknown key "${u.path[u.path.length - 1]}"`,
  }));
  if (result.success && unknown.length === 0) return result.data;
  const problems = [...unknown, ...(result.success ? [] : result.error.issues.map((issue) => toProblem(issue, doc, lineCounter, file)))]
    .sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  throw new ConfigError(formatProblems(problems), problems);
}

export function loadConfigFile(file: string): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const problems = [{ file, key: '', message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}` }];
    throw new ConfigError(formatProblems(problems), problems);
  }
  setConfigDir(path.dirname(path.resolve(file)));
  return { config: parseConfigText(text, file), file };
}

function toProblem(issue: z.core.$ZodIssue, doc: ReturnType<typeof parseDocument>, lc: LineCounter, file: string): ConfigProblem {
  const keyPath = issue.path.map(String);
  // Point at the deepest node that exists in the document.
  let line: number | undefined;
  for (let n = keyPath.length; n >= 0 && line === undefined; n--) {
    const sub = issue.path.slice(0, n) as Array<string | number>;
    const node = n === 0 ? doc.contents : doc.getIn(sub, true);
    if (isNode(node) && node.range) line = lc.linePos(node.range[0]).line;
    else if (n > 0) {
      // the key exists but its value is null/scalar without range: look for the pair's key
      const parent = doc.getIn(sub.slice(0, -1), true) as { items?: Array<{ key?: { value?: unknown; range?: number[] } }> } | undefined;
      const pair = parent?.items?.find((it) => String(it.key?.value) === String(sub[sub.length - 1]));
      if (pair?.key?.range) line = lc.linePos(pair.key.range[0]!).line;
    }
  }
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') message = `unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  const problem: ConfigProblem = { file, key: keyPath.join('.') || '(top)', message };
  if (line !== undefined) problem.line = line;
  return problem;
}

type JsonSchema = { type?: unknown; properties?: Record<string, JsonSchema>; additionalProperties?: unknown; items?: JsonSchema; anyOf?: JsonSchema[] };
let cachedSchema: JsonSchema | undefined;
function inputSchema(): JsonSchema {
  return (cachedSchema ??= z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema);
}

/** Keys present in the YAML but not in the schema (objects with fixed properties only; maps are free). */
function unknownKeys(node: unknown, schema: JsonSchema | undefined, at: Array<string | number>): Array<{ path: Array<string | number>; offset: number }> {
  if (!schema || !node) return [];
  const out: Array<{ path: Array<string | number>; offset: number }> = [];
  if (isMap(node) && schema.properties && (schema.additionalProperties === undefined || schema.additionalProperties === false)) {
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      const sub = schema.properties[key];
      if (!sub) {
        // The top level is a strictObject: zod already reports its unknown keys.
        if (at.length > 0) out.push({ path: [...at, key], offset: (pair.key as Node | null)?.range?.[0] ?? 0 });
      } else out.push(...unknownKeys(pair.value, sub, [...at, key]));
    }
  } else if (isSeq(node) && schema.items) {
    node.items.forEach((item, i) => out.push(...unknownKeys(item, schema.items, [...at, i])));
  }
  return out;
}

/**
 * The line a runtime problem (found when building the policy, after the schema passed) points at:
 * `message` starts with a config key path ("connection.sender.patterns: invalid pattern "(x"") or
 * names a rules file ("FILE: rule #2 (id): invalid regex /(x/ ..." or "...: weight: ..."). Returns
 * the file and line when they can be found, else undefined.
 */
export function locateProblem(configFile: string, message: string): { file: string; line: number } | undefined {
  const at = (file: string, find: (doc: ReturnType<typeof parseDocument>) => unknown) => {
    try {
      const text = readFileSync(file, 'utf8');
      const lc = new LineCounter();
      const doc = parseDocument(text, { lineCounter: lc });
      const node = find(doc) as Node | undefined;
      return node?.range ? { file, line: lc.linePos(node.range[0]).line } : undefined;
    } catch {
      return undefined;
    }
  };
  // The offending value, when the rest of the message quotes it ("x" or /x/).
  const pick = (node: unknown, rest: string): unknown => {
    const quoted = /(?:"([^"]*)"|\/(.*)\/ \()/.exec(rest);
    const value = quoted ? (quoted[1] ?? quoted[2]) : undefined;
    if (value === undefined) return node;
    const hit = findScalar(node, value);
    return hit ?? node;
  };
  const rule = /^(.+?): rule #(\d+)(?: \([^)]*\))?: (?:([A-Za-z_][\w.]*): )?/.exec(message);
  if (rule) {
    const [, file, n, key] = rule as unknown as [string, string, string, string | undefined];
    const found = at(file, (doc) => {
      const r = doc.getIn(['rules', Number(n) - 1], true);
      if (key) return (r && isMap(r) ? r.getIn(key.split('.'), true) : undefined) ?? r;
      return pick(r, message.slice(rule[0].length));
    });
    if (found) return found;
  }
  const keyed = /^([A-Za-z_][\w]*(?:\.[\w]+)+): /.exec(message);
  if (keyed) {
    const path = keyed[1]!.split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k));
    const found = at(configFile, (doc) => pick(doc.getIn(path, true), message.slice(keyed[0].length)));
    if (found) return found;
  }
  // Last resort: the config value the message quotes (a rule file path, a pattern, an address...):
  // the longest string value of the config file that appears in the message.
  return at(configFile, (doc) => longestQuoted(doc.contents, message));
}

function longestQuoted(node: unknown, message: string): Node | undefined {
  let best: Node | undefined;
  let bestLen = 2; // ignore one- and two-character values ("on", "10")
  const walk = (n: unknown): void => {
    if (isScalar(n)) {
      const v = typeof n.value === 'string' ? n.value : undefined;
      if (v !== undefined && v.length > bestLen && message.includes(v)) {
        best = n;
        bestLen = v.length;
      }
    } else if (isSeq(n)) for (const item of n.items) walk(item);
    else if (isMap(n)) for (const pair of n.items) walk(pair.value);
  };
  walk(node);
  return best;
}

function findScalar(node: unknown, value: string): Node | undefined {
  if (isScalar(node)) return String(node.value) === value ? node : undefined;
  if (isSeq(node) || isMap(node)) {
    for (const item of node.items as unknown[]) {
      const target = isSeq(node) ? item : (item as { value?: unknown }).value;
      const hit = findScalar(target, value);
      if (hit) return hit;
    }
  }
  return undefined;
}

export function formatProblems(problems: readonly ConfigProblem[]): string {
  return problems.map((p) => `${p.file}${p.line !== undefined ? `:${p.line}` : ''}: ${p.key ? `${p.key}: ` : ''}${p.message}`).join('\n');
}
