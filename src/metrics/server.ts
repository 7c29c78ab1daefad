// The HTTP endpoint that serves a registry in Prometheus text format at /metrics (node:http), on the
// configured loopback address. Read-only: GET/HEAD /metrics, a tiny /healthz, 404 for the rest.
import http from 'node:http';
import type { Registry } from 'prom-client';

export interface MetricsServer {
  /** "host:port" actually bound (port 0 in the config gives a free port). */
  readonly address: string;
  close(): Promise<void>;
}

export function parseHostPort(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(listen.trim());
  if (!m) throw new Error(`metrics.listen "${listen}": expected HOST:PORT`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`metrics.listen "${listen}": port out of range`);
  return { host: m[1] ?? m[2]!, port };
}

export async function startMetricsServer(registry: Registry, listen: string): Promise<MetricsServer> {
  const { host, port } = parseHostPort(listen);
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if ((req.method === 'GET' || req.method === 'HEAD') && url === '/metrics') {
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(req.method === 'HEAD' ? undefined : text);
        },
        (err: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`metrics error: ${err instanceof Error ? err.message : String(err)}\n`);
        },
      );
      return;
    }
    if (url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok\n');
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found; metrics are at /metrics\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address();
  const address = a && typeof a === 'object' ? `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}` : listen;
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
