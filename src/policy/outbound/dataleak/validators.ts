// Validators for sensitive numbers: Luhn + IIN table for payment cards, US SSN ranges, IBAN length and
// mod-97. Pure functions on digit/character strings; no regular expressions from config, no I/O.

/** Luhn checksum over a string of ASCII digits (false for anything else or empty). */
export function luhnValid(digits: string): boolean {
  const n = digits.length;
  if (n === 0) return false;
  let sum = 0;
  let dbl = false;
  for (let i = n - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (dbl) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    dbl = !dbl;
  }
  return sum % 10 === 0;
}

/** The check digit that makes `partial + digit` pass Luhn. */
export function luhnCheckDigit(partial: string): string {
  for (let d = 0; d <= 9; d++) if (luhnValid(partial + String(d))) return String(d);
  throw new Error('unreachable');
}

interface IinRule {
  brand: string;
  /** Inclusive numeric prefix range on the first `len` digits. */
  from: number;
  to: number;
  len: number;
  lengths: readonly number[];
}

const R = (brand: string, from: number, to: number, lengths: readonly number[]): IinRule => ({
  brand,
  from,
  to,
  len: String(from).length,
  lengths,
});
const L16_19 = [16, 17, 18, 19] as const;

/** Known issuer identification number prefixes (public scheme rules) and their card lengths. */
export const IIN_RULES: readonly IinRule[] = [
  // 13-digit Visa cards are no longer issued (and long expired), while 13-digit numbers starting with 4
  // are everywhere: German EAN-13 barcodes (400-440), "+44 (0)20 ..." and "+49 (0)89 ..." phone numbers
  R('visa', 4, 4, [16, 19]),
  R('mastercard', 51, 55, [16]),
  R('mastercard', 2221, 2720, [16]),
  R('amex', 34, 34, [15]),
  R('amex', 37, 37, [15]),
  R('discover', 6011, 6011, L16_19),
  R('discover', 644, 649, L16_19),
  R('discover', 65, 65, L16_19),
  R('jcb', 3528, 3589, L16_19),
  // Diners Club cards are issued with 14 or 16 digits; allowing 15/17-19 made 17-digit order numbers
  // ("302-1234567-1234567", Amazon's 3-7-7 shape) count as cards
  R('diners', 300, 305, [14, 16]),
  R('diners', 3095, 3095, [14, 16]),
  R('diners', 36, 36, [14, 16]),
  R('diners', 38, 39, [14, 16]),
  R('unionpay', 62, 62, L16_19),
  R('maestro', 5018, 5018, [13, 14, 15, 16, 17, 18, 19]),
  R('maestro', 5020, 5020, [13, 14, 15, 16, 17, 18, 19]),
  R('maestro', 5038, 5038, [13, 14, 15, 16, 17, 18, 19]),
  R('maestro', 5893, 5893, [13, 14, 15, 16, 17, 18, 19]),
  R('maestro', 6304, 6304, [13, 14, 15, 16, 17, 18, 19]),
  R('maestro', 6759, 6759, [13, 14, 15, 16, 17, 18, 19]),
  R('maestro', 6761, 6763, [13, 14, 15, 16, 17, 18, 19]),
  R('mir', 2200, 2204, L16_19),
  R('rupay', 60, 60, [16]),
  R('rupay', 508, 508, [16]),
];

/** Card brand for a digit string of plausible length, undefined when no known IIN matches. */
export function cardBrand(digits: string): string | undefined {
  const n = digits.length;
  if (n < 13 || n > 19) return undefined;
  for (const r of IIN_RULES) {
    const p = Number(digits.slice(0, r.len));
    if (p >= r.from && p <= r.to && r.lengths.includes(n)) return r.brand;
  }
  return undefined;
}

/** A payment card number: 13-19 digits, known IIN prefix and length, Luhn-valid. */
export function isValidCard(digits: string): boolean {
  return cardBrand(digits) !== undefined && luhnValid(digits);
}

/** Numbers used as examples in advertising and documentation, never valid SSNs. */
const SSN_EXAMPLES = new Set(['078051120', '219099999', '123456789']);

/** US SSN AAA GG SSSS (digits only): area not 000/666/900-999, group not 00, serial not 0000. */
export function isValidSsn(area: string, group: string, serial: string): boolean {
  if (!/^\d{3}$/.test(area) || !/^\d{2}$/.test(group) || !/^\d{4}$/.test(serial)) return false;
  const a = Number(area);
  if (a === 0 || a === 666 || a >= 900) return false;
  if (group === '00' || serial === '0000') return false;
  return !SSN_EXAMPLES.has(area + group + serial);
}

/** IBAN lengths per country (ISO 13616 registry). */
export const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28, CH: 21,
  CR: 22, CY: 28, CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FK: 18, FO: 18,
  FR: 27, GB: 22, GE: 22, GI: 23, GL: 18, GR: 27, GT: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26,
  IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20, LV: 21, LY: 25, MC: 27, MD: 24,
  ME: 22, MK: 19, MN: 20, MR: 27, MT: 31, MU: 30, NI: 28, NL: 18, NO: 15, OM: 23, PK: 24, PL: 28, PS: 29,
  PT: 25, QA: 29, RO: 24, RS: 22, RU: 33, SA: 24, SC: 31, SD: 18, SE: 24, SI: 19, SK: 24, SM: 27, SO: 23,
  ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29, VA: 22, VG: 24, XK: 20, YE: 30,
};

/** ISO 7064 mod 97-10 over the rearranged IBAN (letters A=10..Z=35). */
export function ibanMod97(iban: string): number {
  const s = iban.slice(4) + iban.slice(0, 4);
  let rem = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) rem = (rem * 10 + (c - 48)) % 97;
    else if (c >= 65 && c <= 90) rem = (rem * 100 + (c - 55)) % 97;
    else return -1;
  }
  return rem;
}

/** An IBAN without spaces, upper case: known country, right length, check digits valid. */
export function isValidIban(compact: string): boolean {
  const len = IBAN_LENGTHS[compact.slice(0, 2)];
  if (len === undefined || compact.length !== len) return false;
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]+$/.test(compact)) return false;
  return ibanMod97(compact) === 1;
}

/** Check digits for a country + BBAN (for tests and examples). */
export function ibanCheckDigits(country: string, bban: string): string {
  const r = ibanMod97(`${country}00${bban}`);
  return String(98 - r).padStart(2, '0');
}
