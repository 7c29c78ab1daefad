// The 7-Zip engine (two WebAssembly instances, ~17 MB each) starts on the first archive that needs it,
// not when a content worker loads: expandArchives reports `engineStarting` and the pipeline's
// expandArchivesReady waits for the engine and expands again, so the first 7z is opened, not refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandArchives, expandArchivesReady } from '../../src/content/archives/expand.js';
import { sevenZipStarting } from '../../src/content/archives/sevenzip.js';
import { createAttachmentCheck } from '../../src/content/attachments/check.js';
import * as B from '../fixtures/attachments/build.js';
import * as X from '../fixtures/archives/build.js';
import { message, part, ENV } from '../fixtures/attachments/parts.js';

test('a message without 7-Zip formats does not start the engine', () => {
  const r = expandArchives([part({ path: '2', names: ['a.txt'], content: Buffer.from('plain text') })]);
  assert.equal(r.engineStarting, undefined);
  assert.equal(sevenZipStarting(), true);
});

test('first 7z of the process: engine starts on demand and the PE inside is still blocked', async () => {
  const a = await X.sevenZip('7z', [{ name: 'docs/invoice.pdf', data: B.pe() }]);
  const input = [part({ path: '2', names: ['docs.7z'], content: a })];
  const sync = expandArchives(input);
  assert.equal(sync.engineStarting, true);
  const r = await expandArchivesReady(input);
  assert.equal(r.engineStarting, undefined);
  assert.equal(sevenZipStarting(), false);
  const member = r.parts.find((p) => p.origin === 'archive');
  assert.equal(member?.trueType, 'pe');
  const hits = await createAttachmentCheck().run(message(r.parts), ENV);
  assert.ok(hits.some((h) => h.action === 'reject' || h.action === 'quarantine'), JSON.stringify(hits));
});
