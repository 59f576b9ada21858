// Docker builds of the verify stage: an OCI image layout each (the comparison reads a layout in
// place), from build-docker's own build; build B's layout shares build A's identical blobs.
import * as core from '@actions/core';
import { logInfo } from '../action/log.js';
import { join } from 'node:path';
import { buildImage, preflight, type Preflight } from '../build-docker/build.js';
import type { BuildDockerInputs } from '../build-docker/inputs.js';
import { imageDiskNeed } from '../build-docker/disk-need.js';
import { rebuildDiskNeed, sharedRebuildDiskNeed } from './discard.js';
import { isDirectory } from '../tool/disk.js';
import type { LayoutFromTarStats } from '../oci/layout-from-tar.js';
import { formatBytes } from '../tool/free-disk.js';
import { requireFreeDisk } from '../tool/free-disk.js';

/**
 * One build into the layout directory `<work>/<name>.oci`, with no cache import or export. With
 * `reuse` (build A's layout) only the blobs A lacks are written; the others are links to A's.
 */
export async function buildDockerLayout(inputs: BuildDockerInputs, work: string, name: string, noCache = false, checked?: Preflight, reuse?: string): Promise<{ layout: string; reused?: LayoutFromTarStats }> {
  const { epoch, rewriteTimestamp } = checked ?? (await preflight(inputs));
  const image = await buildImage(inputs, {
    cache: { type: 'none' },
    output: { type: 'oci-layout', dest: join(work, `${name}.oci`) },
    sourceDateEpoch: epoch.value,
    rewriteTimestamp,
    metadataFile: join(work, `${name}.metadata.json`),
    noCache,
    reuse,
  });
  return { layout: image.layout!, reused: image.reused };
}

/**
 * Two builds on this runner, same SOURCE_DATE_EPOCH. The second is cold and independent: no cache
 * backend (no --cache-from, no --cache-to) and --no-cache, so BuildKit reuses none of the first
 * build's steps (only the base image, an input, is shared). With `given` (archive-a: the image the
 * build stage already wrote, e.g. the pipeline's layout), that image is A and only B is built:
 * one copy less on disk and one build less, and what is verified is the image later published.
 */
export async function rebuildDocker(inputs: BuildDockerInputs, work: string, given?: string): Promise<{ a: string; b: string; rebuildSeconds: number; reused?: string }> {
  // Checked once: its warnings (unused or secret-like build args) are said once.
  const checked = await preflight(inputs);
  logInfo(`SOURCE_DATE_EPOCH=${checked.epoch.value} (${checked.epoch.source})`);
  let a = given;
  if (a === undefined) {
    await requireFreeDisk('verify-reproducibility', work, await imageDiskNeed({ type: 'none' }), "build A's image");
    a = (await core.group('build A', () => buildDockerLayout(inputs, work, 'a', false, checked))).layout;
  } else {
    logInfo(`Build A: ${a} (archive-a), the image already built; only the rebuild runs.`);
  }
  // A layout A (the pipeline's, or verify's own): B shares its identical blobs, written once.
  const reuse = (await isDirectory(a)) ? a : undefined;
  await requireFreeDisk('verify-reproducibility', work, reuse ? await sharedRebuildDiskNeed(reuse) : await rebuildDiskNeed(a), "build B's image (the rebuild)");
  const started = performance.now();
  const b = await core.group('build B (--no-cache)', () => buildDockerLayout(inputs, work, 'b', true, checked, reuse));
  const rebuildSeconds = (performance.now() - started) / 1000;
  const reused = b.reused ? reusedText(b.reused) : undefined;
  if (reused) logInfo(reused);
  return { a, b: b.layout, rebuildSeconds, reused };
}

/** "build B: N of M blobs identical to build A's (linked), K written (X MiB)". */
export function reusedText(stats: LayoutFromTarStats): string {
  const copied = stats.copied > 0 ? `; ${stats.copied} of them copied, build A's layout being on another file system` : '';
  return `build B: ${stats.linked} of ${stats.blobs} blobs identical to build A's (linked${copied}), ${stats.written} written (${formatBytes(stats.writtenBytes)}).`;
}
