// One commit, one digest (issue 13): with ordinary commit times ("now"), a cached build and a
// clean build of the same commit give the same image, whatever the cache type, through a
// docs-only commit; verify-reproducibility's docker rebuild agrees on a warm builder; commit
// dates later than the build change nothing. Real dockerd + buildx, real git, dist/ entry points.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newRunnerJob, runStepWithPost, runStep, type RunnerJob, type StepResult } from '../support/action-runner.js';
import { startActionsServices, type ActionsServices } from '../support/actions-services.js';
import { layDockerFixture } from '../support/workspace.js';
import { pruneBuildCache, REGISTRY, requireRegistry, requireTools, sh } from '../support/tools.js';

let services: ActionsServices;
const root = mkdtempSync(join(tmpdir(), 'h-docker-one-digest-'));
let jobs = 0;
const freshJob = (withServices = services): RunnerJob => newRunnerJob(join(root, 'runner'), withServices.jobEnv('run-1', `job-${++jobs}`));

before(async () => {
  requireTools('docker', 'git', 'tar', 'skopeo');
  await requireRegistry();
  services = await startActionsServices();
});
after(async () => services?.stop());

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The fixture as a git repository with commits dated now (git's default), as a new user's is. */
function commitNow(dir: string, message: string, env: NodeJS.ProcessEnv = process.env): void {
  const git = (...args: string[]): string => sh('git', ['-C', dir, '-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { env });
  if (message === 'initial') git('init', '-q');
  git('add', '-A');
  git('commit', '-qm', message);
}

function ok(result: StepResult): StepResult {
  assert.equal(result.exitCode, 0, `step failed:\n${result.stdout.slice(-4000)}\n${result.stderr.slice(-2000)}`);
  assert.deepEqual(result.errors, []);
  return result;
}

/** The job's workspace holds the same repository at the same commit each time (a fresh checkout). */
function checkout(job: RunnerJob, repo: string): void {
  sh('git', ['clone', '-q', repo, job.workspace.concat('/')]);
}

describe('cached and clean builds of one commit give one digest (commit times of now)', () => {
  for (const cache of ['local', 'registry', 'gha', 'none'] as const) {
    test(`cache: ${cache}`, async (t) => {
      const own = await startActionsServices();
      t.after(() => own.stop());
      const inputs: Record<string, string> = { cache, 'build-args': `GFX_ARCH=gfx1151-one-digest-${cache}` };
      if (cache === 'registry') inputs['cache-ref'] = `${REGISTRY}/h-docker/one-digest-${Date.now()}:buildcache`;

      // The repository: a first commit, built with the cache (this writes the cache).
      const repoJob = freshJob(own);
      const repo = layDockerFixture(repoJob, 'reproducible', `../h-docker-repo-${cache}`);
      commitNow(repo, 'initial');
      pruneBuildCache();
      let job = freshJob(own);
      checkout(job, repo);
      const { main: first } = await runStepWithPost('build-docker', job, { inputs });
      ok(first);

      // A docs-only commit, made after that build: its committer time is newer than every file the build wrote.
      await sleep(2100);
      appendFileSync(join(repo, 'README.md'), 'docs only\n');
      commitNow(repo, 'docs: readme');

      // The same commit twice: from the cache (for none: the warm builder), and clean.
      if (cache !== 'none') pruneBuildCache();
      job = freshJob(own);
      checkout(job, repo);
      const { main: cached } = await runStepWithPost('build-docker', job, { inputs });
      ok(cached);
      // Clean: no cache import and --no-cache (the daemon is shared, so a prune alone could be refilled).
      job = freshJob(own);
      checkout(job, repo);
      const { main: clean } = await runStepWithPost('build-docker', job, { inputs: { ...inputs, cache: 'none', 'no-cache': 'true' } });
      ok(clean);

      t.diagnostic(`cache ${cache}: cached build ${cached.outputs['cached-steps']} steps cached → ${cached.outputs.digest}; clean ${clean.outputs['cached-steps']} → ${clean.outputs.digest}`);
      const [hits] = cached.outputs['cached-steps']!.split('/').map(Number) as [number];
      assert.ok(hits >= 2, `the second build took steps from the cache (${cached.outputs['cached-steps']})`);
      assert.equal(clean.outputs['cached-steps'], '0/4');
      assert.equal(cached.outputs.digest, clean.outputs.digest, 'a cached build gives the clean build\'s image');
      assert.equal(cached.outputs['source-date-epoch'], '0');
      assert.match(cached.summary, /\| SOURCE_DATE_EPOCH \| 0 \(1970-01-01T00:00:00Z; default\) \|/);
    });
  }
});

test('control: with the commit time as the epoch (the old default), the same cached and clean builds differ', async () => {
  // Proves the test above can fail: a moving epoch leaves a cached layer's older mtimes unclamped.
  const repoJob = freshJob();
  const repo = layDockerFixture(repoJob, 'reproducible', '../h-docker-control-repo');
  const inputs = { cache: 'none', 'build-args': `GFX_ARCH=gfx1151-control-${Date.now()}` };
  commitNow(repo, 'initial');
  const epochOf = (): string => sh('git', ['-C', repo, 'log', '-1', '--format=%ct']).trim();
  let job = freshJob();
  checkout(job, repo);
  ok((await runStepWithPost('build-docker', job, { inputs, env: { SOURCE_DATE_EPOCH: epochOf() } })).main);
  await sleep(2100);
  appendFileSync(join(repo, 'README.md'), 'docs only\n');
  commitNow(repo, 'docs: readme');
  job = freshJob();
  checkout(job, repo);
  const cached = ok((await runStepWithPost('build-docker', job, { inputs, env: { SOURCE_DATE_EPOCH: epochOf() } })).main);
  job = freshJob();
  checkout(job, repo);
  const clean = ok((await runStepWithPost('build-docker', job, { inputs: { ...inputs, 'no-cache': 'true' }, env: { SOURCE_DATE_EPOCH: epochOf() } })).main);
  assert.notEqual(cached.outputs['cached-steps']!.split('/')[0], '0', 'the second build was cached');
  assert.notEqual(cached.outputs.digest, clean.outputs.digest);
});

test('verify-reproducibility rebuild on a warm builder, after a docs-only commit: reproducible', async () => {
  const repoJob = freshJob();
  const repo = layDockerFixture(repoJob, 'reproducible', '../h-docker-verify-repo');
  // Build args of its own, so no other test's layers are in the builder's cache.
  const inputs = { builder: 'docker', 'build-args': `GFX_ARCH=gfx1151-verify-${Date.now()}` };
  commitNow(repo, 'initial');
  let job = freshJob();
  checkout(job, repo);
  ok((await runStepWithPost('build-docker', job, { inputs: { cache: 'none', 'build-args': inputs['build-args'] } })).main);
  await sleep(2100);
  appendFileSync(join(repo, 'README.md'), 'docs only\n');
  commitNow(repo, 'docs: readme');
  job = freshJob();
  checkout(job, repo);
  const result = await runStep('verify-reproducibility', job, { inputs });
  assert.equal(result.exitCode, 0, result.stdout.slice(-4000));
  assert.equal(result.outputs.reproducible, 'true', result.summary.slice(0, 3000));
  assert.match(result.stdout, /build A[\s\S]*CACHED/, 'build A used the warm builder');
});

test('commit dates later than the build (as in fixtures dated ahead): two clean builds give one digest', async () => {
  const repoJob = freshJob();
  const repo = layDockerFixture(repoJob, 'reproducible', '../h-docker-future-repo');
  const future = `@${Math.floor(Date.now() / 1000) + 86400 * 400} +0000`;
  commitNow(repo, 'initial', { ...process.env, GIT_COMMITTER_DATE: future, GIT_AUTHOR_DATE: future });
  const digests: string[] = [];
  for (let i = 0; i < 2; i++) {
    const job = freshJob();
    checkout(job, repo);
    const { main } = await runStepWithPost('build-docker', job, { inputs: { cache: 'none', 'no-cache': 'true', 'build-args': 'GFX_ARCH=gfx1151-future' } });
    digests.push(ok(main).outputs.digest!);
  }
  assert.equal(digests[0], digests[1]);
});

describe('SOURCE_DATE_EPOCH from the environment and from a build arg is the epoch used and shown', () => {
  test('environment: honoured as build-push-action does, and shown with its source', async () => {
    const job = freshJob();
    layDockerFixture(job, 'reproducible');
    const { main } = await runStepWithPost('build-docker', job, { inputs: { cache: 'none' }, env: { SOURCE_DATE_EPOCH: '1700000000' } });
    ok(main);
    assert.equal(main.outputs['source-date-epoch'], '1700000000');
    assert.match(main.summary, /\| SOURCE_DATE_EPOCH \| 1700000000 \(2023-11-14T22:13:20Z; SOURCE_DATE_EPOCH environment variable\) \|/);
    const created = JSON.parse(sh('skopeo', ['inspect', '--config', `oci-archive:${main.outputs['image-archive']!}`])) as { created: string };
    assert.equal(created.created, '2023-11-14T22:13:20Z');
  });

  test('build arg: the summary shows the epoch the build used, and the input agrees', async () => {
    const job = freshJob();
    layDockerFixture(job, 'reproducible');
    const { main } = await runStepWithPost('build-docker', job, { inputs: { cache: 'none', 'build-args': 'SOURCE_DATE_EPOCH=1650000000' }, env: { SOURCE_DATE_EPOCH: '1700000000' } });
    ok(main);
    assert.equal(main.outputs['source-date-epoch'], '1650000000');
    assert.match(main.summary, /\| SOURCE_DATE_EPOCH \| 1650000000 \(2022-04-15T05:20:00Z; SOURCE_DATE_EPOCH build-arg\) \|/);
    const created = JSON.parse(sh('skopeo', ['inspect', '--config', `oci-archive:${main.outputs['image-archive']!}`])) as { created: string };
    assert.equal(created.created, '2022-04-15T05:20:00Z');
  });
});
