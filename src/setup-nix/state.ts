// What setup-nix's post phase needs from main: the directory holding tokens, to remove it.
import * as core from '@actions/core';

const CONF_DIR = 'conf-dir';

export function saveConfDir(dir: string): void {
  core.saveState(CONF_DIR, dir);
}

export function savedConfDir(): string | undefined {
  return core.getState(CONF_DIR) || undefined;
}
