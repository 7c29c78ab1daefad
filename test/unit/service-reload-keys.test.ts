// A reload swaps the policy but not the running server: changed start-only keys (listen socket,
// limits, session timeouts) are named in a warning instead of being silently ignored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultConfig } from '../../src/config/load.js';
import { startOnlyChanges } from '../../src/service.js';

test('startOnlyChanges names server keys a reload cannot apply, and nothing else', () => {
  const a = defaultConfig();
  const b = defaultConfig();
  assert.deepEqual(startOnlyChanges(a, b), []);
  b.server.listen = 'inet:10099@127.0.0.1';
  b.server.timeouts.idleMs = 1000;
  b.server.spoolThresholdBytes = 1; // applied on reload (new engine): not named
  b.policy.mode = 'monitor';
  assert.deepEqual(startOnlyChanges(a, b), ['server.listen', 'server.timeouts']);
});
