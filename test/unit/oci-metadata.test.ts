// Release metadata (issue 22): tag-from-ref's flavor (tag-prefix, tag-suffix, tag-sha-length) and
// the generated OCI labels/annotations, with the hostile values a ref or an environment can hold.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../src/action/inputs.js';
import { generatedOciMetadata, repositoryUrl, withOverrides } from '../../src/action/oci-metadata.js';
import { imageLabels } from '../../src/build-docker/build.js';
import { buildxBuildArgs } from '../../src/docker/buildx-args.js';
import { sha256Digest } from '../../src/oci/docker-archive.js';
import { parsePublishInputs } from '../../src/publish/inputs.js';
import { manifestAnnotations } from '../../src/publish/oci-annotations.js';
import { tagsFromRef, versionFromRef } from '../../src/registry/ref-tags.js';
import type { SourceImage } from '../../src/registry/source.js';

const sha = '0123456789abcdef0123456789abcdef01234567';
const get = (values: Record<string, string>) => (name: string) => values[name] ?? '';
const publishWith = (values: Record<string, string>, ref = 'refs/tags/v1.2.3') =>
  parsePublishInputs(get({ source: '/img.tar', image: '127.0.0.1:5000/acme/vllm', 'tag-from-ref': 'true', ...values }), { ref, sha, workspace: '/ws' });
const inputError = (input: string, pattern: RegExp) => (e: unknown) => e instanceof InputError && e.input === input && pattern.test(e.message);

describe('tag-from-ref with a flavor', () => {
  test('a suffix goes on every tag, latest included (metadata-action would need onlatest=true)', () => {
    assert.deepEqual(tagsFromRef('refs/tags/v1.2.3', sha, { prefix: '', suffix: '-gfx942', shaLength: 7 }), ['1.2.3-gfx942', '1.2-gfx942', '1-gfx942', 'latest-gfx942']);
    assert.deepEqual(tagsFromRef('refs/tags/v1.2.3', sha, { prefix: 'rocm-', suffix: '', shaLength: 7 }), ['rocm-1.2.3', 'rocm-1.2', 'rocm-1', 'rocm-latest']);
    assert.deepEqual(tagsFromRef('refs/tags/v1.3.0-rc.1', sha, { prefix: 'a', suffix: '.b', shaLength: 7 }), ['a1.3.0-rc.1.b']);
  });
  test('tag-sha-length sets the sha-<short> tag; longer than the commit id gives all of it', () => {
    assert.deepEqual(tagsFromRef('refs/heads/main', sha, { prefix: '', suffix: '-gfx1151', shaLength: 12 }), ['sha-0123456789ab-gfx1151']);
    assert.deepEqual(tagsFromRef('refs/heads/main', sha, { prefix: '', suffix: '', shaLength: 64 }), [`sha-${sha}`]);
    assert.deepEqual(publishWith({ 'tag-sha-length': '10' }, 'refs/heads/main').tags, ['sha-0123456789']);
  });
  test("the version is the first tag without the flavor", () => {
    assert.equal(versionFromRef('refs/tags/v2.0.1', sha), '2.0.1');
    assert.equal(versionFromRef('refs/pull/7/merge', sha), 'sha-0123456');
  });
  test('publish takes the flavor from its inputs and checks it before anything is read', () => {
    assert.deepEqual(publishWith({ 'tag-suffix': '-gfx1100', tags: 'edge' }).tags, ['edge', '1.2.3-gfx1100', '1.2-gfx1100', '1-gfx1100', 'latest-gfx1100']);
    assert.throws(() => publishWith({ 'tag-suffix': '-gfx 942' }), inputError('tag-suffix', /cannot end a tag/));
    assert.throws(() => publishWith({ 'tag-suffix': ':latest' }), inputError('tag-suffix', /cannot end a tag/));
    assert.throws(() => publishWith({ 'tag-suffix': '@sha256' }), inputError('tag-suffix', /cannot end a tag/));
    assert.throws(() => publishWith({ 'tag-prefix': '-gfx942' }), inputError('tag-prefix', /cannot start a tag/));
    assert.throws(() => publishWith({ 'tag-prefix': '../' }), inputError('tag-prefix', /cannot start a tag/));
    assert.throws(() => publishWith({ 'tag-suffix': `-${'x'.repeat(123)}` }), inputError('tag-from-ref', /with tag-prefix\/tag-suffix gives '1\.2\.3-x+', which is not a valid tag.*128/));
    assert.throws(() => publishWith({ 'tag-sha-length': '3' }), inputError('tag-sha-length', /4 to 64/));
    assert.throws(() => publishWith({ 'tag-sha-length': '65' }), inputError('tag-sha-length', /4 to 64/));
    assert.throws(() => publishWith({ 'tag-sha-length': '-1' }), inputError('tag-sha-length', /non-negative integer/));
    assert.throws(() => publishWith({ 'tag-from-ref': 'false', 'tag-suffix': '-gfx942' }), inputError('tag-suffix', /set tag-from-ref: true/));
  });
});

describe('generated OCI labels and annotations', () => {
  const context = { serverUrl: 'https://github.com', repository: 'acme/vllm-rocm', sha, ref: 'refs/tags/v1.2.3' };
  test('from the repository, the commit, the ref and SOURCE_DATE_EPOCH, sorted by key', () => {
    assert.deepEqual(generatedOciMetadata(context, new Date(0)), [
      ['org.opencontainers.image.created', '1970-01-01T00:00:00.000Z'],
      ['org.opencontainers.image.revision', sha],
      ['org.opencontainers.image.source', 'https://github.com/acme/vllm-rocm'],
      ['org.opencontainers.image.title', 'vllm-rocm'],
      ['org.opencontainers.image.url', 'https://github.com/acme/vllm-rocm'],
      ['org.opencontainers.image.version', '1.2.3'],
    ]);
    assert.equal(repositoryUrl({ serverUrl: 'https://ghe.example.com/', repository: 'a/b' }), 'https://ghe.example.com/a/b');
  });
  test('what the environment does not give plainly is left out, never written half', () => {
    assert.deepEqual(generatedOciMetadata({}, undefined), []);
    for (const repository of ['acme/vllm/../x', 'acme/..', '../x', 'acme', 'acme/vl lm', 'acme/x\nLABEL=y']) assert.equal(repositoryUrl({ repository }), undefined, repository);
    for (const serverUrl of ['https://user:pw@github.com', 'file:///etc', 'javascript:alert(1)', 'not a url', 'https://github.com/?q=1']) {
      assert.equal(repositoryUrl({ serverUrl, repository: 'a/b' }), undefined, serverUrl);
    }
    const keys = generatedOciMetadata({ sha: 'HEAD~1', ref: 'refs/heads/main' }, new Date(Number.NaN)).map(([k]) => k);
    assert.deepEqual(keys, []);
  });
  test('the user\'s lines override a generated key in its place and add the rest', () => {
    assert.deepEqual(withOverrides([['a', '1'], ['b', '2']], [['b', 'mine'], ['c', '3']]), [['a', '1'], ['b', 'mine'], ['c', '3']]);
  });
  test('build-docker labels the build with them (overridable, off with oci-labels: false) as buildx --label', () => {
    const env = { GITHUB_SERVER_URL: 'https://github.com', GITHUB_REPOSITORY: 'acme/vllm-rocm', GITHUB_SHA: sha, GITHUB_REF: 'refs/heads/main' };
    const labels = imageLabels({ labels: [['org.opencontainers.image.title', 'mine'], ['x', 'y']], ociLabels: true }, 1700000000, env);
    const args = buildxBuildArgs({ context: '/ctx', file: '/ctx/Dockerfile', buildArgs: [], platform: 'linux/amd64', tags: [], labels, cache: { type: 'none' }, output: { type: 'oci', dest: '/o.tar' }, sourceDateEpoch: 1700000000, metadataFile: '/m.json', provenance: false, sbom: false, rewriteTimestamp: true });
    const given = args.flatMap((a, i) => (a === '--label' ? [args[i + 1]] : []));
    assert.deepEqual(given, [
      'org.opencontainers.image.created=2023-11-14T22:13:20.000Z',
      `org.opencontainers.image.revision=${sha}`,
      'org.opencontainers.image.source=https://github.com/acme/vllm-rocm',
      'org.opencontainers.image.title=mine',
      'org.opencontainers.image.url=https://github.com/acme/vllm-rocm',
      'org.opencontainers.image.version=sha-0123456',
      'x=y',
    ]);
    assert.deepEqual(imageLabels({ labels: [['x', 'y']], ociLabels: false }, 0, env), [['x', 'y']]);
  });
  test("publish's annotations take created from the image's config; the annotations input wins", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'h-meta-unit-'));
    const config = Buffer.from(JSON.stringify({ created: '1970-01-01T00:00:01Z', architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
    // The config as a member of an archive read in place: a byte range of a bigger file.
    writeFileSync(join(dir, 'archive'), Buffer.concat([Buffer.alloc(512, 7), config, Buffer.alloc(100, 9)]));
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256Digest(config), size: config.length }, layers: [] }));
    const image: SourceImage = {
      kind: 'oci-archive',
      label: 'test',
      manifests: [{ digest: sha256Digest(manifest), mediaType: 'application/vnd.oci.image.manifest.v1+json', bytes: manifest }],
      blobs: [{ digest: sha256Digest(config), size: config.length, mediaType: 'application/vnd.oci.image.config.v1+json', file: { path: join(dir, 'archive'), offset: 512, length: config.length } }],
    };
    const env = { GITHUB_REPOSITORY: 'acme/vllm-rocm', GITHUB_SHA: sha, GITHUB_REF: 'refs/tags/v1.2.3' };
    const annotations = new Map(await manifestAnnotations({ annotations: [['org.opencontainers.image.version', '1.2.3-gfx942']], ociAnnotations: true }, image, env));
    assert.equal(annotations.get('org.opencontainers.image.created'), '1970-01-01T00:00:01.000Z');
    assert.equal(annotations.get('org.opencontainers.image.version'), '1.2.3-gfx942');
    assert.equal(annotations.get('org.opencontainers.image.source'), 'https://github.com/acme/vllm-rocm');
    assert.deepEqual(await manifestAnnotations({ annotations: [['a', 'b']], ociAnnotations: false }, image, env), [['a', 'b']]);
  });
});

test("tag-sha-length's default from action.yml ('7') is fine without tag-from-ref", () => {
  assert.deepEqual(publishWith({ 'tag-from-ref': 'false', tags: 'v2', 'tag-sha-length': '7' }).tags, ['v2']);
});
