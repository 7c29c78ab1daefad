// Cabinet files hold no directory entries (folders are implied by paths), yet a CFFILE record may
// carry FILE_ATTRIBUTE_DIRECTORY: Windows extractors still write its data as a file, while 7-Zip
// makes an empty directory and never shows the data. cabWithoutDirectoryAttrs returns a copy with
// that bit cleared on every CFFILE record so 7-Zip writes each one as the file it is. Reads only the
// CFHEADER and CFFILE records, bounded by their counts and the buffer; never throws.

const FILE_ATTRIBUTE_DIRECTORY = 0x10;

/** The cabinet with the directory attribute cleared on every file, or the input when none had it. */
export function cabWithoutDirectoryAttrs(buf: Buffer): Buffer {
  if (buf.length < 36 || buf.toString('latin1', 0, 4) !== 'MSCF') return buf;
  const coffFiles = buf.readUInt32LE(16);
  const cFiles = buf.readUInt16LE(28);
  let copy: Buffer | undefined;
  let p = coffFiles;
  for (let i = 0; i < cFiles && p + 16 <= buf.length; i++) {
    const attrAt = p + 14;
    if ((buf.readUInt16LE(attrAt) & FILE_ATTRIBUTE_DIRECTORY) !== 0) {
      copy ??= Buffer.from(buf);
      copy.writeUInt16LE(buf.readUInt16LE(attrAt) & ~FILE_ATTRIBUTE_DIRECTORY, attrAt);
    }
    const z = buf.indexOf(0, p + 16);
    if (z < 0) break;
    p = z + 1;
  }
  return copy ?? buf;
}
