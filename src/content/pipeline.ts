// The content pipeline for one message: parse MIME into decoded parts, open archives, read documents'
// text when the data-leak check will scan it, then run every content check (attachments, content rules, data leak, clamd) on the union of readings. Pure of the
// milter: the same function serves the server (possibly in a worker thread) and `postern scan`.
import type { PosternConfig } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import type { Direction, RuleHit } from '../policy/types.js';
import { parseMessageSync } from './mime/parse.js';
import { expandArchivesReady } from './archives/expand.js';
import { readDocumentTexts } from './documents/index.js';
import { createAttachmentCheck } from './attachments/check.js';
import { createContentRulesCheck } from './rules/check.js';
import { createClamdCheck } from './clamd/check.js';
import { createDataLeakCheck } from '../policy/outbound/dataleak/check.js';
import type { ContentCheck, ContentEnvironment } from './types.js';

export interface ContentInput {
  direction: Direction;
  sender: string;
  recipients: string[];
  smtputf8: boolean;
}

export interface PartSummary {
  path: string;
  contentType: string;
  names: string[];
  trueType?: string;
  size: number;
  origin: string;
}

export interface ContentReport {
  hits: RuleHit[];
  parts: PartSummary[];
  encrypted: boolean;
  timings: Record<string, number>;
}

export interface ContentPipeline {
  analyze(raw: Buffer, input: ContentInput, signal?: AbortSignal): Promise<ContentReport>;
}

/** Build the checks once per config; analyze() runs them per message. */
export function createContentPipeline(config: PosternConfig, logger?: Logger): ContentPipeline {
  const c = config.content;
  const checks: ContentCheck[] = [];
  if (c.attachments.enabled) checks.push(createAttachmentCheck(c.attachments));
  checks.push(createContentRulesCheck(c.rules));
  const dataLeak = createDataLeakCheck(config.outbound);
  checks.push(dataLeak);
  // Without the data-leak scan nothing reads plain part text past the maxTextChars the content rules
  // scan: the parser then decodes only what gives those characters.
  checks.push(createClamdCheck(c.clamd, logger));
  return {
    async analyze(raw, input, signal) {
      const timings: Record<string, number> = {};
      let t = performance.now();
      const parsed = parseMessageSync(raw, c.mime, input.smtputf8, dataLeak.scanner.appliesTo(input.direction) ? undefined : c.rules.maxTextChars);
      timings.parse = lap();
      const expanded = await expandArchivesReady(parsed.parts, c.archives);
      parsed.parts = expanded.parts;
      timings.archives = lap();
      const documents = config.outbound.dataLeak.documents;
      if (documents.enabled && dataLeak.scanner.appliesTo(input.direction)) {
        readDocumentTexts(parsed.parts, documents);
        timings.documents = lap();
      }
      const env: ContentEnvironment = { direction: input.direction, sender: input.sender, recipients: input.recipients, raw };
      if (signal) env.signal = signal;
      const hits: RuleHit[] = [...parsed.hits, ...expanded.hits];
      // Each check starts in turn; a synchronous check's time is its own run (not the checks started
      // after it), an asynchronous one's is the wall time until it settles.
      const results = await Promise.all(
        checks.map(async (check) => {
          const started = performance.now();
          try {
            const out = check.run(parsed, env);
            if (!(out instanceof Promise)) return out;
            return await out;
          } catch (err) {
            // A check that cannot run must never let the message through unchecked.
            return [{ rule: `${check.id}.error`, action: config.policy.errorAction, detail: `check failed: ${err instanceof Error ? err.message : String(err)}` } as RuleHit];
          } finally {
            timings[check.id] = Math.round((performance.now() - started) * 100) / 100;
          }
        }),
      );
      for (const r of results) hits.push(...r);
      return {
        hits,
        parts: parsed.parts.map((p) => {
          const s: PartSummary = { path: p.path, contentType: p.contentType, names: p.names, size: p.content.length, origin: p.origin };
          if (p.trueType) s.trueType = p.trueType;
          return s;
        }),
        encrypted: parsed.encrypted,
        timings,
      };
      function lap(): number {
        const now = performance.now();
        const d = Math.round((now - t) * 100) / 100;
        t = now;
        return d;
      }
    },
  };
}
