// Golden byte fixtures for the milter codec, written by hand from the protocol facts (PROTOCOL.md
// §1): every command and reply encodes to exactly these bytes and decodes back; framing edge cases;
// option negotiation on both sides; REPLYCODE text rules.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Action, Cmd, FrameDecoder, MilterProtocolError, Proto, decodeCommand, decodeReply, encodeCommand, encodeFrame,
  encodeReplies, encodeReply, expectsReply, formatReplyText, negotiateAsFilter, stepSent, validateFilterNegotiation,
  type FilterReply, type Frame, type MtaCommand,
} from '../../codec/index.js';

/** Bytes from literal parts: numbers are bytes, strings are latin1 text (write NULs as \0). */
function b(...parts: Array<number | number[] | string | Buffer>): Buffer {
  return Buffer.concat(
    parts.map((p) => (typeof p === 'number' ? Buffer.from([p]) : Array.isArray(p) ? Buffer.from(p) : typeof p === 'string' ? Buffer.from(p, 'latin1') : p)),
  );
}

/** Split one encoded frame the way the decoder would (and check the length field is consistent). */
function frameOf(bytes: Buffer): Frame {
  const frames = new FrameDecoder().push(bytes);
  assert.equal(frames.length, 1);
  return frames[0]!;
}

const isErr = (code: string) => (e: unknown) => e instanceof MilterProtocolError && e.code === code;

describe('command golden bytes (MTA -> filter)', () => {
  const cases: Array<[string, MtaCommand, Buffer]> = [
    ['OPTNEG v6: version, actions, protocol in that order', { type: 'optneg', version: 6, actions: 0x1ff, protocol: 0x1fffff },
      b([0, 0, 0, 13], 0x4f, [0, 0, 0, 6], [0, 0, 1, 0xff], [0, 0x1f, 0xff, 0xff])],
    ['MACRO for CONNECT with two pairs', { type: 'macro', stage: Cmd.CONNECT, macros: [['j', 'mx'], ['{daemon_name}', 'smtpd']] },
      b([0, 0, 0, 27], 'D', 'C', 'j\0mx\0{daemon_name}\0smtpd\0')],
    ['MACRO empty list (Postfix before each header)', { type: 'macro', stage: Cmd.HEADER, macros: [] }, b([0, 0, 0, 2], 'D', 'L')],
    ['MACRO with an empty value', { type: 'macro', stage: Cmd.MAIL, macros: [['i', '']] }, b([0, 0, 0, 5], 'D', 'M', 'i\0\0')],
    ['CONNECT inet4: host, family, port (BE), address', { type: 'connect', hostname: 'host', family: 'inet4', port: 25, address: '192.0.2.1' },
      b([0, 0, 0, 19], 'C', 'host\0', '4', [0, 25], '192.0.2.1\0')],
    ['CONNECT inet6 with sendmail IPv6: prefix kept verbatim by the codec', { type: 'connect', hostname: 'h', family: 'inet6', port: 12345, address: 'IPv6:2001:db8::1' },
      b([0, 0, 0, 23], 'C', 'h\0', '6', [0x30, 0x39], 'IPv6:2001:db8::1\0')],
    ['CONNECT unix: port 0 still present', { type: 'connect', hostname: 'localhost', family: 'unix', port: 0, address: '/run/s' },
      b([0, 0, 0, 21], 'C', 'localhost\0', 'L', [0, 0], '/run/s\0')],
    ['CONNECT unknown: nothing after the family', { type: 'connect', hostname: 'host', family: 'unknown' }, b([0, 0, 0, 7], 'C', 'host\0', 'U')],
    ['HELO', { type: 'helo', name: 'mx' }, b([0, 0, 0, 4], 'H', 'mx\0')],
    ['MAIL with ESMTP args', { type: 'mail', args: ['<a@b>', 'BODY=8BITMIME'] }, b([0, 0, 0, 21], 'M', '<a@b>\0BODY=8BITMIME\0')],
    ['RCPT', { type: 'rcpt', args: ['<c@d>'] }, b([0, 0, 0, 7], 'R', '<c@d>\0')],
    ['DATA (empty)', { type: 'data' }, b([0, 0, 0, 1], 'T')],
    ['HEADER with empty value Name\\0\\0', { type: 'header', name: 'Name', value: '' }, b([0, 0, 0, 7], 'L', 'Name\0\0')],
    ['HEADER folded with bare LF', { type: 'header', name: 'X', value: 'a\n b' }, b([0, 0, 0, 8], 'L', 'X\0a\n b\0')],
    ['EOH', { type: 'eoh' }, b([0, 0, 0, 1], 'N')],
    ['BODY: raw bytes, no NUL', { type: 'body', chunk: Buffer.from('hi\r\n') }, b([0, 0, 0, 5], 'B', 'hi\r\n')],
    ['BODYEOB', { type: 'eob' }, b([0, 0, 0, 1], 'E')],
    ['BODYEOB carrying data', { type: 'eob', chunk: Buffer.from('x') }, b([0, 0, 0, 2], 'E', 'x')],
    ['ABORT', { type: 'abort' }, b([0, 0, 0, 1], 'A')],
    ['QUIT', { type: 'quit' }, b([0, 0, 0, 1], 'Q')],
    ['QUIT_NC', { type: 'quitNewConnection' }, b([0, 0, 0, 1], 'K')],
    ['UNKNOWN', { type: 'unknown', line: 'XYZ a' }, b([0, 0, 0, 7], 'U', 'XYZ a\0')],
  ];
  for (const [name, cmd, bytes] of cases) {
    test(name, () => {
      assert.deepEqual(encodeCommand(cmd), bytes);
      assert.deepEqual(decodeCommand(frameOf(bytes)), cmd);
    });
  }

  test('BODY chunk of exactly 65535 bytes has len 65536', () => {
    const chunk = Buffer.alloc(65535, 0x61);
    const bytes = encodeCommand({ type: 'body', chunk });
    assert.deepEqual(bytes.subarray(0, 5), b([0, 1, 0, 0], 'B'));
    assert.equal(bytes.length, 65540);
    const dec = new FrameDecoder({ maxFrameLength: 65536 });
    const frames = [...dec.push(bytes.subarray(0, 30000)), ...dec.push(bytes.subarray(30000))];
    assert.equal(frames.length, 1);
    assert.deepEqual(decodeCommand(frames[0]!), { type: 'body', chunk });
  });

  test('MACRO with an odd number of strings: last name gets an empty value', () => {
    assert.deepEqual(decodeCommand(frameOf(b([0, 0, 0, 9], 'D', 'C', 'j\0mx\0v\0'))), { type: 'macro', stage: Cmd.CONNECT, macros: [['j', 'mx'], ['v', '']] });
  });

  test('MACRO for BODY/UNKNOWN stages and with no pairs decode', () => {
    assert.deepEqual(decodeCommand(frameOf(b([0, 0, 0, 2], 'D', 'B'))), { type: 'macro', stage: Cmd.BODY, macros: [] });
    assert.deepEqual(decodeCommand(frameOf(b([0, 0, 0, 2], 'D', 'U'))), { type: 'macro', stage: Cmd.UNKNOWN, macros: [] });
  });

  test('malformed payloads are BAD_PAYLOAD, unknown codes UNKNOWN_COMMAND', () => {
    assert.throws(() => decodeCommand(frameOf(b([0, 0, 0, 3], 'O', [0, 6]))), isErr('BAD_PAYLOAD'));
    assert.throws(() => decodeCommand(frameOf(b([0, 0, 0, 1], 'D'))), isErr('BAD_PAYLOAD'));
    assert.throws(() => decodeCommand(frameOf(b([0, 0, 0, 4], 'C', 'h\0', '9'))), isErr('BAD_PAYLOAD'));
    assert.throws(() => decodeCommand(frameOf(b([0, 0, 0, 4], 'C', 'h\0', '4'))), isErr('BAD_PAYLOAD'), 'missing port');
    assert.throws(() => decodeCommand(frameOf(b([0, 0, 0, 6], 'C', 'h\0', '4', [0, 25]))), isErr('BAD_PAYLOAD'), 'missing address');
    assert.throws(() => decodeCommand(frameOf(b([0, 0, 0, 3], 'C', 'ho'))), isErr('BAD_PAYLOAD'), 'hostname without NUL');
    assert.throws(() => decodeCommand(frameOf(b([0, 0, 0, 3], 'H', 'mx'))), isErr('BAD_PAYLOAD'), 'HELO without NUL');
    assert.throws(() => decodeCommand(frameOf(b([0, 0, 0, 1], 'M'))), isErr('BAD_PAYLOAD'), 'MAIL without address');
    assert.throws(() => decodeCommand(frameOf(b([0, 0, 0, 1], 'Z'))), isErr('UNKNOWN_COMMAND'));
  });

  test('a HEADER value missing its NUL is taken to the end of the payload', () => {
    assert.deepEqual(decodeCommand(frameOf(b([0, 0, 0, 4], 'L', 'X\0v'))), { type: 'header', name: 'X', value: 'v' });
  });
});

describe('reply golden bytes (filter -> MTA)', () => {
  const simple: Array<[FilterReply['type'], string]> = [
    ['continue', 'c'], ['accept', 'a'], ['reject', 'r'], ['tempfail', 't'], ['discard', 'd'], ['skip', 's'],
    ['progress', 'p'], ['shutdown', '4'], ['connFail', 'f'],
  ];
  for (const [type, code] of simple) {
    test(`${type} is the bare code '${code}'`, () => {
      const bytes = b([0, 0, 0, 1], code);
      assert.deepEqual(encodeReply({ type } as FilterReply), bytes);
      assert.deepEqual(decodeReply(frameOf(bytes)), { type });
    });
  }
  const multi = formatReplyText({ code: 550, enhanced: '5.7.1', text: ['first 100%', 'second'] });
  const cases: Array<[string, FilterReply, Buffer]> = [
    ['REPLYCODE multi-line: ddd-x.y.z, CRLF between, % doubled, one NUL', { type: 'replyCode', text: multi },
      b([0, 0, 0, 41], 'y', '550-5.7.1 first 100%%\r\n550 5.7.1 second\0')],
    ['ADDHEADER', { type: 'addHeader', name: 'X-A', value: ' v' }, b([0, 0, 0, 8], 'h', 'X-A\0 v\0')],
    ['INSHEADER index 0 (top)', { type: 'insertHeader', index: 0, name: 'X', value: 'v' }, b([0, 0, 0, 9], 'i', [0, 0, 0, 0], 'X\0v\0')],
    ['CHGHEADER index 2, empty value deletes', { type: 'changeHeader', index: 2, name: 'Subject', value: '' }, b([0, 0, 0, 14], 'm', [0, 0, 0, 2], 'Subject\0\0')],
    ['ADDRCPT', { type: 'addRcpt', rcpt: '<x@y>' }, b([0, 0, 0, 7], '+', '<x@y>\0')],
    ['ADDRCPT_PAR without args', { type: 'addRcptPar', rcpt: '<x@y>' }, b([0, 0, 0, 7], '2', '<x@y>\0')],
    ['ADDRCPT_PAR with args', { type: 'addRcptPar', rcpt: '<x@y>', args: 'NOTIFY=NEVER' }, b([0, 0, 0, 20], '2', '<x@y>\0NOTIFY=NEVER\0')],
    ['DELRCPT', { type: 'delRcpt', rcpt: '<x@y>' }, b([0, 0, 0, 7], '-', '<x@y>\0')],
    ['CHGFROM with args', { type: 'changeFrom', from: '<f@g>', args: 'RET=HDRS' }, b([0, 0, 0, 16], 'e', '<f@g>\0RET=HDRS\0')],
    ['CHGFROM without args', { type: 'changeFrom', from: '<f@g>' }, b([0, 0, 0, 7], 'e', '<f@g>\0')],
    ['REPLBODY raw', { type: 'replaceBody', chunk: Buffer.from('new\r\n') }, b([0, 0, 0, 6], 'b', 'new\r\n')],
    ['QUARANTINE', { type: 'quarantine', reason: 'held' }, b([0, 0, 0, 6], 'q', 'held\0')],
    ['SETSYMLIST', { type: 'setSymList', stage: 2, macros: ['i', '{auth_type}'] }, b([0, 0, 0, 19], 'l', [0, 0, 0, 2], 'i {auth_type}\0')],
    ['OPTNEG reply without lists', { type: 'optneg', version: 6, actions: 0x21, protocol: 0x1000 },
      b([0, 0, 0, 13], 'O', [0, 0, 0, 6], [0, 0, 0, 0x21], [0, 0, 0x10, 0])],
    ['OPTNEG reply with symbol lists (stage uint32 + space-separated names + NUL)',
      { type: 'optneg', version: 6, actions: 0x121, protocol: 0x1000, symbolLists: [{ stage: 1, macros: ['j', '{my}'] }, { stage: 3, macros: ['k', '{other}'] }] },
      b([0, 0, 0, 38], 'O', [0, 0, 0, 6], [0, 0, 1, 0x21], [0, 0, 0x10, 0], [0, 0, 0, 1], 'j {my}\0', [0, 0, 0, 3], 'k {other}\0')],
  ];
  for (const [name, reply, bytes] of cases) {
    test(name, () => {
      assert.deepEqual(encodeReply(reply), bytes);
      assert.deepEqual(decodeReply(frameOf(bytes)), reply);
    });
  }

  test('encodeReplies puts every frame in one buffer, in order', () => {
    const out = encodeReplies([{ type: 'addHeader', name: 'X', value: 'v' }, { type: 'accept' }]);
    assert.deepEqual(out, b([0, 0, 0, 5], 'h', 'X\0v\0', [0, 0, 0, 1], 'a'));
  });

  test('strings containing NUL are refused', () => {
    assert.throws(() => encodeReply({ type: 'addHeader', name: 'X', value: 'a\0b' }), isErr('BAD_REPLY'));
  });

  test('malformed reply payloads and unknown reply codes', () => {
    assert.throws(() => decodeReply(frameOf(b([0, 0, 0, 5], 'O', [0, 0, 0, 6]))), isErr('BAD_PAYLOAD'));
    assert.throws(() => decodeReply(frameOf(b([0, 0, 0, 4], 'm', [0, 0, 0]))), isErr('BAD_PAYLOAD'));
    assert.throws(() => decodeReply(frameOf(b([0, 0, 0, 3], 'y', '55'))), isErr('BAD_PAYLOAD'));
    assert.throws(() => decodeReply(frameOf(b([0, 0, 0, 1], 'Z'))), isErr('UNKNOWN_COMMAND'));
  });
});

describe('framing', () => {
  test('many frames in one chunk, and one frame split byte by byte', () => {
    const stream = Buffer.concat([encodeFrame(Cmd.ABORT), encodeCommand({ type: 'helo', name: 'x' }), encodeFrame(Cmd.QUIT)]);
    assert.deepEqual(new FrameDecoder().push(stream).map((f) => f.code), [Cmd.ABORT, Cmd.HELO, Cmd.QUIT]);
    const dec = new FrameDecoder();
    const got: Frame[] = [];
    for (const byte of stream) got.push(...dec.push(Buffer.from([byte])));
    assert.deepEqual(got.map((f) => [f.code, f.payload.toString('latin1')]), [[Cmd.ABORT, ''], [Cmd.HELO, 'x\0'], [Cmd.QUIT, '']]);
    assert.equal(dec.pendingBytes, 0);
  });

  test('len 0 is FRAME_EMPTY and the decoder stays failed', () => {
    const dec = new FrameDecoder();
    assert.throws(() => dec.push(b([0, 0, 0, 0])), isErr('FRAME_EMPTY'));
    assert.throws(() => dec.push(encodeFrame(Cmd.QUIT)), isErr('FRAME_EMPTY'));
  });

  test('an oversize length is refused from its header, before any payload is buffered', () => {
    const dec = new FrameDecoder({ maxFrameLength: 65536 });
    assert.throws(() => dec.push(b([0, 1, 0, 1])), isErr('FRAME_TOO_LARGE'));
    assert.equal(dec.pendingBytes, 0);
    const dec2 = new FrameDecoder({ maxFrameLength: 65536 });
    dec2.push(b([0, 1]));
    assert.throws(() => dec2.push(b([0, 1])), isErr('FRAME_TOO_LARGE'), 'header split over two reads');
    // Postfix's reply limit and a 4 GiB length are both refused by the default limit.
    assert.throws(() => new FrameDecoder().push(b([0xff, 0xff, 0xff, 0xff], 'B')), isErr('FRAME_TOO_LARGE'));
  });

  test('len=65536 accepted with a limit of 65536, len=65537 refused', () => {
    assert.deepEqual(new FrameDecoder({ maxFrameLength: 65536 }).push(b([0, 1, 0, 0])), []);
    assert.throws(() => new FrameDecoder({ maxFrameLength: 65536 }).push(b([0, 1, 0, 1])), isErr('FRAME_TOO_LARGE'));
  });
});

describe('negotiation, filter side', () => {
  const wanted = { actions: Action.ADDHDRS | Action.CHGHDRS | Action.QUARANTINE, protocol: Proto.NR_HDR | Proto.NR_BODY | Proto.NOUNKNOWN | Proto.HDR_LEADSPC };

  test('version is min(ours, MTA); v6 offer from Postfix', () => {
    assert.equal(negotiateAsFilter({ version: 6, actions: 0x1ff, protocol: 0x1fffff }, wanted).version, 6);
    assert.equal(negotiateAsFilter({ version: 2, actions: 0x1ff, protocol: 0x1fffff }, wanted).version, 2);
    assert.equal(negotiateAsFilter({ version: 9, actions: 0x1ff, protocol: 0x1fffff }, wanted).version, 6);
  });

  test('MTA version below 2 is BAD_NEGOTIATION', () => {
    assert.throws(() => negotiateAsFilter({ version: 1, actions: 0x1ff, protocol: 0x1fffff }, wanted), isErr('BAD_NEGOTIATION'));
    assert.throws(() => negotiateAsFilter({ version: 0, actions: 0, protocol: 0 }, wanted), isErr('BAD_NEGOTIATION'));
  });

  test('actions and protocol are subsets of the offer; what is missing is reported', () => {
    const a = negotiateAsFilter({ version: 6, actions: Action.ADDHDRS, protocol: Proto.NR_HDR | Proto.NOUNKNOWN }, wanted);
    assert.equal(a.actions, Action.ADDHDRS);
    assert.equal(a.missingActions, Action.CHGHDRS | Action.QUARANTINE);
    assert.equal(a.protocol, Proto.NR_HDR | Proto.NOUNKNOWN);
    assert.deepEqual(a.reply, { type: 'optneg', version: 6, actions: Action.ADDHDRS, protocol: Proto.NR_HDR | Proto.NOUNKNOWN });
  });

  test('NR_* the MTA did not offer are faked: the filter still answers those steps', () => {
    const a = negotiateAsFilter({ version: 6, actions: 0x1ff, protocol: 0x7f }, wanted);
    assert.equal(a.protocol & Proto.NR_BODY, 0);
    assert.equal(a.emulatedNoReply, Proto.NR_BODY | Proto.NR_HDR);
    assert.equal(expectsReply(Cmd.BODY, a.protocol), true);
    assert.equal(expectsReply(Cmd.HEADER, a.protocol), true);
  });

  test('an offer of 0 means libmilter defaults (actions 0x0F, protocol 0x3F)', () => {
    const a = negotiateAsFilter({ version: 2, actions: 0, protocol: 0 }, { actions: 0x1ff, protocol: 0x1fffff });
    assert.equal(a.actions, 0x0f);
    assert.equal(a.protocol, 0x3f);
  });

  test('symbol lists only when SETSYMLIST is offered and version 6', () => {
    const lists = [{ stage: 0, macros: ['j'] }];
    const yes = negotiateAsFilter({ version: 6, actions: 0x1ff, protocol: 0x1fffff }, { ...wanted, symbolLists: lists });
    assert.deepEqual(yes.reply.symbolLists, lists);
    assert.ok((yes.actions & Action.SETSYMLIST) !== 0);
    const no = negotiateAsFilter({ version: 6, actions: 0xff, protocol: 0x1fffff }, { ...wanted, symbolLists: lists });
    assert.equal(no.reply.symbolLists, undefined);
    assert.equal(no.actions & Action.SETSYMLIST, 0);
    assert.equal(negotiateAsFilter({ version: 4, actions: 0x1ff, protocol: 0x3ff }, { ...wanted, symbolLists: lists }).reply.symbolLists, undefined);
  });
});

describe('negotiation, MTA side', () => {
  const offer = { version: 6, actions: 0x1ff, protocol: 0x1fffff };
  test('a reply within the offer passes; MDS bits are tolerated', () => {
    validateFilterNegotiation(offer, { version: 6, actions: 0x1ff, protocol: 0x1fffff });
    validateFilterNegotiation(offer, { version: 2, actions: 0, protocol: Proto.MDS_1M });
  });
  test('reply version above the offer, or 1, is a conflict', () => {
    assert.throws(() => validateFilterNegotiation({ ...offer, version: 4 }, { version: 6, actions: 1, protocol: 0 }), isErr('BAD_NEGOTIATION'));
    assert.throws(() => validateFilterNegotiation(offer, { version: 1, actions: 1, protocol: 0 }), isErr('BAD_NEGOTIATION'));
  });
  test('actions or protocol beyond the offer are refused', () => {
    assert.throws(() => validateFilterNegotiation({ ...offer, actions: 0x0f }, { version: 6, actions: 0x10, protocol: 0 }), isErr('BAD_NEGOTIATION'));
    assert.throws(() => validateFilterNegotiation({ ...offer, protocol: 0x7f }, { version: 6, actions: 0, protocol: 0x80 }), isErr('BAD_NEGOTIATION'));
  });
  test('expectsReply and stepSent follow the agreed flags', () => {
    for (const c of [Cmd.MACRO, Cmd.ABORT, Cmd.QUIT, Cmd.QUIT_NC]) assert.equal(expectsReply(c, 0), false);
    assert.equal(expectsReply(Cmd.BODYEOB, 0x1fffff), true, 'EOM is always answered');
    assert.equal(expectsReply(Cmd.OPTNEG, 0x1fffff), true);
    assert.equal(expectsReply(Cmd.CONNECT, Proto.NR_CONN), false);
    assert.equal(expectsReply(Cmd.CONNECT, 0), true);
    assert.equal(expectsReply(Cmd.UNKNOWN, Proto.NR_UNKN), false);
    assert.equal(stepSent(Cmd.HEADER, Proto.NOHDRS), false);
    assert.equal(stepSent(Cmd.DATA, Proto.NODATA), false);
    assert.equal(stepSent(Cmd.BODYEOB, 0x1fffff), true);
    assert.equal(stepSent(Cmd.MAIL, Proto.NOHELO), true);
  });
});

describe('REPLYCODE text', () => {
  test('single line with default enhanced code', () => {
    assert.equal(formatReplyText({ code: 451, text: 'try later' }), '451 4.0.0 try later');
  });
  test('class mismatch (550 4.7.1) and non-4xx/5xx codes are refused', () => {
    assert.throws(() => formatReplyText({ code: 550, enhanced: '4.7.1', text: 'x' }), isErr('BAD_REPLY'));
    assert.throws(() => formatReplyText({ code: 250, text: 'x' }), isErr('BAD_REPLY'));
    assert.throws(() => formatReplyText({ code: 550, enhanced: '5.7', text: 'x' }), isErr('BAD_REPLY'));
  });
  test('more than 32 lines refused; 32 accepted', () => {
    assert.throws(() => formatReplyText({ code: 550, text: Array.from({ length: 33 }, () => 'x') }), isErr('BAD_REPLY'));
    const ok = formatReplyText({ code: 550, enhanced: '5.7.1', text: Array.from({ length: 32 }, (_, i) => `l${i}`) });
    const lines = ok.split('\r\n');
    assert.equal(lines.length, 32);
    assert.ok(lines.slice(0, -1).every((l) => l.startsWith('550-5.7.1 ')));
    assert.ok(lines[31]!.startsWith('550 5.7.1 '));
    assert.ok(!ok.endsWith('\r\n'));
  });
  test('CR, LF and NUL inside a line are stripped; % is doubled; long lines cut', () => {
    const t = formatReplyText({ code: 550, enhanced: '5.7.1', text: 'a\r\nb\0c 50% off' });
    assert.equal(t, '550 5.7.1 a b c 50%% off');
    assert.ok(!/[\r\n\0]/.test(t));
    const long = formatReplyText({ code: 550, enhanced: '5.7.1', text: 'x'.repeat(5000) });
    assert.ok(long.length <= 980);
  });
});
