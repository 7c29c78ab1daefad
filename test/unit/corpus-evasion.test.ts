// The mime-evasion corpus (noxxi/mime-is-broken, GPL-3.0: read in place, never copied): every mail in
// hide-content/ hides eicar.zip behind a MIME trick. For each, the parser must either refuse the mail
// as ambiguous (a hit with action reject/quarantine) or expose a part that is the zip holding EICAR.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import AdmZip from 'adm-zip';
import { parseMessage } from '../../src/content/mime/parse.js';
import type { ContentPart } from '../../src/content/types.js';
import { corpusSkipReason, SHARED_CORPUS } from '../harness/paths.js';

const DIR = path.join(SHARED_CORPUS, 'mime-evasion', 'hide-content');
const skip = corpusSkipReason() || (existsSync(DIR) ? false : `SKIPPED: ${DIR} absent`);

function holdsEicar(p: ContentPart): boolean {
  if (p.content.length < 22 || p.content.readUInt32BE(0) !== 0x504b0304) return false;
  try {
    const zip = new AdmZip(p.content);
    return zip.getEntries().some((e) => e.getData().toString('latin1').includes('EICAR-STANDARD-ANTIVIRUS-TEST-FILE'));
  } catch {
    return false;
  }
}

test('every hide-content mail is refused as ambiguous or exposes the EICAR zip', { skip, timeout: 120_000 }, async () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.eml')).sort();
  assert.ok(files.length > 0);
  let both = 0;
  let onlyFlagged = 0;
  let onlyFound = 0;
  const failures: string[] = [];
  const lines: string[] = [];
  for (const f of files) {
    const raw = readFileSync(path.join(DIR, f));
    const id = /X-Payload-Id: (\S+)/.exec(raw.toString('latin1'))?.[1] ?? f;
    const msg = await parseMessage(raw);
    const flagged = msg.hits.filter((h) => h.action === 'reject' || h.action === 'quarantine');
    const found = msg.parts.some(holdsEicar);
    if (flagged.length && found) both++;
    else if (flagged.length) onlyFlagged++;
    else if (found) onlyFound++;
    else failures.push(`${f} ${id}: parts ${msg.parts.map((p) => `${p.path}:${p.contentType}:${p.content.length}`).join(' ')} hits ${msg.hits.map((h) => h.rule).join(',')}`);
    lines.push(`${found ? 'found' : '-----'}\t${flagged.length ? flagged.map((h) => h.rule).join(',') : '-'}\t${id}`);
  }
  if (process.env.MIME_EVASION_VERBOSE) console.log(lines.join('\n'));
  console.log(`\nhide-content: ${files.length} mails; EICAR zip found and flagged: ${both}; found only: ${onlyFound}; ` +
    `flagged only: ${onlyFlagged}; neither: ${failures.length}`);
  assert.deepEqual(failures, []);
});

const NAMES = path.join(SHARED_CORPUS, 'mime-evasion', 'hide-filename');
const skipNames = corpusSkipReason() || (existsSync(NAMES) ? false : `SKIPPED: ${NAMES} absent`);

test('every hide-filename mail is refused as ambiguous or shows the real name file.zip', { skip: skipNames, timeout: 120_000 }, async () => {
  const files = readdirSync(NAMES).filter((f) => f.endsWith('.eml')).sort();
  let found = 0;
  let flaggedOnly = 0;
  const failures: string[] = [];
  for (const f of files) {
    const raw = readFileSync(path.join(NAMES, f));
    const msg = await parseMessage(raw);
    const named = msg.parts.some((p) => p.names.some((n) => /\.zip[\s.]*$/i.test(n.normalize('NFKC'))));
    const flagged = msg.hits.some((h) => h.action === 'reject' || h.action === 'quarantine');
    if (named) found++;
    else if (flagged) flaggedOnly++;
    else failures.push(`${f} ${/X-Payload-Id: (\S+)/.exec(raw.toString('latin1'))?.[1]}: names ${JSON.stringify(msg.parts.map((p) => p.names))}`);
  }
  console.log(`\nhide-filename: ${files.length} mails; a part named *.zip: ${found}; flagged only: ${flaggedOnly}; neither: ${failures.length}`);
  assert.deepEqual(failures, []);
});

const XOR_DIR = path.join(SHARED_CORPUS, 'clamav-testfiles-xored');
const skipXor = corpusSkipReason() || (existsSync(XOR_DIR) ? false : `SKIPPED: ${XOR_DIR} absent`);
const XOR_KEY = Buffer.from(
  'bhcftqarohcdiayfohalohkgmoefxrrgfnczssgybajvkzjaahpfrlqsratkhhfvpxytculmwgmtyzujlbjlgrhtwxhzpjazlibbwepffyjyfkjwzyofgpopoueurinpdujkphxwhnaxfkaiwrpzdqsnwughtejr',
);

test('ClamAV MIME-evasion mails (XOR-decoded in memory): the test executable is a part, or the mail is flagged', { skip: skipXor }, async () => {
  const files = readdirSync(XOR_DIR).filter((f) => f.endsWith('.xor')).sort();
  assert.ok(files.length > 0);
  const failures: string[] = [];
  let found = 0;
  for (const f of files) {
    const raw = readFileSync(path.join(XOR_DIR, f));
    for (let i = 0; i < raw.length; i++) raw[i] = raw[i]! ^ XOR_KEY[i % XOR_KEY.length]!;
    const msg = await parseMessage(raw);
    const exe = msg.parts.some((p) => p.trueType === 'pe' && p.names.includes('clam.exe'));
    if (exe) found++;
    else if (!msg.hits.some((h) => h.action === 'reject' || h.action === 'quarantine')) failures.push(f);
  }
  console.log(`\nclamav-xored: ${files.length} mails; clam.exe exposed in ${found}`);
  assert.deepEqual(failures, []);
});
