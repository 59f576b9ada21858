// Verify's disk: the rebuild needs about the first image's size again (beside a layout A, only the
// blobs that differ from A's), and once the two images are compared nothing later reads them (the report is what the later stages take), so they go at once.
import { lstat, readdir, rm, stat } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import { directorySize } from '../tool/disk.js';
import { DISK_FLOOR_BYTES, formatBytes, type DiskNeed } from '../tool/free-disk.js';

/** Build B needs about what build A wrote. */
export async function rebuildDiskNeed(first: string): Promise<DiskNeed> {
  const info = await stat(first);
  const bytes = info.isDirectory() ? await directorySize(first) : info.size;
  return { bytes, basis: `the size of build A's image, ${formatBytes(bytes)}` };
}

/**
 * Build B written beside a layout A (src/oci/layout-from-tar.ts) needs only the blobs that differ
 * from A's, unknown before it is built: a floor of A's largest blob (the one that differs most
 * often is the layer the build adds), at least DISK_FLOOR_BYTES; a build that reproduces nothing
 * needs A's whole size again, said in the basis.
 */
export async function sharedRebuildDiskNeed(layout: string): Promise<DiskNeed> {
  const total = await directorySize(layout);
  const largest = await largestBlob(layout);
  const bytes = Math.min(total, Math.max(largest, DISK_FLOOR_BYTES));
  return {
    bytes,
    basis: `a floor: build B writes only the blobs that differ from build A's and links the rest; this is build A's largest blob, ${formatBytes(largest)} (at least ${formatBytes(DISK_FLOOR_BYTES)}); a rebuild that reproduces nothing needs build A's whole size, ${formatBytes(total)}`,
  };
}

/** The largest regular file under `<layout>/blobs/sha256` (0 where there is none). */
async function largestBlob(layout: string): Promise<number> {
  const dir = join(layout, 'blobs', 'sha256');
  let largest = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const info = await lstat(join(dir, name)).catch(() => undefined);
    if (info?.isFile()) largest = Math.max(largest, info.size);
  }
  return largest;
}

/** Only what verify itself wrote under its work directory: never a given archive or a store path. */
export function isUnder(work: string, path: string): boolean {
  const rel = relative(work, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

/** After the comparison: removes the images verify built under `work`; returns what it removed. */
export async function discardImages(work: string, paths: readonly string[]): Promise<string[]> {
  const removed: string[] = [];
  for (const path of new Set(paths)) {
    if (!isUnder(work, path)) continue;
    await rm(path, { recursive: true, force: true });
    removed.push(path);
  }
  return removed;
}
