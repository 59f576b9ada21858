import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diskShortage, distinctFileSystems, formatBytes, freeBytes, PeakTracker, peakDiskText } from '../../src/tool/free-disk.js';
import { discardImages, isUnder } from '../../src/verify-reproducibility/discard.js';
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
