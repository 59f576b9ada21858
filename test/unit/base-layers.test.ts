// The base-layer check's pure parts: which image a Dockerfile's built stage starts from, and how
// its layers compare with the output's (src/build-docker/base-layers.ts).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { baseImageOf, outlineDockerfile } from '../../src/docker/dockerfile.js';
import { compareBaseLayers, rewrittenWarning } from '../../src/build-docker/base-layers.js';

const D = (c: string): string => `sha256:${c.repeat(64)}`;
const gzip = 'application/vnd.oci.image.layer.v1.tar+gzip';
const zstd = 'application/vnd.oci.image.layer.v1.tar+zstd';

describe('baseImageOf', () => {
  const base = (text: string, args: Array<[string, string]> = [], target?: string): ReturnType<typeof baseImageOf> => baseImageOf(outlineDockerfile(text), args, target);

  test('the last stage, followed back through stage names to an image', () => {
    assert.deepEqual(base(`FROM rocm/pytorch@${D('a')} AS torch\nFROM torch AS build\nRUN make\nFROM build\n`), { image: `rocm/pytorch@${D('a')}` });
  });
  test('a global ARG (vLLM\'s BASE_IMAGE), its default or the build arg; --platform is skipped', () => {
    const text = `ARG BASE_IMAGE=rocm/dev@${D('a')}\nFROM --platform=linux/amd64 \${BASE_IMAGE} AS base\nFROM base\n`;
    assert.deepEqual(base(text), { image: `rocm/dev@${D('a')}` });
    assert.deepEqual(base(text, [['BASE_IMAGE', `other@${D('b')}`]]), { image: `other@${D('b')}` });
  });
  test('an ARG with no value, and an ARG declared after the first FROM (FROM cannot use it), are unresolved', () => {
    assert.deepEqual(base('ARG BASE\nFROM $BASE\n'), { unresolved: '$BASE' });
    assert.deepEqual(base('FROM scratch AS a\nARG LATE=x\nFROM ${LATE}\n'), { unresolved: '${LATE}' });
  });
  test('target picks the stage; scratch is returned as written; no FROM at all is undefined', () => {
    assert.deepEqual(base(`FROM a@${D('a')} AS one\nFROM b@${D('b')} AS two\n`, [], 'ONE'), { image: `a@${D('a')}` });
    assert.deepEqual(base('FROM scratch\nCOPY x /\n'), { image: 'scratch' });
    assert.equal(base('# nothing\n'), undefined);
  });
  test('a stage named like an image it is defined after is the image, not itself (no loop)', () => {
    assert.deepEqual(base('FROM debian AS debian\n'), { image: 'debian' });
  });
});

describe('compareBaseLayers', () => {
  const layers = [{ digest: D('1'), mediaType: gzip }, { digest: D('2'), mediaType: gzip }, { digest: D('3'), mediaType: gzip }];
  test('kept: the base digests lead the output', () => {
    assert.deepEqual(compareBaseLayers(layers, [D('1'), D('2'), D('3'), D('9')]), { kept: 3, rewritten: [] });
  });
  test('rewritten: another digest at a base position, or a missing one; the warning names the engine and #4805', () => {
    const c = compareBaseLayers(layers, [D('1'), D('8')]);
    assert.deepEqual(c.rewritten, [{ index: 1, base: D('2'), output: D('8') }, { index: 2, base: D('3'), output: undefined }]);
    const warning = rewrittenWarning('reg/base@x', c, 'docker 26.1.5, buildx 0.13.1 (docker driver)');
    assert.match(warning, /^2 of 3 base layers of reg\/base@x came out with other digests \(layer 2: sha256:2{64} became sha256:8{64}\): docker 26\.1\.5, buildx 0\.13\.1 \(docker driver\) rewrote them/);
    assert.match(warning, /moby\/buildkit#4805/);
  });
  test('a gzip base layer with another (zstd) digest is a rewrite too: compression: zstd never converts the base', () => {
    const c = compareBaseLayers(layers, [D('7'), D('8'), D('9'), D('a')]);
    assert.deepEqual(c, { kept: 0, rewritten: [{ index: 0, base: D('1'), output: D('7') }, { index: 1, base: D('2'), output: D('8') }, { index: 2, base: D('3'), output: D('9') }] });
    assert.match(rewrittenWarning('reg/base@x', c, 'docker 28.5.2'), /^3 of 3 base layers/);
    const zstdBase = [{ digest: D('1'), mediaType: zstd }];
    assert.deepEqual(compareBaseLayers(zstdBase, [D('1'), D('a')]), { kept: 1, rewritten: [] });
  });
});
