import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseBuildxVersion } from '../../src/docker/buildx-version.js';
import { atLeast } from '../../src/tool/version.js';
import { fixture } from '../support/fixtures.js';

test('parses Debian buildx version output (captured)', () => {
  const v = parseBuildxVersion(readFileSync(fixture('buildx/version-0.13.1.txt'), 'utf8'));
  assert.deepEqual([v?.major, v?.minor, v?.patch], [0, 13, 1]);
  assert.equal(v?.raw, '0.13.1+ds1');
});

test('parses upstream buildx version output', () => {
  const v = parseBuildxVersion('github.com/docker/buildx v0.21.1 7c2359c9f0d9c6ddc0b1f6ae8c2c3b4e5a6b7c8d');
  assert.equal(v?.raw, '0.21.1');
  assert.ok(v && atLeast(v, '0.21.0'));
  assert.ok(v && !atLeast(v, '0.21.2'));
  assert.ok(v && atLeast(v, '0.13'));
});

test('rejects output that is not a buildx version', () => {
  assert.equal(parseBuildxVersion("docker: 'buildx' is not a docker command."), undefined);
});

test('version comparison across major and minor', () => {
  const v = parseBuildxVersion('github.com/docker/buildx v1.2.0 x')!;
  assert.ok(atLeast(v, '0.99.99'));
  assert.ok(!atLeast(v, '1.10.0'));
});

test('reads the builder driver from `docker buildx inspect` (captured)', async () => {
  const { parseBuilderDriver } = await import('../../src/docker/buildx.js');
  assert.equal(parseBuilderDriver(readFileSync(fixture('buildx/inspect-default.txt'), 'utf8')), 'docker');
  assert.equal(parseBuilderDriver('Name: x\n'), undefined);
});
