// Test harness: a small authoritative DNS server on a loopback UDP port (and TCP on the same port for
// truncated answers), serving zones given as data: A, AAAA, MX, PTR, TXT, CNAME, NXDOMAIN, SERVFAIL,
// REFUSED, slow or never-answered names, wildcards and DNSBL-style zones. It counts queries so tests can
// assert caching. It must never forward or recurse: unknown names are NXDOMAIN, never the real Internet.
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import { reversedLabels } from '../../src/dns/reverse.js';

export type RrType = 'A' | 'AAAA' | 'MX' | 'PTR' | 'TXT' | 'CNAME';
export type Rr =
  | { type: 'A' | 'AAAA' | 'PTR' | 'CNAME'; data: string; ttl?: number }
  | { type: 'TXT'; data: string | string[]; ttl?: number }
  | { type: 'MX'; data: { preference: number; exchange: string }; ttl?: number };
export type Rcode = 'NXDOMAIN' | 'SERVFAIL' | 'REFUSED';

const RCODE: Record<Rcode, number> = { NXDOMAIN: 3, SERVFAIL: 2, REFUSED: 5 };

export interface DnsblZoneSpec {
  zone: string;
  /** Listed client addresses (IPv4 or IPv6) and their return codes (default ["127.0.0.2"]). */
  listed?: Record<string, string[]>;
  /** Serve the RFC 5782 test entry 127.0.0.2 (default true). */
  canary?: boolean;
  /** Answer every name under the zone with this address (a broken list that lists everything). */
  answerAll?: string;
}

export interface DnsServerOptions {
  /** name → records. Names are case-insensitive, without trailing dot; "*.zone" is a wildcard. */
  records?: Record<string, Rr[]>;
  /** name → forced response code. */
  rcodes?: Record<string, Rcode>;
  /** name → answer delay in ms; Infinity = never answer (a timeout). */
  delays?: Record<string, number>;
  dnsbl?: DnsblZoneSpec[];
}

export interface TestDnsServer {
  readonly port: number;
  /** "127.0.0.1:PORT", ready for dns.servers / Resolver.setServers. */
  readonly server: string;
  /** Every question received, in order. */
  readonly queries: { name: string; type: string }[];
  /** Questions for `name` (and `type` if given). */
  count(name?: string, type?: string): number;
  resetCounts(): void;
  set(name: string, records: Rr[]): void;
  remove(name: string): void;
  setRcode(name: string, rcode: Rcode | undefined): void;
  setDelay(name: string, ms: number | undefined): void;
  addDnsblZone(spec: DnsblZoneSpec): void;
  close(): Promise<void>;
}

const norm = (n: string): string => n.toLowerCase().replace(/\.$/, '');

export async function startDnsServer(opts: DnsServerOptions = {}): Promise<TestDnsServer> {
  const records = new Map<string, Rr[]>();
  const rcodes = new Map<string, Rcode>();
  const delays = new Map<string, number>();
  const queries: { name: string; type: string }[] = [];
  const timers = new Set<NodeJS.Timeout>();

  for (const [n, rr] of Object.entries(opts.records ?? {})) records.set(norm(n), [...rr]);
  for (const [n, c] of Object.entries(opts.rcodes ?? {})) rcodes.set(norm(n), c);
  for (const [n, d] of Object.entries(opts.delays ?? {})) delays.set(norm(n), d);

  const addDnsblZone = (spec: DnsblZoneSpec): void => {
    const z = norm(spec.zone);
    if (spec.canary !== false) records.set(`2.0.0.127.${z}`, [{ type: 'A', data: '127.0.0.2' }, { type: 'TXT', data: 'test entry' }]);
    for (const [ip, codes] of Object.entries(spec.listed ?? {})) {
      const l = reversedLabels(ip);
      if (l === undefined) throw new Error(`dns-server: bad DNSBL address ${ip}`);
      records.set(`${l}.${z}`, (codes.length ? codes : ['127.0.0.2']).map((c) => ({ type: 'A', data: c }) as Rr));
    }
    if (spec.answerAll !== undefined) records.set(`*.${z}`, [{ type: 'A', data: spec.answerAll }]);
  };
  for (const z of opts.dnsbl ?? []) addDnsblZone(z);

  const lookup = (name: string): Rr[] | undefined => {
    const exact = records.get(name);
    if (exact !== undefined) return exact;
    for (let i = name.indexOf('.'); i >= 0; i = name.indexOf('.', i + 1)) {
      const w = records.get(`*${name.slice(i)}`);
      if (w !== undefined) return w;
    }
    return undefined;
  };

  const answer = (query: Buffer): Buffer | undefined => {
    let q: dnsPacket.DecodedPacket;
    try {
      q = dnsPacket.decode(query);
    } catch {
      return undefined;
    }
    const question = q.questions?.[0];
    if (question === undefined) return undefined;
    const name = norm(question.name);
    queries.push({ name, type: question.type });
    const base = { id: q.id, type: 'response' as const, questions: q.questions };
    const rd = (q.flags ?? 0) & dnsPacket.RECURSION_DESIRED;
    const forced = rcodes.get(name);
    if (forced !== undefined) return dnsPacket.encode({ ...base, flags: dnsPacket.AUTHORITATIVE_ANSWER | rd | RCODE[forced] });
    const rrs = lookup(name);
    if (rrs === undefined) return dnsPacket.encode({ ...base, flags: dnsPacket.AUTHORITATIVE_ANSWER | rd | RCODE.NXDOMAIN });
    const cname = rrs.find((r) => r.type === 'CNAME');
    const matching = rrs.filter((r) => r.type === question.type);
    const answers = matching.map((r) => ({ name: question.name, type: r.type, class: 'IN' as const, ttl: r.ttl ?? 300, data: r.data }));
    if (matching.length === 0 && cname !== undefined && question.type !== 'CNAME') {
      // Chase one CNAME inside our own data, as an authoritative server with both names would.
      const target = norm(cname.data as string);
      answers.push({ name: question.name, type: 'CNAME', class: 'IN', ttl: cname.ttl ?? 300, data: cname.data });
      for (const r of lookup(target) ?? []) {
        if (r.type === question.type) answers.push({ name: target, type: r.type, class: 'IN', ttl: r.ttl ?? 300, data: r.data });
      }
    }
    return dnsPacket.encode({ ...base, flags: dnsPacket.AUTHORITATIVE_ANSWER | rd, answers: answers as dnsPacket.Answer[] });
  };

  const delayFor = (query: Buffer): number => {
    try {
      const n = dnsPacket.decode(query).questions?.[0]?.name;
      return n === undefined ? 0 : (delays.get(norm(n)) ?? 0);
    } catch {
      return 0;
    }
  };

  const respond = (query: Buffer, send: (b: Buffer) => void): void => {
    const d = delayFor(query);
    if (d === Infinity) {
      answer(query); // counted, never answered
      return;
    }
    const go = (): void => {
      const out = answer(query);
      if (out !== undefined) send(out);
    };
    if (d > 0) {
      const t = setTimeout(() => {
        timers.delete(t);
        go();
      }, d);
      timers.add(t);
    } else go();
  };

  const udp = dgram.createSocket('udp4');
  udp.on('message', (msg, rinfo) => {
    respond(msg, (out) => {
      // Truncate (TC) when over the classic 512-byte UDP limit; the client retries over TCP.
      if (out.length > 512) {
        const qd = dnsPacket.decode(msg);
        const withQ = dnsPacket.encode({ id: qd.id, type: 'response', flags: dnsPacket.TRUNCATED_RESPONSE | dnsPacket.AUTHORITATIVE_ANSWER, questions: qd.questions });
        udp.send(withQ, rinfo.port, rinfo.address);
        return;
      }
      udp.send(out, rinfo.port, rinfo.address);
    });
  });
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(0, '127.0.0.1', () => resolve());
  });
  const port = udp.address().port;

  // TCP on the same port (best effort: if the TCP port is taken, UDP alone still works for small answers).
  const sockets = new Set<net.Socket>();
  const tcp = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        respond(Buffer.from(msg), (out) => {
          const hdr = Buffer.alloc(2);
          hdr.writeUInt16BE(out.length, 0);
          if (!sock.destroyed) sock.write(Buffer.concat([hdr, out]));
        });
      }
    });
  });
  await new Promise<void>((resolve) => {
    tcp.once('error', () => resolve());
    tcp.listen(port, '127.0.0.1', () => resolve());
  });

  return {
    port,
    server: `127.0.0.1:${port}`,
    queries,
    count(name?: string, type?: string): number {
      const n = name === undefined ? undefined : norm(name);
      return queries.filter((q) => (n === undefined || q.name === n) && (type === undefined || q.type === type)).length;
    },
    resetCounts(): void {
      queries.length = 0;
    },
    set(name: string, rr: Rr[]): void {
      records.set(norm(name), [...rr]);
    },
    remove(name: string): void {
      records.delete(norm(name));
    },
    setRcode(name: string, rcode: Rcode | undefined): void {
      if (rcode === undefined) rcodes.delete(norm(name));
      else rcodes.set(norm(name), rcode);
    },
    setDelay(name: string, ms: number | undefined): void {
      if (ms === undefined) delays.delete(norm(name));
      else delays.set(norm(name), ms);
    },
    addDnsblZone,
    async close(): Promise<void> {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      await new Promise<void>((resolve) => (tcp.listening ? tcp.close(() => resolve()) : resolve()));
    },
  };
}
