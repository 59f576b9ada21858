// setup-nix, post phase: remove this job's nix.conf drop-in and netrc (they hold tokens).
import * as core from '@actions/core';
import { rm } from 'node:fs/promises';
import { savedConfDir } from './state.js';

export async function post(): Promise<void> {
  const dir = savedConfDir();
  if (!dir) return;
  await rm(dir, { recursive: true, force: true });
  core.info(`Removed ${dir}`);
}
