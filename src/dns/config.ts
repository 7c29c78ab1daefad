// Config section "dns": how Postern's own resolver talks to DNS servers and caches answers.
// Schema only; it must never perform lookups itself.
import { z } from 'zod';

export const dnsConfigSchema = z
  .object({
    servers: z
      .array(z.string().min(1))
      .default([])
      .describe(
        'DNS servers as "addr", "addr:port" or "[v6addr]:port". Empty = the system resolver (/etc/resolv.conf); ' +
          'DNSBL operators usually require a local caching resolver, not a public one.',
      ),
    timeoutMs: z
      .number()
      .int()
      .positive()
      .default(2000)
      .describe('Per-try timeout. SMTP clients wait ~5 min per command; 2 s keeps a slow DNS from holding sessions.'),
    tries: z
      .number()
      .int()
      .min(1)
      .max(5)
      .default(2)
      .describe('Attempts per query (UDP loss happens); total worst case is timeoutMs * tries.'),
    cache: z
      .object({
        maxEntries: z
          .number()
          .int()
          .min(0)
          .default(20000)
          .describe('Bound on cached answers (oldest evicted first) so memory stays flat under a flood of new names. 0 disables the cache.'),
        maxTtlSec: z
          .number()
          .int()
          .positive()
          .default(3600)
          .describe('Upper bound on a positive answer\'s lifetime in our cache, whatever TTL the zone publishes.'),
        defaultTtlSec: z
          .number()
          .int()
          .positive()
          .default(300)
          .describe('Lifetime for answers whose TTL Node does not expose (MX, PTR, TXT); 5 min matches common zone TTLs.'),
        negativeTtlSec: z
          .number()
          .int()
          .min(0)
          .default(300)
          .describe('Lifetime of NXDOMAIN/NODATA answers (RFC 2308 caps negative caching similarly); short so a fixed zone recovers fast.'),
        failureTtlSec: z
          .number()
          .int()
          .min(0)
          .default(5)
          .describe('SERVFAIL/timeout answers are cached only this long: long enough to absorb a burst, short enough to retry soon.'),
      })
      .prefault({})
      .describe('Answer cache (positive and negative), bounded in size and lifetime.'),
  })
  .prefault({});
export type DnsConfig = z.infer<typeof dnsConfigSchema>;
