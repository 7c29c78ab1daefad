// Archive expansion: zip (nested, subdirectories, encrypted, bombs), gzip, tar; guards before
// inflating and caps while inflating; members visible to the attachment check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import AdmZip from 'adm-zip';
import { expandArchives } from '../../src/content/archives/expand.js';
import { archivesConfigSchema } from '../../src/content/archives/config.js';
import { createAttachmentCheck } from '../../src/content/attachments/check.js';
import * as B from '../fixtures/attachments/build.js';
import { message, part, ENV } from '../fixtures/attachments/parts.js';
import { sevenZipReady } from '../../src/content/archives/sevenzip.js';

// the 7-Zip engine starts on first need (the pipeline awaits it); these tests call expandArchives directly
await sevenZipReady();

const rulesOf = (hits: { rule: string }[]) => hits.map((h) => h.rule);

test('config defaults', () => {
  const c = archivesConfigSchema.parse(undefined);
  assert.equal(c.maxDepth, 4);
  assert.equal(c.actions.unchecked, 'quarantine');
  assert.equal(c.actions.encrypted, 'quarantine');
});

test('zip detected by content (named .pdf, octet-stream), members in subdirectories become parts', () => {
  const z = new AdmZip();
  z.addFile('readme.txt', Buffer.from('hello'));
  z.addFile('docs/deep/a.exe', B.pe());
  const r = expandArchives([part({ path: '2', names: ['report.pdf'], content: z.toBuffer() })]);
  assert.deepEqual(r.hits, []);
  const paths = r.parts.map((p) => p.path);
  assert.deepEqual(paths, ['2', '2/archive:docs/deep/a.exe', '2/archive:readme.txt'].sort((a, b) => (a === '2' ? -1 : b === '2' ? 1 : a.localeCompare(b))));
  const exe = r.parts.find((p) => p.path === '2/archive:docs/deep/a.exe')!;
  assert.equal(exe.origin, 'archive');
  assert.deepEqual(exe.names, ['docs/deep/a.exe']);
  assert.equal(exe.depth, 2);
  assert.equal(exe.trueType, 'pe');
  assert.equal(exe.isAttachment, true);
  assert.equal(r.parts[0]!.trueType, 'zip');
  // the attachment check sees the member
  const hits = createAttachmentCheck().run(message(r.parts), ENV) as { rule: string; where?: string }[];
  assert.ok(hits.some((h) => h.rule === 'attachment.blocked-name' && h.where === 'part 2/archive:docs/deep/a.exe docs/deep/a.exe'));
  assert.ok(hits.some((h) => h.rule === 'attachment.blocked-type'));
});

test('nested zips are opened up to maxDepth; deeper is archive.unchecked', () => {
  let inner = B.zip([{ name: 'evil.js', data: 'WScript.Echo(1)' }]);
  for (let i = 0; i < 3; i++) inner = B.zip([{ name: `level${i}.zip`, data: inner }]);
  // 4 levels of archives: fits maxDepth 4
  const ok = expandArchives([part({ path: '2', names: ['a.zip'], content: inner })]);
  assert.deepEqual(ok.hits, []);
  assert.ok(ok.parts.some((p) => p.names[0] === 'evil.js' && p.path === '2/archive:level2.zip/archive:level1.zip/archive:level0.zip/archive:evil.js'));
  const deeper = B.zip([{ name: 'level3.zip', data: inner }]);
  const r = expandArchives([part({ path: '2', content: deeper })]);
  assert.deepEqual(rulesOf(r.hits), ['archive.unchecked']);
  assert.match(r.hits[0]!.detail, /nested deeper than 4/);
  assert.equal(r.hits[0]!.action, 'quarantine');
  assert.ok(!r.parts.some((p) => p.names[0] === 'evil.js'));
  const r2 = expandArchives([part({ path: '2', content: deeper })], { maxDepth: 2 });
  assert.ok(r2.hits[0]!.where!.startsWith('part 2/archive:level3.zip/archive:level2.zip'));
});

test('bomb by ratio: a highly compressible member is not inflated', () => {
  const zeros = Buffer.alloc(20 * 1024 * 1024);
  const z = B.zip([{ name: 'zeros.bin', data: zeros }]);
  assert.ok(z.length < 100 * 1024);
  const r = expandArchives([part({ content: z })]);
  assert.deepEqual(rulesOf(r.hits), ['archive.unchecked']);
  assert.match(r.hits[0]!.detail, /ratio/);
  const m = r.parts.find((p) => p.origin === 'archive')!;
  assert.deepEqual(m.names, ['zeros.bin']);
  assert.equal(m.content.length, 0);
});

test('declared size lie: inflation stops at the declared size (maxOutputLength)', () => {
  const z = B.zip([{ name: 'liar.txt', data: Buffer.alloc(5 * 1024 * 1024, 0x41), declaredSize: 100 }]);
  const r = expandArchives([part({ content: z })]);
  assert.deepEqual(rulesOf(r.hits), ['archive.unchecked']);
  assert.match(r.hits[0]!.detail, /inflates beyond its declared 100 bytes/);
});

test('declared total over the limit: names listed, nothing inflated', () => {
  const z = B.zip([{ name: 'a.txt', data: 'x', declaredSize: 3_000_000_000 }, { name: 'b.exe', data: 'y' }]);
  const r = expandArchives([part({ content: z })]);
  assert.ok(r.hits.some((h) => h.rule === 'archive.unchecked' && /declares 3000000001 uncompressed bytes/.test(h.detail)));
  const names = r.parts.filter((p) => p.origin === 'archive').map((p) => p.names[0]);
  assert.deepEqual(names, ['a.txt', 'b.exe']);
  assert.ok(r.parts.every((p) => p.origin !== 'archive' || p.content.length === 0));
});

test('bomb by entry count: over maxEntries (real entries, and a lying end record)', () => {
  const entries = Array.from({ length: 30 }, (_, i) => ({ name: `f${i}.txt`, data: 'x', method: 0 as const }));
  const r = expandArchives([part({ content: B.zip(entries) })], { maxEntries: 20 });
  assert.ok(r.hits.some((h) => h.rule === 'archive.unchecked' && /30 entries \(limit 20\)/.test(h.detail)));
  assert.equal(r.parts.filter((p) => p.origin === 'archive').length, 20);
  const liar = B.zip([{ name: 'a.txt', data: 'x' }], { declaredEntries: 65535 });
  const r2 = expandArchives([part({ content: liar })]);
  assert.ok(r2.hits.some((h) => h.rule === 'archive.unchecked'));
});

test('message-wide inflation budget caps actual bytes across many archives', () => {
  const one = B.zip([{ name: 'data.bin', data: Buffer.alloc(600 * 1024, 7) }]);
  const parts = Array.from({ length: 5 }, (_, i) => part({ path: String(i + 1), content: one }));
  const r = expandArchives(parts, { maxInflatedBytes: 2 * 1024 * 1024, maxRatio: 100000 });
  const inflated = r.parts.filter((p) => p.origin === 'archive').reduce((s, p) => s + p.content.length, 0);
  assert.ok(inflated <= 2 * 1024 * 1024);
  assert.ok(r.hits.some((h) => /budget/.test(h.detail)));
});

test('encrypted zip: archive.encrypted, names still listed (so .exe inside is blocked)', () => {
  const z = B.zip([{ name: 'invoice.exe', data: 'ciphertext', encrypted: true, method: 0 }, { name: 'readme.txt', data: 'plain' }]);
  const r = expandArchives([part({ content: z })]);
  assert.deepEqual(rulesOf(r.hits), ['archive.encrypted']);
  assert.equal(r.hits[0]!.action, 'quarantine');
  assert.match(r.hits[0]!.detail, /1 encrypted zip entry/);
  const hits = createAttachmentCheck().run(message(r.parts), ENV) as { rule: string }[];
  assert.ok(hits.some((h) => h.rule === 'attachment.blocked-name'));
});

test('local header name differs from central directory name: both names kept, flagged', () => {
  const z = B.zip([{ name: 'report.txt', localName: 'report.exe', data: 'x' }]);
  const r = expandArchives([part({ content: z })]);
  assert.deepEqual(rulesOf(r.hits), ['archive.name-mismatch']);
  const m = r.parts.find((p) => p.origin === 'archive')!;
  assert.deepEqual(m.names, ['report.txt', 'report.exe']);
});

test('zip entry with a local header but no central-directory record: archive.hidden-entry, name and content checked', () => {
  const exe = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(200, 1)]);
  const inner = B.zip([{ name: 'inner.txt', data: 'inner text' }]);
  const z = B.zip([
    { name: 'readme.txt', data: 'hello' },
    { name: 'payload.exe', data: exe, unlisted: true },
    // a stored inner zip carries local headers of its own: inside a listed entry, not hidden
    { name: 'inner.zip', data: inner, method: 0 },
  ]);
  const r = expandArchives([part({ content: z })]);
  assert.deepEqual(rulesOf(r.hits), ['archive.hidden-entry']);
  assert.equal(r.hits[0]!.action, 'quarantine');
  assert.match(r.hits[0]!.detail, /1 local entry not in the central directory: "payload.exe"/);
  const hidden = r.parts.find((p) => p.names[0] === 'payload.exe')!;
  assert.ok(hidden.content.equals(exe));
  const hits = createAttachmentCheck().run(message(r.parts), ENV) as { rule: string }[];
  assert.ok(hits.some((h) => h.rule === 'attachment.blocked-name' || h.rule === 'attachment.executable'));
  // the same zip with every entry listed: nothing hidden
  const plain = B.zip([{ name: 'readme.txt', data: 'hello' }, { name: 'inner.zip', data: inner, method: 0 }]);
  assert.deepEqual(rulesOf(expandArchives([part({ content: plain })]).hits), []);
});

test('a listed entry whose directory record stretches its size over a hidden entry: the hidden entry is still found', () => {
  const exe = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(300, 3)]);
  const z = B.zip([{ name: 'report.txt', data: 'quarterly report '.repeat(20) }, { name: 'evil.exe', data: exe, unlisted: true }]);
  // stretch report.txt's compressed size in the central directory to the start of the directory
  const cd = z.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  const localData = 30 + z.readUInt16LE(26) + z.readUInt16LE(28);
  z.writeUInt32LE(cd - localData, cd + 20);
  const r = expandArchives([part({ content: z })]);
  assert.ok(rulesOf(r.hits).includes('archive.hidden-entry'), JSON.stringify(r.hits));
  assert.ok(r.parts.some((p) => p.names[0] === 'evil.exe' && p.content.equals(exe)));
  assert.ok(r.parts.some((p) => p.names[0] === 'report.txt' && p.content.toString().startsWith('quarterly report')));
});

test('a stored entry stretched over a hidden entry, and a hidden entry with an odd version: found; bent sizes fail the CRC', () => {
  const exe = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(100, 4)]);
  const z = B.zip([{ name: 'readme.txt', data: 'hello readme', method: 0 }, { name: 'evil.exe', data: exe, unlisted: true, method: 0 }]);
  const cd = z.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  const localData = 30 + z.readUInt16LE(26) + z.readUInt16LE(28);
  z.writeUInt32LE(cd - localData, cd + 20); // central compressed size
  z.writeUInt32LE(cd - localData, cd + 24); // and size
  const r = expandArchives([part({ content: z })]);
  assert.ok(rulesOf(r.hits).includes('archive.hidden-entry'), JSON.stringify(r.hits));
  assert.ok(r.hits.some((h) => h.rule === 'archive.unchecked' && /CRC mismatch/.test(h.detail)));
  assert.ok(r.parts.some((p) => p.names[0] === 'evil.exe' && p.content.equals(exe)));
  // "version needed" in the hidden local header is not a reason to skip it
  const odd = B.zip([{ name: 'a.txt', data: 'a' }, { name: 'evil.exe', data: exe, unlisted: true }]);
  odd.writeUInt16LE(0xff14, odd.indexOf(Buffer.from('PK\x03\x04', 'latin1'), 10) + 4);
  assert.ok(rulesOf(expandArchives([part({ content: odd })]).hits).includes('archive.hidden-entry'));
});

test('a zip "directory" name with data is a file: its content is checked', () => {
  const exe = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(100, 2)]);
  const r = expandArchives([part({ content: B.zip([{ name: 'photos/', data: exe }, { name: 'empty/', data: '' }]) })]);
  const members = r.parts.filter((p) => p.origin === 'archive');
  assert.deepEqual(members.map((p) => p.names[0]), ['photos/']);
  assert.ok(members[0]!.content.equals(exe));
});

test('zip with junk prepended, and a GIF/zip polyglot, are still opened', () => {
  const z = B.zip([{ name: 'a.vbs', data: 'x' }], { prefix: Buffer.from('junk junk\n') });
  const r = expandArchives([part({ content: z })]);
  assert.ok(r.parts.some((p) => p.names[0] === 'a.vbs' && p.content.toString() === 'x'));
  const gif = B.zip([{ name: 'b.vbs', data: 'y' }], { prefix: Buffer.from('GIF89a\x01\x00\x01\x00 picture bytes', 'latin1') });
  const r2 = expandArchives([part({ names: ['cat.gif'], contentType: 'image/gif', content: gif })]);
  assert.equal(r2.parts[0]!.trueType, 'gif');
  assert.ok(r2.parts.some((p) => p.names[0] === 'b.vbs'));
});

test('unsupported method and corrupt zips are unchecked, never thrown', () => {
  const z = B.zip([{ name: 'a.txt', data: 'hello' }]);
  // patch method to 12 (bzip2) in the central directory
  const cen = z.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  z.writeUInt16LE(12, cen + 10);
  assert.match(expandArchives([part({ content: z })]).hits[0]!.detail, /method 12/);
  const truncated = B.zip([{ name: 'a.txt', data: Buffer.alloc(1000, 1) }]);
  for (let cut = 1; cut < truncated.length; cut += 7) {
    assert.doesNotThrow(() => expandArchives([part({ content: Buffer.concat([truncated.subarray(0, cut), truncated.subarray(truncated.length - 22)]) })]));
  }
});

test('gzip of a single file: member named from FNAME or the part name; size-guarded', () => {
  const r = expandArchives([part({ path: '3', names: ['payload.scr.gz'], content: B.gzipNamed(B.pe()) })]);
  const m = r.parts.find((p) => p.origin === 'archive')!;
  assert.deepEqual(m.names, ['payload.scr']);
  assert.equal(m.trueType, 'pe');
  const r2 = expandArchives([part({ names: ['x.gz'], content: B.gzipNamed(Buffer.from('hi'), 'inner.js') })]);
  assert.deepEqual(r2.parts.find((p) => p.origin === 'archive')!.names, ['inner.js', 'x']);
  const bomb = B.gzipNamed(Buffer.alloc(30 * 1024 * 1024));
  const r3 = expandArchives([part({ content: bomb })]);
  assert.deepEqual(rulesOf(r3.hits), ['archive.unchecked']);
  // ratio check off: actual cap still holds
  const r4 = expandArchives([part({ content: bomb })], { maxRatio: 1e9, maxMemberBytes: 1024 * 1024 });
  assert.match(r4.hits[0]!.detail, /beyond 1048576 bytes/);
});

test('tar and tar.gz: names (incl. GNU long names and dirs skipped) and small contents', () => {
  const longName = `${'d/'.repeat(60)}payload.exe`;
  const t = B.tar([{ name: 'dir/', data: '', dir: true }, { name: 'dir/a.txt', data: 'hello' }, { name: longName, data: B.pe() }]);
  const r = expandArchives([part({ path: '2', names: ['x.tar'], content: t })]);
  assert.deepEqual(r.hits, []);
  const members = r.parts.filter((p) => p.origin === 'archive');
  assert.deepEqual(members.map((p) => p.names[0]), ['dir/a.txt', longName]);
  assert.equal(members[0]!.content.toString(), 'hello');
  assert.equal(members[1]!.trueType, 'pe');
  const tgz = expandArchives([part({ path: '2', names: ['x.tgz'], content: B.gzipNamed(t) })]);
  assert.ok(tgz.parts.some((p) => p.path === '2/archive:x.tar/archive:dir/a.txt'));
  const big = expandArchives([part({ content: t })], { tarContentMaxBytes: 100 });
  assert.ok(big.hits.some((h) => /listed by name only/.test(h.detail)));
});

test('a truncated 7z (opened through 7-Zip now) is archive.unchecked, quarantined', () => {
  const r = expandArchives([part({ content: Buffer.from([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c, 0, 4, 0, 0]) })]);
  assert.deepEqual(r.hits.map((h) => [h.rule, h.action]), [['archive.unchecked', 'quarantine']]);
  assert.match(r.hits[0]!.detail, /corrupt 7z/);
});

test('RAR 5 and RAR 4 that 7-Zip cannot read (header CRCs zero): names from our header reader, unchecked; encryption reported', () => {
  for (const build of [B.rar5, B.rar4]) {
    const r = expandArchives([part({ path: '2', names: ['x.rar'], content: build([{ name: 'docs/invoice.exe' }, { name: 'secret.js', encrypted: true }]) })]);
    assert.deepEqual(r.parts.filter((p) => p.origin === 'archive').map((p) => p.path), ['2/archive:docs/invoice.exe', '2/archive:secret.js']);
    assert.deepEqual(r.hits.map((h) => h.rule).sort(), ['archive.encrypted', 'archive.unchecked']);
    const hits = createAttachmentCheck().run(message(r.parts), ENV) as { rule: string }[];
    assert.equal(hits.filter((h) => h.rule === 'attachment.blocked-name').length, 2);
    const enc = expandArchives([part({ content: build([{ name: 'a.exe' }], { headersEncrypted: true }) })]);
    // this fake is not readable by 7-Zip either (unchecked); our reader still sees the encrypted headers
    assert.deepEqual(enc.hits.map((h) => h.rule).sort(), ['archive.encrypted', 'archive.unchecked']);
    assert.match(enc.hits.find((h) => h.rule === 'archive.encrypted')!.detail, /encrypted headers/);
  }
  // directories are not members; garbage after the signature is unchecked, not thrown
  const d = expandArchives([part({ content: B.rar5([{ name: 'dir', dir: true }, { name: 'dir/a.txt' }]) })]);
  assert.deepEqual(d.parts.filter((p) => p.origin === 'archive').map((p) => p.names[0]), ['dir/a.txt']);
  const bad = expandArchives([part({ content: Buffer.from('Rar!\x1a\x07\x01\x00' + '\xff'.repeat(40), 'latin1') })]);
  assert.ok(bad.hits.some((h) => h.rule === 'archive.unchecked'));
});

test('parts already expanded by the parser are not expanded twice; disabled config passes through', () => {
  const z = B.zip([{ name: 'a.txt', data: 'x' }]);
  const input = [part({ path: '2', content: z }), part({ path: '2/archive:a.txt', origin: 'archive', content: 'x' })];
  assert.equal(expandArchives(input).parts.length, 2);
  assert.equal(expandArchives([part({ content: z })], { enabled: false }).parts.length, 1);
});

test('duplicate member names get distinct paths', () => {
  const z = B.zip([{ name: 'a.txt', data: '1' }, { name: 'a.txt', data: '2' }]);
  const paths = expandArchives([part({ path: '2', content: z })]).parts.map((p) => p.path);
  assert.deepEqual(paths, ['2', '2/archive:a.txt', '2/archive:a.txt#2']);
});

test('overlapping zip entries (quoted-overlap bomb construction) are unchecked and not inflated', () => {
  const z = B.zip([{ name: 'a.txt', data: Buffer.alloc(1000, 0x41) }]);
  // add a second central record pointing at the same local header
  const eocd = z.length - 22;
  const cdStart = z.readUInt32LE(eocd + 16);
  const cd = z.subarray(cdStart, eocd);
  const twin = Buffer.from(cd);
  twin.write('b', 46, 'latin1');
  const out = Buffer.concat([z.subarray(0, eocd), twin, z.subarray(eocd)]);
  out.writeUInt16LE(2, out.length - 22 + 8);
  out.writeUInt16LE(2, out.length - 22 + 10);
  out.writeUInt32LE(cd.length * 2, out.length - 22 + 12);
  const r = expandArchives([part({ content: out })]);
  assert.ok(r.hits.some((h) => h.rule === 'archive.unchecked' && /overlap/.test(h.detail)));
  assert.ok(r.parts.filter((p) => p.origin === 'archive').every((p) => p.content.length === 0));
});

test('7z with AES-encrypted headers is archive.encrypted', () => {
  const head = Buffer.alloc(32);
  Buffer.from([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c, 0, 4]).copy(head, 0);
  const packed = Buffer.alloc(16, 0x55);
  const next = Buffer.from([0x17, 0x06, 0x00, 0x01, 0x09, 0x10, 0x00, 0x0b, 0x01, 0x00, 0x01, 0x24, 0x06, 0xf1, 0x07, 0x01, 0x0a, 0x00]);
  head.writeBigUInt64LE(BigInt(packed.length), 12);
  head.writeBigUInt64LE(BigInt(next.length), 20);
  const r = expandArchives([part({ content: Buffer.concat([head, packed, next]) })]);
  assert.deepEqual(r.hits.map((h) => [h.rule, h.action]), [['archive.encrypted', 'quarantine']]);
});
