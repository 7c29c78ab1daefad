// Config section "state": where rate and concurrency counters live. Schema only.
import { z } from 'zod';

export const stateConfigSchema = z
  .object({
    backend: z
      .enum(['memory', 'redis'])
      .default('memory')
      .describe('memory: per-process counters, no dependency. redis: counters shared by every Postern instance (needed once you run more than one).'),
    redis: z
      .object({
        url: z
          .string()
          .default('redis://127.0.0.1:6379/0')
          .describe('Redis URL (redis:// or rediss://); loopback default because counters are not worth a network hop in a single-host setup.'),
        keyPrefix: z
          .string()
          .default('postern:')
          .describe('Prefix of every key, so Postern can share a Redis database with other software.'),
        commandTimeoutMs: z
          .number()
          .int()
          .positive()
          .default(500)
          .describe('A counter that cannot be read within this time is a failed check (fail action), not a stalled SMTP session.'),
        connectTimeoutMs: z
          .number()
          .int()
          .positive()
          .default(2000)
          .describe('Connection attempt bound; while Redis is down, commands fail fast instead of queueing.'),
      })
      .prefault({})
      .describe('Redis backend settings (used when backend is "redis").'),
  })
  .prefault({});
export type StateConfig = z.infer<typeof stateConfigSchema>;
