// Corpus-wide suite for the whole content pipeline (parse, archives, attachments, content rules,
// data leak, and clamd — the real clamd started by the harness): every message in the shared corpus
// gets a report, no exception escapes, and no message is passed without its checks having run
// (a check that failed must show as an error/unavailable hit, never as silence).
// Reads ../shared/corpus; skips loudly when it is absent.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { configSchema } from '../../src/config/schema.js';
import { createContentPipeline, type ContentPipeline } from '../../src/content/pipeline.js';
import { silentLogger } from '../../src/log/logger.js';
import { corpusSkipReason, SHARED_CORPUS } from '../harness/paths.js';
import { startClamd, type ClamdInstance } from '../harness/clamd.js';
import { RULE_FAMILIES } from '../../src/policy/config.js';

const skip = corpusSkipReason();

function messageFiles(): string[] {
  const manifest = readFileSync(path.join(SHARED_CORPUS, 'MANIFEST.tsv'), 'utf8').split('\n').slice(1);
  const out: string[] = [];
  for (const line of manifest) {
    const [rel, kind] = line.split('\t');
    if (rel && kind === 'message') out.push(rel);
  }
  for (const sub of ['hide-content', 'hide-filename']) {
    const dir = path.join(SHARED_CORPUS, 'mime-evasion', sub);
    if (existsSync(dir)) for (const f of readdirSync(dir).sort()) out.push(`mime-evasion/${sub}/${f}`);
  }
  return out;
}

let clamd: ClamdInstance | undefined;
let pipeline: ContentPipeline;

before(async () => {
  if (skip) return;
  clamd = await startClamd();
  const config = configSchema.parse({ content: { clamd: { address: clamd.address } } });
  pipeline = createContentPipeline(config, silentLogger());
});
after(async () => {
  await clamd?.stop();
});

test('every corpus message gets a verdict from every content check', { skip, timeout: 900_000 }, async () => {
  const files = messageFiles();
  assert.ok(files.length > 1000, `expected the whole corpus, found ${files.length} files`);
  const ruleCounts = new Map<string, number>();
  let refused = 0;
  for (const rel of files) {
    const raw = readFileSync(path.join(SHARED_CORPUS, rel));
    const report = await pipeline.analyze(raw, { direction: 'inbound', sender: 'a@example.org', recipients: ['b@example.test'], smtputf8: false });
    // The clamd check ran: either it found nothing, or it named what it found or why it could not scan.
    assert.ok('clamd' in report.timings, `${rel}: clamd check did not run`);
    assert.ok(!report.hits.some((h) => h.rule === 'clamd.unavailable'), `${rel}: clamd could not scan: ${JSON.stringify(report.hits.find((h) => h.rule === 'clamd.unavailable'))}`);
    assert.ok(!report.hits.some((h) => h.rule.endsWith('.error')), `${rel}: a check failed: ${JSON.stringify(report.hits.filter((h) => h.rule.endsWith('.error')))}`);
    for (const h of report.hits) ruleCounts.set(h.rule, (ruleCounts.get(h.rule) ?? 0) + 1);
    if (report.hits.some((h) => h.action === 'reject' || h.action === 'quarantine')) refused++;
  }
  const eicar = files.filter((f) => f.startsWith('mime-evasion/hide-content/')).length;
  console.log(`pipeline over ${files.length} corpus messages: ${refused} refused or quarantined (${eicar} of them are EICAR evasion mails)`);
  for (const [rule, n] of [...ruleCounts].sort((a, b) => b[1] - a[1])) console.log(`  ${rule.padEnd(40)} ${n}`);
  // every id the pipeline produced can be named in policy.monitor / policy.disabled
  for (const rule of ruleCounts.keys()) assert.ok((RULE_FAMILIES as readonly string[]).includes(rule.split('.')[0]!), `${rule}: family missing from RULE_FAMILIES`);
});

test('every hide-content evasion mail ends as virus found or refused', { skip, timeout: 600_000 }, async () => {
  const dir = path.join(SHARED_CORPUS, 'mime-evasion', 'hide-content');
  let virus = 0;
  let refusedOnly = 0;
  for (const f of readdirSync(dir).sort()) {
    const report = await pipeline.analyze(readFileSync(path.join(dir, f)), { direction: 'inbound', sender: 'a@example.org', recipients: ['b@example.test'], smtputf8: false });
    const found = report.hits.some((h) => h.rule === 'clamd.infected');
    const refused = report.hits.some((h) => h.action === 'reject' || h.action === 'quarantine');
    assert.ok(found || refused, `${f}: neither virus found nor refused: ${report.hits.map((h) => h.rule).join(',')}`);
    if (found) virus++;
    else refusedOnly++;
  }
  console.log(`hide-content: ${virus} virus found by clamd, ${refusedOnly} refused without a clamd finding`);
});
