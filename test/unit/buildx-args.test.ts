import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildxBuildArgs, cacheFromArgs, cacheToArgs, csvField, outputArg, secretArg, type BuildxBuildSpec } from '../../src/docker/buildx-args.js';

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
  // A cache export that fails (registry down, login forgotten) must never fail a finished build.
  ['cache gha', { cache: { type: 'gha', scope: 's', mode: 'max' } }, ['--cache-from', 'type=gha,scope=s', '--cache-to', 'type=gha,scope=s,mode=max,ignore-error=true']],
  ['cache registry min', { cache: { type: 'registry', ref: 'r/c:b', mode: 'min' } }, ['--cache-from', 'type=registry,ref=r/c:b', '--cache-to', 'type=registry,ref=r/c:b,mode=min,ignore-error=true']],
  ['cache local', { cache: { type: 'local', from: '/c', to: '/c-new', mode: 'max' } }, ['--cache-from', 'type=local,src=/c', '--cache-to', 'type=local,dest=/c-new,mode=max,ignore-error=true']],
  ['cache local under a path with a comma: quoted, no extra option', { cache: { type: 'local', from: '/t,x/c', to: '/t,x/n', mode: 'max' } },
    ['--cache-from', 'type=local,"src=/t,x/c"', '--cache-to', 'type=local,"dest=/t,x/n",mode=max,ignore-error=true']],
  ['oci dest with a comma and a quote is one CSV field', { output: { type: 'oci', dest: '/r,un/"a".tar' } }, ['--output', 'type=oci,"dest=/r,un/""a"".tar",rewrite-timestamp=true']],
  ['oci-layout: a directory, tar=false', { output: { type: 'oci-layout', dest: '/t/image.oci' } }, ['--output', 'type=oci,dest=/t/image.oci,tar=false,rewrite-timestamp=true']],
  ['oci-layout dest with a comma: quoted, tar=false stays its own field', { output: { type: 'oci-layout', dest: '/r,tar=true/x' } }, ['--output', 'type=oci,"dest=/r,tar=true/x",tar=false,rewrite-timestamp=true']],
  ['oci-layout with zstd', { compression: 'zstd', output: { type: 'oci-layout', dest: '/t/image.oci' } }, ['--output', 'type=oci,dest=/t/image.oci,tar=false,rewrite-timestamp=true,compression=zstd']],
  ['pull', { pull: true }, ['--pull']],
  ['build-contexts', { buildContexts: [['rocm', 'docker-image://rocm/dev-ubuntu-24.04:6.4'], ['src', '/ws/vllm']] }, ['--build-context', 'rocm=docker-image://rocm/dev-ubuntu-24.04:6.4', '--build-context', 'src=/ws/vllm']],
  ['secrets: env and src, values never in argv', { secrets: [{ id: 'hf', env: 'VLLM_ROCM_ACTION_SECRET_0' }, { id: 'netrc', src: '/home/r/.netrc' }] },
    ['--secret', 'id=hf,env=VLLM_ROCM_ACTION_SECRET_0', '--secret', 'id=netrc,src=/home/r/.netrc']],
  ['ssh', { ssh: ['default', 'github=/home/r/.ssh/id_ed25519'] }, ['--ssh', 'default', '--ssh', 'github=/home/r/.ssh/id_ed25519']],
  ['annotations', { annotations: ['org.opencontainers.image.source=https://example.com/r', 'index:org.example.gfx=gfx1151'] },
    ['--annotation', 'org.opencontainers.image.source=https://example.com/r', '--annotation', 'index:org.example.gfx=gfx1151']],
  ['shm-size', { shmSize: '2g' }, ['--shm-size', '2g']],
  ['ulimit', { ulimits: ['nofile=1048576:1048576', 'memlock=-1:-1'] }, ['--ulimit', 'nofile=1048576:1048576', '--ulimit', 'memlock=-1:-1']],
  ['no-cache', { noCache: true }, ['--no-cache']],
  ['provenance and sbom asked for', { provenance: true, sbom: true }, ['--provenance=true', '--sbom=true']],
  ['docker output', { output: { type: 'docker' } }, ['--output', 'type=docker,rewrite-timestamp=true']],
  ['registry output', { output: { type: 'registry' } }, ['--output', 'type=image,push=true,rewrite-timestamp=true']],
  ['docker output on the docker driver (no rewrite-timestamp)', { output: { type: 'docker' }, rewriteTimestamp: false }, ['--output', 'type=docker']],
  // A cache restored under its exact key is this build's own: exporting it again would only be thrown away.
  ['cache local, nothing restored: exported only', { tags: ['x'], cache: { type: 'local', to: '/c-new', mode: 'max' } }, ['--tag', 'x', '--cache-to', 'type=local,dest=/c-new,mode=max,ignore-error=true', '--provenance=false']],
  ['cache local restored exactly: imported, not exported', { tags: ['x'], cache: { type: 'local', from: '/c', mode: 'max' } }, ['--tag', 'x', '--cache-from', 'type=local,src=/c', '--provenance=false']],
  ['compression gzip (default) adds no option', { compression: 'gzip' }, ['--output', 'type=oci,dest=/tmp/image.tar,rewrite-timestamp=true', '--metadata-file']],
  ['compression zstd: oci output, not forced (base layers keep their own blobs)', { compression: 'zstd' }, ['--output', 'type=oci,dest=/tmp/image.tar,rewrite-timestamp=true,compression=zstd']],
  ['compression zstd: registry output', { compression: 'zstd', output: { type: 'registry' } }, ['--output', 'type=image,push=true,rewrite-timestamp=true,compression=zstd']],
  ['compression zstd on the docker driver (no rewrite-timestamp)', { compression: 'zstd', output: { type: 'docker' }, rewriteTimestamp: false }, ['--output', 'type=docker,compression=zstd']],
  ['compression-level with gzip: the level alone (gzip is BuildKit\'s default)', { compressionLevel: 1 }, ['--output', 'type=oci,dest=/tmp/image.tar,rewrite-timestamp=true,compression-level=1', '--metadata-file']],
  ['compression-level 0 is a level, not absent', { compressionLevel: 0, output: { type: 'oci-layout', dest: '/t/i' } }, ['--output', 'type=oci,dest=/t/i,tar=false,rewrite-timestamp=true,compression-level=0']],
  ['compression-level with zstd on the layout', { compression: 'zstd', compressionLevel: 1, output: { type: 'oci-layout', dest: '/t/i' } }, ['--output', 'type=oci,dest=/t/i,tar=false,rewrite-timestamp=true,compression=zstd,compression-level=1']],
  ['compression-level on the docker driver', { compressionLevel: 9, output: { type: 'docker' }, rewriteTimestamp: false }, ['--output', 'type=docker,compression-level=9']],
  ['compression-level: the cache is compressed at the same level as the image', { compression: 'zstd', compressionLevel: 3, cache: { type: 'gha', scope: 's', mode: 'max' } },
    ['--cache-from', 'type=gha,scope=s', '--cache-to', 'type=gha,scope=s,mode=max,compression=zstd,compression-level=3,ignore-error=true']],
  ['compression-level with gzip and a registry cache', { compressionLevel: 1, cache: { type: 'registry', ref: 'r/c:b', mode: 'min' } },
    ['--cache-from', 'type=registry,ref=r/c:b', '--cache-to', 'type=registry,ref=r/c:b,mode=min,compression-level=1,ignore-error=true']],
  ['compression zstd: the cache is exported as zstd too (each layer compressed once)', { compression: 'zstd', cache: { type: 'registry', ref: 'r/c:b', mode: 'max' } },
    ['--cache-from', 'type=registry,ref=r/c:b', '--cache-to', 'type=registry,ref=r/c:b,mode=max,compression=zstd,ignore-error=true']],
  ['compression zstd with cache local', { compression: 'zstd', cache: { type: 'local', from: '/c', to: '/n', mode: 'min' } },
    ['--cache-from', 'type=local,src=/c', '--cache-to', 'type=local,dest=/n,mode=min,compression=zstd,ignore-error=true']],
  ['compression zstd with cache gha', { compression: 'zstd', cache: { type: 'gha', scope: 's', mode: 'max' } },
    ['--cache-from', 'type=gha,scope=s', '--cache-to', 'type=gha,scope=s,mode=max,compression=zstd,ignore-error=true']],
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

test('oci-stream: the OCI tar on stdout (dest=-), with the same timestamp and compression options as a layout', () => {
  assert.equal(outputArg({ type: 'oci-stream' }, true, 'zstd', 3), 'type=oci,dest=-,rewrite-timestamp=true,compression=zstd,compression-level=3');
  assert.equal(outputArg({ type: 'oci-layout', dest: '/w/b.oci' }, true, 'zstd', 3), 'type=oci,dest=/w/b.oci,tar=false,rewrite-timestamp=true,compression=zstd,compression-level=3');
});

test('csvField quotes only what buildx would otherwise split', () => {
  assert.equal(csvField('ref', 'r/c:b'), 'ref=r/c:b');
  assert.equal(csvField('dest', '/a,url=https://x/'), '"dest=/a,url=https://x/"');
  assert.equal(csvField('src', 'a"b'), '"src=a""b"');
});

test('secretArg: env or src, ids quoted like any field', () => {
  assert.equal(secretArg({ id: 'hf', env: 'X' }), 'id=hf,env=X');
  assert.equal(secretArg({ id: 'k', src: '/p,q' }), 'id=k,"src=/p,q"');
});
