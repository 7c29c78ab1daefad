// End-to-end cases as data (the d--j/go-milter "integration tests are data" model): each
// test/e2e/cases/*.yaml file is one case — envelope, client, message, Postern config overrides and
// the expected SMTP replies / delivery / quarantine — played by cases.test.ts through real Postfix
// and real sendmail. This file loads and validates case files and builds the message bytes; it
// never talks to the network. The format is documented in test/e2e/cases/README.md.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { EICAR } from '../../harness/clamd.js';
import { cardsInRuns, docx } from '../../harness/office.js';
import { flate, pagesPdf } from '../../harness/pdf.js';
import { REPO_ROOT, SHARED_CORPUS } from '../../harness/paths.js';
import { deepMerge } from './world.js';
import type { MtaName } from './rig.js';

export const CASES_DIR = path.join(REPO_ROOT, 'test', 'e2e', 'cases');
export const E2E_FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'e2e');

export type Step = 'connect' | 'helo' | 'mail' | 'rcpt' | 'data' | 'eom';
export const STEPS: Step[] = ['connect', 'helo', 'mail', 'rcpt', 'data', 'eom'];

/** An expected SMTP reply: code (or list of acceptable codes, or "4xx"/"5xx"), enhanced code, text substring(s). */
export interface ReplyExpect {
  code?: number | number[] | '2xx' | '4xx' | '5xx';
  enhanced?: string;
  text?: string | string[];
  notText?: string | string[];
}

export interface Expectations {
  /** The step at which the transaction is decided (refused, or accepted at eom). Default eom. */
  step?: Step;
  /** The reply at `step`. */
  reply?: ReplyExpect;
  /** Replies of other steps (e.g. the greeting), checked when that step was reached. */
  replies?: Partial<Record<Step, ReplyExpect>>;
  /** One per envelope recipient, in order. */
  rcpts?: ReplyExpect[];
  /** Replies to the raw `commands`, in order. */
  commands?: ReplyExpect[];
  /** Message reaches the sink (default: true when the eom reply is 2xx and nothing is quarantined). */
  delivered?: boolean;
  /** Envelope recipients the sink got (when delivered). */
  deliveredTo?: string[];
  /** Header name -> substring(s) one of its values must contain. */
  headers?: Record<string, string | string[]>;
  /** Header names that must be absent. */
  absentHeaders?: string[];
  /** Regular expressions no header line of the delivered message may match (case-insensitive). */
  headersNotMatch?: string[];
  /** Delivered body byte-identical to the body sent (CRLF line ends). Default true when delivered. */
  bodyUnchanged?: boolean;
  /** Held in the MTA quarantine (Postfix hold queue / sendmail quarantine) with reason substring. */
  quarantine?: { reason?: string | string[] } | false;
  /** Postern's summary log line: verdict and rule ids that must appear. */
  log?: { verdict?: string; rules?: string[]; msg?: string };
}

export interface ClientSpec {
  /** "outside" (192.0.2.10 / client.example.org), "inside" (loopback, the default) or explicit XCLIENT attributes. */
  kind?: 'outside' | 'inside';
  /** An IPv6 client: Postfix XCLIENT ADDR=IPV6:2001:db8::10 (unless addr), sendmail over [::1]. */
  ipv6?: boolean;
  addr?: string;
  name?: string;
  helo?: string;
}

export interface MessageSpec {
  /** File under test/fixtures/e2e. */
  file?: string;
  /** File under ../shared/corpus (falls back to `file` when the corpus is absent). */
  corpus?: string;
  /** Inline message. Placeholders: {{EICAR}}, {{EICAR_BASE64}}, {{CARDS:N}}, {{DOCX_CARDS_BASE64:N}} (a .docx with N card numbers split into Word runs), {{PDF_CARDS_BASE64:N}} (a PDF drawing N card numbers, each in two pieces), {{DATE}}, {{LINES:N}} (N 72-octet text lines). */
  text?: string;
}

export interface MtaOverride {
  config?: Record<string, unknown>;
  expect?: Expectations;
  client?: ClientSpec | 'outside' | 'inside';
  todo?: string;
  skip?: string;
}

export interface CaseFile {
  description: string;
  mtas?: MtaName[];
  /** Why an MTA is left out (required when `mtas` is not both). */
  mtasReason?: string;
  todo?: string;
  skip?: string;
  config?: Record<string, unknown>;
  client?: ClientSpec | 'outside' | 'inside';
  envelope?: {
    helo?: string;
    from?: string;
    rcpts?: string[];
    /** Extra recipients generated as pattern with {i} = 1..count. */
    rcptGen?: { count: number; pattern: string };
    /** Raw commands sent after EHLO (e.g. "VRFY root"). */
    commands?: string[];
    /** Stop after the commands (no mail transaction). */
    noMail?: boolean;
  };
  message?: MessageSpec;
  expect?: Expectations;
  postfix?: MtaOverride;
  sendmail?: MtaOverride;
}

export interface ResolvedCase {
  name: string;
  file: string;
  mta: MtaName;
  description: string;
  todo?: string;
  skip?: string;
  config: Record<string, unknown>;
  client: { outside: boolean; ipv6?: boolean; addr?: string; name?: string; helo?: string };
  helo: string;
  from: string;
  rcpts: string[];
  commands: string[];
  noMail: boolean;
  message: Buffer | undefined;
  expect: Expectations;
}

const KNOWN_KEYS = new Set(['description', 'mtas', 'mtasReason', 'todo', 'skip', 'config', 'client', 'envelope', 'message', 'expect', 'postfix', 'sendmail']);

export class CaseFileError extends Error {
  readonly code = 'E2E_CASE_INVALID';
  constructor(file: string, why: string) {
    super(`${file}: ${why}`);
  }
}

export function loadCaseFiles(dir = CASES_DIR): Array<{ name: string; file: string; data: CaseFile }> {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    .sort()
    .map((f) => {
      const file = path.join(dir, f);
      const data = parse(readFileSync(file, 'utf8')) as CaseFile;
      if (!data || typeof data !== 'object') throw new CaseFileError(f, 'not a YAML mapping');
      for (const k of Object.keys(data)) if (!KNOWN_KEYS.has(k)) throw new CaseFileError(f, `unknown key "${k}"`);
      if (typeof data.description !== 'string') throw new CaseFileError(f, 'description is required');
      if (data.mtas && data.mtas.length < 2 && !data.mtasReason) throw new CaseFileError(f, 'mtas names one MTA: say why in mtasReason');
      return { name: f.replace(/\.ya?ml$/, ''), file, data };
    });
}

function clientOf(c: CaseFile['client']): ResolvedCase['client'] {
  if (c === undefined || c === 'inside') return { outside: false };
  if (c === 'outside') return { outside: true };
  const outside = c.kind !== 'inside';
  return { outside, ...(c.ipv6 ? { ipv6: true } : {}), ...(c.addr ? { addr: c.addr } : {}), ...(c.name ? { name: c.name } : {}), ...(c.helo ? { helo: c.helo } : {}) };
}

/** Valid (Luhn) card numbers, distinct, in common IIN ranges. */
export function cardNumbers(n: number): string[] {
  const out: string[] = [];
  const prefixes = ['4111', '5500', '3400', '6011'];
  for (let i = 0; out.length < n; i++) {
    const p = prefixes[i % prefixes.length]!;
    const len = p === '3400' ? 15 : 16;
    const body = (p + String(100000000 + i * 7919).padStart(len - 1 - p.length, '0')).slice(0, len - 1);
    out.push(body + luhnDigit(body));
  }
  return out;
}

function luhnDigit(s: string): string {
  let sum = 0;
  for (let i = 0; i < s.length; i++) {
    let d = Number(s[s.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

export function expandPlaceholders(text: string): string {
  return text
    .replace(/\{\{EICAR_BASE64\}\}/g, EICAR.toString('base64'))
    .replace(/\{\{EICAR\}\}/g, EICAR.toString('latin1'))
    .replace(/\{\{DOCX_CARDS_BASE64:(\d+)\}\}/g, (_, n: string) => docx(cardsInRuns(cardNumbers(Number(n)))).toString('base64').replace(/.{76}/g, '$&\n').trimEnd())
    .replace(/\{\{PDF_CARDS_BASE64:(\d+)\}\}/g, (_, n: string) => pdfWithCards(cardNumbers(Number(n))).toString('base64').replace(/.{76}/g, '$&\n').trimEnd())
    .replace(/\{\{CARDS:(\d+)\}\}/g, (_, n: string) => cardNumbers(Number(n)).map((c, i) => `Customer ${i + 1}: ${c}`).join('\n'))
    .replace(/\{\{DATE\}\}/g, new Date().toUTCString().replace('GMT', '+0000'))
    .replace(/\{\{LINES:(\d+)\}\}/g, (_, n: string) =>
      Array.from({ length: Number(n) }, (_x, i) => `${String(i).padStart(8, '0')} the quick brown fox jumps over the lazy dog, line after line.`).join('\n'));
}

/** A one-page PDF drawing each card as two strings: the digits never sit together in the (compressed) file. */
function pdfWithCards(cards: string[]): Buffer {
  const lines = cards.map((c) => `(${c.slice(0, 7)}) Tj (${c.slice(7)}) Tj T*`).join('\n');
  return pagesPdf([flate(`BT /F1 10 Tf 12 TL 72 760 Td\n${lines}\nET`)]);
}

export function messageBytes(spec: MessageSpec | undefined, where: string): Buffer | undefined {
  if (!spec) return undefined;
  if (spec.corpus && existsSync(path.join(SHARED_CORPUS, spec.corpus))) return readFileSync(path.join(SHARED_CORPUS, spec.corpus));
  if (spec.file) return readFileSync(path.join(E2E_FIXTURES, spec.file));
  if (spec.text !== undefined) return Buffer.from(expandPlaceholders(spec.text), 'latin1');
  if (spec.corpus) throw new CaseFileError(where, `corpus file ${spec.corpus} absent and no fallback "file"`);
  throw new CaseFileError(where, 'message needs file, corpus or text');
}

/** The case as played against one MTA: per-MTA overrides applied, sendmail's "outside" emulated. */
export function resolveCase(c: { name: string; file: string; data: CaseFile }, mta: MtaName, base: Record<string, unknown>): ResolvedCase {
  const d = c.data;
  const o = d[mta] ?? {};
  const client = clientOf(o.client ?? d.client);
  let config = deepMerge(base, d.config ?? {}) as Record<string, unknown>;
  if (mta === 'sendmail' && client.outside) {
    // sendmail has no XCLIENT: the client is always 127.0.0.1, so make loopback count as outside.
    config = deepMerge(config, { connection: { internalNetworks: [] }, outbound: { internalNetworks: [] } }) as Record<string, unknown>;
  }
  config = deepMerge(config, o.config ?? {}) as Record<string, unknown>;
  const env = d.envelope ?? {};
  const rcpts = [...(env.rcpts ?? (env.rcptGen ? [] : ['bob@example.test']))];
  if (env.rcptGen) for (let i = 1; i <= env.rcptGen.count; i++) rcpts.push(env.rcptGen.pattern.replace('{i}', String(i)));
  const todo = o.todo ?? d.todo;
  const skip = o.skip ?? d.skip;
  return {
    name: c.name,
    file: c.file,
    mta,
    description: d.description,
    ...(todo ? { todo } : {}),
    ...(skip ? { skip } : {}),
    config,
    client,
    helo: env.helo ?? client.helo ?? 'client.example.org',
    from: env.from ?? 'alice@example.org',
    rcpts,
    commands: env.commands ?? [],
    noMail: env.noMail ?? false,
    message: messageBytes(d.message, c.file),
    expect: deepMerge(d.expect ?? {}, o.expect ?? {}) as Expectations,
  };
}
