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
    listen: z
      .string()
      .regex(/^(\[[0-9a-fA-F:.]+\]|[^\s:\[\]]+):\d{1,5}$/, 'expected HOST:PORT (IPv6 as [addr]:port)')
      .default('127.0.0.1:9127')
      .describe('HOST:PORT of the metrics endpoint (/metrics); loopback by default: the numbers reveal traffic patterns.'),
    abnormal: z
      .object({
        enabled: z.boolean().default(true).describe('Log a warning when the rejection rate of one client network or one rule jumps far above its baseline ("watch the logs for abnormal rejections"). Works with or without the HTTP endpoint.'),
        recentWindowSec: z.number().int().min(10).default(300).describe('The recent window whose rejection rate is compared; 5 minutes catches a burst while it happens.'),
        baselineWindowSec: z.number().int().min(60).default(21600).describe('The longer window (before the recent one) that sets the normal rate; 6 hours smooths out ordinary ups and downs.'),
        factor: z.number().min(1).default(5).describe('Warn when the recent rate exceeds the baseline rate this many times; 5x is far above normal variation.'),
        minCount: z.number().int().min(1).default(20).describe('Rejections needed in the recent window before any warning: a handful of rejections is never news.'),
        cooldownSec: z.number().int().min(0).default(900).describe('At most one warning per network or rule in this time, so a flood does not flood the log too.'),
        maxKeys: z.number().int().min(10).default(10000).describe('Networks and rules tracked at once (least recently seen dropped first): memory stays bounded under address spraying.'),
      })
      .prefault({})
      .describe('Abnormal rejection warnings, per client network (/24 IPv4, /48 IPv6) and per rule.'),
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
