// HTML → plain text for the content checks: the words a mail program shows, in one linear pass with no
// DOM tree (so no depth or node-count limit to hide text behind). Text is kept with entities decoded;
// inline tags join their text ("Wo<b>rld</b>" reads "World"); block tags and <br> start a new line and
// table cells are kept apart ("<td>free</td><td>money</td>" reads "free money"); script, style,
// comments and other markup declarations are dropped; link targets are listed after the text as
// "[href]" (unless the same as the link text, or a "#" anchor); an image reads as its alt text, a
// button or field as its value (mail programs show both); runs of white space are collapsed outside
// <pre>. Never throws; bad markup degrades to text.
import { decodeHTML, decodeHTMLAttribute } from 'entities';

const BLOCK = new Set([
  'address', 'article', 'aside', 'blockquote', 'body', 'br', 'caption', 'center', 'dd', 'details', 'dialog', 'dir', 'div', 'dl',
  'dt', 'fieldset', 'figcaption', 'figure', 'footer', 'form', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'head', 'header', 'hgroup',
  'hr', 'html', 'legend', 'li', 'main', 'menu', 'nav', 'ol', 'option', 'p', 'pre', 'section', 'summary', 'table', 'tbody',
  'tfoot', 'thead', 'title', 'tr', 'ul',
]);
const CELL = new Set(['td', 'th']);
/** Elements whose content is never shown (raw text up to the matching end tag). */
const HIDDEN_RAW = new Set(['script', 'style']);
/** Elements whose content is text only, no tags (RCDATA / raw text shown as text). */
const TEXT_ONLY = new Set(['title', 'textarea', 'xmp']);
// a tag name ends at ASCII white space, "/" or ">" ("<script\u00A0>" is an unknown element, shown)
const TAG_NAME = /[A-Za-z][^\t\n\f\r />]*/y;
/** Elements whose attributes are read: link targets, image alt text, button and field values. */
const ATTRIBUTES_READ = new Set(['a', 'img', 'input']);
/** Input types that show no value of their own. */
const HIDDEN_INPUTS = new Set(['hidden', 'password', 'checkbox', 'radio', 'file', 'image', 'range', 'color']);
/** End-tag patterns of the raw-text elements, made once. */
const END_TAGS = new Map<string, RegExp>();
const WHITE = /[ \t\n\r\f]+/g;

class Output {
  text = '';
  /** Characters of `text` that are pending white space (collapsed into one space or line break). */
  private space: '' | ' ' | '\n' = '';
  pre = 0;
  /** While a link is open: the text added since it opened, up to `captureMax` characters (no slicing of `text`). */
  capture: string | undefined;
  captureMax = 0;

  add(s: string): void {
    if (s.length === 0) return;
    if (this.pre > 0) {
      this.flush();
      this.append(s);
      return;
    }
    const collapsed = s.replace(WHITE, ' ');
    let body = collapsed;
    if (body.charCodeAt(0) === 32) {
      if (this.space === '') this.space = ' ';
      body = body.slice(1);
    }
    if (body.length === 0) return;
    const trailing = body.charCodeAt(body.length - 1) === 32;
    if (trailing) body = body.slice(0, -1);
    this.flush();
    this.append(body);
    if (trailing) this.space = ' ';
  }

  private append(s: string): void {
    this.text += s;
    if (this.capture !== undefined && this.capture.length <= this.captureMax) this.capture += s;
  }

  /** A line break before what follows (block boundary). */
  br(): void {
    if (this.text.length > 0) this.space = '\n';
  }

  /** At least a space before what follows (table cell boundary). */
  gap(): void {
    if (this.text.length > 0 && this.space === '') this.space = ' ';
  }

  private flush(): void {
    if (this.space !== '' && this.text.length > 0) this.append(this.space);
    this.space = '';
  }
}

/** The end of a tag starting at `from` (just after its name): the index of its ">" (or -1), quotes respected. */
function tagEnd(html: string, from: number): number {
  const gt = html.indexOf('>', from);
  if (gt < 0) return -1;
  // no quote before the first ">": that is the end (the common case); only this tag's bytes are
  // searched (a search for a quote that is not there must not run to the end of the document each time)
  const tag = html.slice(from, gt);
  if (!tag.includes('"') && !tag.includes("'")) return gt;
  return attributes(html, from, undefined);
}

/**
 * Walks attributes from `from` to the tag's ">" the way an HTML tokenizer does (quotes only count in a
 * value); collects them into `into` when given. Returns the index of ">" or -1.
 */
function attributes(html: string, from: number, into: Map<string, string> | undefined): number {
  const n = html.length;
  let i = from;
  while (i < n) {
    let c = html.charCodeAt(i);
    if (c === 62) return i; // >
    if (c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 47) {
      i++;
      continue;
    }
    const nameStart = i;
    i++;
    while (i < n) {
      c = html.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 47 || c === 61 || c === 62) break;
      i++;
    }
    const name = html.slice(nameStart, i).toLowerCase();
    while (i < n && /[ \t\n\r\f]/.test(html[i]!)) i++;
    if (html.charCodeAt(i) !== 61) {
      if (into && !into.has(name)) into.set(name, '');
      continue;
    }
    i++;
    while (i < n && /[ \t\n\r\f]/.test(html[i]!)) i++;
    const q = html.charCodeAt(i);
    let value: string;
    if (q === 34 || q === 39) {
      const close = html.indexOf(q === 34 ? '"' : "'", i + 1);
      if (close < 0) return -1;
      value = html.slice(i + 1, close);
      i = close + 1;
    } else {
      const start = i;
      while (i < n && !/[ \t\n\r\f>]/.test(html[i]!)) i++;
      value = html.slice(start, i);
    }
    if (into && !into.has(name)) into.set(name, value.includes('&') ? decodeHTMLAttribute(value) : value);
  }
  return -1;
}

// NUL in text is dropped (the HTML parser ignores it in a page body: "acc\0ount" shows "account")
const decodeText = (s: string): string => {
  const t = s.includes('\0') ? s.replace(/\0/g, '') : s;
  return t.includes('&') ? decodeHTML(t) : t;
};

/** Elements with no content (their attributes alone can be hidden). */
const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr']);
/** Cheap look at a tag's attribute text before reading its attributes for hiding. */
const HIDING_HINT = /hidden|display|visibility|font-size/i;
const HIDING_STYLE = /(^|;)\s*(display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0*\.?0+\s*(px|pt|em|rem|%)?)\s*(!\s*important\s*)?(;|$)/i;

/** Attributes that make an element's content invisible. */
function hidesContent(attrs: ReadonlyMap<string, string>): boolean {
  return attrs.has('hidden') || HIDING_STYLE.test(attrs.get('style') ?? '');
}

/** Plain text of an HTML document or fragment. */
export function htmlToPlainText(html: string): string {
  const out = new Output();
  // the open link (HTML has one at a time: a new <a> closes the open one)
  let link: { href: string } | undefined;
  // link targets are listed after the text, not inside it: "verify <a href=u>your</a> account" must
  // still read "verify your account"
  const targets: string[] = [];
  const closeLink = (): void => {
    if (!link) return;
    // the shown text, captured while the link was open (only as long as the target can be)
    const shown = (out.capture ?? '').trim();
    if (link.href !== shown && link.href !== `mailto:${shown}`) targets.push(link.href);
    link = undefined;
    out.capture = undefined;
  };
  // text of hidden elements (hidden attribute, display:none, visibility:hidden, font-size:0, <template>)
  // is not shown: it is read after the shown text, so it can neither split a shown phrase nor go unread
  const hiddenOut = new Output();
  let hidden: { name: string; depth: number } | undefined;
  const cur = (): Output => (hidden ? hiddenOut : out);
  const n = html.length;
  let i = 0;
  while (i < n) {
    const lt = html.indexOf('<', i);
    if (lt < 0) {
      cur().add(decodeText(html.slice(i)));
      break;
    }
    if (lt > i) cur().add(decodeText(html.slice(i, lt)));
    const c = html.charCodeAt(lt + 1);
    if (c === 33 || c === 63) {
      // <!-- comment -->, <!DOCTYPE>, <![CDATA[ ]]> (a comment in HTML), <? ... >: not shown
      let end: number;
      if (html.startsWith('<!--', lt)) {
        // a comment ends at "-->" or "--!>" (HTML5), or right away as "<!-->" / "<!--->"
        // ("--!>" is looked for only before the first "-->": no search to the end per comment)
        const close = html.indexOf('-->', lt + 4);
        const bang = html.slice(lt + 4, close < 0 ? n : close).indexOf('--!>');
        if (bang >= 0) end = lt + 4 + bang + 4;
        else end = close < 0 ? n : close + 3;
        if (html.startsWith('<!-->', lt)) end = lt + 5;
        else if (html.startsWith('<!--->', lt)) end = lt + 6;
      } else {
        const close = html.indexOf('>', lt + 2);
        end = close < 0 ? n : close + 1;
      }
      i = end;
      continue;
    }
    const closing = c === 47;
    TAG_NAME.lastIndex = lt + (closing ? 2 : 1);
    const m = TAG_NAME.exec(html);
    if (!m) {
      if (closing) {
        // "</" not followed by a name: a bogus comment up to ">"
        const close = html.indexOf('>', lt + 2);
        i = close < 0 ? n : close + 1;
      } else {
        cur().add('<');
        i = lt + 1;
      }
      continue;
    }
    const name = m[0].toLowerCase();
    const afterName = TAG_NAME.lastIndex;
    let gt = tagEnd(html, afterName);
    if (gt < 0) break; // an unfinished tag at the end: not shown
    const readAttrs = !closing && (ATTRIBUTES_READ.has(name) || HIDING_HINT.test(html.slice(afterName, gt)));
    const attrs = readAttrs ? new Map<string, string>() : undefined;
    if (attrs) gt = attributes(html, afterName, attrs);
    if (gt < 0) break;
    i = gt + 1;
    if (hidden && name === hidden.name) {
      hidden.depth += closing ? -1 : 1;
      if (hidden.depth === 0) {
        hidden = undefined;
        hiddenOut.br();
        continue;
      }
    }
    const hides = !closing && !hidden && !VOID.has(name) && (name === 'template' || (attrs !== undefined && hidesContent(attrs)));
    if (closing) {
      if (BLOCK.has(name)) cur().br();
      else if (CELL.has(name)) cur().gap();
      if (name === 'pre' && out.pre > 0) hiddenOut.pre = --out.pre;
      if (name === 'a') closeLink();
      continue;
    }
    if (name === 'plaintext') {
      // everything after <plaintext> is shown as it is, tags included
      cur().br();
      cur().add(html.slice(i));
      break;
    }
    if (HIDDEN_RAW.has(name) || TEXT_ONLY.has(name)) {
      let endRe = END_TAGS.get(name);
      if (!endRe) END_TAGS.set(name, (endRe = new RegExp(`</${name}[\\s/>]`, 'gi')));
      endRe.lastIndex = i;
      const e = endRe.exec(html);
      const contentEnd = e ? e.index : n;
      if (TEXT_ONLY.has(name)) {
        cur().br();
        cur().add(decodeText(html.slice(i, contentEnd)));
        cur().br();
      }
      if (!e) break;
      const close = html.indexOf('>', e.index);
      i = close < 0 ? n : close + 1;
      continue;
    }
    if (BLOCK.has(name)) cur().br();
    else if (CELL.has(name)) cur().gap();
    if (hides) hidden = { name, depth: 1 };
    if (name === 'pre') hiddenOut.pre = ++out.pre;
    // what a mail program shows in place of an image it does not load, and on buttons and fields
    const shownHere = attrs !== undefined && VOID.has(name) && hidesContent(attrs) ? hiddenOut : cur();
    if (name === 'img') shownHere.add(attrs?.get('alt') ?? ''); // inline, as shown: "v<img alt=''>iagra" reads "viagra"
    if (name === 'input' && !HIDDEN_INPUTS.has((attrs?.get('type') ?? 'text').toLowerCase())) shownHere.add(` ${attrs?.get('value') ?? ''} `);
    if (name === 'a') {
      closeLink();
      const href = attrs?.get('href')?.trim();
      // ("<a/>" opens a link too: HTML ignores the self-closing mark on non-void elements)
      if (href && !href.startsWith('#')) {
        link = { href };
        out.capture = '';
        out.captureMax = href.length + 8;
      }
    }
  }
  closeLink(); // a link never closed still has its target
  if (targets.length > 0) {
    out.br();
    out.add(targets.map((t) => `[${t}]`).join(' '));
  }
  if (hiddenOut.text.length > 0) {
    out.br();
    out.add(hiddenOut.text);
  }
  return out.text;
}
