import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile, stat, symlink, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diskShortage, distinctFileSystems, formatBytes, freeBytes, PeakTracker, peakDiskText } from '../../src/tool/free-disk.js';
import { discardImages, isUnder, rebuildDiskNeed, sharedRebuildDiskNeed } from '../../src/verify-reproducibility/discard.js';
import { peakDiskRow, savedPeakDisk } from '../../src/action/job-time.js';

test('formatBytes: binary units with one decimal, bytes whole', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(1023), '1023 B');
  assert.equal(formatBytes(1024), '1.0 KiB');
  assert.equal(formatBytes(312 * 1024 ** 2), '312.0 MiB');
  assert.equal(formatBytes(7.9 * 1024 ** 3), '7.9 GiB');
  assert.equal(formatBytes(3 * 1024 ** 4), '3.0 TiB');
  assert.equal(formatBytes(Number.NaN), '0 B');
});

test('diskShortage: names the stage, the need, the place, what it is for, what is free and the basis', () => {
  const need = { bytes: Math.round(7.9 * 1024 ** 3), basis: 'the restored BuildKit cache' };
  assert.equal(
    diskShortage('build-docker', '/home/runner/work/_temp', need, 'the OCI archive', Math.round(3.1 * 1024 ** 3)),
    'build-docker needs about 7.9 GiB free under /home/runner/work/_temp for the OCI archive, 3.1 GiB is free (the estimate: the restored BuildKit cache).',
  );
  assert.equal(diskShortage('build-docker', '/t', need, 'x', need.bytes), undefined);
});

test('PeakTracker: the largest drop of each file system from the first sample, summed', () => {
  const t = new PeakTracker();
  t.add(new Map([[1, 100], [2, 1000]]));
  t.add(new Map([[1, 90], [2, 1000]])); // 10 + 0
  t.add(new Map([[1, 60], [2, 990]])); // 40 + 10
  t.add(new Map([[1, 100], [2, 970]])); // freed on 1; 30 on 2
  t.add(new Map([[1, 80], [3, 5]])); // an unknown device counts nothing
  assert.equal(t.peakBytes, 40 + 30);
});

test('PeakTracker: space freed on one disk (another process) hides nothing written on another', () => {
  const t = new PeakTracker();
  t.add(new Map([[1, 100], [2, 1000]]));
  t.add(new Map([[1, 50], [2, 1900]]));
  assert.equal(t.peakBytes, 50);
});

test('PeakTracker: more free than at the start is no negative peak', () => {
  const t = new PeakTracker();
  t.add(new Map([[1, 100]]));
  t.add(new Map([[1, 150]]));
  assert.equal(t.peakBytes, 0);
});

test('distinctFileSystems: one path per device, missing paths by their nearest existing ancestor', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'free-disk-'));
  try {
    const found = await distinctFileSystems([dir, join(dir, 'not', 'yet'), tmpdir()]);
    assert.equal(found.length, 1);
    assert.equal(found[0]!.dev, (await stat(dir)).dev);
    assert.ok((await freeBytes(join(dir, 'not', 'yet'))) > 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('peakDiskText: the peak against the compressed size, or the peak alone', () => {
  assert.equal(peakDiskText(3 * 1024 ** 3, 2 * 1024 ** 3), "3.0 GiB (1.50× the image's compressed size, 2.0 GiB)");
  assert.equal(peakDiskText(1024 ** 2, undefined), '1.0 MiB');
  assert.deepEqual(peakDiskRow({ peakBytes: 1024 ** 2, imageBytes: 1024 ** 2 }), ['peak extra disk', "1.0 MiB (1.00× the image's compressed size, 1.0 MiB)"]);
});

test('savedPeakDisk: byte counts only; anything forged through state is refused', () => {
  assert.deepEqual(savedPeakDisk('{"peakBytes":5,"imageBytes":7}'), { peakBytes: 5, imageBytes: 7 });
  assert.deepEqual(savedPeakDisk('{"peakBytes":5}'), { peakBytes: 5, imageBytes: undefined });
  for (const forged of ['[]', 'x', '{"peakBytes":-1}', '{"peakBytes":1.5}', '{"peakBytes":"5"}', '{"peakBytes":5,"imageBytes":"<b>"}', '{"peakBytes":5,"note":"| x |"}', `{"peakBytes":${2 ** 60}}`]) {
    assert.equal(savedPeakDisk(forged), undefined, forged);
  }
});

test('discardImages: removes only what verify wrote under its work directory', async () => {
  const root = await mkdtemp(join(tmpdir(), 'discard-'));
  try {
    const work = join(root, 'work');
    await mkdir(join(work, 'b.oci'), { recursive: true });
    await writeFile(join(work, 'a.oci.tar'), 'a');
    await writeFile(join(work, 'b.oci', 'index.json'), '{}');
    await writeFile(join(root, 'given.tar'), 'given');
    const removed = await discardImages(work, [join(work, 'a.oci.tar'), join(work, 'b.oci'), join(root, 'given.tar'), '/nix/store/x', work, join(work, '..', 'given.tar')]);
    assert.deepEqual(removed, [join(work, 'a.oci.tar'), join(work, 'b.oci')]);
    assert.equal(await stat(join(root, 'given.tar')).then(() => true, () => false), true);
    assert.equal(await stat(join(work, 'a.oci.tar')).then(() => true, () => false), false);
    assert.equal(isUnder('/w', '/w2/x'), false);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('sharedRebuildDiskNeed: build B beside a layout A needs a floor (A\'s largest blob, at least 1 GiB), said as such; the full size stays for anything else', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'shared-need-'));
  const layout = join(dir, 'a.oci');
  const blobs = join(layout, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  await writeFile(join(layout, 'index.json'), '{}');
  // Sparse files: their apparent size is what the layout's size counts.
  for (const [hex, bytes] of [['1'.repeat(64), 3 * 1024 ** 3], ['2'.repeat(64), 1.5 * 1024 ** 3]] as const) {
    await writeFile(join(blobs, hex), '');
    await truncate(join(blobs, hex), bytes);
  }
  // A symlink is no blob of A's (B never links through one), however big its target.
  await symlink('/dev/zero', join(blobs, '3'.repeat(64)));
  const need = await sharedRebuildDiskNeed(layout);
  assert.equal(need.bytes, 3 * 1024 ** 3);
  assert.equal(
    need.basis,
    "a floor: build B writes only the blobs that differ from build A's and links the rest; this is build A's largest blob, 3.0 GiB (at least 1.0 GiB); a rebuild that reproduces nothing needs build A's whole size, 4.5 GiB",
  );
  assert.ok((await rebuildDiskNeed(layout)).bytes > 4.5 * 1024 ** 3, 'the full-size need is unchanged');
  // A small image: never more than A's whole size.
  await rm(join(blobs, '1'.repeat(64)));
  await truncate(join(blobs, '2'.repeat(64)), 1000);
  assert.equal((await sharedRebuildDiskNeed(layout)).bytes, (await rebuildDiskNeed(layout)).bytes);
  await rm(dir, { recursive: true, force: true });
});
