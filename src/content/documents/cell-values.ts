// What a spreadsheet shows for a cell whose stored form hides its digits: an integer stored in
// scientific notation ("3.70000012345676e+14" shows as 370000012345676), a formula joining literals
// ('"4000"&"1234"' or CONCATENATE("4000","1234") shows 40001234) whose cached result is absent, and a
// number format with literal text around the digits ('"4000"0000' shows 1234 as 40001234,
// '0000"1234"' shows 4000 as 40001234). Small, bounded helpers;
// each returns undefined when it does not apply. Never throws.

/** Largest exponent expanded: beyond it no card or account number fits. */
const MAX_EXPONENT = 40;
/** Digits a spreadsheet number holds exactly (IEEE double, as Excel and LibreOffice show it). */
const MAX_EXACT_DIGITS = 15;
/** Longest formula evaluated, and deepest nesting of calls and parentheses. */
const MAX_FORMULA = 4096;
const MAX_DEPTH = 16;
/** Longest result kept from one formula. */
const MAX_RESULT = 1024;

const SCIENTIFIC = /^\s*([+-]?)(\d{1,40})(?:\.(\d{0,40}))?[eE]\+?(\d{1,3})\s*$/;

/** The digits of an integer written in scientific notation ("1.5E+3" → "1500"); undefined otherwise. */
export function expandScientific(raw: string): string | undefined {
  if (raw.length > 100) return undefined;
  const m = SCIENTIFIC.exec(raw);
  if (!m) return undefined;
  const exponent = Number(m[4]);
  const whole = m[2]!;
  const fraction = (m[3] ?? '').replace(/0+$/, '');
  if (exponent > MAX_EXPONENT || fraction.length > exponent) return undefined;
  const digits = (whole + fraction + '0'.repeat(exponent - fraction.length)).replace(/^0+(?=\d)/, '');
  // a spreadsheet keeps 15 significant digits: a longer expansion ends in zeros nobody typed or sees
  // ("4.32059443718483E+15" is a measured value shown as 4.32059E+15, not a 16-digit number)
  if (digits.length > MAX_EXACT_DIGITS) return undefined;
  return (m[1] === '-' ? '-' : '') + digits;
}

const CONCAT_FUNCTIONS = new Set(['CONCATENATE', 'CONCAT', '_XLFN.CONCAT', 'OF:CONCATENATE', 'COM.MICROSOFT.CONCAT']);

/**
 * The result of a formula made only of string and number literals joined by `&` or by CONCATENATE /
 * CONCAT (Excel's `="4000"&"1234"`, OpenDocument's `of:="4000"&"1234"`); undefined for anything else.
 */
export function evaluateConcatenation(formula: string): string | undefined {
  if (formula.length > MAX_FORMULA) return undefined;
  let s = formula.trim();
  if (/^of:/i.test(s)) s = s.slice(3);
  if (s.startsWith('=')) s = s.slice(1);
  let i = 0;
  let joined = false;
  const space = (): void => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === '\n' || s[i] === '\r')) i++;
  };
  const term = (depth: number): string | undefined => {
    space();
    if (depth > MAX_DEPTH || i >= s.length) return undefined;
    const c = s[i]!;
    if (c === '"') {
      let out = '';
      for (i++; i < s.length; i++) {
        if (s[i] === '"') {
          if (s[i + 1] === '"') {
            out += '"';
            i++;
          } else {
            i++;
            return out;
          }
        } else {
          out += s[i];
        }
      }
      return undefined;
    }
    const number = /^[+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(s.slice(i, i + 64));
    if (number) {
      i += number[0].length;
      return expandScientific(number[0]) ?? number[0];
    }
    if (c === '(') {
      i++;
      const v = expr(depth + 1);
      space();
      if (v === undefined || s[i] !== ')') return undefined;
      i++;
      return v;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_.:]*/.exec(s.slice(i, i + 64));
    if (!name || !CONCAT_FUNCTIONS.has(name[0].toUpperCase())) return undefined;
    i += name[0].length;
    space();
    if (s[i] !== '(') return undefined;
    i++;
    joined = true;
    let out = '';
    space();
    if (s[i] === ')') {
      i++;
      return out;
    }
    for (;;) {
      const v = expr(depth + 1);
      if (v === undefined) return undefined;
      out += v;
      if (out.length > MAX_RESULT) return undefined;
      space();
      if (s[i] === ')') {
        i++;
        return out;
      }
      if (s[i] !== ',' && s[i] !== ';') return undefined;
      i++;
    }
  };
  const expr = (depth: number): string | undefined => {
    let out = term(depth);
    for (;;) {
      if (out === undefined || out.length > MAX_RESULT) return undefined;
      space();
      if (s[i] !== '&') return out;
      i++;
      joined = true;
      const next = term(depth);
      if (next === undefined) return undefined;
      out += next;
    }
  };
  const result = expr(0);
  space();
  return result !== undefined && i === s.length && joined ? result : undefined;
}

/** A number format that shows literal text around a number's digits, padded to `minDigits`. */
export interface LiteralFormat {
  prefix: string;
  suffix: string;
  minDigits: number;
}

/**
 * The literal text of a number format code such as `"4000"0000`, `0000"1234"` or `\4\1000` (text in
 * quotes or escaped characters, before and after one run of digit placeholders): undefined for any
 * other format, and for one without literal text.
 */
export function literalFormat(code: string): LiteralFormat | undefined {
  if (code.length > 256) return undefined;
  const section = code.split(';')[0]!;
  let i = 0;
  /** Literal text from i: quoted, escaped, or a bracketed colour/condition (not shown); stops at anything else. */
  const literal = (): string | undefined => {
    let text = '';
    while (i < section.length) {
      const c = section[i]!;
      if (c === '"') {
        const end = section.indexOf('"', i + 1);
        if (end < 0) return undefined;
        text += section.slice(i + 1, end);
        i = end + 1;
      } else if (c === '\\' && i + 1 < section.length) {
        text += section[i + 1];
        i += 2;
      } else if (c === '[') {
        const end = section.indexOf(']', i);
        if (end < 0) return undefined;
        i = end + 1;
      } else {
        break;
      }
    }
    return text;
  };
  const prefix = literal();
  if (prefix === undefined) return undefined;
  const digitsStart = i;
  while (i < section.length && (section[i] === '0' || section[i] === '#')) i++;
  const placeholders = section.slice(digitsStart, i);
  const suffix = literal();
  if (suffix === undefined || i !== section.length || placeholders === '' || prefix + suffix === '') return undefined;
  return { prefix, suffix, minDigits: (placeholders.match(/0/g) ?? []).length };
}

/** A cell's stored integer as that format shows it; undefined when the value is not a plain integer. */
export function applyLiteralFormat(value: string, format: LiteralFormat): string | undefined {
  const v = value.trim();
  const digits = /^\d{1,40}$/.test(v) ? v : expandScientific(v);
  if (digits === undefined || digits.startsWith('-')) return undefined;
  return format.prefix + digits.padStart(format.minDigits, '0') + format.suffix;
}
