// build-docker, post phase: save the cache mounts and the local BuildKit cache, clean up, and sum up the job's time.
// Never fails the job.
import { seconds, writeJobTimeSummary } from '../action/job-time.js';
import { savedCacheMountsState, saveCacheMounts } from './cache-mounts.js';
import { savedLocalCacheState, saveLocalCache } from './local-cache.js';

export async function post(): Promise<void> {
  const started = process.hrtime.bigint();
  const mounts = savedCacheMountsState();
  if (mounts) await saveCacheMounts(mounts);
  const state = savedLocalCacheState();
  if (state) await saveLocalCache(state);
  await writeJobTimeSummary(seconds(started), 'save the cache (Actions cache, post)');
}
