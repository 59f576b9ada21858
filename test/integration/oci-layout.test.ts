// build-docker's output: oci-layout on both engines (dockerd 26 / buildx 0.13 and docker 28 /
// buildx 0.29), run from dist/ as the runner runs it, and the stages that read the layout in place:
// smoke-test (docker load of the layout streamed as a tar) and verify (compare mode).
// docker load here runs the engine's own CLI (PATH and DOCKER_HOST from the job's env).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newRunnerJob, runStep, type RunnerJob, type StepResult } from '../support/action-runner.js';
import { startActionsServices, type ActionsServices } from '../support/actions-services.js';
import { docker28Env, requireDocker28 } from '../support/docker28.js';
import { fakeVllmBinary, freePort } from '../support/fake-vllm.js';
import { requireTools, sh } from '../support/tools.js';
import { layoutTar, planLayoutTar } from '../../src/oci/layout-tar.js';
import { parseDockerLoad } from '../../src/smoke-test/image.js';

let services: ActionsServices;
const root = mkdtempSync(join(tmpdir(), 'oci-layout-'));
let jobs = 0;

before(async () => {
  requireTools('docker', 'skopeo', 'gcc');
  services = await startActionsServices();
});
after(async () => services?.stop());

const engines: Array<[string, (j: RunnerJob) => Record<string, string>]> = [
  ['dockerd 26 / buildx 0.13', () => ({})],
  [
    'docker 28 / buildx 0.29',
    (j) => {
      const env = docker28Env(j.home);
      requireDocker28(env);
      return env;
    },
  ],
];

/** A job whose workspace holds a FROM scratch image of the fake vLLM server (ENTRYPOINT vllm serve, as upstream). */
function job(env: (j: RunnerJob) => Record<string, string>, runner = `runner-${++jobs}`): RunnerJob {
  const j = newRunnerJob(join(root, runner), { ...services.jobEnv('run-1', `job-${++jobs}`), GITHUB_RUN_ID: String(5000 + jobs) });
  Object.assign(j.env, env(j));
  mkdirSync(j.workspace, { recursive: true });
  copyFileSync(fakeVllmBinary(), join(j.workspace, 'vllm'));
  writeFileSync(join(j.workspace, 'Dockerfile'), `FROM scratch\nCOPY vllm /usr/bin/vllm\nCOPY note.txt /etc/note.txt\nENV PATH=/usr/bin\nENTRYPOINT ["vllm", "serve"]\n`);
  writeFileSync(join(j.workspace, 'note.txt'), `oci-layout test ${runner}\n`);
  return j;
}

function ok(result: StepResult): StepResult {
  assert.equal(result.exitCode, 0, `step failed:\n${result.stdout.slice(-4000)}\n${result.stderr.slice(-2000)}`);
  assert.deepEqual(result.errors, []);
  assert.deepEqual(result.leakedSecrets, []);
  return result;
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

describe('output: oci-layout', () => {
  for (const [engine, env] of engines) {
    test(`${engine}: the digest is index.json's, the layout is readable in place, smoke-test loads it, verify compares it; a failed build leaves no layout`, async () => {
      const j = job(env);
      const built = ok(await runStep('build-docker', j, { inputs: { cache: 'none', output: 'oci-layout', 'source-date-epoch': '0' } }));
      const { outputs } = built;
      const layout = outputs['image-layout']!;
      assert.equal(outputs['image-archive'], '', 'no archive for a layout');
      assert.ok(statSync(layout).isDirectory(), `${layout} is a directory`);
      assert.ok(!existsSync(`${layout}.partial`), 'nothing left beside it');
      assert.deepEqual(readdirSync(layout).sort(), ['blobs', 'index.json', 'oci-layout'], "BuildKit's empty ingest folder is gone");
      const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
      assert.equal(index.manifests[0]!.digest, outputs.digest);
      const raw = sh('skopeo', ['inspect', '--raw', `oci:${layout}`]);
      assert.equal(`sha256:${sha256(raw)}`, outputs.digest, "skopeo reads the layout, and its manifest is the digest output");
      const manifest = JSON.parse(raw) as { config: { digest: string; size: number }; layers: Array<{ size: number }> };
      assert.equal(manifest.config.digest, outputs['config-digest']);
      assert.equal(Number(outputs['size-bytes']), Buffer.byteLength(raw) + manifest.config.size + manifest.layers.reduce((n, l) => n + l.size, 0));
      assert.match(built.summary, /\| Output \| OCI image layout `[^`]+image\.oci` \|/);

      // The layout tar smoke-test streams, loaded by this engine's own `docker load`: it names the image by ID.
      const plan = await planLayoutTar(layout);
      const chunks: Buffer[] = [];
      for await (const chunk of layoutTar(plan)) chunks.push(chunk);
      const load = spawnSync('docker', ['load'], { input: Buffer.concat(chunks), env: { ...process.env, ...j.env }, encoding: 'utf8' });
      assert.equal(load.status, 0, load.stderr);
      const loaded = parseDockerLoad(load.stdout);
      assert.ok(loaded === outputs.digest || loaded === outputs['config-digest'], `docker load named ${loaded} (${load.stdout.trim()})`);
      spawnSync('docker', ['image', 'rm', loaded], { env: { ...process.env, ...j.env } });

      // smoke-test from dist/: the layout streamed into `docker load`, the server started and answering.
      // dockerd 26 only: engine 28's published ports do not answer from this host's test network.
      if (!j.env.DOCKER_HOST) {
        const smoke = ok(await runStep('smoke-test', j, { inputs: { image: layout, gpu: 'none', requests: '2', port: String(await freePort()) } }));
        assert.equal(smoke.outputs.passed, 'true', smoke.stdout.slice(-3000));
        const post = await runStep('smoke-test', j, { phase: 'post', state: smoke.state });
        assert.equal(post.exitCode, 0);
      }

      // verify, compare mode: the layout against itself, read in place.
      const verified = ok(await runStep('verify-reproducibility', j, { inputs: { mode: 'compare', 'archive-a': layout, 'archive-b': layout } }));
      assert.equal(verified.outputs.reproducible, 'true');
      assert.equal(verified.outputs['digest-a'], outputs.digest);
      const report = JSON.parse(readFileSync(verified.outputs.report!, 'utf8')) as { a: { kind: string }; counts: { total: number } };
      assert.equal(report.a.kind, 'oci-layout');
      assert.equal(report.counts.total, 0);

      // A failing build in the same job: the earlier layout is not left behind as if it were this build's.
      writeFileSync(join(j.workspace, 'Dockerfile'), 'FROM scratch\nCOPY missing-file /x\n');
      const failed = await runStep('build-docker', j, { inputs: { cache: 'none', output: 'oci-layout', 'source-date-epoch': '0' } });
      assert.equal(failed.exitCode, 1, failed.stdout.slice(-3000));
      assert.ok(!existsSync(layout), 'the stale layout is gone');
      assert.ok(!existsSync(`${layout}.partial`), 'no half-written layout');
      assert.ok(!failed.outputs['image-layout'], 'no layout named');
    });
  }
});
