// build-nix, post phase: save the closure to the Actions cache when something new was built, and
// sum up the job's time.
import { seconds, writeJobTimeSummary } from '../action/job-time.js';
import { saveNixCache } from './binary-cache.js';
import { configuredSubstituters, requireNix } from './nix-setup.js';
import { savedCacheState } from './state.js';

export async function post(): Promise<void> {
  const started = process.hrtime.bigint();
  const state = savedCacheState();
  if (state) {
    const nix = await requireNix();
    await saveNixCache(nix, state, await configuredSubstituters(nix));
  }
  await writeJobTimeSummary(seconds(started), 'save the cache (Actions cache, post)');
}
