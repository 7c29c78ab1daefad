// An SMTP sink for end-to-end tests: the MTA under test relays every message here, and the test
// reads back exactly what arrived (envelope, raw bytes, parsed headers, body).
// Chosen over Postfix's smtp-sink -d because a message is recorded only after its final "." and
// before the 250 reply goes out, so "delivered" never sees a half-written dump file, and the raw
// bytes are kept as sent (no extra Received: header, CRLF kept). Listens on loopback only.
// It must never relay anything anywhere: it only stores.
import net from 'node:net';

export interface SinkEnvelope {
  clientAddr: string;
  helo: string;
  /** Address inside MAIL FROM:<...>, without the brackets ('' for the null sender). */
  mailFrom: string;
  /** ESMTP parameters after MAIL FROM (e.g. "BODY=8BITMIME SIZE=123"). */
  mailParams: string;
  rcptTo: string[];
}

export interface HeaderField {
  /** Name as written. */
  name: string;
  /** Unfolded value, leading white space removed. */
  value: string;
  /** The field exactly as received, folding kept, without the final line end. */
  raw: string;
}

export interface DeliveredMessage {
  envelope?: SinkEnvelope;
  /** The message as received after un-dot-stuffing (line ends as the client sent them). */
  raw: Buffer;
  headers: HeaderField[];
  /** All values of a header (case-insensitive name), in order. */
  header(name: string): string[];
  body: Buffer;
  /** Where it came from: 'sink' or a file path. */
  source: string;
}

/** Split a raw RFC 5322 message into header fields and body. Tolerates LF-only line ends. */
export function parseMessage(raw: Buffer, source = 'sink', envelope?: SinkEnvelope): DeliveredMessage {
  const text = raw.toString('latin1');
  let sep = -1;
  let sepLen = 0;
  const m = /\r?\n\r?\n/.exec(text);
  if (text.startsWith('\r\n')) { sep = 0; sepLen = 2; }
  else if (text.startsWith('\n')) { sep = 0; sepLen = 1; }
  else if (m) { sep = m.index; sepLen = m[0].length; }
  const headText = sep < 0 ? text : text.slice(0, sep);
  const body = sep < 0 ? Buffer.alloc(0) : raw.subarray(sep + sepLen);
  const headers: HeaderField[] = [];
  for (const line of headText.split(/\r?\n/)) {
    if (line === '') continue;
    if ((line.startsWith(' ') || line.startsWith('\t')) && headers.length > 0) {
      const h = headers[headers.length - 1]!;
      h.raw += '\r\n' + line;
      h.value += line;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = Buffer.from(line.slice(0, colon), 'latin1').toString('utf8');
    const value = Buffer.from(line.slice(colon + 1).replace(/^[ \t]+/, ''), 'latin1').toString('utf8');
    headers.push({ name, value, raw: line });
  }
  for (const h of headers) {
    h.raw = Buffer.from(h.raw, 'latin1').toString('utf8');
    h.value = Buffer.from(h.value, 'latin1').toString('utf8').replace(/\r\n/g, '');
  }
  return {
    ...(envelope ? { envelope } : {}),
    raw,
    headers,
    header: (name: string) => headers.filter((h) => h.name.toLowerCase() === name.toLowerCase()).map((h) => h.value),
    body,
    source,
  };
}

export interface SinkOptions {
  host?: string;
  port?: number;
  /** Optional reply for a recipient (e.g. '550 5.1.1 no such user'); undefined ⇒ 250. */
  rcptReply?: (addr: string) => string | undefined;
  /** Optional reply after the final dot; undefined ⇒ 250. */
  dataReply?: (msg: DeliveredMessage) => string | undefined;
}

export interface Sink {
  port: number;
  host: string;
  /** Messages received so far, oldest first. */
  messages: DeliveredMessage[];
  /** Resolve with the messages once at least n arrived; reject after timeoutMs. */
  waitFor(n: number, timeoutMs?: number): Promise<DeliveredMessage[]>;
  clear(): void;
  stop(): Promise<void>;
}

const MAX_LINE = 1_000_000;

export async function startSink(opts: SinkOptions = {}): Promise<Sink> {
  const host = opts.host ?? '127.0.0.1';
  const messages: DeliveredMessage[] = [];
  const waiters = new Set<() => void>();
  const sockets = new Set<net.Socket>();

  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => { /* client vanished */ });
    let buf: Buffer = Buffer.alloc(0);
    let inData = false;
    let dataLines: Buffer[] = [];
    const env: SinkEnvelope = { clientAddr: sock.remoteAddress ?? '', helo: '', mailFrom: '', mailParams: '', rcptTo: [] };
    let haveMail = false;
    const reply = (s: string) => { if (!sock.destroyed) sock.write(s + '\r\n'); };
    reply('220 sink.postern.test ESMTP');

    const command = (line: string) => {
      const verb = line.split(' ', 1)[0]!.toUpperCase();
      const arg = line.slice(verb.length).trim();
      switch (verb) {
        case 'EHLO':
          env.helo = arg;
          reply('250-sink.postern.test\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-ENHANCEDSTATUSCODES\r\n250 SIZE 0');
          break;
        case 'HELO': env.helo = arg; reply('250 sink.postern.test'); break;
        case 'MAIL': {
          const m = /^FROM:\s*<([^>]*)>\s*(.*)$/i.exec(arg);
          if (!m) { reply('501 5.5.4 Syntax: MAIL FROM:<address>'); break; }
          env.mailFrom = m[1]!; env.mailParams = m[2]!; env.rcptTo = []; haveMail = true;
          reply('250 2.1.0 Ok');
          break;
        }
        case 'RCPT': {
          const m = /^TO:\s*<([^>]*)>/i.exec(arg);
          if (!haveMail) { reply('503 5.5.1 Error: need MAIL command'); break; }
          if (!m) { reply('501 5.5.4 Syntax: RCPT TO:<address>'); break; }
          const r = opts.rcptReply?.(m[1]!);
          if (r) { reply(r); break; }
          env.rcptTo.push(m[1]!);
          reply('250 2.1.5 Ok');
          break;
        }
        case 'DATA':
          if (env.rcptTo.length === 0) { reply('554 5.5.1 Error: no valid recipients'); break; }
          inData = true; dataLines = [];
          reply('354 End data with <CR><LF>.<CR><LF>');
          break;
        case 'RSET': haveMail = false; env.rcptTo = []; reply('250 2.0.0 Ok'); break;
        case 'NOOP': reply('250 2.0.0 Ok'); break;
        case 'QUIT': reply('221 2.0.0 Bye'); sock.end(); break;
        default: reply('502 5.5.2 Error: command not recognized');
      }
    };

    const endOfData = () => {
      inData = false;
      const raw = Buffer.concat(dataLines);
      dataLines = [];
      const msg = parseMessage(raw, 'sink', { ...env, rcptTo: [...env.rcptTo] });
      const r = opts.dataReply?.(msg);
      if (r && !r.startsWith('2')) { reply(r); } else {
        messages.push(msg);
        for (const w of [...waiters]) w();
        reply(r ?? `250 2.0.0 Ok: queued as S${messages.length}`);
      }
      haveMail = false; env.rcptTo = [];
    };

    sock.on('data', (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      for (;;) {
        const nl = buf.indexOf(0x0a);
        if (nl < 0) {
          if (buf.length > MAX_LINE && !inData) sock.destroy();
          return;
        }
        const line = buf.subarray(0, nl + 1);
        buf = buf.subarray(nl + 1);
        if (inData) {
          const s = line.toString('latin1');
          if (s === '.\r\n' || s === '.\n') { endOfData(); continue; }
          dataLines.push(line[0] === 0x2e ? line.subarray(1) : line);
        } else {
          command(line.toString('utf8').replace(/\r?\n$/, ''));
        }
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;

  return {
    port,
    host,
    messages,
    waitFor(n: number, timeoutMs = 15000) {
      if (messages.length >= n) return Promise.resolve([...messages]);
      return new Promise((resolve, reject) => {
        const check = () => {
          if (messages.length >= n) { clearTimeout(t); waiters.delete(check); resolve([...messages]); }
        };
        const t = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`sink: ${messages.length} of ${n} message(s) after ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
      });
    },
    clear() { messages.length = 0; },
    stop() {
      return new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      });
    },
  };
}
