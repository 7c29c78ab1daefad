// Loads rules/attachments.yaml (blocked extensions by family, decoy extensions) and merges config
// overrides into the effective sets. Throws RulesFileError naming the file on bad content.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { RulesFileError, resolveRulesFile } from '../rules/files.js';
import type { AttachmentsConfig } from './config.js';

const extList = z.array(z.union([z.string(), z.number()]).transform((v) => String(v)));
const fileSchema = z.object({
  blocked_extensions: z.union([extList, z.record(z.string(), extList)]).default([]),
  decoy_extensions: extList.default([]),
});

export interface AttachmentRules {
  blocked: Set<string>;
  decoys: Set<string>;
  /** Family of each blocked extension ("executables", "scripts"...), for hit details. */
  family: Map<string, string>;
}

const clean = (e: string): string => e.trim().toLowerCase().replace(/^\./, '').normalize('NFKC');

export function loadAttachmentRulesFile(file: string): { blocked: Map<string, string>; decoys: string[] } {
  const resolved = resolveRulesFile(file);
  let doc: unknown;
  try {
    doc = parse(readFileSync(resolved, 'utf8'));
  } catch (e) {
    throw new RulesFileError('RULES_FILE_INVALID', `${resolved}: not valid YAML: ${(e as Error).message}`);
  }
  const r = fileSchema.safeParse(doc ?? {});
  if (!r.success) {
    throw new RulesFileError('RULES_FILE_INVALID', `${resolved}: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const blocked = new Map<string, string>();
  const b = r.data.blocked_extensions;
  if (Array.isArray(b)) for (const e of b) blocked.set(clean(e), 'blocked');
  else for (const [fam, list] of Object.entries(b)) for (const e of list) blocked.set(clean(e), fam);
  return { blocked, decoys: r.data.decoy_extensions.map(clean) };
}

export function effectiveAttachmentRules(config: AttachmentsConfig): AttachmentRules {
  const family = new Map<string, string>();
  let decoys: string[] = [];
  if (config.replaceExtensions) {
    for (const e of config.replaceExtensions) family.set(clean(e), 'configured');
    try {
      decoys = loadAttachmentRulesFile(config.rulesFile).decoys;
    } catch {
      decoys = [];
    }
  } else {
    const f = loadAttachmentRulesFile(config.rulesFile);
    for (const [e, fam] of f.blocked) family.set(e, fam);
    decoys = f.decoys;
  }
  for (const e of config.addExtensions) family.set(clean(e), 'configured');
  for (const e of config.removeExtensions) family.delete(clean(e));
  return { blocked: new Set(family.keys()), decoys: new Set(decoys), family };
}
