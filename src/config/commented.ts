// The effective config as YAML with each key's reason as a comment above it (`postern show-config`).
// The reasons are the schema's `.describe()` texts, the same ones docs/CONFIG.md is generated from
// (src/config/reference.ts), so the printed file and the reference cannot disagree. Pure: returns text.
import { Document, isMap, isScalar, type Node } from 'yaml';
import { configReference } from './reference.js';

const WIDTH = 100;

let reasons: Map<string, string> | undefined;

/** Dotted key path -> reason, for sections and every key in the reference. */
function reasonIndex(): Map<string, string> {
  if (reasons) return reasons;
  reasons = new Map();
  for (const section of configReference()) {
    if (section.description) reasons.set(section.name, section.description);
    for (const e of section.entries) if (e.description && !e.key.includes('[]')) reasons.set(e.key, e.description);
  }
  return reasons;
}

/** Word-wrap a reason into comment lines (yaml prefixes each with "#"). */
function wrap(text: string, indent: number): string {
  const width = Math.max(40, WIDTH - indent - 2);
  const lines: string[] = [];
  let line = '';
  for (const word of text.replace(/\s+/g, ' ').trim().split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(` ${line}`);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(` ${line}`);
  return lines.join('\n');
}

/** YAML text of `config` with reasons as comments above the keys that have one. */
export function commentedYaml(config: unknown): string {
  const doc = new Document(config);
  const index = reasonIndex();
  const visit = (node: unknown, at: string[]): void => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        const path = [...at, key];
        const reason = index.get(path.join('.'));
        if (reason && isScalar(pair.key)) (pair.key as Node).commentBefore = wrap(reason, at.length * 2);
        visit(pair.value, path);
      }
    }
    // (list items — user dictionaries, DNSBL zones... — are values, not documented keys)
  };
  visit(doc.contents, []);
  return doc.toString({ lineWidth: 0 });
}
