// Macro storage for one milter connection. Macros arrive per stage (D frames before each command);
// a lookup searches the newest stage first and accepts both "x" and "{x}" spellings, as libmilter.
import { Cmd } from '../../codec/index.js';

/** Stages in dialogue order; a new macro set for one stage clears the stages after it. */
const ORDER = [Cmd.CONNECT, Cmd.HELO, Cmd.MAIL, Cmd.RCPT, Cmd.DATA, Cmd.EOH, Cmd.BODYEOB];
const MESSAGE = [Cmd.MAIL, Cmd.RCPT, Cmd.DATA, Cmd.EOH, Cmd.BODYEOB];

export class MacroStore {
  private readonly stages = new Map<number, Map<string, string>>();

  set(stage: number, pairs: ReadonlyArray<readonly [string, string]>): void {
    const idx = ORDER.indexOf(stage as never);
    if (idx === -1) {
      // Postfix sends (often empty) lists for HEADER, BODY and UNKNOWN too: keep non-empty ones aside.
      if (pairs.length === 0) return;
    } else {
      for (const later of ORDER.slice(idx + 1)) this.stages.delete(later);
    }
    const map = new Map<string, string>();
    for (const [k, v] of pairs) map.set(normalise(k), v);
    this.stages.set(stage, map);
  }

  get(name: string): string | undefined {
    const key = normalise(name);
    for (let i = ORDER.length - 1; i >= 0; i--) {
      const v = this.stages.get(ORDER[i]!)?.get(key);
      if (v !== undefined) return v;
    }
    for (const [stage, map] of this.stages) {
      if (!ORDER.includes(stage as never)) {
        const v = map.get(key);
        if (v !== undefined) return v;
      }
    }
    return undefined;
  }

  clearMessage(): void {
    for (const s of MESSAGE) this.stages.delete(s);
    for (const stage of [...this.stages.keys()]) if (!ORDER.includes(stage as never)) this.stages.delete(stage);
  }

  clearAll(): void {
    this.stages.clear();
  }
}

function normalise(name: string): string {
  return name.startsWith('{') && name.endsWith('}') ? name.slice(1, -1) : name;
}
