// What publish's post phase needs from main: the run's temp directory (credentials, key, staged
// blobs), to remove it even when main was killed before its own cleanup.
import { basename, dirname } from 'node:path';
import { scopedPostStateKey } from '../action/claims.js';
import { stageTempDir } from '../action/paths.js';
import { refuseState } from '../action/post-state.js';
import { saveScopedState, scopedState } from '../action/scope.js';

const TEMP_DIR = scopedPostStateKey('temp-dir');

export function saveTempDir(dir: string): void {
  saveScopedState(TEMP_DIR, dir);
}

/** Main's run directory, only if it is one main makes (`run-<pid>-<ms>` right under the stage's temp dir). */
export function savedTempDir(): string | undefined {
  const dir = scopedState(TEMP_DIR);
  if (!dir) return undefined;
  const base = stageTempDir('publish');
  if (dirname(dir) !== base || !/^run-\d+-\d+$/.test(basename(dir))) return refuseState('publish temp directory', `${dir} is not a run directory under ${base}`);
  return dir;
}
