// The comparison engine on real images: layers written by GNU tar, compressed by gzip, packed as
// OCI archives (and converted to docker-archives by skopeo).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareImages } from '../../src/reproducibility/compare.js';
import { findBuildId } from '../../src/reproducibility/layer-walk.js';
import type { ComparisonReport, Difference } from '../../src/reproducibility/types.js';
import { baseFiles, combine, EPOCH, makeImage, requireTools, scratch, toDockerArchive, type FileSpec } from '../fixtures/reproducibility/make-image.js';
import { fixture } from '../support/fixtures.js';
import { BUSYBOX } from '../support/workspace.js';

let work: string;

before(() => {
  requireTools('tar', 'gzip', 'skopeo', 'zstd');
  if (!existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} is missing: scripts/setup-toolchain.sh installs busybox-static`);
  work = scratch();
});

after(() => rmSync(work, { recursive: true, force: true }));

function subdir(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

const files = (r: ComparisonReport): Difference[] => r.differences.filter((d) => d.where === 'file');
const kinds = (r: ComparisonReport): string[] => [...new Set(r.differences.map((d) => d.kind))].sort();
const sha = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex');

describe('verdicts on OCI archives written with tar and gzip', () => {
  test('two builds of the same content are reproducible, every blob checked', async () => {
    const spec = { layers: [{ files: baseFiles() }, { files: [{ path: 'opt/app/extra.bin', content: Buffer.alloc(300_000, 7) }] }] };
    const a = makeImage(work, spec);
    const b = makeImage(work, spec);
    assert.notEqual(a.archive, b.archive);
    const report = await compareImages(a.archive, b.archive);
    assert.equal(report.reproducible, true);
    assert.equal(report.contentReproducible, true);
    assert.equal(report.digestA, a.manifestDigest);
    assert.equal(report.digestB, a.manifestDigest);
    assert.deepEqual(report.differences, []);
    assert.equal(report.counts.total, 0);
    assert.equal(report.stats.blobsVerified, 4, 'two layers on each side');
    assert.ok(report.stats.bytesRead >= 2 * a.layers.reduce((n, l) => n + readFileSync(l.blob).length, 0));
    const ladder = report.ladder.platforms[0]!;
    assert.equal(ladder.platform, 'linux/amd64');
    assert.ok(ladder.manifest.equal && ladder.config.equal);
    assert.deepEqual(ladder.layers.map((l) => l.status), ['equal', 'equal']);
    assert.equal(ladder.layers[0]!.a!.diffId, a.layers[0]!.diffId);
    // The layout directory and the archive packed from it are the same image.
    const layoutVsArchive = await compareImages(a.layout, b.archive);
    assert.equal(layoutVsArchive.reproducible, true);
    assert.equal(layoutVsArchive.a.kind, 'oci-layout');
  });

  test('a file with random content is named, with both content sha256', async () => {
    const randomA = randomBytes(64);
    const randomB = randomBytes(64);
    const layer = (random: Buffer): FileSpec[] => [...baseFiles(), { path: 'opt/app/build-id.bin', content: random }];
    const a = makeImage(work, { layers: [{ files: baseFiles() }, { files: layer(randomA) }] });
    const b = makeImage(work, { layers: [{ files: baseFiles() }, { files: layer(randomB) }] });
    const report = await compareImages(a.archive, b.archive);
    assert.equal(report.reproducible, false);
    assert.equal(report.contentReproducible, false);
    assert.deepEqual(report.ladder.platforms[0]!.layers.map((l) => l.status), ['equal', 'differs']);
    const diffs = files(report);
    assert.equal(diffs.length, 1);
    const d = diffs[0]!;
    assert.equal(d.path, 'opt/app/build-id.bin');
    assert.equal(d.kind, 'content');
    assert.equal(d.field, 'content sha256');
    assert.equal(d.a, sha(randomA));
    assert.equal(d.b, sha(randomB));
    assert.equal(d.layer!.index, 1);
    assert.match(d.cause, /opt\/app\/build-id\.bin/);
    assert.match(d.fix, /step that writes `opt\/app\/build-id\.bin`/);
    assert.equal(report.ladder.platforms[0]!.layers[1]!.filesCompared, 11);
    assert.equal(report.counts.filesDiffering, 1);
    // The config differs only by the diff_id of the changed layer, which the ladder shows.
    assert.deepEqual(report.differences.filter((x) => x.where === 'config'), []);
  });

  test('mtimes that differ (no clamping) are reported with the SOURCE_DATE_EPOCH fix', async () => {
    const withTimes = (t: number): FileSpec[] => baseFiles().map((f) => (f.symlink ? f : { ...f, mtime: t }));
    const a = makeImage(work, { layers: [{ files: withTimes(EPOCH), mtime: null }] });
    const b = makeImage(work, { layers: [{ files: withTimes(EPOCH + 3600), mtime: null }] });
    const report = await compareImages(a.archive, b.archive);
    assert.equal(report.reproducible, false);
    const diffs = files(report);
    assert.deepEqual(diffs.map((d) => d.path).sort(), ['etc/os-release', 'opt/app/data.txt', 'opt/app/main.py', 'usr/bin/tool']);
    for (const d of diffs) {
      assert.equal(d.kind, 'mtime');
      assert.equal(d.a, EPOCH);
      assert.equal(d.b, EPOCH + 3600);
      assert.match(d.fix, /SOURCE_DATE_EPOCH/);
      assert.match(d.fix, /rewrite-timestamp=true/);
    }
    assert.equal(report.causes[0]!.kind, 'mtime');
  });

  test('the same entries in another order are reported as file order, nothing else', async () => {
    const many: FileSpec[] = Array.from({ length: 40 }, (_, i) => ({ path: `srv/f${String(i).padStart(2, '0')}`, content: `file ${i}\n` }));
    const a = makeImage(work, { layers: [{ files: many }] });
    const b = makeImage(work, { layers: [{ files: [...many].reverse(), keepOrder: true }] });
    const report = await compareImages(a.archive, b.archive);
    assert.equal(report.reproducible, false);
    assert.deepEqual(kinds(report), ['file-order']);
    const order = report.differences[0]!;
    assert.equal(order.where, 'layer');
    assert.equal(order.field, 'file order');
    assert.match(order.fix, /--sort=name/);
    assert.equal(report.ladder.platforms[0]!.layers[0]!.fileOrderDiffers, true);
    assert.equal(report.counts.filesCompared, 41);
    assert.equal(report.counts.filesDiffering, 0);
  });

  test('an added file in the middle is "only in B", not a file-order difference', async () => {
    const many: FileSpec[] = Array.from({ length: 20 }, (_, i) => ({ path: `srv/f${String(i).padStart(2, '0')}`, content: `file ${i}\n` }));
    const a = makeImage(work, { layers: [{ files: many }] });
    const b = makeImage(work, { layers: [{ files: [...many, { path: 'srv/f10a', content: 'new\n' }] }] });
    const report = await compareImages(a.archive, b.archive);
    assert.deepEqual(kinds(report), ['only-in-b']);
    assert.equal(report.differences[0]!.path, 'srv/f10a');
  });

  test('gzip -1 vs gzip -9 of the same tar is "compression only", diff_ids equal', async () => {
    const content: FileSpec[] = [...baseFiles(), { path: 'opt/app/text.txt', content: 'lorem ipsum dolor sit amet '.repeat(20000) }];
    const a = makeImage(work, { layers: [{ files: content, gzip: 1 }] });
    const b = makeImage(work, { layers: [{ files: content, gzip: 9 }] });
    assert.equal(a.layers[0]!.diffId, b.layers[0]!.diffId);
    assert.notEqual(a.layers[0]!.digest, b.layers[0]!.digest);
    const report = await compareImages(a.archive, b.archive);
    assert.equal(report.reproducible, false);
    assert.equal(report.contentReproducible, true);
    const rung = report.ladder.platforms[0]!.layers[0]!;
    assert.equal(rung.status, 'compression-only');
    assert.equal(rung.a!.diffId, rung.b!.diffId);
    assert.deepEqual(kinds(report), ['compression']);
    assert.match(report.differences[0]!.cause, /compression only/);
    assert.match(report.differences[0]!.fix, /same compressor and level/);
    assert.equal(report.stats.bytesWalked, 0, 'compression-only layers are hashed, not decompressed');
    assert.equal(report.stats.blobsVerified, 2);
  });

  test('uid/gid differences', async () => {
    const a = makeImage(work, { layers: [{ files: baseFiles() }] });
    const b = makeImage(work, { layers: [{ files: baseFiles(), owner: { uid: 1000, gid: 1000 } }] });
    const report = await compareImages(a.archive, b.archive);
    const diffs = files(report);
    assert.ok(diffs.length >= 5);
    assert.ok(diffs.every((d) => d.kind === 'uid-gid' && d.a === '0:0' && d.b === '1000:1000'));
    assert.match(diffs[0]!.fix, /--owner=0 --group=0 --numeric-owner/);
  });

  test('a changed label and config.created are named field by field', async () => {
    const layers = [{ files: baseFiles() }];
    const a = makeImage(work, { layers, labels: { 'org.opencontainers.image.revision': 'aaaa', keep: 'same' } });
    const b = makeImage(work, { layers, labels: { 'org.opencontainers.image.revision': 'bbbb', keep: 'same' }, created: '2025-01-02T03:04:05Z' });
    const report = await compareImages(a.archive, b.archive);
    const config = report.differences.filter((d) => d.where === 'config');
    // One of each: ordered by cause (created, history, then other config fields).
    assert.deepEqual(
      config.map((d) => [d.field, d.kind]),
      [
        ['created', 'config-created'],
        ['history[0].created', 'history-created'],
        ['config.Labels.org.opencontainers.image.revision', 'config-field'],
      ],
    );
    assert.equal(config[0]!.b, '2025-01-02T03:04:05Z');
    assert.match(config[0]!.fix, /SOURCE_DATE_EPOCH/);
    assert.equal(config[2]!.a, 'aaaa');
    assert.equal(report.ladder.platforms[0]!.config.equal, false);
    assert.deepEqual(report.ladder.platforms[0]!.layers.map((l) => l.status), ['equal']);
    assert.equal(files(report).length, 0);
  });

  test('an attestation manifest on one side is reported, the image content is still equal', async () => {
    const layers = [{ files: baseFiles() }];
    const a = makeImage(work, { layers });
    const b = makeImage(work, { layers, attestation: '2025-06-01T00:00:00Z' });
    const report = await compareImages(a.archive, b.archive);
    assert.equal(report.reproducible, false);
    assert.equal(report.contentReproducible, true);
    assert.equal(report.digestB, b.topDigest);
    assert.notEqual(report.digestB, b.manifestDigest);
    assert.deepEqual(kinds(report), ['attestation']);
    const d = report.differences[0]!;
    assert.equal(d.where, 'index');
    assert.equal(d.a, null);
    assert.match(String(d.b), /^sha256:/);
    assert.match(d.fix, /provenance=false/);
    assert.equal(report.ladder.platforms[0]!.manifest.equal, true);
    assert.deepEqual(report.ladder.attestations.b[0]!.predicateTypes, ['https://slsa.dev/provenance/v0.2']);
    // Two attestations that differ (build times): reported, not compared as content.
    const c = makeImage(work, { layers, attestation: '2025-06-02T00:00:00Z' });
    const both = await compareImages(b.archive, c.archive);
    assert.deepEqual(kinds(both), ['attestation']);
    assert.equal(both.contentReproducible, true);
  });

  test('.pyc files compiled from sources with different mtimes: the pyc timestamp cause', async () => {
    // A real pyc (see test/fixtures/reproducibility/README.md); recompiling after the source's
    // mtime changed writes the new mtime into header bytes 8..12 and nothing else.
    const pycA = fixture('reproducibility', 'mod.cpython-311.pyc');
    const later = Buffer.from(readFileSync(pycA));
    assert.equal(later.readUInt32LE(8), EPOCH);
    later.writeUInt32LE(EPOCH + 99, 8);
    const pycB = join(subdir('pyc'), 'mod.cpython-311.pyc');
    writeFileSync(pycB, later);
    const a = makeImage(work, { layers: [{ files: [{ path: 'app/__pycache__/mod.cpython-311.pyc', from: pycA }] }] });
    const b = makeImage(work, { layers: [{ files: [{ path: 'app/__pycache__/mod.cpython-311.pyc', from: pycB }] }] });
    const report = await compareImages(a.archive, b.archive);
    const [d] = files(report);
    assert.equal(d!.kind, 'pyc-timestamp');
    assert.equal(d!.a, EPOCH);
    assert.equal(d!.b, EPOCH + 99);
    assert.match(d!.fix, /PYTHONHASHSEED=0/);
    assert.match(d!.fix, /checked-hash/);
    // A change in the code itself is not a timestamp difference.
    const recompiled = Buffer.from(readFileSync(pycA));
    recompiled[recompiled.length - 3]! ^= 0x01;
    writeFileSync(pycB, recompiled);
    const c = makeImage(work, { layers: [{ files: [{ path: 'app/__pycache__/mod.cpython-311.pyc', from: pycB }] }] });
    assert.equal(files(await compareImages(a.archive, c.archive))[0]!.kind, 'pyc-content');
  });

  test('ELF binaries that differ only in their GNU build ID (busybox with another id)', async () => {
    const original = readFileSync(BUSYBOX);
    const note = findBuildId(original.subarray(0, 64 << 10))!;
    assert.ok(note, 'busybox-static carries a build-id note');
    const idA = original.subarray(note.offset, note.offset + note.length).toString('hex');
    const other = Buffer.from(original);
    other.fill(0xbb, note.offset, note.offset + note.length);
    const patched = join(subdir('elf'), 'busybox');
    writeFileSync(patched, other);
    const a = makeImage(work, { layers: [{ files: [{ path: 'bin/busybox', from: BUSYBOX, mode: 0o755 }] }] });
    const b = makeImage(work, { layers: [{ files: [{ path: 'bin/busybox', from: patched, mode: 0o755 }] }] });
    const report = await compareImages(a.archive, b.archive);
    const [d] = files(report);
    assert.equal(d!.kind, 'elf-build-id');
    assert.equal(d!.a, idA);
    assert.equal(d!.b, 'bb'.repeat(note.length));
    assert.match(d!.fix, /--build-id=none/);
    // Without artifact detection it is plain content.
    const plain = await compareImages(a.archive, b.archive, { detectArtifacts: false });
    assert.equal(files(plain)[0]!.kind, 'content');
  });

  test('zstd layers: walked when they differ, "compression only" against gzip of the same tar', async () => {
    const a = makeImage(work, { layers: [{ files: baseFiles(), gzip: 'zstd' }] });
    const b = makeImage(work, { layers: [{ files: [...baseFiles(), { path: 'etc/zstd', content: 'z' }], gzip: 'zstd' }] });
    const report = await compareImages(a.archive, b.archive);
    assert.deepEqual(files(report).map((d) => [d.path, d.kind]), [['etc/zstd', 'only-in-b']]);
    const gz = makeImage(work, { layers: [{ files: baseFiles() }] });
    const mixed = await compareImages(a.archive, gz.archive);
    assert.equal(mixed.contentReproducible, true);
    assert.deepEqual(kinds(mixed), ['layer-encoding']);
  });

  test('an uncompressed layer and a symlink change', async () => {
    const a = makeImage(work, { layers: [{ files: baseFiles(), gzip: 'none' }] });
    const changed = baseFiles().map((f) => (f.symlink ? { ...f, symlink: 'data.txt' } : f));
    const b = makeImage(work, { layers: [{ files: changed, gzip: 'none' }] });
    const report = await compareImages(a.archive, b.archive);
    const [d] = files(report);
    assert.equal(d!.kind, 'link-target');
    assert.equal(d!.path, 'opt/app/link');
    assert.equal(d!.a, 'main.py');
    assert.equal(d!.b, 'data.txt');
  });

  test('a layer added on one side: layer count and "only in B"', async () => {
    const a = makeImage(work, { layers: [{ files: baseFiles() }] });
    const b = makeImage(work, { layers: [{ files: baseFiles() }, { files: [{ path: 'extra', content: 'x' }] }] });
    const report = await compareImages(a.archive, b.archive);
    assert.deepEqual(report.ladder.platforms[0]!.layers.map((l) => l.status), ['equal', 'only-in-b']);
    assert.ok(report.differences.some((d) => d.kind === 'layer-count' && d.a === 1 && d.b === 2));
  });
});

describe('docker-archives', () => {
  test('a docker-archive (skopeo) and the OCI archive of the same image: same content, layer encoding differs', async () => {
    const image = makeImage(work, { layers: [{ files: baseFiles() }, { files: [{ path: 'opt/x', content: 'x' }] }] });
    const docker = toDockerArchive(work, image);
    const report = await compareImages(docker, image.archive);
    assert.equal(report.a.kind, 'docker-archive');
    assert.equal(report.contentReproducible, true);
    assert.equal(report.ladder.platforms[0]!.config.equal, true);
    assert.deepEqual(report.ladder.platforms[0]!.layers.map((l) => l.status), ['compression-only', 'compression-only']);
    assert.ok(kinds(report).every((k) => k === 'layer-encoding' || k === 'manifest-field'), kinds(report).join());
    assert.equal(report.differences.filter((d) => d.kind === 'layer-encoding').length, 2);
    assert.equal(files(report).length, 0);
    // A docker-archive against itself, and gzip'ed against plain: reproducible.
    const self = await compareImages(docker, docker);
    assert.equal(self.reproducible, true);
    const gz = toDockerArchive(work, image, true);
    const plainVsGz = await compareImages(docker, gz);
    assert.equal(plainVsGz.reproducible, true);
    assert.equal(plainVsGz.stats.blobsVerified, 4);
  });

  test('a gzip\'ed docker-archive whose layer differs from an OCI archive is walked', async () => {
    const a = makeImage(work, { layers: [{ files: baseFiles() }] });
    const b = makeImage(work, { layers: [{ files: [...baseFiles(), { path: 'opt/app/new.txt', content: 'new' }] }] });
    const report = await compareImages(toDockerArchive(work, a, true), b.archive);
    assert.deepEqual(files(report).map((d) => [d.path, d.kind]), [['opt/app/new.txt', 'only-in-b']]);
  });
});

describe('multi-platform images', () => {
  test('platforms are paired; a difference on one platform is named with it; --platform narrows the verdict', async () => {
    const amd = makeImage(work, { layers: [{ files: baseFiles() }] });
    const arm = makeImage(work, { layers: [{ files: baseFiles() }], arch: 'arm64' });
    const armChanged = makeImage(work, { layers: [{ files: [...baseFiles(), { path: 'etc/arch', content: 'arm64' }] }], arch: 'arm64' });
    const a = combine(work, [amd, arm]);
    const b = combine(work, [amd, armChanged]);
    const report = await compareImages(a.archive, b.archive);
    assert.equal(report.reproducible, false);
    assert.equal(report.digestA, a.topDigest);
    assert.deepEqual(report.ladder.platforms.map((p) => [p.platform, p.manifest.equal]), [['linux/amd64', true], ['linux/arm64', false]]);
    const files = report.differences.filter((d) => d.where === 'file');
    assert.deepEqual(files.map((d) => [d.platform, d.path, d.kind]), [['linux/arm64', 'etc/arch', 'only-in-b']]);

    const amdOnly = await compareImages(a.archive, b.archive, { platform: 'linux/amd64' });
    assert.equal(amdOnly.reproducible, true);
    assert.equal(amdOnly.digestA, amd.manifestDigest);
    assert.equal(amdOnly.ladder.platforms.length, 1);
    await assert.rejects(compareImages(a.archive, b.archive, { platform: 'linux/s390x' }), /has no image for platform linux\/s390x/);

    // One platform missing on a side.
    const partial = await compareImages(a.archive, combine(work, [amd]).archive);
    assert.ok(partial.differences.some((d) => d.kind === 'platforms' && d.field === 'platform linux/arm64' && d.b === null));
    assert.equal(partial.contentReproducible, false);
  });
});

describe('layouts and copies', () => {
  test('an archive compared with a byte copy of itself', async () => {
    const a = makeImage(work, { layers: [{ files: baseFiles() }] });
    const copy = join(work, 'copy.tar');
    copyFileSync(a.archive, copy);
    const report = await compareImages(a.archive, copy);
    assert.equal(report.reproducible, true);
  });
});
