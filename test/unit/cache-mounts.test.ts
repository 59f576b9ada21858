// cache-mounts: the input, the Dockerfile's cache mounts, the helper builds' Dockerfiles and the
// static-busybox check. The builds themselves: test/integration/cache-mounts.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../../src/action/inputs.js';
import { parseCacheMounts } from '../../src/build-docker/inputs.js';
import { resolveCacheMounts } from '../../src/build-docker/cache-mounts.js';
import { extractDockerfile, injectDockerfile, isStaticElf, mountOption } from '../../src/docker/cache-mount.js';
import { outlineDockerfile } from '../../src/docker/dockerfile.js';

const get = (value: string) => (name: string) => (name === 'cache-mounts' ? value : '');

test('cache-mounts: id= and target= lines, trailing slashes dropped, blank lines skipped', () => {
  assert.deepEqual(parseCacheMounts(get('id=vllm-rocm-ccache\n\n target = /root/.cache/pip/ \n')), [
    { by: 'id', value: 'vllm-rocm-ccache' },
    { by: 'target', value: '/root/.cache/pip' },
  ]);
  assert.deepEqual(parseCacheMounts(get('')), []);
});

test('cache-mounts: what could add a mount option, a variable or a path out is refused, naming the input', () => {
  const bad = ['ccache', 'id=ccache,target=/etc', 'id=a b', 'id=$CACHE', 'id="x"', 'target=relative/path', 'target=/', 'target=/a/../etc', 'id=../x', 'from=base', `id=${'x'.repeat(201)}`];
  for (const line of bad) {
    assert.throws(() => parseCacheMounts(get(line)), (e: unknown) => e instanceof InputError && /^Input 'cache-mounts': /.test(e.message), line);
  }
  assert.throws(() => parseCacheMounts(get('id=a\nid=a')), /names id=a twice/);
  assert.throws(() => parseCacheMounts(get(Array.from({ length: 9 }, (_, i) => `id=m${i}`).join('\n'))), /at most 8/);
});

const DOCKERFILE = `FROM scratch AS build
RUN --mount=type=cache,id=vllm-rocm-ccache,target=/root/.cache/ccache,uid=1000,gid=1000,mode=0755 \\
    --mount=type=bind,source=.,target=/src \\
    make
RUN --mount=type=cache,target=/root/.cache/pip pip install .
RUN --mount=type=cache,dst=/var/cache/apt,from=build apt-get install -y x
RUN --mount=type=secret,id=hf echo not a cache
`;

test('the outline lists RUN cache mounts: the id defaults to the target; uid, gid, mode and from kept', () => {
  assert.deepEqual(outlineDockerfile(DOCKERFILE).cacheMounts, [
    { id: 'vllm-rocm-ccache', target: '/root/.cache/ccache', uid: '1000', gid: '1000', mode: '0755', from: undefined },
    { id: '/root/.cache/pip', target: '/root/.cache/pip', uid: undefined, gid: undefined, mode: undefined, from: undefined },
    { id: '/var/cache/apt', target: '/var/cache/apt', uid: undefined, gid: undefined, mode: undefined, from: 'build' },
  ]);
});

test('named mounts resolve to the Dockerfile\'s own (by id or target); unknown, from= and variable mounts', () => {
  const outline = outlineDockerfile(DOCKERFILE);
  assert.deepEqual(resolveCacheMounts([{ by: 'target', value: '/root/.cache/ccache' }, { by: 'id', value: '/root/.cache/pip' }], outline, 'Dockerfile'), [
    { id: 'vllm-rocm-ccache', uid: '1000', gid: '1000', mode: '0755' },
    { id: '/root/.cache/pip', uid: undefined, gid: undefined, mode: undefined },
  ]);
  assert.throws(() => resolveCacheMounts([{ by: 'id', value: 'ccache' }], outline, 'Dockerfile'), /Input 'cache-mounts': id=ccache: no RUN --mount=type=cache in Dockerfile has that id \(its cache mounts: id=vllm-rocm-ccache/);
  assert.throws(() => resolveCacheMounts([{ by: 'target', value: '/var/cache/apt' }], outline, 'Dockerfile'), /uses from=/);
  assert.throws(() => resolveCacheMounts([{ by: 'id', value: 'x' }], outlineDockerfile('FROM scratch\nRUN true\n'), 'Dockerfile'), /it has no cache mounts/);
  // A mount id from a build variable cannot be matched here: kept as named, with a warning.
  const variable = outlineDockerfile('FROM scratch\nARG ARCH\nRUN --mount=type=cache,id=ccache-${ARCH},target=/c make\n');
  assert.deepEqual(resolveCacheMounts([{ by: 'id', value: 'ccache-gfx942' }], variable, 'Dockerfile'), [{ id: 'ccache-gfx942' }]);
});

test('helper Dockerfiles mount the same cache (id, uid, gid, mode), FROM scratch, with a stamp so the copy always runs', () => {
  const spec = { id: 'vllm-rocm-ccache', uid: '1000', gid: '1000', mode: '0755' };
  assert.equal(mountOption(spec), 'type=cache,id=vllm-rocm-ccache,target=/vllm-rocm-action-mount,sharing=locked,uid=1000,gid=1000,mode=0755');
  const inject = injectDockerfile(spec);
  assert.match(inject, /^FROM scratch\nCOPY busybox stamp \/\n/);
  assert.match(inject, /--mount=type=bind,from=content,target=\/content/);
  assert.match(inject, /chown -R 1000:1000 /);
  const extract = extractDockerfile({ id: '/root/.cache/pip' });
  assert.match(extract, /^FROM scratch AS copy\n/);
  assert.match(extract, /FROM scratch\nCOPY --from=copy \/out\/ \/\n$/);
  assert.match(extract, /chown -R 0:0|cp -a \/vllm-rocm-action-mount\/\. \/out\//);
});

test('a static busybox is told from a dynamic executable by its PT_INTERP header', async () => {
  assert.equal(await isStaticElf('/bin/busybox'), true);
  assert.equal(await isStaticElf('/bin/ls'), false);
  assert.equal(await isStaticElf('/etc/hostname'), false);
});
