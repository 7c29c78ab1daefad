// Option negotiation for both sides. The filter side answers an MTA's OPTNEG offer with what the
// policy needs (never more than offered, so the MTA never drops us); the MTA side validates a reply.
// Also: which commands expect a reply under the agreed protocol flags.
import { ALL_ACTIONS, ALL_PROTOCOL, Cmd, MAX_VERSION, MDS_FLAGS, MIN_VERSION, NO_REPLY_FLAG, Proto } from './constants.js';
import { MilterProtocolError } from './errors.js';
import type { FilterReply, SymbolList } from './replies.js';

export interface Offer {
  version: number;
  actions: number;
  protocol: number;
}

export interface Wanted {
  /** Action flags the filter would like (SMFIF_*). */
  actions: number;
  /** Protocol flags the filter would like: NO* steps, NR_* no-reply steps, HDR_LEADSPC, SKIP... */
  protocol: number;
  /** Macro lists to request (needs SMFIF_SETSYMLIST). */
  symbolLists?: SymbolList[];
}

export interface Agreement {
  version: number;
  actions: number;
  protocol: number;
  /** Wanted actions the MTA did not offer: the filter must not use them. */
  missingActions: number;
  /** Wanted no-reply steps the MTA did not offer: the filter must still reply ("c") to those. */
  emulatedNoReply: number;
  reply: Extract<FilterReply, { type: 'optneg' }>;
}

/** Filter side: answer an MTA offer. Throws BAD_NEGOTIATION when the MTA's version is unusable. */
export function negotiateAsFilter(offer: Offer, wanted: Wanted): Agreement {
  if (offer.version < MIN_VERSION) {
    throw new MilterProtocolError('BAD_NEGOTIATION', `MTA protocol version ${offer.version} is below ${MIN_VERSION}`);
  }
  const version = Math.min(offer.version, MAX_VERSION);
  // libmilter's convention: an MTA offering 0 means the old defaults.
  const offeredActions = offer.actions === 0 ? 0x0f : offer.actions;
  const offeredProtocol = offer.protocol === 0 ? 0x3f : offer.protocol;
  let actions = wanted.actions & offeredActions & ALL_ACTIONS;
  const protocol = wanted.protocol & offeredProtocol & ALL_PROTOCOL;
  const nrBits = Object.values(NO_REPLY_FLAG).reduce((a, b) => a | b, 0);
  const emulatedNoReply = wanted.protocol & nrBits & ~protocol;
  let symbolLists = wanted.symbolLists;
  if (symbolLists && symbolLists.length > 0 && (offeredActions & 0x100) !== 0 && version >= 6) actions |= 0x100;
  else symbolLists = undefined;
  const reply: Agreement['reply'] = { type: 'optneg', version, actions, protocol };
  if (symbolLists) reply.symbolLists = symbolLists;
  return { version, actions, protocol, missingActions: wanted.actions & ~actions, emulatedNoReply, reply };
}

/** MTA side: check a filter's OPTNEG reply against what was offered, as Postfix/sendmail do. */
export function validateFilterNegotiation(offer: Offer, reply: { version: number; actions: number; protocol: number }): void {
  if (reply.version < MIN_VERSION || reply.version > offer.version) {
    throw new MilterProtocolError('BAD_NEGOTIATION', `filter protocol version ${reply.version} conflicts with offered ${offer.version}`);
  }
  if ((reply.actions & ~offer.actions) !== 0) {
    throw new MilterProtocolError('BAD_NEGOTIATION', `filter asks actions 0x${reply.actions.toString(16)} beyond offered 0x${offer.actions.toString(16)}`);
  }
  if ((reply.protocol & ~MDS_FLAGS & ~offer.protocol) !== 0) {
    throw new MilterProtocolError('BAD_NEGOTIATION', `filter asks protocol 0x${reply.protocol.toString(16)} beyond offered 0x${offer.protocol.toString(16)}`);
  }
}

/** Whether the filter must answer `cmd` under the agreed protocol flags. */
export function expectsReply(cmd: number, protocol: number): boolean {
  switch (cmd) {
    case Cmd.MACRO:
    case Cmd.ABORT:
    case Cmd.QUIT:
    case Cmd.QUIT_NC:
      return false;
    case Cmd.BODYEOB:
    case Cmd.OPTNEG:
      return true;
    default: {
      const nr = NO_REPLY_FLAG[cmd];
      return nr === undefined ? true : (protocol & nr) === 0;
    }
  }
}

/** Whether the MTA will send `cmd` at all under the agreed protocol flags (NO* steps are skipped). */
export function stepSent(cmd: number, protocol: number): boolean {
  const skip: Record<number, number> = {
    [Cmd.CONNECT]: Proto.NOCONNECT,
    [Cmd.HELO]: Proto.NOHELO,
    [Cmd.MAIL]: Proto.NOMAIL,
    [Cmd.RCPT]: Proto.NORCPT,
    [Cmd.BODY]: Proto.NOBODY,
    [Cmd.HEADER]: Proto.NOHDRS,
    [Cmd.EOH]: Proto.NOEOH,
    [Cmd.UNKNOWN]: Proto.NOUNKNOWN,
    [Cmd.DATA]: Proto.NODATA,
  };
  const flag = skip[cmd];
  return flag === undefined || (protocol & flag) === 0;
}
