// File-name normalisation for attachment blocking: turns a name as a mail program might show or save
// it into the forms an attacker hopes we miss (percent-hex, Unicode compatibility forms, bidi and
// invisible characters, trailing dots/spaces, padding, CLSID suffixes, quotes and comments), and
// reports the suspicious tricks it found. Pure functions; never throws.

/** Bidi controls and invisible/format characters that change how a name looks or reads. */
// U+200B-U+200F zero-width/marks, U+202A-U+202E embeddings/overrides, U+2060-U+2064 word joiner etc.,
// U+2066-U+2069 isolates, U+FEFF BOM, U+00AD soft hyphen, U+034F, U+061C, U+115F/U+1160, U+17B4/5,
// U+180E, U+3164, U+FFA0. NNBSP U+202F is deliberately NOT here (macOS Mail uses it: false positives).
const INVISIBLE = /[\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\u3164\uFEFF\uFFA0]/g;
const BIDI = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/g;
const CLSID = /\{[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}/i;
/** Suffixes of single-file compressors and encoders: "x.scr.gz" is an x.scr once unpacked. */
export const COMPRESSION_EXTS: ReadonlySet<string> = new Set(['gz', 'gzip', 'xz', 'bz2', 'bz', 'lz', 'lzma', 'z', 'zst', 'lz4', 'uue', 'uu', 'lzh']);

export interface NameFlags {
  bidi: boolean;
  invisible: boolean;
  control: boolean;
  clsid: boolean;
  percentEncoded: boolean;
  trailingDotsOrSpaces: boolean;
  /** Longest run of whitespace inside the name. */
  longestSpaceRun: number;
  /** Length in characters of the (NFKC) name. */
  length: number;
}

export interface NormalisedName {
  original: string;
  /** Main normalised form: NFKC, decoded, invisible chars removed, lower case, trimmed, basename. */
  normalised: string;
  /** Every form worth checking (normalised first), de-duplicated. */
  variants: string[];
  /** Extensions of the main form, last one last: "invoice.pdf.exe" -> ["pdf","exe"]. */
  extensions: string[];
  flags: NameFlags;
}

function percentDecode(s: string): string {
  if (!/%[0-9a-f]{2}/i.test(s)) return s;
  try {
    return decodeURIComponent(s.replace(/%(?![0-9a-f]{2})/gi, '%25'));
  } catch {
    return s.replace(/%([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  }
}

/** Windows ignores trailing dots and spaces; the saved file keeps the extension before them. */
function trimTrailing(s: string): string {
  return s.replace(/[.\s]+$/u, '');
}

function basename(s: string): string {
  const i = Math.max(s.lastIndexOf('/'), s.lastIndexOf('\\'));
  return i >= 0 && i < s.length - 1 ? s.slice(i + 1) : s;
}

function byteSwappedUtf16(s: string): string | undefined {
  if (s.length < 3) return undefined;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const hi = c >> 8;
    if ((c & 0xff) !== 0 || hi < 0x20 || hi > 0x7e) return undefined;
    out += String.fromCharCode(hi);
  }
  return out;
}

export function extensionsOf(name: string): string[] {
  const parts = name.split('.');
  if (parts.length < 2) return [];
  return parts.slice(1).map((p) => p.trim()).filter((p) => p.length > 0 && p.length <= 64);
}

export function normaliseName(original: string): NormalisedName {
  let s = String(original ?? '');
  // UTF-16 decoded with the wrong byte order ("file.zip" read as U+6600 U+6900 ...): every code unit
  // has a zero low byte and a printable high byte. Read it the other way round (multi-view).
  const swapped = byteSwappedUtf16(s);
  s = s.normalize('NFKC');
  const flags: NameFlags = {
    bidi: BIDI.test(s),
    invisible: false,
    control: false,
    clsid: false,
    percentEncoded: false,
    trailingDotsOrSpaces: false,
    longestSpaceRun: 0,
    length: s.length,
  };
  // Decode percent-hex twice at most (double encoding), then NFKC again (decoded text may be fullwidth).
  for (let i = 0; i < 2; i++) {
    const d = percentDecode(s);
    if (d === s) break;
    flags.percentEncoded = true;
    s = d.normalize('NFKC');
    if (BIDI.test(s)) flags.bidi = true;
  }
  // Bidi controls are reported as bidi; "invisible" is for the other format characters.
  if ([...s.matchAll(INVISIBLE)].some((m) => !BIDI.test(m[0]))) flags.invisible = true;
  s = s.replace(INVISIBLE, '');
  CONTROL.lastIndex = 0;
  if (CONTROL.test(s)) flags.control = true;
  s = s.replace(CONTROL, '');
  for (const m of s.matchAll(/\s+/gu)) flags.longestSpaceRun = Math.max(flags.longestSpaceRun, m[0].length);
  s = s.toLowerCase().trim();
  if (/[.\s]$/u.test(s)) flags.trailingDotsOrSpaces = true;
  s = trimTrailing(s);
  flags.clsid = CLSID.test(s);

  const variants = new Set<string>();
  const add = (v: string): void => {
    const t = trimTrailing(v.trim());
    if (t) variants.add(t);
  };
  const main = basename(s);
  add(main);
  add(s); // full path form
  // Spaces collapsed / removed ("photo.jpg          .scr", "file. exe").
  add(main.replace(/\s+/gu, ' '));
  add(main.replace(/\s+/gu, ''));
  // Quotes and parentheses comments left over by lenient parsers: file".exe, file.e(.gif)xe, file.exe().
  add(main.replace(/["']/g, ''));
  add(main.replace(/\([^()]*\)/g, '').replace(/["']/g, ''));
  // Characters Windows refuses in names; some clients drop them.
  add(main.replace(/[<>:"|?*]/g, ''));
  // Name cut at ; (file;.exe is "file" for some, "file;.exe" for others: keep both).
  if (main.includes(';')) for (const piece of main.split(';')) add(piece);
  // CLSID suffix: Explorer hides it and uses the class; also check the name without it.
  if (flags.clsid) add(main.replace(new RegExp(CLSID.source, 'gi'), ''));
  if (swapped) {
    const sw = normaliseName(swapped);
    for (const v of sw.variants) add(v);
  }
  // Compression suffix hides the real name after decompression: x.scr.gz -> x.scr.
  for (const v of [...variants]) {
    let cur = v;
    for (let i = 0; i < 3; i++) {
      const exts = extensionsOf(cur);
      const last = exts[exts.length - 1];
      if (!last || !COMPRESSION_EXTS.has(last) || exts.length < 2) break;
      cur = trimTrailing(cur.slice(0, cur.length - last.length - 1));
      add(cur);
    }
  }
  return { original, normalised: main, variants: [...variants], extensions: extensionsOf(main), flags };
}

/** Text safe to put in an SMTP reply or log line: printable ASCII, bounded length. */
export function safeName(name: string, max = 80): string {
  const s = String(name)
    .normalize('NFKC')
    .replace(INVISIBLE, '')
    .replace(/[^\x20-\x7e]/g, '?')
    .replace(/"/g, "'");
  return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}
