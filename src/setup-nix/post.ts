// setup-nix, post phase: remove this job's nix.conf drop-in and netrc (they hold tokens).
import { logInfo } from '../action/log.js';
import { rm } from 'node:fs/promises';
import { savedConfDir } from './state.js';

export async function post(): Promise<void> {
  const dir = savedConfDir();
  if (!dir) return;
  await rm(dir, { recursive: true, force: true });
  logInfo(`Removed ${dir}`);
}
