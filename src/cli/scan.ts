// `postern scan`: run the whole policy (every layer, the server's code path) on message files without
// an MTA, print the verdict, reply, every rule that fired with where and why, header changes and
// timings; the exit code tells the verdict class. The usage text and exit codes are a contract.
// It must never hide that a check could not run: a tempfail from clamd.unavailable is a verdict.
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { ConfigError, defaultConfig, loadConfigFile } from '../config/load.js';
import type { PosternConfig } from '../config/schema.js';
import { createLogger, type Logger } from '../log/logger.js';
import { buildRuntime, type Runtime } from '../service.js';
import { NOT_A_MESSAGE, ScanInputError, collectItems, type ScanItem } from './scan-input.js';
import { ScanObserver, scanMessage, type ScanOptions, type ScanResult, type ScanVerdict } from './scan-run.js';
import { formatHuman, formatLine, formatSkipped, formatTotals } from './scan-format.js';

export const SCAN_USAGE = `usage: postern scan FILE|DIR|MBOX [options]

Runs the whole policy (connection, content, outbound: the same code as the server) on messages
without an MTA and prints the verdict, the SMTP reply, every rule that fired (where and why), the
header changes and timings. A folder is scanned recursively; an mbox is split on "From " lines.
In a folder only files that look like messages are scanned: named .eml (or a .msg that is not an
Outlook item), an mbox, or starting with a header field ("Name: value"); the others (archives,
images, programs...) are listed as "skipped (not a message)" and counted, never scanned and never
an error. A FILE named on the command line is always scanned. Several messages (or any skipped
file) print one line each plus totals.

options:
  --config, -c FILE     config file (default: the embedded defaults)
  --from ADDR           envelope sender (default: Return-Path or From of the message, else sender@example.com)
  --rcpt ADDR           envelope recipient, repeatable (default: the To addresses, else recipient@example.com)
  --client-ip IP        SMTP client address (default 192.0.2.1: TEST-NET, outside, so mail is inbound)
  --client-name NAME    client host name as verified by the MTA (default "[IP]": no reverse name)
  --helo NAME           HELO/EHLO name (default scan.invalid)
  --auth LOGIN          scan as mail submitted by an authenticated user (SASL login)
  --rcpt-mailer NAME    the MTA's {rcpt_mailer} for every recipient (e.g. "local"); unset by default,
                        so set outbound.localDomains in the config to classify recipients (else
                        outbound.rcpt-unclassified tempfails inbound mail, as the server would)
  --offline             turn off the checks that need the network (DNS-based rules, DNSBL, clamd)
                        and say so in the output; without it they run and their failures show
  --json                one JSON object per message (several messages: one per line, then a totals object);
                        a skipped file is {"file": ..., "skipped": "not a message"}, counted in totals.skipped
  --log-level LEVEL     engine log lines on stderr (default warn)
  --help, -h            this text

The embedded defaults query DNS (sender domain, reverse DNS) and clamd (content.clamd.address,
default unix:/var/run/clamav/clamd.ctl). When they are unreachable the verdict is what the server
would give: tempfail (sender.dns-temp, clamd.unavailable). Point them elsewhere in the config file
(dns.servers: ["127.0.0.1:53"], content.clamd.address: "tcp:127.0.0.1:3310"), or switch them off
(content.clamd.enabled: false; connection.sender.dnsTemp.action: off ...) or use --offline.

exit codes (several messages: the most severe verdict; an error beats every verdict; skipped files
do not count, but a folder with no message at all is an error):
  0 accept   1 error (bad file or config)   2 usage
  10 reject  11 tempfail  12 quarantine  13 discard
`;

export const EXIT_CODES: Record<ScanVerdict, number> = { accept: 0, reject: 10, tempfail: 11, quarantine: 12, discard: 13 };
/** Order for "most severe" over several messages (error ranks above all). */
const RANK: Record<ScanVerdict, number> = { accept: 0, quarantine: 1, tempfail: 2, discard: 3, reject: 4 };

export async function runScan(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        from: { type: 'string' },
        rcpt: { type: 'string', multiple: true },
        'client-ip': { type: 'string' },
        'client-name': { type: 'string' },
        helo: { type: 'string' },
        auth: { type: 'string' },
        'rcpt-mailer': { type: 'string' },
        offline: { type: 'boolean' },
        json: { type: 'boolean' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    process.stderr.write(`postern scan: ${err instanceof Error ? err.message : String(err)}\n${SCAN_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(SCAN_USAGE);
    return 0;
  }
  if (positionals.length === 0) {
    process.stderr.write(`postern scan: no message file given\n${SCAN_USAGE}`);
    return 2;
  }
  const clientIp = values['client-ip'] ?? '192.0.2.1';
  if (isIP(clientIp) === 0) {
    process.stderr.write(`postern scan: --client-ip "${clientIp}" is not an IPv4 or IPv6 address\n`);
    return 2;
  }
  const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
  const level = values['log-level'] ?? 'warn';
  if (!levels.includes(level)) {
    process.stderr.write(`postern scan: --log-level must be one of ${levels.join(', ')}\n`);
    return 2;
  }

  let config: PosternConfig;
  try {
    config = values.config ? loadConfigFile(values.config).config : defaultConfig();
  } catch (err) {
    process.stderr.write(`${err instanceof ConfigError ? err.message : `postern scan: ${String(err)}`}\n`);
    return 1;
  }
  const notes: string[] = [];
  config = scanConfig(config, values.offline === true, notes);

  let items: ScanItem[] = [];
  try {
    for (const p of positionals) items.push(...collectItems(p));
  } catch (err) {
    process.stderr.write(`postern scan: ${err instanceof ScanInputError ? err.message : String(err)}\n`);
    return 1;
  }
  const skippedCount = items.filter((i) => i.skipped !== undefined).length;
  if (items.length === skippedCount) {
    const why = skippedCount > 0 ? ` (${skippedCount} file${skippedCount === 1 ? '' : 's'} skipped: ${NOT_A_MESSAGE})` : '';
    process.stderr.write(`postern scan: no messages found in ${positionals.join(', ')}${why}\n`);
    return 1;
  }

  const logger: Logger = createLogger({ level: level as 'warn', destination: 2 });
  const observer = new ScanObserver();
  let runtime: Runtime;
  try {
    runtime = await buildRuntime(config, logger, observer);
  } catch (err) {
    process.stderr.write(`postern scan: ${values.config ?? '(embedded defaults)'}: ${err instanceof Error ? err.message : String(err)}\n`);
    logger.flush();
    return 1;
  }

  const opts: ScanOptions = {
    clientIp,
    helo: values.helo ?? 'scan.invalid',
    ...(values.from !== undefined ? { from: values.from.replace(/^<(.*)>$/, '$1') } : {}),
    ...(values.rcpt ? { rcpts: values.rcpt.map((r) => r.replace(/^<(.*)>$/, '$1')) } : {}),
    ...(values['client-name'] !== undefined ? { clientName: values['client-name'] } : {}),
    ...(values.auth !== undefined ? { auth: values.auth } : {}),
    ...(values['rcpt-mailer'] !== undefined ? { rcptMailer: values['rcpt-mailer'] } : {}),
  };

  const single = items.length === 1 && skippedCount === 0;
  const out = (s: string) => process.stdout.write(s);
  const results: ScanResult[] = [];
  let errors = 0;
  let worst = -1;
  try {
    if (!values.json && notes.length > 0) for (const n of notes) out(`note: ${n}\n`);
    for (const item of items) {
      if (item.skipped !== undefined) {
        if (values.json) out(`${JSON.stringify({ file: item.file, skipped: item.skipped })}\n`);
        else out(formatSkipped(item.file, item.skipped));
        continue;
      }
      if (item.error !== undefined || !item.raw) {
        errors++;
        if (values.json) out(`${JSON.stringify({ file: item.file, error: item.error ?? 'unreadable' })}\n`);
        else process.stderr.write(`postern scan: ${item.file}: ${item.error ?? 'unreadable'}\n`);
        continue;
      }
      let r: ScanResult;
      try {
        r = await scanMessage(runtime.engine, observer, config, item.file, item.raw, opts);
      } catch (err) {
        errors++;
        const msg = err instanceof Error ? err.message : String(err);
        if (values.json) out(`${JSON.stringify({ file: item.file, error: msg })}\n`);
        else process.stderr.write(`postern scan: ${item.file}: ${msg}\n`);
        continue;
      }
      results.push(r);
      worst = Math.max(worst, RANK[r.verdict]);
      if (values.json) out(`${JSON.stringify(notes.length > 0 ? { ...r, notes } : r)}\n`);
      else out(single ? formatHuman(r) : formatLine(r));
    }
    if (!single) {
      if (values.json) out(`${JSON.stringify({ totals: totals(results, errors, skippedCount) })}\n`);
      else out(formatTotals(totals(results, errors, skippedCount)));
    }
  } finally {
    await runtime.modules.dispose();
    logger.flush();
  }
  if (errors > 0) return 1;
  const verdict = (Object.keys(RANK) as ScanVerdict[]).find((v) => RANK[v] === worst) ?? 'accept';
  return EXIT_CODES[verdict];
}

export interface ScanTotals {
  messages: number;
  errors: number;
  verdicts: Record<ScanVerdict, number>;
  /** Files in a folder that were not messages (not scanned, not in `messages`). */
  skipped: number;
}

function totals(results: readonly ScanResult[], errors: number, skipped: number): ScanTotals {
  const verdicts: Record<ScanVerdict, number> = { accept: 0, reject: 0, tempfail: 0, quarantine: 0, discard: 0 };
  for (const r of results) verdicts[r.verdict]++;
  return { messages: results.length + errors, errors, verdicts, skipped };
}

/**
 * The config scan runs with: the content pipeline in this thread (one message at a time gains
 * nothing from a worker pool but start-up time; the pipeline code is the same), and with --offline
 * the network checks switched off, each named in `notes`.
 */
export function scanConfig(config: PosternConfig, offline: boolean, notes: string[]): PosternConfig {
  const c = structuredClone(config);
  c.content.workers = 0;
  if (!offline) return c;
  const off = (label: string, r: { action: string }) => {
    if (r.action !== 'off') {
      r.action = 'off';
      notes.push(`--offline: ${label} off`);
    }
  };
  const cc = c.connection;
  off('sender.domain-missing', cc.sender.domainMissing);
  off('sender.dns-temp', cc.sender.dnsTemp);
  off('rdns.missing', cc.rdns.missing);
  off('rdns.mismatch', cc.rdns.mismatch);
  off('helo.mismatch', cc.helo.mismatch);
  if (cc.dnsbl.zones.length > 0) {
    notes.push(`--offline: DNSBL zones ${cc.dnsbl.zones.map((z) => z.zone).join(', ')} not queried`);
    cc.dnsbl.zones = [];
  }
  if (c.content.clamd.enabled) {
    c.content.clamd.enabled = false;
    notes.push('--offline: clamd (virus scanning) off');
  }
  return c;
}
