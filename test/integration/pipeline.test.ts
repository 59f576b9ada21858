// The root action (the whole pipeline), run from dist/ as the runner runs it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Comparison } from '../../src/pipeline/comparison.js';
import { newRunnerJob, runStep, runStepWithPost, type RunnerJob, type StepResult, valuesSet } from '../support/action-runner.js';
import { labelledContainers, layExample } from '../support/fake-vllm.js';
import { startActionsServices, type ActionsServices } from '../support/actions-services.js';
import { nixFlakeFixture, WITHOUT_HOST_NIX } from '../support/nix.js';
import { fixture } from '../support/fixtures.js';
import { REGISTRY, requireRegistry, requireTools } from '../support/tools.js';
import { layDockerFixture } from '../support/workspace.js';

let services: ActionsServices;
const root = mkdtempSync(join(tmpdir(), 'pipeline-'));

before(async () => {
  requireTools('docker', 'nix', 'gcc');
  await requireRegistry();
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
  assert.deepEqual(result.errors, ["Input 'builder': must be one of docker, nix, both, auto (got 'bazel')"]);
});

test("a fork's pull request on a self-hosted runner is refused before any stage: nothing set up, built or started; allow-fork-pull-requests lets it build", async () => {
  const job = newRunnerJob(join(root, 'runner'), services.jobEnv());
  layDockerFixture(job, 'reproducible');
  nixFlakeFixture('oci', job.workspace);
  // octokit/webhooks' pull_request payload with its head moved to a fork (test/fixtures/github-events).
  const event = JSON.parse(readFileSync(fixture('github-events', 'pull_request.synchronize.json'), 'utf8')) as { pull_request: { head: { repo: object } } };
  event.pull_request.head.repo = { ...event.pull_request.head.repo, id: 999001, full_name: 'mallory/Hello-World', url: 'https://api.github.com/repos/mallory/Hello-World', fork: true };
  writeFileSync(job.eventPath, JSON.stringify(event));
  const stages = join(job.temp, 'vllm-rocm-action');
  const fork = { GITHUB_EVENT_NAME: 'pull_request', RUNNER_ENVIRONMENT: '' };
  for (const inputs of <Record<string, string>[]>[
    { builder: 'auto', 'smoke-test': 'true', publish: 'true', image: `${REGISTRY}/fork-guard` },
    { builder: 'docker', cache: 'none' },
  ]) {
    const { main, post } = await runStepWithPost('.', job, { inputs, env: fork });
    assert.equal(main.exitCode, 1, main.stdout.slice(-2000));
    assert.deepEqual(main.errors, [
      "Refusing to run on a runner that is not GitHub-hosted (RUNNER_ENVIRONMENT unset): the pull_request event's pull request comes from the fork mallory/Hello-World. Code from forks must not run on self-hosted runners; set allow-fork-pull-requests: true only if this runner is disposable.",
    ]);
    assert.doesNotMatch(main.stdout, /▶|builder: auto/, 'no stage started, the flake was not evaluated');
    assert.equal(main.state['pipeline-started'], '', 'claimed, never set');
    assert.deepEqual(valuesSet(main.outputs), {}, 'nothing built');
    assert.ok(!existsSync(stages), `no stage wrote under ${stages}`);
    assert.equal(post.exitCode, 0);
    assert.deepEqual(post.warnings, []);
  }
  const allowed = await runStepWithPost('.', job, { inputs: { builder: 'docker', cache: 'none', 'source-date-epoch': '0', 'allow-fork-pull-requests': 'true' }, env: fork });
  assert.equal(allowed.main.exitCode, 0, allowed.main.stdout.slice(-3000));
  assert.match(allowed.main.outputs.digest!, /^sha256:[0-9a-f]{64}$/);
  assert.equal(allowed.post.exitCode, 0);
});

// The bundled example through every stage, both builders: what a team sees on its first day.
const STEP_ENV = { GITHUB_RUN_ID: '4242', GITHUB_RUN_ATTEMPT: '1', GITHUB_JOB: 'pipeline', GITHUB_ACTION: `h-pipeline-${randomBytes(3).toString('hex')}` };
const stepLabel = `4242.1.pipeline.${STEP_ENV.GITHUB_ACTION}.local`;

function exampleJob(): RunnerJob {
  const job = newRunnerJob(join(root, 'runner'), { ...services.jobEnv(), ...STEP_ENV });
  layExample(job);
  return job;
}

const everyStage = (repo: string): Record<string, string> => ({
  builder: 'both',
  verify: 'true',
  'smoke-test': 'true',
  gpu: 'none',
  requests: '4',
  publish: 'true',
  image: `${REGISTRY}/${repo}`,
  tags: 'v1',
});

/** The manifest digest the registry serves for a tag, or undefined when it has none. */
async function servedDigest(repo: string, tag: string): Promise<string | undefined> {
  const response = await fetch(`http://${REGISTRY}/v2/${repo}/manifests/${tag}`, {
    method: 'HEAD',
    headers: { accept: 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' },
  });
  return response.ok ? (response.headers.get('docker-content-digest') ?? undefined) : undefined;
}

const pipelineTemp = (job: RunnerJob): string[] => (existsSync(join(job.temp, 'vllm-rocm-action')) ? readdirSync(join(job.temp, 'vllm-rocm-action')) : []);

function cleanedUp(job: RunnerJob, post: StepResult): void {
  assert.equal(post.exitCode, 0);
  assert.deepEqual(labelledContainers(stepLabel), [], 'no smoke-test container is left');
  assert.ok(!existsSync(join(job.temp, 'vllm-rocm-action', 'setup-nix')), 'the nix.conf drop-in with the token is gone');
  const publishDirs = pipelineTemp(job).filter((d) => d.startsWith('publish'));
  for (const d of publishDirs) assert.deepEqual(readdirSync(join(job.temp, 'vllm-rocm-action', d)), [], `${d} is empty`);
}

test('builder: both, every stage on, on the bundled example: digests, verdicts, smoke figures, refs in the registry, the comparison', async () => {
  const job = exampleJob();
  const repo = `h-pipeline/example-${randomBytes(4).toString('hex')}`;
  const { main, post } = await runStepWithPost('.', job, { inputs: everyStage(repo) });
  assert.equal(main.exitCode, 0, main.stdout.slice(-4000));
  const { outputs } = main;
  assert.match(outputs['docker-digest']!, /^sha256:[0-9a-f]{64}$/);
  assert.match(outputs['nix-digest']!, /^sha256:[0-9a-f]{64}$/);
  assert.notEqual(outputs['docker-digest'], outputs['nix-digest']);
  assert.equal(outputs.digest, outputs['nix-digest'], 'publish-from: nix is the default');
  assert.equal(outputs.reproducible, 'true');
  assert.equal(outputs['smoke-test-passed'], 'true');
  assert.ok(Number(outputs['ttft-ms']) >= 0 && Number(outputs['tokens-per-second']) > 0, JSON.stringify(outputs));
  assert.equal(outputs.refs, `${REGISTRY}/${repo}:v1@${outputs['nix-digest']}`);
  assert.equal(await servedDigest(repo, 'v1'), outputs['nix-digest'], 'the registry serves the Nix image under the tag');

  const comparison = JSON.parse(readFileSync(outputs.comparison!, 'utf8')) as Comparison;
  assert.equal(comparison.published, 'nix');
  assert.deepEqual(comparison.builds.map((b) => [b.builder, b.digest]), [['docker', outputs['docker-digest']], ['nix', outputs['nix-digest']]]);
  for (const b of comparison.builds) {
    assert.equal(b.reproducible, true, b.builder);
    assert.equal(b.smokePassed, true, b.builder);
    assert.equal(b.layers, 1, b.builder);
    // A build whose every path is already in the store (an earlier test built the same flake) takes no measurable time.
    assert.ok((b.buildSeconds! > 0 || /^hit \(0 built/.test(b.cache ?? '')) && b.coldSeconds! > 0 && b.startupSeconds! > 0 && b.tokensPerSecond! > 0, JSON.stringify(b));
    assert.ok(b.uncompressedBytes! > b.compressedBytes! - 2048, JSON.stringify(b));
    assert.match(b.cache!, /^(hit|partial|miss) \(/);
  }
  assert.match(main.summary, /### Nix and Docker, side by side/);
  assert.match(main.summary, new RegExp(`\\| Digest \\| \`${outputs['docker-digest']}\` \\| \`${outputs['nix-digest']}\` \\|`));
  assert.match(main.summary, /```mermaid\nxychart-beta/);
  assert.ok(readdirSync(join(job.temp, 'vllm-rocm-action')).includes('smoke-test-docker'), 'each image has its own smoke-test directory');
  // Each build stage's post writes its own phase table: one step, two scopes, no shared state.
  const phaseTables = post.summary.split('<h3>Job time by phase</h3>').slice(1);
  assert.equal(phaseTables.length, 2, post.summary);
  assert.ok(phaseTables.some((t) => t.includes('Dockerfile steps')) && phaseTables.some((t) => t.includes('nix build')), post.summary);
  for (const t of phaseTables) assert.match(t, /\| peak extra disk \| [\d.]+ (?:B|KiB|MiB|GiB) \([\d.]+× the image's compressed size/, t);
  // The whole pipeline's peak (build, verify, smoke test, publish), against the published image.
  assert.match(main.summary, /<h3>Pipeline disk<\/h3>[\s\S]*\| peak extra disk \(build, verify, smoke test, publish\) \| [\d.]+ (?:B|KiB|MiB|GiB) \([\d.]+× the image's compressed size/, main.summary);
  cleanedUp(job, post);
  assert.deepEqual(post.warnings, []);
  assert.deepEqual(main.leakedSecrets, []);
});

test('builder: docker, every stage on: the build writes an OCI layout that verify, smoke-test and publish read in place', async () => {
  const job = exampleJob();
  const repo = `h-pipeline/layout-${randomBytes(4).toString('hex')}`;
  const { main, post } = await runStepWithPost('.', job, { inputs: { ...everyStage(repo), builder: 'docker', 'publish-from': 'docker' } });
  assert.equal(main.exitCode, 0, main.stdout.slice(-4000));
  const { outputs } = main;
  assert.equal(outputs['image-archive'], '', 'no archive: the layout is what was built');
  const layout = outputs['image-layout']!;
  assert.ok(existsSync(join(layout, 'index.json')) && existsSync(join(layout, 'oci-layout')), `${layout} is an OCI layout`);
  assert.equal((JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> }).manifests[0]!.digest, outputs.digest);
  assert.equal(outputs.reproducible, 'true');
  // Verify takes the build stage's layout as build A and runs only the cold rebuild (issue 20's
  // disk: no third copy of the image), so two builds in all, the second --no-cache.
  const builds = main.stdout.split('\n').filter((l) => l.startsWith('docker buildx build '));
  assert.equal(builds.length, 2, builds.join('\n'));
  assert.ok(builds[1]!.split(' ').includes('--no-cache'), builds[1]);
  assert.ok(main.stdout.includes(`Build A: ${layout} (archive-a), the image already built; only the rebuild runs.`), main.stdout.slice(-4000));
  // Build B shares the layout's blobs: the reproducible rebuild writes none (one copy of the image, not two).
  assert.match(main.stdout, /^build B: (\d+) of \1 blobs identical to build A's \(linked\), 0 written \(0 B\)\.$/m, main.stdout.slice(-4000));
  assert.equal(outputs['smoke-test-passed'], 'true');
  assert.equal(outputs.refs, `${REGISTRY}/${repo}:v1@${outputs.digest}`);
  assert.equal(await servedDigest(repo, 'v1'), outputs.digest, 'the registry serves the layout as built');
  assert.match(main.summary, /\| Output \| OCI image layout `/);
  cleanedUp(job, post);
  assert.deepEqual(main.leakedSecrets, []);
});

test('a failing smoke test stops publish: no tag in the registry, and post cleans up', async () => {
  const job = exampleJob();
  const repo = `h-pipeline/failing-${randomBytes(4).toString('hex')}`;
  const inputs = { ...everyStage(repo), builder: 'nix', verify: 'false', 'smoke-env': 'FAKE_VLLM_CRASH=RuntimeError: planted by the pipeline test' };
  const { main, post } = await runStepWithPost('.', job, { inputs });
  assert.equal(main.exitCode, 1);
  assert.match(main.errors.join('\n'), /planted by the pipeline test/);
  assert.equal(main.outputs['smoke-test-passed'], 'false');
  assert.match(main.outputs.digest!, /^sha256:/, 'the build outputs are still set');
  assert.equal(main.outputs.refs, '');
  assert.doesNotMatch(main.stdout, /▶ publish/);
  assert.equal(await servedDigest(repo, 'v1'), undefined);
  cleanedUp(job, post);
});

test('a failing publish (nothing listens at the registry): post still cleans up every stage that ran', async () => {
  const job = exampleJob();
  const inputs = { ...everyStage('h-pipeline/unreachable'), builder: 'nix', verify: 'false', image: '127.0.0.1:9/h-pipeline/unreachable' };
  const { main, post } = await runStepWithPost('.', job, { inputs });
  assert.equal(main.exitCode, 1);
  assert.equal(main.outputs['smoke-test-passed'], 'true');
  assert.match(main.errors.join('\n'), /127\.0\.0\.1:9/);
  cleanedUp(job, post);
});

test('a build that is not reproducible fails verify: smoke test and publish do not run, post cleans up', async () => {
  const job = exampleJob();
  const script = join(job.workspace, 'oci-image.sh');
  // Planted nondeterminism: random bytes in the layer, as a careless build step would write.
  writeFileSync(script, readFileSync(script, 'utf8').replace('tarball "$TMPDIR/root"', 'head -c 16 /dev/urandom > "$TMPDIR/root/usr/build-id"\ntarball "$TMPDIR/root"'));
  const { main, post } = await runStepWithPost('.', job, { inputs: { ...everyStage('h-pipeline/never'), builder: 'nix' } });
  assert.equal(main.exitCode, 1);
  assert.equal(main.outputs.reproducible, 'false');
  assert.match(main.errors.join('\n'), /Not reproducible/);
  assert.doesNotMatch(main.stdout, /▶ (smoke-test|publish)/);
  cleanedUp(job, post);
});

test('builder: both, a failing Nix build: nothing later runs, post cleans up and keeps the Docker side', async () => {
  const job = exampleJob();
  writeFileSync(join(job.workspace, 'oci-image.sh'), 'echo planted failure >&2; exit 3\n');
  const { main, post } = await runStepWithPost('.', job, { inputs: everyStage('h-pipeline/never') });
  assert.equal(main.exitCode, 1);
  assert.match(main.errors.join('\n'), /Nix build failed|exited/);
  assert.match(main.outputs['docker-digest'] ?? '', /^sha256:/, 'the Docker build had finished');
  assert.equal(main.outputs.comparison, '');
  assert.doesNotMatch(main.stdout, /▶ (verify-reproducibility|smoke-test|publish)/);
  cleanedUp(job, post);
});

test('builder: auto picks nix when the flake has the attribute, docker when it does not', async () => {
  const job = exampleJob();
  const nix = await runStep('.', job, { inputs: { builder: 'auto' } });
  assert.equal(nix.exitCode, 0, nix.stdout.slice(-3000));
  assert.match(nix.stdout, /builder: auto: the flake has packages\.x86_64-linux\.vllm-container, so nix/);
  assert.ok(nix.outputs['store-path']);
  const docker = await runStep('.', job, { inputs: { builder: 'auto', attr: 'no-such-image' } });
  assert.equal(docker.exitCode, 0, docker.stdout.slice(-3000));
  assert.match(docker.stdout, /builder: auto: the flake has no packages\.x86_64-linux\.no-such-image.*so docker/);
  assert.ok(docker.outputs['cached-steps']);
});
