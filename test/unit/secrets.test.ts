// Every value a stage masks is remembered, so files the runner never prints (the smoke test's log
// and report) are scrubbed the way the runner masks the log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registerSecret, scrubSecrets } from '../../src/action/secrets.js';

test('registered secrets, and each telling line of a multi-line one, are scrubbed; nothing else is', () => {
  registerSecret('hf_unitTokenValue0123');
  registerSecret('-----BEGIN KEY-----\nline-one-of-a-key\nline-two-of-a-key\n-----END KEY-----');
  registerSecret('');
  const text = 'token hf_unitTokenValue0123; key line-two-of-a-key; -----END KEY----- stays; plain text stays';
  assert.equal(scrubSecrets(text), 'token ***; key ***; -----END KEY----- stays; plain text stays');
});
