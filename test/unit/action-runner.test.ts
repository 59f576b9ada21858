// The harness's own parsers: a mistake here would hide a mistake in a stage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findLeaks, inputEnvName, newRunnerJob, parseKeyValueFile, parseWorkflowCommands } from '../support/action-runner.js';

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
  assert.deepEqual(findLeaks({ stdout: out, stderr: '', files: {}, masks: parsed.masks }), [{ secret: 's3cret', where: 'stdout before its mask' }, { secret: 's3cret', where: 'stdout' }]);
});

const FILES = { GITHUB_OUTPUT: '', GITHUB_STATE: '', GITHUB_ENV: '', GITHUB_PATH: '', GITHUB_STEP_SUMMARY: '' };

test('leaks: a masked value on stderr or in any file command is found', () => {
  const stdout = '::add-mask::hunter2hunter2\nworking';
  assert.deepEqual(findLeaks({ stdout, stderr: 'debug: using hunter2hunter2', files: FILES, masks: ['hunter2hunter2'] }), [{ secret: 'hunter2hunter2', where: 'stderr' }]);
  for (const name of Object.keys(FILES)) {
    const files = { ...FILES, [name]: `key<<EOF\nprefix hunter2hunter2 suffix\nEOF\n` };
    assert.deepEqual(findLeaks({ stdout, stderr: '', files, masks: ['hunter2hunter2'] }), [{ secret: 'hunter2hunter2', where: name }]);
  }
  assert.deepEqual(findLeaks({ stdout, stderr: 'clean', files: FILES, masks: ['hunter2hunter2'] }), []);
});

test('leaks: a multi-line secret is found by any telling line of it, before its mask too', () => {
  const key = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n-----END PRIVATE KEY-----';
  const masks = parseWorkflowCommands(`::add-mask::${key.replace(/\n/g, '%0A')}`).masks;
  assert.deepEqual(masks, [key]);
  const before = `loading BKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n::add-mask::${key.replace(/\n/g, '%0A')}`;
  assert.deepEqual(findLeaks({ stdout: before, stderr: '', files: FILES, masks }).map((l) => l.where), ['stdout before its mask', 'stdout']);
  assert.deepEqual(findLeaks({ stdout: `::add-mask::${key.replace(/\n/g, '%0A')}`, stderr: '', files: { ...FILES, GITHUB_STATE: 'k=MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n' }, masks }).map((l) => l.where), ['GITHUB_STATE']);
  // The armour lines alone give nothing away.
  assert.deepEqual(findLeaks({ stdout: `-----BEGIN PRIVATE KEY-----\n::add-mask::${key.replace(/\n/g, '%0A')}`, stderr: '', files: FILES, masks }), []);
});

test('leaks: the secrets the runner masks itself (job token, runtime token) may not reach a file command', () => {
  const runnerSecrets = ['ghs_jobtoken1234567890'];
  assert.deepEqual(findLeaks({ stdout: 'masked by the runner: ghs_jobtoken1234567890', stderr: '', files: FILES, masks: [], runnerSecrets }), []);
  assert.deepEqual(findLeaks({ stdout: '', stderr: '', files: { ...FILES, GITHUB_STEP_SUMMARY: 'token ghs_jobtoken1234567890' }, masks: [], runnerSecrets }), [{ secret: 'ghs_jobtoken1234567890', where: 'GITHUB_STEP_SUMMARY' }]);
});

test('jobs get no GITHUB_TOKEN variable: the job token only feeds ${{ github.token }}', () => {
  const root = mkdtempSync(join(tmpdir(), 'runner-unit-'));
  assert.throws(() => newRunnerJob(join(root, 'a'), { GITHUB_TOKEN: 'ghs_x' }), /the runner sets no GITHUB_TOKEN variable/);
  const job = newRunnerJob(join(root, 'b'));
  assert.match(job.githubToken, /^ghs_[0-9a-f]{36}$/);
  assert.ok(!('GITHUB_TOKEN' in job.env));
  assert.equal(newRunnerJob(join(root, 'c'), {}, 'ghs_given').githubToken, 'ghs_given');
});
