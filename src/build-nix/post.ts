// build-nix, post phase: save the closure to the Actions cache when something new was built.
import { saveNixCache } from './binary-cache.js';
import { configuredSubstituters, requireNix } from './nix-setup.js';
import { savedCacheState } from './state.js';

export async function post(): Promise<void> {
  const state = savedCacheState();
  if (!state) return;
  const nix = await requireNix();
  await saveNixCache(nix, state, await configuredSubstituters(nix));
}
