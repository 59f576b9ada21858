// build-docker, post phase: save the local BuildKit cache and clean up. Never fails the job.
import { savedLocalCacheState, saveLocalCache } from './local-cache.js';

export async function post(): Promise<void> {
  const state = savedLocalCacheState();
  if (state) await saveLocalCache(state);
}
