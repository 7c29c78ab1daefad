// The attachment ContentCheck: blocks parts by every name they carry (after normalisation against
// evasion tricks) and by true type from content. Produces RuleHits only; never throws for bad input
// and never decides the final verdict (the engine does).
import type { RuleHit, RuleAction, SmtpReply } from '../../policy/types.js';
import type { ConfiguredAction } from '../../config/common.js';
import type { ContentCheck, ContentPart, ParsedMessage } from '../types.js';
import { attachmentsConfigSchema, type AttachmentsConfig } from './config.js';
import { detectType, type TrueType } from './magic.js';
import { COMPRESSION_EXTS, normaliseName, safeName } from './names.js';
import { effectiveAttachmentRules, type AttachmentRules } from './rules-file.js';


export interface AttachmentCheck extends ContentCheck {
  /** The effective blocked-extension set (for diagnostics and `postern config show`). */
  readonly rules: AttachmentRules;
  /** Hits for one part (used by tests and by callers that check parts outside a message). */
  checkPart(part: ContentPart, container?: string): RuleHit[];
}

export function createAttachmentCheck(input: Partial<AttachmentsConfig> | AttachmentsConfig = {}): AttachmentCheck {
  const config = attachmentsConfigSchema.parse(input);
  const rules = effectiveAttachmentRules(config);
  const blockedTypes = new Set(config.blockedTypes);

  const reply = (action: RuleAction, name: string, why: string, container?: string): SmtpReply | undefined => {
    if (action !== 'reject' && action !== 'tempfail') return undefined;
    if (config.reply) return config.reply;
    // a member of an archive is named with the attachment the sender knows ("a.exe" in "report.zip")
    const inside = container ? ` in "${safeName(container)}"` : '';
    const text = name ? `Attachment "${safeName(name)}"${inside} refused: ${why}` : `Attachment${inside ? ` content${inside}` : ''} refused: ${why}`;
    return action === 'reject' ? { code: 554, enhanced: '5.7.1', text } : { code: 451, enhanced: '4.7.1', text };
  };

  function checkPart(part: ContentPart, container?: string): RuleHit[] {
    const hits: RuleHit[] = [];
    const seen = new Set<string>();
    const emit = (key: keyof AttachmentsConfig['actions'], rule: string, name: string, detail: string, why: string): void => {
      const configured: ConfiguredAction = config.actions[key];
      if (configured === 'off') return;
      const action = configured as RuleAction;
      const where = name ? `part ${part.path} ${safeName(name)}` : `part ${part.path}`;
      const k = `${rule}\0${where}`;
      if (seen.has(k)) return;
      seen.add(k);
      const hit: RuleHit = { rule, action, detail, where };
      const r = reply(action, name, why, container);
      if (r) hit.reply = r;
      hits.push(hit);
    };

    for (const name of part.names ?? []) {
      if (typeof name !== 'string' || name.length === 0) continue;
      const n = normaliseName(name);
      const shown = safeName(name);
      if (n.flags.bidi) emit('bidiName', 'attachment.bidi-name', name, `name "${shown}" contains bidi control characters`, 'name uses right-to-left tricks');
      if (n.flags.invisible || n.flags.control) emit('invisibleName', 'attachment.invisible-name', name, `name "${shown}" contains invisible or control characters`, 'name contains hidden characters');
      if (n.flags.clsid) emit('clsidName', 'attachment.clsid-name', name, `name "${shown}" carries a CLSID extension`, 'CLSID file name');
      if (n.flags.length >= config.maxNameLength) emit('longName', 'attachment.long-name', name, `name is ${n.flags.length} characters long`, 'file name too long');
      if (n.flags.longestSpaceRun >= config.maxSpaceRun) emit('paddedName', 'attachment.padded-name', name, `name has a run of ${n.flags.longestSpaceRun} spaces`, 'file name padded with spaces');
      for (const v of n.variants) {
        const exts = v.split('.').slice(1).map((e) => e.trim()).filter(Boolean);
        const last = exts[exts.length - 1];
        if (last && rules.blocked.has(last)) {
          emit('blockedName', 'attachment.blocked-name', name, `extension .${last} (${rules.family.get(last) ?? 'blocked'}) in "${shown}"`, `.${last} files are not accepted`);
          const prev = exts[exts.length - 2];
          if (prev && rules.decoys.has(prev)) {
            emit('doubleExtension', 'attachment.double-extension', name, `double extension .${prev}.${last} in "${shown}"`, 'disguised file name');
          }
        }
        if (last && COMPRESSION_EXTS.has(last) && exts.length >= 2) {
          const prev = exts[exts.length - 2]!;
          if (rules.blocked.has(prev)) {
            emit('doubleExtension', 'attachment.double-extension', name, `.${prev} hidden by compression suffix .${last} in "${shown}"`, 'disguised file name');
          }
        }
      }
    }

    let tt: TrueType | undefined;
    if (part.content && part.content.length > 0) tt = detectType(part.content);
    const type = tt?.type ?? part.trueType;
    const firstName = part.names?.[0] ?? '';
    if (type && blockedTypes.has(type)) {
      const named = part.isAttachment || (part.names?.length ?? 0) > 0 || part.origin !== 'mime';
      if (!(type === 'script' && config.scriptTypeNeedsName && !named)) {
        const desc = tt?.description ?? type;
        emit('blockedType', 'attachment.blocked-type', firstName, `content is ${desc} (${type}), declared ${part.contentType}`, `content is ${desc}`);
      }
    }
    if (tt?.type === 'ole' && tt.hints.includes('encrypted')) {
      emit('encryptedDocument', 'attachment.encrypted-document', firstName, 'password-protected Office document', 'encrypted document cannot be checked');
    }
    if (tt?.macros) {
      emit('macro', 'attachment.macro', firstName, `${tt.description} contains macros`, 'document contains macros');
    }
    const active = tt ? activeContent(tt.type, tt.hints) : undefined;
    if (active) emit('activeContent', 'attachment.active-content', firstName, `${tt!.description}: ${active}`, 'active content');
    return hits;
  }

  return {
    id: 'attachments',
    rules,
    checkPart,
    run(message: ParsedMessage): RuleHit[] {
      if (!config.enabled) return [];
      const out: RuleHit[] = [];
      const nameAt = new Map<string, string>();
      for (const part of message.parts ?? []) if (part?.names?.[0]) nameAt.set(part.path, part.names[0]);
      for (const part of message.parts ?? []) {
        try {
          const cut = typeof part.path === 'string' ? part.path.indexOf('/archive:') : -1;
          const container = cut > 0 ? nameAt.get(part.path.slice(0, cut)) : undefined;
          out.push(...checkPart(part, container));
        } catch (e) {
          out.push({ rule: 'attachment.error', action: config.failAction, detail: `attachment check failed: ${(e as Error).message}`, where: `part ${part.path}` });
        }
      }
      return out;
    },
  };
}

/** Hints of the magic table that mean "this file delivers code", or undefined. */
function activeContent(type: string, hints: readonly string[]): string | undefined {
  if (hints.includes('smuggling')) return 'builds a file download in the browser (HTML smuggling)';
  if (type === 'pdf' && hints.includes('launch')) return 'PDF Launch action (runs a program)';
  if (type === 'rtf' && hints.includes('embedded-object')) return 'RTF with an embedded object';
  if (type === 'svg' && hints.includes('script')) return 'SVG image with script';
  return undefined;
}
