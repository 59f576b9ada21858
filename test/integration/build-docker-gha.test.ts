// build-docker's default `cache: gha`, for real: Docker 28 + buildx 0.29 (what GitHub's hosted
// runners have; scripts/setup-docker28.sh) export BuildKit's cache to the Actions cache stand-in
// through the v2 cache service, and a fresh job with an empty builder cache imports it.
// (buildx 0.13, the oldest supported, falls back to cache: local: build-docker.test.ts.)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newRunnerJob, runStepWithPost, type RunnerJob, type StepResult } from '../support/action-runner.js';
import { startActionsServices, type ActionsServices } from '../support/actions-services.js';
import { docker28Env, pruneDocker28BuildCache, requireDocker28 } from '../support/docker28.js';
import { layDockerFixture } from '../support/workspace.js';

const root = mkdtempSync(join(tmpdir(), 'build-docker-gha-'));
let services: ActionsServices;
let jobs = 0;

function job28(ref?: string): RunnerJob {
  const job = newRunnerJob(join(root, 'runner'));
  Object.assign(job.env, services.jobEnv(`run-${++jobs}`, 'build', ref ? { ref } : {}), docker28Env(job.home));
  return job;
}

before(async () => {
  const probe = newRunnerJob(join(root, 'probe'));
  requireDocker28(docker28Env(probe.home));
  services = await startActionsServices();
});

after(async () => {
  await services?.stop();
});

describe('cache: gha on docker 28 + buildx 0.29', () => {
  test('the first run misses and exports to the Actions cache; a fresh job with an empty builder cache hits every step', async (t) => {
    const inputs = { cache: 'gha', 'source-date-epoch': '1700000000', 'build-args': 'GFX_ARCH=gfx942-gha-v2' };
    const runs: StepResult[] = [];
    for (let i = 0; i < 2; i++) {
      const job = job28();
      pruneDocker28BuildCache(job.env);
      layDockerFixture(job, 'reproducible');
      const { main, post } = await runStepWithPost('build-docker', job, { inputs });
      assert.equal(main.exitCode, 0, `step failed:\n${main.stdout.slice(-4000)}\n${main.stderr.slice(-2000)}`);
      assert.deepEqual(main.errors, []);
      assert.deepEqual(main.warnings, [], 'no fallback: buildx 0.29 speaks the v2 cache service');
      assert.deepEqual(main.leakedSecrets, []);
      assert.equal(post.exitCode, 0);
      assert.deepEqual(post.warnings, []);
      // The scope carries a hash of the build args: a matrix over GFX_ARCH keeps one entry per leg.
      assert.match(main.stdout, /--cache-from type=gha,scope=vllm-rocm-action-linux-amd64-[0-9a-f]{12} /);
      assert.match(main.stdout, /--cache-to type=gha,scope=vllm-rocm-action-linux-amd64-[0-9a-f]{12},mode=max,ignore-error=true /);
      assert.match(main.summary, /\| Cache \| gha: /);
      if (i === 0) {
        // BuildKit's gha exporter names its vertex "exporting to GitHub Actions Cache": the job-time
        // table (post's summary) counts it as the cache's export, not the image's.
        const cacheExport = /^\| export the cache \(BuildKit\) \| ([\d.]+) s/m.exec(post.summary);
        assert.ok(cacheExport && Number(cacheExport[1]) > 0, `the cold run's cache export has its own time:\n${post.summary}`);
        // What BuildKit wrote: the layers as blobs and the scope's index, keyed by the writing ref.
        const keys = services.cacheEntries().map((e) => e.key);
        assert.ok(keys.some((k) => /^buildkit-blob-1-sha256:[0-9a-f]{64}$/.test(k)), keys.join('\n'));
        assert.ok(keys.some((k) => /^index-vllm-rocm-action-linux-amd64-[0-9a-f]{12}-1-[0-9a-f]{8}#1$/.test(k)), keys.join('\n'));
      }
      runs.push(main);
    }
    const [first, second] = runs as [StepResult, StepResult];
    t.diagnostic(`cache gha (docker 28): first run ${first.outputs['build-seconds']} s (${first.outputs['cached-steps']} cached), second run ${second.outputs['build-seconds']} s (${second.outputs['cached-steps']} cached)`);
    assert.equal(first.outputs['cached-steps'], '0/4');
    assert.equal(first.outputs['cache-hit'], 'false');
    assert.equal(second.outputs['cached-steps'], '4/4', 'every step comes from the imported gha cache');
    assert.equal(second.outputs['cache-hit'], 'true');
    assert.ok(Number(first.outputs['build-seconds']) >= 2, 'the fixture sleeps 2 s when not cached');
    assert.ok(Number(second.outputs['build-seconds']) < Number(first.outputs['build-seconds']));
    assert.equal(second.outputs.digest, first.outputs.digest, 'a cached build gives the same image');

    // A branch's run reads the default branch's cache (GitHub's scoping, served by the stand-in
    // from the token's scopes, which BuildKit also reads) and writes its index under its own ref.
    const branch = job28('refs/heads/feature');
    pruneDocker28BuildCache(branch.env);
    layDockerFixture(branch, 'reproducible');
    const { main: onBranch } = await runStepWithPost('build-docker', branch, { inputs });
    assert.equal(onBranch.exitCode, 0, onBranch.stdout.slice(-4000));
    assert.equal(onBranch.outputs['cached-steps'], '4/4', 'the default branch\'s cache is readable from a branch');
    const indexes = services.cacheEntries().filter((e) => e.key.startsWith('index-'));
    assert.ok(indexes.some((e) => e.ref === 'refs/heads/feature'), 'the branch wrote its own index');
    assert.ok(indexes.filter((e) => e.ref === 'refs/heads/feature').every((e) => !indexes.some((m) => m.ref === 'refs/heads/main' && m.key === e.key)), 'under its own key: BuildKit names the index after the writing ref');
  });

  test('a matrix over a build arg keeps one gha entry per leg: another GFX_ARCH does not overwrite it', async () => {
    const leg = (arch: string) => ({ cache: 'gha', 'source-date-epoch': '1700000000', 'build-args': `GFX_ARCH=${arch}` });
    const build = async (arch: string): Promise<StepResult> => {
      const job = job28();
      pruneDocker28BuildCache(job.env);
      layDockerFixture(job, 'reproducible');
      const { main } = await runStepWithPost('build-docker', job, { inputs: leg(arch) });
      assert.equal(main.exitCode, 0, main.stdout.slice(-4000));
      return main;
    };
    const a1 = await build('gfx1100-matrix');
    const b1 = await build('gfx942-matrix');
    const a2 = await build('gfx1100-matrix');
    const scope = (r: StepResult) => /--cache-to type=gha,scope=([^,]+),/.exec(r.stdout)?.[1];
    assert.notEqual(scope(a1), scope(b1), 'each leg has its own scope');
    assert.equal(b1.outputs['cached-steps'], '0/4', 'another leg\'s scope: nothing of the first leg is imported');
    assert.equal(a2.outputs['cached-steps'], '4/4', 'the first leg\'s entry survived the second leg\'s save');
    assert.equal(a2.outputs.digest, a1.outputs.digest);
    assert.notEqual(b1.outputs.digest, a1.outputs.digest);
  });
});
