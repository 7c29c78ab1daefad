// Archive formats opened through 7-Zip (7z, xz, bzip2, cab) and tar members with odd typeflags:
// a PE inside is blocked by true type whatever its name; bombs are archive.unchecked with the
// output capped (never decompressed in full); encryption is archive.encrypted. Archives are built
// in the test (test/fixtures/archives/build.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import AdmZip from 'adm-zip';
import { expandArchives, expandArchivesReady } from '../../src/content/archives/expand.js';
import { createAttachmentCheck } from '../../src/content/attachments/check.js';
import * as B from '../fixtures/attachments/build.js';
import * as X from '../fixtures/archives/build.js';
import { message, part, ENV } from '../fixtures/attachments/parts.js';
import { sevenZipReady } from '../../src/content/archives/sevenzip.js';

// the 7-Zip engine starts on first need (the pipeline awaits it); these tests call expandArchives directly
await sevenZipReady();

const members = (r: ReturnType<typeof expandArchives>) => r.parts.filter((p) => p.origin === 'archive');
const inflated = (r: ReturnType<typeof expandArchives>) => members(r).reduce((s, p) => s + p.content.length, 0);
const blockedByType = (r: ReturnType<typeof expandArchives>) =>
  (createAttachmentCheck().run(message(r.parts), ENV) as { rule: string; where?: string }[]).filter((h) => h.rule === 'attachment.blocked-type');

const ZEROS = Buffer.alloc(30 * 1024 * 1024);

test('7z: members listed and extracted (subdirectories); a PE named .pdf is blocked by true type', async () => {
  const a = await X.sevenZip('7z', [{ name: 'docs/invoice.pdf', data: B.pe() }, { name: 'readme.txt', data: 'hello' }]);
  const r = expandArchives([part({ path: '2', names: ['docs.7z'], content: a })]);
  assert.deepEqual(r.hits, []);
  assert.equal(r.parts[0]!.trueType, '7z');
  const m = members(r);
  assert.deepEqual(m.map((p) => p.path).sort(), ['2/archive:docs/invoice.pdf', '2/archive:readme.txt']);
  assert.equal(m.find((p) => p.names[0] === 'readme.txt')!.content.toString(), 'hello');
  assert.equal(m.find((p) => p.names[0] === 'docs/invoice.pdf')!.trueType, 'pe');
  const blocked = blockedByType(r);
  assert.equal(blocked.length, 1);
  assert.match(blocked[0]!.where!, /2\/archive:docs\/invoice\.pdf/);
});

test('xz and bzip2: the single member is named from the part name and checked by true type', async () => {
  for (const type of ['xz', 'bzip2'] as const) {
    const a = await X.sevenZip(type, [{ name: 'x', data: B.pe() }]);
    const ext = type === 'xz' ? 'xz' : 'bz2';
    const r = expandArchives([part({ path: '3', names: [`statement.pdf.${ext}`], content: a })]);
    assert.deepEqual(r.hits, [], type);
    const m = members(r);
    assert.equal(m.length, 1, type);
    assert.deepEqual(m[0]!.names, ['statement.pdf']);
    assert.equal(m[0]!.trueType, 'pe');
    assert.equal(blockedByType(r).length, 1, type);
  }
  // tar.xz: the tar inside is opened in turn
  const txz = await X.sevenZip('xz', [{ name: 't', data: B.tar([{ name: 'a/run.txt', data: B.pe() }]) }]);
  const r = expandArchives([part({ path: '2', names: ['bundle.txz'], content: txz })]);
  assert.ok(r.parts.some((p) => p.path === '2/archive:bundle.tar/archive:a/run.txt' && p.trueType === 'pe'));
});

test('cab (stored and MSZIP): PE inside is blocked by true type; names with directories', () => {
  for (const mszip of [false, true]) {
    const c = X.cab([{ name: 'setup\\notes.txt', data: 'notes' }, { name: 'photo.jpg', data: B.pe() }], { mszip });
    const r = expandArchives([part({ path: '2', names: ['x.cab'], content: c })]);
    assert.deepEqual(r.hits, [], `mszip=${mszip}`);
    assert.equal(r.parts[0]!.trueType, 'cab');
    const m = members(r);
    assert.equal(m.length, 2);
    assert.equal(m.find((p) => p.names[0] === 'photo.jpg')!.trueType, 'pe');
    assert.ok(m.some((p) => /notes\.txt$/.test(p.names[0]!) && p.content.toString() === 'notes'));
    assert.equal(blockedByType(r).length, 1);
  }
});

test('bombs (7z, xz, bzip2, cab): unchecked by declared ratio, nothing decompressed', async () => {
  const bombs: Array<[string, Buffer]> = [
    ['7z', await X.sevenZip('7z', [{ name: 'zeros.bin', data: ZEROS }])],
    ['xz', await X.sevenZip('xz', [{ name: 'zeros.bin', data: ZEROS }])],
    ['cab', X.cab([{ name: 'zeros.bin', data: ZEROS }], { mszip: true })],
  ];
  for (const [kind, buf] of bombs) {
    assert.ok(buf.length < 200 * 1024, kind);
    const r = expandArchives([part({ content: buf })]);
    assert.ok(r.hits.some((h) => h.rule === 'archive.unchecked' && /ratio/.test(h.detail)), kind);
    assert.equal(inflated(r), 0, kind);
  }
  // bzip2 declares no size: decompression stops at the ratio cap (1 MiB here), output dropped
  const bz = await X.sevenZip('bzip2', [{ name: 'zeros.bin', data: ZEROS }]);
  assert.ok(bz.length < 1024);
  const r = expandArchives([part({ content: bz })]);
  assert.deepEqual(r.hits.map((h) => h.rule), ['archive.unchecked']);
  assert.match(r.hits[0]!.detail, /output exceeds 1048576 bytes/);
  assert.equal(inflated(r), 0);
});

test('actual output is capped when the declared-size guards are off or lied to', async () => {
  const noRatio = { maxRatio: 1e9, maxInflatedBytes: 2 * 1024 * 1024 };
  const cases: Array<[string, Buffer]> = [
    ['7z', await X.sevenZip('7z', [{ name: 'a.txt', data: 'small' }, { name: 'zeros.bin', data: ZEROS }])],
    ['xz', await X.sevenZip('xz', [{ name: 'zeros.bin', data: ZEROS }])],
    ['bzip2', await X.sevenZip('bzip2', [{ name: 'zeros.bin', data: ZEROS }])],
    ['cab', X.cab([{ name: 'zeros.bin', data: ZEROS }], { mszip: true })],
  ];
  for (const [kind, buf] of cases) {
    // declared sizes pass (limits raised), the message budget of 2 MiB does not
    const r = expandArchives([part({ content: buf })], { ...noRatio, maxDeclaredBytes: 1e9, maxMemberBytes: 1e9 });
    assert.ok(r.hits.some((h) => h.rule === 'archive.unchecked' && /output exceeds 2097152 bytes/.test(h.detail)), `${kind}: ${JSON.stringify(r.hits)}`);
    assert.ok(inflated(r) <= 2 * 1024 * 1024, kind);
    assert.ok(!members(r).some((p) => p.names[0] === 'zeros.bin' && p.content.length > 0), kind);
  }
  // bzip2 member over the per-member limit (no declared size to check first)
  const r = expandArchives([part({ content: cases[2]![1] })], { maxRatio: 1e9, maxMemberBytes: 512 * 1024 });
  assert.match(r.hits[0]!.detail, /inflates beyond 524288 bytes/);
  // a cab whose CFFILE declares 100 bytes for 30 MiB of data: 7-Zip writes only what is declared
  const liar = X.cab([{ name: 'liar.bin', data: ZEROS, declaredSize: 100 }], { mszip: true });
  const l = expandArchives([part({ content: liar })], noRatio);
  assert.ok(inflated(l) <= 100);
});

test('7z over the entry-count and declared-size limits: names listed, nothing extracted', async () => {
  const many = await X.sevenZip('7z', Array.from({ length: 30 }, (_, i) => ({ name: `f${i}.txt`, data: `x${i}` })));
  const r = expandArchives([part({ content: many })], { maxEntries: 20 });
  assert.ok(r.hits.some((h) => /30 entries \(limit 20\)/.test(h.detail)));
  assert.equal(members(r).length, 20);
  assert.equal(inflated(r), 0);
  const big = await X.sevenZip('7z', [{ name: 'a.bin', data: Buffer.alloc(300 * 1024, 1) }]);
  const r2 = expandArchives([part({ content: big })], { maxMemberBytes: 100 * 1024, maxRatio: 1e9 });
  assert.ok(r2.hits.some((h) => /declares 307200 bytes \(limit 102400\)/.test(h.detail)));
});

test('encrypted 7z: archive.encrypted; names still listed (blocked names seen); headers encrypted too', async () => {
  const enc = await X.sevenZip('7z', [{ name: 'invoice.exe', data: B.pe() }], ['-psecret']);
  const r = expandArchives([part({ content: enc })]);
  assert.deepEqual(r.hits.map((h) => [h.rule, h.action]), [['archive.encrypted', 'quarantine']]);
  const hits = createAttachmentCheck().run(message(r.parts), ENV) as { rule: string }[];
  assert.ok(hits.some((h) => h.rule === 'attachment.blocked-name'));
  const henc = await X.sevenZip('7z', [{ name: 'invoice.exe', data: B.pe() }], ['-psecret', '-mhe=on']);
  assert.deepEqual(expandArchives([part({ content: henc })]).hits.map((h) => h.rule), ['archive.encrypted']);
});

test('nesting: 7z in cab in zip is opened to maxDepth; deeper is unchecked', async () => {
  const inner = await X.sevenZip('7z', [{ name: 'deep/run.dat', data: B.pe() }]);
  const c = X.cab([{ name: 'inner.7z', data: inner }]);
  const z = B.zip([{ name: 'outer.cab', data: c }]);
  const r = expandArchives([part({ path: '2', content: z })]);
  assert.ok(r.parts.some((p) => p.path === '2/archive:outer.cab/archive:inner.7z/archive:deep/run.dat' && p.trueType === 'pe'));
  const shallow = expandArchives([part({ path: '2', content: z })], { maxDepth: 2 });
  assert.ok(shallow.hits.some((h) => h.rule === 'archive.unchecked' && /nested deeper than 2/.test(h.detail)));
  assert.ok(!shallow.parts.some((p) => p.trueType === 'pe'));
});

test('corrupt 7z/xz/bzip2/cab are unchecked, never thrown', async () => {
  const good = [
    await X.sevenZip('7z', [{ name: 'a.txt', data: 'hello '.repeat(100) }]),
    await X.sevenZip('xz', [{ name: 'a', data: 'hello '.repeat(100) }]),
    await X.sevenZip('bzip2', [{ name: 'a', data: 'hello '.repeat(100) }]),
    X.cab([{ name: 'a.txt', data: 'hello '.repeat(100) }], { mszip: true }),
  ];
  for (const g of good) {
    const cut = g.subarray(0, Math.floor(g.length * 0.6));
    const r = expandArchives([part({ content: cut })]);
    assert.ok(r.hits.some((h) => h.rule === 'archive.unchecked'), `${cut.subarray(0, 4).toString('hex')}: ${JSON.stringify(r.hits)}`);
  }
});

test('a corrupt zstd (opened through 7-Zip now) is archive.unchecked, quarantined; ACE stays unsupported (archives-sevenzip-more)', () => {
  const r = expandArchives([part({ content: Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]) })]);
  assert.deepEqual(r.hits.map((h) => [h.rule, h.action]), [['archive.unchecked', 'quarantine']]);
});

test('tar: members with odd typeflags carrying data are read (a PE behind a vendor letter is seen)', () => {
  for (const type of ['\0', '7', 'Z', 'S', '1', '2', '3']) {
    const t = X.tarRaw([{ name: 'ok.txt', data: 'hi', type: '0' }, { name: 'photo.jpg', data: B.pe(), type }]);
    const r = expandArchives([part({ path: '2', content: t })]);
    assert.deepEqual(r.hits, [], JSON.stringify(type));
    const m = members(r).find((p) => p.names[0] === 'photo.jpg');
    assert.equal(m?.trueType, 'pe', JSON.stringify(type));
  }
  // pax 'x' header: path applied; GNU 'L' long name applied; 'g' global header consumed
  const longName = `${'sub/'.repeat(30)}run.exe`;
  const pax = X.paxRecords({ path: 'renamed/payload.scr' });
  const ln = Buffer.from(`${longName}\0`);
  const t = Buffer.concat([
    X.tarHeader('pax_global_header', X.paxRecords({ comment: 'x' }).length, 'g'),
    X.paxRecords({ comment: 'x' }),
    Buffer.alloc(512 - X.paxRecords({ comment: 'x' }).length),
    X.tarHeader('PaxHeaders/x', pax.length, 'x'),
    pax,
    Buffer.alloc(512 - pax.length),
    X.tarHeader('short-name', B.pe().length, '0'),
    B.pe(),
    Buffer.alloc(512 - (B.pe().length % 512 || 512)),
    X.tarHeader('././@LongLink', ln.length, 'L'),
    ln,
    Buffer.alloc(512 - ln.length),
    X.tarHeader(longName.slice(0, 100), 2, 'K'.replace('K', '0')),
    Buffer.from('hi'),
    Buffer.alloc(510),
    Buffer.alloc(1024),
  ]);
  const r = expandArchives([part({ path: '2', content: t })]);
  assert.deepEqual(r.hits, []);
  assert.deepEqual(members(r).map((p) => p.names[0]), ['renamed/payload.scr', longName]);
  assert.equal(members(r)[0]!.trueType, 'pe');
});

test('tar: pax size overrides the header size; members after zero blocks are still read', () => {
  const pe = B.pe();
  // header says 0 bytes, pax says the real size: a reader ignoring pax would see no data
  const pax = X.paxRecords({ size: String(pe.length) });
  const t = Buffer.concat([
    X.tarHeader('PaxHeaders/a', pax.length, 'x'),
    pax,
    Buffer.alloc(512 - pax.length),
    X.tarHeader('a.txt', 0, '0'),
    pe,
    Buffer.alloc((512 - (pe.length % 512)) % 512),
    Buffer.alloc(1024),
  ]);
  const r = expandArchives([part({ content: t })]);
  assert.equal(members(r)[0]?.trueType, 'pe');
  const gap = X.tarRaw([{ name: 'a.txt', data: 'a', type: '0' }, { name: 'hidden.dat', data: pe, type: '0' }], { gapZeroBlocks: [1] });
  const g = expandArchives([part({ content: gap })]);
  assert.ok(members(g).some((p) => p.names[0] === 'hidden.dat' && p.trueType === 'pe'));
});

test('tar: a corrupt header (checksum, size field) is archive.unchecked', () => {
  const bad = X.tarRaw([{ name: 'a.txt', data: 'a', type: '0' }, { name: 'b.exe', data: B.pe(), type: '0', badChecksum: true }]);
  const r = expandArchives([part({ content: bad })]);
  assert.ok(r.hits.some((h) => h.rule === 'archive.unchecked' && /checksum/.test(h.detail)));
  const h = X.tarHeader('c.txt', 1, '0');
  h.write('9x9x9x9x9x9\0', 124, 'latin1');
  // fix the checksum so only the size field is wrong
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  const first = X.tarRaw([{ name: 'a.txt', data: 'a', type: '0' }]);
  const t = Buffer.concat([first.subarray(0, 1024), h, Buffer.alloc(1536)]);
  const r2 = expandArchives([part({ content: t })]);
  assert.ok(r2.hits.some((x) => x.rule === 'archive.unchecked' && /size/.test(x.detail)), JSON.stringify(r2.hits));
});

test('many bzip2 bombs in one zip: the 7-Zip engine is recycled before it corrupts (used to loop forever at ~100)', async () => {
  const bomb = await X.sevenZip('bzip2', [{ name: 'zeros.bin', data: Buffer.alloc(8 * 1024 * 1024) }]);
  const zip = new AdmZip();
  for (let i = 0; i < 120; i++) zip.addFile(`b${i}.bz2`, bomb);
  const r = await expandArchivesReady([part({ path: '2', names: ['many.zip'], content: zip.toBuffer() })]);
  assert.ok(r.hits.some((h) => h.rule === 'archive.unchecked'), 'capped bombs are unchecked');
  // the engine still works afterwards: a PE inside a 7z is found
  await sevenZipReady();
  const a = await X.sevenZip('7z', [{ name: 'x.pdf', data: B.pe() }]);
  const after = await expandArchivesReady([part({ path: '3', names: ['x.7z'], content: a })]);
  assert.ok(after.parts.some((p) => p.origin === 'archive' && p.trueType === 'pe'), JSON.stringify(after.hits));
});

test('7z and cab: a member with the directory attribute but real data is a file (its content is checked)', async () => {
  // 0x30 = directory + archive, as Windows extractors still write the data as a regular file
  const a = await X.sevenZipWithAttributes('data.bin', B.pe(), 0x30);
  const r = expandArchives([part({ path: '2', names: ['docs.7z'], content: a })]);
  const m = members(r);
  assert.deepEqual(m.map((p) => [p.names[0], p.trueType]), [['data.bin', 'pe']], JSON.stringify(r.hits));
  assert.equal(blockedByType(r).length, 1);
  const c = X.cab([{ name: 'data.bin', data: B.pe() }]);
  c.writeUInt16LE(0x30, c.indexOf(Buffer.from('data.bin\0')) - 2);
  const rc = expandArchives([part({ path: '3', names: ['data.cab'], content: c })]);
  assert.deepEqual(members(rc).map((p) => [p.names[0], p.trueType]), [['data.bin', 'pe']], JSON.stringify(rc.hits));
  // a real empty directory is still no member
  const d = await X.sevenZip('7z', [{ name: 'dir/x.txt', data: 'x' }]);
  assert.deepEqual(members(expandArchives([part({ content: d })])).map((p) => p.names[0]), ['dir/x.txt']);
});

test('7z: a member whose Unix mode says symlink is extracted and checked; unrecoverable bytes are unchecked', async () => {
  const S_IFLNK = 0xa1ff << 16;
  // large: 7-Zip writes the data as a file, its true type is seen
  const big = Buffer.concat([B.pe(), Buffer.alloc(8192, 0x41)]);
  const r = expandArchives([part({ path: '2', content: await X.sevenZipWithAttributes('photo.jpg', big, S_IFLNK | 0x8020) })]);
  assert.equal(members(r).find((p) => p.names[0] === 'photo.jpg')?.trueType, 'pe', JSON.stringify(r.hits));
  assert.equal(blockedByType(r).length, 1);
  // small: 7-Zip makes a link from the data, cut at the first NUL; the member is archive.unchecked
  const small = expandArchives([part({ path: '3', content: await X.sevenZipWithAttributes('photo.jpg', B.pe(), S_IFLNK | 0x8020) })]);
  const u = small.hits.find((h) => h.rule === 'archive.unchecked');
  assert.ok(u && /photo\.jpg.*symbolic link.*of 512 bytes/.test(u.detail), JSON.stringify(small.hits));
  assert.equal(u.action, 'quarantine');
});

test('tar: a pax global header path is a candidate name (GNU tar extracts under it)', () => {
  const js = 'var s=new ActiveXObject("WScript.Shell");';
  const t = X.tarRaw([{ name: 'pax_global_header', type: 'g', data: X.paxRecords({ path: 'invoice.js' }) }, { name: 'readme.txt', type: '0', data: js }]);
  const r = expandArchives([part({ path: '2', content: t })]);
  const m = members(r);
  assert.equal(m.length, 1);
  assert.deepEqual(m[0]!.names, ['invoice.js', 'readme.txt']);
  const hits = createAttachmentCheck().run(message(r.parts), ENV) as { rule: string }[];
  assert.ok(hits.some((h) => h.rule === 'attachment.blocked-name'), JSON.stringify(hits));
});

test('tar: GNU sparse members (1.0, 0.1, 0.0) are rebuilt and named as tar extracts them', () => {
  const pe = B.pe();
  // 1.0: map "COUNT\nOFFSET\nLENGTH\n" padded to a block at the start of the data
  const map = Buffer.alloc(512);
  map.write(`1\n0\n${pe.length}\n`, 0, 'latin1');
  const v1 = X.paxRecords({ 'GNU.sparse.major': '1', 'GNU.sparse.minor': '0', 'GNU.sparse.name': 'evil.exe', 'GNU.sparse.realsize': String(pe.length), path: 'GNUSparseFile.0/readme.txt' });
  const t1 = X.tarRaw([{ name: 'PaxHeaders/x', type: 'x', data: v1 }, { name: 'GNUSparseFile.0/readme.txt', type: '0', data: Buffer.concat([map, pe]) }]);
  const r1 = expandArchives([part({ path: '2', content: t1 })]);
  assert.deepEqual(r1.hits, []);
  assert.deepEqual(members(r1).map((p) => [p.names[0], p.trueType, p.content.length]), [['evil.exe', 'pe', pe.length]]);
  assert.ok(members(r1)[0]!.names.includes('GNUSparseFile.0/readme.txt'));
  // 0.1: map in the pax record; a 4 KiB hole after the data is rebuilt as zeros
  const v01 = X.paxRecords({ 'GNU.sparse.size': String(pe.length + 4096), 'GNU.sparse.map': `0,${pe.length}`, 'GNU.sparse.name': 'tool.exe', path: 'GNUSparseFile.1/a.txt' });
  const r01 = expandArchives([part({ content: X.tarRaw([{ name: 'x', type: 'x', data: v01 }, { name: 'a.txt', type: '0', data: pe }]) })]);
  assert.deepEqual(members(r01).map((p) => [p.names[0], p.trueType, p.content.length]), [['tool.exe', 'pe', pe.length + 4096]]);
  // 0.0: repeated offset/numbytes records; the data begins after a 512-byte hole, chunks placed in order
  const recs = Buffer.concat([X.paxRecords({ 'GNU.sparse.size': '1536', 'GNU.sparse.numblocks': '2' }), X.paxRecords({ 'GNU.sparse.offset': '0', 'GNU.sparse.numbytes': '2' }), X.paxRecords({ 'GNU.sparse.offset': '1024', 'GNU.sparse.numbytes': '3' })]);
  const r00 = expandArchives([part({ content: X.tarRaw([{ name: 'x', type: 'x', data: recs }, { name: 'b.bin', type: '0', data: 'MZabc' }]) })]);
  const b = members(r00)[0]!.content;
  assert.equal(b.length, 1536);
  assert.equal(b.subarray(0, 2).toString(), 'MZ');
  assert.equal(b.subarray(1024, 1027).toString(), 'abc');
  // a map that claims more data than the member holds is archive.unchecked
  const bad = X.paxRecords({ 'GNU.sparse.size': '100000', 'GNU.sparse.map': '0,90000' });
  const rb = expandArchives([part({ content: X.tarRaw([{ name: 'x', type: 'x', data: bad }, { name: 'c.bin', type: '0', data: pe }]) })]);
  assert.ok(rb.hits.some((h) => h.rule === 'archive.unchecked' && /sparse/.test(h.detail)), JSON.stringify(rb.hits));
});
