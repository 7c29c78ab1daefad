#!/usr/bin/env node
// The `postern` command: serve, check-config, show-config, scan, quarantine, reload, demo.
// Its flags and exit codes are a contract administrators script against: change them only with care.
import { runServe } from './serve.js';
import { runCheckConfig, runShowConfig } from './config-commands.js';
import { COMMAND_HELP, USAGE, wantsHelp } from './help.js';

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const help = command === undefined ? undefined : COMMAND_HELP[command];
  if (help !== undefined && wantsHelp(rest)) {
    process.stdout.write(help);
    return 0;
  }
  // scan, quarantine and demo print their own help
  if (command === 'help' && (rest[0] === 'scan' || rest[0] === 'quarantine' || rest[0] === 'demo')) return main([rest[0], '--help']);
  if (command === 'help' && rest[0] !== undefined && COMMAND_HELP[rest[0]] !== undefined) {
    process.stdout.write(COMMAND_HELP[rest[0]]!);
    return 0;
  }
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

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== -1) process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`postern: ${err instanceof Error ? err.message : String(err)}\n`);
    // A bad flag or missing flag value is a usage error (exit 2), like an unknown command.
    const code = (err as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')) {
      process.stderr.write(`see: postern ${process.argv[2] ?? ''} --help\n`);
      process.exitCode = 2;
    } else process.exitCode = 1;
  },
);
