// The configuration reference (docs/CONFIG.md), generated from the zod schema so it cannot drift:
// every key with its type, default and description (the reason for the default). Pure: returns text;
// scripts/gen-config-docs.ts writes it and a unit test compares it with the file in the repository.
import { z } from 'zod';
import { configSchema } from './schema.js';
import { defaultConfig } from './load.js';

type Json = Record<string, unknown>;

export interface ReferenceEntry {
  key: string;
  type: string;
  default: string;
  description: string;
}

export interface ReferenceSection {
  name: string;
  description: string;
  entries: ReferenceEntry[];
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Every leaf key of the schema, grouped by top-level section, in schema order. */
export function configReference(): ReferenceSection[] {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as Json;
  const defaults = defaultConfig() as unknown as Json;
  const sections: ReferenceSection[] = [];
  for (const [name, sub] of Object.entries((schema.properties ?? {}) as Record<string, Json>)) {
    const entries: ReferenceEntry[] = [];
    walk(sub, name, defaults[name], entries);
    sections.push({ name, description: str(sub.description), entries });
  }
  return sections;
}

function walk(node: Json, key: string, dflt: unknown, out: ReferenceEntry[]): void {
  const props = node.properties as Record<string, Json> | undefined;
  if (node.type === 'object' && props && Object.keys(props).length > 0 && Object.values(props).every((p) => !p.description)) {
    // A small value object whose parts carry no reasons of their own (an SMTP reply, a pair of
    // lists): one row, its shape as the type, its default inline.
    const keys = Object.keys(props);
    const shape = keys.join(', ');
    const type = shape === 'code, enhanced, text' ? 'SMTP reply {code: 400..599, enhanced: "x.y.z", text: string or list}' : `object {${shape}}`;
    out.push({ key, type, default: dflt === undefined ? '(none)' : inline(dflt), description: str(node.description) });
    return;
  }
  if (node.type === 'object' && props && Object.keys(props).length > 0) {
    // A nested object: listed as an optional row when it has no default; then its keys.
    const hasDefault = dflt !== undefined;
    if (!hasDefault && node.description) {
      out.push({ key, type: 'object (optional)', default: '(none)', description: str(node.description) });
    }
    for (const [k, child] of Object.entries(props)) {
      const d = dflt && typeof dflt === 'object' && !Array.isArray(dflt) ? (dflt as Json)[k] : undefined;
      walk(child, `${key}.${k}`, d, out);
    }
    return;
  }
  out.push({ key, type: typeOf(node), default: dflt === undefined ? '(none)' : inline(dflt), description: str(node.description) });
  const items = node.items as Json | undefined;
  if (node.type === 'array' && items?.type === 'object' && items.properties) {
    for (const [k, child] of Object.entries(items.properties as Record<string, Json>)) {
      walk(child, `${key}[].${k}`, child.default, out);
    }
  }
}

function typeOf(n: Json): string {
  if (Array.isArray(n.enum)) return (n.enum as unknown[]).map((v) => JSON.stringify(v)).join(' | ');
  if (n.const !== undefined) return JSON.stringify(n.const);
  if (Array.isArray(n.anyOf)) return (n.anyOf as Json[]).map(typeOf).join(' or ');
  if (Array.isArray(n.oneOf)) return (n.oneOf as Json[]).map(typeOf).join(' or ');
  switch (n.type) {
    case 'integer':
    case 'number': {
      const lo = typeof n.minimum === 'number' && Math.abs(n.minimum) < MAX_SAFE ? n.minimum : typeof n.exclusiveMinimum === 'number' ? `>${n.exclusiveMinimum}` : undefined;
      const hi = typeof n.maximum === 'number' && Math.abs(n.maximum) < MAX_SAFE ? n.maximum : undefined;
      const range = lo !== undefined || hi !== undefined ? ` ${lo ?? ''}..${hi ?? ''}` : '';
      return `${n.type}${range}`;
    }
    case 'string':
      return n.pattern ? `string (pattern \`${String(n.pattern)}\`)` : 'string';
    case 'boolean':
      return 'boolean';
    case 'array':
      return `list of ${n.items ? typeOf(n.items as Json) : 'any'}`;
    case 'object':
      return n.properties ? 'object' : 'map';
    default:
      return 'any';
  }
}

function inline(v: unknown): string {
  return `\`${JSON.stringify(v)}\``;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function cell(s: string): string {
  return s.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
}

/** docs/CONFIG.md as text. */
export function renderConfigReference(): string {
  const out: string[] = [];
  out.push('# Postern configuration reference');
  out.push('');
  out.push('<!-- Generated from the schema (src/config/schema.ts and the section files) by `npm run docs`. Do not edit: a test fails when this file drifts from the schema. -->');
  out.push('');
  out.push('One YAML file (`postern serve --config FILE`). Every key is optional: the administrator\'s file overrides only what it names; everything else keeps the default below.');
  out.push('`postern show-config --config FILE` prints the effective config; `postern check-config FILE` validates it (file, line and key of every problem).');
  out.push('Durations are in milliseconds (`...Ms`) or seconds (`...Sec`), as the key name says.');
  out.push('');
  const sections = configReference();
  out.push('Sections: ' + sections.map((s) => `[${s.name}](#${s.name})`).join(', ') + '.');
  for (const s of sections) {
    out.push('');
    out.push(`## ${s.name}`);
    out.push('');
    if (s.description) {
      out.push(s.description);
      out.push('');
    }
    out.push('| Key | Type | Default | Description |');
    out.push('| --- | --- | --- | --- |');
    for (const e of s.entries) out.push(`| \`${e.key}\` | ${cell(e.type)} | ${cell(e.default)} | ${cell(e.description)} |`);
  }
  out.push('');
  return out.join('\n');
}
