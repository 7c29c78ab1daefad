// Hides internal names in the headers of outbound mail by planning milter header changes
// (CHGHEADER with 1-based per-name indexes; an empty value deletes). The body is never touched.
// Pure: takes the headers the milter saw, returns the HeaderChange list; never throws.
//
// Index rules (PROTOCOL.md 1.9): the index counts headers of that name (case-insensitive) in the order
// the milter saw them — Postfix hides its own first Received: and counts relative to what it showed us.
// Postfix removes deleted headers (later indexes shift), sendmail only marks them; so all value changes
// come first, then the deletions of each name from the highest index down: no deletion can move a
// header that a later change in the list still has to address.
import type { HeaderChange, HeaderField } from '../types.js';
import { CidrSet, isPrivateAddress } from './addr.js';
import type { OutboundConfig } from './config.js';

export interface HidingPlan {
  changes: HeaderChange[];
  /** Counts for the trace ("3 Received deleted, Message-ID rewritten"): never the names themselves. */
  summary: string;
}

/** Whether outbound mail has internal names hidden (the engine then adds no trace header to it). */
export function hidesInternalNames(config: OutboundConfig): boolean {
  if (!config.enabled) return false;
  const h = config.hide;
  return h.enabled ?? h.internalDomains.length + h.internalHosts.length > 0;
}

const HOST_TOKEN = /[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?)*\.?/g;
const IPV6_TOKEN = /[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?::\d{1,3}(?:\.\d{1,3}){3})?/g;
const MSG_ID = /<([^<>@\s]*)@([^<>@\s]*)>/g;

export class InternalNames {
  private readonly domains: string[];
  private readonly hosts: Set<string>;
  private readonly networks: CidrSet;
  constructor(private readonly config: OutboundConfig) {
    this.domains = config.hide.internalDomains.map((d) => d.trim().toLowerCase().replace(/^\.|\.$/g, '')).filter(Boolean);
    this.hosts = new Set(config.hide.internalHosts.map((h) => h.trim().toLowerCase().replace(/\.$/, '')).filter(Boolean));
    this.networks = new CidrSet(config.internalNetworks);
  }

  /** Is this host name (or address literal) internal? */
  isInternalHost(name: string): boolean {
    const n = name.toLowerCase().replace(/^\[|\]$/g, '').replace(/^ipv6:/, '').replace(/\.$/, '');
    if (!n) return false;
    if (this.hosts.has(n)) return true;
    for (const d of this.domains) if (n === d || n.endsWith(`.${d}`)) return true;
    if (/^[0-9a-f:.]+$/.test(n) && (n.includes(':') || /^\d{1,3}(\.\d{1,3}){3}$/.test(n))) return this.isInternalAddress(n);
    return false;
  }

  isInternalAddress(addr: string): boolean {
    if (this.networks.has(addr)) return true;
    return this.config.hide.privateAddresses && isPrivateAddress(addr);
  }

  /** Does this header text name an internal host, domain or address anywhere? */
  mentionsInternal(text: string): boolean {
    for (const m of text.matchAll(HOST_TOKEN)) if (this.isInternalHost(m[0])) return true;
    if (text.includes(':')) {
      const t = text.replace(/ipv6:/gi, ' '); // "[IPv6:fd00::5]": the "6" must not start the address
      for (const m of t.matchAll(IPV6_TOKEN)) if (m[0].length > 2 && this.isInternalAddress(m[0])) return true;
    }
    return false;
  }

  /** Right side of a message id that gives away an internal host (internal name, no dot, localhost, private IP). */
  isInternalIdHost(right: string): boolean {
    const r = right.toLowerCase().replace(/^\[|\]$/g, '');
    if (!r) return false;
    if (this.isInternalHost(r)) return true;
    if (!r.includes('.') && !r.includes(':')) return true; // "PC-ALICE", "localhost"
    return /^localhost(\.|$)/.test(r);
  }
}

function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(36);
}

/** Public domain for rewritten ids, undefined when none is configured. */
function publicDomainOf(config: OutboundConfig): string | undefined {
  const explicit = config.hide.publicDomain?.trim();
  if (explicit) return explicit;
  const first = config.localDomains.find((d) => !d.startsWith('.') && !d.startsWith('*'));
  return first?.trim() || undefined;
}

/**
 * Plan the header changes that hide internal names. `headers` are exactly the headers the milter saw,
 * in order. Ids: "<left@internal-host>" becomes "<left.HASH@public-domain>" (HASH = short hash of the
 * internal host, so two hosts' ids cannot collide; the same id always maps to the same value, so
 * References/In-Reply-To rewritten later stay consistent with the Message-ID sent earlier).
 */
export function planHiding(headers: readonly HeaderField[], config: OutboundConfig, names = new InternalNames(config)): HidingPlan {
  const h = config.hide;
  const remove = new Set(h.removeHeaders.map((n) => n.toLowerCase()));
  if (h.removeMailer) {
    remove.add('x-mailer');
    remove.add('user-agent');
  }
  const idHeaders = new Set(['message-id']);
  if (h.rewriteReferences) {
    idHeaders.add('in-reply-to');
    idHeaders.add('references');
  }
  const pub = publicDomainOf(config);

  const seen = new Map<string, number>();
  const changes: HeaderChange[] = [];
  const deletes: Array<{ name: string; index: number; key: string }> = [];
  let receivedDeleted = 0;
  let removed = 0;
  let idsRewritten = 0;

  for (const field of headers) {
    const key = field.name.toLowerCase();
    const index = (seen.get(key) ?? 0) + 1;
    seen.set(key, index);
    const value = field.value ?? '';
    if (key === 'received') {
      if (h.received === 'all' || (h.received === 'internal' && names.mentionsInternal(value))) {
        deletes.push({ name: field.name, index, key });
        receivedDeleted++;
      }
      continue;
    }
    if (remove.has(key)) {
      deletes.push({ name: field.name, index, key });
      removed++;
      continue;
    }
    if (idHeaders.has(key) && pub) {
      let n = 0;
      const next = value.replace(MSG_ID, (whole, left: string, right: string) => {
        if (!names.isInternalIdHost(right)) return whole;
        n++;
        return `<${left}.${fnv1a(right.toLowerCase())}@${pub}>`;
      });
      if (n > 0 && next !== value) {
        // Keep the original leading white space: verbatim with HDR_LEADSPC, and harmless without.
        changes.push({ kind: 'change', name: field.name, index, value: next.trim() === '' ? value : next });
        idsRewritten += n;
      }
    }
  }

  deletes.sort((a, b) => (a.key === b.key ? b.index - a.index : a.key < b.key ? -1 : 1));
  for (const d of deletes) changes.push({ kind: 'change', name: d.name, index: d.index, value: '' });

  const parts: string[] = [];
  if (receivedDeleted) parts.push(`${receivedDeleted} Received deleted`);
  if (removed) parts.push(`${removed} revealing header${removed > 1 ? 's' : ''} deleted`);
  if (idsRewritten) parts.push(`${idsRewritten} message id${idsRewritten > 1 ? 's' : ''} rewritten`);
  return { changes, summary: parts.join(', ') };
}
