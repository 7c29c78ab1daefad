// Public surface of the DNS module.
export * from './types.js';
export { createResolver, CachingResolver, DnsConfigError, type ResolverOptions } from './resolver.js';
export { ptrName, reversedLabels } from './reverse.js';
export { dnsConfigSchema, type DnsConfig } from './config.js';
