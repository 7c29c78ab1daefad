// Config section "server": where Postern listens and how it treats each milter connection.
import { z } from 'zod';
import { DEFAULT_LISTEN } from './socket-spec.js';

export const serverConfigSchema = z
  .object({
    listen: z
      .string()
      .default(DEFAULT_LISTEN)
      .describe('Milter socket: inet:PORT@HOST, inet6:PORT@HOST, inet:HOST:PORT or unix:/path. Loopback by default so nothing outside the host can reach the filter.'),
    unixMode: z
      .string()
      .regex(/^0?[0-7]{3}$/)
      .default('0660')
      .describe('File mode of a unix socket: owner and group (add the MTA user to the group).'),
    maxConnections: z
      .number()
      .int()
      .positive()
      .default(2000)
      .describe('Milter connections served at once (one per SMTP session); past it a connection is closed and the MTA applies milter_default_action (tempfail). Protects file descriptors and memory.'),
    maxFrameBytes: z
      .number()
      .int()
      .min(65536)
      .default(1024 * 1024 + 1)
      .describe('Largest milter frame accepted; larger is a protocol error that closes that connection. 1 MiB covers MTAs that send big macro/header frames.'),
    timeouts: z
      .object({
        connectMs: z.number().int().positive().default(20000).describe('CONNECT step budget; below Postfix milter_command_timeout (30 s) so Postern answers before the MTA gives up.'),
        commandMs: z.number().int().positive().default(20000).describe('HELO/MAIL/RCPT/DATA step budget; below Postfix milter_command_timeout (30 s).'),
        contentMs: z.number().int().positive().default(60000).describe('Header/body step budget.'),
        eomMs: z.number().int().positive().default(240000).describe('End-of-message budget (content scanning); below Postfix milter_content_timeout (300 s).'),
        idleMs: z
          .number()
          .int()
          .positive()
          .default(3600000)
          .describe(
            'Close a milter connection that sends no frame for this long between frames (logged, counted in ' +
              'postern_connection_timeouts_total{kind="idle"}). Long on purpose: the MTA is waiting on its SMTP ' +
              'client meanwhile — Postfix up to smtpd_timeout (300 s) per command, and it sends the header/body ' +
              'events only after the whole DATA arrived, so a slow client sending a big message leaves the milter ' +
              'connection silent for the whole transfer; sendmail waits up to Timeout.command (1 h). Cutting earlier ' +
              'would tempfail real mail; one hour bounds how long a stuck connection holds a slot.',
          ),
        firstFrameMs: z
          .number()
          .int()
          .positive()
          .default(30000)
          .describe(
            'Close a connection whose first milter frame (option negotiation) is not complete this long after it ' +
              'opened. Postfix and sendmail negotiate at once on connecting (Postfix gives up itself after ' +
              'milter_connect_timeout, 30 s), so a silent new connection is not an MTA and must not hold a slot.',
          ),
        frameMs: z
          .number()
          .int()
          .positive()
          .default(300000)
          .describe(
            'Close a connection that began a frame and did not finish it this long after its first byte (more ' +
              'bytes of it do not restart the clock, so a trickle cannot hold a slot). MTAs write each frame in one ' +
              'go and give up themselves after milter_content_timeout (300 s).',
          ),
      })
      .prefault({}),
    highWaterBytes: z.number().int().positive().default(1024 * 1024).describe('Stop reading from an MTA connection when this many bytes wait to be processed (backpressure); small, because it is per connection.'),
    spoolThresholdBytes: z.number().int().positive().default(8 * 1024 * 1024).describe('Messages larger than this are spooled to a temporary file instead of memory.'),
    memoryBudgetBytes: z
      .number()
      .int()
      .positive()
      .default(32 * 1024 * 1024)
      .describe('All messages being received together keep at most this much in memory; past it, new message data goes to spool files. Bounds memory whatever the number of sessions.'),
    spoolDir: z.string().default('').describe('Directory for spooled messages; empty = the system temp directory.'),
    shutdownGraceMs: z.number().int().positive().default(30000).describe('On SIGTERM, how long in-flight messages may take before connections are cut.'),
  })
  .prefault({});
export type ServerConfig = z.infer<typeof serverConfigSchema>;
