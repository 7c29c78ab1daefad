// Text collected piece by piece up to a number of characters, joined once at the end: the output of
// the document readers (xml-text.ts, rtf-text.ts), which stop reading once it is full.

export class CappedText {
  private readonly pieces: string[] = [];
  private used = 0;
  /** True once a piece did not fit: the text is cut at `max` characters. */
  cut = false;

  constructor(readonly max: number) {}

  /** Characters held. */
  get length(): number {
    return this.used;
  }

  /** Adds what fits of `piece`; returns the part kept. */
  push(piece: string): string {
    if (this.cut || piece.length === 0) return '';
    if (this.used + piece.length > this.max) {
      piece = piece.slice(0, Math.max(0, this.max - this.used));
      this.cut = true;
    }
    if (piece.length > 0) this.pieces.push(piece);
    this.used += piece.length;
    return piece;
  }

  text(): string {
    return this.pieces.join('');
  }

  /** The note a reader reports when the text was cut. */
  get cutNote(): string {
    return `document text cut at ${this.max} characters`;
  }
}
