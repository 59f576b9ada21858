// build-docker's pure parts: the epoch it uses, the gha scope, the Dockerfile outline, secret
// handling, and the failure annotation built from captured buildx output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { buildFailure } from '../../src/build-docker/build.js';
import { ghaScope } from '../../src/build-docker/cache-backend.js';
import { DEFAULT_EPOCH, describeEpoch, resolveEpoch } from '../../src/build-docker/epoch.js';
import { buildSecrets, looksLikeSecret, redactCommand } from '../../src/build-docker/secrets.js';
import { closestName, outlineDockerfile } from '../../src/docker/dockerfile.js';
import { BuildProgress } from '../../src/docker/progress.js';
import { fixture } from '../support/fixtures.js';

test('epoch: 0 by default, whatever the commit; inputs before the environment; the environment before 0', () => {
  assert.deepEqual(resolveEpoch(undefined, {}), { value: 0, source: 'default' });
  assert.deepEqual(resolveEpoch(undefined, { SOURCE_DATE_EPOCH: ' 1700000000 ' }), { value: 1700000000, source: 'SOURCE_DATE_EPOCH environment variable' });
  assert.deepEqual(resolveEpoch({ value: 5, source: 'SOURCE_DATE_EPOCH build-arg' }, { SOURCE_DATE_EPOCH: '7' }), { value: 5, source: 'SOURCE_DATE_EPOCH build-arg' });
  assert.deepEqual(resolveEpoch(undefined, { SOURCE_DATE_EPOCH: '' }), DEFAULT_EPOCH);
  assert.throws(() => resolveEpoch(undefined, { SOURCE_DATE_EPOCH: 'now' }), /SOURCE_DATE_EPOCH in the environment is 'now'/);
  assert.equal(describeEpoch({ value: 1700000000, source: 'source-date-epoch input' }), '1700000000 (2023-11-14T22:13:20Z; source-date-epoch input)');
  assert.equal(describeEpoch(DEFAULT_EPOCH), '0 (1970-01-01T00:00:00Z; default)');
});

test('gha scope: a matrix over build args gets one scope per entry; cache-scope wins', () => {
  const base = { platform: 'linux/amd64', target: undefined, cacheScope: undefined };
  const a = ghaScope({ ...base, buildArgs: [['GFX_ARCH', 'gfx1151']] });
  const b = ghaScope({ ...base, buildArgs: [['GFX_ARCH', 'gfx942']] });
  assert.notEqual(a, b);
  assert.match(a, /^vllm-rocm-action-linux-amd64-[0-9a-f]{12}$/);
  assert.equal(ghaScope({ ...base, buildArgs: [['A', '1'], ['B', '2']] }), ghaScope({ ...base, buildArgs: [['B', '2'], ['A', '1']] }), 'order does not matter');
  assert.equal(ghaScope({ ...base, buildArgs: [] }), 'vllm-rocm-action-linux-amd64');
  assert.equal(ghaScope({ ...base, target: 'runtime', buildArgs: [] }), 'vllm-rocm-action-linux-amd64-runtime');
  assert.equal(ghaScope({ ...base, buildArgs: [['GFX_ARCH', 'gfx942']], cacheScope: 'mine' }), 'mine');
});

test('Dockerfile outline: ARG names (several per line, continued lines), stages, heredocs skipped', () => {
  const outline = outlineDockerfile(readFileSync(fixture('docker', 'reproducible', 'Dockerfile'), 'utf8'));
  assert.deepEqual([...outline.args], ['GFX_ARCH']);
  assert.deepEqual(outline.stages, []);
  const multi = outlineDockerfile([
    '# syntax=docker/dockerfile:1',
    'ARG ROCM_VERSION=6.4',
    'FROM rocm/dev:${ROCM_VERSION} AS Builder',
    'ARG GFX_ARCH=gfx1151 \\',
    '    PYTORCH_ROCM_ARCH',
    'RUN <<EOF',
    'ARG NOT_AN_ARG',
    'EOF',
    'from scratch as runtime',
    'arg lower_case',
  ].join('\n'));
  assert.deepEqual([...multi.args].sort(), ['GFX_ARCH', 'PYTORCH_ROCM_ARCH', 'ROCM_VERSION', 'lower_case']);
  assert.deepEqual(multi.stages, ['builder', 'runtime']);
  assert.equal(closestName('GFX_ARCHH', multi.args), 'GFX_ARCH');
  assert.equal(closestName('SOMETHING_ELSE', multi.args), undefined);
});

test('secret-like names: TOKEN, PASSWORD, SECRET, KEY segments; not ordinary args', () => {
  for (const name of ['HF_TOKEN', 'GITHUB_TOKEN', 'DB_PASSWORD', 'AWS_SECRET_ACCESS_KEY', 'API_KEY', 'APIKEY', 'npm-token', 'GIT_AUTH', 'REGISTRY_CREDENTIALS']) assert.ok(looksLikeSecret(name), name);
  for (const name of ['GFX_ARCH', 'ROCM_VERSION', 'PYTORCH_ROCM_ARCH', 'SOURCE_DATE_EPOCH', 'MAX_JOBS', 'KEYBOARD_LAYOUT']) assert.ok(!looksLikeSecret(name), name);
});

test('inline secrets go to the environment, never to argv; the logged command hides secret-like build args', () => {
  const { secrets, env } = buildSecrets({ secrets: [{ id: 'hf', value: 'hf_value' }, { id: 'gh', env: 'GH_TOKEN' }, { id: 'n', file: '/n' }] });
  assert.deepEqual(secrets, [{ id: 'hf', env: 'VLLM_ROCM_ACTION_SECRET_0' }, { id: 'gh', env: 'GH_TOKEN' }, { id: 'n', src: '/n' }]);
  assert.deepEqual(env, { VLLM_ROCM_ACTION_SECRET_0: 'hf_value' });
  assert.equal(
    redactCommand(['buildx', 'build', '--build-arg', 'HF_TOKEN=hf_abc', '--build-arg', 'GFX_ARCH=gfx1151', '--label', 'API_KEY=x', '.']),
    'buildx build --build-arg HF_TOKEN=*** --build-arg GFX_ARCH=gfx1151 --label API_KEY=x .',
  );
});

function progressOf(name: string): BuildProgress {
  const progress = new BuildProgress();
  progress.feed(readFileSync(fixture('buildx', name), 'utf8'));
  progress.end();
  return progress;
}

test('failing RUN (captured, with a failed cache import): the command once, the early error lines, then the tail', () => {
  const progress = progressOf('rawjson-failed-early-error.txt');
  const failure = buildFailure(1, progress);
  const text = `${failure.message}\n${failure.details}`;
  assert.match(failure.message, /^docker buildx build failed at step "\[2\/2\] RUN \[.*exit 3"\]" \(Dockerfile:5\): exit code: 3$/);
  assert.equal(text.split("echo 'installing vllm wheel'").length - 1, 1, `the command appears once:\n${text}`);
  assert.doesNotMatch(text, /importing cache manifest/, 'a cache import error is not the cause');
  const errors = failure.details.slice(0, failure.details.indexOf('Last log lines:'));
  assert.match(errors, /^Log lines with errors:\n/);
  assert.match(errors, /hipcc: error: unsupported target ID gfx1151/, 'the early error, gone from the tail, is shown');
  assert.match(errors, /error: no matching wheel for gfx1151/);
  const tail = failure.details.slice(failure.details.indexOf('Last log lines:\n') + 'Last log lines:\n'.length).split('\n');
  assert.equal(tail.length, 10);
  assert.ok(!tail.some((l) => l.includes('hipcc')), 'the hipcc error is out of the last lines, so only the error excerpt shows it');
});

test('cache export failed with ignore-error (captured): the build succeeded; the failing steps are cache steps', () => {
  const progress = progressOf('rawjson-cache-export-failed.txt');
  assert.equal(progress.failedStep, undefined);
  assert.deepEqual(progress.cacheErrors.map((s) => s.name.replace(/ from .*| to .*/, '')), ['importing cache manifest', 'exporting cache']);
  assert.match(progress.cacheErrors[1]!.error!, /connection refused/);
});

test('error excerpt stays bounded on a long log', () => {
  const progress = new BuildProgress();
  const vertex = 'sha256:1';
  const lines = Array.from({ length: 5000 }, (_, i) => (i % 10 === 0 ? `error: failure ${i}` : `line ${i}`));
  progress.feed(JSON.stringify({ vertexes: [{ digest: vertex, name: '[1/1] RUN make', started: '2026-01-01T00:00:00Z' }] }));
  progress.feed(JSON.stringify({ logs: [{ vertex, data: Buffer.from(`${lines.join('\n')}\n`).toString('base64') }] }));
  const step = progress.steps[0]!;
  assert.equal(step.errorLines.length, 40);
  assert.equal(step.errorLines[0], 'error: failure 0');
  assert.equal(step.logTail.length, 30);
});
