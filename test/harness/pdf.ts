// A small PDF builder for tests: objects numbered from 1, Flate streams, an xref table and a trailer,
// and pages drawing text with Helvetica — enough to make PDFs that hold exactly what a test needs.
import zlib from 'node:zlib';

/** An object body, or a stream: its dictionary entries (without << >> and /Length) and its data. */
export type Obj = string | { dict: string; data: Buffer | string };

/** A PDF of `objs` numbered from 1 (object 1 is the catalog), with an xref table and a trailer. */
export function buildPdf(objs: Obj[], opts: { trailer?: string; xref?: boolean } = {}): Buffer {
  const parts: Buffer[] = [Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  let size = parts[0]!.length;
  const offsets: number[] = [];
  const add = (b: Buffer): void => {
    parts.push(b);
    size += b.length;
  };
  objs.forEach((o, i) => {
    offsets.push(size);
    if (typeof o === 'string') {
      add(Buffer.from(`${i + 1} 0 obj\n${o}\nendobj\n`, 'latin1'));
    } else {
      const data = typeof o.data === 'string' ? Buffer.from(o.data, 'latin1') : o.data;
      add(Buffer.from(`${i + 1} 0 obj\n<< ${o.dict} /Length ${data.length} >>\nstream\n`, 'latin1'));
      add(data);
      add(Buffer.from('\nendstream\nendobj\n'));
    }
  });
  const xrefAt = size;
  if (opts.xref !== false) {
    const rows = offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('');
    add(Buffer.from(`xref\n0 ${objs.length + 1}\n0000000000 65535 f \n${rows}`));
  }
  add(Buffer.from(`trailer\n<< /Size ${objs.length + 1} /Root 1 0 R ${opts.trailer ?? ''} >>\nstartxref\n${xrefAt}\n%%EOF\n`));
  return Buffer.concat(parts);
}

export const flate = (content: string | Buffer): { dict: string; data: Buffer } => ({
  dict: '/Filter /FlateDecode',
  data: zlib.deflateSync(typeof content === 'string' ? Buffer.from(content, 'latin1') : content),
});

/** Helvetica with its real widths for space and digits (others 556), as a PDF writer would emit it. */
export const HELVETICA = `<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding /FirstChar 32 /LastChar 57 /Widths [278 ${'556 '.repeat(
  15,
)}${'556 '.repeat(10)}] >>`;

/** One or more pages, each drawing its content with font /F1 (`font`, Helvetica by default). */
export function pagesPdf(contents: Obj[], font = HELVETICA, extra: Obj[] = [], opts: { trailer?: string } = {}): Buffer {
  const n = contents.length;
  const first = 3 + 1; // catalog, pages, font, then page/content pairs
  const kids = contents.map((_, i) => `${first + i * 2} 0 R`).join(' ');
  const objs: Obj[] = ['<< /Type /Catalog /Pages 2 0 R >>', `<< /Type /Pages /Kids [${kids}] /Count ${n} >>`, font];
  contents.forEach((c, i) => {
    objs.push(`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents ${first + i * 2 + 1} 0 R >>`);
    objs.push(c);
  });
  return buildPdf([...objs, ...extra], opts);
}

/** `n` Luhn-valid 16-digit card numbers starting with 4 (seeded by their index: the same every run). */
export function luhnCards(n = 12): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < n; i++) {
    const body = `4${String(1000_0000_0000_00 + i * 7919_3).padStart(14, '0').slice(0, 14)}`;
    for (let d = 0; d < 10; d++) {
      const c = body + d;
      let sum = 0;
      for (let k = 0; k < 16; k++) {
        let v = +c[15 - k]!;
        if (k % 2 === 1) v = v * 2 > 9 ? v * 2 - 9 : v * 2;
        sum += v;
      }
      if (sum % 10 === 0) {
        out.push(c);
        break;
      }
    }
  }
  return out;
}

/**
 * A PDF from raw object chunks, each written as given (its own `N G obj` header, however odd) with its
 * number for the xref table; `prefix` goes before `%PDF-`, `tail` after `%%EOF` (an appended update).
 */
export function rawPdf(chunks: Array<{ num: number; text: string | Buffer }>, opts: { trailer?: string; prefix?: string; tail?: string; header?: string } = {}): Buffer {
  const parts: Buffer[] = [Buffer.from(`${opts.prefix ?? ''}${opts.header ?? '%PDF-1.7\n%\xe2\xe3\xcf\xd3\n'}`, 'latin1')];
  let size = parts[0]!.length;
  const offsets = new Map<number, number>();
  for (const c of chunks) {
    offsets.set(c.num, size);
    const b = typeof c.text === 'string' ? Buffer.from(c.text, 'latin1') : c.text;
    parts.push(b, Buffer.from('\n'));
    size += b.length + 1;
  }
  const max = Math.max(0, ...offsets.keys());
  let rows = '0000000000 65535 f \n';
  for (let k = 1; k <= max; k++) rows += offsets.has(k) ? `${String(offsets.get(k)).padStart(10, '0')} 00000 n \n` : '0000000000 65535 f \n';
  parts.push(Buffer.from(`xref\n0 ${max + 1}\n${rows}trailer\n<< /Size ${max + 1} /Root 1 0 R ${opts.trailer ?? ''} >>\nstartxref\n${size}\n%%EOF\n${opts.tail ?? ''}`, 'latin1'));
  return Buffer.concat(parts);
}

/** An object chunk for rawPdf: `N 0 obj` then a body or a stream (deflated when `deflate`). */
export function chunk(num: number, body: Obj, deflate = false): { num: number; text: Buffer } {
  if (typeof body === 'string') return { num, text: Buffer.from(`${num} 0 obj\n${body}\nendobj`, 'latin1') };
  let data = typeof body.data === 'string' ? Buffer.from(body.data, 'latin1') : body.data;
  let dict = body.dict;
  if (deflate) {
    data = zlib.deflateSync(data);
    dict = `/Filter /FlateDecode ${dict}`;
  }
  return { num, text: Buffer.concat([Buffer.from(`${num} 0 obj\n<< ${dict} /Length ${data.length} >>\nstream\n`, 'latin1'), data, Buffer.from('\nendstream\nendobj')]) };
}
