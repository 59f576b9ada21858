import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildxBuildArgs, cacheFromArgs, cacheToArgs, outputArg, type BuildxBuildSpec } from '../../src/docker/buildx-args.js';

const base: BuildxBuildSpec = {
  context: '/ws',
  file: '/ws/Dockerfile',
  buildArgs: [],
  platform: 'linux/amd64',
  tags: [],
  labels: [],
  cache: { type: 'none' },
  output: { type: 'oci', dest: '/tmp/image.tar' },
  sourceDateEpoch: 1700000000,
  metadataFile: '/tmp/meta.json',
  provenance: false,
  sbom: false,
  rewriteTimestamp: true,
};

const baseArgs = [
  'buildx', 'build', '--progress', 'rawjson', '--file', '/ws/Dockerfile', '--platform', 'linux/amd64',
  '--build-arg', 'SOURCE_DATE_EPOCH=1700000000', '--provenance=false', '--sbom=false',
  '--output', 'type=oci,dest=/tmp/image.tar,rewrite-timestamp=true', '--metadata-file', '/tmp/meta.json', '/ws',
];

test('defaults: reproducible flags, no cache, OCI output with rewrite-timestamp', () => {
  assert.deepEqual(buildxBuildArgs(base), baseArgs);
});

// Each row: the spec change, and the flags it must add (in order) to the argv.
const rows: Array<[string, Partial<BuildxBuildSpec>, string[]]> = [
  ['builder', { builder: 'k8s' }, ['--builder', 'k8s']],
  ['target', { target: 'runtime' }, ['--target', 'runtime']],
  ['platform', { platform: 'linux/arm64' }, ['--platform', 'linux/arm64']],
  ['build-args keep order, after SOURCE_DATE_EPOCH', { buildArgs: [['ROCM', '6.4'], ['GFX', 'gfx1151,gfx942']] }, ['--build-arg', 'SOURCE_DATE_EPOCH=1700000000', '--build-arg', 'ROCM=6.4', '--build-arg', 'GFX=gfx1151,gfx942']],
  ['labels', { labels: [['org.opencontainers.image.title', 'vllm']] }, ['--label', 'org.opencontainers.image.title=vllm']],
  ['tags', { tags: ['ghcr.io/a/vllm:1', 'ghcr.io/a/vllm:latest'] }, ['--tag', 'ghcr.io/a/vllm:1', '--tag', 'ghcr.io/a/vllm:latest']],
  ['cache gha', { cache: { type: 'gha', scope: 's', mode: 'max' } }, ['--cache-from', 'type=gha,scope=s', '--cache-to', 'type=gha,scope=s,mode=max']],
  ['cache registry min', { cache: { type: 'registry', ref: 'r/c:b', mode: 'min' } }, ['--cache-from', 'type=registry,ref=r/c:b', '--cache-to', 'type=registry,ref=r/c:b,mode=min']],
  ['cache local', { cache: { type: 'local', from: '/c', to: '/c-new', mode: 'max' } }, ['--cache-from', 'type=local,src=/c', '--cache-to', 'type=local,dest=/c-new,mode=max']],
  ['no-cache', { noCache: true }, ['--no-cache']],
  ['provenance and sbom asked for', { provenance: true, sbom: true }, ['--provenance=true', '--sbom=true']],
  ['docker output', { output: { type: 'docker' } }, ['--output', 'type=docker,rewrite-timestamp=true']],
  ['registry output', { output: { type: 'registry' } }, ['--output', 'type=image,push=true,rewrite-timestamp=true']],
  ['docker output on the docker driver (no rewrite-timestamp)', { output: { type: 'docker' }, rewriteTimestamp: false }, ['--output', 'type=docker']],
];

for (const [name, change, expected] of rows) {
  test(`argv: ${name}`, () => {
    const args = buildxBuildArgs({ ...base, ...change });
    const joined = args.join('\u0000');
    assert.ok(`${joined}\u0000`.includes(`${expected.join('\u0000')}\u0000`), `${JSON.stringify(expected)} not in ${JSON.stringify(args)}`);
    assert.equal(args.at(-1), '/ws', 'the context is always the last argument');
  });
}

test('cache none adds no cache flags', () => {
  assert.deepEqual(cacheFromArgs({ type: 'none' }), []);
  assert.deepEqual(cacheToArgs({ type: 'none' }), []);
  assert.equal(outputArg({ type: 'oci', dest: '/a b/x.tar' }), 'type=oci,dest=/a b/x.tar,rewrite-timestamp=true');
});
