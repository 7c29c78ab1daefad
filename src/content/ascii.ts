// Cheap ASCII tests for the content pipeline's fast paths: text that is pure ASCII is left as it is
// by NFKC, holds no invisible/format characters and folds case by toLowerCase() alone. Pure functions.

/** True when every UTF-16 unit of `s` is below 0x80 (any other character needs 2+ UTF-8 bytes). */
export function isAsciiString(s: string): boolean {
  return Buffer.byteLength(s, 'utf8') === s.length;
}

/** NFKC of `s`, skipping ICU for pure ASCII (NFKC leaves ASCII unchanged). */
export function nfkc(s: string): string {
  return isAsciiString(s) ? s : s.normalize('NFKC');
}
