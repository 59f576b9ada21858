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
  assert.equal(inputs.sourceDateEpoch, undefined);
  assert.equal(inputs.provenance, false);
});

test('file is relative to the workspace; default file follows context', () => {
  assert.equal(parseBuildDockerInputs(source({ context: 'docker' }), '/ws').file, '/ws/docker/Dockerfile');
  assert.equal(parseBuildDockerInputs(source({ context: 'docker', file: 'docker/rocm.Dockerfile' }), '/ws').file, '/ws/docker/rocm.Dockerfile');
});

test('lists split on newlines and commas; build-args keep commas in values', () => {
  assert.deepEqual(list(source({ tags: 'a:1, b:2\nc:3\n\n' }), 'tags'), ['a:1', 'b:2', 'c:3']);
  assert.deepEqual(keyValuePairs(source({ 'build-args': 'GFX=gfx1151,gfx942\nX= y ' }), 'build-args'), [['GFX', 'gfx1151,gfx942'], ['X', ' y']]);
});

// Each row: inputs, the input the error must name, and a part of its message.
const bad: Array<[Record<string, string>, string, RegExp]> = [
  [{ cache: 'redis' }, 'cache', /must be one of gha, registry, local, none \(got 'redis'\)/],
  [{ cache: 'registry' }, 'cache-ref', /must be set when cache is 'registry'/],
  [{ 'cache-mode': 'all' }, 'cache-mode', /one of min, max/],
  [{ output: 'tarball' }, 'output', /one of oci, docker, registry/],
  [{ output: 'registry' }, 'tags', /at least one image reference/],
  [{ platform: 'linux/amd64,linux/arm64' }, 'platform', /one platform/],
  [{ 'source-date-epoch': 'yesterday' }, 'source-date-epoch', /non-negative integer/],
  [{ 'build-args': 'NOVALUE' }, 'build-args', /KEY=VALUE/],
  [{ provenance: 'yes' }, 'provenance', /true or false/],
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
