// Public face of the milter codec: bytes <-> typed milter messages for both the filter and MTA side.
// No I/O and no dependencies; usable on its own.
export * from './constants.js';
export * from './errors.js';
export * from './frame.js';
export * from './commands.js';
export * from './replies.js';
export * from './negotiate.js';
export * from './replytext.js';
