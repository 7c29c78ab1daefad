// The attachment ContentCheck: names from every source, config overrides, true-type blocking,
// macros, actions and replies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import AdmZip from 'adm-zip';
import { createAttachmentCheck } from '../../src/content/attachments/check.js';
import { attachmentsConfigSchema } from '../../src/content/attachments/config.js';
import { RulesFileError } from '../../src/content/rules/files.js';
import * as B from '../fixtures/attachments/build.js';
import { ENV, message, part } from '../fixtures/attachments/parts.js';

const check = createAttachmentCheck();
const rules = (p: ReturnType<typeof part>) => check.checkPart(p).map((h) => h.rule).sort();

test('config defaults parse from {} and undefined', () => {
  const c = attachmentsConfigSchema.parse(undefined);
  assert.equal(c.actions.blockedName, 'reject');
  assert.equal(c.actions.macro, 'quarantine');
  assert.equal(c.rulesFile, 'rules/attachments.yaml');
  assert.ok(c.blockedTypes.includes('pe'));
});

test('default list blocks the brief extensions', () => {
  for (const e of ['exe', 'com', 'bat', 'cmd', 'scr', 'pif', 'vbs', 'vbe', 'vbp', 'js', 'jse', 'wsf', 'wsh', 'hta', 'cpl', 'msi', 'msp', 'lnk', 'jar', 'ps1', 'reg', 'iso', 'img', 'vhd', 'vhdx', 'one', 'xll']) {
    assert.ok(check.rules.blocked.has(e), e);
  }
  assert.ok(!check.rules.blocked.has('pdf'));
  assert.ok(!check.rules.blocked.has('zip'));
});

test('blocked name: reject 554 5.7.1 naming the file, where = part path + name', () => {
  const hits = check.checkPart(part({ path: '2', names: ['Invoice.EXE'], content: 'not really' }));
  assert.equal(hits.length, 1);
  const h = hits[0]!;
  assert.equal(h.rule, 'attachment.blocked-name');
  assert.equal(h.action, 'reject');
  assert.deepEqual(h.reply && { code: h.reply.code, enhanced: h.reply.enhanced }, { code: 554, enhanced: '5.7.1' });
  assert.match(String(h.reply!.text), /Invoice\.EXE/);
  assert.equal(h.where, 'part 2 Invoice.EXE');
});

test('every name of a part is checked (innocent CT name, bad CD filename, and reverse)', () => {
  assert.deepEqual(rules(part({ names: ['file.png', 'file.exe'] })), ['attachment.blocked-name']);
  assert.deepEqual(rules(part({ names: ['file.exe', 'file.png'] })), ['attachment.blocked-name']);
  assert.deepEqual(rules(part({ names: ['file.png', 'file.txt'] })), []);
});

test('name tricks are blocked: percent-hex, trailing dot, fullwidth, quotes, comments, compression suffix', () => {
  for (const n of ['attached%2E%62at', 'file.exe.', 'file.exe ', 'ｆｉｌｅ．ｅｘｅ', 'file".exe', 'file.e(.gif)xe', 'payload.scr.xz', 'x%252Ejs']) {
    assert.ok(rules(part({ names: [n] })).includes('attachment.blocked-name'), n);
  }
});

test('double extension, bidi, CLSID, padding, long name, invisible', () => {
  assert.deepEqual(rules(part({ names: ['invoice.pdf.exe'] })), ['attachment.blocked-name', 'attachment.double-extension']);
  assert.ok(rules(part({ names: ['payload.exe.gz'] })).includes('attachment.double-extension'));
  assert.deepEqual(rules(part({ names: ['invoice\u202Egpj.exe'] })), ['attachment.bidi-name', 'attachment.blocked-name']);
  // bidi on a harmless-looking name is still flagged
  assert.deepEqual(rules(part({ names: ['report\u202Efdp.txt'] })), ['attachment.bidi-name']);
  assert.deepEqual(rules(part({ names: ['file.{3050F4D8-98B5-11CF-BB82-00AA00BDCE0B}'] })), ['attachment.clsid-name']);
  assert.ok(rules(part({ names: [`photo.jpg${' '.repeat(12)}.scr`] })).includes('attachment.padded-name'));
  assert.deepEqual(rules(part({ names: [`${'a'.repeat(160)}.txt`] })), ['attachment.long-name']);
  assert.deepEqual(rules(part({ names: ['notes\u200B.txt'] })), ['attachment.invisible-name']);
  assert.equal(check.checkPart(part({ names: ['notes\u200B.txt'] }))[0]!.action, 'quarantine');
});

test('true type: PE named .pdf with declared image type is blocked; ELF, MSI, LNK, script too', () => {
  const h = check.checkPart(part({ names: ['photo.png'], contentType: 'image/png', content: B.pe() }));
  assert.deepEqual(h.map((x) => x.rule), ['attachment.blocked-type']);
  assert.match(h[0]!.detail, /pe/);
  assert.equal(h[0]!.action, 'reject');
  assert.deepEqual(rules(part({ names: ['a.dat'], content: B.elf() })), ['attachment.blocked-type']);
  assert.deepEqual(rules(part({ names: ['a.dat'], content: B.ole(B.MSI_CLSID, [{ name: 'x' }]) })), ['attachment.blocked-type']);
  assert.deepEqual(rules(part({ names: ['a.txt'], content: B.lnk() })), ['attachment.blocked-type']);
  assert.deepEqual(rules(part({ names: ['a.txt'], content: '#!/bin/sh\nrm -rf ~\n' })), ['attachment.blocked-type']);
  // no name at all, still the type
  assert.deepEqual(rules(part({ names: [], content: B.pe() })), ['attachment.blocked-type']);
});

test('inline body text starting with #! is not a blocked script by default', () => {
  assert.deepEqual(rules(part({ names: [], isAttachment: false, contentType: 'text/plain', content: '#!/bin/sh\necho\n' })), []);
});

test('macros: OLE with VBA and OOXML with vbaProject.bin are quarantined', () => {
  const doc = check.checkPart(part({ names: ['report.doc'], content: B.ole(B.WORD_CLSID, [{ name: 'VBA', storage: true }]) }));
  assert.deepEqual(doc.map((h) => [h.rule, h.action]), [['attachment.macro', 'quarantine']]);
  const z = new AdmZip();
  z.addFile('[Content_Types].xml', Buffer.from('<Types/>'));
  z.addFile('xl/vbaProject.bin', Buffer.from('x'));
  assert.deepEqual(rules(part({ names: ['book.xlsx'], content: z.toBuffer() })), ['attachment.macro']);
});

test('config: addExtensions (zip), removeExtensions, replaceExtensions, actions off/score', () => {
  const c1 = createAttachmentCheck({ addExtensions: ['.ZIP'] });
  assert.deepEqual(c1.checkPart(part({ names: ['a.zip'] })).map((h) => h.rule), ['attachment.blocked-name']);
  const c2 = createAttachmentCheck({ removeExtensions: ['exe'] });
  assert.deepEqual(c2.checkPart(part({ names: ['a.exe'] })).map((h) => h.rule), []);
  const c3 = createAttachmentCheck({ replaceExtensions: ['pdf'] });
  assert.deepEqual(c3.checkPart(part({ names: ['a.pdf'] })).map((h) => h.rule), ['attachment.blocked-name']);
  assert.deepEqual(c3.checkPart(part({ names: ['a.exe'] })).map((h) => h.rule), []);
  const c4 = createAttachmentCheck({ actions: { blockedName: 'off' } } as never);
  assert.deepEqual(c4.checkPart(part({ names: ['a.exe'] })), []);
  const c5 = createAttachmentCheck({ actions: { blockedName: 'tempfail' } } as never);
  assert.deepEqual(c5.checkPart(part({ names: ['a.exe'] }))[0]!.reply?.code, 451);
});

test('custom rules file; missing file throws a typed error', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'postern-att-'));
  const f = path.join(dir, 'a.yaml');
  writeFileSync(f, 'blocked_extensions: [foo]\ndecoy_extensions: [bar]\n');
  const c = createAttachmentCheck({ rulesFile: f });
  assert.deepEqual(c.checkPart(part({ names: ['x.bar.foo'] })).map((h) => h.rule), ['attachment.blocked-name', 'attachment.double-extension']);
  assert.throws(() => createAttachmentCheck({ rulesFile: path.join(dir, 'nope.yaml') }), (e: unknown) => e instanceof RulesFileError && e.code === 'RULES_FILE_NOT_FOUND');
  writeFileSync(f, 'blocked_extensions: 7\n');
  assert.throws(() => createAttachmentCheck({ rulesFile: f }), (e: unknown) => e instanceof RulesFileError && /a\.yaml/.test(e.message));
});

test('run() over a message: archive members and Uint8Array content; bad parts never throw', async () => {
  const msg = message([
    part({ path: '1', isAttachment: false, contentType: 'text/plain', content: 'hello' }),
    part({ path: '2/archive:docs/a.exe', origin: 'archive', names: ['docs/a.exe'], content: new Uint8Array(B.pe()), depth: 2 }),
    { path: '3', names: [null, 42] } as never,
  ]);
  const hits = await check.run(msg, ENV);
  assert.deepEqual(hits.map((h) => [h.rule, h.where]), [
    ['attachment.blocked-name', 'part 2/archive:docs/a.exe docs/a.exe'],
    ['attachment.blocked-type', 'part 2/archive:docs/a.exe docs/a.exe'],
  ]);
});

test('active content: HTML smuggling, PDF Launch, RTF object and SVG script are held; plain HTML/PDF are not', () => {
  const smuggle = '<html><script>const b=new Blob([atob("TVqQ")]);const a=document.createElement("a");a.href=URL.createObjectURL(b);a.download="invoice.exe";a.click()</script></html>';
  assert.deepEqual(rules(part({ names: ['invoice.html'], contentType: 'text/html', content: smuggle })), ['attachment.active-content']);
  assert.deepEqual(rules(part({ names: ['doc.pdf'], contentType: 'application/pdf', content: '%PDF-1.4\n1 0 obj <</OpenAction <</S /Launch /F (cmd.exe)>> >> endobj\n%%EOF' })), ['attachment.active-content']);
  assert.deepEqual(rules(part({ names: ['doc.rtf'], content: '{\\rtf1{\\object\\objemb{\\*\\objdata 0105}}}' })), ['attachment.active-content']);
  assert.deepEqual(rules(part({ names: ['img.svg'], contentType: 'image/svg+xml', content: '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>' })), ['attachment.active-content']);
  assert.equal(check.checkPart(part({ names: ['img.svg'], content: '<svg xmlns="http://www.w3.org/2000/svg"><script>x</script></svg>' }))[0]!.action, 'quarantine');
  assert.deepEqual(rules(part({ names: ['page.html'], contentType: 'text/html', content: '<html><p>hello</p></html>' })), []);
  assert.deepEqual(rules(part({ names: ['doc.pdf'], content: '%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\n%%EOF' })), []);
});

test('a refused archive member is named with the attachment the sender knows ("a.exe" in "report.zip")', async () => {
  const parts = [
    part({ path: '2', names: ['report.zip'], content: 'zip bytes (not inspected here)' }),
    part({ path: '2/archive:docs/report.exe', origin: 'archive', names: ['docs/report.exe'], content: B.pe() }),
  ];
  const hits = await check.run(message(parts), ENV);
  const member = hits.filter((h) => h.where?.startsWith('part 2/archive:'));
  assert.ok(member.length > 0, JSON.stringify(hits));
  for (const h of member) if (h.reply) assert.match(h.reply.text as string, /^Attachment "docs\/report\.exe" in "report\.zip" refused: /);
  // a top-level attachment keeps the short form
  const top = check.checkPart(part({ path: '3', names: ['x.exe'], content: 'x' }));
  assert.match(top[0]!.reply!.text as string, /^Attachment "x\.exe" refused: /);
});
