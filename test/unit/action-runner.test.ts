// The harness's own parsers: a mistake here would hide a mistake in a stage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inputEnvName, parseKeyValueFile, parseWorkflowCommands } from '../support/action-runner.js';

test('INPUT_ names: upper-cased, spaces to underscores, hyphens kept', () => {
  assert.equal(inputEnvName('cache-ref'), 'INPUT_CACHE-REF');
  assert.equal(inputEnvName('my input'), 'INPUT_MY_INPUT');
});

test('file commands: plain and heredoc forms', () => {
  const text = 'digest=sha256:abc\nmetadata<<ghadelimiter_1\n{"a":\n1}\nghadelimiter_1\nempty=\n';
  assert.deepEqual(parseKeyValueFile(text), { digest: 'sha256:abc', metadata: '{"a":\n1}', empty: '' });
  assert.throws(() => parseKeyValueFile('x<<EOF\nnever closed\n'), /unterminated/);
});

test('workflow commands: annotations, masks, and secrets printed before their mask', () => {
  const out = ['hello s3cret', '::add-mask::s3cret', '::error title=Bad::line one%0Aline two', '::warning::careful', '::add-mask::t0ken', 'ok'].join('\n');
  const parsed = parseWorkflowCommands(out);
  assert.deepEqual(parsed.errors, ['line one\nline two']);
  assert.deepEqual(parsed.warnings, ['careful']);
  assert.deepEqual(parsed.masks, ['s3cret', 't0ken']);
  assert.deepEqual(parsed.leakedSecrets, ['s3cret']);
});
