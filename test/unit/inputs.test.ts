import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError, list, keyValuePairs } from '../../src/action/inputs.js';
import { parseBuildDockerInputs } from '../../src/build-docker/inputs.js';

const source = (values: Record<string, string>) => (name: string) => values[name] ?? '';

test('build-docker defaults', () => {
  const inputs = parseBuildDockerInputs(source({}), '/ws');
  assert.equal(inputs.context, '/ws');
  assert.equal(inputs.file, '/ws/Dockerfile');
  assert.equal(inputs.platform, 'linux/amd64');
  assert.equal(inputs.cache, 'gha');
  assert.equal(inputs.cacheMode, 'max');
  assert.equal(inputs.output, 'oci');
  assert.equal(inputs.compression, 'gzip');
  assert.equal(inputs.compressionLevel, undefined);
  assert.equal(inputs.sourceDateEpoch, undefined);
  assert.equal(inputs.provenance, false);
});

test('compression-level: an integer in the range of the compression (gzip 0-9, zstd 0-22)', () => {
  assert.equal(parseBuildDockerInputs(source({ 'compression-level': '1' }), '/ws').compressionLevel, 1);
  assert.equal(parseBuildDockerInputs(source({ 'compression-level': '0' }), '/ws').compressionLevel, 0);
  assert.equal(parseBuildDockerInputs(source({ 'compression-level': '9' }), '/ws').compressionLevel, 9);
  assert.equal(parseBuildDockerInputs(source({ compression: 'zstd', 'compression-level': '22' }), '/ws').compressionLevel, 22);
  assert.equal(parseBuildDockerInputs(source({ compression: 'zstd', 'compression-level': '' }), '/ws').compressionLevel, undefined);
});

test('file is relative to the workspace; default file follows context', () => {
  assert.equal(parseBuildDockerInputs(source({ context: 'docker' }), '/ws').file, '/ws/docker/Dockerfile');
  assert.equal(parseBuildDockerInputs(source({ context: 'docker', file: 'docker/rocm.Dockerfile' }), '/ws').file, '/ws/docker/rocm.Dockerfile');
});

test('lists split on newlines and commas; build-args keep commas in values', () => {
  assert.deepEqual(list(source({ tags: 'a:1, b:2\nc:3\n\n' }), 'tags'), ['a:1', 'b:2', 'c:3']);
  assert.deepEqual(keyValuePairs(source({ 'build-args': 'GFX=gfx1151,gfx942\nX= y ' }), 'build-args'), [['GFX', 'gfx1151,gfx942'], ['X', 'y']]);
});

test('build-args: spaces around = are trimmed (GFX_ARCH = gfx1100 is GFX_ARCH=gfx1100)', () => {
  assert.deepEqual(parseBuildDockerInputs(source({ 'build-args': 'GFX_ARCH = gfx1100\n ROCM_VERSION=  6.4 ' }), '/ws').buildArgs, [['GFX_ARCH', 'gfx1100'], ['ROCM_VERSION', '6.4']]);
});

test('new build inputs parse into the typed object', () => {
  const inputs = parseBuildDockerInputs(source({
    'no-cache': 'true', pull: 'true', 'build-contexts': 'rocm = docker-image://rocm/dev:6.4', ssh: 'default\ngh=/k', 'shm-size': '2g',
    ulimit: 'nofile=1024:2048', annotations: 'index:org.example.a=b', 'cache-scope': 'vllm-gfx942',
    secrets: 'HF_TOKEN=hf_abc=def\n', 'secret-envs': 'gh=GH_TOKEN', 'secret-files': 'netrc=conf/netrc',
  }), '/ws');
  assert.equal(inputs.noCache, true);
  assert.equal(inputs.pull, true);
  assert.deepEqual(inputs.buildContexts, [['rocm', 'docker-image://rocm/dev:6.4']]);
  assert.deepEqual(inputs.ssh, ['default', 'gh=/k']);
  assert.equal(inputs.shmSize, '2g');
  assert.deepEqual(inputs.ulimits, ['nofile=1024:2048']);
  assert.deepEqual(inputs.annotations, ['index:org.example.a=b']);
  assert.equal(inputs.cacheScope, 'vllm-gfx942');
  assert.deepEqual(inputs.secrets, [{ id: 'HF_TOKEN', value: 'hf_abc=def' }, { id: 'gh', env: 'GH_TOKEN' }, { id: 'netrc', file: '/ws/conf/netrc' }]);
});

test('SOURCE_DATE_EPOCH as a build arg is the epoch (and leaves the build args), agreeing with source-date-epoch', () => {
  const fromArg = parseBuildDockerInputs(source({ 'build-args': 'SOURCE_DATE_EPOCH=1700000000\nA=b' }), '/ws');
  assert.deepEqual(fromArg.sourceDateEpoch, { value: 1700000000, source: 'SOURCE_DATE_EPOCH build-arg' });
  assert.deepEqual(fromArg.buildArgs, [['A', 'b']]);
  assert.deepEqual(parseBuildDockerInputs(source({ 'source-date-epoch': '5' }), '/ws').sourceDateEpoch, { value: 5, source: 'source-date-epoch input' });
  assert.equal(parseBuildDockerInputs(source({ 'source-date-epoch': '5', 'build-args': 'SOURCE_DATE_EPOCH=5' }), '/ws').sourceDateEpoch?.value, 5);
});

test('a secrets line that is not ID=VALUE is refused without showing the value', () => {
  assert.throws(() => parseBuildDockerInputs(source({ secrets: 'ghp_supersecretvalue' }), '/ws'), (error: unknown) => {
    assert.ok(error instanceof InputError);
    assert.equal(error.input, 'secrets');
    assert.match(error.message, /line 1 must be ID=/);
    assert.doesNotMatch(error.message, /supersecret/);
    return true;
  });
});

// Each row: inputs, the input the error must name, and a part of its message.
const bad: Array<[Record<string, string>, string, RegExp]> = [
  [{ cache: 'redis' }, 'cache', /must be one of gha, registry, local, none \(got 'redis'\)/],
  [{ cache: 'registry' }, 'cache-ref', /must be set when cache is 'registry'/],
  [{ 'cache-mode': 'all' }, 'cache-mode', /one of min, max/],
  [{ output: 'tarball' }, 'output', /one of oci, oci-layout, docker, registry/],
  [{ compression: 'xz' }, 'compression', /must be one of gzip, zstd \(got 'xz'\)/],
  [{ 'compression-level': '10' }, 'compression-level', /must be an integer from 0 to 9 for compression: gzip \(got '10'\)/],
  [{ compression: 'zstd', 'compression-level': '23' }, 'compression-level', /from 0 to 22 for compression: zstd \(got '23'\)/],
  [{ 'compression-level': '-1' }, 'compression-level', /from 0 to 9/],
  [{ 'compression-level': '1.5' }, 'compression-level', /from 0 to 9/],
  [{ 'compression-level': 'fast' }, 'compression-level', /from 0 to 9 for compression: gzip \(got 'fast'\)/],
  [{ 'compression-level': '1,force-compression=true' }, 'compression-level', /from 0 to 9/],
  [{ 'compression-level': '007' }, 'compression-level', /from 0 to 9/],
  [{ 'compression-level': '1\n2' }, 'compression-level', /from 0 to 9/],
  [{ output: 'registry' }, 'tags', /at least one image reference/],
  [{ platform: 'linux/amd64,linux/arm64' }, 'platform', /one platform/],
  [{ 'source-date-epoch': 'yesterday' }, 'source-date-epoch', /non-negative integer/],
  [{ 'build-args': 'NOVALUE' }, 'build-args', /KEY=VALUE/],
  [{ provenance: 'yes' }, 'provenance', /true or false/],
  // build-push-action habits: the runner passes them as INPUT_*; they must not be ignored.
  [{ push: 'true' }, 'push', /is not an input of this action: use `output: registry`/],
  [{ load: 'true' }, 'load', /use `output: docker`/],
  [{ platforms: 'linux/amd64,linux/arm64' }, 'platforms', /use `platform` \(one platform per build/],
  [{ 'cache-from': 'type=gha' }, 'cache-from', /use `cache`/],
  [{ 'cache-to': 'type=gha,mode=max' }, 'cache-to', /use `cache`/],
  [{ outputs: 'type=docker' }, 'outputs', /use `output` \(oci, oci-layout, docker or registry\)/],
  // Values that would add options to buildx's comma-separated cache or output arguments.
  [{ target: 'runtime,url=https://attacker.example/' }, 'target', /must be a stage name/],
  [{ target: '1stage' }, 'target', /must be a stage name/],
  [{ cache: 'registry', 'cache-ref': 'r/c:b,ref=attacker.example/x' }, 'cache-ref', /without commas/],
  [{ 'cache-scope': 'a,url=https://x/' }, 'cache-scope', /letters, digits/],
  [{ 'build-args': 'SOURCE_DATE_EPOCH=yesterday' }, 'build-args', /SOURCE_DATE_EPOCH must be a non-negative integer/],
  [{ 'build-args': 'SOURCE_DATE_EPOCH=1', 'source-date-epoch': '2' }, 'build-args', /contradicts source-date-epoch: 2/],
  [{ 'no-cache': 'yes' }, 'no-cache', /true or false/],
  [{ 'shm-size': 'lots' }, 'shm-size', /a size such as 2g/],
  [{ ulimit: 'nofile' }, 'ulimit', /TYPE=SOFT\[:HARD\]/],
  [{ ssh: 'a b' }, 'ssh', /'default' or ID=PATH/],
  [{ annotations: 'novalue' }, 'annotations', /KEY=VALUE/],
  [{ 'secret-envs': 'gh=not a name' }, 'secret-envs', /ID=ENV_VAR/],
  [{ 'secret-files': 'netrc=' }, 'secret-files', /ID=PATH/],
];

for (const [values, input, message] of bad) {
  test(`bad input names '${input}': ${JSON.stringify(values)}`, () => {
    assert.throws(() => parseBuildDockerInputs(source(values), '/ws'), (error: unknown) => {
      assert.ok(error instanceof InputError);
      assert.equal(error.input, input);
      assert.match(error.message, message);
      assert.ok(error.message.startsWith(`Input '${input}': `));
      return true;
    });
  });
}
