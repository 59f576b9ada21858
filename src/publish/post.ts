// publish, post phase: remove the run's temp directory (registry credentials, the cosign key,
// staged blobs) in case main did not get to it.
import { logInfo } from '../action/log.js';
import { rm, stat } from 'node:fs/promises';
import { savedTempDir } from './state.js';

export async function post(): Promise<void> {
  const dir = savedTempDir();
  if (!dir) return;
  const present = await stat(dir).then(() => true, () => false);
  await rm(dir, { recursive: true, force: true });
  if (present) logInfo(`Removed ${dir}`);
}
