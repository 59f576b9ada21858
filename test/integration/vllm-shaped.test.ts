// The vLLM-shaped build at a small scale (issue 20), run from dist/ as the runner runs it, each job
// on a fresh private engine (an empty builder: a fresh runner): a real-files base with the C
// toolchain in it, pushed to the loopback registry and built FROM by digest; a small-files layer;
// C units compiled with ccache under RUN --mount=type=cache,id=vllm-rocm-ccache. The output keeps
// the base's own layer digests, and a second job with one unit changed gets the other units from
// the compile cache that cache-mounts carried through the Actions cache stand-in.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newRunnerJob, runStepWithPost, type RunnerJob, type StepResult } from '../support/action-runner.js';
import { startActionsServices, type ActionsServices } from '../support/actions-services.js';
import { startFreshEngine, stopEngine, type PrivateEngine } from '../support/private-engine.js';
import { REGISTRY, requireRegistry, requireTools, sh } from '../support/tools.js';
import { CCACHE_MOUNT_ID, ccacheCounts, changeOneUnit, layVllmContext, pushRealFilesBase, type RealFilesBase, type VllmShape } from '../support/vllm-shaped.js';

const root = mkdtempSync(join(tmpdir(), 'vllm-shaped-'));
const engine: PrivateEngine = { dir: join(root, 'engine'), engine: '26', bridge: { name: 'vra-vshaped', cidr: '172.30.233.1/24' } };
const shape: VllmShape = { baseBytes: 0, baseLayers: 2, units: 6, unitFunctions: 4, smallFiles: 300 };
let services: ActionsServices;
let base: RealFilesBase;
let jobs = 0;

/** A fresh runner: a new job directory, and an engine with an empty data root. */
function freshJob(): RunnerJob {
  const job = newRunnerJob(join(root, 'runner'), services.jobEnv('run-1', `job-${++jobs}`));
  Object.assign(job.env, startFreshEngine(engine));
  layVllmContext(job.workspace, base.ref, shape);
  return job;
}

function ok(result: StepResult): StepResult {
  assert.equal(result.exitCode, 0, `step failed:\n${result.stdout.slice(-4000)}\n${result.stderr.slice(-2000)}`);
  assert.deepEqual(result.errors, []);
  return result;
}

function layers(archive: string): string[] {
  return (JSON.parse(sh('skopeo', ['inspect', '--raw', `oci-archive:${archive}`])) as { layers: Array<{ digest: string }> }).layers.map((l) => l.digest);
}

/** Regular files in one layer of the archive. */
function layerFiles(archive: string, digest: string): number {
  const list = sh('bash', ['-o', 'pipefail', '-c', 'tar -xOf "$1" "blobs/sha256/${2#sha256:}" | tar -tvzf -', 'layer', archive, digest]);
  return list.split('\n').filter((l) => l.startsWith('-')).length;
}

before(async () => {
  // The compile runs gcc and ccache from the base this machine's files make: missing tools fail, never skip.
  requireTools('docker', 'skopeo', 'gcc', 'ccache', 'dpkg-query', 'tar', 'gzip', 'busybox', 'ip');
  await requireRegistry();
  services = await startActionsServices({ dataDir: join(root, 'services') });
  base = await pushRealFilesBase(join(root, 'base'), `${REGISTRY}/h-vbench/vllm-shaped-base-${process.pid}`, shape);
});
after(async () => {
  await services?.stop();
  stopEngine(engine);
  rmSync(root, { recursive: true, force: true });
});

describe('the vLLM-shaped build at a small scale', () => {
  test('cold, then one unit changed on a fresh engine: base digests kept, only the changed unit compiled, the rest from the restored ccache mount', async (t) => {
    const inputs = { cache: 'local', 'cache-mounts': `id=${CCACHE_MOUNT_ID}` };
    const coldJob = freshJob();
    const cold = await runStepWithPost('build-docker', coldJob, { inputs });
    ok(cold.main);
    assert.deepEqual(ccacheCounts(cold.main.stdout), { hits: 0, misses: shape.units }, 'the cold compile found a compile cache');
    const coldLayers = layers(cold.main.outputs['image-archive']!);
    // The base's layers, then site-packages, csrc, the compile, the entrypoint.
    assert.equal(coldLayers.length, base.layers.length + 4, JSON.stringify(coldLayers));
    assert.deepEqual(coldLayers.slice(0, base.layers.length), base.layers, 'a base layer was rewritten');
    assert.match(cold.main.summary, new RegExp(`\\| Base layers \\| ${base.layers.length} of ${base.layers.length} layers of \`[^\`]+\` kept as they are`));
    assert.equal(layerFiles(cold.main.outputs['image-archive']!, coldLayers[base.layers.length]!), shape.smallFiles, 'the small-files layer');
    assert.equal(cold.post.exitCode, 0);
    assert.deepEqual(cold.post.warnings, []);
    assert.match(cold.post.stdout, new RegExp(`Saved cache mount ${CCACHE_MOUNT_ID} as `));

    const warmJob = freshJob();
    changeOneUnit(warmJob.workspace, 2, shape.unitFunctions);
    const warm = await runStepWithPost('build-docker', warmJob, { inputs });
    ok(warm.main);
    assert.match(warm.main.stdout, new RegExp(`Cache mount ${CCACHE_MOUNT_ID}: restored \\S+ into the builder`));
    assert.deepEqual(ccacheCounts(warm.main.stdout), { hits: shape.units - 1, misses: 1 }, 'not only the changed unit was compiled');
    const warmLayers = layers(warm.main.outputs['image-archive']!);
    assert.deepEqual(warmLayers.slice(0, base.layers.length + 1), coldLayers.slice(0, base.layers.length + 1), 'the base and the small-files layer are the same layers');
    assert.notEqual(warmLayers[base.layers.length + 2], coldLayers[base.layers.length + 2], 'the compiled layer did not change with its source');
    assert.notEqual(warm.main.outputs.digest, cold.main.outputs.digest);
    assert.equal(warm.post.exitCode, 0);
    assert.deepEqual(warm.post.warnings, []);
    t.diagnostic(`base ${base.ref} (${base.layerBytes.map((b) => `${(b / 2 ** 20).toFixed(0)} MiB`).join(' + ')}); warm cached steps ${warm.main.outputs['cached-steps']}`);
  });
});
