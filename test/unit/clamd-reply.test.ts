// Pure parts of the clamd module: INSTREAM reply parsing, address parsing, config defaults.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseInstreamReply } from '../../src/content/clamd/reply.js';
import { parseClamdAddress } from '../../src/content/clamd/address.js';
import { clamdConfigSchema } from '../../src/content/clamd/config.js';
import {
  ClamdProtocolError,
  ClamdReplyError,
  ClamdSizeLimitError,
} from '../../src/content/clamd/errors.js';

test('clean reply', () => {
  assert.deepEqual(parseInstreamReply(Buffer.from('stream: OK\0')), { infected: false });
});

test('FOUND reply gives the signature, without the ExtendedDetectionInfo hash', () => {
  assert.deepEqual(parseInstreamReply('stream: Eicar-Test-Signature.UNOFFICIAL FOUND\0'), {
    infected: true,
    signatures: ['Eicar-Test-Signature.UNOFFICIAL'],
  });
  assert.deepEqual(parseInstreamReply('stream: Win.Test.OK(44d88612fea8a8f36de82e1278abb02f:68) FOUND\0'), {
    infected: true,
    signatures: ['Win.Test.OK'],
  });
});

test('several FOUND lines (AllowAllMatchScan) are all kept', () => {
  const v = parseInstreamReply('stream: A FOUND\0stream: B FOUND\0');
  assert.deepEqual(v, { infected: true, signatures: ['A', 'B'] });
});

test('size limit, ERROR, empty and garbage replies are typed errors, never clean', () => {
  assert.throws(() => parseInstreamReply('INSTREAM size limit exceeded. ERROR\0'), ClamdSizeLimitError);
  assert.throws(() => parseInstreamReply('stream: Can\'t allocate memory ERROR\0'), ClamdReplyError);
  assert.throws(() => parseInstreamReply(''), ClamdProtocolError);
  assert.throws(() => parseInstreamReply('\0'), ClamdProtocolError);
  assert.throws(() => parseInstreamReply('UNKNOWN COMMAND\n'), ClamdProtocolError);
  assert.throws(() => parseInstreamReply('stream: maybe\0'), ClamdProtocolError);
  try {
    parseInstreamReply('INSTREAM size limit exceeded. ERROR\0');
  } catch (err) {
    assert.equal((err as ClamdSizeLimitError).code, 'CLAMD_SIZE_LIMIT');
  }
});

test('addresses', () => {
  assert.deepEqual(parseClamdAddress('unix:/var/run/clamav/clamd.ctl'), { kind: 'unix', path: '/var/run/clamav/clamd.ctl' });
  assert.deepEqual(parseClamdAddress('/tmp/c.sock'), { kind: 'unix', path: '/tmp/c.sock' });
  assert.deepEqual(parseClamdAddress('tcp:127.0.0.1:3310'), { kind: 'tcp', host: '127.0.0.1', port: 3310 });
  assert.deepEqual(parseClamdAddress('tcp:[::1]:3310'), { kind: 'tcp', host: '::1', port: 3310 });
  assert.deepEqual(parseClamdAddress('tcp:clamd.internal:3310'), { kind: 'tcp', host: 'clamd.internal', port: 3310 });
  for (const bad of ['unix:rel/path', 'tcp:host', 'tcp:host:0', 'tcp:host:70000', 'clamd.ctl', '']) {
    assert.throws(() => parseClamdAddress(bad), { code: 'CLAMD_ADDRESS' }, bad);
  }
});

test('config defaults: Debian socket, enabled, reject infected with 554, tempfail 451 when unavailable', () => {
  const c = clamdConfigSchema.parse(undefined);
  assert.equal(c.enabled, true);
  assert.equal(c.address, 'unix:/var/run/clamav/clamd.ctl');
  assert.equal(c.infectedAction, 'reject');
  assert.deepEqual(c.infectedReply, { code: 554, enhanced: '5.7.1', text: 'virus found: {signature}' });
  assert.equal(c.failAction, 'tempfail');
  assert.equal(c.failReply.code, 451);
  assert.equal(c.failReply.enhanced, '4.7.1');
  assert.equal(c.concurrency, 4);
  assert.ok(c.messageBudgetMs > c.scanTimeoutMs);
  assert.throws(() => clamdConfigSchema.parse({ address: 'nowhere' }));
  assert.throws(() => clamdConfigSchema.parse({ failAction: 'accept' }));
  assert.throws(() => clamdConfigSchema.parse({ infectedAction: 'accept' }));
  assert.equal(clamdConfigSchema.parse({ infectedAction: 'quarantine' }).infectedAction, 'quarantine');
});

test('every config key has a description', () => {
  const shape = (clamdConfigSchema as unknown as { def: { innerType: { shape: Record<string, { description?: string }> } } }).def.innerType.shape;
  for (const [key, schema] of Object.entries(shape)) assert.ok(schema.description && schema.description.length > 10, key);
});
