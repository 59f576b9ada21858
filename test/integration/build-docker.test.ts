// build-docker, run from dist/ as the runner runs it, against the real dockerd + buildx,
// the loopback registry and the Actions cache stand-in.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { newRunnerJob, runStep, runStepWithPost, type RunnerJob, type StepResult, valuesSet } from '../support/action-runner.js';
import { startActionsServices, type ActionsServices } from '../support/actions-services.js';
import { layDockerFixture } from '../support/workspace.js';
import { HOSTILE_MEMBERS, hostileCacheArchive, plantCacheArchive } from '../support/hostile-cache.js';
import { pruneBuildCache, REGISTRY, requireRegistry, requireTools, sh } from '../support/tools.js';

let services: ActionsServices;
const root = mkdtempSync(join(tmpdir(), 'build-docker-'));
let jobCount = 0;

function freshJob(withServices = services): RunnerJob {
  // Same RUNNER_TEMP path every job, as on hosted runners: the Actions cache version includes the path.
  return newRunnerJob(join(root, 'runner'), withServices.jobEnv('run-1', `job-${++jobCount}`));
}

function assertClean(result: StepResult): void {
  assert.deepEqual(result.leakedSecrets, [], 'a secret was printed before it was masked');
}

function ok(result: StepResult): StepResult {
  assert.equal(result.exitCode, 0, `step failed:\n${result.stdout.slice(-4000)}\n${result.stderr.slice(-2000)}`);
  assert.deepEqual(result.errors, []);
  assertClean(result);
  return result;
}

before(async () => {
  requireTools('docker', 'skopeo', 'git', 'tar');
  sh('docker', ['buildx', 'version']);
  await requireRegistry();
  services = await startActionsServices();
});

after(async () => {
  await services?.stop();
});

describe('reproducible build, output oci', () => {
  test('two --no-cache-equivalent runs give the same digest, equal to buildx --metadata-file and to the archive index', async () => {
    const digests: string[] = [];
    for (let i = 0; i < 2; i++) {
      pruneBuildCache();
      const job = freshJob();
      layDockerFixture(job, 'reproducible');
      const { main, post } = await runStepWithPost('build-docker', job, { inputs: { cache: 'none', 'source-date-epoch': '1700000000' } });
      ok(main);
      assert.equal(post.exitCode, 0);
      const out = main.outputs;
      assert.match(out.digest!, /^sha256:[0-9a-f]{64}$/);
      assert.match(out['config-digest']!, /^sha256:[0-9a-f]{64}$/);
      assert.equal(out['cache-hit'], 'false');
      assert.equal(out['cached-steps'], '0/4');
      assert.ok(Number(out['build-seconds']) >= 2, 'the fixture sleeps 2 s when not cached');
      const archive = out['image-archive']!;
      assert.ok(existsSync(archive), 'image-archive exists');
      assert.ok(!existsSync(`${archive}.partial`));
      // The manifest index.json points to, and skopeo's view of it, are the digest output.
      const index = JSON.parse(sh('tar', ['-xOf', archive, 'index.json'])) as { manifests: Array<{ digest: string }> };
      assert.equal(index.manifests[0]!.digest, out.digest);
      const raw = sh('skopeo', ['inspect', '--raw', `oci-archive:${archive}`]);
      assert.equal(`sha256:${sha256(raw)}`, out.digest);
      const manifest = JSON.parse(raw) as { config: { size: number; digest: string }; layers: Array<{ size: number }> };
      assert.equal(manifest.config.digest, out['config-digest']);
      assert.equal(out.imageid, out['config-digest']);
      assert.equal(Number(out['size-bytes']), Buffer.byteLength(raw) + manifest.config.size + manifest.layers.reduce((n, l) => n + l.size, 0));
      assert.equal((JSON.parse(out.metadata!) as Record<string, string>)['containerimage.digest'], out.digest);
      assert.match(main.summary, /\| Digest \| `sha256:[0-9a-f]{64}` \|/);
      assert.match(main.summary, /\| Cache \| none: 0\/4 steps cached \|/);
      digests.push(out.digest!);
    }
    assert.equal(digests[0], digests[1]);

    // buildx on its own, with the same SOURCE_DATE_EPOCH and the OCI labels oci-labels generates
    // from the runner's GITHUB_* (test/support/action-runner.ts), reports the same digest.
    const job = freshJob();
    const ctx = layDockerFixture(job, 'reproducible');
    const meta = join(job.temp, 'direct-meta.json');
    const labels = [
      'org.opencontainers.image.created=2023-11-14T22:13:20.000Z',
      `org.opencontainers.image.revision=${'0'.repeat(40)}`,
      'org.opencontainers.image.source=https://github.com/example/vllm-rocm',
      'org.opencontainers.image.title=vllm-rocm',
      'org.opencontainers.image.url=https://github.com/example/vllm-rocm',
      'org.opencontainers.image.version=sha-0000000',
    ].flatMap((label) => ['--label', label]);
    sh('docker', ['buildx', 'build', '--no-cache', '--provenance=false', ...labels, '--build-arg', 'SOURCE_DATE_EPOCH=1700000000', '--metadata-file', meta,
      '--output', `type=oci,dest=${join(job.temp, 'direct.tar')},rewrite-timestamp=true`, ctx], { env: { ...process.env, SOURCE_DATE_EPOCH: '1700000000' } });
    assert.equal((JSON.parse(readFileSync(meta, 'utf8')) as Record<string, string>)['containerimage.digest'], digests[0]);
  });

  test('source-date-epoch defaults to 0, not to the committer time of HEAD (which would make the digest depend on the cache)', async () => {
    const job = freshJob();
    const ctx = layDockerFixture(job, 'reproducible');
    const env = { ...process.env, GIT_COMMITTER_DATE: '@1650000000 +0000', GIT_AUTHOR_DATE: '@1650000000 +0000' };
    sh('git', ['init', '-q', ctx]);
    sh('git', ['-C', ctx, '-c', 'user.email=t@example.com', '-c', 'user.name=t', 'add', '.'], { env });
    sh('git', ['-C', ctx, '-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-qm', 'fixture'], { env });
    const { main } = await runStepWithPost('build-docker', job, { inputs: { cache: 'none' } });
    ok(main);
    assert.match(main.stdout, /SOURCE_DATE_EPOCH=0 \(default\)/);
    assert.match(main.summary, /\| SOURCE_DATE_EPOCH \| 0 \(1970-01-01T00:00:00Z; default\) \|/);
    assert.equal(main.outputs['source-date-epoch'], '0');
  });
});

describe('cached builds', () => {
  for (const cache of ['local', 'registry', 'gha'] as const) {
    test(`cache: ${cache} — the second run, in a fresh job with an empty builder cache, reports cached steps and is faster`, async (t) => {
      const inputs: Record<string, string> = { cache, 'source-date-epoch': '1700000000', 'build-args': `GFX_ARCH=gfx942-${cache}` };
      // A cache service and a registry repository of this test's own, so no earlier run can hit.
      if (cache === 'registry') inputs['cache-ref'] = `${REGISTRY}/cache/vllm-fixture-${Date.now()}:buildcache`;
      const own = await startActionsServices();
      t.after(() => own.stop());
      const runs: StepResult[] = [];
      for (let i = 0; i < 2; i++) {
        pruneBuildCache();
        const job = freshJob(own);
        layDockerFixture(job, 'reproducible');
        const { main, post } = await runStepWithPost('build-docker', job, { inputs });
        ok(main);
        assert.equal(post.exitCode, 0);
        assert.deepEqual(post.warnings, []);
        assertClean(post);
        if (cache === 'gha') {
          // buildx 0.13 (Debian) cannot speak the v2 cache service: a warning, then cache: local.
          assert.ok(main.warnings.some((w) => /cache: gha needs buildx 0\.21\.0 or newer.*Falling back to cache: local/.test(w)), main.warnings.join('\n'));
        }
        runs.push(main);
      }
      const [first, second] = runs as [StepResult, StepResult];
      t.diagnostic(`cache ${cache}: first run ${first.outputs['build-seconds']} s (${first.outputs['cached-steps']} cached), second run ${second.outputs['build-seconds']} s (${second.outputs['cached-steps']} cached)`);
      assert.equal(first.outputs['cached-steps'], '0/4');
      assert.equal(first.outputs['cache-hit'], 'false');
      const [cached, total] = second.outputs['cached-steps']!.split('/').map(Number) as [number, number];
      assert.equal(total, 4);
      assert.ok(cached >= 3, `second run cached-steps ${second.outputs['cached-steps']}`);
      assert.equal(second.outputs['cache-hit'], String(cached === total), 'cache-hit is true only when every step was cached');
      assert.ok(Number(second.outputs['build-seconds']) < Number(first.outputs['build-seconds']), `second ${second.outputs['build-seconds']}s vs first ${first.outputs['build-seconds']}s`);
      assert.equal(second.outputs.digest, first.outputs.digest, 'a cached build gives the same image');
      for (const run of runs) assert.match(run.outputs['restore-seconds']!, /^\d+\.\d$/);
      if (cache !== 'registry') {
        // The second job restores the exact key: it imports that cache and never exports it again.
        assert.match(first.stdout, /--cache-to type=local,dest=/);
        // Nothing to import in the cold job: no --cache-from, so no "could not lock … index.json.lock" warning.
        assert.doesNotMatch(first.stdout, /--cache-from/);
        assert.doesNotMatch(first.stdout, /could not lock/);
        assert.match(second.stdout, /--cache-from type=local,src=/);
        assert.match(second.stdout, /restored under its exact key: importing it, not exporting it again/);
        assert.doesNotMatch(second.stdout, /--cache-to/);
        assert.doesNotMatch(second.stdout, /exporting cache/);
        assert.ok(Number(second.outputs['restore-seconds']) > 0, 'the Actions cache download takes time');
      }
      if (cache !== 'registry') {
        assert.ok(own.cacheEntries().some((e) => e.key.startsWith('vllm-rocm-action-buildkit-linux-amd64-')), 'the BuildKit cache went through the Actions cache');
      }
    });
  }
});

describe('an Actions cache entry that writes outside its directory (issue 18)', () => {
  test('cache: local — an absolute, a ../ and a symlink-then-file member: refused with a warning, nothing written outside, a cold build', async (t) => {
    const own = await startActionsServices();
    t.after(() => own.stop());
    const inputs = { cache: 'local', 'source-date-epoch': '1700000000', 'build-args': 'GFX_ARCH=gfx942-hostile-cache' };
    const learnJob = freshJob(own);
    layDockerFixture(learnJob, 'reproducible');
    const learned = ok(await runStep('build-docker', learnJob, { inputs }));
    const key = /No BuildKit cache for (\S+) yet/.exec(learned.stdout)?.[1];
    assert.ok(key, learned.stdout.slice(-2000));

    pruneBuildCache();
    const job = freshJob(own);
    layDockerFixture(job, 'reproducible');
    const dir = join(job.temp, 'vllm-rocm-action', 'build-docker', 'buildkit-cache');
    const victim = mkdtempSync(join(root, 'victim-'));
    const archive = hostileCacheArchive([...HOSTILE_MEMBERS], { workspace: job.workspace, dir, victim, work: root });
    await plantCacheArchive({ ...job.env, RUNNER_TEMP: job.temp, GITHUB_WORKSPACE: job.workspace }, dir, key, archive);
    const { main, post } = await runStepWithPost('build-docker', job, { inputs });
    ok(main);
    assert.deepEqual(readdirSync(victim), [], 'a cache member was written outside the cache directory');
    assert.ok(main.warnings.some((w) => /^Cache entry refused \(building without it\): member .* (is outside the cache directory|is a symlink)/.test(w)), main.warnings.join('\n'));
    assert.match(main.stdout, new RegExp(`No BuildKit cache for ${key} yet`));
    assert.equal(main.outputs['cached-steps'], '0/4');
    assert.equal(main.outputs.digest, learned.outputs.digest);
    assert.equal(post.exitCode, 0);
  });
});

describe('compression and the time split', () => {
  test('compression: zstd gives zstd layers (FROM scratch: every layer made by the build) and one digest across rebuilds; the post step splits the job by phase', async () => {
    const digests: string[] = [];
    for (let i = 0; i < 2; i++) {
      pruneBuildCache();
      const job = freshJob();
      layDockerFixture(job, 'reproducible');
      const { main, post } = await runStepWithPost('build-docker', job, { inputs: { cache: 'none', compression: 'zstd', 'source-date-epoch': '1700000000' } });
      ok(main);
      assert.equal(post.exitCode, 0);
      const raw = sh('skopeo', ['inspect', '--raw', `oci-archive:${main.outputs['image-archive']!}`]);
      const manifest = JSON.parse(raw) as { layers: Array<{ mediaType: string }> };
      assert.ok(manifest.layers.length > 0);
      for (const layer of manifest.layers) assert.equal(layer.mediaType, 'application/vnd.oci.image.layer.v1.tar+zstd');
      assert.match(main.summary, /\| Compression \| zstd \|/);
      assert.equal(main.outputs['restore-seconds'], '0.0', 'cache: none restores nothing');
      assert.match(post.summary, /<h3>Job time by phase<\/h3>/);
      for (const phase of ['Dockerfile steps', 'export the image \\(layers, archive or push\\)', 'save the cache \\(Actions cache, post\\)']) {
        assert.match(post.summary, new RegExp(`\\| ${phase} \\| \\d+\\.\\d s`), post.summary);
      }
      // The fixture sleeps 2 s in a RUN step: the steps' share of the table holds it.
      const steps = /\| Dockerfile steps \| (\d+\.\d) s/.exec(post.summary)![1]!;
      assert.ok(Number(steps) >= 2, post.summary);
      digests.push(main.outputs.digest!);
    }
    assert.equal(digests[0], digests[1]);
  });
});

describe('other outputs', () => {
  test('output: docker loads the image into the engine', async () => {
    const job = freshJob();
    layDockerFixture(job, 'reproducible');
    const { main } = await runStepWithPost('build-docker', job, { inputs: { cache: 'none', output: 'docker', tags: 'vllm-fixture:docker-output', 'source-date-epoch': '1700000000' } });
    assert.equal(main.exitCode, 0, main.stdout.slice(-3000));
    assert.ok(main.warnings.some((w) => /output: docker on a builder with the docker driver cannot rewrite layer timestamps/.test(w)));
    assert.equal(main.outputs['image-archive'], '');
    assert.ok(Number(main.outputs['size-bytes']) > 0);
    assert.equal(sh('docker', ['run', '--rm', 'vllm-fixture:docker-output']).trim(), 'vllm 0.0.0+fixture');
  });

  test('output: registry pushes to the tags, and the digest is the pushed manifest', async () => {
    const job = freshJob();
    layDockerFixture(job, 'reproducible');
    const ref = `${REGISTRY}/vllm-fixture:pushed`;
    const { main } = await runStepWithPost('build-docker', job, { inputs: { cache: 'none', output: 'registry', tags: ref, 'source-date-epoch': '1700000000' } });
    assert.equal(main.exitCode, 0, main.stdout.slice(-3000));
    assert.ok(main.warnings.some((w) => /output: registry on a builder with the docker driver/.test(w)));
    const raw = sh('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${ref}`]);
    assert.equal(`sha256:${sha256(raw)}`, main.outputs.digest);
    const manifest = JSON.parse(raw) as { config: { size: number }; layers: Array<{ size: number }> };
    assert.equal(Number(main.outputs['size-bytes']), Buffer.byteLength(raw) + manifest.config.size + manifest.layers.reduce((n, l) => n + l.size, 0));
  });
});

describe('bad input gets a clear error, exit code 1, nothing half-written', () => {
  async function fails(inputs: Record<string, string>, pattern: RegExp, setup?: (job: RunnerJob) => Record<string, string> | void): Promise<void> {
    const job = freshJob();
    layDockerFixture(job, 'reproducible');
    const env = setup?.(job) ?? undefined;
    const result = await runStep('build-docker', job, { inputs: { cache: 'none', ...inputs }, ...(env ? { env } : {}) });
    assert.equal(result.exitCode, 1, result.stdout.slice(-3000));
    assert.equal(result.errors.length, 1, `one error annotation: ${result.errors.join(' | ')}`);
    assert.match(result.errors[0]!, pattern);
    assert.deepEqual(valuesSet(result.outputs), {}, 'no outputs on failure');
    const stageDir = join(job.temp, 'vllm-rocm-action', 'build-docker');
    const left = existsSync(stageDir) ? readdirSync(stageDir).filter((f) => f.includes('.tar')) : [];
    assert.deepEqual(left, [], 'no archive, partial or whole, is left behind');
    assertClean(result);
  }

  test('an unknown compression names the input and what is allowed', () => fails({ compression: 'xz' }, /^Input 'compression': must be one of gzip, zstd \(got 'xz'\)/));
  test('no Dockerfile at file: the hint says file is relative to the workspace', () =>
    fails({ file: 'docker/missing.Dockerfile' }, /^Input 'file': no Dockerfile at .*docker\/missing\.Dockerfile \('file' is relative to the workspace, not to 'context'/));
  test('a build-push-action habit input (the runner passes it as INPUT_PUSH) is refused with the equivalent', () =>
    fails({}, /^Input 'push': is not an input of this action: use `output: registry` \(with `tags`\)/, () => ({ INPUT_PUSH: 'true' })));
  test('load: true is refused, not ignored', () => fails({}, /^Input 'load': is not an input of this action: use `output: docker`/, () => ({ INPUT_LOAD: 'true' })));
  test('target that would add a cache option is refused', () =>
    fails({ target: 'runtime,url=https://attacker.example/' }, /^Input 'target': must be a stage name of the Dockerfile/));
  test('target that is no stage of the Dockerfile', () => fails({ target: 'runtime' }, /^Input 'target': no stage named 'runtime' in .*Dockerfile \(it names no stages/));
  test('cache-ref with a comma is refused', () =>
    fails({ cache: 'registry', 'cache-ref': '127.0.0.1:5000/c:b,ref=attacker.example/x' }, /^Input 'cache-ref': must be one registry reference .* without commas/));
  test('secret-envs naming an unset variable', () => fails({ 'secret-envs': 'hf=H_DOCKER_UNSET_VAR' }, /^Input 'secret-envs': hf=H_DOCKER_UNSET_VAR: the environment variable H_DOCKER_UNSET_VAR is not set/));
  test('unknown cache', () => fails({ cache: 'redis' }, /^Input 'cache': must be one of gha, registry, local, none \(got 'redis'\)/));
  test('a builder that does not exist', () => fails({ builder: 'no-such-builder' }, /^Input 'builder': no usable buildx builder named 'no-such-builder'/));
  test('cache: registry without cache-ref', () => fails({ cache: 'registry' }, /^Input 'cache-ref': must be set when cache is 'registry'/));
  test('docker is not installed', () =>
    fails({}, /docker is not installed or not on PATH/, () => ({ PATH: '/nonexistent-bin' })));
  test('buildx too old', () =>
    fails({}, /docker buildx 0\.10\.4 is too old: 0\.13\.0 or newer is required/, (job) => {
      // The docker CLI looks for plugins in $DOCKER_CONFIG/cli-plugins first: an old buildx there.
      const config = join(job.home, 'docker-config');
      mkdirSync(join(config, 'cli-plugins'), { recursive: true });
      const plugin = join(config, 'cli-plugins', 'docker-buildx');
      writeFileSync(plugin, `#!/bin/sh\nif [ "$1" = docker-cli-plugin-metadata ]; then echo '{"SchemaVersion":"0.1.0","Vendor":"Docker Inc.","Version":"v0.10.4"}'; exit 0; fi\necho "github.com/docker/buildx v0.10.4 c513d34"\n`);
      chmodSync(plugin, 0o755);
      return { DOCKER_CONFIG: config };
    }));
  test('a failing RUN: the command once, the early error line (not in the tail), then the last lines', async () => {
    const job = freshJob();
    layDockerFixture(job, 'failing');
    const result = await runStep('build-docker', job, { inputs: { cache: 'none' } });
    assert.equal(result.exitCode, 1);
    assert.equal(result.errors.length, 1);
    const error = result.errors[0]!;
    assert.match(error, /failed at step "\[2\/2\] RUN \[.*exit 3"\]" \(Dockerfile:5\): exit code: 3\n/);
    assert.equal(error.split("echo 'installing vllm wheel'").length - 1, 1, `the command is shown once:\n${error}`);
    const errorLines = error.slice(error.indexOf('Log lines with errors:\n'), error.indexOf('Last log lines:\n'));
    assert.match(errorLines, /hipcc: error: unsupported target ID gfx1151/);
    assert.match(errorLines, /error: no matching wheel for gfx1151/);
    const tail = error.slice(error.indexOf('Last log lines:\n')).split('\n').slice(1);
    assert.ok(tail.includes('compiling kernel 40'), tail.join('|'));
    assert.ok(!existsSync(join(job.temp, 'vllm-rocm-action', 'build-docker', 'image.oci.tar.partial')));
    assert.ok(!existsSync(join(job.temp, 'vllm-rocm-action', 'build-docker', 'image.oci.tar')));
  });
});

describe('conventions and hardening', () => {
  test('a cache export that fails (registry unreachable) warns, naming the step, and the build succeeds', async () => {
    const job = freshJob();
    layDockerFixture(job, 'reproducible');
    const { main } = await runStepWithPost('build-docker', job, { inputs: { cache: 'registry', 'cache-ref': '127.0.0.1:9/h-docker/unreachable:cache', 'source-date-epoch': '1700000000' } });
    ok(main);
    assert.match(main.outputs.digest!, /^sha256:[0-9a-f]{64}$/);
    assert.ok(existsSync(main.outputs['image-archive']!));
    assert.ok(main.warnings.some((w) => /^The image was built, but the build cache was not saved \(exporting cache to registry: .*connection refused/.test(w)), main.warnings.join('\n'));
    assert.ok(main.warnings.some((w) => /^The build cache could not be read.*importing cache manifest from 127\.0\.0\.1:9/.test(w)), main.warnings.join('\n'));
  });

  test('build args: spaces around = trimmed; one consumed by no ARG warns with the nearest name', async () => {
    const job = freshJob();
    layDockerFixture(job, 'reproducible');
    const { main } = await runStepWithPost('build-docker', job, { inputs: { cache: 'none', 'build-args': 'GFX_ARCH = gfx1100\nGFX_ARCHH=gfx942' } });
    ok(main);
    assert.ok(main.warnings.some((w) => /^build-args: GFX_ARCHH is consumed by no ARG in .*Dockerfile, so it has no effect \(did you mean GFX_ARCH\?\)/.test(w)), main.warnings.join('\n'));
    assert.ok(!main.warnings.some((w) => /GFX_ARCH is consumed/.test(w)));
    assert.equal(fileInImage(main.outputs['image-archive']!, 'opt/vllm/gfx-arch'), 'gfx1100\n');
  });

  test('secrets reach RUN --mount=type=secret, masked, never in argv or the log; a secret-like build arg warns and is redacted', async () => {
    const job = freshJob();
    layDockerFixture(job, 'secrets');
    const { main } = await runStepWithPost('build-docker', job, {
      inputs: { cache: 'none', secrets: 'hf=hf_integration_secret_value', 'secret-envs': 'hf_env=H_DOCKER_SECRET_ENV', 'build-args': 'HF_TOKEN=hf_buildarg_value_123' },
      env: { H_DOCKER_SECRET_ENV: 'env_secret_value_456' },
    });
    ok(main);
    for (const value of ['hf_integration_secret_value', 'hf_buildarg_value_123', 'env_secret_value_456']) assert.ok(main.masks.includes(value), `${value} is masked`);
    assert.match(main.stdout, /--secret id=hf_env,env=H_DOCKER_SECRET_ENV /);
    for (const value of ['hf_integration_secret_value', 'hf_buildarg_value_123', 'env_secret_value_456']) {
      const shown = (main.stdout + main.stderr + main.summary + JSON.stringify(main.outputs) + JSON.stringify(main.state)).split('\n').filter((l) => l.includes(value) && !l.startsWith('::add-mask::'));
      assert.deepEqual(shown, [], `${value} appears only in its ::add-mask:: command`);
    }
    assert.match(main.stdout, /--secret id=hf,env=VLLM_ROCM_ACTION_SECRET_0 /);
    assert.match(main.stdout, /--build-arg HF_TOKEN=\*\*\* /);
    assert.ok(main.warnings.some((w) => /^build-args: HF_TOKEN looks like a secret\. .*`secrets: HF_TOKEN=…`/.test(w)), main.warnings.join('\n'));
    assert.equal(fileInImage(main.outputs['image-archive']!, 'secret-sha256'), `${sha256('hf_integration_secret_value')}\n`, 'the build saw the secret');
  });

  test('build-contexts, shm-size, ulimit, annotations, no-cache and pull reach the build', async () => {
    const job = freshJob();
    layDockerFixture(job, 'options');
    const { main } = await runStepWithPost('build-docker', job, {
      inputs: {
        cache: 'none', 'no-cache': 'true', pull: 'true', 'build-contexts': `extra = ${join(job.workspace, 'extra')}`, 'shm-size': '96m',
        ulimit: 'nofile=4096:4096', annotations: 'org.example.gfx=gfx1151',
      },
    });
    ok(main);
    const archive = main.outputs['image-archive']!;
    assert.equal(fileInImage(archive, 'payload.txt'), 'from the extra build context\n');
    assert.equal(fileInImage(archive, 'shm-kb'), `${96 * 1024}\n`);
    assert.equal(fileInImage(archive, 'nofile'), '4096\n');
    const manifest = JSON.parse(sh('skopeo', ['inspect', '--raw', `oci-archive:${archive}`])) as { annotations?: Record<string, string> };
    assert.equal(manifest.annotations?.['org.example.gfx'], 'gfx1151');
    assert.match(main.stdout, / --no-cache --pull --shm-size 96m --ulimit nofile=4096:4096 /);
  });

  test('a RUNNER_TEMP path with a comma: the archive destination is one quoted field, the build works', async () => {
    const job = newRunnerJob(join(root, 'runner,with-comma'), services.jobEnv('run-1', `job-${++jobCount}`));
    layDockerFixture(job, 'reproducible');
    const { main } = await runStepWithPost('build-docker', job, { inputs: { cache: 'none', 'source-date-epoch': '1700000000' } });
    ok(main);
    assert.match(main.stdout, /--output type=oci,"dest=[^"]*runner,with-comma[^"]*image\.oci\.tar\.partial",rewrite-timestamp=true /);
    assert.ok(existsSync(main.outputs['image-archive']!));
  });
});

/** A file's content in an OCI archive's image: the last layer that has it. */
function fileInImage(archive: string, path: string): string {
  const index = JSON.parse(sh('tar', ['-xOf', archive, 'index.json'])) as { manifests: Array<{ digest: string }> };
  const blob = (digest: string): string => `blobs/sha256/${digest.slice('sha256:'.length)}`;
  const manifest = JSON.parse(sh('tar', ['-xOf', archive, blob(index.manifests[0]!.digest)])) as { layers: Array<{ digest: string }> };
  let found: string | undefined;
  for (const layer of manifest.layers) {
    const listing = sh('bash', ['-c', 'tar -xOf "$1" "$2" | tar -tz', 'x', archive, blob(layer.digest)]).split('\n');
    if (listing.includes(path)) found = sh('bash', ['-c', 'tar -xOf "$1" "$2" | tar -xzO "$3"', 'x', archive, blob(layer.digest), path]);
  }
  if (found === undefined) throw new Error(`${path} is in no layer of ${archive}`);
  return found;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

describe('a build step that forges runner commands', () => {
  test('its save-state and set-output (both forms) stay text: post leaves the victim directory alone, the digest is the build\'s', async () => {
    const job = freshJob();
    layDockerFixture(job, 'forging');
    const victim = join(root, `victim-${jobCount}`);
    mkdirSync(victim, { recursive: true });
    mkdirSync(`${victim}-new`, { recursive: true });
    writeFileSync(join(victim, 'keep'), 'mine');
    const { main, post } = await runStepWithPost('build-docker', job, { inputs: { cache: 'none', 'build-args': `VICTIM=${victim}` } });
    ok(main);
    assert.equal(post.exitCode, 0);
    assert.ok(existsSync(join(victim, 'keep')) && existsSync(`${victim}-new`), 'post removed the victim directory');
    assert.equal(main.state['local-cache'], '', `forged state reached the runner: ${main.state['local-cache']}`);
    assert.match(main.outputs.digest!, /^sha256:[0-9a-f]{64}$/);
    assert.match(main.stdout, /##\[\\save-state name=local-cache\]/, 'the forged line is shown, neutralised');
  });
});
