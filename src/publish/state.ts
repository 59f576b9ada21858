// What publish's post phase needs from main: the run's temp directory (credentials, key, staged
// blobs), to remove it even when main was killed before its own cleanup.
import * as core from '@actions/core';

const TEMP_DIR = 'temp-dir';

export function saveTempDir(dir: string): void {
  core.saveState(TEMP_DIR, dir);
}

export function savedTempDir(): string | undefined {
  return core.getState(TEMP_DIR) || undefined;
}
