// Loading and validating the configuration: shipped defaults, then the administrator's YAML file
// overriding only what it names. Errors name the file, line and key and say what was expected.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument, isNode } from 'yaml';
import type { z } from 'zod';
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
      line: e.linePos?.[0]?.line,
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
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => toProblem(issue, doc, lineCounter, file));
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

export function formatProblems(problems: readonly ConfigProblem[]): string {
  return problems.map((p) => `${p.file}${p.line !== undefined ? `:${p.line}` : ''}: ${p.key ? `${p.key}: ` : ''}${p.message}`).join('\n');
}
