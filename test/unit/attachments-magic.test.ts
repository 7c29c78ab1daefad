// True-type detection from magic bytes: every table entry, look-alikes, and macro detection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import AdmZip from 'adm-zip';
import { detectType } from '../../src/content/attachments/magic.js';
import * as B from '../fixtures/attachments/build.js';

const t = (buf: Buffer | string) => detectType(Buffer.isBuffer(buf) ? buf : Buffer.from(buf, 'latin1'));

test('PE: MZ with PE header is pe (exe/dll); MZ alone is mz; both executable', () => {
  const exe = t(B.pe());
  assert.equal(exe.type, 'pe');
  assert.equal(exe.executable, true);
  assert.ok(exe.hints.includes('exe'));
  assert.ok(t(B.pe({ dll: true })).hints.includes('dll'));
  const mz = t(Buffer.concat([Buffer.from('MZ'), Buffer.alloc(100)]));
  assert.equal(mz.type, 'mz');
  assert.equal(mz.executable, true);
  // e_lfanew pointing outside the buffer must not throw
  const bad = B.pe();
  bad.writeUInt32LE(0xfffffff0, 0x3c);
  assert.equal(t(bad).type, 'mz');
});

test('ELF and all Mach-O variants', () => {
  assert.equal(t(B.elf()).type, 'elf');
  for (const m of [0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe, 0xcafebabe, 0xcafebabf]) {
    const r = t(B.macho(m));
    assert.equal(r.type, 'macho', m.toString(16));
    assert.equal(r.executable, true);
  }
  const le = Buffer.alloc(16);
  le.writeUInt32BE(0xbebafeca, 0);
  assert.equal(t(le).type, 'macho');
});

test('Java class is told apart from fat Mach-O (same CAFEBABE magic)', () => {
  const r = t(B.javaClass());
  assert.equal(r.type, 'java-class');
  assert.equal(r.executable, true);
});

test('shebang scripts carry the interpreter', () => {
  const r = t('#!/bin/sh\necho hi\n');
  assert.equal(r.type, 'script');
  assert.equal(r.executable, true);
  assert.ok(r.hints.includes('interpreter=/bin/sh'));
  assert.equal(t('#!/usr/bin/env python3\n').type, 'script');
});

test('Windows shortcut (.lnk header + CLSID)', () => {
  assert.equal(t(B.lnk()).type, 'lnk');
  assert.equal(t(B.lnk()).executable, true);
  // Same size field, wrong CLSID: not a shortcut
  const notLnk = B.lnk();
  notLnk[4] = 0;
  assert.notEqual(t(notLnk).type, 'lnk');
});

test('OLE: MSI by root CLSID; Office with VBA storage has macros; plain OLE has none', () => {
  const msi = t(B.ole(B.MSI_CLSID, [{ name: '\u4840\u3F3F' }]));
  assert.equal(msi.type, 'msi');
  assert.equal(msi.executable, true);
  const doc = t(B.ole(B.WORD_CLSID, [{ name: 'WordDocument' }, { name: 'Macros', storage: true }, { name: 'VBA', storage: true }, { name: '_VBA_PROJECT' }]));
  assert.equal(doc.type, 'ole');
  assert.equal(doc.macros, true);
  assert.equal(doc.executable, false);
  const xls = t(B.ole('00020820-0000-0000-C000-000000000046', [{ name: '_VBA_PROJECT_CUR', storage: true }, { name: 'Workbook' }]));
  assert.equal(xls.macros, true);
  const clean = t(B.ole(B.WORD_CLSID, [{ name: 'WordDocument' }, { name: '1Table' }]));
  assert.equal(clean.type, 'ole');
  assert.equal(clean.macros, false);
  // Broken directory: falls back to the UTF-16 marker scan, never throws
  const broken = Buffer.concat([B.ole(B.WORD_CLSID, []).subarray(0, 512), Buffer.from('_VBA_PROJECT', 'utf16le')]);
  broken.writeUInt32LE(999, 48);
  assert.equal(t(broken).macros, true);
});

test('OOXML with vbaProject.bin has macros; without it has none; ODF Basic macros', () => {
  const z = new AdmZip();
  z.addFile('[Content_Types].xml', Buffer.from('<Types/>'));
  z.addFile('word/document.xml', Buffer.from('<w:document/>'));
  const clean = t(z.toBuffer());
  assert.equal(clean.type, 'ooxml');
  assert.equal(clean.macros, false);
  z.addFile('word/vbaProject.bin', B.ole(B.WORD_CLSID, [{ name: 'VBA', storage: true }]));
  assert.equal(t(z.toBuffer()).macros, true);
  const odt = B.zip([
    { name: 'mimetype', data: 'application/vnd.oasis.opendocument.text', method: 0 },
    { name: 'content.xml', data: '<x/>' },
    { name: 'Basic/Standard/Module1.xml', data: '<x/>' },
  ]);
  assert.equal(t(odt).type, 'odf');
  assert.equal(t(odt).macros, true);
});

test('zip family: plain zip, jar, prefixed zip, empty zip; encrypted hint', () => {
  assert.equal(t(B.zip([{ name: 'a.txt', data: 'x' }])).type, 'zip');
  assert.equal(t(B.zip([{ name: 'META-INF/MANIFEST.MF', data: 'x' }, { name: 'a/B.class', data: 'x' }])).type, 'jar');
  const pre = t(B.zip([{ name: 'a.txt', data: 'x' }], { prefix: Buffer.from('junk junk junk\n') }));
  assert.equal(pre.type, 'zip');
  assert.ok(pre.hints.includes('prefixed'));
  assert.equal(t(B.zip([])).type, 'zip');
  assert.ok(t(B.zip([{ name: 'a.exe', data: 'x', encrypted: true }])).hints.includes('encrypted'));
});

test('other archives and compressors', () => {
  assert.equal(t('Rar!\x1a\x07\x00' + '\0'.repeat(20)).type, 'rar');
  assert.ok(t('Rar!\x1a\x07\x01\x00' + '\0'.repeat(20)).hints.includes('rar5'));
  assert.equal(t(Buffer.from([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c, 0, 4])).type, '7z');
  assert.equal(t(B.gzipNamed(Buffer.from('hello'))).type, 'gzip');
  assert.equal(t(Buffer.concat([Buffer.from('BZh9'), Buffer.from([0x31, 0x41, 0x59, 0x26, 0x53, 0x59]), Buffer.alloc(10)])).type, 'bzip2');
  assert.equal(t(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0, 0])).type, 'xz');
  assert.equal(t(B.tar([{ name: 'a.txt', data: 'hi' }])).type, 'tar');
  assert.equal(t('MSCF\0\0\0\0' + '\0'.repeat(30)).type, 'cab');
  assert.equal(t(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0])).type, 'zstd');
  // BZh without the block magic is just text
  assert.notEqual(t('BZh9 not really').type, 'bzip2');
});

test('tar without ustar magic is recognised by header checksum (v7 tar)', () => {
  const v7 = B.tar([{ name: 'old.txt', data: 'x' }]);
  v7.fill(0, 257, 265);
  let sum = 0;
  v7.fill(0x20, 148, 156);
  for (let i = 0; i < 512; i++) sum += v7[i]!;
  v7.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  assert.equal(t(v7).type, 'tar');
});

test('disk images: ISO 9660 at 0x8001, UDF, VHD (header or footer), VHDX, DMG', () => {
  assert.equal(t(B.at(0x8001, 'CD001')).type, 'iso');
  assert.equal(t(B.at(0x8801, 'CD001')).type, 'iso');
  assert.equal(t(B.at(0x8001, 'BEA01')).type, 'udf');
  assert.equal(t('vhdxfile' + '\0'.repeat(64)).type, 'vhdx');
  assert.equal(t('conectix' + '\0'.repeat(600)).type, 'vhd');
  const fixedVhd = Buffer.alloc(2048);
  fixedVhd.write('conectix', 2048 - 512, 'latin1');
  assert.equal(t(fixedVhd).type, 'vhd');
  const dmg = Buffer.alloc(2048);
  dmg.write('koly', 2048 - 512, 'latin1');
  assert.equal(t(dmg).type, 'dmg');
});

test('PDF with JavaScript/OpenAction hints, including #xx-escaped names', () => {
  const plain = t('%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n');
  assert.equal(plain.type, 'pdf');
  assert.deepEqual(plain.hints, []);
  const js = t('%PDF-1.4\n<< /OpenAction 2 0 R >>\n<< /S /JavaScript /JS (app.alert(1)) >>');
  assert.ok(js.hints.includes('javascript'));
  assert.ok(js.hints.includes('openaction'));
  const hidden = t('%PDF-1.4\n<< /S /J#61vaScr#69pt /JS (x) /Launch >>');
  assert.ok(hidden.hints.includes('javascript'));
  assert.ok(hidden.hints.includes('launch'));
  // Leading junk before %PDF is tolerated by readers: still PDF
  assert.equal(t('\n\n garbage %PDF-1.5\n').type, 'pdf');
});

test('HTML, HTA, SVG, smuggling hints; OneNote; RTF; images', () => {
  assert.equal(t('<!DOCTYPE html><html><body>x</body></html>').type, 'html');
  const hta = t('<html><head><HTA:APPLICATION ID="x"></head></html>');
  assert.equal(hta.type, 'hta');
  assert.equal(hta.executable, true);
  const smug = t('<html><script>var b=new Blob([d]);a.href=URL.createObjectURL(b);a.download="x.iso";</script></html>');
  assert.ok(smug.hints.includes('smuggling'));
  assert.equal(t('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>').type, 'svg');
  assert.equal(t(Buffer.from([0xe4, 0x52, 0x5c, 0x7b, 0x8c, 0xd8, 0xa7, 0x4d, 0xae, 0xb1, 0x53, 0x78, 0xd0, 0x29, 0x96, 0xd3, 0])).type, 'onenote');
  assert.equal(t('{\\rtf1\\ansi hello}').type, 'rtf');
  assert.equal(t(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0])).type, 'png');
  assert.equal(t(Buffer.from([0xff, 0xd8, 0xff, 0xe0])).type, 'jpeg');
});

test('unknown, empty, plain text; Uint8Array input (after a worker hop); never throws on random bytes', () => {
  assert.equal(t('hello world').type, 'unknown');
  assert.equal(t(Buffer.alloc(0)).type, 'empty');
  assert.equal(detectType(new Uint8Array(B.elf())).type, 'elf');
  let seed = 7;
  for (let i = 0; i < 300; i++) {
    const b = Buffer.alloc(1 + (i * 37) % 3000);
    for (let j = 0; j < b.length; j++) b[j] = (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
    if (i % 3 === 0) b.write('PK\x05\x06', Math.max(0, b.length - 22), 'latin1');
    if (i % 5 === 0) Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]).copy(b, 0);
    assert.doesNotThrow(() => detectType(b));
  }
});

test('XLM (Excel 4.0) macro sheets in a legacy .xls are macros: BOUNDSHEET type, hidden, BOF only', async () => {
  const X = await import('../fixtures/archives/build.js');
  const { createAttachmentCheck } = await import('../../src/content/attachments/check.js');
  const { part } = await import('../fixtures/attachments/parts.js');
  const plain = t(X.xls([{ name: 'Sheet1' }]));
  assert.equal(plain.type, 'ole');
  assert.equal(plain.macros, false);
  const macro = t(X.xls([{ name: 'Sheet1' }, { name: 'Macro1', macro: true }]));
  assert.equal(macro.type, 'ole');
  assert.equal(macro.macros, true);
  assert.ok(macro.hints.includes('xlm'));
  assert.ok(!macro.hints.includes('hidden-macro-sheet'));
  const veryHidden = t(X.xls([{ name: 'Sheet1' }, { name: 'x', macro: true, hidden: 2 }]));
  assert.equal(veryHidden.macros, true);
  assert.ok(veryHidden.hints.includes('hidden-macro-sheet'));
  // sheet type unreadable in BOUNDSHEET (as in RC4-encrypted workbooks): the substream BOF still says so
  assert.equal(t(X.xls([{ name: 'Sheet1' }, { name: 'm', macro: true }], { bofOnly: true })).macros, true);
  // treated like VBA: attachment.macro
  const hits = createAttachmentCheck().checkPart(part({ names: ['invoice.xls'], content: X.xls([{ name: 'Auto', macro: true, hidden: 1 }]) }));
  assert.ok(hits.some((h) => h.rule === 'attachment.macro'));
});

test('XLM: every workbook stream is scanned (a benign "Book" listed before a macro "Workbook" hides nothing)', async () => {
  const X = await import('../fixtures/archives/build.js');
  const { createRequire } = await import('node:module');
  const CFB = createRequire(import.meta.url)('cfb') as typeof import('cfb');
  const workbook = (xls: Buffer): Buffer => Buffer.from(CFB.read(xls, { type: 'buffer' }).FileIndex.find((e) => e.name === 'Workbook')!.content as Uint8Array);
  const both = (second: Buffer): Buffer => {
    const c = CFB.utils.cfb_new();
    CFB.utils.cfb_add(c, 'Book', workbook(X.xls([{ name: 'Sheet1' }])));
    CFB.utils.cfb_add(c, 'Workbook', second);
    return Buffer.from(CFB.write(c, { type: 'buffer' }) as Uint8Array);
  };
  const hidden = t(both(workbook(X.xls([{ name: 'Sheet1' }, { name: 'Auto_Open', macro: true, hidden: 2 }]))));
  assert.equal(hidden.macros, true);
  assert.ok(hidden.hints.includes('hidden-macro-sheet'));
  // control: two benign streams are no macro
  assert.equal(t(both(workbook(X.xls([{ name: 'Sheet2' }])))).macros, false);
});
