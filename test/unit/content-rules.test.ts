// Content rules: loading (errors name file and rule), RE2 safety, NFKC/invisible normalisation,
// scopes, counting, and the shipped starter set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createContentRulesCheck } from '../../src/content/rules/check.js';
import { contentRulesConfigSchema } from '../../src/content/rules/config.js';
import { compileRulesFile } from '../../src/content/rules/load.js';
import { RulesFileError } from '../../src/content/rules/files.js';
import { htmlToText } from '../../src/content/rules/text.js';
import { parseMessage } from '../../src/content/mime/parse.js';
import { ENV, message, part } from '../fixtures/attachments/parts.js';

const dir = mkdtempSync(path.join(tmpdir(), 'postern-rules-'));
let n = 0;
function rulesFile(yaml: string): string {
  const f = path.join(dir, `r${n++}.yaml`);
  writeFileSync(f, yaml);
  return f;
}
const checkFor = (yaml: string) => createContentRulesCheck({ files: [rulesFile(yaml)] });
const body = (text: string, p: Partial<Parameters<typeof part>[0]> = {}) =>
  part({ path: '1', isAttachment: false, contentType: 'text/plain', text, content: text, ...p });

test('config defaults: the shipped file; no thresholds here (policy.scoring has them)', () => {
  const c = contentRulesConfigSchema.parse(undefined);
  assert.equal('thresholds' in c, false);
  assert.deepEqual(c.files, ['rules/content.yaml']);
});

test('shipped rules/content.yaml loads and scores a phishing mail', async () => {
  const check = createContentRulesCheck();
  assert.ok(check.rules.length >= 8);
  const hits = await check.run(message([body('Dear user, please verify your account within 24 hours or your account will be suspended.')], { subject: 'URGENT ACTION REQUIRED' }), ENV);
  const ids = hits.map((h) => h.rule).sort();
  assert.ok(ids.includes('content.phish.verify-account'));
  assert.ok(ids.includes('content.phish.account-suspended'));
  assert.ok(ids.includes('content.phish.urgent-action'));
  assert.ok(hits.every((h) => h.action === 'score' && typeof h.score === 'number'));
  const clean = await check.run(message([body('Lunch at noon? The quarterly report is attached.')], { subject: 'Lunch' }), ENV);
  assert.deepEqual(clean, []);
});

test('hit shape: content.<id>, score = weight, where names scope and count', async () => {
  const check = checkFor('rules:\n  - id: pharma\n    weight: 2.5\n    words: [viagra]\n');
  const hits = await check.run(message([body('viagra viagra, VIAGRA!')], { subject: 'cheap viagra' }), ENV);
  assert.equal(hits.length, 1);
  assert.equal(hits[0]!.rule, 'content.pharma');
  assert.equal(hits[0]!.score, 2.5);
  assert.equal(hits[0]!.where, 'subject x1, body 1 x3');
  assert.match(hits[0]!.detail, /4 matches/);
});

test('NFKC: fullwidth letters match; invisible characters inside a word do not hide it', async () => {
  const check = checkFor('rules:\n  - id: pharma\n    words: [viagra]\n');
  assert.equal((await check.run(message([], { subject: 'ＶＩＡＧＲＡ now' }), ENV)).length, 1);
  assert.equal((await check.run(message([], { subject: 'v\u200Bi\u00ADagra' }), ENV)).length, 1);
  // variation selectors, Mongolian selectors, U+2065, tag characters and supplementary variation selectors
  for (const c of ['\uFE0F', '\u180B', '\u2065', '\u{E0041}', '\u{E0100}']) {
    assert.equal((await check.run(message([], { subject: `vi${c}agra` }), ENV)).length, 1, JSON.stringify(c));
  }
  // the rule's own words are NFKC-normalised too
  const fw = checkFor('rules:\n  - id: fw\n    words: [ｃａｓｉｎｏ]\n');
  assert.equal((await fw.run(message([], { subject: 'best Casino' }), ENV)).length, 1);
});

test('NFKC on parsed body text: the parser leaves text as decoded, the rules normalise it', async () => {
  const check = checkFor('rules:\n  - id: pharma\n    words: [viagra, fine print]\n');
  const m = await parseMessage(Buffer.from(
    'From: a@example.com\r\nSubject: x\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n' +
      '\uff36\uff29\uff21\uff27\uff32\uff21 and the \ufb01ne print\r\n', 'utf8'));
  assert.match(m.parts[0]!.text ?? '', /\uff36/, 'parser keeps the fullwidth text');
  const hits = await check.run(m, ENV);
  assert.equal(hits.length, 1);
  assert.match(hits[0]!.detail, /2 matches/);
});

test('words are whole words/phrases with flexible whitespace; non-Latin case folding', async () => {
  const check = checkFor('rules:\n  - id: w\n    words: [sex, "wire  transfer", виагра]\n');
  assert.equal((await check.run(message([], { subject: 'Middlesex county' }), ENV)).length, 0);
  assert.equal((await check.run(message([], { subject: 'please wire\n transfer' }), ENV)).length, 1);
  assert.equal((await check.run(message([], { subject: 'ВИАГРА' }), ENV)).length, 1);
});

test('scopes: html source, attachment names, headers; body does not see attachments', async () => {
  const check = checkFor(
    [
      'rules:',
      '  - id: pw-form',
      '    scope: html',
      "    regex: ['<input[^>]*type=.?password']",
      '  - id: inv',
      '    scope: [attachment-names]',
      '    regex: [invoice]',
      '  - id: rt',
      '    scope: headers',
      "    regex: ['^reply-to:.*@gmail\\.com']",
      '  - id: secret',
      '    words: [secretword]',
    ].join('\n'),
  );
  const html = '<html><body><form><input type="password" name="p"></form></body></html>';
  const msg = message(
    [
      part({ path: '1', isAttachment: false, contentType: 'text/html', content: html, text: htmlToText(html) }),
      part({ path: '2', names: ['Invoice_2024.pdf'], contentType: 'text/plain', content: 'secretword' }),
    ],
    { headers: [{ name: 'Reply-To', value: ' boss@gmail.com' }] },
  );
  const ids = (await check.run(msg, ENV)).map((h) => `${h.rule} @ ${h.where}`).sort();
  assert.deepEqual(ids, ['content.inv @ name 2 x1', 'content.pw-form @ html 1 x1', 'content.rt @ header Reply-To x1']);
});

test('HTML-only part without parser text is turned into text for body rules', async () => {
  const check = checkFor('rules:\n  - id: w\n    words: [click here now]\n');
  const p = part({ path: '1', isAttachment: false, contentType: 'text/html', content: '<p>Click <b>here</b>&nbsp;now</p><script>var hidden="x"</script>' });
  assert.equal((await check.run(message([p]), ENV)).length, 1);
});

test('regex safety: RE2 runs catastrophic patterns in linear time; look-around/back-refs rejected at load', async () => {
  const check = checkFor("rules:\n  - id: evil\n    scope: body\n    regex: ['(a+)+$']\n");
  const input = `${'a'.repeat(50_000)}!`;
  const hits = await check.run(message([body(input)]), ENV);
  assert.equal(hits.length, 0); // no match ('!' before end) — and it returned at all: JS RegExp would hang here
  const hits2 = await check.run(message([body(`${'a'.repeat(50_000)}`)]), ENV);
  assert.equal(hits2.length, 1);
  for (const bad of ['(?=x)y', '(a)\\1', '(unclosed']) {
    const f = rulesFile(`rules:\n  - id: bad-one\n    regex: ['${bad}']\n`);
    assert.throws(
      () => createContentRulesCheck({ files: [f] }),
      (e: unknown) => e instanceof RulesFileError && e.code === 'RULES_PATTERN_INVALID' && e.message.includes(f) && e.message.includes('bad-one'),
      bad,
    );
  }
});

test('load errors name file and rule: bad id, unknown key, no patterns, duplicate ids across files', () => {
  const expectErr = (yaml: string, re: RegExp) =>
    assert.throws(() => compileRulesFile(rulesFile(yaml)), (e: unknown) => e instanceof RulesFileError && re.test(e.message));
  expectErr('rules:\n  - id: Bad Id\n    words: [x]\n', /rule #1.*id/);
  expectErr('rules:\n  - id: ok\n    wrods: [x]\n', /\(ok\).*wrods/);
  expectErr('rules:\n  - id: empty\n', /\(empty\).*needs words or regex/);
  expectErr('rules:\n  - id: a\n    words: [x]\n  - id: a\n    words: [y]\n', /duplicate rule id "a"/);
  expectErr('rules: [\n', /not valid YAML/);
  const f1 = rulesFile('rules:\n  - id: same\n    words: [x]\n');
  const f2 = rulesFile('rules:\n  - id: same\n    words: [y]\n');
  assert.throws(() => createContentRulesCheck({ files: [f1, f2] }), /already defined/);
  assert.throws(() => createContentRulesCheck({ files: [path.join(dir, 'missing.yaml')] }), (e: unknown) => e instanceof RulesFileError && e.code === 'RULES_FILE_NOT_FOUND');
});

test('per-rule action (reject) and off; disabled config returns no hits', async () => {
  const check = checkFor('rules:\n  - id: r\n    action: reject\n    words: [forbidden]\n  - id: o\n    action: "off"\n    words: [forbidden]\n');
  const hits = await check.run(message([], { subject: 'forbidden' }), ENV);
  assert.deepEqual(hits.map((h) => [h.rule, h.action, h.reply?.code]), [['content.r', 'reject', 550]]);
  const off = createContentRulesCheck({ enabled: false });
  assert.deepEqual(await off.run(message([], { subject: 'forbidden' }), ENV), []);
});

test('counting is capped and zero-length matches terminate', async () => {
  const check = createContentRulesCheck({ files: [rulesFile("rules:\n  - id: z\n    regex: ['x*']\n")], maxCountedMatches: 5 });
  const hits = await check.run(message([], { subject: 'abcdefgh' }), ENV);
  assert.equal(hits.length, 1);
  assert.match(hits[0]!.where!, /x5$/);
});
