// One MTA (private Postfix or sendmail) wired to one Postern through the shipped examples/ settings,
// behind one small interface so the data-driven runner treats both MTAs alike: send over SMTP, read
// what the sink got, find a message in the MTA's quarantine, switch Postern's config by reload.
// It starts processes only on loopback and stops every one of them in stop(), even half-started.
import { startPostern, type PosternInstance } from '../../harness/postern.js';
import { startPostfix, type PostfixInstance } from '../../harness/postfix.js';
import { startSendmail, type SendmailInstance } from '../../harness/sendmail.js';
import { freePort } from '../../harness/net.js';
import { rmSync } from 'node:fs';
import path from 'node:path';
import type { DeliveredMessage } from '../../harness/sink.js';
import { stableKey } from './world.js';

export type MtaName = 'postfix' | 'sendmail';

export interface Held {
  queueId: string;
  /** The quarantine reason as the MTA shows it (sendmail: mailq -qQ; Postfix: its milter-hold log line). */
  reason: string;
}

export interface Rig {
  mta: MtaName;
  postern: PosternInstance;
  smtpPort: number;
  /** sendmail only: a second listener on [::1] (sendmail cannot XCLIENT; this gives it an IPv6 client). */
  ipv6Port?: number;
  delivered(): DeliveredMessage[];
  /** Look for a held message by queue id; resolves undefined after timeoutMs. */
  findHeld(queueId: string, timeoutMs?: number): Promise<Held | undefined>;
  /** Put `config` in force (SIGHUP) unless it is already; waits for Postern's "config reloaded". */
  useConfig(config: Record<string, unknown>): Promise<void>;
  /** The MTA's own log (Postfix) or '' (sendmail has no log file here). */
  mtaLog(): string;
  stop(): Promise<void>;
}

/**
 * Domains Postfix relays to the sink. Postfix refuses relaying for outside clients before any milter
 * sees RCPT, so every domain a case uses is listed here: Postern's own relay control (which knows
 * example.test as the only local domain, see baseConfig) is then what the cases test.
 */
export const POSTFIX_E2E_DOMAINS = ['example.test', 'example.com', 'example.net', 'example.org', 'outside.example', 'partner.example', 'servfail.example'];

const liveRigs = new Set<Rig>();
let hooksInstalled = false;
/** Last resort when the test process dies without running after hooks: no Postern left behind. */
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  const killAll = () => {
    for (const r of liveRigs) {
      r.postern.process.kill('SIGKILL');
      rmSync(path.dirname(r.postern.configFile), { recursive: true, force: true });
    }
  };
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.prependListener(sig, killAll);
}

export async function startRig(mta: MtaName, initialConfig: Record<string, unknown>): Promise<Rig> {
  installExitHooks();
  const postern = await startPostern({ config: initialConfig });
  let current = stableKey(initialConfig);
  let pf: PostfixInstance | undefined;
  let sm: SendmailInstance | undefined;
  let ipv6Port: number | undefined;
  const startMta = async () => {
    if (mta === 'postfix') pf = await startPostfix({ milterPort: postern.port, testDomains: POSTFIX_E2E_DOMAINS, main: { inet_protocols: 'all' } });
    else {
      ipv6Port = await freePort();
      sm = await startSendmail({
        milterPort: postern.port,
        queueInterval: '1h',
        extraMc: [`DAEMON_OPTIONS(\`Port=${ipv6Port}, Addr=::1, Family=inet6, Name=MTA6')dnl`],
      });
    }
  };
  try {
    try {
      await startMta();
    } catch (e) {
      // On a loaded machine sendmail sometimes misses the harness's 15 s listen deadline: one retry.
      if ((e as { code?: string }).code !== 'start-failed') throw e;
      console.warn(`e2e rig: ${mta} start failed once, retrying: ${(e as Error).message.split('\n')[0]}`);
      await startMta();
    }
  } catch (e) {
    await postern.stop();
    throw e;
  }
  const rig: Rig = {
    mta,
    postern,
    smtpPort: pf ? pf.smtpPort : sm!.smtpPort,
    ...(ipv6Port ? { ipv6Port } : {}),
    delivered: () => (pf ? pf.delivered() : sm!.delivered()),
    async findHeld(queueId, timeoutMs = 8000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (pf) {
          const held = (await pf.holdQueue()).find((e) => e.queue_id === queueId);
          if (held) {
            // Postfix keeps no quarantine reason (it logs "milter triggers HOLD action"): Postern's
            // reason travels in its trace header inside the held message, read with postcat.
            const m = new RegExp(`${queueId}: milter-hold: (.*)$`, 'm').exec(pf.log());
            const cat = await pf.postcat(queueId, ['-h']);
            const trace = cat.stdout.split(/\r?\n(?![ \t])/).filter((l) => /^X-Postern:/i.test(l)).join(' ').replace(/\s+/g, ' ');
            return { queueId, reason: `${trace} [log: ${m?.[1] ?? ''}]` };
          }
        } else {
          const q = (await sm!.quarantined()).find((e) => e.queueId === queueId);
          if (q) return { queueId, reason: q.reason };
        }
        if (Date.now() > deadline) return undefined;
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async useConfig(config) {
      const key = stableKey(config);
      if (key === current) return;
      const before = postern.logs().filter(isReloadLine).length;
      postern.reload(config);
      const deadline = Date.now() + 15000;
      for (;;) {
        const lines = postern.logs().filter(isReloadLine);
        if (lines.length > before) {
          const last = lines[lines.length - 1]!;
          if (last.msg !== 'config reloaded') throw new Error(`Postern refused the case config: ${JSON.stringify(last)}`);
          current = key;
          return;
        }
        if (Date.now() > deadline) throw new Error('Postern did not log a reload within 15 s');
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    mtaLog: () => (pf ? pf.log() : ''),
    async stop() {
      await Promise.allSettled([pf?.stop(), sm?.stop()]);
      await postern.stop();
      liveRigs.delete(rig);
    },
  };
  liveRigs.add(rig);
  return rig;
}

function isReloadLine(l: Record<string, unknown>): boolean {
  return l.msg === 'config reloaded' || l.msg === 'config reload failed; old config stays in force';
}
