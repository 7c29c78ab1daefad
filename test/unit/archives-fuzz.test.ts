// Property tests: archive expansion, true-type detection and name normalisation never throw on
// mutated/random input, and expansion stays within its budgets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { expandArchives } from '../../src/content/archives/expand.js';
import { detectType } from '../../src/content/attachments/magic.js';
import { normaliseName } from '../../src/content/attachments/names.js';
import { createAttachmentCheck } from '../../src/content/attachments/check.js';
import * as B from '../fixtures/attachments/build.js';
import { part } from '../fixtures/attachments/parts.js';
import * as X from '../fixtures/archives/build.js';
import { sevenZipReady } from '../../src/content/archives/sevenzip.js';

// the 7-Zip engine starts on first need (the pipeline awaits it); these tests call expandArchives directly
await sevenZipReady();

const seeds: Buffer[] = [
  B.zip([{ name: 'a.txt', data: 'hello hello hello' }, { name: 'd/b.exe', data: B.pe() }]),
  B.zip([{ name: 'n.zip', data: B.zip([{ name: 'x.js', data: 'x' }]) }]),
  B.tar([{ name: 'a.txt', data: 'hi' }, { name: 'b.sh', data: '#!/bin/sh\n' }]),
  B.gzipNamed(B.tar([{ name: 'a.txt', data: 'hi' }]), 'a.tar'),
  B.rar5([{ name: 'a.exe' }, { name: 'b.txt', encrypted: true }]),
  B.rar4([{ name: 'a.exe' }]),
  B.ole(B.WORD_CLSID, [{ name: 'VBA', storage: true }, { name: 'WordDocument' }]),
  // readers added for 7-Zip formats, odd tar typeflags and XLM workbooks
  await X.sevenZip('7z', [{ name: 'a.txt', data: 'hello hello hello' }, { name: 'd/b.exe', data: B.pe() }]),
  await X.sevenZip('7z', [{ name: 'p.txt', data: 'x' }], ['-m0=PPMd']),
  await X.sevenZip('7z', [{ name: 'a.txt', data: 'y'.repeat(3000) }], ['-m0=Deflate', '-mhc=off']),
  await X.sevenZip('xz', [{ name: 'a', data: B.pe() }]),
  await X.sevenZip('bzip2', [{ name: 'a', data: 'hello hello hello hello' }]),
  X.cab([{ name: 'a.txt', data: 'hello' }, { name: 'b.exe', data: B.pe() }], { mszip: true }),
  X.cab([{ name: 'a.txt', data: 'hello' }]),
  X.tarRaw([{ name: 'a', data: 'x', type: 'Z' }, { name: 'PaxHeaders/b', data: X.paxRecords({ path: 'b.exe', size: '3' }), type: 'x' }, { name: 'b', data: 'abc', type: '0' }]),
  X.xls([{ name: 'S' }, { name: 'M', macro: true, hidden: 2 }]),
];

/** Random bytes behind each new format's magic: the readers must cope with garbage headers. */
const MAGICS = [
  Buffer.from([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c, 0, 4]),
  Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]),
  Buffer.from('BZh91AY&SY', 'latin1'),
  Buffer.from('MSCF\0\0\0\0', 'latin1'),
  Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]),
];
const magicGarbage = fc
  .tuple(fc.constantFrom(...MAGICS), fc.uint8Array({ minLength: 0, maxLength: 600 }))
  .map(([m, rest]) => Buffer.concat([m, Buffer.from(rest)]));

const mutated = fc
  .tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 12 }), fc.nat())
  .map(([seed, edits, cut]) => {
    const b = Buffer.from(seed);
    for (const [at, v] of edits) b[at % b.length] = v;
    return cut % 5 === 0 ? b.subarray(0, cut % (b.length + 1)) : b;
  });

test('expandArchives never throws on mutated archives and respects the inflation budget', () => {
  const limit = 256 * 1024;
  fc.assert(
    fc.property(mutated, (buf) => {
      const r = expandArchives([part({ path: '1', content: buf })], { maxInflatedBytes: limit });
      const inflated = r.parts.filter((p) => p.origin === 'archive').reduce((s, p) => s + p.content.length, 0);
      assert.ok(inflated <= limit + buf.length);
      for (const p of r.parts) {
        assert.equal(typeof p.path, 'string');
        assert.ok(Array.isArray(p.names));
        assert.ok(p.content instanceof Uint8Array);
      }
      for (const h of r.hits) assert.match(h.rule, /^archive\./);
    }),
    { numRuns: 400 },
  );
});

test('7z/xz/bzip2/cab/OLE magic followed by random bytes: expansion and detection never throw', () => {
  fc.assert(
    fc.property(magicGarbage, (buf) => {
      const r = expandArchives([part({ path: '1', content: buf })], { maxInflatedBytes: 256 * 1024 });
      for (const h of r.hits) assert.match(h.rule, /^archive\./);
      assert.equal(typeof detectType(buf).type, 'string');
    }),
    { numRuns: 300 },
  );
});

test('detectType and the attachment check never throw on random or mutated bytes', () => {
  const check = createAttachmentCheck();
  fc.assert(
    fc.property(fc.oneof(mutated, fc.uint8Array({ maxLength: 2048 }).map((u) => Buffer.from(u))), (buf) => {
      const t = detectType(buf);
      assert.equal(typeof t.type, 'string');
      check.checkPart(part({ names: ['x'], content: buf }));
    }),
    { numRuns: 400 },
  );
});

test('normaliseName never throws; its variants never contain bidi/invisible characters', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', maxLength: 80 }), fc.string({ maxLength: 10 }), (a, b) => {
      const n = normaliseName(`${a}\u202E${b}.exe`);
      for (const v of n.variants) assert.doesNotMatch(v, /[\u200B-\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/);
      assert.equal(n.flags.bidi, true);
    }),
    { numRuns: 300 },
  );
});
