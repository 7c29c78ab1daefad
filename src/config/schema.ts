// The whole configuration schema: one section per module, each with its defaults and reasons.
// This file is the single place every setting is defined (like Postfix's postconf.proto).
import { z } from 'zod';
import { serverConfigSchema } from '../server/config.js';
import { policyConfigSchema } from '../policy/config.js';
import { connectionConfigSchema } from '../policy/connection/config.js';
import { outboundConfigSchema } from '../policy/outbound/config.js';
import { dnsConfigSchema } from '../dns/config.js';
import { stateConfigSchema } from '../state/config.js';
import { contentConfigSchema } from '../content/config.js';

export const logConfigSchema = z
  .object({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('info logs one summary line per message; debug logs every milter command.'),
    file: z.string().default('').describe('Log file path; empty = standard output (journald/syslog pick it up).'),
  })
  .prefault({});

export const metricsConfigSchema = z
  .object({
    enabled: z.boolean().default(false).describe('Serve Prometheus metrics over HTTP.'),
    listen: z.string().default('127.0.0.1:9127').describe('HOST:PORT of the metrics endpoint; loopback by default.'),
  })
  .prefault({});

export const configSchema = z.strictObject({
  server: serverConfigSchema,
  log: logConfigSchema,
  policy: policyConfigSchema,
  connection: connectionConfigSchema,
  dns: dnsConfigSchema,
  state: stateConfigSchema,
  content: contentConfigSchema,
  outbound: outboundConfigSchema,
  metrics: metricsConfigSchema,
});

export type PosternConfig = z.infer<typeof configSchema>;
