#!/usr/bin/env node
// The `postern` command: serve, check-config, show-config, scan, quarantine, reload, demo.
// Its flags and exit codes are a contract administrators script against: change them only with care.
import { parseArgs } from 'node:util';
import { runServe } from './serve.js';
import { runCheckConfig, runShowConfig } from './config-commands.js';

const USAGE = `usage: postern <command> [options]

commands:
  serve [--config FILE] [--listen SOCKET] [--pid-file FILE]   run the milter service
  check-config [FILE]                        validate a config file (exit 1 on error)
  show-config [--config FILE] [--defaults]   print the effective config (defaults merged)
  scan FILE|DIR|MBOX [--config FILE] [--from A] [--rcpt B ...] [--client-ip IP] [--helo NAME] [--json]
                                             run the whole policy on messages offline (scan --help)
  quarantine list|show|release|delete [ID] [--mta postfix|sendmail] [--config-dir DIR]
  reload [--pid-file FILE]                   ask a running postern to re-read its config
  demo                                       private Postfix + Postern on loopback, a few messages, a table
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return runServe(rest);
    case 'check-config':
      return runCheckConfig(rest);
    case 'show-config':
      return runShowConfig(rest);
    case 'scan': {
      const { runScan } = await import('./scan.js');
      return runScan(rest);
    }
    case 'quarantine': {
      const { runQuarantine } = await import('./quarantine.js');
      return runQuarantine(rest);
    }
    case 'reload': {
      const { runReload } = await import('./reload.js');
      return runReload(rest);
    }
    case 'demo': {
      const { runDemo } = await import('./demo.js');
      return runDemo(rest);
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`postern: unknown command "${command}"\n${USAGE}`);
      return 2;
  }
}

// parseArgs is re-exported for subcommands so they share one style.
export { parseArgs };

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== -1) process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`postern: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
