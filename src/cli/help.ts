// Help texts of the `postern` commands that have no help of their own (scan, quarantine and demo
// print theirs): flags, exit codes, examples. Text only; the flags themselves are parsed by each
// command and are a contract — this file describes them, it never renames one.

export const USAGE = `usage: postern <command> [options]        (postern <command> --help for details)

commands:
  serve [--config FILE] [--listen SOCKET] [--pid-file FILE] [--log-level LEVEL]
                                             run the milter service (SIGTERM drains, SIGHUP reloads)
  check-config [FILE]                        validate a config file as serve would (exit 1 on error)
  show-config [--config FILE] [--defaults] [--json]
                                             print the effective config, defaults merged, with reasons
  scan FILE|DIR|MBOX [--config FILE] [--from A] [--rcpt B ...] [--client-ip IP] [--helo NAME] [--json]
                                             run the whole policy on message files, without an MTA
                                             (DNS and clamd checks still run; --offline turns them off)
  quarantine list|show|release|delete [ID] [--mta postfix|sendmail] [--config-dir DIR]
                                             see and handle mail Postern held in the MTA's quarantine
  reload [--pid-file FILE]                   ask a running postern to re-read its config
  demo                                       private Postfix + Postern on loopback, a few messages, a table
  help                                       this text

exit codes: 0 success, 1 error, 2 usage error (unknown command or option); scan and quarantine have
more (see their --help).

examples:
  postern check-config /etc/postern/postern.yaml
  postern show-config --defaults | less
  postern scan --rcpt-mailer local --offline message.eml
`;

export const COMMAND_HELP: Readonly<Record<string, string>> = {
  serve: `usage: postern serve [--config FILE] [--listen SOCKET] [--pid-file FILE] [--log-level LEVEL]

Runs the milter service in the foreground (systemd runs it so: examples/postfix/postern.service).
Logs one JSON line per message to stdout (or log.file).

options:
  -c, --config FILE     YAML config; only what differs from the defaults (postern show-config --defaults).
                        Without it the embedded default policy runs.
  -l, --listen SOCKET   overrides server.listen: inet:PORT@HOST, inet6:PORT@HOST, inet:HOST:PORT, unix:/path
      --pid-file FILE   write the process id here (postern reload reads it); removed at exit
      --log-level LEVEL overrides log.level: fatal, error, warn, info, debug (debug logs every milter command)

signals: SIGTERM/SIGINT stop accepting, let messages in progress finish (server.shutdownGraceMs), exit;
SIGHUP re-reads the config file — on an error the old config stays in force and the error is logged.

exit codes: 0 stopped cleanly, 1 config error or cannot listen, 2 usage error.

examples:
  postern serve --config /etc/postern/postern.yaml --pid-file /run/postern/postern.pid
  postern serve --listen unix:/var/spool/postfix/postern/postern.sock --log-level debug
`,
  'check-config': `usage: postern check-config [FILE]      (or: postern check-config --config FILE)

Validates a config file the way serve would load it: the schema (types, ranges, unknown keys), then
the policy built from it (rule files found and valid, regular expressions, addresses and CIDRs,
socket address). Each problem is printed as FILE:LINE: key: what is wrong. FILE defaults to
/etc/postern/postern.yaml.

exit codes: 0 valid (prints "FILE: OK"), 1 invalid or unreadable, 2 usage error.

examples:
  postern check-config /etc/postern/postern.yaml && systemctl reload postern
`,
  'show-config': `usage: postern show-config [--config FILE] [--defaults] [--json]

Prints the effective config: every key, with the shipped default wherever the file says nothing
(like postconf -n, but complete). YAML output has each key's reason as a comment above it (the
same text as docs/CONFIG.md); the output is valid YAML and can start a new config file.

options:
  -c, --config FILE   the config file to merge over the defaults (without it: the defaults)
      --defaults      print the shipped defaults only (ignores --config)
      --json          JSON instead of YAML (no comments)

exit codes: 0 printed, 1 the config file is invalid or unreadable, 2 usage error.

examples:
  postern show-config --defaults > /etc/postern/postern.reference.yaml
  postern show-config --config /etc/postern/postern.yaml --json | jq .content.clamd
`,
  reload: `usage: postern reload [--pid-file FILE]

Sends SIGHUP to the running postern whose pid is in FILE (default /run/postern/postern.pid, as
written by serve --pid-file). The service re-reads its config; on an error it keeps the old one and
logs why — run postern check-config first to see problems before reloading.

exit codes: 0 signal sent, 1 no pid file / no such process, 2 usage error.

examples:
  postern check-config /etc/postern/postern.yaml && postern reload
`,
};

/** True when the arguments ask for help (-h / --help anywhere). */
export function wantsHelp(args: readonly string[]): boolean {
  return args.includes('--help') || args.includes('-h');
}
