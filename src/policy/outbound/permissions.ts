// Per-user / per-group permissions: who may send to the Internet, who may receive from it, and partner
// allow lists. Inline config plus an optional YAML/JSON file re-read when its mtime changes (or on reload()).
// Must never throw to callers: a bad file keeps the last good version and is logged.
import { promises as fs } from 'node:fs';
import YAML from 'yaml';
import type { Logger } from '../../log/logger.js';
import { AddressList, domainOf, normAddress } from './addr.js';
import { resolveDataPath } from '../../config/paths.js';
import { permissionsFileSchema, type OutboundConfig, type PermissionEntry, type PermissionsFile } from './config.js';

export interface EffectivePermissions {
  sendExternal: boolean;
  receiveExternal: boolean;
  allowExternal: AddressList;
  /** Where the decision came from, for logs only ("user alice@x", "group finance", "defaults"). */
  source: string;
}

interface Compiled {
  users: Map<string, PermissionEntry>;
  groups: Array<{ name: string; members: Set<string>; entry: PermissionEntry }>;
}

function compile(data: PermissionsFile): Compiled {
  const users = new Map<string, PermissionEntry>();
  for (const [k, v] of Object.entries(data.users)) users.set(k.trim().toLowerCase(), v);
  const groups = data.groups.map((g) => ({
    name: g.name,
    members: new Set(g.members.map((m) => m.trim().toLowerCase())),
    entry: { sendExternal: g.sendExternal, receiveExternal: g.receiveExternal, allowExternal: g.allowExternal },
  }));
  return { users, groups };
}

export class Permissions {
  private readonly inline: Compiled;
  private fromFile: Compiled | undefined;
  private fileMtime = -1;
  private lastCheck = 0;
  private loading: Promise<void> | undefined;
  private fileFailed = false;
  private readonly cfg: OutboundConfig['permissions'];

  constructor(
    config: OutboundConfig['permissions'],
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.cfg = config;
    this.inline = compile({ users: config.users, groups: config.groups });
  }

  /** True when there is nothing to enforce (no entries and permissive defaults). */
  get trivial(): boolean {
    const d = this.cfg.defaults;
    return (
      !this.cfg.file &&
      this.inline.users.size === 0 &&
      this.inline.groups.length === 0 &&
      d.sendExternal !== false &&
      d.receiveExternal !== false
    );
  }

  /** True when a file is configured but no version of it could ever be loaded. */
  get unavailable(): boolean {
    return !!this.cfg.file && !this.fromFile && this.fileFailed;
  }

  /** Re-read the file now (also used at start-up). Never rejects. */
  async reload(): Promise<void> {
    if (!this.cfg.file) return;
    // relative to the config file's folder first, like every other data file
    const file = resolveDataPath(this.cfg.file);
    try {
      const st = await fs.stat(file);
      const text = await fs.readFile(file, 'utf8');
      const parsed = permissionsFileSchema.parse(YAML.parse(text) ?? {});
      this.fromFile = compile(parsed);
      this.fileMtime = st.mtimeMs;
      this.fileFailed = false;
      this.logger.info({ file, users: this.fromFile.users.size, groups: this.fromFile.groups.length }, 'outbound permissions loaded');
    } catch (err) {
      this.fileFailed = true;
      this.logger.error({ file, err: (err as Error).message }, 'outbound permissions file not loaded; keeping previous version');
    }
  }

  /** Re-read the file when its mtime changed (at most every checkIntervalMs). Never rejects. */
  async refresh(): Promise<void> {
    if (!this.cfg.file) return;
    if (this.loading) return this.loading;
    const t = this.now();
    if (this.fromFile && t - this.lastCheck < this.cfg.checkIntervalMs) return;
    this.lastCheck = t;
    // relative to the config file's folder first, like every other data file (looked up only when due)
    const file = resolveDataPath(this.cfg.file);
    this.loading = (async () => {
      try {
        const st = await fs.stat(file).catch(() => undefined);
        if (!this.fromFile || !st || st.mtimeMs !== this.fileMtime) await this.reload();
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  /**
   * Effective permissions for a local user known by any of `identities` (envelope address, SASL login).
   * Order: user entry (file, then inline; address, then login, then "@domain"), first matching group
   * (file groups, then inline), then defaults. Fields left out fall through to the next level.
   */
  resolve(identities: readonly (string | undefined)[]): EffectivePermissions {
    const ids = identities.map((i) => normAddress(i)).filter((i) => i.length > 0);
    const keys: string[] = [...ids];
    for (const id of ids) {
      const d = domainOf(id);
      if (d) keys.push(`@${d}`);
    }
    const layers: Array<{ entry: PermissionEntry; source: string }> = [];
    const sources = this.fromFile ? [this.fromFile, this.inline] : [this.inline];
    userLoop: for (const key of keys) {
      for (const src of sources) {
        const e = src.users.get(key);
        if (e) {
          layers.push({ entry: e, source: `user ${key}` });
          break userLoop;
        }
      }
    }
    groupLoop: for (const src of sources) {
      for (const g of src.groups) {
        if (keys.some((k) => g.members.has(k))) {
          layers.push({ entry: g.entry, source: `group ${g.name}` });
          break groupLoop;
        }
      }
    }
    layers.push({ entry: this.cfg.defaults, source: 'defaults' });
    const pick = <K extends keyof PermissionEntry>(k: K): { v: PermissionEntry[K]; source: string } | undefined => {
      for (const l of layers) if (l.entry[k] !== undefined) return { v: l.entry[k], source: l.source };
      return undefined;
    };
    const send = pick('sendExternal');
    const recv = pick('receiveExternal');
    const allow = pick('allowExternal');
    return {
      sendExternal: send?.v !== false,
      receiveExternal: recv?.v !== false,
      allowExternal: new AddressList(allow?.v ?? []),
      source: [send?.source, recv?.source].filter(Boolean).join(', ') || 'defaults',
    };
  }
}
