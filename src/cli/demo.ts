// `postern demo` (npm run demo): starts a private Postfix and a Postern on loopback, sends a handful
// of messages (clean, spam-like, executable, encrypted zip, EICAR when clamd is installed, MIME trick,
// out-of-office to an outside address) and prints what happened to each. Needs root and Postfix.
// It must never leave anything running or send anything off loopback (see src/demo/run.ts).
import { parseArgs } from 'node:util';
import { DemoError, formatDemoTable, preflight, runDemo as run, type DemoResult } from '../demo/run.js';

const USAGE = `usage: postern demo [--json] [--keep]

Starts a private Postfix instance and a Postern on 127.0.0.1 (with a test DNS server for the demo
domains and, when /usr/sbin/clamd exists, a private clamd with the EICAR test signature), sends a
handful of messages through them and prints a table: message, SMTP reply, Postern's verdict, the
rules that fired, and whether the message was delivered, held in the quarantine or refused.
Everything is stopped and removed afterwards. Needs root and an installed Postfix.

  --json   print the rows as JSON instead of the table
  --keep   leave Postfix and Postern running after the table (try "postern quarantine list
           --config-dir DIR" in another terminal); Ctrl-C stops and removes everything
exit codes: 0 every verdict as expected  1 error (not root, no Postfix, start failure)  4 a verdict differed
`;

export async function runDemo(args: string[]): Promise<number> {
  let values;
  try {
    values = parseArgs({ args, options: { json: { type: 'boolean' }, keep: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } }).values;
  } catch (err) {
    process.stderr.write(`postern demo: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const json = values.json === true;
  try {
    preflight();
    if (!json) process.stdout.write('postern demo: starting a private Postfix and Postern on 127.0.0.1 ...\n');
    const print = (result: DemoResult) => {
      process.stdout.write(formatDemoTable(result.rows));
      process.stdout.write('\nwhat each message is:\n');
      for (const r of result.rows) process.stdout.write(`  ${r.name.padEnd(14)} ${r.about}\n`);
      for (const s of result.skipped) process.stdout.write(`  skipped: ${s}\n`);
      process.stdout.write(
        `\nHeld messages sit in the MTA's quarantine (Postfix hold queue). postern quarantine list --config-dir ${result.postfixDir}:\n` +
          result.quarantineList.replace(/^/gm, '  ') +
          '(release with "postern quarantine release ID", delete with "postern quarantine delete ID")\n',
      );
      for (const r of result.rows.filter((x) => x.verdict !== x.expect)) process.stdout.write(`WARNING: ${r.name}: verdict ${r.verdict}, expected ${r.expect}\n`);
    };
    const keep = async (result: DemoResult) => {
      if (!json) print(result);
      process.stdout.write(`\n--keep: Postfix (config dir ${result.postfixDir}) and Postern keep running; press Ctrl-C to stop and clean up.\n`);
      await new Promise<void>(() => undefined); // ended by the signal handlers (they clean up and exit)
    };
    const result = await run({
      ...(json ? {} : { log: (s: string) => process.stdout.write(`  ${s}\n`) }),
      ...(values.keep ? { beforeCleanup: keep } : {}),
    });
    const unexpected = result.rows.filter((r) => r.verdict !== r.expect);
    if (json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    else {
      print(result);
      process.stdout.write('Everything the demo started has been stopped and removed.\n');
    }
    return unexpected.length > 0 ? 4 : 0;
  } catch (err) {
    if (err instanceof DemoError) {
      process.stderr.write(`postern demo: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
