// Data-driven end-to-end suite: every test/e2e/cases/*.yaml is played through a real Postfix and a
// real sendmail, each with the shipped examples/ settings and a real Postern (the compiled CLI) as
// milter, a test DNS server and a real clamd. One Postfix + one sendmail for the whole run: cases
// are grouped by their Postern config and the config is switched by reload (SIGHUP) between groups.
// Adding a case is adding a file (format: test/e2e/cases/README.md). Every process started here is
// stopped in after hooks, whatever happens.
import { after, before, describe, test } from 'node:test';
import { sendmailAvailable } from '../harness/sendmail.js';
import { loadCaseFiles, resolveCase, type ResolvedCase } from './lib/cases.js';
import { checkOutcome, playCase } from './lib/play.js';
import { startRig, type MtaName, type Rig } from './lib/rig.js';
import { baseConfig, stableKey, startWorld, type World } from './lib/world.js';

const files = loadCaseFiles();
const only = process.env.E2E_CASES ? new RegExp(process.env.E2E_CASES) : undefined;
const mtaFilter = process.env.E2E_MTA;

let world: World | undefined;
let worldError: Error | undefined;
const worldReady = (async () => {
  try {
    world = await startWorld();
  } catch (e) {
    worldError = e as Error;
  }
})();

after(async () => {
  await worldReady;
  await world?.stop();
});

// The two MTAs are independent (own Postern, own MTA, own sink): run their suites side by side.
describe('e2e cases', { concurrency: true, timeout: 20 * 60_000 }, () => {
  for (const mta of ['postfix', 'sendmail'] as MtaName[]) {
    const skipMta = mtaFilter && mtaFilter !== mta ? `E2E_MTA=${mtaFilter}` : mta === 'sendmail' && !sendmailAvailable() ? 'sendmail not unpacked (run scripts/install-test-deps.sh)' : false;
    // Cases of one MTA run one after the other: they share one Postern whose config they switch.
    describe(`e2e cases via ${mta}`, { skip: skipMta, concurrency: 1, timeout: 20 * 60_000 }, () => {
      let rig: Rig | undefined;
      let cases: ResolvedCase[] = [];
      // Tests are declared now; each case is resolved (config with the world's addresses) once the
      // world is up, in before().
      const selected = files.filter((f) => (f.data.mtas ?? ['postfix', 'sendmail']).includes(mta) && (!only || only.test(f.name)));
      before(async () => {
        await worldReady;
        if (worldError) throw worldError;
        const base = baseConfig(world!);
        cases = selected.map((f) => resolveCase(f, mta, base));
        rig = await startRig(mta, base);
      });
      after(async () => {
        await rig?.stop();
      });

      // Sort tests by config group (stable within a group).
      const groupKeyOf = (name: string) => {
        const f = selected.find((p) => p.name === name)!;
        const client = f.data[mta]?.client ?? f.data.client;
        const outside = client === 'outside' || (typeof client === 'object' && client.kind !== 'inside');
        return stableKey({ ...(f.data.config ?? {}), ...(f.data[mta]?.config ?? {}), outside: mta === 'sendmail' && outside });
      };
      const sorted = [...selected].sort((a, b) => groupKeyOf(a.name).localeCompare(groupKeyOf(b.name)));
      for (const f of sorted) {
        const o = f.data[mta] ?? {};
        const todo = o.todo ?? f.data.todo;
        const skip = o.skip ?? f.data.skip;
        test(`${f.name}: ${f.data.description}`, { ...(todo ? { todo } : {}), ...(skip ? { skip } : {}) }, async (t) => {
          const c = cases.find((x) => x.name === f.name)!;
          await rig!.useConfig(c.config);
          const mark = rig!.postern.logs().length;
          const out = await playCase(rig!, c);
          t.diagnostic(out.transcript.join(' ⏎ '));
          // Summary lines are written just after the reply: give Postern a moment.
          if (c.expect.log) {
            const want = c.expect.log.msg ?? 'message';
            const deadline = Date.now() + 3000;
            while (!rig!.postern.logs().slice(mark).some((l) => l.msg === want) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
          }
          await checkOutcome(rig!, c, out, rig!.postern.logs().slice(mark));
        });
      }
    });
  }
});
