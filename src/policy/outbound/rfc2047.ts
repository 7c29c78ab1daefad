// Minimal RFC 2047 encoded-word decoder for header values seen at EOM (the Subject of auto-replies is
// often "=?UTF-8?Q?R=C3=A9ponse_automatique?="). Also unfolds and NFKC-normalises.
// Never throws: undecodable words are kept as they are.

const WORD = /=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/g;
const BETWEEN_WORDS = /(\?=)[ \t\r\n]+(=\?)/g;

function decodeQ(text: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '_') bytes.push(0x20);
    else if (c === '=' && i + 2 < text.length + 0 && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(c.charCodeAt(0) & 0xff);
  }
  return Buffer.from(bytes);
}

function decodeBytes(bytes: Buffer, charset: string): string {
  const cs = charset.toLowerCase().replace(/\*.*$/, ''); // RFC 2231 language suffix
  try {
    return new TextDecoder(cs === 'utf8' ? 'utf-8' : cs, { fatal: false }).decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
}

export function decodeHeaderValue(value: string): string {
  try {
    const unfolded = value.replace(/\r?\n[ \t]/g, ' ').replace(BETWEEN_WORDS, '$1$2');
    const decoded = unfolded.replace(WORD, (whole, charset: string, enc: string, text: string) => {
      try {
        const bytes = enc.toLowerCase() === 'b' ? Buffer.from(text, 'base64') : decodeQ(text);
        return decodeBytes(bytes, charset);
      } catch {
        return whole;
      }
    });
    return decoded.normalize('NFKC').trim();
  } catch {
    return value;
  }
}
