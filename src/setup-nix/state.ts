// What setup-nix's post phase needs from main: the directory holding tokens, to remove it.
import * as core from '@actions/core';
import { postStateKey } from '../action/claims.js';
import { stageTempDir } from '../action/paths.js';
import { refuseState } from '../action/post-state.js';

const CONF_DIR = postStateKey('conf-dir');

export function saveConfDir(dir: string): void {
  core.saveState(CONF_DIR, dir);
}

/** Main's drop-in directory, only if it is the one main makes (the stage's temp dir). */
export function savedConfDir(): string | undefined {
  const dir = core.getState(CONF_DIR);
  if (!dir) return undefined;
  const expected = stageTempDir('setup-nix');
  if (dir !== expected) return refuseState('nix.conf directory', `${dir} is not ${expected}`);
  return dir;
}
