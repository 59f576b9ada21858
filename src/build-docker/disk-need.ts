// What build-docker checks is free before it builds: the image's size is not known until BuildKit
// has exported it, so the estimate is the previous build's where this runner has it (the restored
// local BuildKit cache holds its layers), else a floor. The error says which it was.
import type { CacheBackend } from '../docker/buildx-args.js';
import { directorySize } from '../tool/disk.js';
import { DISK_FLOOR_BYTES, formatBytes, type DiskNeed } from '../tool/free-disk.js';

export async function imageDiskNeed(cache: CacheBackend, floorBytes = DISK_FLOOR_BYTES): Promise<DiskNeed> {
  const floor: DiskNeed = { bytes: floorBytes, basis: `a floor of ${formatBytes(floorBytes)}, since the image's size is not known before it is built and no restored cache tells the previous build's` };
  if (cache.type !== 'local' || !cache.from) return floor;
  const restored = await directorySize(cache.from).catch(() => 0);
  if (restored <= floorBytes) return floor;
  return { bytes: restored, basis: `the restored BuildKit cache, ${formatBytes(restored)}: the previous build's layers` };
}
