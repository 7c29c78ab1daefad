// What a document text reader returns: the text a reader of the file would see, and what it could not read.

export interface DocumentText {
  text: string;
  /** Set when text may be missing: says what was cut or could not be read. Absent when all was read. */
  truncated?: string;
}
