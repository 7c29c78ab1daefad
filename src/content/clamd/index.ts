// Public surface of the clamd module: the content check, the client, its errors and the config schema.
export { createClamdCheck, CLAMD_INFECTED, CLAMD_UNAVAILABLE, type ClamdCheckOptions, type ClamdScanner } from './check.js';
export { ClamdClient, type ClamdClientOptions } from './client.js';
export { clamdConfigSchema, type ClamdConfig } from './config.js';
export { parseClamdAddress, formatClamdAddress, DEFAULT_CLAMD_ADDRESS, ClamdAddressError, type ClamdAddress } from './address.js';
export { parseInstreamReply, type ScanVerdict } from './reply.js';
export * from './errors.js';
