// Rule family "rates": rate.connections, rate.messages, rate.recipients, rate.concurrency, and
// rate.unavailable when the counter store fails (fail action, tempfail by default — never an accept).
import type { Logger } from '../../log/logger.js';
import type { CounterStore } from '../../state/types.js';
import type { RuleHit } from '../types.js';
import type { ConnectionConfig } from './config.js';
import { failHit, reply, ruleHit } from './hits.js';

const CONN = reply(421, '4.7.0', 'Too many connections from your address, try again later (rate.connections)');
const CONC = reply(421, '4.7.0', 'Too many concurrent sessions from your address, try again later (rate.concurrency)');
const MSGS = reply(451, '4.7.1', 'Message rate exceeded, try again later (rate.messages)');
const RCPTS = reply(451, '4.7.1', 'Recipient rate exceeded, try again later (rate.recipients)');
const STORE = reply(451, '4.3.0', 'Temporary local problem, try again later (rate.unavailable)');

export class Rates {
  constructor(
    private readonly cfg: ConnectionConfig['rates'],
    private readonly store: CounterStore,
    private readonly logger: Logger,
  ) {}

  get connectionChecks(): boolean {
    return this.cfg.connectionsPerClient > 0 || this.cfg.concurrencyPerClient > 0;
  }

  /** Count a connection and take a concurrency slot. Returns hits and the slot key (release at close). */
  async connect(clientKey: string, sessionId: string): Promise<{ hits: RuleHit[]; slot?: string }> {
    const c = this.cfg;
    const hits: RuleHit[] = [];
    let slot: string | undefined;
    try {
      const [n, conc] = await Promise.all([
        c.connectionsPerClient > 0 ? this.store.incr(`conn:${clientKey}`, c.windowMs) : 0,
        c.concurrencyPerClient > 0 ? this.store.acquire(`sess:${clientKey}`, sessionId, c.concurrencyTtlMs) : 0,
      ]);
      if (c.concurrencyPerClient > 0) slot = `sess:${clientKey}`;
      if (n > c.connectionsPerClient && c.connectionsPerClient > 0) {
        const h = ruleHit('rate.connections', c.rules.connections, CONN, `${n} connections in ${c.windowMs} ms (limit ${c.connectionsPerClient}) from ${clientKey}`);
        if (h) hits.push(h);
      }
      if (conc > c.concurrencyPerClient && c.concurrencyPerClient > 0) {
        const h = ruleHit('rate.concurrency', c.rules.concurrency, CONC, `${conc} concurrent sessions (limit ${c.concurrencyPerClient}) from ${clientKey}`);
        if (h) hits.push(h);
      }
    } catch (e) {
      // acquire may have succeeded on a shared store: remember the slot so close() releases it.
      if (c.concurrencyPerClient > 0) slot = `sess:${clientKey}`;
      hits.push(this.failed(e, 'connect'));
    }
    return slot === undefined ? { hits } : { hits, slot };
  }

  release(slot: string, sessionId: string): void {
    try {
      const r = this.store.release(slot, sessionId);
      if (r instanceof Promise) r.catch(() => undefined);
    } catch {
      /* expires by TTL */
    }
  }

  /** Count a message (MAIL) per client and per sender. */
  async message(clientKey: string | undefined, sender: string): Promise<RuleHit[]> {
    const c = this.cfg;
    return this.count(clientKey, sender, 'msg', c.messagesPerClient, c.messagesPerSender, 'rate.messages', c.rules.messages, MSGS, 'mail from');
  }

  /** Count a recipient (RCPT) per client and per sender. */
  async recipient(clientKey: string | undefined, sender: string, where: string): Promise<RuleHit[]> {
    const c = this.cfg;
    return this.count(clientKey, sender, 'rcpt', c.recipientsPerClient, c.recipientsPerSender, 'rate.recipients', c.rules.recipients, RCPTS, where);
  }

  private async count(
    clientKey: string | undefined,
    sender: string,
    what: string,
    perClient: number,
    perSender: number,
    id: string,
    rc: ConnectionConfig['rates']['rules']['messages'],
    def: ReturnType<typeof reply>,
    where: string,
  ): Promise<RuleHit[]> {
    const c = this.cfg;
    const doClient = perClient > 0 && clientKey !== undefined;
    // Bounces (<>) are not counted per sender: one shared key would throttle every bounce.
    const doSender = perSender > 0 && sender !== '';
    if (!doClient && !doSender) return [];
    try {
      const [nc, ns] = await Promise.all([
        doClient ? this.store.incr(`${what}:c:${clientKey}`, c.windowMs) : 0,
        doSender ? this.store.incr(`${what}:s:${sender.toLowerCase()}`, c.windowMs) : 0,
      ]);
      const hits: RuleHit[] = [];
      if (doClient && nc > perClient) {
        const h = ruleHit(id, rc, def, `${nc} in ${c.windowMs} ms from client ${clientKey} (limit ${perClient})`, where);
        if (h) hits.push(h);
      }
      if (doSender && ns > perSender) {
        const h = ruleHit(id, rc, def, `${ns} in ${c.windowMs} ms from this sender (limit ${perSender})`, where);
        if (h) hits.push(h);
      }
      return hits;
    } catch (e) {
      return [this.failed(e, where)];
    }
  }

  private failed(e: unknown, where: string): RuleHit {
    this.logger.warn({ rule: 'rate.unavailable', err: (e as Error)?.message, code: (e as { code?: string })?.code }, 'rate counter store failed; applying fail action');
    return failHit('rate.unavailable', this.cfg.failAction, STORE, `counter store failed: ${(e as Error)?.message ?? 'unknown error'}`, where);
  }
}
