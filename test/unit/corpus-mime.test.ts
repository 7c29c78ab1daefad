// Corpus-wide suite for the MIME parser: every message file in the shared corpus parses without an
// exception, and a table shows how many corpus messages each parser rule fires on (so rule changes that
// would refuse real mail are visible). Reads ../shared/corpus; skips loudly when it is absent.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseMessage } from '../../src/content/mime/parse.js';
import { corpusSkipReason, SHARED_CORPUS } from '../harness/paths.js';

const skip = corpusSkipReason();

// clamav-testfiles-xored are stored XOR-encoded as upstream does (SOURCES.md gives the key).
export const CLAMAV_XOR_KEY = Buffer.from(
  'bhcftqarohcdiayfohalohkgmoefxrrgfnczssgybajvkzjaahpfrlqsratkhhfvpxytculmwgmtyzujlbjlgrhtwxhzpjazlibbwepffyjyfkjwzyofgpopoueurinpdujkphxwhnaxfkaiwrpzdqsnwughtejr',
);

function readMessage(rel: string): Buffer {
  const raw = readFileSync(path.join(SHARED_CORPUS, rel));
  if (!rel.endsWith('.xor')) return raw;
  for (let i = 0; i < raw.length; i++) raw[i] = raw[i]! ^ CLAMAV_XOR_KEY[i % CLAMAV_XOR_KEY.length]!;
  return raw;
}

/** MANIFEST kinds message and message-xored, plus the mime-evasion mails (not in MANIFEST). */
function messageFiles(): { rel: string; label: string }[] {
  const manifest = readFileSync(path.join(SHARED_CORPUS, 'MANIFEST.tsv'), 'utf8').split('\n').slice(1);
  const out: { rel: string; label: string }[] = [];
  for (const line of manifest) {
    const [rel, kind, label] = line.split('\t');
    if (rel && (kind === 'message' || kind === 'message-xored')) out.push({ rel, label: label ?? '' });
  }
  for (const sub of ['hide-content', 'hide-filename']) {
    const dir = path.join(SHARED_CORPUS, 'mime-evasion', sub);
    if (existsSync(dir)) for (const f of readdirSync(dir).sort()) if (f.endsWith('.eml')) out.push({ rel: `mime-evasion/${sub}/${f}`, label: 'evasion' });
  }
  return out;
}

test('every corpus message parses without an exception', { skip, timeout: 600_000 }, async () => {
  const files = messageFiles();
  assert.ok(files.length > 1200, `expected the whole corpus, found ${files.length} message files`);
  const byRule = new Map<string, { n: number; actions: Set<string>; benign: number; evasion: number; sample: string }>();
  const refused: string[] = [];
  let bytes = 0;
  let slowest = { ms: 0, rel: '' };
  const t0 = process.hrtime.bigint();
  for (const { rel } of files) {
    const raw = readMessage(rel);
    bytes += raw.length;
    const s = process.hrtime.bigint();
    const msg = await parseMessage(raw);
    const ms = Number(process.hrtime.bigint() - s) / 1e6;
    if (ms > slowest.ms) slowest = { ms, rel };
    assert.ok(Array.isArray(msg.parts) && Array.isArray(msg.hits), rel);
    assert.ok(!msg.hits.some((h) => h.rule === 'mime.parse-error'), `${rel}: ${msg.hits.find((h) => h.rule === 'mime.parse-error')?.detail}`);
    for (const h of msg.hits) {
      assert.ok(h.detail.length > 0 && h.where, `${rel}: hit ${h.rule} lacks detail/where`);
    }
    const evasion = rel.startsWith('mime-evasion/') || rel.startsWith('clamav-testfiles-xored/');
    const rules = new Set(msg.hits.map((h) => h.rule));
    for (const r of rules) {
      const e = byRule.get(r) ?? { n: 0, actions: new Set<string>(), benign: 0, evasion: 0, sample: rel };
      e.n++;
      if (evasion) e.evasion++;
      else e.benign++;
      for (const h of msg.hits) if (h.rule === r) e.actions.add(h.action);
      byRule.set(r, e);
    }
    if (!evasion && msg.hits.some((h) => h.action === 'reject' || h.action === 'quarantine')) {
      refused.push(`${rel}: ${msg.hits.filter((h) => h.action === 'reject' || h.action === 'quarantine').map((h) => `${h.rule} (${h.detail})`).join('; ')}`);
    }
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const rows = [...byRule.entries()].sort((a, b) => a[0].localeCompare(b[0]));
  console.log(`\nMIME parser over ${files.length} corpus messages (${(bytes / 1e6).toFixed(1)} MB) in ${secs.toFixed(2)} s` +
    ` = ${(files.length / secs).toFixed(0)} msgs/s, ${(bytes / 1e6 / secs).toFixed(1)} MB/s; slowest ${slowest.ms.toFixed(0)} ms ${slowest.rel}`);
  console.log('rule\tmessages\tnon-evasion\tevasion\taction\texample');
  for (const [r, e] of rows) console.log(`${r}\t${e.n}\t${e.benign}\t${e.evasion}\t${[...e.actions].join(',')}\t${e.sample}`);
  console.log(`\nnon-evasion messages refused (reject/quarantine): ${refused.length}`);
  for (const r of refused) console.log(`  ${r}`);
});
