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

const seeds: Buffer[] = [
  B.zip([{ name: 'a.txt', data: 'hello hello hello' }, { name: 'd/b.exe', data: B.pe() }]),
  B.zip([{ name: 'n.zip', data: B.zip([{ name: 'x.js', data: 'x' }]) }]),
  B.tar([{ name: 'a.txt', data: 'hi' }, { name: 'b.sh', data: '#!/bin/sh\n' }]),
  B.gzipNamed(B.tar([{ name: 'a.txt', data: 'hi' }]), 'a.tar'),
  B.rar5([{ name: 'a.exe' }, { name: 'b.txt', encrypted: true }]),
  B.rar4([{ name: 'a.exe' }]),
  B.ole(B.WORD_CLSID, [{ name: 'VBA', storage: true }, { name: 'WordDocument' }]),
];

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
