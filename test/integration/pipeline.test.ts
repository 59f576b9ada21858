// The root action (the whole pipeline), run from dist/ as the runner runs it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newRunnerJob, runStep, runStepWithPost } from '../support/action-runner.js';
import { startActionsServices, type ActionsServices } from '../support/actions-services.js';
import { nixFlakeFixture, WITHOUT_HOST_NIX } from '../support/nix.js';
import { requireTools } from '../support/tools.js';
import { layDockerFixture } from '../support/workspace.js';

let services: ActionsServices;
const root = mkdtempSync(join(tmpdir(), 'pipeline-'));

before(async () => {
  requireTools('docker', 'nix');
  services = await startActionsServices();
});
after(async () => services?.stop());

test('builder: nix runs setup-nix then build-nix, and post cleans up after saving the cache', async () => {
  const job = newRunnerJob(join(root, 'runner'), services.jobEnv(), 'ghs_pipelineToken0000000000000000000000');
  nixFlakeFixture('oci', job.workspace);
  const { main, post } = await runStepWithPost('.', job, { inputs: { builder: 'nix' } });
  assert.equal(main.exitCode, 0, main.stdout.slice(-3000));
  assert.match(main.outputs['nix-version']!, /^2\.\d+\.\d+$/);
  assert.match(main.outputs.digest!, /^sha256:[0-9a-f]{64}$/);
  assert.match(main.outputs['store-path']!, /-vllm-container-oci\.tar$/);
  assert.match(main.summary, /Nix image built/);
  assert.equal(post.exitCode, 0);
  assert.deepEqual(post.warnings, []);
  assert.ok(!existsSync(join(job.temp, 'vllm-rocm-action', 'setup-nix')), 'the nix.conf drop-in with the token is gone');
  assert.deepEqual(main.leakedSecrets, []);
});

test("builder: nix, post removes setup-nix's drop-in (the token) even when build-nix's post throws", async () => {
  const job = newRunnerJob(join(root, 'runner'), services.jobEnv(), 'ghs_pipelineToken0000000000000000000000');
  nixFlakeFixture('oci', job.workspace);
  const main = await runStep('.', job, { inputs: { builder: 'nix' } });
  assert.equal(main.exitCode, 0, main.stdout.slice(-3000));
  const dropIn = join(job.temp, 'vllm-rocm-action', 'setup-nix');
  assert.ok(existsSync(dropIn));
  // Nix gone by post time: build-nix's cache save throws.
  const post = await runStep('.', job, { inputs: { builder: 'nix' }, phase: 'post', state: main.state, wrap: WITHOUT_HOST_NIX });
  assert.equal(post.exitCode, 0);
  assert.ok(post.warnings.some((w) => /^Post step: .*Nix/.test(w)), post.warnings.join('\n'));
  assert.ok(!existsSync(dropIn), 'the nix.conf drop-in with the token is gone');
  assert.deepEqual([...main.leakedSecrets, ...post.leakedSecrets], []);
});

test('builder: docker runs build-docker', async () => {
  const job = newRunnerJob(join(root, 'runner'), services.jobEnv());
  layDockerFixture(job, 'reproducible');
  const { main, post } = await runStepWithPost('.', job, { inputs: { builder: 'docker', cache: 'none', 'source-date-epoch': '0' } });
  assert.equal(main.exitCode, 0, main.stdout.slice(-3000));
  assert.match(main.outputs.digest!, /^sha256:[0-9a-f]{64}$/);
  assert.ok(existsSync(main.outputs['image-archive']!));
  assert.equal(post.exitCode, 0);
});

test('an unknown builder is a clear error', async () => {
  const job = newRunnerJob(join(root, 'runner'), services.jobEnv());
  const result = await runStep('.', job, { inputs: { builder: 'bazel' } });
  assert.equal(result.exitCode, 1);
  assert.deepEqual(result.errors, ["Input 'builder': must be one of docker, nix (got 'bazel')"]);
});
