// publish, run from dist/ as the runner runs it, against private instances of Debian's
// docker-registry on 127.0.0.1 (plain, htpasswd, TLS from a test CA), with images built by the
// real dockerd/buildx and Nix, and signatures checked by the real cosign.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newRunnerJob, runStep, runStepWithPost, type RunnerJob, type StepOptions, type StepResult } from '../support/action-runner.js';
import { nixFlakeFixture } from '../support/nix.js';
import { layDockerFixture } from '../support/workspace.js';
import { freePort, startTestRegistry, type TestRegistry } from '../support/registry.js';
import { requireTools, sh } from '../support/tools.js';
import { PREDICATE_BASE, PREDICATE_TYPES } from '../../src/attest/predicates.js';
import { RegistryClient } from '../../src/registry/client.js';
import { pushBundle } from '../../src/publish/attest.js';
import { compareImages } from '../../src/reproducibility/compare.js';

const root = mkdtempSync(join(tmpdir(), 'h-publish-test-'));
const work = join(root, 'images');
mkdirSync(work);
let jobs = 0;
let plain: TestRegistry;
const USER = { name: 'releaser', password: 'pw-Zq8-publish-secret' };
let authed: TestRegistry;

const sha256 = (bytes: Buffer | string): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

function job(env: Record<string, string> = {}): RunnerJob {
  return newRunnerJob(join(root, `runner-${++jobs}`), env);
}

function ok(result: StepResult): StepResult {
  assert.equal(result.exitCode, 0, `step failed:\n${result.stdout.slice(-4000)}\n${result.stderr.slice(-2000)}`);
  assert.deepEqual(result.errors, []);
  assert.deepEqual(result.leakedSecrets, []);
  return result;
}

function failed(result: StepResult, message: RegExp): StepResult {
  assert.equal(result.exitCode, 1, `expected exit 1:\n${result.stdout.slice(-3000)}`);
  assert.ok(result.errors.some((e) => message.test(e)), `no error matching ${message}: ${JSON.stringify(result.errors)}`);
  assert.deepEqual(result.leakedSecrets, []);
  return result;
}

async function publish(j: RunnerJob, inputs: Record<string, string>, opts: StepOptions = {}): Promise<{ main: StepResult; post: StepResult }> {
  const run = await runStepWithPost('publish', j, { ...opts, inputs });
  assert.equal(run.post.exitCode, 0);
  // Post leaves nothing of the run behind: credentials, key and staged blobs live in one directory.
  const stageDir = join(j.temp, 'vllm-rocm-action', 'publish');
  assert.deepEqual(existsSync(stageDir) ? readdirSync(stageDir) : [], [], 'publish left files under RUNNER_TEMP');
  return run;
}

/** The manifest a registry serves for a reference, and its digest computed here. */
async function served(registry: TestRegistry, repo: string, reference: string): Promise<{ digest: string; json: Record<string, unknown> }> {
  const response = await registry.fetch(`/v2/${repo}/manifests/${reference}`, {
    accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json',
  });
  assert.equal(response.status, 200, `${repo}:${reference} is not in the registry`);
  const bytes = Buffer.from(await response.arrayBuffer());
  return { digest: sha256(bytes), json: JSON.parse(bytes.toString('utf8')) as Record<string, unknown> };
}

async function catalog(registry: TestRegistry): Promise<string[]> {
  const { json } = await registry.get('/v2/_catalog');
  return ((json as { repositories?: string[] }).repositories ?? []).sort();
}

/** A FROM scratch image built by buildx into an OCI archive. */
function buildOciArchive(name: string, content: string): { archive: string; digest: string } {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\nCOPY payload.txt /payload.txt\nCMD ["/payload.txt"]\n');
  writeFileSync(join(dir, 'payload.txt'), content);
  const archive = join(dir, 'image.tar');
  sh('docker', ['buildx', 'build', '--quiet', '--provenance=false', '--sbom=false', '--output', `type=oci,dest=${archive},rewrite-timestamp=true`, dir], { env: { ...process.env, SOURCE_DATE_EPOCH: '1700000000' } });
  const index = JSON.parse(sh('tar', ['-xOf', archive, 'index.json'])) as { manifests: Array<{ digest: string }> };
  return { archive, digest: index.manifests[0]!.digest };
}

/** An OCI layout directory by hand, with one big uncompressed layer (a real tar of random bytes). */
function buildBigLayout(name: string, megabytes: number): { dir: string; digest: string } {
  const dir = join(work, name);
  const blobs = join(dir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const src = join(work, `${name}-src`);
  mkdirSync(src, { recursive: true });
  writeFileSync(join(src, 'weights.bin'), randomBytes(megabytes << 20));
  const layerFile = join(work, `${name}-layer.tar`);
  sh('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '-cf', layerFile, '-C', src, 'weights.bin']);
  const layer = readFileSync(layerFile);
  const layerDigest = sha256(layer);
  writeFileSync(join(blobs, layerDigest.slice(7)), layer);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layerDigest] }, config: {} }));
  writeFileSync(join(blobs, sha256(config).slice(7)), config);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.length }],
  }));
  writeFileSync(join(blobs, sha256(manifest).slice(7)), manifest);
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256(manifest), size: manifest.length }] }));
  return { dir, digest: sha256(manifest) };
}

let small: { archive: string; digest: string };

before(async () => {
  requireTools('docker', 'docker-registry', 'tar', 'openssl', 'curl', 'cosign', 'nix');
  plain = await startTestRegistry();
  authed = await startTestRegistry({ user: USER });
  small = buildOciArchive('small', 'release payload\n');
});

after(async () => {
  await plain?.kill();
  await authed?.kill();
});

describe('each kind of source; tags from the ref', () => {
  test('OCI archive (buildx), refs/tags/v1.2.3: the archive\'s digest, read back, tagged 1.2.3, 1.2, 1, latest', async () => {
    const { main } = await publish(job({ GITHUB_REF: 'refs/tags/v1.2.3' }), { source: small.archive, image: `${plain.host}/acme/vllm`, 'tag-from-ref': 'true' });
    ok(main);
    assert.equal(main.outputs.digest, small.digest);
    assert.deepEqual(await plain.tags('acme/vllm'), ['1', '1.2', '1.2.3', 'latest']);
    for (const tag of ['1', '1.2', '1.2.3', 'latest']) assert.equal((await served(plain, 'acme/vllm', tag)).digest, small.digest, tag);
    assert.deepEqual(main.outputs.refs!.split('\n'), ['1.2.3', '1.2', '1', 'latest'].map((t) => `${plain.host}/acme/vllm:${t}@${small.digest}`));
    assert.match(main.summary, new RegExp(`${plain.host}/acme/vllm:latest@${small.digest}`));
    assert.match(main.summary, /\| size \| 1\.\d\d KiB \|/);
    assert.match(main.summary, /\| signature \| not signed \|/);
  });

  test('OCI layout directory, refs/tags/v1.3.0-rc.1: only its own tag', async () => {
    const layout = join(work, 'small-layout');
    mkdirSync(layout, { recursive: true });
    sh('tar', ['-xf', small.archive, '-C', layout]);
    const { main } = await publish(job({ GITHUB_REF: 'refs/tags/v1.3.0-rc.1' }), { source: layout, image: `${plain.host}/acme/layout`, 'tag-from-ref': 'true' });
    ok(main);
    assert.equal(main.outputs.digest, small.digest);
    assert.deepEqual(await plain.tags('acme/layout'), ['1.3.0-rc.1']);
  });

  test('gzip\'ed docker-archive from the Nix fixture flake, a branch: the digest build-nix reports, tag sha-<short>', async () => {
    const build = job();
    nixFlakeFixture('docker-archive', build.workspace);
    const built = ok(await runStep('build-nix', build, { inputs: { cache: 'none' } }));
    const archive = built.outputs['image-archive']!;
    assert.match(archive, /\.tar\.gz$/);
    const sha = 'abcdef0123456789abcdef0123456789abcdef01';
    const { main } = await publish(job({ GITHUB_REF: 'refs/heads/main', GITHUB_SHA: sha }), { source: archive, image: `${plain.host}/acme/nix`, 'tag-from-ref': 'true', tags: 'edge' });
    ok(main);
    assert.equal(main.outputs.digest, built.outputs.digest);
    assert.deepEqual(await plain.tags('acme/nix'), ['edge', 'sha-abcdef0']);
    const manifest = (await served(plain, 'acme/nix', 'sha-abcdef0')).json as { layers: Array<{ mediaType: string }> };
    assert.ok(manifest.layers.every((l) => l.mediaType === 'application/vnd.oci.image.layer.v1.tar'));
    // The same archive as verify-reproducibility's engine describes it.
    const description = join(work, 'nix-description.json');
    sh('node24', ['lib/src/reproducibility/cli.js', 'describe', archive, '--out', description]);
    const described = JSON.parse(readFileSync(description, 'utf8')) as { images: Array<{ descriptor: { digest: string } }> };
    assert.equal(described.images[0]!.descriptor.digest, main.outputs.digest);

    // The same docker-archive uncompressed: the same image, the same digest.
    const plainTar = join(work, 'nix-plain.tar');
    sh('sh', ['-c', `gunzip -c '${archive}' > '${plainTar}'`]);
    const again = await publish(job(), { source: plainTar, image: `${plain.host}/acme/nix-plain`, tags: 'x' });
    ok(again.main);
    assert.equal(again.main.outputs.digest, built.outputs.digest);

    // Read in place, a layer changed inside the plain docker-archive (its diff_id kept in the config) is refused as it is uploaded.
    const layers = (JSON.parse(sh('tar', ['-xOf', plainTar, 'manifest.json'])) as Array<{ Layers: string[] }>)[0]!.Layers;
    const tampered = join(work, 'nix-tampered.tar');
    tamper(plainTar, layers[0]!, tampered);
    const refused = await publish(job(), { source: tampered, image: `${plain.host}/acme/nix-tampered`, tags: 'x' });
    failed(refused.main, /blob sha256:[0-9a-f]{64} read from .*nix-tampered\.tar \(bytes \d+-\d+\) has digest sha256:/);
    assert.deepEqual(await plain.tags('acme/nix-tampered'), []);
  });

  test('engine:<ref> (docker save from the containerd image store): the image ID the engine reports', async () => {
    const dir = join(work, 'engine');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\nCOPY f /f\n');
    writeFileSync(join(dir, 'f'), 'engine image\n');
    sh('docker', ['buildx', 'build', '--quiet', '--provenance=false', '--load', '-t', 'h-publish-engine:test', dir]);
    // With the containerd image store, the image ID is the digest of the manifest the engine holds.
    const id = sh('docker', ['image', 'inspect', '--format', '{{.Id}}', 'h-publish-engine:test']).trim();
    const { main } = await publish(job(), { source: 'engine:h-publish-engine:test', image: `${plain.host}/acme/engine`, tags: 'dev' });
    ok(main);
    assert.equal(main.outputs.digest, id);
    assert.equal((await served(plain, 'acme/engine', 'dev')).digest, id);
  });

  test('engine:<ref> that the engine does not have: docker save\'s error, nothing pushed', async () => {
    const { main } = await publish(job(), { source: 'engine:h-publish-engine:absent', image: `${plain.host}/acme/engine-absent`, tags: 'dev' });
    failed(main, /docker save h-publish-engine:absent exited 1/);
    assert.ok(!(await catalog(plain)).includes('acme/engine-absent'));
  });

  test('docker://…@digest within one registry: promoted with no layer uploaded, only tags move', async () => {
    const staged = buildOciArchive('promote', 'smoke-tested payload\n');
    ok((await publish(job(), { source: staged.archive, image: `${plain.host}/acme/staging`, tags: 'candidate' })).main);
    const { main } = await publish(job(), { source: `docker://${plain.host}/acme/staging@${staged.digest}`, image: `${plain.host}/acme/release`, tags: 'v2, stable' });
    ok(main);
    assert.equal(main.outputs.digest, staged.digest);
    assert.match(main.summary, /\| blobs \| 0 uploaded, 2 mounted, 0 already there \|/);
    assert.doesNotMatch(main.stdout, /uploading sha256/);
    assert.deepEqual(await plain.tags('acme/release'), ['stable', 'v2']);
  });

  test('annotations: a new manifest carrying them; the summary names both digests', async () => {
    const { main } = await publish(job(), { source: small.archive, image: `${plain.host}/acme/annotated`, tags: 'a', annotations: 'org.opencontainers.image.source=https://example.com/x\norg.opencontainers.image.version=1.2.3' });
    ok(main);
    assert.notEqual(main.outputs.digest, small.digest);
    const { digest, json } = await served(plain, 'acme/annotated', 'a');
    assert.equal(digest, main.outputs.digest);
    assert.equal((json.annotations as Record<string, string>)['org.opencontainers.image.version'], '1.2.3');
    assert.match(main.summary, new RegExp(`source digest \\| \`${small.digest}\``));
  });
});

/**
 * Runs publish under strace and returns the files it created or opened for writing, and the
 * directories it made, under its own part of RUNNER_TEMP (not the runner's file commands; strace
 * sees every open, whatever the code path).
 */
async function publishTraced(j: RunnerJob, inputs: Record<string, string>): Promise<{ main: StepResult; written: string[] }> {
  const trace = join(root, `strace-${jobs}.txt`);
  // -A: main and post both append (post only removes).
  const { main } = await publish(j, inputs, { wrap: ['strace', '-f', '-A', '-qq', '-e', 'trace=openat,creat,mkdir,mkdirat', '-o', trace] });
  const written = readFileSync(trace, 'utf8')
    .split('\n')
    .filter((line) => /(O_WRONLY|O_RDWR|O_CREAT)/.test(line) || /\bmkdir(at)?\(/.test(line) || /\bcreat\(/.test(line))
    .filter((line) => !/= -1 /.test(line))
    .map((line) => /"([^"]*)"/.exec(line)?.[1] ?? '')
    .filter((path) => path.startsWith(join(j.temp, 'vllm-rocm-action')));
  return { main, written };
}

/** The archive with one byte of a member's body changed (its size and the digests naming it kept). */
function tamper(archive: string, member: string, copy: string): void {
  const bytes = readFileSync(archive);
  const body = Buffer.from(sh('sh', ['-c', `tar -xOf '${archive}' '${member}' | base64 -w0`]), 'base64');
  const at = bytes.indexOf(body);
  assert.ok(at > 0 && body.length > 0, `${member} not found in ${archive}`);
  bytes[at + body.length - 1] ^= 0xff;
  writeFileSync(copy, bytes);
}

describe('archives read in place (issue 20): no staging copy, every blob checked as it is uploaded', () => {
  test('a plain OCI archive: pushed with nothing written under RUNNER_TEMP but the run directory', async () => {
    const j = job();
    const { main, written } = await publishTraced(j, { source: small.archive, image: `${plain.host}/acme/in-place`, tags: 'x' });
    ok(main);
    assert.equal(main.outputs.digest, small.digest);
    assert.equal((await served(plain, 'acme/in-place', 'x')).digest, small.digest);
    // The only thing made under RUNNER_TEMP is publish's own run directory (and its parents): no blobs/, no file.
    assert.deepEqual(written.filter((path) => !/\/vllm-rocm-action(\/publish(\/run-\d+-\d+)?)?$/.test(path)), [], written.join('\n'));
    assert.ok(written.some((path) => /\/run-\d+-\d+$/.test(path)), `strace saw no run directory made: ${written.join('\n')}`);
  });

  test('a gzip\'ed OCI archive: staged under RUNNER_TEMP (no random access), the same digest', async () => {
    const gz = join(work, 'small.tar.gz');
    sh('sh', ['-c', `gzip -c '${small.archive}' > '${gz}'`]);
    const { main, written } = await publishTraced(job(), { source: gz, image: `${plain.host}/acme/in-place-gz`, tags: 'x' });
    ok(main);
    assert.equal(main.outputs.digest, small.digest);
    assert.ok(written.some((path) => /\/blobs\/partial-\d+$/.test(path)), `the gzip'ed archive was not staged: ${written.join('\n')}`);
  });

  test('a blob changed inside the archive (its digest kept in the manifest): fails naming it, before any manifest; no tag, no blob', async () => {
    const index = JSON.parse(sh('tar', ['-xOf', small.archive, 'index.json'])) as { manifests: Array<{ digest: string }> };
    const manifest = JSON.parse(sh('tar', ['-xOf', small.archive, `blobs/sha256/${index.manifests[0]!.digest.slice(7)}`])) as { layers: Array<{ digest: string }> };
    const layer = manifest.layers[0]!.digest;
    const copy = join(work, 'tampered.tar');
    tamper(small.archive, `blobs/sha256/${layer.slice(7)}`, copy);
    const { main } = await publish(job(), { source: copy, image: `${plain.host}/acme/tampered`, tags: 'x' });
    failed(main, new RegExp(`blob ${layer} read from ${copy.replace(/[.]/g, '\\.')} \\(bytes \\d+-\\d+\\) has digest sha256:[0-9a-f]{64}`));
    assert.deepEqual(await plain.tags('acme/tampered'), []);
    assert.equal((await plain.fetch(`/v2/acme/tampered/blobs/${layer}`)).status, 404, 'the tampered layer was committed');
    assert.equal((await plain.fetch(`/v2/acme/tampered/manifests/${index.manifests[0]!.digest}`)).status, 404);
  });

  test('a gzip\'ed archive bigger than the free disk: refused before unpacking, naming how much and where', async () => {
    const j = job();
    const huge = join(work, 'huge.tar.gz');
    writeFileSync(huge, Buffer.from([0x1f, 0x8b, 8, 0]));
    truncateSync(huge, 8 * 2 ** 40); // sparse: 8 TiB by its size, nothing on disk
    const { main } = await publish(j, { source: huge, image: `${plain.host}/acme/huge`, tags: 'x' });
    failed(main, new RegExp(`publish needs about 8\\.0 TiB free under ${j.temp}/vllm-rocm-action/publish/run-\\d+-\\d+/blobs for unpacking ${huge.replace(/[.]/g, '\\.')}, [\\d.]+ [KMGT]?i?B is free \\(the estimate: the gzip'ed archive's size, 8\\.0 TiB, the least unpacking it takes, plus 512\\.0 MiB to spare; an OCI layout directory or a plain tar is pushed in place, with no copy\\)`));
    assert.ok(!(await catalog(plain)).includes('acme/huge'));
  });
});

describe('a GPU matrix and OCI metadata (issue 22)', () => {
  const VARIANTS = ['gfx1151', 'gfx1100', 'gfx942'];
  const FAMILY = ['1.2.3', '1.2', '1', 'latest'];

  test('three variants from one ref, tag-suffix -<gfx>: three tag families, each on its own single digest', async () => {
    const built = VARIANTS.map((gfx) => ({ gfx, ...buildOciArchive(`variant-${gfx}`, `vllm for ${gfx}\n`) }));
    assert.equal(new Set(built.map((b) => b.digest)).size, 3, 'three different images');
    for (const { gfx, archive } of built) {
      ok((await publish(job({ GITHUB_REF: 'refs/tags/v1.2.3' }), { source: archive, image: `${plain.host}/acme/variants`, 'tag-from-ref': 'true', 'tag-suffix': `-${gfx}` })).main);
    }
    const expected = built.flatMap(({ gfx }) => FAMILY.map((t) => `${t}-${gfx}`)).sort();
    assert.deepEqual(await plain.tags('acme/variants'), expected, 'no bare latest: no leg of the matrix overwrote another');
    for (const { gfx, digest } of built) {
      for (const tag of FAMILY) assert.equal((await served(plain, 'acme/variants', `${tag}-${gfx}`)).digest, digest, `${tag}-${gfx}`);
    }
  });

  test('a branch with tag-prefix and tag-sha-length: <prefix>sha-<12>', async () => {
    const sha = 'abcdef0123456789abcdef0123456789abcdef01';
    const { main } = await publish(job({ GITHUB_REF: 'refs/heads/main', GITHUB_SHA: sha }), { source: small.archive, image: `${plain.host}/acme/variants-sha`, 'tag-from-ref': 'true', 'tag-prefix': 'gfx942-', 'tag-sha-length': '12' });
    ok(main);
    assert.deepEqual(await plain.tags('acme/variants-sha'), ['gfx942-sha-abcdef012345']);
  });

  test('a suffix that makes a bad tag: exit 1 naming tag-from-ref, nothing pushed (before any read or signature)', async () => {
    const { main } = await publish(job({ GITHUB_REF: 'refs/tags/v1.2.3' }), { source: small.archive, image: `${plain.host}/acme/variants-bad`, 'tag-from-ref': 'true', 'tag-suffix': `-${'x'.repeat(124)}`, sign: 'cosign-key', 'cosign-key': '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nx\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----' });
    failed(main, /tag-from-ref.*not a valid tag/);
    assert.ok(!(await catalog(plain)).includes('acme/variants-bad'));
  });

  test('oci-annotations: the pushed manifest carries them (created from the config); the digest output is what the registry serves', async () => {
    const sha = '1111111111111111111111111111111111111111';
    const { main } = await publish(job({ GITHUB_REF: 'refs/tags/v1.2.3', GITHUB_SHA: sha, GITHUB_REPOSITORY: 'acme/vllm-rocm' }), {
      source: small.archive, image: `${plain.host}/acme/oci-annotated`, 'tag-from-ref': 'true', 'tag-suffix': '-gfx942', 'oci-annotations': 'true',
      annotations: 'org.opencontainers.image.licenses=Apache-2.0',
    });
    ok(main);
    assert.notEqual(main.outputs.digest, small.digest, 'annotations make a new manifest');
    const { digest, json } = await served(plain, 'acme/oci-annotated', '1.2.3-gfx942');
    assert.equal(digest, main.outputs.digest);
    assert.deepEqual(json.annotations, {
      'org.opencontainers.image.created': '2023-11-14T22:13:20.000Z',
      'org.opencontainers.image.licenses': 'Apache-2.0',
      'org.opencontainers.image.revision': sha,
      'org.opencontainers.image.source': 'https://github.com/acme/vllm-rocm',
      'org.opencontainers.image.title': 'vllm-rocm',
      'org.opencontainers.image.url': 'https://github.com/acme/vllm-rocm',
      'org.opencontainers.image.version': '1.2.3',
    });
  });

  test('build-docker with oci-labels on, built twice: one digest; publish pushes it as is with the labels in its config', async () => {
    const sha = '2222222222222222222222222222222222222222';
    const env = { GITHUB_REF: 'refs/tags/v2.0.0', GITHUB_SHA: sha, GITHUB_REPOSITORY: 'acme/vllm-rocm' };
    const digests: string[] = [];
    let archive = '';
    for (let i = 0; i < 2; i++) {
      const j = job(env);
      layDockerFixture(j, 'reproducible');
      const { main } = await runStepWithPost('build-docker', j, { inputs: { cache: 'none', 'no-cache': 'true', 'source-date-epoch': '1700000000', labels: 'org.opencontainers.image.description=vLLM for gfx942' } });
      ok(main);
      digests.push(main.outputs.digest!);
      archive = main.outputs['image-archive']!;
    }
    assert.equal(digests[0], digests[1], 'the labels keep one commit to one digest');
    const { main } = await publish(job(env), { source: archive, image: `${plain.host}/acme/labelled`, tags: 'v2' });
    ok(main);
    assert.equal(main.outputs.digest, digests[0], 'publish adds nothing by default: the built digest is the pushed one');
    const manifest = (await served(plain, 'acme/labelled', 'v2')).json as { config: { digest: string } };
    const config = (await plain.get(`/v2/acme/labelled/blobs/${manifest.config.digest}`)).json as { config?: { Labels?: Record<string, string> } };
    assert.deepEqual(config.config?.Labels, {
      'org.opencontainers.image.created': '2023-11-14T22:13:20.000Z',
      'org.opencontainers.image.description': 'vLLM for gfx942',
      'org.opencontainers.image.revision': sha,
      'org.opencontainers.image.source': 'https://github.com/acme/vllm-rocm',
      'org.opencontainers.image.title': 'vllm-rocm',
      'org.opencontainers.image.url': 'https://github.com/acme/vllm-rocm',
      'org.opencontainers.image.version': '2.0.0',
    });
  });
});

describe('by digest only, and cleanup', () => {
  test('no tags: pushed by digest, refs is image@digest, no tag in the registry', async () => {
    const { main } = await publish(job(), { source: small.archive, image: `${plain.host}/acme/untagged` });
    ok(main);
    assert.equal(main.outputs.refs, `${plain.host}/acme/untagged@${small.digest}`);
    assert.deepEqual(await plain.tags('acme/untagged'), []);
    assert.equal((await served(plain, 'acme/untagged', small.digest)).digest, small.digest);
  });

  test('post removes the run directory main left behind (main killed before its own cleanup)', async () => {
    const j = job();
    const left = join(j.temp, 'vllm-rocm-action', 'publish', 'run-1-1');
    mkdirSync(join(left, 'credentials'), { recursive: true });
    writeFileSync(join(left, 'credentials', 'config.json'), '{"auths":{}}', { mode: 0o600 });
    const post = await runStep('publish', j, { phase: 'post', state: { 'vllm-rocm-action-post': 'true', 'temp-dir': left }, inputs: { source: 'x', image: 'x' } });
    assert.equal(post.exitCode, 0);
    assert.equal(existsSync(left), false);
    assert.deepEqual(post.warnings, []);
  });
});

describe('credentials', () => {
  test('htpasswd registry: right password pushes; the password is masked first and never printed', async () => {
    const { main } = await publish(job(), { source: small.archive, image: `${authed.host}/team/app`, tags: 'ok', username: USER.name, password: USER.password });
    ok(main);
    assert.ok(main.masks.includes(USER.password));
    assert.ok(!main.stdout.replace(/^::add-mask::.*$/gm, '').includes(USER.password));
    assert.deepEqual(await authed.tags('team/app'), ['ok']);
  });

  test('wrong password: an error naming the registry and the refusal; nothing pushed', async () => {
    const before = await catalog(authed);
    const { main } = await publish(job(), { source: small.archive, image: `${authed.host}/team/denied`, tags: 'x', username: USER.name, password: 'not-the-password' });
    failed(main, new RegExp(`registry ${authed.host}.*answered 401: the credentials of ${USER.name} were refused`));
    assert.ok(!main.stdout.replace(/^::add-mask::.*$/gm, '').includes('not-the-password'));
    assert.deepEqual(await catalog(authed), before);
  });

  test('no credentials for a registry that needs them: a clear error, nothing pushed', async () => {
    const { main } = await publish(job(), { source: small.archive, image: `${authed.host}/team/anon`, tags: 'x' });
    failed(main, /answered 401: no credentials were given/);
    assert.ok(!(await catalog(authed)).includes('team/anon'));
  });
});

describe('token auth (Bearer realm), as Docker Hub and ghcr.io do it', () => {
  let tokened: TestRegistry;
  before(async () => {
    tokened = await startTestRegistry({ user: USER, token: true });
  });
  after(async () => tokened?.kill());

  test('a token for pull,push on the repository, from the token service with Basic credentials', async () => {
    const { main } = await publish(job(), { source: small.archive, image: `${tokened.host}/team/tokened`, tags: 'v1', username: USER.name, password: USER.password });
    ok(main);
    assert.equal((await served(tokened, 'team/tokened', 'v1')).digest, small.digest);
    assert.ok(tokened.tokenRequests.some((q) => new URLSearchParams(q).getAll('scope').includes('repository:team/tokened:pull,push')), JSON.stringify(tokened.tokenRequests));
  });

  test('promotion from another registry (anonymous source) into the token registry: blobs downloaded, checked, uploaded', async () => {
    const staged = buildOciArchive('cross', 'cross-registry payload\n');
    ok((await publish(job(), { source: staged.archive, image: `${plain.host}/acme/cross-staging`, tags: 'candidate' })).main);
    const { main } = await publish(job(), { source: `docker://${plain.host}/acme/cross-staging@${staged.digest}`, image: `${tokened.host}/team/cross`, tags: 'release', username: USER.name, password: USER.password });
    ok(main);
    assert.equal(main.outputs.digest, staged.digest);
    assert.match(main.summary, /\| blobs \| 2 uploaded, 0 mounted, 0 already there \|/);
    assert.equal((await served(tokened, 'team/cross', 'release')).digest, staged.digest);
  });

  test('wrong password: the token service refuses; an error naming the registry, nothing pushed', async () => {
    const { main } = await publish(job(), { source: small.archive, image: `${tokened.host}/team/refused`, tags: 'v1', username: USER.name, password: 'nope-nope' });
    failed(main, new RegExp(`registry ${tokened.host}: the token service .* answered 401: the credentials of ${USER.name} were refused`));
    assert.deepEqual(await tokened.tags('team/refused'), []);
  });
});

describe('TLS from a CA the test makes', () => {
  let tls: TestRegistry;
  before(async () => {
    tls = await startTestRegistry({ tls: true });
  });
  after(async () => tls?.kill());

  test('with the CA (NODE_EXTRA_CA_CERTS): pushed over TLS and read back', async () => {
    const { main } = await publish(job({ NODE_EXTRA_CA_CERTS: tls.caFile! }), { source: small.archive, image: `${tls.host}/acme/tls`, tags: 'secure' });
    ok(main);
    assert.equal(main.outputs.digest, small.digest);
    assert.deepEqual(await tls.tags('acme/tls'), ['secure']);
  });

  test('without the CA: a certificate error naming the registry, no fallback to plain HTTP, nothing pushed', async () => {
    const { main } = await publish(job(), { source: small.archive, image: `${tls.host}/acme/untrusted`, tags: 'x' });
    failed(main, new RegExp(`registry ${tls.host}.*(certificate|self.signed)`, 'i'));
    assert.deepEqual(await tls.tags('acme/untrusted'), []);
  });
});

describe('the registry stops mid-push', () => {
  /** Kills the registry once an upload session holds at least `bytes` bytes. */
  async function killDuringUpload(registry: TestRegistry, bytes: number): Promise<void> {
    const uploads = (dir: string): number => {
      if (!existsSync(dir)) return 0;
      let max = 0;
      for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
        if (entry.isFile() && entry.name === 'data' && entry.parentPath.includes('_uploads')) max = Math.max(max, statSync(join(entry.parentPath, entry.name)).size);
      }
      return max;
    };
    for (let i = 0; i < 1200; i++) {
      if (uploads(registry.storage) >= bytes) {
        await registry.kill();
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error('the upload never started');
  }

  test('started again after 3 s: the upload is retried in a new session and the tag lands on the right digest', async () => {
    const registry = await startTestRegistry();
    try {
      const big = buildBigLayout('restart', 192);
      const run = publish(job(), { source: big.dir, image: `${registry.host}/acme/restart`, tags: 'final' });
      await killDuringUpload(registry, 8 << 20);
      await new Promise((resolve) => setTimeout(resolve, 3000));
      await registry.start();
      const { main } = await run;
      ok(main);
      assert.ok(main.warnings.some((w) => /again in a new session|retrying/.test(w)), `no retry warning: ${JSON.stringify(main.warnings)}`);
      assert.equal(main.outputs.digest, big.digest);
      assert.equal((await served(registry, 'acme/restart', 'final')).digest, big.digest);
    } finally {
      await registry.kill();
    }
  });

  test('stays down: an error naming the registry, and no tag once it is back', async () => {
    const registry = await startTestRegistry();
    try {
      const big = buildBigLayout('down', 96);
      const run = publish(job(), { source: big.dir, image: `${registry.host}/acme/down`, tags: 'final' });
      await killDuringUpload(registry, 4 << 20);
      const { main } = await run;
      failed(main, new RegExp(`registry ${registry.host}: POST .* failed after 6 attempt`));
      await registry.start();
      assert.deepEqual(await registry.tags('acme/down'), []);
    } finally {
      await registry.kill();
    }
  });
});

describe('cosign', () => {
  test('key pair made here: signed before tagging, cosign verify accepts the digest; no secret in argv', async () => {
    const keys = mkdtempSync(join(root, 'keys-'));
    const password = 'cosign-pw-Q7x';
    sh('cosign', ['generate-key-pair'], { cwd: keys, env: { ...process.env, COSIGN_PASSWORD: password } });
    const other = mkdtempSync(join(root, 'other-keys-'));
    sh('cosign', ['generate-key-pair'], { cwd: other, env: { ...process.env, COSIGN_PASSWORD: 'x' } });
    // A cosign on PATH that records its argv, then runs the real one.
    const shim = mkdtempSync(join(root, 'shim-'));
    const argvLog = join(shim, 'argv.log');
    const modesLog = join(shim, 'modes.log');
    writeFileSync(join(shim, 'cosign'), `#!/bin/sh\nprintf '%s\\n' "$*" >> ${argvLog}\n[ -z "$DOCKER_CONFIG" ] || stat -c '%a %n' "$DOCKER_CONFIG" "$DOCKER_CONFIG"/* >> ${modesLog}\nexec /usr/bin/cosign "$@"\n`);
    chmodSync(join(shim, 'cosign'), 0o755);
    const j = job();
    j.pathAdditions.unshift(shim);
    const key = readFileSync(join(keys, 'cosign.key'), 'utf8');
    const { main } = await publish(j, {
      source: small.archive,
      image: `${authed.host}/team/signed`,
      tags: 'release',
      username: USER.name,
      password: USER.password,
      sign: 'cosign-key',
      'cosign-key': key,
      'cosign-password': password,
      'transparency-log': 'false',
    });
    ok(main);
    const digest = main.outputs.digest!;
    assert.equal(digest, small.digest);
    assert.match(main.outputs.signature!, new RegExp(`^${authed.host}/team/signed:sha256-${digest.slice(7)}\\.sig@sha256:[0-9a-f]{64}$`));
    const argv = readFileSync(argvLog, 'utf8');
    assert.match(argv, /sign --yes --key \S+\/cosign\.key --tlog-upload=false --allow-http-registry/);
    for (const secret of [password, USER.password, key.split('\n')[1]!]) {
      assert.ok(!argv.includes(secret), 'a secret reached argv');
      assert.ok(!main.stdout.replace(/^::add-mask::.*$/gm, '').includes(secret), 'a secret reached the log');
    }
    assert.ok(!main.summary.includes(password) && !JSON.stringify(main.state).includes(password));
    // The credentials cosign reads: 0600 files in a 0700 directory under RUNNER_TEMP (gone after the step).
    const modes = [...new Set(readFileSync(modesLog, 'utf8').trim().split('\n'))];
    assert.deepEqual(modes.map((line) => line.split(' ')[0]).sort(), ['600', '600', '700'], modes.join('\n'));
    for (const line of modes) assert.ok(line.split(' ')[1]!.startsWith(join(j.temp, 'vllm-rocm-action', 'publish')), line);

    const config = mkdtempSync(join(root, 'docker-config-'));
    writeFileSync(join(config, 'config.json'), JSON.stringify({ auths: { [authed.host]: { auth: authed.authHeader!.slice(6) } } }));
    const verify = (pub: string) =>
      sh('cosign', ['verify', '--key', pub, '--insecure-ignore-tlog', '--allow-http-registry', `${authed.host}/team/signed@${digest}`], { env: { ...process.env, DOCKER_CONFIG: config } });
    assert.match(verify(join(keys, 'cosign.pub')), /"docker-manifest-digest":"sha256:/);
    assert.throws(() => verify(join(other, 'cosign.pub')), 'another key must not verify');
    // The SBOM is attested beside the signature by default (evidence: true).
    assert.deepEqual(await authed.tags('team/signed'), ['release', `sha256-${digest.slice(7)}.att`, `sha256-${digest.slice(7)}.sig`].sort());
  });

  test('signing fails (wrong key password): no tag is pushed', async () => {
    const keys = mkdtempSync(join(root, 'keys-'));
    sh('cosign', ['generate-key-pair'], { cwd: keys, env: { ...process.env, COSIGN_PASSWORD: 'right' } });
    const { main } = await publish(job(), {
      source: small.archive,
      image: `${plain.host}/acme/unsigned`,
      tags: 'release',
      sign: 'cosign-key',
      'cosign-key': readFileSync(join(keys, 'cosign.key'), 'utf8'),
      'cosign-password': 'wrong',
      'transparency-log': 'false',
    });
    failed(main, /cosign sign .* failed.*no tag was pushed/s);
    assert.deepEqual(await plain.tags('acme/unsigned'), []);
  });
});

describe('attest', () => {
  // The real path needs GitHub's OIDC issuer, Fulcio and Rekor (README: untested here). This checks
  // the bundled @actions/attest loads and runs, and that its failure leaves no tag.
  test('the OIDC token endpoint refuses: @actions/attest\'s error, pushed by digest, no tag', async () => {
    const port = await freePort();
    const { main } = await publish(job({ ACTIONS_ID_TOKEN_REQUEST_URL: `http://127.0.0.1:${port}/token`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'oidc-request-token-123' }), {
      source: small.archive,
      image: `${plain.host}/acme/attest-fails`,
      tags: 'release',
      attest: 'true',
      'github-token': 'ghs_attesttoken000000000000000000',
    });
    failed(main, /@actions\/attest: .*(ID Token|ECONNREFUSED)/i);
    assert.ok(main.masks.includes('ghs_attesttoken000000000000000000'));
    assert.deepEqual(await plain.tags('acme/attest-fails'), []);
  });
});

describe('evidence: SBOM, reproducibility and smoke test attested to the digest (issue 21)', () => {
  const TYPES = [PREDICATE_TYPES.reproducibility, PREDICATE_TYPES.smokeTest, PREDICATE_TYPES.sbom];
  const smokeReport = {
    passed: true,
    image: 'the image',
    model: 'tiny/model',
    gpu: 'gfx942 MI300X',
    preflight: [],
    gpus: [{ node: 1, gfx: 'gfx942', name: 'MI300X', memoryBytes: 1 << 30 }],
    startupSeconds: 12.5,
    models: ['tiny/model'],
    completion: { text: 'Paris', ms: 10 },
    chat: { text: 'Paris', ms: 11 },
    gfx: 'gfx942',
    // The shape smoke-test writes (src/smoke-test/report.ts): the load's settings, one row per concurrency.
    load: {
      settings: { inputLen: 1024, outputLen: 128, seed: 0, requestRate: 'inf', concurrency: [2] },
      rows: [{ requests: 8, concurrency: 2, completed: 8, failed: 0, durationS: 1, requestThroughput: 8, outputThroughput: 512, totalTokenThroughput: 600, totalInputTokens: 8192, totalOutputTokens: 512, ttftMs: { mean: 1, median: 1, p90: 2, p99: 3, max: 4 }, tpotMs: { mean: 1, median: 1, p90: 2, p99: 3, max: 4 }, itlMs: { mean: 1, median: 1, p90: 2, p99: 3, max: 4 }, e2elMs: { mean: 1, median: 1, p90: 2, p99: 3, max: 4 }, errors: [] }],
    },
  };

  async function reports(dir: string): Promise<{ repro: string; smoke: string }> {
    // verify-reproducibility's report, by the engine itself: the image against itself.
    const repro = join(dir, 'reproducibility-report.json');
    writeFileSync(repro, `${JSON.stringify(await compareImages(small.archive, small.archive), null, 2)}\n`);
    const smoke = join(dir, 'smoke-test-report.json');
    writeFileSync(smoke, JSON.stringify(smokeReport));
    return { repro, smoke };
  }

  const verifyAttestation = (pub: string, ref: string, type: string) =>
    sh('cosign', ['verify-attestation', '--key', pub, '--type', type, '--insecure-ignore-tlog', '--allow-http-registry', ref]);

  async function attManifest(repo: string, digest: string): Promise<{ layers: Array<{ digest: string; size: number; mediaType: string; annotations: Record<string, string> }> } & Record<string, unknown>> {
    return (await served(plain, repo, `sha256-${digest.slice(7)}.att`)).json as never;
  }

  async function blob(repo: string, digest: string): Promise<Buffer> {
    const response = await plain.fetch(`/v2/${repo}/blobs/${digest}`);
    assert.equal(response.status, 200);
    return Buffer.from(await response.arrayBuffer());
  }

  test('sign: cosign-key alone: all three attested before the tags; cosign verify-attestation accepts each type; a tampered one fails', async () => {
    const keys = mkdtempSync(join(root, 'evidence-keys-'));
    sh('cosign', ['generate-key-pair'], { cwd: keys, env: { ...process.env, COSIGN_PASSWORD: 'pw-evidence' } });
    const j = job();
    const { repro } = await reports(j.workspace); // smoke-test-report by a path relative to the workspace
    const repo = 'acme/evidence';
    const { main } = await publish(j, {
      source: small.archive,
      image: `${plain.host}/${repo}`,
      tags: 'release',
      sign: 'cosign-key',
      'cosign-key': readFileSync(join(keys, 'cosign.key'), 'utf8'),
      'cosign-password': 'pw-evidence',
      'transparency-log': 'false',
      'reproducibility-report': repro,
      'smoke-test-report': 'smoke-test-report.json',
    });
    ok(main);
    const digest = main.outputs.digest!;
    const ref = `${plain.host}/${repo}@${digest}`;
    assert.deepEqual(main.outputs.attestations!.split('\n').map((l) => l.split(' ')[0]), TYPES);
    for (const line of main.outputs.attestations!.split('\n')) assert.ok(line.endsWith(` ${plain.host}/${repo}:sha256-${digest.slice(7)}.att`), line);
    assert.match(main.summary, /reproducibility: reproducible/);
    assert.match(main.summary, /SBOM: \d+ packages/);
    // Beside the image: the signature and cosign's fallback tag for attestations (no referrers API in registry 2.8).
    assert.deepEqual(await plain.tags(repo), ['release', `sha256-${digest.slice(7)}.att`, `sha256-${digest.slice(7)}.sig`].sort());

    const pub = join(keys, 'cosign.pub');
    for (const type of TYPES) {
      const out = verifyAttestation(pub, ref, type);
      const envelopes = out.trim().split('\n').map((l) => JSON.parse(l) as { payload: string });
      const statements = envelopes.map((e) => JSON.parse(Buffer.from(e.payload, 'base64').toString('utf8')) as { predicateType: string; subject: Array<{ digest: { sha256: string } }>; predicate: Record<string, unknown> });
      const mine = statements.filter((st) => st.predicateType === type);
      assert.equal(mine.length, 1, `${type}: ${out.slice(0, 500)}`);
      assert.equal(mine[0]!.subject[0]!.digest.sha256, digest.slice(7));
      if (type === PREDICATE_TYPES.reproducibility) assert.equal(mine[0]!.predicate.verdict, 'reproducible');
      if (type === PREDICATE_TYPES.smokeTest) assert.equal((mine[0]!.predicate.load as { rows: Array<{ outputTokensPerSecond: number }> }).rows[0]!.outputTokensPerSecond, 512);
      if (type === PREDICATE_TYPES.sbom) assert.equal(mine[0]!.predicate.bomFormat, 'CycloneDX');
    }
    assert.throws(() => verifyAttestation(pub, ref, `${PREDICATE_BASE}/nothing/v1`), 'a type never attested must not verify');

    // The .att manifest: one DSSE envelope per predicate, each naming its type, all about the digest.
    const att = await attManifest(repo, digest);
    assert.deepEqual(att.layers.map((l) => l.annotations.predicateType), TYPES);

    // Tampered: the reproducibility verdict rewritten in its envelope, the signature kept.
    const layer = att.layers[0]!;
    const envelope = JSON.parse((await blob(repo, layer.digest)).toString('utf8')) as { payload: string };
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as { predicate: { verdict: string } };
    statement.predicate.verdict = 'not-reproducible';
    envelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    const forged = Buffer.from(JSON.stringify(envelope));
    const forgedDigest = sha256(forged);
    const upload = await fetch(`http://${plain.host}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
    const location = new URL(upload.headers.get('location')!, `http://${plain.host}`);
    location.searchParams.set('digest', forgedDigest);
    assert.equal((await fetch(location, { method: 'PUT', body: forged, headers: { 'content-type': 'application/octet-stream' } })).status, 201);
    const tampered = { ...att, layers: [{ ...layer, digest: forgedDigest, size: forged.length }, ...att.layers.slice(1)] };
    const put = await fetch(`http://${plain.host}/v2/${repo}/manifests/sha256-${digest.slice(7)}.att`, { method: 'PUT', body: JSON.stringify(tampered), headers: { 'content-type': String(att.mediaType) } });
    assert.equal(put.status, 201);
    assert.throws(() => verifyAttestation(pub, ref, PREDICATE_TYPES.reproducibility), 'a tampered predicate must not verify');
    assert.ok(verifyAttestation(pub, ref, PREDICATE_TYPES.sbom), 'the untouched ones still verify');
  });

  test('evidence: false: the signature only', async () => {
    const keys = mkdtempSync(join(root, 'evidence-off-keys-'));
    sh('cosign', ['generate-key-pair'], { cwd: keys, env: { ...process.env, COSIGN_PASSWORD: 'pw-evidence-off' } });
    const { main } = await publish(job(), { source: small.archive, image: `${plain.host}/acme/evidence-off`, sign: 'cosign-key', 'cosign-key': readFileSync(join(keys, 'cosign.key'), 'utf8'), 'cosign-password': 'pw-evidence-off', 'transparency-log': 'false', evidence: 'false' });
    ok(main);
    assert.equal(main.outputs.attestations, '', 'claimed empty, never set');
    assert.deepEqual(await plain.tags('acme/evidence-off'), [`sha256-${small.digest.slice(7)}.sig`]);
  });

  test('hostile report files: refused before anything is pushed', async () => {
    const keys = mkdtempSync(join(root, 'evidence-bad-keys-'));
    sh('cosign', ['generate-key-pair'], { cwd: keys, env: { ...process.env, COSIGN_PASSWORD: 'pw-hostile-reports' } });
    const dir = mkdtempSync(join(root, 'bad-reports-'));
    const other = buildOciArchive('evidence-other', 'another image\n');
    const aboutOther = join(dir, 'other.json');
    writeFileSync(aboutOther, JSON.stringify(await compareImages(other.archive, other.archive)));
    const notJson = join(dir, 'not.json');
    writeFileSync(notJson, '{"passed": tru');
    const huge = join(dir, 'huge.json');
    writeFileSync(huge, '');
    truncateSync(huge, (32 << 20) + 1);
    const forged = join(dir, 'forged.json');
    writeFileSync(forged, JSON.stringify({ ...smokeReport, gpus: [{ gfx: 'gfx942', memoryBytes: 'lots' }] }));
    const cases: Array<[string, Record<string, string>, RegExp]> = [
      ['a verdict about another image', { 'reproducibility-report': aboutOther }, /reproducibility-report is about sha256:[0-9a-f]{64}, not the published image/],
      ['not JSON', { 'smoke-test-report': notJson }, /smoke-test-report: .*not\.json is not JSON/],
      ['over 32 MiB', { 'smoke-test-report': huge }, /smoke-test-report: .*huge\.json is 33554433 bytes; a report is at most 33554432 bytes/],
      ['a field of the wrong type', { 'smoke-test-report': forged }, /smoke-test-report: report\.gpus\[0\]\.memoryBytes is not a count/],
      ['a missing file', { 'smoke-test-report': join(dir, 'nope.json') }, /smoke-test-report: .*nope\.json cannot be read \(ENOENT\)/],
    ];
    for (const [i, [what, extra, message]] of cases.entries()) {
      const repo = `acme/evidence-bad-${i}`;
      const { main } = await publish(job(), { source: small.archive, image: `${plain.host}/${repo}`, tags: 'release', sign: 'cosign-key', 'cosign-key': readFileSync(join(keys, 'cosign.key'), 'utf8'), 'cosign-password': 'pw-hostile-reports', 'transparency-log': 'false', ...extra });
      failed(main, message);
      assert.deepEqual(await plain.tags(repo), [], what);
    }
    const { main } = await publish(job(), { source: small.archive, image: `${plain.host}/acme/evidence-unsigned`, 'smoke-test-report': notJson });
    failed(main, /Input 'smoke-test-report': is attested only with evidence: true and sign or attest on/);
  });

  test('@actions/attest\'s bundles as OCI referrers: the fallback tag lists them, each pointing at the digest', async () => {
    // Up to the Sigstore call the attest test above covers; from the bundle on, the registry part is real.
    const { main } = await publish(job(), { source: small.archive, image: `${plain.host}/acme/referred` });
    ok(main);
    const digest = main.outputs.digest!;
    const response = await plain.fetch(`/v2/acme/referred/manifests/${digest}`, { accept: 'application/vnd.oci.image.manifest.v1+json' });
    const subject = { mediaType: response.headers.get('content-type')!, size: Buffer.from(await response.arrayBuffer()).length };
    const client = new RegistryClient(plain.host);
    const repository = { host: plain.host, path: 'acme/referred' };
    const refs: string[] = [];
    for (const type of TYPES.slice(0, 2)) {
      refs.push(await pushBundle({ digest, type, registry: client, repository, subject }, Buffer.from(JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json', type }))));
    }
    assert.ok(refs.every((r) => r.startsWith(`${plain.host}/acme/referred@sha256:`)), refs.join('\n'));
    const index = (await served(plain, 'acme/referred', `sha256-${digest.slice(7)}`)).json as { mediaType: string; manifests: Array<{ digest: string; artifactType: string; annotations: Record<string, string> }> };
    assert.equal(index.mediaType, 'application/vnd.oci.image.index.v1+json');
    assert.deepEqual(index.manifests.map((m) => m.annotations['dev.sigstore.bundle.predicateType']), TYPES.slice(0, 2));
    assert.deepEqual(index.manifests.map((m) => `${plain.host}/acme/referred@${m.digest}`), refs);
    for (const m of index.manifests) {
      assert.equal(m.artifactType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
      const referrer = (await served(plain, 'acme/referred', m.digest)).json as { subject: { digest: string }; layers: Array<{ digest: string }> };
      assert.equal(referrer.subject.digest, digest);
    }
  });
});

describe('bad inputs: exit 1, nothing pushed', () => {
  // A blob found corrupt as it is uploaded (hashed then, not read twice) may leave the blobs that
  // went up beside it, unreferenced; never a manifest or a tag.
  const cases: Array<[string, () => Record<string, string>, RegExp, 'blobs may land'?]> = [
    ['an unparseable image', () => ({ source: small.archive, image: `${plain.host}/Bad/Name` }), /Input 'image'.*'Bad' is not a valid/],
    ['an invalid tag, named', () => ({ source: small.archive, image: `${plain.host}/acme/bad-tag`, tags: 'good, -bad' }), /Input 'tags': '-bad' is not a valid tag/],
    ['a missing source', () => ({ source: join(work, 'nope.tar'), image: `${plain.host}/acme/missing` }), /nope\.tar does not exist/],
    ['a truncated archive', () => {
      const copy = join(work, 'truncated.tar');
      writeFileSync(copy, readFileSync(small.archive));
      truncateSync(copy, Math.floor(statSync(copy).size / 2));
      return { source: copy, image: `${plain.host}/acme/truncated` };
    }, /truncated/],
    ['a tar that is not an image', () => {
      const dir = mkdtempSync(join(work, 'notimage-'));
      writeFileSync(join(dir, 'readme.txt'), 'hello');
      sh('tar', ['-cf', join(dir, 'x.tar'), '-C', dir, 'readme.txt']);
      return { source: join(dir, 'x.tar'), image: `${plain.host}/acme/notimage` };
    }, /neither an OCI archive \(index\.json\) nor a docker-archive/],
    ['a layout with a corrupt layer', () => {
      const layout = mkdtempSync(join(work, 'corrupt-'));
      sh('tar', ['-xf', small.archive, '-C', layout]);
      const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
      const manifest = JSON.parse(readFileSync(join(layout, 'blobs', 'sha256', index.manifests[0]!.digest.slice(7)), 'utf8')) as { layers: Array<{ digest: string }> };
      const layer = join(layout, 'blobs', 'sha256', manifest.layers[0]!.digest.slice(7));
      const bytes = readFileSync(layer);
      bytes[bytes.length - 1] ^= 0xff;
      writeFileSync(layer, bytes);
      return { source: layout, image: `${plain.host}/acme/corrupt` };
    }, /blob sha256:[0-9a-f]{64} read from .*corrupt-.* has digest sha256:/, 'blobs may land'],
    ['attest without the job\'s OIDC token', () => ({ source: small.archive, image: `${plain.host}/acme/no-oidc`, attest: 'true' }), /attest: true needs the job's OIDC token: give the job `permissions: id-token: write`/],
    ['keyless signing without the job\'s OIDC token', () => ({ source: small.archive, image: `${plain.host}/acme/no-oidc-sign`, sign: 'cosign-keyless' }), /sign: cosign-keyless needs the job's OIDC token/],
    ['a registry source by tag', () => ({ source: `docker://${plain.host}/acme/vllm:latest`, image: `${plain.host}/acme/x` }), /Input 'source'.*pinned by digest/],
  ];
  for (const [what, inputs, message, blobsMayLand] of cases) {
    test(what, async () => {
      const given = inputs();
      const { main } = await publish(job(), { ...given, tags: given.tags ?? 'x' });
      failed(main, message);
      const repo = given.image!.slice(plain.host.length + 1);
      if (!repo.startsWith('Bad')) assert.deepEqual(await plain.tags(repo), []);
      if (!blobsMayLand) assert.ok(!(await catalog(plain)).includes(repo), `${repo} was created`);
      else assert.equal((await plain.fetch(`/v2/${repo}/manifests/${small.digest}`)).status, 404, 'a manifest was pushed');
    });
  }
});
