// The resolver contract used by policy modules: typed outcomes, never thrown DNS errors.
// A policy module must be able to tell "does not exist" (permanent) from "could not ask" (temporary).

/**
 * - ok: answer with at least one record
 * - nxdomain: the name does not exist (permanent)
 * - nodata: the name exists, no record of that type (permanent)
 * - servfail / timeout / error: the question could not be answered now (temporary)
 */
export type DnsStatus = 'ok' | 'nxdomain' | 'nodata' | 'servfail' | 'timeout' | 'error';

export interface DnsResult<T> {
  status: DnsStatus;
  records: readonly T[];
  /** Node error code for non-ok outcomes (ENOTFOUND, ESERVFAIL, ETIMEOUT, ...). */
  code?: string;
}

export interface MxRecord {
  exchange: string;
  priority: number;
}

export interface Resolver {
  a(name: string): Promise<DnsResult<string>>;
  aaaa(name: string): Promise<DnsResult<string>>;
  mx(name: string): Promise<DnsResult<MxRecord>>;
  /** PTR names of a textual IPv4/IPv6 address (the reverse name is built here). */
  ptr(address: string): Promise<DnsResult<string>>;
  /** TXT records, each record's strings joined. */
  txt(name: string): Promise<DnsResult<string>>;
  /** Drop cached answers (tests, config reload). */
  clearCache(): void;
}

/** True for outcomes that mean "try again later", never "does not exist". */
export function isTemporary(status: DnsStatus): boolean {
  return status === 'servfail' || status === 'timeout' || status === 'error';
}
