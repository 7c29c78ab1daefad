// Zip entries written by a streaming writer (flag bit 3: CRC and sizes in a data descriptor after the
// data, zeros in the local header) that no central-directory record lists: their sizes are read from
// the descriptor, so their content — not an empty stand-in — is checked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import AdmZip from 'adm-zip';
import { expandArchives } from '../../src/content/archives/expand.js';
import { archivesConfigSchema } from '../../src/content/archives/config.js';
import * as B from '../fixtures/attachments/build.js';
import { part } from '../fixtures/attachments/parts.js';

const exe = Buffer.concat([B.pe(), Buffer.alloc(300, 7), Buffer.from('PK\u0007\u0008 in the data, not a descriptor')]);

for (const method of [0, 8] as const) {
  test(`hidden ${method === 0 ? 'stored' : 'deflated'} entry with a data descriptor: its real content is checked`, () => {
    const z = B.zip([
      { name: 'readme.txt', data: 'hello' },
      { name: 'payload.exe', data: exe, unlisted: true, descriptor: true, method },
      { name: 'notes.txt', data: 'listed after the hidden one', descriptor: true },
    ]);
    const r = expandArchives([part({ content: z })], archivesConfigSchema.parse({ actions: { hiddenEntry: 'log' } }));
    assert.ok(r.hits.some((h) => h.rule === 'archive.hidden-entry'));
    const hidden = r.parts.find((p) => p.names[0] === 'payload.exe');
    assert.ok(hidden, 'the hidden entry is a part');
    assert.ok(hidden.content.equals(exe), `content read whole (${hidden.content.length} of ${exe.length} bytes)`);
    assert.equal(hidden.trueType, 'pe');
    assert.ok(!r.hits.some((h) => h.rule === 'archive.unchecked'), JSON.stringify(r.hits));
    // the listed entry with a descriptor reads as before (its sizes come from the directory)
    assert.equal(r.parts.find((p) => p.names[0] === 'notes.txt')?.content.toString(), 'listed after the hidden one');
  });
}

test('the test zips are real zips: a directory reader lists only the listed entries', () => {
  const z = B.zip([{ name: 'a.txt', data: 'a', descriptor: true }, { name: 'b.exe', data: exe, unlisted: true, descriptor: true }]);
  assert.deepEqual(new AdmZip(z).getEntries().map((e) => e.entryName), ['a.txt']);
  assert.equal(new AdmZip(z).readAsText('a.txt'), 'a');
});
