// Builds small real office files for tests: a Word .docx (a zip with [Content_Types].xml and
// word/document.xml) whose paragraphs are split into runs the way Word splits them (formatting and
// proofing marks between runs), so a test can hide a number across runs as a real document does.
import AdmZip from 'adm-zip';

const W_NS = 'http://schemas.openxmlformats.org/wordprocessingml/2006/main';

const escapeXml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** One Word paragraph: each piece is its own run, with a bold mark and a proofing mark around it. */
export function wordParagraph(pieces: readonly string[]): string {
  const runs = pieces
    .map((p) => `<w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">${escapeXml(p)}</w:t></w:r><w:proofErr w:type="spellStart"/>`)
    .join('');
  return `<w:p><w:pPr><w:pStyle w:val="Normal"/></w:pPr>${runs}</w:p>`;
}

/** word/document.xml around this body XML (indented, as Word's own files are not, to test both). */
export function wordDocumentXml(body: string): string {
  return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w="${W_NS}">\n  <w:body>\n    ${body}\n  </w:body>\n</w:document>`;
}

/** A .docx file with these paragraphs (each a list of runs). */
export function docx(paragraphs: readonly (readonly string[])[]): Buffer {
  const zip = new AdmZip();
  zip.addFile(
    '[Content_Types].xml',
    Buffer.from(
      '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
        '<Default Extension="xml" ContentType="application/xml"/>' +
        '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
    ),
  );
  zip.addFile(
    '_rels/.rels',
    Buffer.from(
      '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
    ),
  );
  zip.addFile('word/document.xml', Buffer.from(wordDocumentXml(paragraphs.map(wordParagraph).join('\n    '))));
  return zip.toBuffer();
}

/** Card numbers printed 4-4-4-4 (15 digits 4-6-5) and cut into three runs at places that differ per number. */
export function cardsInRuns(cards: readonly string[]): string[][] {
  return cards.map((c, i) => {
    const printed = c.length === 15 ? `${c.slice(0, 4)} ${c.slice(4, 10)} ${c.slice(10)}` : c.match(/.{1,4}/g)!.join(' ');
    const a = 2 + (i % 5);
    const b = 9 + (i % 3);
    return [printed.slice(0, a), printed.slice(a, b), printed.slice(b)];
  });
}

/** A zip of these members (names as given, any content). */
export function zipOf(files: Readonly<Record<string, string | Buffer>>): Buffer {
  const zip = new AdmZip();
  for (const [name, data] of Object.entries(files)) zip.addFile(name, Buffer.isBuffer(data) ? data : Buffer.from(data));
  return zip.toBuffer();
}

const S_NS = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';

/**
 * A one-sheet .xlsx: `cells` are the <c> elements of column A, one row each; `numFmts` is the
 * <numFmts> element of xl/styles.xml and `xf1` its cell style 1 (cell style 0 is General).
 */
export function xlsxOf(cells: readonly string[], styles: { numFmts?: string; xf1?: string } = {}): Buffer {
  const rows = cells.map((c, i) => `<row r="${i + 1}">${c}</row>`).join('');
  return zipOf({
    '[Content_Types].xml':
      '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
      '<Default Extension="xml" ContentType="application/xml"/>' +
      '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>',
    'xl/workbook.xml': `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="${S_NS}"><sheets><sheet name="S" sheetId="1"/></sheets></workbook>`,
    'xl/styles.xml':
      `<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="${S_NS}">${styles.numFmts ?? ''}` +
      `<cellXfs count="2"><xf numFmtId="0"/>${styles.xf1 ?? '<xf numFmtId="1" applyNumberFormat="1"/>'}</cellXfs></styleSheet>`,
    'xl/worksheets/sheet1.xml': `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="${S_NS}"><sheetData>${rows}</sheetData></worksheet>`,
  });
}

/** OpenDocument content.xml around this office:body content. */
export function odfContentXml(body: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" ' +
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" ' +
    `office:version="1.2"><office:body>${body}</office:body></office:document-content>`
  );
}

/** A mail with one base64 attachment. */
export function mailWithAttachment(data: Buffer, name: string, type = 'application/octet-stream'): Buffer {
  const b64 = data.toString('base64').replace(/.{76}/g, '$&\r\n');
  return Buffer.from(
    'From: alice@example.com\r\nTo: bob@example.org\r\nSubject: report\r\nDate: Thu, 03 Dec 2026 10:00:00 +0000\r\nMessage-ID: <d2@example.com>\r\n' +
      'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n' +
      `--b1\r\nContent-Type: ${type}; name="${name}"\r\nContent-Disposition: attachment; filename="${name}"\r\n` +
      `Content-Transfer-Encoding: base64\r\n\r\n${b64}\r\n--b1--\r\n`,
  );
}
