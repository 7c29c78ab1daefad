// The HTML → text converter the content checks read (src/content/mime/html-text.ts): what a mail
// program shows, no DOM limits to hide text behind, never throws.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { htmlToPlainText } from '../../src/content/mime/html-text.js';

test('inline tags join their text; blocks and <br> break lines; table cells stay apart', () => {
  assert.equal(htmlToPlainText('v<b>ia</b><span>gra</span>'), 'viagra');
  assert.equal(htmlToPlainText('<p>one</p><p>two</p>line<br>next'), 'one\ntwo\nline\nnext');
  assert.equal(htmlToPlainText('<table><tr><td>free</td><td>money</td></tr><tr><th>a</th></tr></table>'), 'free money\na');
  assert.equal(htmlToPlainText('<div>a<div>b</div>c</div>'), 'a\nb\nc');
  assert.equal(htmlToPlainText('fo<span>o</span>   bar\n\n\n  baz'), 'foo bar baz');
});

test('script, style, comments and declarations are not shown; title and textarea text is; an image reads as its alt text', () => {
  assert.equal(htmlToPlainText('<!DOCTYPE html><style>p{x:1}</style><script>if (a<b) x()</script><!-- hidden --><img src=x>shown'), 'shown');
  assert.equal(htmlToPlainText('v<img src=spacer.gif>iagra <img alt="FREE" src=x> money'), 'viagra FREE money');
  assert.equal(htmlToPlainText('<scrIpt type="x">a</SCRIPT >b<![CDATA[ gone ]]><?xml x?>c'), 'bc');
  assert.equal(htmlToPlainText('<title>A &amp; B</title><textarea><b>raw</b></textarea>'), 'A & B\n<b>raw</b>');
  assert.equal(htmlToPlainText('x<!-->y<!--->z'), 'xyz');
  // a script never closed hides the rest, as in a browser
  assert.equal(htmlToPlainText('a<script>b'), 'a');
});

test('entities decoded (named, numeric, legacy without ";"), in text and in link targets', () => {
  assert.equal(htmlToPlainText('&eacute;&#x41;&#66;&amp &lt;x&gt; &nbsp;'), 'éAB& <x> \u00a0');
  assert.equal(htmlToPlainText('<a href="http://x/?a=1&amp;b=2">go</a>'), 'go\n[http://x/?a=1&b=2]');
});

test('links: targets listed after the text (a phrase across a link stays whole) unless the same or a # anchor; quotes in attributes respected', () => {
  assert.equal(htmlToPlainText('verify <a href="http://u/">your</a> account'), 'verify your account\n[http://u/]');
  assert.equal(htmlToPlainText('<a href="http://a.b">http://a.b</a> <a href="#top">top</a> <a href="mailto:x@y">x@y</a>'), 'http://a.b top x@y');
  assert.equal(htmlToPlainText('<a title="x>y" href=\'http://evil/\'>go</a>!'), 'go!\n[http://evil/]');
  // a new <a> closes the open one (HTML has no nested links); a link never closed keeps its target
  assert.equal(htmlToPlainText('<a href=http://u/ x>a<a href=http://v/>b</a></a>'), 'ab\n[http://u/] [http://v/]');
  assert.equal(htmlToPlainText('<p>Please <a href="http://evil.example/login">sign in</p>'), 'Please sign in\n[http://evil.example/login]');
  assert.equal(htmlToPlainText('<p class="a>b">text</p>'), 'text');
});

test('<pre> keeps white space; a lone "<" is text; an unfinished tag at the end is dropped', () => {
  assert.equal(htmlToPlainText('x<pre>  a\n  b</pre>y'), 'x\n  a\n  b\ny');
  assert.equal(htmlToPlainText('1 < 2 and 3 <4'), '1 < 2 and 3 <4');
  assert.equal(htmlToPlainText('ok <a href="never closed'), 'ok');
  assert.equal(htmlToPlainText('a</ >b</>c'), 'abc');
});

test('deep nesting and many nodes: every word kept, time linear', () => {
  const deep = `${'<div><span>'.repeat(50_000)}needle${'</span></div>'.repeat(50_000)}`;
  assert.equal(htmlToPlainText(deep), 'needle');
  const wide = `${'<i>a</i> '.repeat(100_000)}end`;
  assert.ok(htmlToPlainText(wide).endsWith('a a end'));
});

test('never throws; output never longer than the decoded input allows (random markup)', () => {
  const piece = fc.constantFrom('<', '>', '</', '<a href="h">', '</a>', '<p>', '<td>', '<script>', '</script>', '<!--', '-->', '&amp;', '&#x', '"', "'", '=', ' ', '\n', 'word', '<pre>', '</pre>', '<br/>', '<title>');
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 40 }).map((a) => a.join('')), (html) => {
      const text = htmlToPlainText(html);
      assert.equal(typeof text, 'string');
      // each link adds " [href]" (href "h" here): bounded by the input
      assert.ok(text.length <= html.length * 2 + 4, `${JSON.stringify(html)} → ${JSON.stringify(text)}`);
    }),
    { numRuns: 500 },
  );
});

test('<plaintext> shows the rest as it is; adversarial link nesting and quote-less tags stay linear', () => {
  assert.equal(htmlToPlainText('a<plaintext>buy <b>now</b>'), 'a\nbuy <b>now</b>');
  const nested = `${'<a href="http://x/">'.repeat(50_000)}t${'</a>'.repeat(50_000)}`;
  const text = htmlToPlainText(nested);
  assert.ok(text.startsWith('t\n[http://x/] [http://x/]'));
  // 200,000 tags and not one quote: each tag end is found without searching the whole document
  const tags = `${'<p>w'.repeat(200_000)}`;
  assert.equal(htmlToPlainText(tags).length, 200_000 * 2 - 1);
});

test('what browsers show is kept: "--!>" ends a comment, a non-ASCII space ends no tag name, button and field values', () => {
  assert.equal(htmlToPlainText('<!-- x --!>verify your account<!-- y -->'), 'verify your account');
  assert.equal(htmlToPlainText('<script\u00a0>verify your account</script>'), 'verify your account');
  assert.equal(htmlToPlainText('<style\u3000>shown</style> too'), 'shown too');
  assert.equal(htmlToPlainText('<input type=submit value="Verify your account"><input type=hidden value=secret><input type=password value=pw>'), 'Verify your account');
  assert.equal(htmlToPlainText('a<plaintext><script>b</script><!--c'), 'a\n<script>b</script><!--c');
});

test('hidden elements (hidden, display:none, visibility:hidden, font-size:0, <template>) are read after the shown text', () => {
  assert.equal(htmlToPlainText('vi<span hidden>x</span>agra'), 'viagra\nx');
  assert.equal(htmlToPlainText('verify <span style="color:red; display : none !important">zz</span>your acc\0ount'), 'verify your account\nzz');
  assert.equal(htmlToPlainText('<div style="font-size:0px">noise <div>more</div></div>buy now'), 'buy now\nnoise more');
  assert.equal(htmlToPlainText('<template>t</template>shown <img hidden alt=A>'), 'shown\nt A');
  assert.equal(htmlToPlainText('<p style="font-size:0.5em">small but shown</p>'), 'small but shown');
});

test('comments without "--!>" and many short links stay linear', () => {
  const comments = '<!---->x'.repeat(60_000);
  assert.equal(htmlToPlainText(comments), 'x'.repeat(60_000));
  const links = '<a href=http://x/>y</a>'.repeat(60_000);
  assert.ok(htmlToPlainText(links).startsWith('y'.repeat(60_000)));
});
