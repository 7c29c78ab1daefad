// Text collected piece by piece up to a number of characters, joined once at the end: the output of
// the document readers (xml-text.ts, rtf-text.ts), which stop reading once it is full.

export class CappedText {
  private readonly pieces: string[] = [];
  private length = 0;
  /** True once a piece did not fit: the text is cut at `max` characters. */
  cut = false;

  constructor(readonly max: number) {}

  push(piece: string): void {
    if (this.cut || piece.length === 0) return;
    if (this.length + piece.length > this.max) {
      this.pieces.push(piece.slice(0, Math.max(0, this.max - this.length)));
      this.length = this.max;
      this.cut = true;
      return;
    }
    this.pieces.push(piece);
    this.length += piece.length;
  }

  text(): string {
    return this.pieces.join('');
  }

  /** The note a reader reports when the text was cut. */
  get cutNote(): string {
    return `document text cut at ${this.max} characters`;
  }
}
