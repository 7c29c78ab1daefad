// File-name normalisation against the EVASION.md name tricks (5.2 #10-#13).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normaliseName, safeName } from '../../src/content/attachments/names.js';

const has = (name: string, variant: string) => normaliseName(name).variants.includes(variant);

test('case, trailing dots and spaces (Windows strips them)', () => {
  assert.equal(normaliseName('INVOICE.EXE').normalised, 'invoice.exe');
  const n = normaliseName('file.exe. . ');
  assert.equal(n.normalised, 'file.exe');
  assert.equal(n.flags.trailingDotsOrSpaces, true);
});

test('percent-hex (rspamd PR#2852), double-encoded too', () => {
  const n = normaliseName('attached%2E%62at');
  assert.equal(n.normalised, 'attached.bat');
  assert.equal(n.flags.percentEncoded, true);
  assert.equal(normaliseName('x%252Eexe').normalised, 'x.exe');
  assert.equal(normaliseName('bad%zz.exe').normalised, 'bad%zz.exe');
});

test('NFKC: fullwidth letters and dot fold to ASCII', () => {
  assert.equal(normaliseName('ｉｎｖｏｉｃｅ．ＥＸＥ').normalised, 'invoice.exe');
  assert.equal(normaliseName('file.ｅｘｅ').extensions.at(-1), 'exe');
});

test('bidi override RLO (invoice<RLO>gpj.exe) is flagged and removed', () => {
  const n = normaliseName('invoice\u202Egpj.exe');
  assert.equal(n.flags.bidi, true);
  assert.equal(n.normalised, 'invoicegpj.exe');
  for (const c of ['\u2066', '\u2067', '\u2068', '\u2069', '\u202D', '\u200F']) assert.equal(normaliseName(`a${c}b.scr`).flags.bidi, true, c.codePointAt(0)!.toString(16));
});

test('invisible characters (U+200B.., U+FEFF, soft hyphen) flagged and removed; NNBSP allowed', () => {
  const n = normaliseName('file.e\u200Bxe');
  assert.equal(n.flags.invisible, true);
  assert.equal(n.normalised, 'file.exe');
  assert.equal(normaliseName('\uFEFFdoc.js').normalised, 'doc.js');
  assert.equal(normaliseName('a.e\u00ADxe').normalised, 'a.exe');
  const nnbsp = normaliseName('Screenshot 2024\u202F10.png');
  assert.equal(nnbsp.flags.invisible, false);
  assert.equal(nnbsp.flags.bidi, false);
});

test('control characters are removed and flagged', () => {
  const n = normaliseName('file\u0000.exe');
  assert.equal(n.flags.control, true);
  assert.ok(n.variants.includes('file.exe'));
});

test('whitespace padding: long run measured; squeezed variants checked', () => {
  const n = normaliseName(`photo.jpg${' '.repeat(40)}.scr`);
  assert.equal(n.flags.longestSpaceRun, 40);
  assert.equal(n.extensions.at(-1), 'scr');
  assert.ok(has('file. exe', 'file.exe'));
});

test('CLSID suffix flagged and the name without it checked', () => {
  const n = normaliseName('file.{3050F4D8-98B5-11CF-BB82-00AA00BDCE0B}');
  assert.equal(n.flags.clsid, true);
  assert.ok(has('report.exe.{3050F4D8-98B5-11CF-BB82-00AA00BDCE0B}', 'report.exe'));
});

test('quoting and comment leftovers: file".exe, "file".exe, file.e(.gif)xe, file.exe()', () => {
  assert.ok(has('file".exe', 'file.exe'));
  assert.ok(has('"file".exe', 'file.exe'));
  assert.ok(has('file.e(.gif)xe', 'file.exe'));
  assert.ok(has('file.exe()', 'file.exe'));
  assert.ok(has('file;.exe', 'file;.exe'));
});

test('paths: basename of / and \\ paths', () => {
  assert.equal(normaliseName('C:\\Users\\x\\evil.exe').normalised, 'evil.exe');
  assert.equal(normaliseName('../../evil.exe').normalised, 'evil.exe');
});

test('compression suffix cloaking: .scr.xz / .exe.gz / .zip.gz reveal the inner name', () => {
  assert.ok(has('payload.scr.xz', 'payload.scr'));
  assert.ok(has('payload.exe.gz', 'payload.exe'));
  assert.ok(has('a.zip.gz', 'a.zip'));
});

test('length is measured; extensions listed in order', () => {
  assert.equal(normaliseName('a'.repeat(200) + '.exe').flags.length, 204);
  assert.deepEqual(normaliseName('invoice.pdf.exe').extensions, ['pdf', 'exe']);
});

test('safeName: printable ASCII only, bounded, no quotes', () => {
  const s = safeName('in"voice\u202Egpj.exe\r\nX-Evil: 1' + 'x'.repeat(200));
  assert.match(s, /^[\x20-\x7e]+$/);
  assert.ok(s.length <= 80);
  assert.ok(!s.includes('"'));
});

test('UTF-16 read with the wrong byte order: the swapped reading is checked too', () => {
  const wrong = Buffer.from('file.zip', 'utf16le').swap16().toString('utf16le'); // "\u6600\u6900..."
  assert.notEqual(wrong, 'file.zip');
  assert.ok(has(wrong, 'file.zip'));
  assert.ok(!has('\u6587\u4EF6.txt', 'file.zip'));
});
