// Broken inputs give a clear error, never a verdict: corrupt blobs (on every read path),
// truncated archives, and files that are not images.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareImages } from '../../src/reproducibility/compare.js';
import { describeImage } from '../../src/reproducibility/describe.js';
import { ImageArchiveError } from '../../src/oci/bounds.js';
import { baseFiles, makeImage, requireTools, run, scratch, toDockerArchive, type BuiltImage } from '../fixtures/reproducibility/make-image.js';

let work: string;
let good: BuiltImage;
let other: BuiltImage;

before(() => {
  requireTools('tar', 'gzip', 'skopeo');
  work = scratch('repro-errors-');
  const big = { path: 'opt/big.bin', content: Buffer.from(Array.from({ length: 400_000 }, (_, i) => (i * 7919) % 251)) };
  good = makeImage(work, { layers: [{ files: baseFiles() }, { files: [big] }] });
  other = makeImage(work, { layers: [{ files: baseFiles() }, { files: [big, { path: 'opt/more', content: 'more' }] }] });
});

after(() => rmSync(work, { recursive: true, force: true }));

/** A copy of `file` with one byte flipped inside the bytes of `inside` (found by content). */
function flipInside(file: string, inside: Buffer, name: string): string {
  const bytes = Buffer.from(readFileSync(file));
  const probe = inside.subarray(Math.floor(inside.length / 2), Math.floor(inside.length / 2) + 64);
  const at = bytes.indexOf(probe);
  assert.ok(at > 0, 'the blob is in the archive');
  bytes[at + 10]! ^= 0x40;
  const out = join(work, name);
  writeFileSync(out, bytes);
  return out;
}

function lastNonZero(bytes: Buffer): number {
  let i = bytes.length - 1;
  while (i > 0 && bytes[i] === 0) i--;
  return i;
}

async function rejectsClearly(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: Error) => {
    assert.ok(error instanceof ImageArchiveError, `an ImageArchiveError, got ${error.constructor.name}: ${error.message}`);
    assert.match(error.message, pattern);
    return true;
  });
}

test('a flipped byte in a layer both sides share (verified in a worker) is an error', async () => {
  const layer = readFileSync(good.layers[0]!.blob);
  const bad = flipInside(good.archive, layer, 'flip-shared.tar');
  await rejectsClearly(compareImages(bad, good.archive), /layer sha256:[0-9a-f]{64} has digest sha256:[0-9a-f]{64} \(corrupt archive\)/);
  await rejectsClearly(compareImages(good.archive, bad), /corrupt archive/);
});

test('a flipped byte in a layer that is walked (diff_ids differ) is an error, not a file difference', async () => {
  const layer = readFileSync(good.layers[1]!.blob);
  const bad = flipInside(good.archive, layer, 'flip-walked.tar');
  await rejectsClearly(compareImages(bad, other.archive), /sha256:[0-9a-f]{64}/);
});

test('a flipped byte in the config blob is an error', async () => {
  const layoutBlobs = join(good.layout, 'blobs', 'sha256');
  const configName = readdirSync(layoutBlobs).find((n) => readFileSync(join(layoutBlobs, n), 'utf8').includes('"rootfs"'))!;
  const config = readFileSync(join(layoutBlobs, configName));
  const bytes = Buffer.from(readFileSync(good.archive));
  const at = bytes.indexOf(config);
  bytes[at + config.indexOf('amd64')]! ^= 0x01;
  writeFileSync(join(work, 'flip-config.tar'), bytes);
  await rejectsClearly(compareImages(join(work, 'flip-config.tar'), good.archive), /blob sha256:[0-9a-f]{64} has digest sha256:[0-9a-f]{64}/);
});

test('a corrupt layer in a docker-archive (uncompressed layers) and in a gzip\'ed one', async () => {
  const docker = toDockerArchive(work, good);
  const tarBytes = readFileSync(good.layers[1]!.tar);
  const bad = flipInside(docker, tarBytes, 'flip-docker.tar');
  await rejectsClearly(compareImages(bad, docker), /corrupt archive/);
  await rejectsClearly(compareImages(bad, toDockerArchive(work, other)), /sha256:/);
  const gz = join(work, 'flip-docker.tar.gz');
  run('sh', ['-c', `gzip -n -c ${bad} > ${gz}`]);
  await rejectsClearly(compareImages(gz, docker), /corrupt archive/);
});

test('a layer blob that does not decompress to its diff_id is an error', async () => {
  // Rewrite the config so that layer 1's diff_id is wrong, keeping every blob digest consistent.
  const layout = join(work, 'wrong-diffid');
  rmSync(layout, { recursive: true, force: true });
  run('cp', ['-r', other.layout, layout]);
  const blobs = join(layout, 'blobs', 'sha256');
  const put = (bytes: Buffer): string => {
    const hex = createHash('sha256').update(bytes).digest('hex');
    writeFileSync(join(blobs, hex), bytes);
    return `sha256:${hex}`;
  };
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
  const manifest = JSON.parse(readFileSync(join(blobs, index.manifests[0].digest.slice(7)), 'utf8'));
  const config = JSON.parse(readFileSync(join(blobs, manifest.config.digest.slice(7)), 'utf8'));
  config.rootfs.diff_ids[1] = `sha256:${'0'.repeat(64)}`;
  const configBytes = Buffer.from(JSON.stringify(config));
  manifest.config = { ...manifest.config, digest: put(configBytes), size: configBytes.length };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  index.manifests[0] = { ...index.manifests[0], digest: put(manifestBytes), size: manifestBytes.length };
  writeFileSync(join(layout, 'index.json'), JSON.stringify(index));
  await rejectsClearly(compareImages(layout, good.archive), /uncompresses to sha256:[0-9a-f]{64}, the config's diff_id is sha256:0{64}/);
});

test('a truncated archive is an error (cut inside a layer, inside a header, a truncated gzip)', async () => {
  const bytes = readFileSync(good.archive);
  for (const [name, length] of [['cut-layer.tar', Math.floor(lastNonZero(bytes) * 0.6)], ['cut-header.tar', 1024 + 100], ['cut-last-member.tar', lastNonZero(bytes) - 5]] as const) {
    const path = join(work, name);
    writeFileSync(path, bytes.subarray(0, length));
    await rejectsClearly(compareImages(path, good.archive), /truncated|lacks|not a readable image archive/);
  }
  const docker = toDockerArchive(work, good, true);
  const gz = readFileSync(docker);
  writeFileSync(join(work, 'cut.tar.gz'), gz.subarray(0, Math.floor(gz.length / 2)));
  await rejectsClearly(compareImages(join(work, 'cut.tar.gz'), good.archive), /not a readable image archive: unexpected end of file/);
});

test('things that are not images are errors', async () => {
  const noise = join(work, 'noise.bin');
  writeFileSync(noise, Buffer.alloc(4096, 0x5a));
  await rejectsClearly(compareImages(noise, good.archive), /not a readable image archive: bad tar header checksum/);

  const plainTar = join(work, 'plain.tar');
  mkdirSync(join(work, 'plain'), { recursive: true });
  writeFileSync(join(work, 'plain', 'hello.txt'), 'hello');
  run('tar', ['-cf', plainTar, '-C', join(work, 'plain'), 'hello.txt']);
  await rejectsClearly(compareImages(good.archive, plainTar), /neither an OCI archive \(index\.json\) nor a docker-archive \(manifest\.json\)/);

  writeFileSync(join(work, 'empty.tar'), '');
  await rejectsClearly(compareImages(join(work, 'empty.tar'), good.archive), /is empty/);
  await rejectsClearly(compareImages(join(work, 'missing.tar'), good.archive), /does not exist/);
  await rejectsClearly(compareImages(join(work, 'plain'), good.archive), /directory without index\.json/);

  mkdirSync(join(work, 'junk-layout'), { recursive: true });
  writeFileSync(join(work, 'junk-layout', 'index.json'), '{"manifests": [');
  await rejectsClearly(compareImages(join(work, 'junk-layout'), good.archive), /index\.json is not valid JSON/);

  run('sh', ['-c', `head -c 5000 /dev/zero | tr '\\0' 'q' | gzip -c > ${join(work, 'noise.gz')}`]);
  await rejectsClearly(compareImages(join(work, 'noise.gz'), good.archive), /not a readable image archive/);
  await rejectsClearly(describeImage(noise), /not a readable image archive/);
});

test('a blob missing from the archive, or with the wrong size', async () => {
  const layout = join(work, 'missing-blob');
  rmSync(layout, { recursive: true, force: true });
  run('cp', ['-r', good.layout, layout]);
  rmSync(join(layout, 'blobs', 'sha256', good.layers[1]!.digest.slice(7)));
  await rejectsClearly(compareImages(layout, good.archive), /lacks layer sha256:/);
  run('cp', [good.layers[0]!.blob, join(layout, 'blobs', 'sha256', good.layers[1]!.digest.slice(7))]);
  await rejectsClearly(compareImages(layout, good.archive), /is \d+ bytes, the manifest says \d+/);
});
