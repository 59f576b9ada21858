// What build-nix checks is free before it writes: the store before `nix build` (the closure's size
// is not known before it is built, so a floor), and RUNNER_TEMP before a stream script writes the
// image out (its uncompressed layers are the closure's paths: `nix path-info -S`'s closure size).
import { access, constants, stat } from 'node:fs/promises';
import type { PathInfo } from '../nix/output.js';
import { DISK_FLOOR_BYTES, formatBytes, type DiskNeed } from '../tool/free-disk.js';

export const NIX_STORE = '/nix/store';

export function storeDiskNeed(floorBytes = DISK_FLOOR_BYTES): DiskNeed {
  return { bytes: floorBytes, basis: `a floor of ${formatBytes(floorBytes)}, since the closure's size is not known before it is built` };
}

/** The stream's need when `outPath` is a stream script (an executable file), else none: the image is in the store. */
export async function streamDiskNeed(outPath: string, closure: readonly PathInfo[]): Promise<DiskNeed | undefined> {
  const file = await stat(outPath).then((s) => s.isFile(), () => false);
  if (!file || !(await access(outPath, constants.X_OK).then(() => true, () => false))) return undefined;
  const bytes = closure.reduce((n, p) => n + p.narSize, 0);
  return { bytes, basis: `the image's Nix closure, ${formatBytes(bytes)} (nix path-info -S), about what the script streams out uncompressed` };
}
