// Property tests of the content-rules literal pre-filter (src/content/rules/prefilter.ts): whenever RE2
// (flags "iu", as the rules run) finds a match, requirementMet over the folded text says "maybe" — the
// pre-filter may only skip texts that cannot match. Random patterns mix literals, classes, repeats,
// alternation and \b; random texts mix ASCII with the characters where case folding and RE2's ASCII
// \b disagree (Kelvin sign, long s, dotted I, final sigma). Plus examples from the shipped rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RE2 } from 're2-wasm';
import { foldCase } from '../../src/content/rules/fold.js';
import { requirementMet, requirementOf } from '../../src/content/rules/prefilter.js';
import type { RuleHit } from '../../src/policy/types.js';

const RUNS = { numRuns: 400 };

const pieces = ['a', 'b', 'c', 'k', 's', 'i', '1', '3', 'bc1', 'usd', '$', '€', 'σ', 'é', '.', ',', '_', '-', ' '];
const classes = ['[a-z0-9]', '[13]', '[a-km-zA-HJ-NP-Z1-9]', '\\d', '\\s', '\\w', '[,.]', '[ks]', '[^x]', '.', '[A-Z]'];
const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const atom: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...pieces).map(escapeRe),
  fc.constantFrom(...classes),
  fc.constantFrom('\\b', '^', '$'),
);
const quant = fc.constantFrom('', '', '', '+', '*', '?', '{2}', '{1,3}', '{3,}', '{0,2}');
const { pattern } = fc.letrec<{ pattern: string; term: string }>((tie) => ({
  term: fc.oneof(
    { weight: 4, arbitrary: fc.tuple(atom, quant).map(([a, q]) => (/^(\\b|\^|\$)$/.test(a) ? a : a + q)) },
    { weight: 1, arbitrary: fc.tuple(tie('pattern'), quant).map(([p, q]) => `(${p})${q}`) },
  ),
  pattern: fc.oneof(
    { weight: 3, arbitrary: fc.array(tie('term'), { minLength: 1, maxLength: 5 }).map((a) => a.join('')) },
    { weight: 1, arbitrary: fc.array(fc.array(tie('term'), { minLength: 1, maxLength: 3 }).map((a) => a.join('')), { minLength: 2, maxLength: 3 }).map((a) => a.join('|')) },
  ),
}));

const textChars = ['a', 'B', 'c', 'K', 'k', 's', 'S', 'i', 'I', '1', '3', '0', '9', ' ', '\n', '$', '€', '.', ',', '_', '-', 'x',
  '\u212a', '\u017f', '\u0130', 'σ', 'ς', 'Σ', 'é', 'É', 'ß'];
const text = fc.array(fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...textChars) },
  { weight: 1, arbitrary: fc.constantFrom('bc1', 'usd', 'US$', '1,000,000', 'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq') },
), { maxLength: 60 }).map((a) => a.join(''));

function re2Matches(p: string, t: string): boolean | undefined {
  let re: RE2;
  try {
    re = new RE2(p, 'iu');
  } catch {
    return undefined; // not a pattern RE2 accepts (e.g. a repeated empty match): nothing to compare
  }
  return re.test(t);
}

test('pre-filter never rules out a text RE2 matches (random patterns and texts)', () => {
  fc.assert(
    fc.property(pattern, fc.array(text, { minLength: 1, maxLength: 6 }), (p, texts) => {
      const req = requirementOf(p);
      if (!req) return; // no requirement: the rule always runs
      for (const t of texts) {
        if (re2Matches(p, t) === true) assert.ok(requirementMet(foldCase(t), req, t), `pattern /${p}/ matches ${JSON.stringify(t)} but the pre-filter said no`);
      }
    }),
    RUNS,
  );
});

test('shipped-rule shapes: matches always pass; texts that cannot match are skipped', () => {
  const crypto = '\\b(bc1[a-z0-9]{25,59}|[13][a-km-zA-HJ-NP-Z1-9]{25,34})\\b';
  const money = '(us\\$|usd|\\$|€|£)\\s?\\d{1,3}([,.]\\d{3}){2,}(\\.\\d\\d)?\\s*(million)?';
  const verify = '(verify|confirm|validate|reactivate)\\s+(your\\s+)?(mailbox|email\\s+account|password)';
  const cases: [string, string, boolean][] = [
    [crypto, 'send to 1BoatSLRHtKNngkdXEeobR76b53LETtpyT now', true],
    [crypto, 'wallet BC1QAR0SRRR7XFKVY5L643LYDNW9RE59GTZZWF5MDQ.', true],
    // a 40-character hex word (a commit id) and a 70-character token: no Bitcoin address can be there
    [crypto, 'commit fe3b1f0a9c2d4e5f60718293a4b5c6d7e8f90123 and tok=' + 'a'.repeat(70), false],
    [money, 'you get US$ 4,500,000.00 today', true],
    [money, 'costs $5 and 1234567 items ........', false],
    [verify, 'Please CONFIRM your\n  PASSWORD', true],
    [verify, 'please confirm the meeting', false],
  ];
  for (const [p, t, expected] of cases) {
    const req = requirementOf(p);
    assert.ok(req, `/${p}/ has a requirement`);
    assert.equal(re2Matches(p, t), expected, `RE2 on ${JSON.stringify(t)}`);
    assert.equal(requirementMet(foldCase(t), req, t), expected, `pre-filter on ${JSON.stringify(t)}`);
  }
});

test('words next to a Kelvin sign or long s are not judged (RE2 matches them as k / s but \\b does not)', () => {
  const p = '\\b[a-z]{3}\\b';
  const req = requirementOf(p)!;
  for (const t of ['x\u212aab', 'ab\u017f', '\u0130ab']) {
    if (re2Matches(p, t)) assert.ok(requirementMet(foldCase(t), req, t), JSON.stringify(t));
  }
  // without the original text the whole-word need is not used at all
  assert.equal(requirementMet(foldCase('abcdef'), req), true);
});

// Word/phrase rules: the check skips RE2 when a phrase cannot be in the text (AsciiWords, then
// phraseMayMatch). Whatever it skips, its match count must be RE2's own count on the same text.
// a few fixed word lists: each compiles to a sizeable RE2 (Unicode classes) in re2-wasm's fixed heap
const phraseLists = [
  ['spam'], ['free money', 'win big'], ['k', 's', 'x'], ['viagra', 'café', 'é'], ['a_b', '1000', 'big-win'], ['σας', 'free  money', 'spam'],
];
const phraseText = fc.array(fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...textChars) },
  { weight: 3, arbitrary: fc.constantFrom('spam', 'FREE', 'Money', 'win', 'big', 'viagra', 'café', 'a_b', '1000', 'big-win', 'ΣΑΣ', 'σας', 'fre\u212ae') },
), { maxLength: 40 }).map((a) => a.join(''));

test('word rules: the pre-filter never changes a match count (random phrases and texts)', async () => {
  const { compileRulesFile } = await import('../../src/content/rules/load.js');
  const { createContentRulesCheck } = await import('../../src/content/rules/check.js');
  const yamlList = (ws: string[]): string => `[${ws.map((w) => JSON.stringify(w)).join(', ')}]`;
  const checks = phraseLists.map((words) => {
    const rules = compileRulesFile('property.yaml', `rules:\n  - id: p\n    words: ${yamlList(words)}\n    weight: 1\n    scope: [body]\n`);
    return { rules, check: createContentRulesCheck({ maxCountedMatches: 1000 }, rules) };
  });
  fc.assert(
    fc.property(fc.integer({ min: 0, max: phraseLists.length - 1 }), phraseText, (which, body) => {
      const words = phraseLists[which]!;
      const { rules, check } = checks[which]!;
      const hits = check.run({ headers: [], subject: '', parts: [{ path: '1', origin: 'mime', contentType: 'text/plain', names: [], content: Buffer.from(body), isAttachment: false, depth: 1, text: body }], hits: [], encrypted: false, signed: false } as never, undefined as never) as RuleHit[];
      // RE2's own count, stepping as the check does
      const re = rules[0]!.matcher;
      re.lastIndex = 0;
      let n = 0;
      for (let m = re.exec(body.normalize('NFKC')); m; m = re.exec(body.normalize('NFKC'))) {
        n++;
        if (m[0]!.length >= 2 && /[^\p{L}\p{N}_]$/u.test(m[0]!)) re.lastIndex -= 1;
        if (m[0]!.length === 0) re.lastIndex++;
      }
      re.lastIndex = 0;
      const got = hits.find((h) => h.rule === 'content.p');
      assert.equal(got ? Number(/: (\d+) match/.exec(got.detail)![1]) : 0, n, `words ${JSON.stringify(words)} in ${JSON.stringify(body)}`);
    }),
    RUNS,
  );
});
