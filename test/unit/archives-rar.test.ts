// RAR listings that find no file to name: only directory entries, only service blocks (comments,
// recovery records), no blocks at all, or headers that cannot be parsed. RAR is opened by 7-Zip now
// (contents checked); our header reader (rar.ts) is a second name source. Nothing 7-Zip cannot read
// passes as checked: archive.unchecked. Headers are built by hand from the RAR 4 / RAR 5 block layouts
// (RARLAB's technote), with the header CRCs 7-Zip checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import { expandArchives } from '../../src/content/archives/expand.js';
import { listRar } from '../../src/content/archives/rar.js';
import { sevenZipReady } from '../../src/content/archives/sevenzip.js';
import { part } from '../fixtures/attachments/parts.js';
import { vint } from '../fixtures/attachments/build.js';

await sevenZipReady();

const rules = (r: { hits: { rule: string }[] }): string[] => r.hits.map((h) => h.rule).sort();
const members = (r: { parts: { origin: string; names: string[] }[] }): string[] => r.parts.filter((p) => p.origin === 'archive').map((p) => p.names[0]!);

// ---- RAR 5: signature, then blocks of CRC32, header size (vint), type, flags, [extra size], [data size], body ----

function r5block(type: number, body: Buffer, data?: Buffer): Buffer {
  const header = Buffer.concat([vint(type), vint(data ? 2 : 0), ...(data ? [vint(data.length)] : []), body]);
  const sized = Buffer.concat([vint(header.length), header]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32LE(crc32(sized) >>> 0); // 7-Zip checks header CRCs
  return Buffer.concat([crc, sized, ...(data ? [data] : [])]);
}

/** RAR 4 header CRC: low 16 bits of the CRC32 of the header after the CRC field. */
function r4crc(h: Buffer): Buffer {
  h.writeUInt16LE(crc32(h.subarray(2)) & 0xffff, 0);
  return h;
}

/** File (type 2) or service (type 3) header body: flags, size, attributes, compression, host OS, name. */
function r5entry(name: string, dir: boolean): Buffer {
  const n = Buffer.from(name, 'utf8');
  return Buffer.concat([vint(dir ? 1 : 0), vint(dir ? 0 : 4), vint(dir ? 0x10 : 0x20), vint(0), vint(2), vint(n.length), n]);
}

const R5 = Buffer.from('Rar!\x1a\x07\x01\x00', 'latin1');
const r5main = r5block(1, vint(0));
const r5end = r5block(5, vint(0));
const rar5 = (...blocks: Buffer[]): Buffer => Buffer.concat([R5, r5main, ...blocks, r5end]);

// ---- RAR 4: marker block (the signature), then blocks of CRC16, type, flags, size [, add size] ----
const R4 = Buffer.from('Rar!\x1a\x07\x00', 'latin1');

function r4main(): Buffer {
  const b = Buffer.alloc(13);
  b[2] = 0x73;
  b.writeUInt16LE(13, 5);
  return r4crc(b);
}

function r4end(): Buffer {
  const b = Buffer.alloc(7);
  b[2] = 0x7b;
  b.writeUInt16LE(7, 5);
  return r4crc(b);
}

/** A file-like block: 0x74 file (0xe0 in flags = directory) or 0x7a service ("CMT", "RR"). */
function r4entry(type: number, name: string, flags: number, data = Buffer.alloc(0)): Buffer {
  const n = Buffer.from(name, 'latin1');
  const h = Buffer.alloc(32 + n.length);
  h[2] = type;
  h.writeUInt16LE(0x8000 | flags, 3);
  h.writeUInt16LE(h.length, 5);
  h.writeUInt32LE(data.length, 7);
  h.writeUInt32LE(data.length, 11);
  h.writeUInt16LE(n.length, 26);
  h.writeUInt32LE(crc32(data) >>> 0, 16);
  h[24] = 29;
  h[25] = 0x30; // stored
  n.copy(h, 32);
  return Buffer.concat([r4crc(h), data]);
}

const rar4 = (...blocks: Buffer[]): Buffer => Buffer.concat([R4, r4main(), ...blocks, r4end()]);

test('RAR 5 with only directory entries: 7-Zip lists the directories, no member, nothing to report', () => {
  const r = expandArchives([part({ names: ['x.rar'], content: rar5(r5block(2, r5entry('a', true)), r5block(2, r5entry('a/b', true))) })]);
  assert.deepEqual(members(r), []);
  assert.deepEqual(rules(r), []);
});

test('RAR 5 with only service blocks (comment, quick open) or no blocks at all: archive.unchecked (7-Zip lists nothing)', () => {
  const svc = rar5(r5block(3, r5entry('CMT', false), Buffer.from('a comment')), r5block(3, r5entry('QO', false), Buffer.from('qo')));
  assert.deepEqual(listRar(svc, 100)?.entries, []);
  const r = expandArchives([part({ content: svc })]);
  assert.deepEqual(rules(r), ['archive.unchecked']);
  assert.equal(r.hits[0]!.action, 'quarantine');
  // main header and end block only: a valid empty archive, nothing in it to check
  assert.deepEqual(rules(expandArchives([part({ content: rar5() })])), []);
  // the signature alone (no main header, no end block)
  assert.deepEqual(rules(expandArchives([part({ content: R5 })])), ['archive.unchecked']);
});

test('RAR 4 with only directory entries: no member, nothing to report; only service blocks: never passed silently', () => {
  const dirs = rar4(r4entry(0x74, 'docs', 0xe0), r4entry(0x74, 'docs\\old', 0xe0));
  assert.deepEqual(listRar(dirs, 100)?.entries.map((e) => [e.name, e.directory]), [['docs', true], ['docs\\old', true]]);
  const d = expandArchives([part({ content: dirs })]);
  assert.deepEqual(members(d), []);
  assert.deepEqual(rules(d), []);
  const svc = rar4(r4entry(0x7a, 'CMT', 0, Buffer.from('comment')), r4entry(0x7a, 'RR', 0, Buffer.alloc(64)));
  const s = expandArchives([part({ content: svc })]);
  assert.deepEqual(members(s), []);
  assert.ok(rules(s).every((r) => r === 'archive.unchecked'), JSON.stringify(s.hits));
  assert.ok(rules(expandArchives([part({ content: rar4() })])).every((r) => r === 'archive.unchecked'));
});

test('RAR that cannot be walked: archive.unchecked, never thrown, never silent', () => {
  // block size running past the data
  const cut = rar4(r4entry(0x74, 'a.exe', 0, Buffer.from('DATA'))).subarray(0, 7 + 13 + 20);
  assert.deepEqual(rules(expandArchives([part({ content: cut })])), ['archive.unchecked']);
  // large-file flag (0x100) on a header too short for the high size words
  const short = r4entry(0x74, 'a', 0x100);
  assert.equal(short.length, 33);
  const big = expandArchives([part({ content: Buffer.concat([R4, r4main(), short]) })]);
  assert.deepEqual(rules(big), ['archive.unchecked']);
  assert.match(big.hits[0]!.detail, /corrupt RAR 4: /);
  // RAR 5: a header size vint that never ends
  const r5bad = Buffer.concat([R5, Buffer.alloc(4), Buffer.alloc(12, 0xff)]);
  const b5 = expandArchives([part({ content: r5bad })]);
  assert.deepEqual(rules(b5), ['archive.unchecked']);
});

test('RAR with real file entries beside directories and service blocks: 7-Zip extracts the files', () => {
  const r5 = expandArchives([part({ path: '2', content: rar5(r5block(2, r5entry('d', true)), r5block(3, r5entry('CMT', false), Buffer.from('c')),
    r5block(2, r5entry('d/run.exe', false), Buffer.from('DATA'))) })]);
  assert.deepEqual(members(r5), ['d/run.exe']);
  assert.deepEqual(rules(r5), []);
  assert.equal(r5.parts.find((p) => p.names[0] === 'd/run.exe')?.content.toString(), 'DATA');
  const r4 = expandArchives([part({ path: '2', content: rar4(r4entry(0x74, 'd', 0xe0), r4entry(0x7a, 'CMT', 0, Buffer.from('c')),
    r4entry(0x74, 'd\\run.exe', 0, Buffer.from('DATA'))) })]);
  // 7-Zip turns RAR 4's backslashes into slashes; our reader's name is the same path
  assert.deepEqual(members(r4), ['d/run.exe']);
  assert.deepEqual(rules(r4), []);
  // large-file form (high size words present): sizes combined, name after them
  const n = Buffer.from('huge.iso', 'latin1');
  const h = Buffer.alloc(40 + n.length);
  h[2] = 0x74;
  h.writeUInt16LE(0x8000 | 0x100, 3);
  h.writeUInt16LE(h.length, 5);
  h.writeUInt32LE(4, 7);
  h.writeUInt32LE(1, 11);
  h.writeUInt32LE(0, 32);
  h.writeUInt32LE(2, 36);
  h.writeUInt16LE(n.length, 26);
  n.copy(h, 40);
  const listing = listRar(Buffer.concat([R4, r4main(), h, Buffer.from('DATA'), r4end()]), 100)!;
  assert.deepEqual(listing.entries.map((e) => [e.name, e.size, e.packedSize]), [['huge.iso', 2 * 0x100000000 + 1, 4]]);
  assert.equal(listing.error, undefined);
});
