// What build-nix's post phase needs from main.
import * as core from '@actions/core';
import { postStateKey } from '../action/claims.js';
import { cacheEntryState, refuseState, stateObject } from '../action/post-state.js';
import { cacheDirs, type NixCacheState } from './binary-cache.js';

const CACHE = postStateKey('nix-cache');

export function saveCacheState(state: NixCacheState): void {
  core.saveState(CACHE, JSON.stringify(state));
}

/** The stage's own keys (nixCacheKey). */
const KEY_PATTERN = /^vllm-rocm-action-nix-[A-Za-z0-9._-]+$/;
const STORE_PATH = /^\/nix\/store\/[0-9a-df-np-sv-z]{32}-[A-Za-z0-9+._?=-]+$/;

/** Main's state, checked: the directories are recomputed, never taken from state (src/action/post-state.ts). */
export function savedCacheState(): NixCacheState | undefined {
  const text = core.getState(CACHE);
  if (!text) return undefined;
  const what = 'Nix binary cache state';
  const state = stateObject(what, text);
  if (!state) return undefined;
  const entry = cacheEntryState(what, state, cacheDirs(), KEY_PATTERN, 'Nix cache key');
  if (!entry) return undefined;
  if (state.outPath !== undefined && !(typeof state.outPath === 'string' && STORE_PATH.test(state.outPath))) return refuseState(what, 'its output is not a store path');
  if (!Number.isSafeInteger(state.pathsBuilt) || (state.pathsBuilt as number) < 0) return refuseState(what, 'its count of built paths is not a count');
  return { ...entry, outPath: state.outPath, pathsBuilt: state.pathsBuilt as number };
}
