// Formats opened through 7-Zip since RAR contents, disk images, zstd, ARJ and LZH stopped being
// "unsupported": RAR 4 / RAR 5 members are extracted (a PE inside has true type 'pe'), an ISO (a real
// one, made by genisoimage: test/fixtures/archives/README.md) and a VHD are opened down to the files of
// their file systems (image → partition table → FAT), a partition we cannot read is unchecked, and a
// zstd bomb stops at the output cap. Everything else is built in the test (fixtures/archives/build.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { expandArchives } from '../../src/content/archives/expand.js';
import { createAttachmentCheck } from '../../src/content/attachments/check.js';
import { detectType } from '../../src/content/attachments/magic.js';
import * as B from '../fixtures/attachments/build.js';
import * as X from '../fixtures/archives/build.js';
import { message, part, ENV } from '../fixtures/attachments/parts.js';
import { sevenZipReady } from '../../src/content/archives/sevenzip.js';

await sevenZipReady();

type R = ReturnType<typeof expandArchives>;
const members = (r: R) => r.parts.filter((p) => p.origin === 'archive');
const byName = (r: R, name: string) => members(r).find((p) => p.names[0] === name);
const rules = (r: R) => r.hits.map((h) => h.rule).sort();
// relative to the repository root (the test runner's cwd), like the other fixture readers
const fixture = (name: string): Buffer => gunzipSync(readFileSync(`test/fixtures/archives/${name}`));

test('RAR 4 and RAR 5: a stored PE is extracted by 7-Zip and typed pe (blocked by true type whatever its name)', () => {
  for (const build of [X.rar4Stored, X.rar5Stored]) {
    const rar = build([{ name: 'docs/invoice.pdf', data: B.pe() }, { name: 'readme.txt', data: 'hello' }]);
    const r = expandArchives([part({ path: '2', names: ['docs.rar'], content: rar })]);
    assert.deepEqual(r.hits, [], build.name);
    assert.equal(r.parts[0]!.trueType, 'rar');
    assert.equal(byName(r, 'docs/invoice.pdf')?.trueType, 'pe', build.name);
    assert.deepEqual(byName(r, 'docs/invoice.pdf')?.content, B.pe());
    assert.equal(byName(r, 'readme.txt')?.content.toString(), 'hello');
    const blocked = (createAttachmentCheck().run(message(r.parts), ENV) as { rule: string; where?: string }[]).filter((h) => h.rule === 'attachment.blocked-type');
    assert.equal(blocked.length, 1, build.name);
  }
});

test('RAR 4 and RAR 5 with an encrypted member: archive.encrypted, the plain member still extracted, no garbage content', () => {
  for (const build of [X.rar4Stored, X.rar5Stored]) {
    const rar = build([{ name: 'a.exe', data: B.pe() }, { name: 'secret.js', data: 'WScript.Echo(1)', encrypted: true }]);
    const r = expandArchives([part({ path: '2', names: ['x.rar'], content: rar })]);
    assert.deepEqual(rules(r), ['archive.encrypted'], build.name);
    assert.match(r.hits[0]!.detail, /1 encrypted RAR [45] entry/);
    assert.equal(byName(r, 'a.exe')?.trueType, 'pe');
    assert.equal(byName(r, 'secret.js')?.content.length, 0);
  }
});

test('RAR: 7-Zip cannot read it (a header CRC broken) → archive.unchecked, names still come from our header reader', () => {
  const rar = X.rar5Stored([{ name: 'invoice.exe', data: B.pe() }]);
  rar[8] ^= 0xff; // the main header's CRC no longer matches
  const r = expandArchives([part({ path: '2', content: rar })]);
  assert.ok(rules(r).includes('archive.unchecked'), JSON.stringify(r.hits));
  assert.deepEqual(members(r).map((p) => p.names[0]), ['invoice.exe']);
});

test('ISO 9660 (genisoimage): members listed and extracted, the PE named .pdf.exe typed pe; same bytes named .img too', () => {
  const iso = fixture('invoice.iso.gz');
  for (const name of ['invoice.iso', 'invoice.img']) {
    const r = expandArchives([part({ path: '2', names: [name], content: iso })]);
    assert.deepEqual(r.hits, [], name);
    assert.equal(r.parts[0]!.trueType, 'iso');
    assert.deepEqual(members(r).map((p) => p.names[0]).sort(), ['invoice.pdf.exe', 'readme.txt']);
    assert.equal(byName(r, 'invoice.pdf.exe')?.trueType, 'pe');
    assert.equal(byName(r, 'readme.txt')?.content.toString(), 'Quarterly figures attached.\n');
  }
});

test('VHD (fixed) of an ISO, and of an MBR disk with a FAT partition: opened level by level down to the files', () => {
  const overIso = expandArchives([part({ path: '2', names: ['disk.vhd'], content: X.vhdFixed(fixture('invoice.iso.gz')) })]);
  assert.deepEqual(overIso.hits, []);
  assert.equal(overIso.parts[0]!.trueType, 'vhd');
  assert.equal(members(overIso).find((p) => p.names[0] === 'invoice.pdf.exe')?.trueType, 'pe');

  const disk = fixture('mbr-fat-disk.img.gz');
  assert.equal(detectType(disk).type, 'mbr');
  const r = expandArchives([part({ path: '2', names: ['disk.vhd'], content: X.vhdFixed(disk) })]);
  assert.deepEqual(r.hits, []);
  // vhd → the disk (MBR) → its partition (FAT) → the files
  assert.deepEqual(members(r).map((p) => p.trueType), ['mbr', 'fat', 'pe', 'unknown']);
  const pe = byName(r, 'invoice.pdf.exe')!;
  assert.equal(pe.trueType, 'pe');
  assert.equal(pe.path, '2/archive:disk.mbr/archive:0.fat/archive:invoice.pdf.exe');
  // the raw disk as an attachment, and the FAT partition on its own, open the same way
  assert.equal(byName(expandArchives([part({ names: ['disk.img'], content: disk })]), 'invoice.pdf.exe')?.trueType, 'pe');
});

test('a partition holding no file system we open is archive.unchecked (never passed); an all-zero one is not', () => {
  const noise = Buffer.alloc(64 * 1024);
  for (let i = 0; i < noise.length; i++) noise[i] = (i * 7919 + (i >> 8)) & 0xff;
  const r = expandArchives([part({ path: '2', names: ['disk.vhd'], content: X.vhdFixed(X.mbrDisk(noise, 0x83)) })]);
  assert.deepEqual(rules(r), ['archive.unchecked']);
  assert.match(r.hits[0]!.detail, /mbr partition "0\.[^"]*" holds no file system Postern opens/);
  const empty = expandArchives([part({ path: '2', content: X.mbrDisk(Buffer.alloc(64 * 1024), 0x83) })]);
  assert.deepEqual(empty.hits, []);
});

test('zstd: a stream is extracted (named after the part); a 1 GiB bomb stops at the cap (nothing kept), archive.unchecked', () => {
  const small = expandArchives([part({ path: '2', names: ['setup.exe.zst'], content: X.zstdRaw(B.pe()) })]);
  assert.deepEqual(small.hits, []);
  assert.equal(small.parts[0]!.trueType, 'zstd');
  assert.deepEqual(members(small).map((p) => [p.names[0], p.trueType]), [['setup.exe', 'pe']]);

  const bomb = X.zstdBomb(1024 ** 3);
  assert.ok(bomb.length < 40 * 1024);
  const r = expandArchives([part({ path: '2', names: ['x.zst'], content: bomb })]);
  assert.deepEqual(rules(r), ['archive.unchecked']);
  assert.match(r.hits[0]!.detail, /zstd: output exceeds \d+ bytes/);
  assert.ok(members(r).every((p) => p.content.length === 0));
  // the engine is still usable afterwards
  assert.equal(byName(expandArchives([part({ path: '3', names: ['a.exe.zst'], content: X.zstdRaw(B.pe()) })]), 'a.exe')?.trueType, 'pe');
});

test('zstd after a skippable frame: typed zstd and opened by 7-Zip, so the PE in the tar inside is found', () => {
  const head = Buffer.alloc(16);
  head.writeUInt32LE(0x184d2a50, 0);
  head.writeUInt32LE(8, 4);
  const content = Buffer.concat([head, X.zstdRaw(B.tar([{ name: 'invoice.exe', data: B.pe() }]))]);
  const r = expandArchives([part({ path: '2', names: ['skip.tar.zst'], content })]);
  assert.deepEqual(r.hits, []);
  assert.equal(r.parts[0]!.trueType, 'zstd');
  assert.equal(members(r).find((p) => p.names[0] === 'invoice.exe')?.trueType, 'pe');
  const blocked = (createAttachmentCheck().run(message(r.parts), ENV) as { rule: string }[]).filter((h) => h.rule === 'attachment.blocked-type');
  assert.equal(blocked.length, 1);
});

test('ACE stays unsupported: archive.unsupported, quarantined by default', () => {
  const ace = Buffer.concat([Buffer.alloc(7), Buffer.from('**ACE**', 'latin1'), Buffer.alloc(32)]);
  const r = expandArchives([part({ content: ace })]);
  assert.deepEqual(r.hits.map((h) => [h.rule, h.action]), [['archive.unsupported', 'quarantine']]);
});

test('ARJ (made by arj) and LZH (stored -lh0-): members extracted by 7-Zip, the PE typed pe', () => {
  const arj = readFileSync('test/fixtures/archives/invoice.arj');
  const a = expandArchives([part({ path: '2', names: ['invoice.arj'], content: arj })]);
  assert.deepEqual(a.hits, []);
  assert.equal(a.parts[0]!.trueType, 'arj');
  assert.deepEqual(members(a).map((p) => [p.names[0], p.trueType]), [['invoice.pdf.exe', 'pe']]);
  const lzh = X.lzhStored([{ name: 'invoice.pdf.exe', data: B.pe() }, { name: 'note.txt', data: 'hi' }]);
  const l = expandArchives([part({ path: '2', names: ['invoice.lzh'], content: lzh })]);
  assert.deepEqual(l.hits, []);
  assert.equal(l.parts[0]!.trueType, 'lzh');
  assert.deepEqual(members(l).map((p) => [p.names[0], p.trueType]), [['invoice.pdf.exe', 'pe'], ['note.txt', 'unknown']]);
});

test('formats whose writes are dropped past a cap (RAR, ISO, declared sizes) stop cleanly: archive.unchecked, engine still usable', () => {
  const iso = fixture('invoice.iso.gz');
  const r = expandArchives([part({ path: '2', content: iso })], { maxInflatedBytes: 300 });
  assert.deepEqual(rules(r), ['archive.unchecked']);
  assert.match(r.hits[0]!.detail, /iso: output exceeds 300 bytes/);
  const rar = X.rar5Stored([{ name: 'big.bin', data: Buffer.alloc(600_000, 1) }]);
  const c = expandArchives([part({ path: '2', content: rar })], { maxInflatedBytes: 100_000 });
  assert.match(c.hits.map((h) => h.detail).join(), /RAR 5: output exceeds 100000 bytes/);
  assert.ok(members(c).every((p) => p.content.length === 0));
  assert.equal(byName(expandArchives([part({ path: '3', content: iso })]), 'invoice.pdf.exe')?.trueType, 'pe');
});

test('ISO with a UDF bridge: both trees read, the files once, no hit; a UDF tree 7-Zip cannot read is unchecked', () => {
  const iso = fixture('invoice-udf.iso.gz');
  const r = expandArchives([part({ path: '2', names: ['invoice.iso'], content: iso })]);
  assert.deepEqual(r.hits, []);
  assert.deepEqual(members(r).map((p) => [p.names[0], p.trueType]).sort(), [['invoice.pdf.exe', 'pe'], ['readme.txt', 'unknown']]);
  // a file identifier in the UDF tree changed: its descriptor CRC no longer matches
  const at = iso.indexOf('readme', 0x80000);
  assert.ok(at > 0);
  const bent = Buffer.from(iso);
  bent.write('evilme', at, 'latin1');
  const b = expandArchives([part({ path: '2', content: bent })]);
  assert.deepEqual(rules(b), ['archive.unchecked']);
  assert.match(b.hits[0]!.detail, /corrupt udf/);
});

test('VHDX and dynamic VHD made by qemu-img: opened through the MBR down to the FAT files', () => {
  for (const [name, type] of [['mbr-fat-disk.vhdx.gz', 'vhdx'], ['mbr-fat-disk-dynamic.vhd.gz', 'vhd']] as const) {
    const r = expandArchives([part({ path: '2', names: [name.replace(/\.gz$/, '')], content: fixture(name) })]);
    assert.deepEqual(r.hits, [], name);
    assert.equal(r.parts[0]!.trueType, type);
    const pe = byName(r, 'invoice.pdf.exe');
    assert.equal(pe?.trueType, 'pe', name);
    assert.match(pe!.path, /\.mbr\/archive:0\.fat\/archive:invoice\.pdf\.exe$/);
    assert.equal(byName(r, 'readme.txt')?.content.toString(), 'Quarterly figures attached.\n');
  }
});

test('dynamic VHD holding a GPT disk with an NTFS partition (the Windows layout): the files reached, NTFS metadata not members', () => {
  const r = expandArchives([part({ path: '2', names: ['invoice.vhd'], content: fixture('gpt-ntfs-disk-dynamic.vhd.gz') })]);
  assert.deepEqual(r.hits, []);
  assert.deepEqual(members(r).map((p) => [p.path, p.trueType]), [
    ['2/archive:invoice.gpt', 'gpt'],
    ['2/archive:invoice.gpt/archive:0.ntfs', 'ntfs'],
    ['2/archive:invoice.gpt/archive:0.ntfs/archive:invoice.pdf.exe', 'pe'],
    ['2/archive:invoice.gpt/archive:0.ntfs/archive:readme.txt', 'unknown'],
  ]);
});

test('RAR: an entry our header reader lists but 7-Zip does not (its header CRC broken) stays a name-only member, archive.name-mismatch', () => {
  const one = X.rar5Stored([{ name: 'ok.txt', data: 'fine' }]);
  const rar = X.rar5Stored([{ name: 'ok.txt', data: 'fine' }, { name: 'hidden.exe', data: B.pe() }]);
  const second = one.length - 8; // where the second file block starts (the end block is 8 bytes)
  rar[second] ^= 0xff; // its header CRC
  const r = expandArchives([part({ path: '2', content: rar })]);
  assert.ok(rules(r).includes('archive.name-mismatch'), JSON.stringify(r.hits));
  assert.ok(rules(r).includes('archive.unchecked'), JSON.stringify(r.hits));
  assert.equal(byName(r, 'ok.txt')?.content.toString(), 'fine');
  const hidden = byName(r, 'hidden.exe');
  assert.ok(hidden);
  assert.equal(hidden.content.length, 0);
});
