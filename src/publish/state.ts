// What publish's post phase needs from main: the run's temp directory (credentials, key, staged
// blobs), to remove it even when main was killed before its own cleanup.
import { saveScopedState, scopedState } from '../action/scope.js';

const TEMP_DIR = 'temp-dir';

export function saveTempDir(dir: string): void {
  saveScopedState(TEMP_DIR, dir);
}

export function savedTempDir(): string | undefined {
  return scopedState(TEMP_DIR) || undefined;
}
