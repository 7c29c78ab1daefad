// The PDF Standard security handler, for reading: works out a file's key from the empty user password
// (what every PDF "locked" only against printing, copying or editing has) and decrypts its streams —
// RC4 (revisions 2-4), AES-128 (AESV2) and AES-256 (AESV3, revisions 5 and 6). A file that needs a
// real password to open, or another security handler, is reported as not readable. Facts from
// ISO 32000-2 §7.6; no I/O, never throws.
import crypto from 'node:crypto';

/** What the encryption dictionary and the trailer say, as plain values. */
export interface StandardEncryption {
  /** /Filter of the encryption dictionary ("Standard" is the only one read). */
  filter: string | undefined;
  v: number;
  r: number;
  /** /Length in bits (40-128); undefined when absent. */
  lengthBits: number | undefined;
  o: Buffer;
  u: Buffer;
  ue: Buffer | undefined;
  p: number;
  /** First element of the trailer's /ID (empty when absent). */
  id0: Buffer;
  encryptMetadata: boolean;
  /** How streams are encrypted, from /V or the stream crypt filter (/StmF in /CF). */
  streamMethod: 'none' | 'rc4' | 'aesv2' | 'aesv3' | 'unknown';
}

export type PdfCrypt =
  | {
      readable: true;
      decryptStream(num: number, gen: number, data: Buffer): Buffer;
      /** A string held in indirect object `num gen` (not in an object stream): same object key and cipher as its streams. */
      decryptString(num: number, gen: number, data: Buffer): Buffer;
    }
  | { readable: false; reason: string };

/** The fixed 32-byte string passwords are padded with (§7.6.4.3.2). */
const PAD = Buffer.from('28bf4e5e4e758a4164004e56fffa01082e2e00b6d0683e802f0ca9fe6453697a', 'hex');

const md5 = (...parts: Buffer[]): Buffer => {
  const h = crypto.createHash('md5');
  for (const p of parts) h.update(p);
  return h.digest();
};
const sha = (alg: 'sha256' | 'sha384' | 'sha512', ...parts: Buffer[]): Buffer => {
  const h = crypto.createHash(alg);
  for (const p of parts) h.update(p);
  return h.digest();
};

/** RC4 (symmetric: the same call encrypts and decrypts). Not offered by OpenSSL 3's default provider. */
export function rc4(key: Buffer, data: Buffer): Buffer {
  const s = new Uint8Array(256);
  for (let i = 0; i < 256; i++) s[i] = i;
  for (let i = 0, j = 0; i < 256; i++) {
    j = (j + s[i]! + key[i % key.length]!) & 0xff;
    const t = s[i]!;
    s[i] = s[j]!;
    s[j] = t;
  }
  const out = Buffer.allocUnsafe(data.length);
  for (let k = 0, i = 0, j = 0; k < data.length; k++) {
    i = (i + 1) & 0xff;
    j = (j + s[i]!) & 0xff;
    const t = s[i]!;
    s[i] = s[j]!;
    s[j] = t;
    out[k] = data[k]! ^ s[(s[i]! + s[j]!) & 0xff]!;
  }
  return out;
}

/** AES-CBC decryption of `data` whose first 16 bytes are the IV; PKCS#7 padding removed when valid. */
function aesCbcDecrypt(key: Buffer, data: Buffer): Buffer {
  if (data.length < 32) return Buffer.alloc(0);
  const iv = data.subarray(0, 16);
  const body = data.subarray(16, 16 + Math.floor((data.length - 16) / 16) * 16);
  const d = crypto.createDecipheriv(key.length === 32 ? 'aes-256-cbc' : 'aes-128-cbc', key, iv);
  d.setAutoPadding(false);
  const out = Buffer.concat([d.update(body), d.final()]);
  const pad = out[out.length - 1]!;
  if (pad >= 1 && pad <= 16 && pad <= out.length && out.subarray(out.length - pad).every((x) => x === pad)) return out.subarray(0, out.length - pad);
  return out;
}

/** Algorithm 2: the file key of revisions 2-4 from the (empty, padded) user password. */
function legacyFileKey(e: StandardEncryption, n: number): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32LE(e.p >>> 0);
  const parts = [PAD, e.o.subarray(0, 32), p, e.id0];
  if (e.r >= 4 && !e.encryptMetadata) parts.push(Buffer.from([0xff, 0xff, 0xff, 0xff]));
  let hash = md5(...parts);
  if (e.r >= 3) for (let k = 0; k < 50; k++) hash = md5(hash.subarray(0, n));
  return hash.subarray(0, n);
}

/** Algorithms 4 and 5: does the empty password open the file (is /U what it gives)? */
function legacyUserPasswordFits(e: StandardEncryption, key: Buffer): boolean {
  if (e.r === 2) return rc4(key, PAD).equals(e.u.subarray(0, 32));
  let x = rc4(key, md5(PAD, e.id0));
  for (let i = 1; i <= 19; i++) {
    const k = Buffer.from(key.map((b) => b ^ i));
    x = rc4(k, x);
  }
  return x.equals(e.u.subarray(0, 16));
}

/** Algorithm 2.B (revision 6): the hash of a password with a salt (and the user key data, empty for the user). */
function r6Hash(password: Buffer, salt: Buffer, udata: Buffer): Buffer {
  let k = sha('sha256', password, salt, udata);
  for (let i = 0; ; i++) {
    const k1 = Buffer.concat(Array.from({ length: 64 }, () => Buffer.concat([password, k, udata])));
    const c = crypto.createCipheriv('aes-128-cbc', k.subarray(0, 16), k.subarray(16, 32));
    c.setAutoPadding(false);
    const e = Buffer.concat([c.update(k1), c.final()]);
    let sum = 0;
    for (let j = 0; j < 16; j++) sum += e[j]!;
    const mod = sum % 3;
    k = sha(mod === 0 ? 'sha256' : mod === 1 ? 'sha384' : 'sha512', e);
    if (i >= 63 && e[e.length - 1]! <= i + 1 - 32) break;
    if (i > 10_000) break; // cannot happen with a real hash; a guard, not a rule
  }
  return k.subarray(0, 32);
}

/** Revisions 5 and 6: the file key from the empty user password, or undefined when it does not open the file. */
function aes256FileKey(e: StandardEncryption): Buffer | undefined {
  const u = e.u;
  if (u.length < 48 || !e.ue || e.ue.length < 32) return undefined;
  const pw = Buffer.alloc(0);
  const hash = e.r === 5 ? (salt: Buffer) => sha('sha256', pw, salt) : (salt: Buffer) => r6Hash(pw, salt, Buffer.alloc(0));
  if (!hash(u.subarray(32, 40)).equals(u.subarray(0, 32))) return undefined;
  const d = crypto.createDecipheriv('aes-256-cbc', hash(u.subarray(40, 48)), Buffer.alloc(16));
  d.setAutoPadding(false);
  return Buffer.concat([d.update(e.ue.subarray(0, 32)), d.final()]);
}

/** Open an encrypted PDF with the empty user password, or say why it cannot be read. */
export function openStandardSecurity(e: StandardEncryption): PdfCrypt {
  if (e.filter !== 'Standard') return { readable: false, reason: `encrypted PDF: security handler ${e.filter ?? '(none)'} (certificate or custom) not readable` };
  if (e.streamMethod === 'unknown') return { readable: false, reason: 'encrypted PDF: unknown crypt filter' };
  try {
    if (e.r >= 5) {
      const key = aes256FileKey(e);
      if (!key) return { readable: false, reason: 'encrypted PDF: a password is needed to open it' };
      if (e.streamMethod === 'none') return { readable: true, decryptStream: (_n, _g, data) => data, decryptString: (_n, _g, data) => data };
      const aes = (_n: number, _g: number, data: Buffer): Buffer => aesCbcDecrypt(key, data);
      return { readable: true, decryptStream: aes, decryptString: aes };
    }
    if (e.r < 2) return { readable: false, reason: `encrypted PDF: revision ${e.r} not supported` };
    const n = e.r === 2 ? 5 : Math.min(16, Math.max(5, Math.floor((e.lengthBits ?? (e.v >= 4 ? 128 : 40)) / 8)));
    const key = legacyFileKey(e, n);
    if (!legacyUserPasswordFits(e, key)) return { readable: false, reason: 'encrypted PDF: a password is needed to open it' };
    const method = e.streamMethod;
    if (method === 'none') return { readable: true, decryptStream: (_n, _g, data) => data, decryptString: (_n, _g, data) => data };
    // Algorithm 1: the object key from the file key, the object number and generation (and "sAlT" for AES)
    const decrypt = (num: number, gen: number, data: Buffer): Buffer => {
      const salt = method === 'aesv2' ? [Buffer.from('sAlT', 'latin1')] : [];
      // AES-128 always takes a 16-byte key, whatever /Length a file declares
      const keyLength = method === 'aesv2' ? 16 : Math.min(n + 5, 16);
      const objKey = md5(key, Buffer.from([num & 0xff, (num >> 8) & 0xff, (num >> 16) & 0xff, gen & 0xff, (gen >> 8) & 0xff]), ...salt).subarray(0, keyLength);
      return method === 'aesv2' ? aesCbcDecrypt(objKey, data) : rc4(objKey, data);
    };
    return { readable: true, decryptStream: decrypt, decryptString: decrypt };
  } catch (err) {
    return { readable: false, reason: `encrypted PDF: ${(err as Error).message}` };
  }
}
