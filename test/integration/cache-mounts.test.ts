// build-docker's cache-mounts, run from dist/ as the runner runs it, against the real dockerd +
// buildx and the Actions cache stand-in: a RUN cache mount survives a pruned builder (a fresh
// runner), never reaches the image, and a hostile restored entry is refused.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newRunnerJob, runStep, runStepWithPost, type RunnerJob, type StepResult } from '../support/action-runner.js';
import { startActionsServices, type ActionsServices } from '../support/actions-services.js';
import { HOSTILE_MEMBERS, hostileCacheArchive, plantCacheArchive } from '../support/hostile-cache.js';
import { pruneBuildCache, requireTools } from '../support/tools.js';
import { layDockerFixture } from '../support/workspace.js';

const root = mkdtempSync(join(tmpdir(), 'cache-mounts-'));
let jobCount = 0;
const MOUNT_ID = 'ccache-fixture';

function freshJob(services: ActionsServices): RunnerJob {
  // Same RUNNER_TEMP path every job, as on hosted runners: the Actions cache version includes the path.
  return newRunnerJob(join(root, 'runner'), services.jobEnv('run-1', `job-${++jobCount}`));
}

function ok(result: StepResult): StepResult {
  assert.equal(result.exitCode, 0, `step failed:\n${result.stdout.slice(-4000)}\n${result.stderr.slice(-2000)}`);
  assert.deepEqual(result.errors, []);
  return result;
}

/** The fixture's own count of compiled units found in the mount already. */
function hits(result: StepResult): { hits: number; misses: number } {
  const match = /\d ccache-fixture hits=(\d+) misses=(\d+)/.exec(result.stdout);
  assert.ok(match, `no hit count in the build log:\n${result.stdout.slice(-3000)}`);
  return { hits: Number(match[1]), misses: Number(match[2]) };
}

function changeOneSource(job: RunnerJob): void {
  writeFileSync(join(job.workspace, 'src', 'rotary.c'), '// rotary kernel, changed\nint rotary(void) { return 2; }\n');
}

const inputs = { cache: 'none', 'source-date-epoch': '1700000000' };

before(() => {
  requireTools('docker', 'tar', 'zstd', 'busybox');
});

describe('cache-mounts: a compile cache kept between jobs', () => {
  test('job 2 on a pruned builder, one source changed: the mount is restored (hits), saved anew; the image is the same without cache-mounts', async (t) => {
    const services = await startActionsServices();
    t.after(() => services.stop());
    const withMounts = { ...inputs, 'cache-mounts': `id=${MOUNT_ID}` };

    pruneBuildCache();
    const job1 = freshJob(services);
    layDockerFixture(job1, 'ccache');
    const cold = await runStepWithPost('build-docker', job1, { inputs: withMounts });
    ok(cold.main);
    assert.deepEqual(hits(cold.main), { hits: 0, misses: 3 });
    assert.equal(cold.post.exitCode, 0);
    assert.deepEqual(cold.post.warnings, []);
    assert.match(cold.post.stdout, new RegExp(`Saved cache mount ${MOUNT_ID} as vllm-rocm-action-mount-linux-amd64-`));
    const saved = services.cacheEntries().filter((e) => e.key.startsWith('vllm-rocm-action-mount-linux-amd64-'));
    assert.equal(saved.length, 1, JSON.stringify(services.cacheEntries().map((e) => e.key)));

    // A fresh runner: the builder holds neither the steps nor the mount.
    pruneBuildCache();
    const job2 = freshJob(services);
    layDockerFixture(job2, 'ccache');
    changeOneSource(job2);
    const warm = await runStepWithPost('build-docker', job2, { inputs: withMounts });
    ok(warm.main);
    assert.match(warm.main.stdout, new RegExp(`Cache mount ${MOUNT_ID}: restored ${saved[0]!.key} into the builder`));
    assert.deepEqual(hits(warm.main), { hits: 2, misses: 1 }, 'the unchanged units come from the restored mount');
    assert.equal(warm.post.exitCode, 0);
    assert.deepEqual(warm.post.warnings, []);
    // The mount changed (one new unit) under a new context: saved again, for the next job's restore keys.
    assert.match(warm.post.stdout, new RegExp(`Saved cache mount ${MOUNT_ID} as `));
    assert.equal(services.cacheEntries().filter((e) => e.key.startsWith('vllm-rocm-action-mount-')).length, 2);

    // Without cache-mounts, the same source: a cold compile, and the very same image.
    pruneBuildCache();
    const job3 = freshJob(services);
    layDockerFixture(job3, 'ccache');
    changeOneSource(job3);
    const plain = ok(await runStep('build-docker', job3, { inputs }));
    assert.deepEqual(hits(plain), { hits: 0, misses: 3 });
    assert.equal(plain.outputs.digest, warm.main.outputs.digest, 'the mount content reached the image');
    t.diagnostic(`digest with and without cache-mounts: ${plain.outputs.digest}`);
  });

  test('a restored entry with an absolute, a ../ and a symlink-then-file member: refused with a warning, nothing written outside, a cold compile', async (t) => {
    const services = await startActionsServices();
    t.after(() => services.stop());
    const withMounts = { ...inputs, 'cache-mounts': `target=/cache` };
    const learnJob = freshJob(services);
    layDockerFixture(learnJob, 'ccache');
    const learned = ok(await runStep('build-docker', learnJob, { inputs: withMounts }));
    const key = new RegExp(`Cache mount ${MOUNT_ID}: no saved content for (\\S+) yet`).exec(learned.stdout)?.[1];
    assert.ok(key, learned.stdout.slice(-2000));

    pruneBuildCache();
    const job = freshJob(services);
    layDockerFixture(job, 'ccache');
    const dir = join(job.temp, 'vllm-rocm-action', 'build-docker', 'cache-mounts', createHash('sha256').update(MOUNT_ID).digest('hex').slice(0, 16));
    const victim = mkdtempSync(join(root, 'victim-'));
    const archive = hostileCacheArchive([...HOSTILE_MEMBERS], { workspace: job.workspace, dir, victim, work: root });
    await plantCacheArchive({ ...job.env, RUNNER_TEMP: job.temp, GITHUB_WORKSPACE: job.workspace }, dir, key, archive);
    const { main, post } = await runStepWithPost('build-docker', job, { inputs: withMounts });
    ok(main);
    assert.deepEqual(readdirSync(victim), [], 'a cache member was written outside the cache directory');
    assert.ok(main.warnings.some((w) => /^Cache entry refused \(building without it\): member .* (is outside the cache directory|is a symlink)/.test(w)), main.warnings.join('\n'));
    assert.deepEqual(hits(main), { hits: 0, misses: 3 });
    assert.equal(post.exitCode, 0);
  });
});

describe('cache-mounts: bad input gets a clear error, exit code 1', () => {
  let services: ActionsServices;
  before(async () => {
    services = await startActionsServices();
  });
  after(async () => services?.stop());
  const fails = async (value: string, message: RegExp): Promise<void> => {
    const job = freshJob(services);
    layDockerFixture(job, 'ccache');
    const result = await runStep('build-docker', job, { inputs: { ...inputs, 'cache-mounts': value } });
    assert.equal(result.exitCode, 1);
    assert.ok(result.errors.some((e) => message.test(e)), result.errors.join('\n'));
  };
  test('a mount the Dockerfile does not have: the input, and the mounts it has', () =>
    fails('id=ccache', /^Input 'cache-mounts': id=ccache: no RUN --mount=type=cache in .*Dockerfile has that id \(its cache mounts: id=ccache-fixture \(target=\/cache\)\)/));
  test('a line that would add a mount option', () => fails('id=ccache-fixture,target=/etc', /^Input 'cache-mounts': id=a cache id of letters/));
});
