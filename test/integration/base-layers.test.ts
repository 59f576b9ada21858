// Base layers pass through unchanged (issue 20): a 3-layer base made here FROM scratch of real
// files, pushed to the loopback registry and built FROM by digest on both engines (dockerd 26 /
// buildx 0.13 and docker 28 / buildx 0.29) with the stage's defaults (rewrite-timestamp=true,
// SOURCE_DATE_EPOCH=0, gzip). The output keeps the base's own blob digests (moby/buildkit#4805
// reports them rewritten on BuildKit 0.13.1 for some bases), and the summary says it checked.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newRunnerJob, runStep, type RunnerJob, type StepResult } from '../support/action-runner.js';
import { startActionsServices, type ActionsServices } from '../support/actions-services.js';
import { docker28Env, requireDocker28 } from '../support/docker28.js';
import { REGISTRY, requireRegistry, requireTools, sh } from '../support/tools.js';

let services: ActionsServices;
const root = mkdtempSync(join(tmpdir(), 'base-layers-'));
const repo = `${REGISTRY}/h-base-layers/base-${process.pid}`;
let base: { ref: string; layers: string[] };
let jobs = 0;

function manifestLayers(transport: string): Array<{ digest: string; mediaType: string }> {
  return (JSON.parse(sh('skopeo', ['inspect', '--raw', '--tls-verify=false', transport])) as { layers: Array<{ digest: string; mediaType: string }> }).layers;
}

/** The base: three COPY layers of real trees from the host (a few MiB each), files keeping their own mtimes as a published base's do. */
function makeBase(): { ref: string; layers: string[] } {
  const ctx = join(root, 'base');
  const trees = ['zoneinfo', 'mime', 'X11'];
  for (const tree of trees) cpSync(join('/usr/share', tree), join(ctx, tree), { recursive: true, dereference: false });
  writeFileSync(join(ctx, 'Dockerfile'), `FROM scratch\n${trees.map((t) => `COPY ${t} /usr/share/${t}`).join('\n')}\n`);
  const archive = join(root, 'base.oci.tar');
  sh('docker', ['buildx', 'build', '--provenance=false', '--sbom=false', '--progress=quiet', '--platform', 'linux/amd64', '--output', `type=oci,dest=${archive}`, ctx]);
  sh('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `oci-archive:${archive}`, `docker://${repo}:1`]);
  const digest = sh('skopeo', ['inspect', '--tls-verify=false', '--format', '{{.Digest}}', `docker://${repo}:1`]).trim();
  const layers = manifestLayers(`docker://${repo}@${digest}`);
  assert.equal(layers.length, 3);
  assert.ok(layers.every((l) => /tar\+gzip$/.test(l.mediaType)), JSON.stringify(layers));
  return { ref: `${repo}@${digest}`, layers: layers.map((l) => l.digest) };
}

function job(env: (j: RunnerJob) => Record<string, string> = () => ({})): RunnerJob {
  const j = newRunnerJob(join(root, `runner-${++jobs}`), services.jobEnv('run-1', `job-${jobs}`));
  Object.assign(j.env, env(j));
  mkdirSync(j.workspace, { recursive: true });
  writeFileSync(join(j.workspace, 'Dockerfile'), `ARG BASE=${base.ref}\nFROM \${BASE}\nCOPY app.txt /opt/app/app.txt\n`);
  writeFileSync(join(j.workspace, 'app.txt'), 'the layer the build adds\n');
  return j;
}

function ok(result: StepResult): StepResult {
  assert.equal(result.exitCode, 0, `step failed:\n${result.stdout.slice(-4000)}\n${result.stderr.slice(-2000)}`);
  assert.deepEqual(result.errors, []);
  return result;
}

before(async () => {
  requireTools('docker', 'skopeo');
  await requireRegistry();
  services = await startActionsServices();
  base = makeBase();
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

describe('base layers pass through unchanged', () => {
  for (const [engine, env] of engines) {
    test(`${engine}: FROM <base>@sha256 plus one layer keeps the base's three blob digests; the summary says so`, async () => {
      const result = ok(await runStep('build-docker', job(env), { inputs: { cache: 'none' } }));
      assert.equal(result.outputs['source-date-epoch'], '0');
      const layers = manifestLayers(`oci-archive:${result.outputs['image-archive']}`).map((l) => l.digest);
      assert.equal(layers.length, 4, JSON.stringify(layers));
      assert.deepEqual(layers.slice(0, 3), base.layers, 'a base layer was rewritten (moby/buildkit#4805)');
      assert.ok(!base.layers.includes(layers[3]!));
      assert.match(result.summary, new RegExp(`\\| Base layers \\| 3 of 3 layers of \`${base.ref.replace(/[.]/g, '\\.')}\` kept as they are`));
      assert.deepEqual(result.warnings, []);
    });
  }

  // Both engines: without force-compression, the gzip base passes through and only the layer the
  // build adds is zstd; that layer is byte-identical across the two engines (one digest).
  test('compression: zstd keeps the gzip base\'s digests on both engines; the added zstd layer is one digest across them', async () => {
    const added: string[] = [];
    for (const [engine, env] of engines) {
      const result = ok(await runStep('build-docker', job(env), { inputs: { cache: 'none', compression: 'zstd' } }));
      const layers = manifestLayers(`oci-archive:${result.outputs['image-archive']}`);
      assert.deepEqual(layers.slice(0, 3).map((l) => l.digest), base.layers, `${engine}: a gzip base layer was recompressed or rewritten`);
      assert.ok(layers.slice(0, 3).every((l) => /tar\+gzip$/.test(l.mediaType)), JSON.stringify(layers));
      assert.match(layers[3]!.mediaType, /tar\+zstd$/, JSON.stringify(layers));
      assert.match(result.summary, /\| Base layers \| 3 of 3 layers of `[^`]+` kept as they are/);
      assert.match(result.summary, /\| Compression \| zstd \|/);
      assert.deepEqual(result.warnings, []);
      added.push(layers[3]!.digest);
    }
    assert.equal(added[0], added[1], `the zstd layer differs between the engines: ${added.join(' vs ')}`);
  });

  test('compression-level: 1 with gzip keeps the base; the added layer is gzip at level 1 (another digest than level 6)', async () => {
    const results = [];
    for (const level of ['1', '']) {
      const result = ok(await runStep('build-docker', job(), { inputs: { cache: 'none', 'compression-level': level } }));
      const layers = manifestLayers(`oci-archive:${result.outputs['image-archive']}`);
      assert.deepEqual(layers.slice(0, 3).map((l) => l.digest), base.layers);
      assert.match(layers[3]!.mediaType, /tar\+gzip$/);
      results.push({ summary: result.summary, added: layers[3]!.digest });
    }
    assert.match(results[0]!.summary, /\| Compression \| gzip, level 1 \|/);
    assert.notEqual(results[0]!.added, results[1]!.added, 'compression-level 1 gave the default level\'s blob: the level did not reach the exporter');
  });

  test('a base pinned by tag only is named as not checked', async () => {
    const j = job();
    writeFileSync(join(j.workspace, 'Dockerfile'), `FROM ${repo}:1\nCOPY app.txt /opt/app/app.txt\n`);
    const result = ok(await runStep('build-docker', j, { inputs: { cache: 'none' } }));
    assert.match(result.summary, /\| Base layers \| not checked: `[^`]+:1` is not pinned by digest/);
  });
});
