// `postern quarantine list|show|release|delete`: look at and act on the mail Postern quarantined,
// through the MTA's own tools (Postfix: postqueue/postcat/postsuper; sendmail: sendmail -bp -qQ,
// -qQ -qI<ID> -Q). Usage text and exit codes are a contract administrators script against.
// It never acts on a message that is not in the quarantine (Postfix: hold queue).
import { parseArgs } from 'node:util';
import { createBackend, QuarantineError, type MtaKind } from '../quarantine/index.js';
import { formatList, formatShow, toJson } from '../quarantine/format.js';

export const QUARANTINE_USAGE = `usage: postern quarantine list|show ID|release ID|delete ID [options]

Shows and handles mail Postern quarantined, using the MTA's own quarantine:
Postfix's hold queue (postqueue -j, postcat -q, postsuper -H / -d) or sendmail's quarantined
queue items (sendmail -bp -qQ, sendmail -qQ -qI<ID> -Q).

  list          one line per held message: queue id, arrival, size, sender, recipients, Postern reason
  show ID       envelope, headers and the full Postern reason of one message
  release ID    deliver it (Postfix: postsuper -H, then postqueue -i; sendmail: -Q without reason, then -qI)
  delete ID     remove it for good

options:
  --mta postfix|sendmail|auto   which MTA (default auto: postqueue found -> postfix, else sendmail)
  --config-dir DIR              Postfix config directory (postfix -c DIR); for sendmail a directory holding sendmail.cf
  --cf FILE                     sendmail: the .cf file (default /etc/mail/sendmail.cf)
  --sendmail PATH               sendmail: the binary (default $POSTERN_SENDMAIL or /usr/sbin/sendmail)
  --trace-header NAME           Postern's trace header (policy.trace.header, default X-Postern)
  --log FILE                    Postern's JSON log: take the reason from its summary line for the queue id
  --json                        list: a JSON array; show: a JSON object
  --help, -h                    this text

Postern reason: sendmail stores the text Postern sends with the quarantine ("postern RULE: detail");
Postfix stores none (it logs only "milter-hold: milter triggers HOLD action"), so it is read from
Postern's trace header in the held message, or from Postern's log with --log.

exit codes: 0 done  1 MTA tool missing or failed  2 usage  3 no such message in the quarantine
`;

const EXIT: Record<QuarantineError['code'], number> = {
  'tool-missing': 1,
  'tool-failed': 1,
  'no-mta': 1,
  'bad-config': 1,
  'unknown-id': 3,
  'bad-id': 2,
};

export async function runQuarantine(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        mta: { type: 'string' },
        'config-dir': { type: 'string' },
        cf: { type: 'string' },
        sendmail: { type: 'string' },
        'trace-header': { type: 'string' },
        log: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    process.stderr.write(`postern quarantine: ${(err as Error).message}\n${QUARANTINE_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(QUARANTINE_USAGE);
    return 0;
  }
  const [action, id, ...extra] = positionals;
  const usage = (msg: string) => {
    process.stderr.write(`postern quarantine: ${msg}\n${QUARANTINE_USAGE}`);
    return 2;
  };
  if (!action) return usage('no action given');
  if (!['list', 'show', 'release', 'delete'].includes(action)) return usage(`unknown action "${action}"`);
  if (action === 'list' ? id !== undefined : id === undefined) return usage(action === 'list' ? 'list takes no queue id' : `${action} needs a queue id`);
  if (extra.length > 0) return usage(`unexpected argument "${extra[0]}"`);
  const mta = values.mta ?? 'auto';
  if (!['postfix', 'sendmail', 'auto'].includes(mta)) return usage(`--mta must be postfix, sendmail or auto, not "${mta}"`);

  try {
    const backend = createBackend({
      mta: mta as MtaKind | 'auto',
      ...(values['config-dir'] ? { configDir: values['config-dir'] } : {}),
      ...(values.cf ? { cfFile: values.cf } : {}),
      ...(values.sendmail ? { sendmail: values.sendmail } : {}),
      ...(values['trace-header'] ? { traceHeader: values['trace-header'] } : {}),
      ...(values.log ? { logFile: values.log } : {}),
    });
    const out = (s: string) => process.stdout.write(s);
    switch (action) {
      case 'list': {
        // Oldest first, as mailq shows them.
        const items = (await backend.list()).sort((a, b) => (a.arrival?.getTime() ?? 0) - (b.arrival?.getTime() ?? 0) || a.id.localeCompare(b.id));
        out(values.json ? JSON.stringify(items.map(toJson), null, 2) + '\n' : formatList(items));
        return 0;
      }
      case 'show': {
        const m = await backend.show(id!);
        out(values.json ? JSON.stringify({ ...toJson(m), headers: m.headers, envelope: m.envelopeText }, null, 2) + '\n' : formatShow(m));
        return 0;
      }
      case 'release':
        await backend.release(id!);
        out(values.json ? JSON.stringify({ id, released: true }) + '\n' : `${id}: released from the ${backend.describe()} and queued for delivery\n`);
        return 0;
      default:
        await backend.delete(id!);
        out(values.json ? JSON.stringify({ id, deleted: true }) + '\n' : `${id}: deleted from the ${backend.describe()}\n`);
        return 0;
    }
  } catch (err) {
    if (err instanceof QuarantineError) {
      process.stderr.write(`postern quarantine: ${err.message}\n`);
      return EXIT[err.code];
    }
    throw err;
  }
}
