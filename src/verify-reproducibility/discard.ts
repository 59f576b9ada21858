// Verify's disk: the rebuild needs about the first image's size again, and once the two images are
// compared nothing later reads them (the report is what the later stages take), so they go at once.
import { rm, stat } from 'node:fs/promises';
import { isAbsolute, relative } from 'node:path';
import { directorySize } from '../tool/disk.js';
import { formatBytes, type DiskNeed } from '../tool/free-disk.js';

/** Build B needs about what build A wrote. */
export async function rebuildDiskNeed(first: string): Promise<DiskNeed> {
  const info = await stat(first);
  const bytes = info.isDirectory() ? await directorySize(first) : info.size;
  return { bytes, basis: `the size of build A's image, ${formatBytes(bytes)}` };
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
