// Property tests of the milter codec (fast-check): every command and reply survives encode -> decode;
// a stream of many frames cut at arbitrary points decodes to the same frames; random bytes never
// escape the decoder as anything but MilterProtocolError, and it never buffers past its limit.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  FrameDecoder, MilterProtocolError, decodeCommand, decodeReply, encodeCommand, encodeReply,
  type FilterReply, type Frame, type MtaCommand,
} from '../../codec/index.js';

const RUNS = { numRuns: 300 };

/** Valid Unicode strings (UTF-8 on the wire) without NUL. */
const str = (maxLength = 40) => fc.string({ unit: 'binary', maxLength }).filter((s) => !s.includes('\0'));
/** Macro names in a symbol list: no space, no NUL, not empty. */
const token = fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }).filter((s) => !/[\s\0]/.test(s));
/** Records with an ordinary prototype, so deepStrictEqual compares them with decoded objects. */
function rec<T extends object>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true }) as unknown as fc.Arbitrary<T>;
}
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const bytes = (maxLength = 300) => fc.uint8Array({ maxLength }).map((a) => Buffer.from(a));

const command: fc.Arbitrary<MtaCommand> = fc.oneof(
  rec({ type: fc.constant('optneg' as const), version: u32, actions: u32, protocol: u32 }),
  rec({ type: fc.constant('macro' as const), stage: fc.integer({ min: 0, max: 255 }), macros: fc.array(fc.tuple(str(12), str(30)), { maxLength: 6 }) }),
  rec({ type: fc.constant('connect' as const), hostname: str(), family: fc.constantFrom('inet4' as const, 'inet6' as const, 'unix' as const), port: fc.integer({ min: 0, max: 65535 }), address: str() }),
  rec({ type: fc.constant('connect' as const), hostname: str(), family: fc.constant('unknown' as const) }),
  rec({ type: fc.constant('helo' as const), name: str() }),
  rec({ type: fc.constant('mail' as const), args: fc.array(str(), { minLength: 1, maxLength: 4 }) }),
  rec({ type: fc.constant('rcpt' as const), args: fc.array(str(), { minLength: 1, maxLength: 4 }) }),
  fc.constant({ type: 'data' as const }),
  rec({ type: fc.constant('header' as const), name: str(20), value: str(200) }),
  fc.constant({ type: 'eoh' as const }),
  rec({ type: fc.constant('body' as const), chunk: bytes() }),
  fc.constant({ type: 'eob' as const }),
  rec({ type: fc.constant('eob' as const), chunk: fc.uint8Array({ minLength: 1, maxLength: 100 }).map((a) => Buffer.from(a)) }),
  fc.constant({ type: 'abort' as const }),
  fc.constant({ type: 'quit' as const }),
  fc.constant({ type: 'quitNewConnection' as const }),
  rec({ type: fc.constant('unknown' as const), line: str() }),
);

const reply: fc.Arbitrary<FilterReply> = fc.oneof(
  fc.constantFrom<FilterReply>(
    { type: 'continue' }, { type: 'accept' }, { type: 'reject' }, { type: 'tempfail' }, { type: 'discard' },
    { type: 'skip' }, { type: 'progress' }, { type: 'shutdown' }, { type: 'connFail' },
  ),
  rec({ type: fc.constant('optneg' as const), version: u32, actions: u32, protocol: u32 }),
  rec({
    type: fc.constant('optneg' as const), version: u32, actions: u32, protocol: u32,
    symbolLists: fc.array(rec({ stage: u32, macros: fc.array(token, { maxLength: 5 }) }), { minLength: 1, maxLength: 4 }),
  }),
  rec({ type: fc.constant('replyCode' as const), text: str(200) }),
  rec({ type: fc.constant('addHeader' as const), name: str(20), value: str(200) }),
  rec({ type: fc.constant('insertHeader' as const), index: u32, name: str(20), value: str(200) }),
  rec({ type: fc.constant('changeHeader' as const), index: u32, name: str(20), value: str(200) }),
  rec({ type: fc.constant('addRcpt' as const), rcpt: str() }),
  rec({ type: fc.constant('addRcptPar' as const), rcpt: str() }),
  rec({ type: fc.constant('addRcptPar' as const), rcpt: str(), args: str() }),
  rec({ type: fc.constant('delRcpt' as const), rcpt: str() }),
  rec({ type: fc.constant('changeFrom' as const), from: str() }),
  rec({ type: fc.constant('changeFrom' as const), from: str(), args: str() }),
  rec({ type: fc.constant('replaceBody' as const), chunk: bytes() }),
  rec({ type: fc.constant('quarantine' as const), reason: str() }),
  rec({ type: fc.constant('setSymList' as const), stage: u32, macros: fc.array(token, { maxLength: 5 }) }),
);

function only(buf: Buffer): Frame {
  const frames = new FrameDecoder({ maxFrameLength: 1 << 20 }).push(buf);
  assert.equal(frames.length, 1);
  return frames[0]!;
}

/** Cut points for a buffer of length n: sorted distinct offsets strictly inside it. */
function cut(buf: Buffer, points: number[]): Buffer[] {
  const at = [...new Set(points.map((p) => p % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of at) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  out.push(buf.subarray(prev));
  return out;
}

describe('codec properties', () => {
  test('every command round-trips: decode(encode(c)) == c', () => {
    fc.assert(
      fc.property(command, (cmd) => {
        assert.deepEqual(decodeCommand(only(encodeCommand(cmd))), cmd);
      }),
      RUNS,
    );
  });

  test('every reply round-trips: decode(encode(r)) == r', () => {
    fc.assert(
      fc.property(reply, (r) => {
        assert.deepEqual(decodeReply(only(encodeReply(r))), r);
      }),
      RUNS,
    );
  });

  test('a stream of many frames cut anywhere decodes to the same frames', () => {
    fc.assert(
      fc.property(fc.array(command, { minLength: 1, maxLength: 30 }), fc.array(fc.nat(), { maxLength: 60 }), (cmds, points) => {
        const stream = Buffer.concat(cmds.map(encodeCommand));
        const dec = new FrameDecoder();
        const frames: Frame[] = [];
        for (const piece of cut(stream, points)) frames.push(...dec.push(piece));
        assert.equal(dec.pendingBytes, 0);
        assert.deepEqual(frames.map(decodeCommand), cmds);
      }),
      RUNS,
    );
  });

  test('random bytes: only MilterProtocolError escapes, and the decoder never holds more than one frame', () => {
    const max = 2048;
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 400 }), { maxLength: 20 }), fc.boolean(), (chunks, plausible) => {
        const dec = new FrameDecoder({ maxFrameLength: max });
        for (const c of chunks) {
          let data = Buffer.from(c);
          // Half the runs start each chunk with a small plausible length so whole frames come out too.
          if (plausible && data.length >= 4) data.writeUInt32BE(data.length % 300, 0);
          let frames: Frame[];
          try {
            frames = dec.push(data);
          } catch (err) {
            assert.ok(err instanceof MilterProtocolError, String(err));
            assert.equal(dec.pendingBytes, 0);
            return;
          }
          assert.ok(dec.pendingBytes <= 4 + max, `buffered ${dec.pendingBytes}`);
          for (const f of frames) {
            for (const decode of [decodeCommand, decodeReply] as const) {
              try {
                decode(f);
              } catch (err) {
                assert.ok(err instanceof MilterProtocolError, `${String(err)} for code 0x${f.code.toString(16)}`);
              }
            }
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  test('frames of random code and payload decode without anything but MilterProtocolError', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), bytes(64), (code, payload) => {
        const frame = { code, payload };
        for (const decode of [decodeCommand, decodeReply] as const) {
          try {
            decode(frame);
          } catch (err) {
            assert.ok(err instanceof MilterProtocolError, `${String(err)} for code 0x${code.toString(16)}`);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});
